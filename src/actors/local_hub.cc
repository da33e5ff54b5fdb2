#include "actors/local_hub.h"

#include "common/ids.h"
#include "common/logging.h"

namespace vaultaire::actors {

LocalHub::LocalHub(asio::any_io_executor executor, events::EventLog& log,
                   const events::ViewReader& views)
    : log_(log),
      views_(views),
      registry_(executor, log, views),
      identity_(executor, log, views),
      sweep_timer_(executor) {}

void LocalHub::start_upload_sweep(std::chrono::seconds every, std::chrono::seconds max_age,
                                  const Clock& clock,
                                  std::function<void(std::vector<proto::BlobRef>)> release) {
  asio::co_spawn(sweep_timer_.get_executor(),
                 upload_sweep_loop(this, every, max_age, &clock, std::move(release)),
                 log_exception("upload sweep"));
}

void LocalHub::stop() {
  stopped_.store(true);
  sweep_timer_.cancel();
  registry_.stop();
}

asio::awaitable<void> LocalHub::upload_sweep_loop(
    LocalHub* self, std::chrono::seconds every, std::chrono::seconds max_age, const Clock* clock,
    std::function<void(std::vector<proto::BlobRef>)> release) {
  while (!self->stopped_.load()) {
    self->sweep_timer_.expires_after(every);
    auto [ec] = co_await self->sweep_timer_.async_wait(kNoThrow);
    if (ec || self->stopped_.load()) {
      co_return;
    }
    const int64_t before = clock->now_unix_nanos() -
                           std::chrono::duration_cast<std::chrono::nanoseconds>(max_age).count();
    auto swept = co_await self->sweep_abandoned_uploads(before, release);
    if (!swept) {
      logger("actors")->warn("upload sweep failed error={}", swept.error().message());
    } else if (*swept > 0) {
      logger("actors")->info("abandoned uploads aborted count={}", *swept);
    }
  }
}

asio::awaitable<Result<size_t>> LocalHub::sweep_abandoned_uploads(
    int64_t before_unix_nanos, std::function<void(std::vector<proto::BlobRef>)> release) {
  auto stale = views_.uploads_started_before(before_unix_nanos, 1000);
  if (!stale) {
    co_return stale.error();
  }
  size_t aborted = 0;
  for (const auto& u : *stale) {
    proto::Command c;
    c.mutable_context()->set_tenant(u.tenant);
    c.mutable_context()->set_principal("vaultaire:upload-sweep");
    c.mutable_context()->set_request_id(new_request_id());
    c.set_container(u.container);
    c.set_path(u.path);
    c.mutable_abort_upload()->set_upload_id(u.upload_id);
    c.mutable_abort_upload()->set_reason("abandoned");
    auto reply = co_await execute(std::move(c));
    if (!reply) {
      if (!is(reply.error(), Errc::kNoSuchUpload) && !is(reply.error(), Errc::kNoSuchContainer)) {
        co_return reply.error();
      }
      continue;  // completed or aborted meanwhile
    }
    ++aborted;
    if (release) {
      release({reply->released().begin(), reply->released().end()});
    }
  }
  co_return aborted;
}

asio::awaitable<Result<proto::CommandReply>> LocalHub::execute(proto::Command command) {
  if (IdentityActor::handles(command)) {
    co_return co_await identity_.ask(std::move(command));
  }
  if (command.op_case() == proto::Command::kRecordRead ||
      command.op_case() == proto::Command::kRecordListing ||
      command.op_case() == proto::Command::kRecordDenial) {
    proto::Event event = event_for(std::move(command));
    if (log_.append_detached(std::move(event))) {
      co_return proto::CommandReply();
    }
    // Refused: `event` was left as it was.
    // Too many read events pending: this reader waits for durability, which slows reads to
    // what the log can absorb instead of dropping their events.
    auto appended = co_await log_.append(std::move(event));
    if (!appended) {
      co_return appended.error();
    }
    proto::CommandReply reply;
    reply.set_sequence(appended->sequence);
    co_return reply;
  }
  const std::string tenant = command.context().tenant();
  const std::string container = command.container();
  std::shared_ptr<ContainerActor> actor = registry_.get(tenant, container);
  co_return co_await actor->ask(std::move(command));
}

asio::awaitable<Result<proto::QueryReply>> LocalHub::query(proto::Query query) {
  co_return answer(query);
}

Result<proto::QueryReply> LocalHub::answer(const proto::Query& query) const {
  const std::string& tenant = query.context().tenant();
  proto::QueryReply reply;
  switch (query.op_case()) {
    case proto::Query::kGetContainer: {
      auto r = views_.container(tenant, query.container());
      if (!r) {
        return r.error();
      }
      *reply.mutable_container() = std::move(*r);
      return reply;
    }
    case proto::Query::kListContainers: {
      auto r = views_.containers(tenant);
      if (!r) {
        return r.error();
      }
      *reply.mutable_containers() = std::move(*r);
      return reply;
    }
    case proto::Query::kGetArtifact: {
      auto r = views_.artifact(tenant, query.container(), query.path());
      if (!r) {
        // A missing key in a missing container is NoSuchBucket, as S3 answers.
        if (is(r.error(), Errc::kNoSuchArtifact)) {
          if (auto c = views_.container(tenant, query.container()); !c) {
            return c.error();
          }
        }
        return r.error();
      }
      *reply.mutable_artifact() = std::move(*r);
      return reply;
    }
    case proto::Query::kListArtifacts: {
      // Listing a container that does not exist is NoSuchBucket, not an empty page.
      if (auto c = views_.container(tenant, query.container()); !c) {
        return c.error();
      }
      auto r = views_.list(tenant, query.container(), query.list_artifacts());
      if (!r) {
        return r.error();
      }
      *reply.mutable_artifacts() = std::move(*r);
      return reply;
    }
    case proto::Query::kGetUpload: {
      auto r =
          views_.upload(tenant, query.container(), query.path(), query.get_upload().upload_id());
      if (!r) {
        return r.error();
      }
      *reply.mutable_upload() = std::move(*r);
      return reply;
    }
    case proto::Query::kListUploads: {
      if (auto c = views_.container(tenant, query.container()); !c) {
        return c.error();
      }
      auto r = views_.list_uploads(tenant, query.container(), query.list_uploads());
      if (!r) {
        return r.error();
      }
      *reply.mutable_uploads() = std::move(*r);
      return reply;
    }
    case proto::Query::kListParts: {
      auto r = views_.list_parts(tenant, query.container(), query.path(), query.list_parts());
      if (!r) {
        return r.error();
      }
      *reply.mutable_parts() = std::move(*r);
      return reply;
    }
    case proto::Query::kGetTenant: {
      auto r = views_.tenant(tenant);
      if (!r) {
        return r.error();
      }
      *reply.mutable_tenant() = std::move(*r);
      return reply;
    }
    case proto::Query::kListTenants: {
      auto r = views_.tenants();
      if (!r) {
        return r.error();
      }
      *reply.mutable_tenants() = std::move(*r);
      return reply;
    }
    case proto::Query::kListUsers: {
      auto r = views_.users(tenant);
      if (!r) {
        return r.error();
      }
      *reply.mutable_users() = std::move(*r);
      return reply;
    }
    case proto::Query::kGetUser: {
      auto r = views_.user(tenant, query.get_user().user());
      if (!r) {
        return r.error();
      }
      *reply.mutable_user() = std::move(*r);
      return reply;
    }
    case proto::Query::kGetAccessKey: {
      auto r = views_.access_key(query.get_access_key().access_key());
      if (!r) {
        return r.error();
      }
      *reply.mutable_key() = std::move(*r);
      return reply;
    }
    case proto::Query::kListAccessKeys: {
      auto r = views_.access_keys(tenant);
      if (!r) {
        return r.error();
      }
      *reply.mutable_keys() = std::move(*r);
      return reply;
    }
    case proto::Query::kGetGrant: {
      auto r = views_.grant(tenant, query.get_grant().user(), query.container());
      if (!r) {
        return r.error();
      }
      *reply.mutable_grant() = std::move(*r);
      return reply;
    }
    case proto::Query::kListGrants: {
      auto r = views_.grants(tenant);
      if (!r) {
        return r.error();
      }
      *reply.mutable_grants() = std::move(*r);
      return reply;
    }
    case proto::Query::OP_NOT_SET:
      break;
  }
  return Errc::kInvalidArgument;
}

}  // namespace vaultaire::actors

#include "actors/local_hub.h"

namespace vaultaire::actors {

LocalHub::LocalHub(asio::any_io_executor executor, events::EventLog& log,
                   const events::ViewReader& views)
    : log_(log), views_(views), registry_(executor, log, views) {}

asio::awaitable<Result<proto::CommandReply>> LocalHub::execute(proto::Command command) {
  if (command.op_case() == proto::Command::kRecordRead) {
    proto::Event event = event_for(std::move(command));
    if (log_.append_detached(event)) {
      co_return proto::CommandReply();
    }
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
    case proto::Query::OP_NOT_SET:
      break;
  }
  return Errc::kInvalidArgument;
}

}  // namespace vaultaire::actors

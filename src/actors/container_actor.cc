#include "actors/container_actor.h"

#include "events/names.h"

namespace vaultaire::actors {

proto::Event event_for(proto::Command command) {
  proto::Event e;
  proto::RequestContext& ctx = *command.mutable_context();
  e.set_tenant(std::move(*ctx.mutable_tenant()));
  e.set_container(std::move(*command.mutable_container()));
  e.set_path(std::move(*command.mutable_path()));
  e.set_request_id(std::move(*ctx.mutable_request_id()));
  e.set_principal(std::move(*ctx.mutable_principal()));
  e.set_source_address(std::move(*ctx.mutable_source_address()));
  e.set_user_agent(std::move(*ctx.mutable_user_agent()));
  e.set_spoke_id(std::move(*ctx.mutable_spoke_id()));
  switch (command.op_case()) {
    case proto::Command::kCreateContainer:
      e.mutable_container_created()->set_region(command.create_container().region());
      break;
    case proto::Command::kDeleteContainer:
      e.mutable_container_deleted();
      break;
    case proto::Command::kCommitArtifact:
      e.mutable_artifact_committed()->Swap(command.mutable_commit_artifact()->mutable_artifact());
      break;
    case proto::Command::kDeleteArtifact:
      e.mutable_artifact_deleted();
      break;
    case proto::Command::kRecordRead:
      e.mutable_artifact_read()->Swap(command.mutable_record_read()->mutable_read());
      break;
    case proto::Command::OP_NOT_SET:
      break;
  }
  return e;
}

ContainerActor::ContainerActor(asio::any_io_executor executor, events::EventLog& log,
                               const events::ViewReader& views, std::string tenant,
                               std::string container)
    : Actor(std::move(executor), "container/" + tenant + "/" + container),
      log_(log),
      views_(views),
      tenant_(std::move(tenant)),
      container_(std::move(container)) {}

Result<void> ContainerActor::load() {
  auto record = views_.container(tenant_, container_);
  if (!record && !is(record.error(), Errc::kNoSuchContainer)) {
    return record.error();
  }
  exists_ = record.has_value();
  loaded_ = true;
  return {};
}

asio::awaitable<Result<proto::CommandReply>> ContainerActor::handle(proto::Command command) {
  if (!loaded_) {
    if (auto r = load(); !r) {
      co_return r.error();
    }
  }
  switch (command.op_case()) {
    case proto::Command::kCreateContainer:
      if (!events::is_valid_container_name(container_)) {
        co_return Errc::kInvalidContainerName;
      }
      if (exists_) {
        co_return Errc::kContainerExists;
      }
      exists_ = true;
      break;

    case proto::Command::kDeleteContainer: {
      if (!exists_) {
        co_return Errc::kNoSuchContainer;
      }
      // A commit still in flight may add an artifact: the container is not known empty.
      if (in_flight_ > 0) {
        co_return Errc::kContainerNotEmpty;
      }
      auto has = views_.has_artifacts(tenant_, container_);
      if (!has) {
        co_return has.error();
      }
      if (*has) {
        co_return Errc::kContainerNotEmpty;
      }
      exists_ = false;
      break;
    }

    case proto::Command::kCommitArtifact:
    case proto::Command::kDeleteArtifact:
      if (!events::is_valid_path(command.path())) {
        co_return Errc::kInvalidPath;
      }
      if (!exists_) {
        co_return Errc::kNoSuchContainer;
      }
      break;

    case proto::Command::kRecordRead:
    case proto::Command::OP_NOT_SET:
      co_return Errc::kInvalidArgument;
  }
  co_return co_await commit(event_for(std::move(command)));
}

asio::awaitable<Result<proto::CommandReply>> ContainerActor::commit(proto::Event event) {
  ++in_flight_;
  auto appended = co_await log_.append(std::move(event));
  --in_flight_;
  if (!appended) {
    // The event is not in the log; forget what the handler assumed it would do.
    loaded_ = false;
    co_return appended.error();
  }
  proto::CommandReply reply;
  reply.set_sequence(appended->sequence);
  reply.set_time_unix_nanos(appended->time_unix_nanos);
  reply.set_no_op(appended->no_op);
  for (auto& blob : appended->released) {
    *reply.add_released() = std::move(blob);
  }
  co_return reply;
}

}  // namespace vaultaire::actors

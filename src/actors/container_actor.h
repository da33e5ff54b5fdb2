#pragma once

// ContainerActor: the single writer of one (tenant, container)'s metadata. It checks each
// command's preconditions against its state (does the container exist, is it empty, are the
// names valid), turns the command into an event and appends it to the log, whose projection
// updates the views in the same atomic write.
//
// Lifecycle: created by ContainerRegistry on first use, dropped when idle. Its state is loaded
// lazily from the views and reloaded after a failure (supervision, see runtime.h). Handlers run
// on strand_; appends are pipelined: while one command awaits durability, the next is checked
// against the state that already includes the first.
//
// Conditional writes (If-None-Match: *, If-Match) are checked against the durable artifact; a
// conditional write to a key another write is still committing fails with Errc::kConflict
// (S3's 409 ConditionalRequestConflict) rather than guess the outcome.

#include <memory>
#include <string>
#include <unordered_map>

#include "actors/runtime.h"
#include "events/event_log.h"
#include "events/view_reader.h"
#include "vaultaire/hub.pb.h"

namespace vaultaire::actors {

class ContainerActor final : public Actor {
 public:
  // `log` and `views` are owned by the hub and outlive every actor.
  ContainerActor(asio::any_io_executor executor, events::EventLog& log,
                 const events::ViewReader& views, std::string tenant, std::string container);

  // Executes a container or artifact command addressed to this container.
  asio::awaitable<Result<proto::CommandReply>> ask(proto::Command command) {
    return ask_on_strand(handle(std::move(command)));
  }

 private:
  asio::awaitable<Result<proto::CommandReply>> handle(proto::Command command);
  asio::awaitable<Result<proto::CommandReply>> commit(proto::Event event);
  // Commits an event that changes the artifact at `path`, counted as in flight meanwhile.
  asio::awaitable<Result<proto::CommandReply>> commit_write(std::string path, proto::Event event);
  Result<void> check_condition(const std::string& path, const proto::WriteCondition& c) const;
  // Builds the artifact a CompleteUpload commits; fills `reply` with its ETag.
  Result<proto::Event> complete_upload(proto::Command& command, proto::CommandReply& reply) const;
  Result<void> load();
  void restart() override { loaded_ = false; }

  events::EventLog& log_;
  const events::ViewReader& views_;
  const std::string tenant_;
  const std::string container_;

  bool loaded_ = false;
  bool exists_ = false;                           // including commands accepted but not yet durable
  uint64_t in_flight_ = 0;                        // appends awaiting durability
  std::unordered_map<std::string, int> writing_;  // per path: writes awaiting durability
};

// The event a command turns into: the request context copied into the envelope, the payload
// from the command. Sequence and time are left for the log writer.
// The command's strings are moved into the event.
proto::Event event_for(proto::Command command);

}  // namespace vaultaire::actors

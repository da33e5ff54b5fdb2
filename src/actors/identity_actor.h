#pragma once

// IdentityActor: the single writer of tenants, users, access keys and grants. It checks each
// identity command against the views (names valid, tenant and user exist, no duplicates, a
// tenant empty before it goes) and commits its event; projections keep the views.
//
// One actor for all tenants: identity changes are rare, and one writer makes uniqueness checks
// simple. A command touching a name another command is still committing fails with
// Errc::kConflict (the caller retries) rather than racing it.

#include <atomic>
#include <cstdint>
#include <set>
#include <string>

#include "actors/runtime.h"
#include "events/event_log.h"
#include "events/view_reader.h"
#include "vaultaire/hub.pb.h"

namespace vaultaire::actors {

class IdentityActor final : public Actor {
 public:
  // `log` and `views` are owned by the hub and outlive the actor.
  IdentityActor(asio::any_io_executor executor, events::EventLog& log,
                const events::ViewReader& views);

  asio::awaitable<Result<proto::CommandReply>> ask(proto::Command command) {
    return ask_on_strand(handle(std::move(command)));
  }

  // True for the commands this actor handles.
  static bool handles(const proto::Command& command);

  // Goes up once each identity command has been appended (or has failed), before its reply:
  // whoever caches what the identity views said keeps it only while this has not moved. Read it
  // before reading the views, so a cached answer is never newer than its generation.
  const std::atomic<uint64_t>& generation() const { return generation_; }

 private:
  asio::awaitable<Result<proto::CommandReply>> handle(proto::Command command);
  Result<void> check(const proto::Command& command) const;
  void restart() override {}

  events::EventLog& log_;
  const events::ViewReader& views_;
  std::set<std::string> busy_;  // names with a command in flight
  std::atomic<uint64_t> generation_{0};
};

}  // namespace vaultaire::actors

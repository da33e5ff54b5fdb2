#pragma once

// LocalHub: the hub in this process. Commands go to the container's actor; queries read the
// views directly (never through a mailbox); read events are appended without waiting.

#include <memory>

#include "actors/container_registry.h"
#include "actors/hub.h"
#include "events/event_log.h"
#include "events/view_reader.h"

namespace vaultaire::actors {

class LocalHub final : public Hub {
 public:
  // `log` and `views` must outlive the hub.
  LocalHub(asio::any_io_executor executor, events::EventLog& log, const events::ViewReader& views);

  asio::awaitable<Result<proto::CommandReply>> execute(proto::Command command) override;
  asio::awaitable<Result<proto::QueryReply>> query(proto::Query query) override;

  ContainerRegistry& registry() { return registry_; }

 private:
  Result<proto::QueryReply> answer(const proto::Query& query) const;

  events::EventLog& log_;
  const events::ViewReader& views_;
  ContainerRegistry registry_;
};

}  // namespace vaultaire::actors

#pragma once

// LocalHub: the hub in this process. Commands go to the container's actor; queries read the
// views directly (never through a mailbox); read events are appended without waiting.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "actors/container_registry.h"
#include "actors/hub.h"
#include "actors/identity_actor.h"
#include "common/clock.h"
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
  // See IdentityActor::generation().
  const std::atomic<uint64_t>& identity_generation() const { return identity_.generation(); }

  // Aborts multipart uploads started more than `max_age` ago (by `clock`), every `every`, until
  // stop(); the blobs their parts held go to `release`. Principal "vaultaire:upload-sweep".
  void start_upload_sweep(std::chrono::seconds every, std::chrono::seconds max_age,
                          const Clock& clock,
                          std::function<void(std::vector<proto::BlobRef>)> release);
  // One pass of that sweep; returns how many uploads it aborted.
  asio::awaitable<Result<size_t>> sweep_abandoned_uploads(
      int64_t before_unix_nanos, std::function<void(std::vector<proto::BlobRef>)> release);
  void stop();

 private:
  Result<proto::QueryReply> answer(const proto::Query& query) const;

  static asio::awaitable<void> upload_sweep_loop(
      LocalHub* self, std::chrono::seconds every, std::chrono::seconds max_age, const Clock* clock,
      std::function<void(std::vector<proto::BlobRef>)> release);

  events::EventLog& log_;
  const events::ViewReader& views_;
  ContainerRegistry registry_;
  IdentityActor identity_;
  asio::steady_timer sweep_timer_;
  std::atomic<bool> stopped_{false};
};

}  // namespace vaultaire::actors

#pragma once

// ContainerRegistry: finds or creates the one ContainerActor of a (tenant, container), and
// drops actors that nobody has used for a while. There is never more than one actor per
// container: lookups and eviction happen under one lock, and an actor is only evicted when the
// registry holds its last reference (no ask() in progress).

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "actors/container_actor.h"

namespace vaultaire::actors {

class ContainerRegistry {
 public:
  ContainerRegistry(asio::any_io_executor executor, events::EventLog& log,
                    const events::ViewReader& views);

  std::shared_ptr<ContainerActor> get(const std::string& tenant, const std::string& container);

  // Drops actors unused for at least `idle` that nobody holds. Returns how many.
  size_t evict_idle(std::chrono::steady_clock::duration idle);
  size_t size() const;

  // Runs evict_idle(idle) every `every` until stop().
  void start_eviction(std::chrono::steady_clock::duration every,
                      std::chrono::steady_clock::duration idle);
  void stop();

 private:
  struct Slot {
    std::shared_ptr<ContainerActor> actor;
    std::chrono::steady_clock::time_point last_used;
  };
  static asio::awaitable<void> eviction_loop(ContainerRegistry* self,
                                             std::chrono::steady_clock::duration every,
                                             std::chrono::steady_clock::duration idle);

  asio::any_io_executor executor_;
  events::EventLog& log_;
  const events::ViewReader& views_;
  mutable std::mutex mu_;
  std::map<std::string, Slot> actors_;  // key: tenant \0 container
  asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace vaultaire::actors

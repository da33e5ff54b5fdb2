#include "actors/container_registry.h"

#include "common/logging.h"

namespace vaultaire::actors {

ContainerRegistry::ContainerRegistry(asio::any_io_executor executor, events::EventLog& log,
                                     const events::ViewReader& views)
    : executor_(executor), log_(log), views_(views), timer_(executor) {}

std::shared_ptr<ContainerActor> ContainerRegistry::get(const std::string& tenant,
                                                       const std::string& container) {
  std::string key = tenant;
  key.push_back('\0');
  key.append(container);
  std::lock_guard lock(mu_);
  Slot& slot = actors_[key];
  if (!slot.actor) {
    slot.actor = std::make_shared<ContainerActor>(executor_, log_, views_, tenant, container);
  }
  slot.last_used = std::chrono::steady_clock::now();
  return slot.actor;
}

size_t ContainerRegistry::evict_idle(std::chrono::steady_clock::duration idle) {
  const auto cutoff = std::chrono::steady_clock::now() - idle;
  size_t evicted = 0;
  std::lock_guard lock(mu_);
  for (auto it = actors_.begin(); it != actors_.end();) {
    if (it->second.actor.use_count() == 1 && it->second.last_used <= cutoff) {
      it = actors_.erase(it);
      ++evicted;
    } else {
      ++it;
    }
  }
  return evicted;
}

size_t ContainerRegistry::size() const {
  std::lock_guard lock(mu_);
  return actors_.size();
}

void ContainerRegistry::start_eviction(std::chrono::steady_clock::duration every,
                                       std::chrono::steady_clock::duration idle) {
  asio::co_spawn(executor_, eviction_loop(this, every, idle), log_exception("actor eviction"));
}

void ContainerRegistry::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<void> ContainerRegistry::eviction_loop(ContainerRegistry* self,
                                                       std::chrono::steady_clock::duration every,
                                                       std::chrono::steady_clock::duration idle) {
  for (;;) {
    {
      std::lock_guard lock(self->mu_);
      if (self->stopped_) {
        co_return;
      }
      self->timer_.expires_after(every);
    }
    auto [ec] = co_await self->timer_.async_wait(kNoThrow);
    if (ec) {
      co_return;
    }
    if (const size_t n = self->evict_idle(idle); n > 0) {
      logger("actors")->debug("idle container actors dropped count={}", n);
    }
  }
}

}  // namespace vaultaire::actors

#pragma once

// The actor runtime: an actor owns its state and a strand; messages are handled one at a time on
// that strand, under supervision.
//
// - ask: run a handler on the strand and await its Result.
// - tell: run a handler on the strand, nobody waits.
// - supervision: a handler that throws is logged with the actor's name and the exception, the
//   actor's restart() reloads its state from the persisted views, and the asker gets
//   Errc::kActorRestarted. Nothing a handler does can take the process down.
//
// A handler is atomic between two co_awaits; at a co_await other messages may run. So check
// preconditions and update state before the first co_await, and hold no reference into the
// state across one. Actors have no mutexes.

#include <exception>
#include <string>

#include <boost/asio/detached.hpp>

#include "common/async.h"
#include "common/errors.h"

namespace vaultaire::actors {

class Actor {
 public:
  Actor(asio::any_io_executor executor, std::string name)
      : strand_(asio::make_strand(std::move(executor))), name_(std::move(name)) {}
  virtual ~Actor() = default;
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;

  const std::string& name() const { return name_; }

 protected:
  // Runs `handler` (a call of one of the actor's handle() coroutines) on the strand.
  template <typename T>
  asio::awaitable<Result<T>> ask_on_strand(asio::awaitable<Result<T>> handler) {
    co_return co_await asio::co_spawn(strand_, supervise(this, std::move(handler)),
                                      asio::use_awaitable);
  }

  void tell_on_strand(asio::awaitable<void> handler) {
    asio::co_spawn(strand_, supervise_void(this, std::move(handler)), asio::detached);
  }

  // Reloads state from what is persisted. Runs on the strand after a handler threw.
  virtual void restart() = 0;

  Strand strand_;

 private:
  template <typename T>
  static asio::awaitable<Result<T>> supervise(Actor* self, asio::awaitable<Result<T>> body) {
    try {
      co_return co_await std::move(body);
    } catch (...) {
      self->on_failure(std::current_exception());
    }
    co_return Errc::kActorRestarted;
  }

  static asio::awaitable<void> supervise_void(Actor* self, asio::awaitable<void> body) {
    try {
      co_await std::move(body);
    } catch (...) {
      self->on_failure(std::current_exception());
    }
  }

  // Logs the failure and restarts the actor; a restart that throws too is logged and the actor
  // stays in whatever state restart() left (its next handler reloads).
  void on_failure(std::exception_ptr e);

  std::string name_;
};

}  // namespace vaultaire::actors

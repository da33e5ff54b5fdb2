#pragma once

// gather(): run several awaitables concurrently and collect their results.

#include <algorithm>
#include <optional>
#include <vector>

#include <boost/asio/experimental/channel.hpp>

#include "common/async.h"

namespace vaultaire {

namespace internal {
template <typename T>
asio::awaitable<void> run_into(asio::awaitable<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}
}  // namespace internal

// Runs `tasks` concurrently on the calling coroutine's executor, at most `limit` at a time,
// and returns their results in order once all have finished. A task that throws is a bug: it
// is logged and its result left empty.
template <typename T>
asio::awaitable<std::vector<std::optional<T>>> gather(std::vector<asio::awaitable<T>> tasks,
                                                      size_t limit) {
  auto ex = co_await asio::this_coro::executor;
  const size_t n = tasks.size();
  std::vector<std::optional<T>> results(n);
  asio::experimental::channel<void(boost::system::error_code, size_t)> done(ex, n);
  size_t next = 0;
  auto launch = [&](size_t i) {
    asio::co_spawn(ex, internal::run_into(std::move(tasks[i]), &results[i]),
                   [&done, i](std::exception_ptr e) {
                     if (e) {
                       log_exception("gathered task")(e);
                     }
                     done.try_send(boost::system::error_code(), i);
                   });
  };
  for (; next < n && next < std::max<size_t>(1, limit); ++next) {
    launch(next);
  }
  for (size_t finished = 0; finished < n; ++finished) {
    co_await done.async_receive(asio::use_awaitable);
    if (next < n) {
      launch(next++);
    }
  }
  co_return results;
}

}  // namespace vaultaire

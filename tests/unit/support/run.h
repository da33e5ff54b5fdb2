#pragma once

// run(awaitable): drives a coroutine to completion on an io_context and returns its result.
// Exceptions from the coroutine are rethrown. The io_context runs on the calling thread; other
// threads (the blocking pool, the log writer) complete into it, so tests need no sleeps.

#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "common/async.h"

namespace vaultaire::testing {

// The calling thread's io_context used by run(awaitable).
asio::io_context& test_io();

template <typename T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) {
      out.emplace(std::move(value));
    }
  });
  io.restart();
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
  return std::move(*out);
}

inline void run(asio::io_context& io, asio::awaitable<void> task) {
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) { error = e; });
  io.restart();
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
}

template <typename T>
T run(asio::awaitable<T> task) {
  return run(test_io(), std::move(task));
}

inline void run(asio::awaitable<void> task) { run(test_io(), std::move(task)); }

}  // namespace vaultaire::testing

#pragma once

// Asio conventions shared by every layer: the namespace aliases, kNoThrow, Strand, the blocking
// pool and run_blocking().
//
// Threads: network I/O runs on the server's io_context threads. Anything that can block (fsync,
// synced RocksDB writes, file I/O) runs on the blocking pool through run_blocking(), which
// resumes the awaiting coroutine on its own executor afterwards.

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/errors.h"

namespace boost::beast::http {}
namespace boost::beast {}

namespace vaultaire {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

// Await without exceptions: `auto [ec, n] = co_await op(..., kNoThrow);`
inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

using Strand = asio::strand<asio::any_io_executor>;

// The process-wide pool for blocking calls. Sized once, before first use, by the server
// (set_blocking_threads); tests get the default.
asio::thread_pool& blocking_pool();
void set_blocking_threads(unsigned threads);

// Logs an exception that escaped a spawned coroutine. Use as co_spawn's completion handler:
// asio::co_spawn(ex, task(), log_exception("what"));
struct LogException {
  const char* what;
  void operator()(std::exception_ptr e) const;
  template <typename T>
  void operator()(std::exception_ptr e, const T&) const {
    (*this)(e);
  }
};
inline LogException log_exception(const char* what) { return LogException{what}; }

// Awaits `task` and returns the message of the exception it threw, or nullopt. For handlers
// that must still answer when an operation has a bug (a catch block cannot co_await).
inline asio::awaitable<std::optional<std::string>> exception_of(asio::awaitable<void> task) {
  try {
    co_await std::move(task);
  } catch (const std::exception& e) {
    co_return std::string(e.what());
  }
  co_return std::nullopt;
}

namespace internal {
void log_blocking_exception(const std::exception& e);

template <typename F>
asio::awaitable<std::invoke_result_t<F&>> invoke_blocking(F fn) {
  try {
    co_return fn();
  } catch (const std::exception& e) {
    log_blocking_exception(e);
    // in_place_error: some results (bool, json) could take the error code as a value too.
    co_return std::invoke_result_t<F&>(boost::system::in_place_error,
                                       make_error_code(Errc::kInternal));
  }
}
}  // namespace internal

// Runs `fn` (returning a Result) on the blocking pool; resumes on the caller's executor.
// A `fn` that throws is a bug: it is logged and reported as Errc::kInternal.
//
// GCC 12 destroys some temporaries twice when they are created inside a co_await expression:
// a capturing lambda, and the result of a ?: of class type. Bind them to locals first:
//   auto task = [path]() -> Result<void> { ... };
//   auto r = co_await run_blocking(std::move(task));
//   const S3Error error = ok ? a : b;
//   co_await send_error(r, error);
// (Plain temporaries, like send(r, make_response(...)), are fine.)
template <typename F>
asio::awaitable<std::invoke_result_t<F&>> run_blocking(F fn) {
  co_return co_await asio::co_spawn(blocking_pool().get_executor(),
                                    internal::invoke_blocking(std::move(fn)), asio::use_awaitable);
}

}  // namespace vaultaire

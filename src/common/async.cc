#include "common/async.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "common/logging.h"

namespace vaultaire {
namespace {

std::atomic<unsigned> g_blocking_threads{0};

unsigned default_blocking_threads() {
  // fsync-bound work wants more threads than cores: most of them wait on the disk.
  return std::max(16u, 4 * std::thread::hardware_concurrency());
}

}  // namespace

asio::thread_pool& blocking_pool() {
  static asio::thread_pool pool([] {
    const unsigned n = g_blocking_threads.load();
    return n != 0 ? n : default_blocking_threads();
  }());
  return pool;
}

void set_blocking_threads(unsigned threads) { g_blocking_threads.store(threads); }

void LogException::operator()(std::exception_ptr e) const {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    logger("common")->error("coroutine failed task={} error={}", what, ex.what());
  } catch (...) {
    logger("common")->error("coroutine failed task={} error=unknown", what);
  }
}

namespace internal {
void log_blocking_exception(const std::exception& e) {
  logger("common")->error("blocking call threw error={}", e.what());
}
}  // namespace internal

}  // namespace vaultaire

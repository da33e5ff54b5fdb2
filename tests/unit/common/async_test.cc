#include "common/async.h"

#include <stdexcept>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "support/run.h"

namespace vaultaire {
namespace {

using testing::run;

asio::awaitable<void> succeeds(int* calls) {
  ++*calls;
  co_return;
}

asio::awaitable<void> throws_after_a_step(int* calls) {
  ++*calls;
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error("operation bug");
}

TEST(ExceptionOfTest, IsEmptyWhenTheTaskSucceeds) {
  int calls = 0;
  EXPECT_EQ(run(exception_of(succeeds(&calls))), std::nullopt);
  EXPECT_EQ(calls, 1);
}

TEST(ExceptionOfTest, GivesTheMessageOfWhatTheTaskThrew) {
  int calls = 0;
  EXPECT_EQ(run(exception_of(throws_after_a_step(&calls))), "operation bug");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace vaultaire

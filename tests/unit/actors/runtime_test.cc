#include "actors/runtime.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "support/run.h"

namespace vaultaire::actors {
namespace {

using testing::run;

// A counter actor whose "boom" message throws; its persisted state is `persisted_`.
class CounterActor final : public Actor {
 public:
  explicit CounterActor(asio::any_io_executor ex) : Actor(std::move(ex), "counter") {}

  asio::awaitable<Result<int>> add(int n) { return ask_on_strand(handle_add(n)); }
  asio::awaitable<Result<int>> boom() { return ask_on_strand(handle_boom()); }
  void add_later(int n) { tell_on_strand(handle_add_void(n)); }

  int restarts = 0;
  int persisted = 100;

 private:
  asio::awaitable<Result<int>> handle_add(int n) {
    value_ += n;
    co_return value_;
  }
  asio::awaitable<void> handle_add_void(int n) {
    value_ += n;
    co_return;
  }
  asio::awaitable<Result<int>> handle_boom() {
    value_ = -1;  // a half-done change the restart must undo
    throw std::runtime_error("handler bug");
    co_return 0;
  }
  void restart() override {
    ++restarts;
    value_ = persisted;
  }

  int value_ = 100;
};

TEST(ActorRuntimeTest, AskReturnsTheHandlersResult) {
  CounterActor actor(testing::test_io().get_executor());
  EXPECT_EQ(run(actor.add(5)).value(), 105);
  EXPECT_EQ(run(actor.add(1)).value(), 106);
}

TEST(ActorRuntimeTest, ThrowingHandlerRestartsTheActorAndReportsIt) {
  CounterActor actor(testing::test_io().get_executor());
  run(actor.add(5)).value();
  const auto r = run(actor.boom());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(is(r.error(), Errc::kActorRestarted));
  EXPECT_EQ(actor.restarts, 1);
  // The actor keeps serving, from its persisted state.
  EXPECT_EQ(run(actor.add(1)).value(), 101);
}

TEST(ActorRuntimeTest, TellRunsWithoutAnAsker) {
  CounterActor actor(testing::test_io().get_executor());
  actor.add_later(7);
  EXPECT_EQ(run(actor.add(0)).value(), 107);
}

TEST(ActorRuntimeTest, MessagesFromManyCoroutinesAreSerialised) {
  CounterActor actor(testing::test_io().get_executor());
  auto& io = testing::test_io();
  for (int i = 0; i < 100; ++i) {
    asio::co_spawn(io, actor.add(1), asio::detached);
  }
  io.restart();
  io.run();
  EXPECT_EQ(run(actor.add(0)).value(), 200);
}

}  // namespace
}  // namespace vaultaire::actors

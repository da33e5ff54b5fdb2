#include "actors/billing_actor.h"

#include "common/logging.h"
#include "events/consumer.h"

namespace vaultaire::actors {

namespace {
const std::string kCheckpointKey = "checkpoint";
}  // namespace

BillingActor::BillingActor(asio::any_io_executor executor, events::Store& store,
                           const events::EventLog& log, std::string hottest, const Clock& clock,
                           BillingOptions options)
    : executor_(std::move(executor)),
      store_(store),
      log_(log),
      hottest_(std::move(hottest)),
      clock_(clock),
      options_(options),
      wake_(executor_),
      alive_(std::make_shared<bool>(true)) {}

BillingActor::~BillingActor() {
  stop();
  *alive_ = false;
}

Result<void> BillingActor::start() {
  auto checkpoint = events::load_checkpoint(store_, events::Cf::kBilling, kCheckpointKey);
  if (!checkpoint) {
    return checkpoint.error();
  }
  checkpoint_ = *checkpoint;
  published_checkpoint_ = checkpoint_;
  asio::co_spawn(executor_, main_loop(), log_exception("billing main loop"));
  return {};
}

void BillingActor::stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  asio::post(executor_, [this, alive = alive_] {
    if (*alive) {
      wake_.cancel();
    }
  });
}

Result<void> BillingActor::consume() {
  std::lock_guard lock(mu_);
  auto applied = events::consume_log(store_, events::Cf::kBilling, kCheckpointKey, checkpoint_,
                                     log_.last_sequence(),
                                     [this](const proto::Event& e, events::ConsumerState& state) {
                                       return billing::apply(e, state, hottest_);
                                     });
  published_checkpoint_ = checkpoint_;
  return applied;
}

asio::awaitable<Result<void>> BillingActor::catch_up() {
  auto task = [this]() { return consume(); };
  auto done = co_await run_blocking(std::move(task));
  if (!done) {
    logger("billing")->error("reading the log failed error={}", done.error().message());
  }
  co_return done;
}

asio::awaitable<void> BillingActor::main_loop() {
  auto alive = alive_;
  while (!stopping_) {
    (void)co_await catch_up();
    if (stopping_ || !*alive) {
      break;
    }
    wake_.expires_after(options_.poll_interval);
    (void)co_await wake_.async_wait(kNoThrow);
  }
}

asio::awaitable<Result<std::vector<billing::UsageRow>>> BillingActor::usage(std::string tenant,
                                                                            int64_t from_hour,
                                                                            int64_t to_hour) {
  if (auto c = co_await catch_up(); !c) {
    co_return c.error();
  }
  // Having read the whole log, nothing changed between the last event and now.
  const int64_t now = clock_.now_unix_nanos();
  auto task = [this, tenant = std::move(tenant), from_hour, to_hour, now]() {
    return billing::usage(store_, tenant, from_hour, to_hour, now);
  };
  co_return co_await run_blocking(std::move(task));
}

}  // namespace vaultaire::actors

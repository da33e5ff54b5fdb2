#include "events/replay.h"

#include <fstream>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "events/event_factory.h"
#include "events/event_log.h"
#include "events/keys.h"
#include "events/view_reader.h"
#include "support/run.h"
#include "support/temp_dir.h"

namespace vaultaire::events {
namespace {

using testing::run;

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(Store::open(dir_.path() / "db", OpenMode::kPrimary).value());
    log_ = std::move(EventLog::open(*store_, clock_).value());
  }

  void mixed_workload() {
    append(testing::container_created("alpha"));
    append(testing::container_created("beta"));
    append(testing::container_created("gone"));
    for (int i = 0; i < 50; ++i) {
      append(testing::committed("k" + std::to_string(i), "b" + std::to_string(i), 10 + i, "alpha"));
      clock_.advance(std::chrono::seconds(1));
    }
    for (int i = 0; i < 50; i += 3) {
      append(testing::committed("k" + std::to_string(i), "b2-" + std::to_string(i), 7, "alpha"));
    }
    for (int i = 0; i < 50; i += 5) {
      append(testing::deleted("k" + std::to_string(i), "alpha"));
    }
    append(testing::committed("x", "bx", 1, "beta"));
    append(testing::read("x", "beta"));
    append(testing::deleted("never-existed", "beta"));
    append(testing::container_deleted("gone"));
  }

  void append(proto::Event e) { run(log_->append(std::move(e))).value(); }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000 * kNanosPerSecond};
  std::unique_ptr<Store> store_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(ReplayTest, RebuiltViewsHaveTheLiveDigest) {
  mixed_workload();
  const auto report = verify(*store_, dir_.path() / "scratch").value();
  EXPECT_TRUE(report.match());
  EXPECT_EQ(report.replay.last_sequence, log_->last_sequence());
  EXPECT_EQ(report.replay.events, log_->last_sequence());
  EXPECT_GT(report.live.records, 50u);
  EXPECT_EQ(report.live.sha256_hex.size(), 64u);
}

TEST_F(ReplayTest, TamperedViewIsDetected) {
  mixed_workload();
  // A view record that no event explains.
  ASSERT_TRUE(store_->db()
                  ->Put(rocksdb::WriteOptions(), store_->cf(Cf::kArtifacts),
                        artifact_key("t1", "alpha", "phantom"), "x")
                  .ok());
  const auto report = verify(*store_, dir_.path() / "scratch").value();
  EXPECT_FALSE(report.match());
  EXPECT_EQ(report.live.records, report.rebuilt.records + 1);
}

TEST_F(ReplayTest, ChangedValueIsDetected) {
  mixed_workload();
  const std::string key = container_key("t1", "beta");
  std::string value;
  ASSERT_TRUE(
      store_->db()->Get(rocksdb::ReadOptions(), store_->cf(Cf::kContainers), key, &value).ok());
  value.back() ^= 1;
  ASSERT_TRUE(
      store_->db()->Put(rocksdb::WriteOptions(), store_->cf(Cf::kContainers), key, value).ok());
  const auto report = verify(*store_, dir_.path() / "scratch").value();
  EXPECT_FALSE(report.match());
  EXPECT_EQ(report.live.records, report.rebuilt.records);
}

TEST_F(ReplayTest, ReplayStopsAtTheGivenSequence) {
  mixed_workload();
  auto fresh = Store::open(dir_.path() / "fresh", OpenMode::kPrimary).value();
  const auto stats = replay(*store_, *fresh, 3).value();
  EXPECT_EQ(stats.events, 3u);
  const ViewReader views(*fresh);
  EXPECT_EQ(views.containers("t1").value().containers_size(), 3);
  EXPECT_FALSE(views.has_artifacts("t1", "alpha").value());
}

TEST_F(ReplayTest, ReplayPastTheInMemoryRecordsGivesTheSameViews) {
  mixed_workload();
  uint64_t last = 0;
  const auto live = digest_views(*store_, &last).value();
  for (const size_t in_memory : {size_t{0}, size_t{5}, size_t{40}}) {
    const auto dir = dir_.path() / ("fresh-" + std::to_string(in_memory));
    auto fresh = Store::open(dir, OpenMode::kPrimary).value();
    const auto stats = replay(*store_, *fresh, last, {}, in_memory).value();
    EXPECT_EQ(stats.events, last);
    EXPECT_EQ(digest_views(*fresh).value(), live) << "in memory: " << in_memory;
  }
}

TEST_F(ReplayTest, AFailedIngestIsAnErrorAndLeavesTheViewsEmpty) {
  mixed_workload();
  const auto dir = dir_.path() / "fresh";
  auto fresh = Store::open(dir, OpenMode::kPrimary).value();
  // The folder the view files are written to cannot be made: a file holds its name.
  { std::ofstream(dir / "replay-ingest") << "in the way"; }
  for (const size_t in_memory : {size_t{5}, default_replay_in_memory_records()}) {
    const auto stats = replay(*store_, *fresh, log_->last_sequence(), {}, in_memory);
    ASSERT_FALSE(stats.has_value()) << "in memory: " << in_memory;
    EXPECT_EQ(digest_views(*fresh).value().records, 0u) << "in memory: " << in_memory;
  }
}

TEST_F(ReplayTest, EmptyLogGivesEmptyViews) {
  const auto report = verify(*store_, dir_.path() / "scratch").value();
  EXPECT_TRUE(report.match());
  EXPECT_EQ(report.live.records, 0u);
}

}  // namespace
}  // namespace vaultaire::events

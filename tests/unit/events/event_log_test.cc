#include "events/event_log.h"

#include <set>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "events/event_factory.h"
#include "events/keys.h"
#include "events/view_reader.h"
#include "support/run.h"
#include "support/temp_dir.h"

namespace vaultaire::events {
namespace {

using testing::committed;
using testing::container_created;
using testing::run;

class EventLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventLog> open(EventLogOptions options = {}) {
    store_.reset();
    auto store = Store::open(dir_.path() / "db", OpenMode::kPrimary);
    EXPECT_TRUE(store.has_value());
    store_ = std::move(*store);
    auto log = EventLog::open(*store_, clock_, options);
    EXPECT_TRUE(log.has_value());
    return std::move(*log);
  }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000 * kNanosPerSecond};
  std::unique_ptr<Store> store_;
};

TEST_F(EventLogTest, SequenceStartsAtOneAndIncreasesByOne) {
  auto log = open();
  EXPECT_EQ(run(log->append(container_created("bucket"))).value().sequence, 1u);
  EXPECT_EQ(run(log->append(committed("a.txt"))).value().sequence, 2u);
  EXPECT_EQ(run(log->append(committed("b.txt"))).value().sequence, 3u);
  EXPECT_EQ(log->last_sequence(), 3u);
}

TEST_F(EventLogTest, SequenceContinuesAfterReopen) {
  auto log = open();
  EXPECT_EQ(run(log->append(committed("a.txt"))).value().sequence, 1u);
  log.reset();  // close, as a restart would
  log = open();
  EXPECT_EQ(log->last_sequence(), 1u);
  EXPECT_EQ(run(log->append(committed("b.txt"))).value().sequence, 2u);
}

TEST_F(EventLogTest, AppendedEventIsStoredWithItsEnvelope) {
  auto log = open();
  proto::Event e = committed("a.txt");
  e.set_request_id("REQ1");
  e.set_principal("AKID");
  e.set_source_address("127.0.0.1:5000");
  e.set_user_agent("aws-cli/2");
  e.set_spoke_id("spoke-a");
  const auto appended = run(log->append(e)).value();
  const auto stored = read_event(*store_, appended.sequence).value();
  EXPECT_EQ(stored.sequence(), appended.sequence);
  EXPECT_EQ(stored.time_unix_nanos(), clock_.now_unix_nanos());
  EXPECT_EQ(stored.request_id(), "REQ1");
  EXPECT_EQ(stored.principal(), "AKID");
  EXPECT_EQ(stored.source_address(), "127.0.0.1:5000");
  EXPECT_EQ(stored.user_agent(), "aws-cli/2");
  EXPECT_EQ(stored.spoke_id(), "spoke-a");
  EXPECT_EQ(stored.artifact_committed().blob_id(), "blob-a.txt");
}

TEST_F(EventLogTest, GroupCommitUnder64ConcurrentAppendersIsUniqueAndGapFree) {
  auto log = open();
  constexpr int kAppenders = 64;
  constexpr int kEach = 20;
  std::vector<uint64_t> sequences;
  auto& io = testing::test_io();
  for (int a = 0; a < kAppenders; ++a) {
    asio::co_spawn(
        io,
        [](EventLog* log, int a, std::vector<uint64_t>* out) -> asio::awaitable<void> {
          for (int i = 0; i < kEach; ++i) {
            auto r =
                co_await log->append(committed("k" + std::to_string(a) + "-" + std::to_string(i)));
            out->push_back(r.value().sequence);
          }
        }(log.get(), a, &sequences),
        asio::detached);
  }
  io.restart();
  io.run();
  ASSERT_EQ(sequences.size(), static_cast<size_t>(kAppenders * kEach));
  const std::set<uint64_t> unique(sequences.begin(), sequences.end());
  EXPECT_EQ(unique.size(), sequences.size());
  EXPECT_EQ(*unique.begin(), 1u);
  EXPECT_EQ(*unique.rbegin(), static_cast<uint64_t>(kAppenders * kEach));
  EXPECT_EQ(stored_last_sequence(*store_).value(), static_cast<uint64_t>(kAppenders * kEach));
}

TEST_F(EventLogTest, TimeNeverGoesBackwards) {
  auto log = open();
  const auto first = run(log->append(committed("a.txt"))).value();
  clock_.advance(std::chrono::hours(-1));  // the wall clock stepped back
  const auto second = run(log->append(committed("b.txt"))).value();
  EXPECT_GE(second.time_unix_nanos, first.time_unix_nanos);
}

TEST_F(EventLogTest, UnknownPayloadIsRefusedAndTakesNoSequence) {
  auto log = open();
  proto::Event empty;
  empty.set_tenant("t1");
  const auto refused = run(log->append(empty));
  ASSERT_FALSE(refused.has_value());
  EXPECT_TRUE(is(refused.error(), Errc::kUnknownEvent));
  EXPECT_EQ(run(log->append(committed("a.txt"))).value().sequence, 1u);
}

TEST_F(EventLogTest, DetachedAppendsBecomeDurableInOrder) {
  auto log = open();
  ASSERT_TRUE(log->append_detached(testing::read("a.txt")));
  ASSERT_TRUE(log->append_detached(testing::read("b.txt")));
  // A waited append queued after them is durable only with them.
  EXPECT_EQ(run(log->append(committed("c.txt"))).value().sequence, 3u);
  EXPECT_EQ(read_event(*store_, 1).value().path(), "a.txt");
  EXPECT_EQ(read_event(*store_, 2).value().path(), "b.txt");
}

TEST_F(EventLogTest, AppendAfterStopFailsWithShuttingDown) {
  auto log = open();
  log->stop();
  const auto r = run(log->append(committed("a.txt")));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(is(r.error(), Errc::kShuttingDown));
  // A refused event is left whole, for the caller's normal append.
  proto::Event refused = testing::read("a.txt");
  EXPECT_FALSE(log->append_detached(std::move(refused)));
  EXPECT_EQ(refused.path(), "a.txt");
  EXPECT_TRUE(refused.has_artifact_read());
}

TEST_F(EventLogTest, TextThatIsNotUtf8IsStoredAsReplacementCharacters) {
  // Clients put any bytes in headers. Protobuf would refuse to parse such an event back, and
  // the log would read as corrupt from it on for replay, exports and every consumer.
  auto log = open();
  run(log->append(container_created("bucket"))).value();
  proto::Event e = committed("a.txt");
  e.set_user_agent("caf\xe9/1");
  e.mutable_artifact_committed()->set_content_type("text/\xff");
  proto::MetadataEntry* meta = e.mutable_artifact_committed()->add_user_metadata();
  meta->set_key("k");
  meta->set_value("\xc3\xa9 ok, \xc3 cut");
  const auto appended = run(log->append(e)).value();
  const auto stored = read_event(*store_, appended.sequence).value();
  EXPECT_EQ(stored.user_agent(), "caf\xef\xbf\xbd/1");
  EXPECT_EQ(stored.artifact_committed().content_type(), "text/\xef\xbf\xbd");
  EXPECT_EQ(stored.artifact_committed().user_metadata().rbegin()->value(),
            "\xc3\xa9 ok, \xef\xbf\xbd cut");
  const ViewReader views(*store_);
  EXPECT_EQ(views.artifact("t1", "bucket", "a.txt").value().content_type(), "text/\xef\xbf\xbd");
  // Valid text is stored as it came.
  proto::Event fine = committed("b.txt");
  fine.set_user_agent("\xe6\x97\xa5\xf0\x9f\x99\x82");
  const auto kept = run(log->append(fine)).value();
  EXPECT_EQ(read_event(*store_, kept.sequence).value().user_agent(),
            "\xe6\x97\xa5\xf0\x9f\x99\x82");
}

TEST_F(EventLogTest, AcknowledgedAppendIsVisibleInViewsAtOnce) {
  auto log = open();
  run(log->append(container_created("bucket"))).value();
  run(log->append(committed("a.txt", "blob1", 42))).value();
  const ViewReader views(*store_);
  const auto record = views.artifact("t1", "bucket", "a.txt").value();
  EXPECT_EQ(record.size(), 42u);
  EXPECT_EQ(record.blob_id(), "blob1");
  EXPECT_EQ(record.sequence(), 2u);
  EXPECT_EQ(views.container("t1", "bucket").value().artifact_count(), 1u);
}

TEST_F(EventLogTest, EventsSurviveReopenInOrder) {
  auto log = open();
  for (int i = 0; i < 10; ++i) {
    run(log->append(committed("k" + std::to_string(i)))).value();
  }
  log.reset();
  log = open();
  std::vector<std::string> paths;
  ASSERT_TRUE(for_each_event(*store_, 1, [&](const proto::Event& e) {
    paths.push_back(e.path());
    return true;
  }));
  ASSERT_EQ(paths.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(paths[i], "k" + std::to_string(i));
  }
}

// Writes events 1..n straight into the log column family: what the readers see, without n
// fsynced appends.
void write_raw_log(Store& store, uint64_t n, uint64_t corrupt_at = 0) {
  rocksdb::WriteBatch batch;
  for (uint64_t seq = 1; seq <= n; ++seq) {
    proto::Event e = committed("k" + std::to_string(seq));
    e.set_sequence(seq);
    const std::string value =
        seq == corrupt_at ? std::string("\xff\xff\xff") : e.SerializeAsString();
    ASSERT_TRUE(batch.Put(store.cf(Cf::kLog), log_key(seq), value).ok());
  }
  ASSERT_TRUE(store.db()->Write(rocksdb::WriteOptions(), &batch).ok());
}

TEST_F(EventLogTest, PipelinedReadGivesEveryEventInOrderAcrossBatches) {
  open();
  write_raw_log(*store_, 5000);
  for (const uint64_t from : {uint64_t{1}, uint64_t{1500}, uint64_t{5000}, uint64_t{5001}}) {
    uint64_t expected = from;
    ASSERT_TRUE(for_each_event_pipelined(*store_, from, [&](const proto::Event& e) {
      EXPECT_EQ(e.sequence(), expected);
      EXPECT_EQ(e.path(), "k" + std::to_string(expected));
      ++expected;
      return true;
    }));
    EXPECT_EQ(expected, 5001u) << "from " << from;
  }
}

TEST_F(EventLogTest, PipelinedReadStopsWhenTheCallerDoes) {
  open();
  write_raw_log(*store_, 5000);
  uint64_t seen = 0;
  ASSERT_TRUE(
      for_each_event_pipelined(*store_, 1, [&](const proto::Event&) { return ++seen < 2100; }));
  EXPECT_EQ(seen, 2100u);
  // A throwing callback stops the reader too and the exception reaches the caller.
  EXPECT_THROW((void)for_each_event_pipelined(*store_, 1,
                                              [&](const proto::Event& e) -> bool {
                                                if (e.sequence() == 3000) {
                                                  throw std::runtime_error("stop");
                                                }
                                                return true;
                                              }),
               std::runtime_error);
}

TEST_F(EventLogTest, PipelinedReadReportsCorruptionAfterTheEventsBeforeIt) {
  open();
  write_raw_log(*store_, 3000, 2500);
  uint64_t last = 0;
  const auto walked = for_each_event_pipelined(*store_, 1, [&](const proto::Event& e) {
    last = e.sequence();
    return true;
  });
  ASSERT_FALSE(walked);
  EXPECT_EQ(walked.error(), make_error_code(Errc::kCorruption));
  EXPECT_EQ(last, 2499u);
}

}  // namespace
}  // namespace vaultaire::events

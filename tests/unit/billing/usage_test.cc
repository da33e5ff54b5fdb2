// Usage accounting over a real store: events in (through a ConsumerState, as the billing actor
// feeds them), usage rows out, checked against byte-seconds worked out by hand.

#include "billing/usage.h"

#include <map>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "events/consumer.h"
#include "support/temp_dir.h"

namespace vaultaire::billing {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kHour = 3600 * kSecond;
constexpr int64_t kBase = int64_t{490'000} * kHour;  // an hour boundary in 2025

using Rows = std::map<std::pair<int64_t, std::string>, UsageRow>;

// The row of an hour and tier (an empty row when there is none).
UsageRow at(Rows& rows, int64_t hour, const std::string& tier) { return rows[{hour, tier}]; }

class UsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = events::Store::open(dir_.path() / "db", events::OpenMode::kPrimary);
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
  }

  proto::Event event(int64_t at, const std::string& path, const std::string& tenant = "t1") {
    proto::Event e;
    e.set_sequence(++sequence_);
    e.set_time_unix_nanos(at);
    e.set_tenant(tenant);
    e.set_container("bucket");
    e.set_path(path);
    return e;
  }
  proto::Event put(int64_t at, const std::string& path, uint64_t size,
                   const std::string& tier = "hot", const std::string& tenant = "t1") {
    proto::Event e = event(at, path, tenant);
    e.mutable_artifact_committed()->set_size(size);
    e.mutable_artifact_committed()->set_tier(tier);
    return e;
  }
  proto::Event del(int64_t at, const std::string& path) {
    proto::Event e = event(at, path);
    e.mutable_artifact_deleted();
    return e;
  }
  proto::Event get(int64_t at, const std::string& path, uint64_t bytes, const std::string& tier,
                   bool head = false) {
    proto::Event e = event(at, path);
    e.mutable_artifact_read()->set_bytes_sent(bytes);
    e.mutable_artifact_read()->set_tier(tier);
    e.mutable_artifact_read()->set_head(head);
    return e;
  }

  // Applies `events` in one batch, as the billing actor would.
  void apply_all(const std::vector<proto::Event>& events) {
    events::ConsumerState state(store_.get(), events::Cf::kBilling);
    for (const proto::Event& e : events) {
      ASSERT_TRUE(apply(e, state, "hot"));
    }
    rocksdb::WriteBatch batch;
    state.flush(batch);
    ASSERT_TRUE(store_->db()->Write(rocksdb::WriteOptions(), &batch).ok());
  }

  // Rows keyed by (hour offset from kBase, tier).
  std::map<std::pair<int64_t, std::string>, UsageRow> rows(int64_t from_hour, int64_t to_hour,
                                                           std::optional<int64_t> until = {}) {
    auto r = usage(*store_, "t1", kBase / kHour + from_hour, kBase / kHour + to_hour, until);
    EXPECT_TRUE(r) << r.error().message();
    std::map<std::pair<int64_t, std::string>, UsageRow> out;
    for (UsageRow& row : *r) {
      out[{row.hour - kBase / kHour, row.tier}] = row;
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<events::Store> store_;
  uint64_t sequence_ = 0;
};

TEST_F(UsageTest, StorageIsCountedFromEachChangeToTheNextAcrossHours) {
  apply_all({put(kBase + kHour / 2, "a", 1000), del(kBase + 2 * kHour + kHour / 4, "a"),
             put(kBase + 3 * kHour, "b", 1, "hot")});
  auto r = rows(0, 4);
  EXPECT_EQ(at(r, 0, "hot").byte_seconds, 1000u * 1800);
  EXPECT_EQ(at(r, 0, "hot").objects, 1u);
  EXPECT_EQ(at(r, 0, "hot").counts.requests_a(), 1u);
  EXPECT_EQ(at(r, 0, "hot").counts.bytes_in(), 1000u);
  // Hour 1 had no event: counted from the levels at the end of hour 0.
  EXPECT_EQ(at(r, 1, "hot").byte_seconds, 1000u * 3600);
  EXPECT_EQ(at(r, 1, "hot").bytes, 1000u);
  EXPECT_EQ(at(r, 2, "hot").byte_seconds, 1000u * 900);
  EXPECT_EQ(at(r, 2, "hot").counts.deletes(), 1u);
  EXPECT_EQ(at(r, 2, "hot").objects, 0u);
  // Hour 3: now is the last event (its first instant), so nothing is stored yet.
  EXPECT_EQ(at(r, 3, "hot").byte_seconds, 0u);
  EXPECT_EQ(at(r, 3, "hot").objects, 1u);
}

TEST_F(UsageTest, AnOverwriteChargesEachVersionForItsOwnTime) {
  apply_all({put(kBase, "a", 100), put(kBase + kHour / 2, "a", 300), put(kBase + kHour, "z", 0)});
  auto r = rows(0, 1);
  EXPECT_EQ(at(r, 0, "hot").byte_seconds, 100u * 1800 + 300u * 1800);
  EXPECT_EQ(at(r, 0, "hot").objects, 1u);
  EXPECT_EQ(at(r, 0, "hot").bytes, 300u);
  EXPECT_EQ(at(r, 0, "hot").counts.bytes_in(), 400u);
}

TEST_F(UsageTest, FractionsOfAByteSecondAreCarriedNotLost) {
  // 3 bytes for 333333333 ns, 333333333 ns and 333333334 ns: 3e9 byte-ns, 3 byte-seconds
  // exactly; rounding each interval down would give 2.
  const int64_t third = kSecond / 3;
  apply_all({put(kBase, "a", 3), put(kBase + third, "a", 3), put(kBase + 2 * third, "a", 3),
             del(kBase + kSecond, "a")});
  auto r = rows(0, 1, kBase + kHour);
  EXPECT_EQ(at(r, 0, "hot").byte_seconds, 3u);
}

TEST_F(UsageTest, MultipartPartsAreStoredWhileUploadingAndNotCountedTwice) {
  proto::Event created = event(kBase, "big");
  created.mutable_upload_created()->set_upload_id("u1");
  proto::Event p1 = event(kBase + 10 * kSecond, "big");
  p1.mutable_part_uploaded()->set_upload_id("u1");
  p1.mutable_part_uploaded()->set_part_number(1);
  p1.mutable_part_uploaded()->mutable_part()->set_size(500);
  proto::Event p2 = event(kBase + 20 * kSecond, "big");
  p2.mutable_part_uploaded()->set_upload_id("u1");
  p2.mutable_part_uploaded()->set_part_number(2);
  p2.mutable_part_uploaded()->mutable_part()->set_size(700);
  proto::Event done = event(kBase + 30 * kSecond, "big");
  auto* c = done.mutable_artifact_committed();
  c->set_tier("hot");
  c->set_completed_upload_id("u1");
  c->add_segments()->set_size(500);
  c->add_segments()->set_size(700);
  apply_all({created, p1, p2, done, del(kBase + 40 * kSecond, "big")});
  auto r = rows(0, 1);
  const UsageRow& hot = at(r, 0, "hot");
  // 500 B from 10 s to 20 s, 1200 B from 20 s to 40 s.
  EXPECT_EQ(hot.byte_seconds, 500u * 10 + 1200u * 20);
  EXPECT_EQ(hot.counts.bytes_in(), 1200u);
  EXPECT_EQ(hot.counts.requests_a(), 4u);  // create, 2 parts, complete
  EXPECT_EQ(hot.bytes, 0u);
  EXPECT_EQ(hot.objects, 0u);
}

TEST_F(UsageTest, AnAbortedUploadStopsBeingStored) {
  proto::Event created = event(kBase, "big");
  created.mutable_upload_created()->set_upload_id("u1");
  proto::Event p1 = event(kBase, "big");
  p1.mutable_part_uploaded()->set_upload_id("u1");
  p1.mutable_part_uploaded()->set_part_number(1);
  p1.mutable_part_uploaded()->mutable_part()->set_size(100);
  proto::Event aborted = event(kBase + 60 * kSecond, "big");
  aborted.mutable_upload_aborted()->set_upload_id("u1");
  apply_all({created, p1, aborted});
  auto r = rows(0, 1, kBase + kHour);
  EXPECT_EQ(at(r, 0, "hot").byte_seconds, 100u * 60);
  EXPECT_EQ(at(r, 0, "hot").bytes, 0u);
}

TEST_F(UsageTest, AMigrationMovesBytesToTheTargetTierAtItsInstant) {
  proto::Event moved = event(kBase + kHour / 2, "a");
  moved.mutable_artifact_migrated()->set_from_tier("hot");
  moved.mutable_artifact_migrated()->set_to_tier("cold");
  apply_all({put(kBase, "a", 2000), moved});
  auto r = rows(0, 2, kBase + 2 * kHour);
  EXPECT_EQ(at(r, 0, "hot").byte_seconds, 2000u * 1800);
  EXPECT_EQ(at(r, 0, "cold").byte_seconds, 2000u * 1800);
  EXPECT_EQ(at(r, 0, "cold").counts.transitions_in(), 1u);
  EXPECT_EQ(at(r, 1, "cold").byte_seconds, 2000u * 3600);
  EXPECT_EQ(at(r, 1, "cold").objects, 1u);
  EXPECT_EQ(at(r, 1, "hot").objects, 0u);
}

TEST_F(UsageTest, RequestClassesAndRetrievalFollowTheTierRead) {
  proto::Event listed = event(kBase + 4, "");
  listed.mutable_container_listed()->set_operation("ListObjectsV2");
  apply_all({put(kBase, "h", 10), put(kBase + 1, "c", 20, "cold"), get(kBase + 2, "h", 10, "hot"),
             get(kBase + 3, "c", 20, "cold"), get(kBase + 3, "c", 0, "cold", /*head=*/true),
             listed});
  auto r = rows(0, 1);
  EXPECT_EQ(at(r, 0, "hot").counts.requests_a(), 2u);  // the PUT and the LIST
  EXPECT_EQ(at(r, 0, "hot").counts.requests_b(), 1u);
  EXPECT_EQ(at(r, 0, "hot").counts.bytes_out(), 10u);
  EXPECT_EQ(at(r, 0, "hot").counts.bytes_retrieved(), 0u);  // the hottest tier has no retrieval
  EXPECT_EQ(at(r, 0, "cold").counts.requests_a(), 1u);
  EXPECT_EQ(at(r, 0, "cold").counts.requests_b(), 2u);  // GET and HEAD
  EXPECT_EQ(at(r, 0, "cold").counts.bytes_retrieved(), 20u);
}

TEST_F(UsageTest, BatchesGiveTheSameRowsAsOneBatch) {
  std::vector<proto::Event> all = {put(kBase, "a", 10), put(kBase + kHour + 5, "b", 7),
                                   del(kBase + 2 * kHour, "a"), put(kBase + 2 * kHour + 1, "a", 3),
                                   get(kBase + 3 * kHour, "a", 3, "hot")};
  apply_all(all);
  auto one = rows(0, 4);
  // A second store fed one event per batch.
  testing::TempDir other;
  auto s = events::Store::open(other.path() / "db", events::OpenMode::kPrimary);
  ASSERT_TRUE(s);
  std::swap(store_, *s);
  for (const proto::Event& e : all) {
    apply_all({e});
  }
  auto split = rows(0, 4);
  ASSERT_EQ(one.size(), split.size());
  for (const auto& [key, row] : one) {
    EXPECT_EQ(row.byte_seconds, split[key].byte_seconds) << key.first << key.second;
    EXPECT_EQ(row.bytes, split[key].bytes);
    EXPECT_EQ(row.counts.SerializeAsString(), split[key].counts.SerializeAsString());
  }
  std::swap(store_, *s);
}

TEST_F(UsageTest, TenantsAreCountedApart) {
  apply_all({put(kBase, "a", 10, "hot", "t1"), put(kBase, "a", 99, "hot", "t2"),
             put(kBase + kHour, "z", 0, "hot", "t2")});
  auto t1 = rows(0, 1, kBase + kHour);
  EXPECT_EQ(at(t1, 0, "hot").byte_seconds, 10u * 3600);
  auto all = usage(*store_, "", kBase / kHour, kBase / kHour + 1, kBase + kHour);
  ASSERT_TRUE(all);
  std::map<std::string, uint64_t> by_tenant;
  for (const UsageRow& r : *all) {
    by_tenant[r.tenant] += r.byte_seconds;
  }
  EXPECT_EQ(by_tenant["t1"], 10u * 3600);
  EXPECT_EQ(by_tenant["t2"], 99u * 3600);
}

TEST(Invoice, PricesStorageRequestsAndTraffic) {
  UsageRow hot;
  hot.tier = "hot";
  hot.byte_seconds = uint64_t{1} << 30;  // 1 GiB for 720 hours, in 720 rows of one hour
  hot.byte_seconds *= 3600;
  hot.counts.set_requests_a(2000);
  hot.counts.set_requests_b(10000);
  hot.counts.set_bytes_out(uint64_t{1} << 30);
  std::vector<UsageRow> rows(720, hot);
  for (size_t i = 1; i < rows.size(); ++i) {
    rows[i].counts.Clear();
  }
  PriceSheet prices;
  prices.tiers.push_back({"hot", 0.023, 0.005, 0.0004, 0, 0, 0});
  prices.transfer_out_per_gb = 0.09;
  std::map<std::string, InvoiceLine> lines;
  for (const InvoiceLine& l : invoice(rows, prices)) {
    lines[l.item] = l;
  }
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NEAR(lines["storage hot"].quantity, 1.0, 1e-12);
  EXPECT_NEAR(lines["storage hot"].amount, 0.023, 1e-12);
  EXPECT_NEAR(lines["requests A hot"].amount, 0.01, 1e-12);
  EXPECT_NEAR(lines["requests B hot"].amount, 0.004, 1e-12);
  EXPECT_NEAR(lines["transfer out"].amount, 0.09, 1e-12);
}

}  // namespace
}  // namespace vaultaire::billing

#include "events/projection.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "common/clock.h"
#include "events/event_factory.h"
#include "events/event_log.h"
#include "events/keys.h"
#include "events/view_reader.h"
#include "support/run.h"
#include "support/temp_dir.h"

namespace vaultaire::events {
namespace {

using testing::committed;
using testing::container_created;
using testing::deleted;
using testing::migrated;
using testing::migrated_segments;
using testing::multipart_committed;
using testing::restore_expired;
using testing::restore_requested;
using testing::restored;
using testing::restored_segments;
using testing::run;
using testing::segment;

using Names = std::vector<std::string>;

constexpr int64_t kDay = 86'400 * kNanosPerSecond;

// Released blobs as "driver/blob", sorted: equal to an expected list when each was released
// exactly once.
Names names(const std::vector<proto::BlobRef>& released) {
  Names out;
  for (const proto::BlobRef& r : released) {
    out.push_back(r.driver() + "/" + r.blob_id());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// An artifact written on the "frozen" tier (its own driver), whose reads need a restore.
proto::Event frozen(const std::string& path, const std::string& blob, uint64_t size = 100) {
  proto::Event e = committed(path, blob, size);
  e.mutable_artifact_committed()->set_tier("frozen");
  e.mutable_artifact_committed()->set_driver("frozen");
  return e;
}

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(Store::open(dir_.path() / "db", OpenMode::kPrimary).value());
    log_ = std::move(EventLog::open(*store_, clock_).value());
    views_ = std::make_unique<ViewReader>(*store_);
    run(log_->append(container_created("bucket"))).value();
  }

  Appended append(proto::Event e) { return run(log_->append(std::move(e))).value(); }

  // Appends an event the projection must refuse, and returns why.
  boost::system::error_code refuse(proto::Event e) {
    const auto r = run(log_->append(std::move(e)));
    EXPECT_FALSE(r.has_value()) << "the event was accepted";
    return r.has_value() ? boost::system::error_code{} : r.error();
  }

  proto::ArtifactRecord artifact(const std::string& path) const {
    return views_->artifact("t1", "bucket", path).value();
  }

  // The blobs view's record of a blob; nullopt when no view references it.
  std::optional<proto::BlobRecord> blob(const std::string& driver, const std::string& id) const {
    std::string bytes;
    const rocksdb::Status s = store_->db()->Get(rocksdb::ReadOptions(), store_->cf(Cf::kBlobs),
                                                blob_key(driver, id), &bytes);
    if (s.IsNotFound()) {
      return std::nullopt;
    }
    EXPECT_TRUE(s.ok()) << s.ToString();
    proto::BlobRecord r;
    EXPECT_TRUE(r.ParseFromString(bytes));
    return r;
  }

  uint32_t refs(const std::string& driver, const std::string& id) const {
    const auto b = blob(driver, id);
    return b ? b->refs() : 0;
  }

  // Every record of the views on `cfs`, to show what an event did not change.
  std::string dump(const std::vector<Cf>& cfs = {kViewCfs.begin(), kViewCfs.end()}) const {
    std::string out;
    for (const Cf cf : cfs) {
      std::unique_ptr<rocksdb::Iterator> it(
          store_->db()->NewIterator(rocksdb::ReadOptions(), store_->cf(cf)));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        out += std::string(cf_name(cf)) + ' ' + it->key().ToString() + ' ' +
               it->value().ToString() + '\n';
      }
    }
    return out;
  }

  // "a" on the frozen tier (blob frozen/f1, 100 bytes), restored for 2 days into local/r1.
  // Returns the ArtifactRestored.
  Appended restored_artifact() {
    append(frozen("a", "f1", 100));
    append(restore_requested("a", 2));
    clock_.advance(std::chrono::hours(4));
    return append(restored("a", {segment("f1", 100, "frozen")}, "r1"));
  }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000 * kNanosPerSecond};
  std::unique_ptr<Store> store_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<ViewReader> views_;
};

TEST_F(ProjectionTest, ContainerCreatedStartsEmpty) {
  const auto c = views_->container("t1", "bucket").value();
  EXPECT_EQ(c.artifact_count(), 0u);
  EXPECT_EQ(c.total_bytes(), 0u);
  EXPECT_EQ(c.region(), "us-east-1");
  EXPECT_EQ(c.created_sequence(), 1u);
  EXPECT_EQ(c.created_unix_nanos(), clock_.now_unix_nanos());
}

TEST_F(ProjectionTest, CommitCountsArtifactAndBytes) {
  append(committed("a", "b1", 100));
  append(committed("b", "b2", 50));
  const auto c = views_->container("t1", "bucket").value();
  EXPECT_EQ(c.artifact_count(), 2u);
  EXPECT_EQ(c.total_bytes(), 150u);
}

TEST_F(ProjectionTest, OverwriteReleasesTheReplacedBlobAndAdjustsBytes) {
  append(committed("a", "b1", 100));
  const auto second = append(committed("a", "b2", 30));
  ASSERT_EQ(second.released.size(), 1u);
  EXPECT_EQ(second.released[0].blob_id(), "b1");
  EXPECT_EQ(second.released[0].driver(), "local");
  const auto c = views_->container("t1", "bucket").value();
  EXPECT_EQ(c.artifact_count(), 1u);
  EXPECT_EQ(c.total_bytes(), 30u);
  EXPECT_EQ(views_->artifact("t1", "bucket", "a").value().blob_id(), "b2");
}

TEST_F(ProjectionTest, RecommitOfTheSameBlobReleasesNothing) {
  append(committed("a", "b1", 100));
  const auto again = append(committed("a", "b1", 100));
  EXPECT_TRUE(again.released.empty());
}

TEST_F(ProjectionTest, DeleteRemovesArtifactAndReleasesBlob) {
  append(committed("a", "b1", 100));
  const auto del = append(deleted("a"));
  EXPECT_FALSE(del.no_op);
  ASSERT_EQ(del.released.size(), 1u);
  EXPECT_EQ(del.released[0].blob_id(), "b1");
  EXPECT_TRUE(is(views_->artifact("t1", "bucket", "a").error(), Errc::kNoSuchArtifact));
  const auto c = views_->container("t1", "bucket").value();
  EXPECT_EQ(c.artifact_count(), 0u);
  EXPECT_EQ(c.total_bytes(), 0u);
}

TEST_F(ProjectionTest, DeleteOfAbsentArtifactIsANoOp) {
  const auto del = append(deleted("missing"));
  EXPECT_TRUE(del.no_op);
  EXPECT_TRUE(del.released.empty());
  EXPECT_EQ(views_->container("t1", "bucket").value().artifact_count(), 0u);
}

TEST_F(ProjectionTest, ContainerDeletedRemovesRecord) {
  append(testing::container_deleted("bucket"));
  EXPECT_TRUE(is(views_->container("t1", "bucket").error(), Errc::kNoSuchContainer));
}

TEST_F(ProjectionTest, TenantsDoNotSeeEachOthersContainers) {
  append(container_created("bucket", "t2"));
  append(committed("a", "b1", 10, "bucket", "t2"));
  EXPECT_EQ(views_->container("t1", "bucket").value().artifact_count(), 0u);
  EXPECT_EQ(views_->container("t2", "bucket").value().artifact_count(), 1u);
  EXPECT_EQ(views_->containers("t1").value().containers_size(), 1);
  EXPECT_TRUE(is(views_->artifact("t1", "bucket", "a").error(), Errc::kNoSuchArtifact));
}

TEST_F(ProjectionTest, ReadEventsChangeNoView) {
  append(committed("a", "b1", 100));
  const auto before = views_->artifact("t1", "bucket", "a").value();
  const auto r = append(testing::read("a"));
  EXPECT_TRUE(r.no_op);
  EXPECT_EQ(views_->artifact("t1", "bucket", "a").value().SerializeAsString(),
            before.SerializeAsString());
}

// --- tiering: migrations -------------------------------------------------------------------

TEST_F(ProjectionTest, MigrationPointsASingleBlobArtifactAtItsNewBlob) {
  append(committed("a", "b1", 100));
  const auto before = artifact("a");
  clock_.advance(std::chrono::hours(24 * 30));
  const auto moved = append(migrated("a", {segment("b1", 100)}, "c1"));
  EXPECT_FALSE(moved.no_op);
  EXPECT_EQ(names(moved.released), (Names{"local/b1"}));

  const auto after = artifact("a");
  EXPECT_EQ(after.driver(), "cold");
  EXPECT_EQ(after.blob_id(), "c1");
  EXPECT_EQ(after.tier(), "cold");
  EXPECT_EQ(after.tier_since_unix_nanos(), moved.time_unix_nanos);
  // Same bytes, same version: a move is not a write.
  EXPECT_EQ(after.etag(), before.etag());
  EXPECT_EQ(after.size(), 100u);
  EXPECT_EQ(after.content_type(), before.content_type());
  ASSERT_EQ(after.user_metadata_size(), 1);
  EXPECT_EQ(after.user_metadata(0).key(), "owner");
  EXPECT_EQ(after.user_metadata(0).value(), "tests");
  EXPECT_EQ(after.modified_unix_nanos(), before.modified_unix_nanos());
  EXPECT_EQ(after.sequence(), before.sequence());
  proto::ArtifactRecord expected = before;
  expected.set_driver("cold");
  expected.set_blob_id("c1");
  expected.set_tier("cold");
  expected.set_tier_since_unix_nanos(moved.time_unix_nanos);
  EXPECT_EQ(after.SerializeAsString(), expected.SerializeAsString());

  EXPECT_FALSE(blob("local", "b1").has_value());
  const auto fresh = blob("cold", "c1");
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->refs(), 1u);
  EXPECT_EQ(fresh->driver(), "cold");
  EXPECT_EQ(fresh->size(), 100u);
  // Nothing was added or removed.
  const auto c = views_->container("t1", "bucket").value();
  EXPECT_EQ(c.artifact_count(), 1u);
  EXPECT_EQ(c.total_bytes(), 100u);
  EXPECT_EQ(views_->tenant("t1").value().bytes(), 100u);
  EXPECT_EQ(views_->tenant("t1").value().objects(), 1u);
}

TEST_F(ProjectionTest, MigrationOfAMultipartArtifactReplacesEverySegment) {
  append(multipart_committed("big",
                             {segment("p1", 10, "local", "e1"), segment("p2", 20, "local", "e2"),
                              segment("p3", 30, "local", "e3")}));
  const auto before = artifact("big");
  ASSERT_EQ(before.size(), 60u);
  // The new segments name only where the bytes are: sizes and ETags stay the record's.
  const auto moved = append(migrated_segments(
      "big", {segment("p1", 10), segment("p2", 20), segment("p3", 30)},
      {segment("c1", 10, "cold"), segment("c2", 20, "cold"), segment("c3", 30, "cold")}));
  EXPECT_EQ(names(moved.released), (Names{"local/p1", "local/p2", "local/p3"}));

  const auto after = artifact("big");
  ASSERT_EQ(after.segments_size(), 3);
  const uint64_t sizes[] = {10, 20, 30};
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i + 1);
    EXPECT_EQ(after.segments(i).driver(), "cold") << i;
    EXPECT_EQ(after.segments(i).blob_id(), "c" + n) << i;
    EXPECT_EQ(after.segments(i).size(), sizes[i]) << i;
    EXPECT_EQ(after.segments(i).etag(), "e" + n) << i;
    EXPECT_FALSE(blob("local", "p" + n).has_value()) << i;
    const auto fresh = blob("cold", "c" + n);
    ASSERT_TRUE(fresh.has_value()) << i;
    EXPECT_EQ(fresh->refs(), 1u) << i;
    EXPECT_EQ(fresh->size(), sizes[i]) << i;
  }
  EXPECT_TRUE(after.blob_id().empty());
  EXPECT_TRUE(after.driver().empty());
  EXPECT_EQ(after.size(), 60u);
  EXPECT_EQ(after.etag(), before.etag());
  EXPECT_EQ(after.tier(), "cold");
  EXPECT_EQ(after.tier_since_unix_nanos(), moved.time_unix_nanos);
  EXPECT_EQ(after.sequence(), before.sequence());
  EXPECT_EQ(after.modified_unix_nanos(), before.modified_unix_nanos());
}

TEST_F(ProjectionTest, MigrationOfAnArtifactOverwrittenSincePlanningIsRefused) {
  append(committed("a", "b1", 100));
  append(committed("a", "b2", 100));  // after the move of b1 was planned
  const std::string views = dump();
  EXPECT_TRUE(is(refuse(migrated("a", {segment("b1", 100)}, "c1")), Errc::kPreconditionFailed));
  EXPECT_EQ(dump(), views);
  EXPECT_EQ(artifact("a").blob_id(), "b2");
  EXPECT_FALSE(blob("cold", "c1").has_value());
}

TEST_F(ProjectionTest, MigrationFromAnotherTierIsRefused) {
  append(committed("a", "b1", 100));
  const std::string views = dump();
  EXPECT_TRUE(is(refuse(migrated("a", {segment("b1", 100)}, "c1", "cold", "warm")),
                 Errc::kPreconditionFailed));
  EXPECT_EQ(dump(), views);
  // The same move twice: the second finds the artifact moved already.
  append(migrated("a", {segment("b1", 100)}, "c1"));
  const std::string moved = dump();
  EXPECT_TRUE(is(refuse(migrated("a", {segment("b1", 100)}, "c2")), Errc::kPreconditionFailed));
  EXPECT_EQ(dump(), moved);
}

TEST_F(ProjectionTest, MigrationOfADeletedArtifactIsRefused) {
  append(committed("a", "b1", 100));
  append(deleted("a"));
  const std::string views = dump();
  EXPECT_TRUE(is(refuse(migrated("a", {segment("b1", 100)}, "c1")), Errc::kNoSuchArtifact));
  EXPECT_EQ(dump(), views);
}

TEST_F(ProjectionTest, MigrationWithoutANewBlobForEachOldOneIsRefused) {
  append(multipart_committed("big", {segment("p1", 10), segment("p2", 20)}));
  append(committed("a", "b1", 100));
  const std::string views = dump();
  EXPECT_TRUE(is(refuse(migrated_segments("big", {segment("p1", 10), segment("p2", 20)},
                                          {segment("c1", 10, "cold")})),
                 Errc::kInvalidArgument));
  EXPECT_TRUE(is(refuse(migrated("big", {segment("p1", 10), segment("p2", 20)}, "c1")),
                 Errc::kInvalidArgument));
  EXPECT_TRUE(is(refuse(migrated("a", {segment("b1", 100)}, "")), Errc::kInvalidArgument));
  EXPECT_EQ(dump(), views);
}

TEST_F(ProjectionTest, RefusedTieringEventsLeaveNothingInTheirBatch) {
  append(committed("a", "b1", 100));
  append(committed("a", "b2", 100));
  ViewTxn txn(*store_);
  auto refused = [&](proto::Event e) {
    const auto r = project(e, txn);
    EXPECT_FALSE(r.has_value());
    return r.has_value() ? boost::system::error_code{} : r.error();
  };
  EXPECT_TRUE(is(refused(migrated("a", {segment("b1", 100)}, "c1")), Errc::kPreconditionFailed));
  EXPECT_TRUE(is(refused(migrated("gone", {segment("b1", 100)}, "c1")), Errc::kNoSuchArtifact));
  EXPECT_TRUE(is(refused(restore_requested("a", 2, "frozen")), Errc::kInvalidObjectState));
  EXPECT_TRUE(is(refused(restore_requested("gone", 2, "hot")), Errc::kNoSuchArtifact));
  EXPECT_TRUE(is(refused(restored("a", {segment("b2", 100)}, "r1")), Errc::kPreconditionFailed));
  EXPECT_EQ(txn.flush().Count(), 0u);
}

TEST_F(ProjectionTest, MigrationKeepsABlobACopyStillShares) {
  append(committed("a", "b1", 100));
  proto::Event copy = committed("b", "b1", 100);
  copy.mutable_artifact_committed()->set_shares_blobs(true);
  append(copy);
  ASSERT_EQ(refs("local", "b1"), 2u);

  const auto moved = append(migrated("a", {segment("b1", 100)}, "c1"));
  EXPECT_TRUE(moved.released.empty());
  EXPECT_EQ(refs("local", "b1"), 1u);
  EXPECT_EQ(refs("cold", "c1"), 1u);
  const auto other = artifact("b");
  EXPECT_EQ(other.driver(), "local");
  EXPECT_EQ(other.blob_id(), "b1");
  EXPECT_EQ(other.tier(), "hot");
  EXPECT_TRUE(views_->blob_referenced("local", "b1").value());

  // When the copy moves too, its blob loses its last reference.
  const auto last = append(migrated("b", {segment("b1", 100)}, "c2"));
  EXPECT_EQ(names(last.released), (Names{"local/b1"}));
  EXPECT_FALSE(blob("local", "b1").has_value());
}

// --- tiering: restores ---------------------------------------------------------------------

TEST_F(ProjectionTest, RestoreRequestedStartsARestore) {
  append(frozen("a", "f1"));
  clock_.advance(std::chrono::hours(1));
  const auto asked = append(restore_requested("a", 3));
  EXPECT_FALSE(asked.no_op);
  EXPECT_TRUE(asked.released.empty());
  const auto record = artifact("a");
  ASSERT_TRUE(record.has_restore());
  EXPECT_TRUE(record.restore().ongoing());
  EXPECT_EQ(record.restore().days(), 3u);
  EXPECT_EQ(record.restore().requested_unix_nanos(), asked.time_unix_nanos);
  EXPECT_EQ(record.restore().expires_unix_nanos(), 0);
  EXPECT_TRUE(record.restore().blob_id().empty());
  EXPECT_EQ(record.tier(), "frozen");
  EXPECT_EQ(record.blob_id(), "f1");
}

TEST_F(ProjectionTest, RestoreRequestWhileOneIsUnderWayIsRefused) {
  append(frozen("a", "f1"));
  append(restore_requested("a", 3));
  const std::string views = dump();
  EXPECT_TRUE(is(refuse(restore_requested("a", 7)), Errc::kRestoreInProgress));
  EXPECT_EQ(dump(), views);
  EXPECT_EQ(artifact("a").restore().days(), 3u);
}

TEST_F(ProjectionTest, RestoreRequestForAnotherTierIsRefused) {
  append(frozen("a", "f1"));
  const std::string views = dump();
  EXPECT_TRUE(is(refuse(restore_requested("a", 2, "deep")), Errc::kInvalidObjectState));
  EXPECT_EQ(dump(), views);
  // Moved off the tier after the request was checked.
  append(migrated("a", {segment("f1", 100, "frozen")}, "d1", "deep", "frozen", "deep"));
  const std::string moved = dump();
  EXPECT_TRUE(is(refuse(restore_requested("a", 2, "frozen")), Errc::kInvalidObjectState));
  EXPECT_EQ(dump(), moved);
  EXPECT_FALSE(artifact("a").has_restore());
}

TEST_F(ProjectionTest, ArtifactRestoredReferencesTheCopyUntilItExpires) {
  append(frozen("a", "f1", 100));
  const auto asked = append(restore_requested("a", 2));
  clock_.advance(std::chrono::hours(5));
  const auto done = append(restored("a", {segment("f1", 100, "frozen")}, "r1"));
  EXPECT_FALSE(done.no_op);
  EXPECT_TRUE(done.released.empty());

  const auto record = artifact("a");
  ASSERT_TRUE(record.has_restore());
  EXPECT_FALSE(record.restore().ongoing());
  EXPECT_EQ(record.restore().days(), 2u);
  EXPECT_EQ(record.restore().expires_unix_nanos(), done.time_unix_nanos + 2 * kDay);
  EXPECT_EQ(record.restore().requested_unix_nanos(), asked.time_unix_nanos);
  EXPECT_EQ(record.restore().driver(), "local");
  EXPECT_EQ(record.restore().blob_id(), "r1");
  // The artifact still reads from its tier; the copy is extra.
  EXPECT_EQ(record.driver(), "frozen");
  EXPECT_EQ(record.blob_id(), "f1");
  EXPECT_EQ(refs("frozen", "f1"), 1u);
  const auto copy = blob("local", "r1");
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->refs(), 1u);
  EXPECT_EQ(copy->driver(), "local");
  EXPECT_EQ(copy->size(), 100u);
  // The copy is not a second object.
  EXPECT_EQ(views_->container("t1", "bucket").value().total_bytes(), 100u);
  EXPECT_EQ(views_->tenant("t1").value().bytes(), 100u);
}

TEST_F(ProjectionTest, ArtifactRestoredWithoutARestoreUnderWayIsRefused) {
  append(frozen("a", "f1", 100));
  const std::string views = dump();
  EXPECT_TRUE(
      is(refuse(restored("a", {segment("f1", 100, "frozen")}, "r1")), Errc::kPreconditionFailed));
  EXPECT_EQ(dump(), views);
  // One request, one copy: a second completion is refused.
  append(restore_requested("a", 2));
  append(restored("a", {segment("f1", 100, "frozen")}, "r1"));
  const std::string restored_views = dump();
  EXPECT_TRUE(
      is(refuse(restored("a", {segment("f1", 100, "frozen")}, "r2")), Errc::kPreconditionFailed));
  EXPECT_EQ(dump(), restored_views);
  EXPECT_FALSE(blob("local", "r2").has_value());
}

TEST_F(ProjectionTest, ArtifactRestoredFromOtherBlobsIsRefused) {
  append(frozen("a", "f1", 100));
  append(restore_requested("a", 2));
  const std::string views = dump();
  EXPECT_TRUE(
      is(refuse(restored("a", {segment("f0", 100, "frozen")}, "r1")), Errc::kPreconditionFailed));
  EXPECT_TRUE(
      is(refuse(restored("a", {segment("f1", 100, "local")}, "r1")), Errc::kPreconditionFailed));
  EXPECT_TRUE(
      is(refuse(restored("a", {segment("f1", 99, "frozen")}, "r1")), Errc::kPreconditionFailed));
  EXPECT_EQ(dump(), views);
  EXPECT_TRUE(artifact("a").restore().ongoing());
}

TEST_F(ProjectionTest, RestoreRequestOnARestoredArtifactExtendsTheCopy) {
  const auto done = restored_artifact();
  const auto first = artifact("a").restore();
  const std::string blobs = dump({Cf::kBlobs});
  clock_.advance(std::chrono::hours(24));
  const auto again = append(restore_requested("a", 5));
  EXPECT_TRUE(again.released.empty());
  EXPECT_GT(again.time_unix_nanos, done.time_unix_nanos);

  const auto r = artifact("a").restore();
  EXPECT_FALSE(r.ongoing());
  EXPECT_EQ(r.days(), 5u);
  EXPECT_EQ(r.expires_unix_nanos(), again.time_unix_nanos + 5 * kDay);
  EXPECT_EQ(r.driver(), "local");
  EXPECT_EQ(r.blob_id(), "r1");
  EXPECT_EQ(r.requested_unix_nanos(), first.requested_unix_nanos());
  EXPECT_EQ(dump({Cf::kBlobs}), blobs);  // same copy, no new blob
}

TEST_F(ProjectionTest, RestoreExpiredReleasesTheCopy) {
  append(frozen("a", "f1", 100));
  const auto before = artifact("a");
  append(restore_requested("a", 2));
  append(restored("a", {segment("f1", 100, "frozen")}, "r1"));
  clock_.advance(std::chrono::hours(48));
  const auto expired = append(restore_expired("a"));
  EXPECT_FALSE(expired.no_op);
  EXPECT_EQ(names(expired.released), (Names{"local/r1"}));

  const auto after = artifact("a");
  EXPECT_FALSE(after.has_restore());
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
  EXPECT_FALSE(blob("local", "r1").has_value());
  EXPECT_EQ(refs("frozen", "f1"), 1u);
}

TEST_F(ProjectionTest, RestoreExpiredWithoutARestoreIsANoOp) {
  append(frozen("a", "f1", 100));
  const std::string views = dump();
  const auto expired = append(restore_expired("a"));
  EXPECT_TRUE(expired.no_op);
  EXPECT_TRUE(expired.released.empty());
  const auto missing = append(restore_expired("missing"));
  EXPECT_TRUE(missing.no_op);
  EXPECT_TRUE(missing.released.empty());
  EXPECT_EQ(dump(), views);
}

TEST_F(ProjectionTest, RestoreExpiredAbandonsARestoreUnderWay) {
  append(frozen("a", "f1", 100));
  append(restore_requested("a", 2));
  const auto abandoned = append(restore_expired("a"));
  EXPECT_FALSE(abandoned.no_op);
  EXPECT_TRUE(abandoned.released.empty());
  EXPECT_FALSE(artifact("a").has_restore());
  // A copy finished too late is refused (its maker releases it); a new request starts afresh.
  EXPECT_TRUE(
      is(refuse(restored("a", {segment("f1", 100, "frozen")}, "r1")), Errc::kPreconditionFailed));
  append(restore_requested("a", 1));
  EXPECT_TRUE(artifact("a").restore().ongoing());
}

TEST_F(ProjectionTest, RestoreOfAMultipartArtifactCopiesEverySegment) {
  proto::Event put = multipart_committed(
      "big", {segment("f1", 10, "frozen", "e1"), segment("f2", 20, "frozen", "e2")});
  put.mutable_artifact_committed()->set_tier("frozen");
  append(put);
  append(restore_requested("big", 2));
  const auto done =
      append(restored_segments("big", {segment("f1", 10, "frozen"), segment("f2", 20, "frozen")},
                               {segment("r1", 10, "local"), segment("r2", 20, "local")}));
  EXPECT_TRUE(done.released.empty());
  const auto r = artifact("big").restore();
  ASSERT_EQ(r.segments_size(), 2);
  EXPECT_EQ(r.segments(0).blob_id(), "r1");
  EXPECT_EQ(r.segments(1).blob_id(), "r2");
  EXPECT_EQ(blob("local", "r1").value().size(), 10u);
  EXPECT_EQ(blob("local", "r2").value().size(), 20u);

  const auto expired = append(restore_expired("big"));
  EXPECT_EQ(names(expired.released), (Names{"local/r1", "local/r2"}));
  EXPECT_EQ(refs("frozen", "f1"), 1u);
  EXPECT_EQ(refs("frozen", "f2"), 1u);
}

TEST_F(ProjectionTest, OverwriteOfARestoredArtifactReleasesTheCopyToo) {
  restored_artifact();
  const auto put = append(committed("a", "b2", 50));
  EXPECT_EQ(names(put.released), (Names{"frozen/f1", "local/r1"}));
  const auto record = artifact("a");
  EXPECT_FALSE(record.has_restore());
  EXPECT_EQ(record.tier(), "hot");
  EXPECT_EQ(record.tier_since_unix_nanos(), 0);
  EXPECT_EQ(refs("local", "b2"), 1u);
  EXPECT_FALSE(blob("local", "r1").has_value());
  EXPECT_EQ(views_->container("t1", "bucket").value().total_bytes(), 50u);
}

TEST_F(ProjectionTest, DeleteOfARestoredArtifactReleasesTheCopyToo) {
  restored_artifact();
  const auto del = append(deleted("a"));
  EXPECT_EQ(names(del.released), (Names{"frozen/f1", "local/r1"}));
  EXPECT_EQ(dump({Cf::kBlobs}), "");
  EXPECT_TRUE(is(views_->artifact("t1", "bucket", "a").error(), Errc::kNoSuchArtifact));
}

TEST_F(ProjectionTest, MigrationOfARestoredArtifactReleasesTheCopy) {
  restored_artifact();
  const auto moved =
      append(migrated("a", {segment("f1", 100, "frozen")}, "d1", "deep", "frozen", "deep"));
  EXPECT_EQ(names(moved.released), (Names{"frozen/f1", "local/r1"}));
  const auto record = artifact("a");
  EXPECT_FALSE(record.has_restore());
  EXPECT_EQ(record.tier(), "deep");
  EXPECT_EQ(record.driver(), "deep");
  EXPECT_EQ(record.blob_id(), "d1");
  EXPECT_EQ(refs("deep", "d1"), 1u);
  EXPECT_EQ(dump({Cf::kBlobs}).find("local"), std::string::npos);
}

}  // namespace
}  // namespace vaultaire::events

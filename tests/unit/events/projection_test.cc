#include "events/projection.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "events/event_factory.h"
#include "events/event_log.h"
#include "events/view_reader.h"
#include "support/run.h"
#include "support/temp_dir.h"

namespace vaultaire::events {
namespace {

using testing::committed;
using testing::container_created;
using testing::deleted;
using testing::run;

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(Store::open(dir_.path() / "db", OpenMode::kPrimary).value());
    log_ = std::move(EventLog::open(*store_, clock_).value());
    views_ = std::make_unique<ViewReader>(*store_);
    run(log_->append(container_created("bucket"))).value();
  }

  Appended append(proto::Event e) { return run(log_->append(std::move(e))).value(); }

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

}  // namespace
}  // namespace vaultaire::events

#include "actors/container_actor.h"

#include <gtest/gtest.h>

#include "actors/local_hub.h"
#include "common/clock.h"
#include "support/run.h"
#include "support/temp_dir.h"

namespace vaultaire::actors {
namespace {

using testing::run;

class ContainerActorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(events::Store::open(dir_.path() / "db", events::OpenMode::kPrimary).value());
    log_ = std::move(events::EventLog::open(*store_, clock_).value());
    views_ = std::make_unique<events::ViewReader>(*store_);
    hub_ = std::make_unique<LocalHub>(testing::test_io().get_executor(), *log_, *views_);
  }

  static proto::Command command(const std::string& container, const std::string& path = "") {
    proto::Command c;
    c.mutable_context()->set_tenant("t1");
    c.mutable_context()->set_request_id("REQ");
    c.mutable_context()->set_principal("AKID");
    c.set_container(container);
    c.set_path(path);
    return c;
  }
  Result<proto::CommandReply> create(const std::string& name) {
    auto c = command(name);
    c.mutable_create_container()->set_region("us-east-1");
    return run(hub_->execute(std::move(c)));
  }
  Result<proto::CommandReply> drop(const std::string& name) {
    auto c = command(name);
    c.mutable_delete_container();
    return run(hub_->execute(std::move(c)));
  }
  Result<proto::CommandReply> put(const std::string& name, const std::string& path,
                                  const std::string& blob = "b") {
    auto c = command(name, path);
    auto* a = c.mutable_commit_artifact()->mutable_artifact();
    a->set_blob_id(blob);
    a->set_driver("local");
    a->set_size(3);
    return run(hub_->execute(std::move(c)));
  }
  Result<proto::CommandReply> remove(const std::string& name, const std::string& path) {
    auto c = command(name, path);
    c.mutable_delete_artifact();
    return run(hub_->execute(std::move(c)));
  }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000 * kNanosPerSecond};
  std::unique_ptr<events::Store> store_;
  std::unique_ptr<events::EventLog> log_;
  std::unique_ptr<events::ViewReader> views_;
  std::unique_ptr<LocalHub> hub_;
};

TEST_F(ContainerActorTest, CreateThenCreateAgainIsContainerExists) {
  EXPECT_TRUE(create("bucket").has_value());
  EXPECT_TRUE(is(create("bucket").error(), Errc::kContainerExists));
}

TEST_F(ContainerActorTest, InvalidNameIsRefusedWithoutAnEvent) {
  EXPECT_TRUE(is(create("Bad_Name").error(), Errc::kInvalidContainerName));
  EXPECT_EQ(log_->last_sequence(), 0u);
}

TEST_F(ContainerActorTest, PutIntoMissingContainerIsNoSuchContainer) {
  EXPECT_TRUE(is(put("nope", "a").error(), Errc::kNoSuchContainer));
}

TEST_F(ContainerActorTest, InvalidPathIsRefused) {
  ASSERT_TRUE(create("bucket").has_value());
  EXPECT_TRUE(is(put("bucket", "").error(), Errc::kInvalidPath));
  EXPECT_TRUE(is(put("bucket", std::string(1025, 'x')).error(), Errc::kInvalidPath));
}

TEST_F(ContainerActorTest, DeleteRequiresAnEmptyContainer) {
  ASSERT_TRUE(create("bucket").has_value());
  ASSERT_TRUE(put("bucket", "a").has_value());
  EXPECT_TRUE(is(drop("bucket").error(), Errc::kContainerNotEmpty));
  ASSERT_TRUE(remove("bucket", "a").has_value());
  EXPECT_TRUE(drop("bucket").has_value());
  EXPECT_TRUE(is(put("bucket", "a").error(), Errc::kNoSuchContainer));
  EXPECT_TRUE(is(drop("bucket").error(), Errc::kNoSuchContainer));
}

TEST_F(ContainerActorTest, OverwriteReplyReleasesTheOldBlob) {
  ASSERT_TRUE(create("bucket").has_value());
  ASSERT_TRUE(put("bucket", "a", "b1").has_value());
  const auto reply = put("bucket", "a", "b2").value();
  ASSERT_EQ(reply.released_size(), 1);
  EXPECT_EQ(reply.released(0).blob_id(), "b1");
}

TEST_F(ContainerActorTest, ConcurrentPutsToOneContainerAreAllCommitted) {
  ASSERT_TRUE(create("bucket").has_value());
  auto& io = testing::test_io();
  int ok = 0;
  for (int i = 0; i < 200; ++i) {
    auto c = command("bucket", "k" + std::to_string(i));
    auto* a = c.mutable_commit_artifact()->mutable_artifact();
    a->set_blob_id("b" + std::to_string(i));
    a->set_driver("local");
    asio::co_spawn(
        io,
        [](Hub* hub, proto::Command c, int* ok) -> asio::awaitable<void> {
          if ((co_await hub->execute(std::move(c))).has_value()) {
            ++*ok;
          }
        }(hub_.get(), std::move(c), &ok),
        asio::detached);
  }
  io.restart();
  io.run();
  EXPECT_EQ(ok, 200);
  EXPECT_EQ(views_->container("t1", "bucket").value().artifact_count(), 200u);
}

TEST_F(ContainerActorTest, IdleActorsAreDroppedAndStateReloads) {
  ASSERT_TRUE(create("bucket").has_value());
  EXPECT_EQ(hub_->registry().size(), 1u);
  EXPECT_EQ(hub_->registry().evict_idle(std::chrono::seconds(0)), 1u);
  EXPECT_EQ(hub_->registry().size(), 0u);
  // A fresh actor loads the container from the views.
  EXPECT_TRUE(is(create("bucket").error(), Errc::kContainerExists));
  EXPECT_TRUE(put("bucket", "a").has_value());
}

TEST_F(ContainerActorTest, QueriesReadTheViews) {
  ASSERT_TRUE(create("bucket").has_value());
  ASSERT_TRUE(put("bucket", "a").has_value());
  proto::Query q;
  q.mutable_context()->set_tenant("t1");
  q.set_container("bucket");
  q.set_path("a");
  q.mutable_get_artifact();
  EXPECT_EQ(run(hub_->query(q)).value().artifact().blob_id(), "b");
  q.set_container("missing");
  q.mutable_list_artifacts();
  EXPECT_TRUE(is(run(hub_->query(q)).error(), Errc::kNoSuchContainer));
}

TEST_F(ContainerActorTest, AbandonedUploadsAreAbortedAndTheirPartsReleased) {
  ASSERT_TRUE(create("bucket").has_value());
  auto start = command("bucket", "big.bin");
  start.mutable_create_upload()->mutable_upload()->set_upload_id("u1");
  ASSERT_TRUE(run(hub_->execute(std::move(start))).has_value());
  auto part = command("bucket", "big.bin");
  auto* p = part.mutable_upload_part()->mutable_part();
  p->set_upload_id("u1");
  p->set_part_number(1);
  p->mutable_part()->set_blob_id("part-blob");
  p->mutable_part()->set_driver("local");
  p->mutable_part()->set_size(10);
  ASSERT_TRUE(run(hub_->execute(std::move(part))).has_value());

  std::vector<proto::BlobRef> released;
  auto collect = [&released](std::vector<proto::BlobRef> blobs) {
    released.insert(released.end(), blobs.begin(), blobs.end());
  };
  // Not old enough yet: nothing happens.
  const int64_t created = clock_.now_unix_nanos();
  EXPECT_EQ(run(hub_->sweep_abandoned_uploads(created, collect)).value(), 0u);
  EXPECT_TRUE(views_->upload("t1", "bucket", "big.bin", "u1").has_value());

  clock_.advance(std::chrono::hours(24 * 8));
  const int64_t week_ago =
      clock_.now_unix_nanos() - std::chrono::nanoseconds(std::chrono::hours(24 * 7)).count();
  EXPECT_EQ(run(hub_->sweep_abandoned_uploads(week_ago, collect)).value(), 1u);
  EXPECT_TRUE(is(views_->upload("t1", "bucket", "big.bin", "u1").error(), Errc::kNoSuchUpload));
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].blob_id(), "part-blob");
  const auto last = events::read_event(*store_, log_->last_sequence()).value();
  EXPECT_EQ(last.upload_aborted().reason(), "abandoned");
  EXPECT_EQ(last.principal(), "vaultaire:upload-sweep");
}

TEST_F(ContainerActorTest, ReadEventsAreRecordedWithoutWaiting) {
  ASSERT_TRUE(create("bucket").has_value());
  auto c = command("bucket", "a");
  c.mutable_record_read()->mutable_read()->set_bytes_sent(3);
  EXPECT_TRUE(run(hub_->execute(std::move(c))).has_value());
  ASSERT_TRUE(put("bucket", "a").has_value());  // durable, and so is the read queued before it
  EXPECT_EQ(events::read_event(*store_, 2).value().payload_case(), proto::Event::kArtifactRead);
  EXPECT_EQ(events::read_event(*store_, 2).value().principal(), "AKID");
}

}  // namespace
}  // namespace vaultaire::actors

#include "drivers/local_driver.h"

#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/ids.h"
#include "support/run.h"
#include "support/temp_dir.h"

namespace vaultaire::drivers {
namespace {

using testing::run;

class LocalDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    driver_ =
        std::move(LocalDriver::create({.name = "local", .root = dir_.path()}, clock_).value());
  }

  std::string put(const std::vector<std::string>& chunks) {
    auto writer = std::move(run(driver_->create()).value());
    for (const auto& c : chunks) {
      EXPECT_TRUE(run(writer->write(c)).has_value());
    }
    const auto info = run(writer->commit()).value();
    EXPECT_EQ(info.id, writer->id());
    return info.id;
  }

  std::string get(const std::string& id, std::optional<ByteRange> range = std::nullopt,
                  size_t chunk = 1 << 20) {
    auto reader = std::move(run(driver_->open(id, range)).value());
    std::string out;
    for (;;) {
      const auto part = run(reader->read(chunk)).value();
      if (part.empty()) {
        break;
      }
      EXPECT_LE(part.size(), chunk);
      out += part;
    }
    EXPECT_EQ(out.size(), reader->size());
    return out;
  }

  size_t temp_files() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_ / "tmp")) {
      ++n;
    }
    return n;
  }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000 * kNanosPerSecond};
  std::unique_ptr<LocalDriver> driver_;
};

TEST_F(LocalDriverTest, SmallBlobRoundTrips) {
  const std::string id = put({"hello ", "world"});
  EXPECT_TRUE(is_blob_id(id));
  EXPECT_EQ(get(id), "hello world");
  EXPECT_EQ(run(driver_->stat(id)).value().size, 11u);
}

TEST_F(LocalDriverTest, LargeBlobStreamsInChunks) {
  std::string big;
  for (int i = 0; i < 3 * 1024 * 1024 + 17; ++i) {
    big.push_back(static_cast<char>(i * 31 % 251));
  }
  std::vector<std::string> chunks;
  for (size_t off = 0; off < big.size(); off += 700 * 1024) {
    chunks.push_back(big.substr(off, 700 * 1024));
  }
  const std::string id = put(chunks);
  EXPECT_EQ(get(id, std::nullopt, 64 * 1024), big);
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(LocalDriverTest, EmptyBlobIsValid) {
  const std::string id = put({});
  EXPECT_EQ(get(id), "");
}

TEST_F(LocalDriverTest, RangeReadsReturnExactlyTheRange) {
  const std::string id = put({"0123456789"});
  EXPECT_EQ(get(id, ByteRange{2, 5}), "2345");
  EXPECT_EQ(get(id, ByteRange{9, 9}), "9");
  EXPECT_EQ(get(id, ByteRange{0, 9}), "0123456789");
}

TEST_F(LocalDriverTest, RangeOutsideBlobIsInvalidRange) {
  const std::string id = put({"0123456789"});
  const auto r = run(driver_->open(id, ByteRange{5, 10}));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(is(r.error(), Errc::kInvalidRange));
}

TEST_F(LocalDriverTest, BlobIsInvisibleUntilCommitted) {
  auto writer = std::move(run(driver_->create()).value());
  ASSERT_TRUE(run(writer->write(std::string(2 << 20, 'x'))).has_value());
  const auto r = run(driver_->open(writer->id(), std::nullopt));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(is(r.error(), Errc::kNoSuchBlob));
  run(writer->abort());
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(LocalDriverTest, CommittedBlobSurvivesADriverReopen) {
  const std::string id = put({"durable"});
  driver_.reset();
  driver_ = std::move(LocalDriver::create({.name = "local", .root = dir_.path()}, clock_).value());
  EXPECT_EQ(get(id), "durable");
}

TEST_F(LocalDriverTest, RemoveDeletesAndIsIdempotent) {
  const std::string id = put({"bye"});
  EXPECT_TRUE(run(driver_->remove(id)).has_value());
  EXPECT_TRUE(is(run(driver_->open(id, std::nullopt)).error(), Errc::kNoSuchBlob));
  EXPECT_TRUE(run(driver_->remove(id)).has_value());
}

TEST_F(LocalDriverTest, IdsThatAreNotOursNeverReachTheFilesystem) {
  EXPECT_TRUE(is(run(driver_->open("../../etc/passwd", std::nullopt)).error(), Errc::kNoSuchBlob));
  EXPECT_TRUE(is(run(driver_->stat("../x")).error(), Errc::kNoSuchBlob));
}

TEST_F(LocalDriverTest, SweepRemovesOnlyOldUnreferencedBlobsAndTemps) {
  const std::string keep = put({"referenced"});
  const std::string orphan = put({"orphan"});
  const std::string young = put({"young orphan"});
  // A temp file from a crashed write.
  std::ofstream(driver_->temp_path("00000000deadbeefdeadbeefdeadbeef")) << "partial";
  // Everything so far is "old": set the cutoff in the future, except the young one.
  const auto young_path = driver_->blob_path(young);
  const auto future = std::filesystem::file_time_type::clock::now() + std::chrono::hours(2);
  std::filesystem::last_write_time(young_path, future);
  const int64_t cutoff = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() +
                         3600;
  const auto report =
      run(driver_->sweep([&](std::string_view id) { return id == keep; }, cutoff)).value();
  EXPECT_EQ(report.examined, 3u);
  EXPECT_EQ(report.removed, 1u);
  EXPECT_EQ(report.temp_removed, 1u);
  EXPECT_EQ(get(keep), "referenced");
  EXPECT_EQ(get(young), "young orphan");
  EXPECT_TRUE(is(run(driver_->open(orphan, std::nullopt)).error(), Errc::kNoSuchBlob));
}

TEST_F(LocalDriverTest, ShardFoldersAreMadeByTheFirstBlobThatLandsInThem) {
  const auto shards = [&] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_ / "blobs")) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(shards(), 0u) << "a fresh driver made folders it does not need yet";
  std::map<std::string, std::string> blobs;  // id -> content
  for (int i = 0; i < 40; ++i) {
    const std::string content = "blob " + std::to_string(i);
    blobs[put({content})] = content;
  }
  std::set<std::string> expected;
  for (const auto& [id, content] : blobs) {
    expected.insert(id.substr(id.size() - 3));
    EXPECT_EQ(get(id), content);
  }
  EXPECT_EQ(shards(), expected.size());
  // A reopened driver finds them all.
  driver_ = std::move(LocalDriver::create({.name = "local", .root = dir_.path()}, clock_).value());
  for (const auto& [id, content] : blobs) {
    EXPECT_EQ(get(id), content);
  }
}

TEST_F(LocalDriverTest, HealthIsOkOnAWritableRoot) {
  EXPECT_TRUE(run(driver_->health()).has_value());
}

}  // namespace
}  // namespace vaultaire::drivers

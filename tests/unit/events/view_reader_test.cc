#include "events/view_reader.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "events/event_factory.h"
#include "events/event_log.h"
#include "support/run.h"
#include "support/temp_dir.h"

namespace vaultaire::events {
namespace {

using testing::run;

class ViewReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(Store::open(dir_.path() / "db", OpenMode::kPrimary).value());
    log_ = std::move(EventLog::open(*store_, clock_).value());
    views_ = std::make_unique<ViewReader>(*store_);
    run(log_->append(testing::container_created("bucket"))).value();
    for (const char* path : {"a.txt", "dir/x", "dir/y", "dir/sub/z", "e.txt", "photos/2024/1.jpg",
                             "photos/2024/2.jpg", "photos/2025/1.jpg", "zz"}) {
      run(log_->append(testing::committed(path))).value();
    }
  }

  proto::ArtifactList list(const std::string& prefix, const std::string& delimiter,
                           const std::string& start_after, uint32_t max) {
    proto::ListArtifacts req;
    req.set_prefix(prefix);
    req.set_delimiter(delimiter);
    req.set_start_after(start_after);
    req.set_max_entries(max);
    return views_->list("t1", "bucket", req).value();
  }

  static std::vector<std::string> keys(const proto::ArtifactList& l) {
    std::vector<std::string> out;
    for (const auto& a : l.artifacts()) {
      out.push_back(a.path());
    }
    return out;
  }
  static std::vector<std::string> prefixes(const proto::ArtifactList& l) {
    return {l.common_prefixes().begin(), l.common_prefixes().end()};
  }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000 * kNanosPerSecond};
  std::unique_ptr<Store> store_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<ViewReader> views_;
};

using Strings = std::vector<std::string>;

TEST_F(ViewReaderTest, ListsAllKeysInOrder) {
  const auto l = list("", "", "", 1000);
  EXPECT_EQ(keys(l), (Strings{"a.txt", "dir/sub/z", "dir/x", "dir/y", "e.txt", "photos/2024/1.jpg",
                              "photos/2024/2.jpg", "photos/2025/1.jpg", "zz"}));
  EXPECT_FALSE(l.truncated());
}

TEST_F(ViewReaderTest, PrefixLimitsTheScan) {
  EXPECT_EQ(keys(list("dir/", "", "", 1000)), (Strings{"dir/sub/z", "dir/x", "dir/y"}));
  EXPECT_TRUE(keys(list("nothing", "", "", 1000)).empty());
}

TEST_F(ViewReaderTest, DelimiterRollsUpCommonPrefixes) {
  const auto l = list("", "/", "", 1000);
  EXPECT_EQ(keys(l), (Strings{"a.txt", "e.txt", "zz"}));
  EXPECT_EQ(prefixes(l), (Strings{"dir/", "photos/"}));
  const auto nested = list("photos/", "/", "", 1000);
  EXPECT_TRUE(keys(nested).empty());
  EXPECT_EQ(prefixes(nested), (Strings{"photos/2024/", "photos/2025/"}));
}

TEST_F(ViewReaderTest, PagesResumeAfterLastEntryIncludingCommonPrefixes) {
  Strings seen_keys;
  Strings seen_prefixes;
  std::string start;
  int pages = 0;
  for (;;) {
    const auto l = list("", "/", start, 2);
    ++pages;
    for (const auto& k : keys(l)) {
      seen_keys.push_back(k);
    }
    for (const auto& p : prefixes(l)) {
      seen_prefixes.push_back(p);
    }
    if (!l.truncated()) {
      break;
    }
    start = l.last();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen_keys, (Strings{"a.txt", "e.txt", "zz"}));
  EXPECT_EQ(seen_prefixes, (Strings{"dir/", "photos/"}));
  EXPECT_EQ(pages, 3);
}

TEST_F(ViewReaderTest, ExactPageIsNotTruncated) {
  const auto l = list("dir/", "", "", 3);
  EXPECT_EQ(keys(l).size(), 3u);
  EXPECT_FALSE(l.truncated());
  const auto cut = list("dir/", "", "", 2);
  EXPECT_TRUE(cut.truncated());
  EXPECT_EQ(cut.last(), "dir/x");
}

TEST_F(ViewReaderTest, StartAfterBeforePrefixStartsAtPrefix) {
  EXPECT_EQ(keys(list("dir/", "", "a", 1000)), (Strings{"dir/sub/z", "dir/x", "dir/y"}));
  EXPECT_EQ(keys(list("dir/", "", "dir/x", 1000)), (Strings{"dir/y"}));
}

TEST_F(ViewReaderTest, HasArtifactsProbesOneContainer) {
  EXPECT_TRUE(views_->has_artifacts("t1", "bucket").value());
  run(log_->append(testing::container_created("bucket2"))).value();
  EXPECT_FALSE(views_->has_artifacts("t1", "bucket2").value());
}

}  // namespace
}  // namespace vaultaire::events

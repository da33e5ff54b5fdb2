#include "common/ids.h"

#include <set>

#include <gtest/gtest.h>

namespace vaultaire {
namespace {

TEST(IdsTest, BlobIdsAreUniqueAndCarryTheirTime) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = new_blob_id(1'700'000'000);
    ASSERT_TRUE(is_blob_id(id)) << id;
    EXPECT_EQ(blob_id_seconds(id), 1'700'000'000);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(IdsTest, OnlyOurShapeIsABlobId) {
  EXPECT_FALSE(is_blob_id(""));
  EXPECT_FALSE(is_blob_id("../../etc/passwd"));
  EXPECT_FALSE(is_blob_id(std::string(32, 'g')));
  EXPECT_FALSE(is_blob_id(std::string(32, 'A')));
  EXPECT_TRUE(is_blob_id(std::string(32, 'a')));
}

TEST(IdsTest, RequestIdsLookLikeS3Ones) {
  const std::string id = new_request_id();
  EXPECT_EQ(id.size(), 16u);
  EXPECT_NE(id, new_request_id());
}

}  // namespace
}  // namespace vaultaire

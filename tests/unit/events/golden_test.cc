// Golden samples: encoded events committed to the repository, which every later build must
// decode and project into exactly the same view bytes. A change that breaks this test changed
// the meaning of the log: fields are added, never renumbered, retyped or reused.
//
//   golden/<scenario>.events.hex   one serialized proto::Event per line (hex), in log order
//   golden/<scenario>.views.txt    the views after projecting them: "cf key-hex value-hex" lines
//
// `scenario` holds the event types of the first format and is compared on the view column
// families that existed then (a view added later may derive more from the same events; it
// must not change these). `scenario2` holds the later event types (multipart, tags, copies,
// identity, quotas) and `scenario3` the tiering ones (migrations, restores and their expiry);
// both are compared on every view. To add event types, add a scenario: set
// VAULTAIRE_WRITE_GOLDEN=1, run only its test once (--gtest_filter), review and commit the new
// files. Existing files are never changed.

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/crypto.h"
#include "events/event_factory.h"
#include "events/projection.h"
#include "events/store.h"
#include "support/temp_dir.h"

namespace vaultaire::events {
namespace {

const std::filesystem::path kGolden = VAULTAIRE_GOLDEN_DIR;

// The scenario, used only when (re)writing the golden files.
std::vector<proto::Event> scenario() {
  std::vector<proto::Event> events;
  auto add = [&](proto::Event e) {
    e.set_sequence(events.size() + 1);
    e.set_time_unix_nanos(1'700'000'000'000'000'000 + static_cast<int64_t>(events.size()) * 1000);
    e.set_request_id("REQ" + std::to_string(events.size() + 1));
    e.set_principal("AKIDGOLDEN");
    e.set_source_address("127.0.0.1:40000");
    e.set_user_agent("golden/1.0");
    e.set_spoke_id("local");
    events.push_back(std::move(e));
  };
  add(testing::container_created("photos"));
  add(testing::container_created("scratch"));
  add(testing::committed("2024/a.jpg", "00000001aaaaaaaaaaaaaaaaaaaaaaaa", 1000, "photos"));
  add(testing::committed("2024/b.jpg", "00000001bbbbbbbbbbbbbbbbbbbbbbbb", 2000, "photos"));
  add(testing::committed("2024/a.jpg", "00000002aaaaaaaaaaaaaaaaaaaaaaaa", 1500, "photos"));
  add(testing::read("2024/a.jpg", "photos"));
  add(testing::deleted("2024/b.jpg", "photos"));
  add(testing::deleted("missing", "photos"));
  add(testing::container_deleted("scratch"));
  return events;
}

// The event types added after the first format.
std::vector<proto::Event> scenario2() {
  std::vector<proto::Event> events;
  auto add = [&](proto::Event e) {
    e.set_sequence(events.size() + 1);
    e.set_time_unix_nanos(1'700'000'000'000'000'000 + static_cast<int64_t>(events.size()) * 1000);
    e.set_request_id("REQ" + std::to_string(events.size() + 1));
    e.set_principal("AKIDGOLDEN");
    e.set_spoke_id("local");
    events.push_back(std::move(e));
  };
  auto identity = [](const std::string& tenant) {
    proto::Event e;
    e.set_tenant(tenant);
    return e;
  };
  {
    proto::Event e = identity("acme");
    e.mutable_tenant_created()->mutable_quotas()->set_max_bytes(1 << 20);
    e.mutable_tenant_created()->mutable_quotas()->set_max_buckets(3);
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.mutable_user_created()->set_user("alice");
    e.mutable_user_created()->set_role("admin");
    add(e);
  }
  {
    proto::Event e = identity("acme");
    auto* k = e.mutable_access_key_created();
    k->set_access_key("VKGOLDEN0000000001");
    k->set_user("alice");
    k->mutable_secret()->set_key_id("m1");
    k->mutable_secret()->set_nonce(std::string(12, '\x01'));
    k->mutable_secret()->set_ciphertext(std::string(40, '\x02'));
    k->mutable_secret()->set_tag(std::string(16, '\x03'));
    k->mutable_rate_limit()->set_requests_per_second(100);
    add(e);
  }
  add(testing::container_created("media", "acme"));
  {
    proto::Event e = identity("acme");
    e.set_container("media");
    e.mutable_grant_changed()->set_user("alice");
    e.mutable_grant_changed()->set_read(true);
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.set_container("media");
    e.mutable_container_acl_changed()->set_acl("public-read");
    add(e);
  }
  {
    proto::Event e = testing::committed("a.txt", "00000003aaaaaaaaaaaaaaaaaaaaaaaa", 100, "media",
                                        "acme");
    auto* tag = e.mutable_artifact_committed()->add_tags();
    tag->set_key("team");
    tag->set_value("red");
    auto* sum = e.mutable_artifact_committed()->add_checksums();
    sum->set_algorithm("CRC32");
    sum->set_value("AAAAAA==");
    sum->set_type("FULL_OBJECT");
    add(e);
  }
  {
    // A copy sharing a.txt's blob.
    proto::Event e = testing::committed("b.txt", "00000003aaaaaaaaaaaaaaaaaaaaaaaa", 100, "media",
                                        "acme");
    e.mutable_artifact_committed()->set_shares_blobs(true);
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.set_container("media");
    e.set_path("b.txt");
    e.mutable_artifact_tagged();
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.set_container("media");
    e.set_path("big.bin");
    e.mutable_upload_created()->set_upload_id("u1");
    e.mutable_upload_created()->mutable_artifact()->set_content_type("application/zip");
    add(e);
  }
  for (uint32_t n = 1; n <= 3; ++n) {
    proto::Event e = identity("acme");
    e.set_container("media");
    e.set_path("big.bin");
    auto* p = e.mutable_part_uploaded();
    p->set_upload_id("u1");
    p->set_part_number(n);
    p->mutable_part()->set_blob_id("0000000" + std::to_string(3 + n) + "bbbbbbbbbbbbbbbbbbbbbbbb");
    p->mutable_part()->set_driver("local");
    p->mutable_part()->set_size(1000 * n);
    p->mutable_part()->set_etag("etag" + std::to_string(n));
    add(e);
  }
  {
    // Completes with parts 1 and 3; part 2 is released.
    proto::Event e = identity("acme");
    e.set_container("media");
    e.set_path("big.bin");
    auto* a = e.mutable_artifact_committed();
    a->set_etag("multipart-2");
    a->set_completed_upload_id("u1");
    for (uint32_t n : {1u, 3u}) {
      auto* seg = a->add_segments();
      seg->set_blob_id("0000000" + std::to_string(3 + n) + "bbbbbbbbbbbbbbbbbbbbbbbb");
      seg->set_driver("local");
      seg->set_size(1000 * n);
      seg->set_etag("etag" + std::to_string(n));
    }
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.set_container("media");
    e.set_path("gone.bin");
    e.mutable_upload_created()->set_upload_id("u2");
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.set_container("media");
    e.set_path("gone.bin");
    e.mutable_upload_aborted()->set_upload_id("u2");
    e.mutable_upload_aborted()->set_reason("abandoned");
    add(e);
  }
  add(testing::deleted("a.txt", "media", "acme"));
  {
    proto::Event e = identity("acme");
    e.mutable_access_key_changed()->set_access_key("VKGOLDEN0000000001");
    e.mutable_access_key_changed()->set_enabled(false);
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.mutable_access_denied()->set_action("PutObject");
    e.mutable_access_denied()->set_resource("/media/x");
    e.mutable_access_denied()->set_reason("no write grant");
    add(e);
  }
  {
    proto::Event e = identity("acme");
    auto* r = e.mutable_secrets_reencrypted();
    r->set_key_id("m2");
    auto* s = r->add_secrets();
    s->set_access_key("VKGOLDEN0000000001");
    s->mutable_secret()->set_key_id("m2");
    s->mutable_secret()->set_nonce(std::string(12, '\x04'));
    s->mutable_secret()->set_ciphertext(std::string(40, '\x05'));
    s->mutable_secret()->set_tag(std::string(16, '\x06'));
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.mutable_tenant_quotas_changed()->mutable_quotas()->set_max_objects(10);
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.mutable_user_created()->set_user("bob");
    e.mutable_user_created()->set_role("member");
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.mutable_user_deleted()->set_user("bob");
    add(e);
  }
  {
    proto::Event e = identity("acme");
    e.mutable_access_key_deleted()->set_access_key("VKGOLDEN0000000001");
    add(e);
  }
  return events;
}

// The tiering event types: a single-blob and a multipart artifact moved from "hot" to "cold";
// an artifact on "frozen" restored, extended, expired, restored again and deleted with its copy;
// and two left with a restored copy and a restore under way.
std::vector<proto::Event> scenario3() {
  using testing::segment;
  std::vector<proto::Event> events;
  auto add = [&](proto::Event e) {
    e.set_sequence(events.size() + 1);
    e.set_time_unix_nanos(1'700'000'000'000'000'000 + static_cast<int64_t>(events.size()) * 1000);
    e.set_request_id("REQ" + std::to_string(events.size() + 1));
    e.set_principal("AKIDGOLDEN");
    e.set_spoke_id("local");
    events.push_back(std::move(e));
  };
  const std::string log_hot = "00000010aaaaaaaaaaaaaaaaaaaaaaaa";
  const std::string log_cold = "00000020aaaaaaaaaaaaaaaaaaaaaaaa";
  const std::vector<proto::Segment> tar_hot = {
      segment("00000011bbbbbbbbbbbbbbbbbbbbbbbb", 5000, "local", "etag1"),
      segment("00000012bbbbbbbbbbbbbbbbbbbbbbbb", 3000, "local", "etag2")};
  const std::vector<proto::Segment> tar_cold = {
      segment("00000021bbbbbbbbbbbbbbbbbbbbbbbb", 5000, "cold", "etag1"),
      segment("00000022bbbbbbbbbbbbbbbbbbbbbbbb", 3000, "cold", "etag2")};
  // An artifact written on the "frozen" tier, whose reads need a restore.
  auto frozen = [](const std::string& path, const std::string& blob, uint64_t size) {
    proto::Event e = testing::committed(path, blob, size, "archive");
    e.mutable_artifact_committed()->set_tier("frozen");
    e.mutable_artifact_committed()->set_driver("frozen");
    return e;
  };
  const std::string vault = "00000030cccccccccccccccccccccccc";
  const std::vector<proto::Segment> vault_from = {segment(vault, 700, "frozen")};

  add(testing::container_created("archive"));
  add(testing::committed("logs/a.log", log_hot, 1000, "archive"));
  add(testing::multipart_committed("logs/b.tar", tar_hot, "archive"));
  add(testing::migrated("logs/a.log", {segment(log_hot, 1000)}, log_cold, "cold", "hot", "cold",
                        "archive"));
  add(testing::migrated_segments("logs/b.tar", tar_hot, tar_cold, "hot", "cold", "archive"));
  add(frozen("vault/c.bin", vault, 700));
  add(testing::restore_requested("vault/c.bin", 2, "frozen", "archive"));
  add(testing::restored("vault/c.bin", vault_from, "00000031cccccccccccccccccccccccc", "local",
                        "archive"));
  add(testing::restore_requested("vault/c.bin", 5, "frozen", "archive"));  // extends the copy
  add(testing::restore_expired("vault/c.bin", "archive"));
  add(testing::restore_requested("vault/c.bin", 1, "frozen", "archive"));
  add(testing::restored("vault/c.bin", vault_from, "00000032cccccccccccccccccccccccc", "local",
                        "archive"));
  add(testing::deleted("vault/c.bin", "archive"));  // releases the copy with the artifact
  // Left as they are, so the views hold a restored copy and a restore under way.
  const std::string kept = "00000040dddddddddddddddddddddddd";
  add(frozen("vault/d.bin", kept, 300));
  add(testing::restore_requested("vault/d.bin", 3, "frozen", "archive"));
  add(testing::restored("vault/d.bin", {segment(kept, 300, "frozen")},
                        "00000041dddddddddddddddddddddddd", "local", "archive"));
  add(frozen("vault/e.bin", "00000050eeeeeeeeeeeeeeeeeeeeeeee", 400));
  add(testing::restore_requested("vault/e.bin", 4, "frozen", "archive"));
  return events;
}

std::string dump_views(const Store& store, const std::vector<Cf>& cfs) {
  std::ostringstream out;
  for (const Cf cf : cfs) {
    std::unique_ptr<rocksdb::Iterator> it(
        store.db()->NewIterator(rocksdb::ReadOptions(), store.cf(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out << cf_name(cf) << ' ' << to_hex({it->key().data(), it->key().size()}) << ' '
          << to_hex({it->value().data(), it->value().size()}) << '\n';
    }
  }
  return out.str();
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Projects the committed events of `name`, and compares the views on `cfs`.
void check_scenario(const std::string& name, const std::vector<proto::Event>& events,
                    const std::vector<Cf>& cfs) {
  const bool write = std::getenv("VAULTAIRE_WRITE_GOLDEN") != nullptr;
  if (write) {
    std::ofstream events_out(kGolden / (name + ".events.hex"), std::ios::binary);
    for (const auto& e : events) {
      events_out << to_hex(e.SerializeAsString()) << '\n';
    }
  }
  std::ifstream in(kGolden / (name + ".events.hex"));
  ASSERT_TRUE(in.good()) << "missing " << (kGolden / (name + ".events.hex"));

  testing::TempDir dir;
  auto store = Store::open(dir.path() / "db", OpenMode::kPrimary).value();
  ViewTxn txn(*store);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    const auto bytes = from_hex(line);
    ASSERT_TRUE(bytes.has_value()) << name << " line " << count + 1;
    proto::Event event;
    ASSERT_TRUE(event.ParseFromString(*bytes)) << name << " line " << count + 1;
    ASSERT_TRUE(project(event, txn).has_value()) << name << " line " << count + 1;
    ++count;
  }
  ASSERT_TRUE(store->db()->Write(rocksdb::WriteOptions(), &txn.flush()).ok());
  EXPECT_EQ(count, static_cast<int>(events.size()));

  const std::string views = dump_views(*store, cfs);
  if (write) {
    std::ofstream(kGolden / (name + ".views.txt"), std::ios::binary) << views;
  }
  EXPECT_EQ(views, read_file(kGolden / (name + ".views.txt")));
}

TEST(GoldenTest, CommittedSamplesDecodeAndProjectToTheSameViews) {
  check_scenario("scenario", scenario(), {Cf::kContainers, Cf::kArtifacts, Cf::kBlobs});
}

TEST(GoldenTest, LaterEventTypesDecodeAndProjectToTheSameViews) {
  check_scenario("scenario2", scenario2(), {kViewCfs.begin(), kViewCfs.end()});
}

TEST(GoldenTest, TieringEventTypesDecodeAndProjectToTheSameViews) {
  check_scenario("scenario3", scenario3(), {kViewCfs.begin(), kViewCfs.end()});
}

TEST(GoldenTest, EventOfANewerBuildIsRefusedNotMisread) {
  // Field 99 in the payload range stands for an event type this build does not know.
  proto::Event probe;
  probe.set_tenant("t1");
  std::string unknown = probe.SerializeAsString();
  unknown += std::string("\x9a\x06\x00", 3);  // field 99, length-delimited, empty
  proto::Event event;
  ASSERT_TRUE(event.ParseFromString(unknown));
  EXPECT_EQ(event.payload_case(), proto::Event::PAYLOAD_NOT_SET);

  testing::TempDir dir;
  auto store = Store::open(dir.path() / "db", OpenMode::kPrimary).value();
  ViewTxn txn(*store);
  const auto r = project(event, txn);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(is(r.error(), Errc::kUnknownEvent));
}

}  // namespace
}  // namespace vaultaire::events

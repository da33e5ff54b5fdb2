// Golden samples: encoded events committed to the repository, which every later build must
// decode and project into exactly the same view bytes. A change that breaks this test changed
// the meaning of the log: fields are added, never renumbered, retyped or reused.
//
//   golden/scenario.events.hex   one serialized proto::Event per line (hex), in log order
//   golden/scenario.views.txt    the views after projecting them: "cf key-hex value-hex" lines
//
// To extend the scenario (a new event type): set VAULTAIRE_WRITE_GOLDEN=1, run this test once,
// review and commit the new files. Existing lines are never changed.

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

std::string dump_views(const Store& store) {
  std::ostringstream out;
  for (const Cf cf : kViewCfs) {
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

TEST(GoldenTest, CommittedSamplesDecodeAndProjectToTheSameViews) {
  if (std::getenv("VAULTAIRE_WRITE_GOLDEN") != nullptr) {
    std::ofstream events_out(kGolden / "scenario.events.hex", std::ios::binary);
    for (const auto& e : scenario()) {
      events_out << to_hex(e.SerializeAsString()) << '\n';
    }
  }
  std::ifstream in(kGolden / "scenario.events.hex");
  ASSERT_TRUE(in.good()) << "missing " << (kGolden / "scenario.events.hex");

  testing::TempDir dir;
  auto store = Store::open(dir.path() / "db", OpenMode::kPrimary).value();
  ViewTxn txn(*store);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    const auto bytes = from_hex(line);
    ASSERT_TRUE(bytes.has_value()) << "line " << count + 1;
    proto::Event event;
    ASSERT_TRUE(event.ParseFromString(*bytes)) << "line " << count + 1;
    ASSERT_TRUE(project(event, txn).has_value()) << "line " << count + 1;
    ++count;
  }
  ASSERT_TRUE(store->db()->Write(rocksdb::WriteOptions(), &txn.flush()).ok());
  EXPECT_GE(count, 9);

  const std::string views = dump_views(*store);
  if (std::getenv("VAULTAIRE_WRITE_GOLDEN") != nullptr) {
    std::ofstream(kGolden / "scenario.views.txt", std::ios::binary) << views;
  }
  EXPECT_EQ(views, read_file(kGolden / "scenario.views.txt"));
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

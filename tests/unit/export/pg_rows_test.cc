#include "export/internal/pg_rows.h"

#include <gtest/gtest.h>

#include "events/event_factory.h"
#include "events/event_json.h"

namespace vaultaire::exports::internal {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(PgTextTest, KeepsValidUtf8) {
  const std::string text = "plain ünïcødé ✓ 𝄞 tab\tnewline\n";
  EXPECT_EQ(pg_text(text), text);
}

TEST(PgTextTest, ReplacesNulAndInvalidBytes) {
  EXPECT_EQ(pg_text(std::string("a\0b", 3)), "a" + kReplacement + "b");
  EXPECT_EQ(pg_text("\xFF"), kReplacement);
  EXPECT_EQ(pg_text("x\xC3"), "x" + kReplacement);                                 // truncated
  EXPECT_EQ(pg_text("\xC0\xAF"), kReplacement + kReplacement);                     // overlong
  EXPECT_EQ(pg_text("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);  // surrogate
  EXPECT_EQ(pg_text("\xF4\x90\x80\x80").size(), 4 * kReplacement.size());          // > U+10FFFF
  EXPECT_EQ(pg_text("\xE2\x9C\x93\xFE"), "\xE2\x9C\x93" + kReplacement);
}

TEST(SanitizeTest, CleansKeysAndNestedValues) {
  nlohmann::json j = {{"k\xFF", {{"inner", std::string("a\0", 2)}}}, {"list", {"ok", "\xC3"}}};
  sanitize(j);
  EXPECT_EQ(j.dump(), nlohmann::json({{"k" + kReplacement, {{"inner", "a" + kReplacement}}},
                                      {"list", {"ok", kReplacement}}})
                          .dump());
}

TEST(PgTimestampTest, TruncatesToMicrosecondsInUtc) {
  EXPECT_EQ(pg_timestamp(0), "1970-01-01 00:00:00.000000+00");
  EXPECT_EQ(pg_timestamp(1'763'712'000'123'456'789), "2025-11-21 08:00:00.123456+00");
  EXPECT_EQ(pg_timestamp(-1), "1969-12-31 23:59:59.999999+00");
}

TEST(EventRowTest, CommittedHasItsColumnsAndTheWholeEventAsPayload) {
  proto::Event e = testing::committed("dir/a.txt", "blob-1", 1234);
  e.set_sequence(7);
  e.set_time_unix_nanos(1'763'712'000'000'001'999);
  e.set_principal("AKIA");
  const nlohmann::json row = event_row(e);
  EXPECT_EQ(row["seq"], 7);
  EXPECT_EQ(row["time"], "2025-11-21 08:00:00.000001+00");
  EXPECT_EQ(row["time_unix_nanos"], 1'763'712'000'000'001'999);
  EXPECT_EQ(row["type"], "artifact_committed");
  EXPECT_EQ(row["tenant"], "t1");
  EXPECT_EQ(row["container"], "bucket");
  EXPECT_EQ(row["path"], "dir/a.txt");
  EXPECT_EQ(row["principal"], "AKIA");
  EXPECT_EQ(row["size"], 1234);
  EXPECT_EQ(row["etag"], "etag-dir/a.txt");
  EXPECT_EQ(row["tier"], "hot");
  EXPECT_TRUE(row["bytes_sent"].is_null());
  EXPECT_EQ(row["payload"], events::event_to_json(e));
}

TEST(EventRowTest, ColumnsAbsentFromThePayloadAreNull) {
  proto::Event e = testing::deleted("gone");
  e.set_sequence(3);
  const nlohmann::json row = event_row(e);
  EXPECT_TRUE(row["size"].is_null());
  EXPECT_TRUE(row["etag"].is_null());
  EXPECT_TRUE(row["tier"].is_null());
  EXPECT_EQ(row["type"], "artifact_deleted");
}

TEST(EventRowTest, ReadHasBytesSentAndMigrationItsTargetTier) {
  proto::Event read;
  read.set_path("p");
  read.mutable_artifact_read()->set_bytes_sent(10);
  read.mutable_artifact_read()->set_size(100);
  read.mutable_artifact_read()->set_tier("warm");
  const nlohmann::json r = event_row(read);
  EXPECT_EQ(r["bytes_sent"], 10);
  EXPECT_EQ(r["size"], 100);
  EXPECT_EQ(r["tier"], "warm");

  proto::Event moved;
  moved.mutable_artifact_migrated()->set_from_tier("hot");
  moved.mutable_artifact_migrated()->set_to_tier("cold");
  EXPECT_EQ(event_row(moved)["tier"], "cold");
}

TEST(EventRowTest, InvalidUtf8IsReplacedEverywhere) {
  proto::Event e = testing::committed(std::string("bad\xFF\0", 5));
  e.set_user_agent("agent\xC3");
  const nlohmann::json row = event_row(e);
  EXPECT_EQ(row["path"], "bad" + kReplacement + kReplacement);
  EXPECT_EQ(row["user_agent"], "agent" + kReplacement);
  EXPECT_EQ(row["payload"]["path"], row["path"]);
  // Dumps without throwing: what the exporter sends is valid JSON and valid UTF-8.
  EXPECT_NO_THROW((void)row.dump());
}

TEST(UsageRowTest, HasEveryColumn) {
  billing::UsageRow u;
  u.tenant = "t";
  u.hour = 490'000;
  u.tier = "hot";
  u.byte_seconds = 3'600'000;
  u.objects = 2;
  u.bytes = 1000;
  u.counts.set_requests_a(3);
  u.counts.set_requests_b(4);
  u.counts.set_deletes(1);
  const nlohmann::json row = usage_row(u);
  EXPECT_EQ(row["hour"], pg_timestamp(int64_t{490'000} * billing::kNanosPerHour));
  EXPECT_EQ(row["byte_seconds"], 3'600'000);
  EXPECT_EQ(row["requests_a"], 3);
  EXPECT_EQ(row["requests_b"], 4);
  EXPECT_EQ(row["deletes"], 1);
  EXPECT_EQ(row["restores"], 0);
  EXPECT_EQ(row.size(), 16u);
}

TEST(ParseDsnTest, AddsDefaultsAndKeepsWhatIsGiven) {
  std::string error;
  auto dsn = parse_dsn("host=db.example port=5433 dbname=vault connect_timeout=3", error);
  ASSERT_TRUE(dsn) << error;
  EXPECT_NE(dsn->conninfo.find("connect_timeout='3'"), std::string::npos);
  EXPECT_NE(dsn->conninfo.find("application_name='vaultaire-export'"), std::string::npos);
  EXPECT_NE(dsn->conninfo.find("keepalives_idle='30'"), std::string::npos);
  EXPECT_EQ(dsn->description, "host=db.example port=5433 dbname=vault");
}

TEST(ParseDsnTest, AcceptsUrisAndNeverDescribesThePassword) {
  std::string error;
  auto dsn = parse_dsn("postgresql://alice:s3cr%27t@localhost:5432/vault", error);
  ASSERT_TRUE(dsn) << error;
  EXPECT_NE(dsn->conninfo.find("password='s3cr\\'t'"), std::string::npos);
  EXPECT_EQ(dsn->description.find("s3cr"), std::string::npos);
  EXPECT_NE(dsn->description.find("user=alice"), std::string::npos);
}

TEST(ParseDsnTest, RefusesWhatLibpqCannotParse) {
  std::string error;
  auto dsn = parse_dsn("this is not a dsn", error);
  ASSERT_FALSE(dsn);
  EXPECT_TRUE(is(dsn.error(), Errc::kInvalidArgument));
  EXPECT_NE(error.find("missing \"=\""), std::string::npos) << error;
  EXPECT_FALSE(parse_dsn("unknown_option=1", error));
}

}  // namespace
}  // namespace vaultaire::exports::internal

#include "export/internal/pg_rows.h"

#include <gtest/gtest.h>

#include "events/event_factory.h"
#include "events/event_json.h"

namespace vaultaire::exports::internal {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(PgJsonTest, IsTheCompactDumpOfValidText) {
  const nlohmann::json j = {{"path", "plain ünïcødé ✓ 𝄞 tab\tnewline\n"}, {"n", 1}};
  EXPECT_EQ(pg_json(j), j.dump());
}

TEST(PgJsonTest, ReplacesNulAndInvalidBytes) {
  const std::string text = pg_json({{"a", std::string("x\0y", 3)}, {"b\xFF", "z\xC3"}});
  EXPECT_EQ(text.find("\\u0000"), std::string::npos);
  const nlohmann::json back = nlohmann::json::parse(text);  // valid UTF-8, or parse throws
  EXPECT_EQ(back["a"], "x" + kReplacement + "y");
  EXPECT_EQ(back["b" + kReplacement], "z" + kReplacement);
}

TEST(PgJsonTest, KeepsAnEscapedBackslashBeforeU0000) {
  // The six characters \u0000 of the original text, not a NUL: they stay.
  const nlohmann::json j = {{"k", "a\\u0000b"}, {"nul", std::string("\0", 1)}};
  const nlohmann::json back = nlohmann::json::parse(pg_json(j));
  EXPECT_EQ(back["k"], "a\\u0000b");
  EXPECT_EQ(back["nul"], kReplacement);
}

TEST(PgTimestampTest, TruncatesToMicrosecondsInUtc) {
  EXPECT_EQ(pg_timestamp(0), "1970-01-01 00:00:00.000000+00");
  EXPECT_EQ(pg_timestamp(1'763'712'000'123'456'789), "2025-11-21 08:00:00.123456+00");
  EXPECT_EQ(pg_timestamp(-1), "1969-12-31 23:59:59.999999+00");
}

TEST(EventJsonTest, IsEventToJson) {
  proto::Event e = testing::committed("dir/a.txt", "blob-1", 1234);
  e.set_sequence(7);
  e.set_time_unix_nanos(1'763'712'000'000'001'999);
  std::string out = "[";
  append_event_json(e, out);
  out += ",";
  append_event_json(testing::deleted("gone"), out);
  out += "]";
  const nlohmann::json back = nlohmann::json::parse(out);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0], events::event_to_json(e));
  EXPECT_EQ(back[1], events::event_to_json(testing::deleted("gone")));
}

TEST(EventJsonTest, InvalidUtf8IsReplaced) {
  proto::Event e = testing::committed(std::string("bad\xFF\0", 5));
  e.set_user_agent("agent\xC3");
  std::string out;
  append_event_json(e, out);
  const nlohmann::json back = nlohmann::json::parse(out);
  EXPECT_EQ(back["path"], "bad" + kReplacement + kReplacement);
  EXPECT_EQ(back["user_agent"], "agent" + kReplacement);
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

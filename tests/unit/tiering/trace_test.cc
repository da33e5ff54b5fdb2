#include "tiering/trace.h"

#include <gtest/gtest.h>

namespace vaultaire::tiering {
namespace {

TEST(TraceTest, ParsesTheCsvFormat) {
  const auto trace = parse_trace(
      "day,op,key,size\n"
      "# a comment\n"
      "0,PUT,logs/a.txt,1024\n"
      "0,GET,logs/a.txt,\n"
      "2,GET,reports/q1, 2025.pdf,\r\n"
      "\n"
      "5,DELETE,logs/a.txt,0\n");
  ASSERT_TRUE(trace.has_value());
  ASSERT_EQ(trace->events.size(), 4u);
  EXPECT_EQ(trace->days, 6);
  EXPECT_EQ(trace->events[0].op, TraceOp::kPut);
  EXPECT_EQ(trace->events[0].size, 1024u);
  EXPECT_EQ(trace->events[1].op, TraceOp::kGet);
  EXPECT_EQ(trace->events[2].key, "reports/q1, 2025.pdf");  // commas stay in keys
  EXPECT_EQ(trace->events[3].op, TraceOp::kDelete);
}

TEST(TraceTest, FormatsWhatItParses) {
  Trace trace;
  trace.days = 30;  // longer than its events
  trace.events = {{0, TraceOp::kPut, "a/b,c", 7}, {3, TraceOp::kGet, "a/b,c", 0}};
  const std::string csv = format_trace(trace);
  EXPECT_EQ(csv, "day,op,key,size\n# days=30\n0,PUT,a/b,c,7\n3,GET,a/b,c,\n");
  const auto back = parse_trace(csv);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->days, 30);
  ASSERT_EQ(back->events.size(), 2u);
  EXPECT_EQ(back->events[0].key, "a/b,c");
  EXPECT_EQ(back->events[1].day, 3);
}

TEST(TraceTest, ReportsWhereItFails) {
  TraceError error;
  EXPECT_FALSE(parse_trace("0,PUT,a,1\n1,COPY,a,\n", &error).has_value());
  EXPECT_EQ(error.line, 2u);
  EXPECT_EQ(error.message, "op is not PUT, GET or DELETE");
  EXPECT_FALSE(parse_trace("3,GET,a,\n2,GET,a,\n", &error).has_value());
  EXPECT_EQ(error.line, 2u);
  EXPECT_FALSE(parse_trace("0,PUT,a,\n", &error).has_value());
  EXPECT_EQ(error.message, "PUT needs a size in bytes");
  EXPECT_FALSE(parse_trace("-1,GET,a,\n", &error).has_value());
  EXPECT_FALSE(parse_trace("0,GET\n", &error).has_value());
  EXPECT_FALSE(parse_trace("0,GET,,\n", &error).has_value());
}

}  // namespace
}  // namespace vaultaire::tiering

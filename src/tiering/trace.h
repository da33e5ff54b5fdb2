#pragma once

// Access traces for the simulator: what happened to which artifact on which day.
//
// CSV, one event per line: `day,op,key,size`.
//   day   whole days from the start of the trace (0, 1, ...), never decreasing
//   op    PUT, GET or DELETE
//   key   the artifact's path; it may contain commas (the key is everything between the second
//         comma and the last one), not newlines
//   size  bytes; required for PUT, ignored (may be empty) for GET and DELETE
// A first line `day,op,key,size` is a header and skipped; so are empty lines and lines starting
// with '#', except `# days=N`, which makes the trace cover at least N days. A PUT of a live key
// overwrites it (the old version is removed that day); a GET or DELETE of a key that is not live is
// counted and ignored. docs/tiering.md has an example.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"

namespace vaultaire::tiering {

enum class TraceOp : uint8_t { kPut, kGet, kDelete };

struct TraceEvent {
  int64_t day = 0;
  TraceOp op = TraceOp::kGet;
  std::string key;
  uint64_t size = 0;  // PUT only
};

struct Trace {
  std::vector<TraceEvent> events;  // days never decrease
  int64_t days = 0;                // days the trace covers: at least the last event's day + 1
};

struct TraceError {
  size_t line = 0;  // 1-based
  std::string message;
};

// Parses the CSV above. On failure returns kInvalidArgument and, when `error` is given, where
// and why.
[[nodiscard]] Result<Trace> parse_trace(std::string_view csv, TraceError* error = nullptr);

// The CSV form of `trace`, with the header line; parse_trace(format_trace(t)) gives t back.
std::string format_trace(const Trace& trace);

std::string_view op_name(TraceOp op);

}  // namespace vaultaire::tiering

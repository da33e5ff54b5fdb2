#include "tiering/trace.h"

#include <algorithm>
#include <charconv>

namespace vaultaire::tiering {
namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) {
    return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string_view op_name(TraceOp op) {
  switch (op) {
    case TraceOp::kPut:
      return "PUT";
    case TraceOp::kGet:
      return "GET";
    case TraceOp::kDelete:
      return "DELETE";
  }
  return "?";
}

Result<Trace> parse_trace(std::string_view csv, TraceError* error) {
  Trace trace;
  size_t line_number = 0;
  const auto fail = [&](std::string message) -> Result<Trace> {
    if (error) {
      *error = {line_number, std::move(message)};
    }
    return Errc::kInvalidArgument;
  };
  while (!csv.empty()) {
    const size_t eol = csv.find('\n');
    std::string_view line = csv.substr(0, eol);
    csv = eol == std::string_view::npos ? std::string_view() : csv.substr(eol + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.starts_with("# days=")) {
      int64_t days = 0;
      if (!parse_number(line.substr(7), days) || days < 0) {
        return fail("# days= needs a whole number >= 0");
      }
      trace.days = std::max(trace.days, days);
      continue;
    }
    if (line.empty() || line.front() == '#' || (line_number == 1 && line == "day,op,key,size")) {
      continue;
    }
    const size_t first = line.find(',');
    const size_t second = first == std::string_view::npos ? first : line.find(',', first + 1);
    const size_t last = line.rfind(',');
    if (second == std::string_view::npos || last <= second) {
      return fail("expected day,op,key,size");
    }
    TraceEvent event;
    if (!parse_number(line.substr(0, first), event.day) || event.day < 0) {
      return fail("day is not a whole number >= 0");
    }
    if (!trace.events.empty() && event.day < trace.events.back().day) {
      return fail("days must not decrease");
    }
    const std::string_view op = line.substr(first + 1, second - first - 1);
    if (op == "PUT") {
      event.op = TraceOp::kPut;
    } else if (op == "GET") {
      event.op = TraceOp::kGet;
    } else if (op == "DELETE") {
      event.op = TraceOp::kDelete;
    } else {
      return fail("op is not PUT, GET or DELETE");
    }
    event.key = std::string(line.substr(second + 1, last - second - 1));
    if (event.key.empty()) {
      return fail("empty key");
    }
    const std::string_view size = line.substr(last + 1);
    if (event.op == TraceOp::kPut && !parse_number(size, event.size)) {
      return fail("PUT needs a size in bytes");
    }
    trace.days = std::max(trace.days, event.day + 1);
    trace.events.push_back(std::move(event));
  }
  return trace;
}

std::string format_trace(const Trace& trace) {
  std::string out = "day,op,key,size\n# days=" + std::to_string(trace.days) + "\n";
  for (const TraceEvent& e : trace.events) {
    out += std::to_string(e.day);
    out += ',';
    out += op_name(e.op);
    out += ',';
    out += e.key;
    out += ',';
    if (e.op == TraceOp::kPut) {
      out += std::to_string(e.size);
    }
    out += '\n';
  }
  return out;
}

}  // namespace vaultaire::tiering

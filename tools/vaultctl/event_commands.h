#pragma once

// vaultctl's `events export` and `events state`, and what every `events ...` command shares:
// opening a data directory's store as a RocksDB secondary instance (so the server may run),
// times given on the command line, and the progress bar.
//
//   events export --format jsonl|csv|s3-event [filters] [--output FILE]: a stream of the log's
//     events, filtered, in one of three shapes (docs/event-log.md, "Exporting the log").
//   events state --container C --at SEQ|TIME: a container exactly as it was at that point of
//     the log, rebuilt by replaying the log into a temporary store.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "events/store.h"

namespace CLI {
class App;
}  // namespace CLI

namespace vaultaire::vaultctl {

// A private folder in $TMPDIR (or /tmp), removed with everything in it on destruction: the
// secondary instance's own files, replays. Throws std::runtime_error when it cannot be made.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// DATA_DIR/db opened as a secondary instance, its bookkeeping under `scratch` (which must
// outlive the store). Throws std::runtime_error when there is no store or it cannot be opened.
std::unique_ptr<events::Store> open_secondary(const std::filesystem::path& data_dir,
                                              const ScratchDir& scratch);

// An instant given on the command line: RFC 3339 / ISO 8601, "2026-11-21T10:00:00Z", with an
// optional fraction, 'Z' or an offset (+02:00, -0500; none means UTC), seconds optional
// ("2026-11-21T10:00Z"), or a date alone ("2026-11-21", midnight UTC). It covers a span at the
// precision it was written with: `first` is its first nanosecond, `last` its last one (a date
// covers the whole day, "...T10:00:00Z" the whole second, "...T10:00:00.123Z" the whole
// millisecond), so `--until` and `--at` include the events a printed time shows.
struct TimeSpan {
  int64_t first = 0;  // unix nanoseconds
  int64_t last = 0;
};
std::optional<TimeSpan> parse_time_arg(std::string_view text);

// `vaultctl events export|state`: adds both to `events` and runs the one chosen. `events`
// keeps pointers into this object: it must not outlive it.
class EventCommands {
 public:
  explicit EventCommands(CLI::App& events);
  EventCommands(const EventCommands&) = delete;
  EventCommands& operator=(const EventCommands&) = delete;

  // After parsing: whether the command line chose `export` or `state`.
  bool chosen() const;

  // Runs the chosen command; `json` is the global --json. Returns the exit code: 0, 1 on a
  // usage mistake found after parsing or an unreadable log, 2 when `state` finds no such
  // container at that point, 130 when interrupted. Throws std::runtime_error on failures
  // main() reports as "vaultctl: <message>" (exit 1).
  int run(bool json) const;

 private:
  int run_export() const;
  int run_state(bool json) const;

  CLI::App* export_ = nullptr;
  CLI::App* state_ = nullptr;

  std::string data_dir_ = "./data";
  // export
  std::string format_ = "jsonl";
  std::optional<uint64_t> from_seq_;
  std::optional<uint64_t> until_seq_;
  std::string since_;
  std::string until_;
  std::string tenant_;
  std::string container_;
  std::string types_;
  std::string output_;
  std::string region_ = "us-east-1";
  std::string config_;  // the server's configuration file, for the tiers' storage classes
  // state
  std::string at_;
  std::string prefix_;
  bool json_ = false;
};

}  // namespace vaultaire::vaultctl

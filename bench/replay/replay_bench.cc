// Log replay and export speed ("the log as a product"): one log of N events (default 10 million,
// written through EventLog, see log_generator.h), then in the same run, over that same log:
//   raw      RocksDB iteration of the log column family, every key and value byte read
//   parse    the same iteration with each event parsed (events::for_each_event)
//   replay   events::replay() into a fresh store: every view rebuilt (what `vaultctl events
//            verify` does before digesting)
//   jsonl    event_to_json() + dump + "\n" of every event to a file (default /dev/null) through
//            a 1 MiB stdio buffer, as `vaultctl events export --format jsonl` writes them
//   postgres PostgresExporter::export_pending() into the database of --pg-dsn, which must not
//            hold this log yet (the export resumes after its export_state row's last_seq)
//   raw      the raw iteration again, last
// Each rate is stated as a ratio to the faster raw iteration. The target of the issue: replay at
// least 25% of the raw rate.
//
//   replay_bench [--events N] [--log-dir DIR] [--work-dir DIR] [--pg-dsn DSN] [--pg-seconds S]
//                [--jsonl-out FILE] [--verify] [--keep] [--json] [--json-file FILE]
//
// --log-dir reuses the log already in DIR (or generates it there and keeps it). Prints a
// markdown table (docs/benchmarks.md quotes it) or, with --json, JSON. Progress goes to stderr.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/logging.h"
#include "events/event_json.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "events/store.h"
#include "export/postgres_exporter.h"
#include "log_generator.h"

namespace {

namespace fs = std::filesystem;
namespace events = vaultaire::events;
using SteadyClock = std::chrono::steady_clock;

// Where every pass's checksum ends up, so the compiler cannot drop the work.
std::atomic<uint64_t> g_sink{0};

struct Row {
  std::string key;   // "raw", "parse", ...
  std::string name;  // as the table shows it
  uint64_t events = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // user + system of the whole process (RocksDB's threads included)
  uint64_t bytes = 0;      // bytes read (raw) or written (jsonl)
  bool reference = false;  // a raw pass: a candidate for the reference rate
  double rate() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
  double cpu_micros_per_event() const {
    return events > 0 ? cpu_seconds * 1e6 / static_cast<double>(events) : 0;
  }
};

double cpu_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Measures one pass: `fn` fills events and bytes of the row.
template <typename Fn>
Row measure(std::string key, std::string name, Fn&& fn) {
  std::fprintf(stderr, "pass: %s\n", name.c_str());
  Row row{.key = std::move(key), .name = std::move(name)};
  const double cpu0 = cpu_now();
  const auto start = SteadyClock::now();
  fn(row);
  row.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  row.cpu_seconds = cpu_now() - cpu0;
  std::fprintf(stderr, "  %llu events in %.2f s: %.0f events/s\n",
               static_cast<unsigned long long>(row.events), row.seconds, row.rate());
  return row;
}

[[noreturn]] void fail(const std::string& what, const boost::system::error_code& ec) {
  std::cerr << "replay_bench: " << what << ": " << ec.message() << '\n';
  std::exit(1);
}

// Reads every byte it is given: the least a consumer of the log does.
uint64_t touch(const char* p, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, 8);
    acc += w;
  }
  for (; i < n; ++i) {
    acc += static_cast<unsigned char>(p[i]);
  }
  return acc;
}

// The log as the server leaves it: memtables flushed, compactions done, so every pass reads
// the same files.
void settle(const events::Store& store) {
  for (int i = 0; i < events::kCfCount; ++i) {
    const rocksdb::Status s =
        store.db()->Flush(rocksdb::FlushOptions(), store.cf(static_cast<events::Cf>(i)));
    if (!s.ok()) {
      fail("flush", events::to_error_code(s, "flush"));
    }
  }
  for (;;) {
    uint64_t busy = 0;
    for (int i = 0; i < events::kCfCount; ++i) {
      uint64_t v = 0;
      store.db()->GetIntProperty(store.cf(static_cast<events::Cf>(i)),
                                 rocksdb::DB::Properties::kCompactionPending, &v);
      busy += v;
    }
    uint64_t running = 0;
    store.db()->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &running);
    busy += running;
    store.db()->GetIntProperty(rocksdb::DB::Properties::kNumRunningFlushes, &running);
    busy += running;
    if (busy == 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void raw_pass(const events::Store& store, Row& row) {
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;  // as for_each_event reads
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, store.cf(events::Cf::kLog)));
  uint64_t acc = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    const rocksdb::Slice v = it->value();
    acc += touch(k.data(), k.size()) + touch(v.data(), v.size());
    row.bytes += k.size() + v.size();
    ++row.events;
  }
  if (!it->status().ok()) {
    fail("raw iteration", events::to_error_code(it->status(), "raw iteration"));
  }
  g_sink.fetch_add(acc, std::memory_order_relaxed);
}

void parse_pass(const events::Store& store, Row& row) {
  uint64_t acc = 0;
  auto walked = events::for_each_event(store, 1, [&](const vaultaire::proto::Event& e) {
    acc += e.sequence() + static_cast<uint64_t>(e.payload_case());
    ++row.events;
    return true;
  });
  if (!walked) {
    fail("parse pass", walked.error());
  }
  g_sink.fetch_add(acc, std::memory_order_relaxed);
}

struct ReplayOutcome {
  std::optional<bool> digests_match;  // with --verify
  uint64_t view_records = 0;
};

// Replays into a fresh store under `target_dir`; with `verify`, digests both stores' views
// afterwards (not timed) and compares them.
Row replay_pass(const events::Store& source, const fs::path& target_dir, bool verify,
                ReplayOutcome& outcome) {
  std::error_code ec;
  fs::remove_all(target_dir, ec);
  auto target = events::Store::open(target_dir, events::OpenMode::kPrimary);
  if (!target) {
    fail("open the replay target", target.error());
  }
  auto last = events::stored_last_sequence(source);
  if (!last) {
    fail("read the last sequence", last.error());
  }
  Row row = measure("replay", "replay into fresh views (events::replay)", [&](Row& r) {
    auto next_report = SteadyClock::now() + std::chrono::seconds(30);
    auto report = [&](uint64_t done) {
      if (SteadyClock::now() >= next_report) {
        next_report = SteadyClock::now() + std::chrono::seconds(30);
        std::fprintf(stderr, "  replayed %llu events\n", static_cast<unsigned long long>(done));
      }
    };
    auto stats = events::replay(source, **target, *last, report);
    if (!stats) {
      fail("replay", stats.error());
    }
    r.events = stats->events;
  });
  if (verify) {
    std::fprintf(stderr, "  digesting live and rebuilt views\n");
    auto live = events::digest_views(source);
    auto rebuilt = events::digest_views(**target);
    if (!live || !rebuilt) {
      fail("digest views", !live ? live.error() : rebuilt.error());
    }
    outcome.digests_match = *live == *rebuilt;
    outcome.view_records = rebuilt->records;
    std::fprintf(stderr, "  views: %llu records, live and rebuilt digests %s\n",
                 static_cast<unsigned long long>(rebuilt->records),
                 *outcome.digests_match ? "match" : "DIFFER");
  }
  target->reset();
  fs::remove_all(target_dir, ec);
  return row;
}

void jsonl_pass(const events::Store& store, const fs::path& out_path, Row& row) {
  std::FILE* out = std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) {
    std::cerr << "replay_bench: cannot write " << out_path << ": " << std::strerror(errno) << '\n';
    std::exit(1);
  }
  std::vector<char> buffer(1 << 20);
  std::setvbuf(out, buffer.data(), _IOFBF, buffer.size());
  bool write_failed = false;
  auto walked = events::for_each_event(store, 1, [&](const vaultaire::proto::Event& e) {
    std::string line =
        events::event_to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) {
      write_failed = true;
      return false;
    }
    row.bytes += line.size();
    ++row.events;
    return true;
  });
  if (std::fclose(out) != 0 || write_failed) {
    std::cerr << "replay_bench: writing " << out_path << " failed\n";
    std::exit(1);
  }
  if (!walked) {
    fail("jsonl pass", walked.error());
  }
}

// Exports into PostgreSQL until done or `seconds` (0: no limit) have passed.
void postgres_pass(const events::Store& store, const std::string& dsn, double seconds, Row& row) {
  vaultaire::exports::PostgresExportOptions options;
  options.dsn = dsn;
  options.name = "replay_bench";
  std::string error;
  auto exporter = vaultaire::exports::PostgresExporter::create(store, options, error);
  if (!exporter) {
    std::cerr << "replay_bench: " << error << '\n';
    std::exit(1);
  }
  const auto start = SteadyClock::now();
  auto stop = [&] {
    return seconds > 0 &&
           std::chrono::duration<double>(SteadyClock::now() - start).count() >= seconds;
  };
  auto progress = (*exporter)->export_pending(std::nullopt, stop);
  if (!progress) {
    std::cerr << "replay_bench: PostgreSQL export failed: " << (*exporter)->last_error() << '\n';
    std::exit(1);
  }
  row.events = progress->events;
  if (row.events == 0) {
    std::cerr << "replay_bench: PostgreSQL export wrote no rows: the database already holds "
                 "this log; give an empty database\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Log replay and export speed, next to a raw RocksDB iteration of the same log"};
  vaultaire::bench::GenerateOptions gen;
  fs::path log_dir;
  fs::path work_dir = fs::temp_directory_path() /
                      ("vaultaire-replay-bench-" + std::to_string(static_cast<long>(getpid())));
  std::string pg_dsn;
  double pg_seconds = 0;
  fs::path jsonl_out = "/dev/null";
  bool verify = false;
  bool replay_only = false;
  bool keep = false;
  bool json = false;
  fs::path json_file;
  app.add_option("--events", gen.events, "events in the generated log")->capture_default_str();
  app.add_option("--containers", gen.containers, "containers in the generated log")
      ->capture_default_str();
  app.add_option("--seed", gen.seed, "seed of the event mix")->capture_default_str();
  app.add_option("--log-dir", log_dir,
                 "reuse the log in DIR (generate it there and keep it if DIR has none)");
  app.add_option("--work-dir", work_dir, "temp folder: the log (without --log-dir), the replay")
      ->capture_default_str();
  app.add_option("--pg-dsn", pg_dsn, "export to this (empty) PostgreSQL database too");
  app.add_option("--pg-seconds", pg_seconds, "stop the PostgreSQL export after S s (0: all)")
      ->capture_default_str();
  app.add_option("--jsonl-out", jsonl_out, "where the JSONL export goes")->capture_default_str();
  app.add_flag("--verify", verify, "compare digests of the live and the rebuilt views");
  app.add_flag("--replay-only", replay_only, "skip the JSONL and PostgreSQL exports");
  app.add_flag("--keep", keep, "keep the work folder");
  app.add_flag("--json", json, "print JSON instead of the table");
  app.add_option("--json-file", json_file, "also write the JSON to FILE");
  CLI11_PARSE(app, argc, argv);
  vaultaire::set_log_level("warn");

  std::error_code ec;
  const bool own_log = log_dir.empty();
  const bool own_work_dir = !fs::exists(work_dir, ec);
  if (own_log) {
    log_dir = work_dir / "log";
    fs::remove_all(log_dir, ec);
  }
  fs::create_directories(work_dir, ec);
  auto opened = events::Store::open(log_dir, events::OpenMode::kPrimary);
  if (!opened) {
    fail("open " + log_dir.string(), opened.error());
  }
  std::unique_ptr<events::Store> store = std::move(*opened);
  auto existing = events::stored_last_sequence(*store);
  if (!existing) {
    fail("read the log", existing.error());
  }

  std::optional<vaultaire::bench::GenerateStats> generated;
  if (*existing == 0) {
    std::fprintf(stderr, "generating %llu events in %s\n",
                 static_cast<unsigned long long>(gen.events), log_dir.c_str());
    auto g = vaultaire::bench::generate_log(*store, gen);
    if (!g) {
      fail("generate the log", g.error());
    }
    generated = *g;
    std::fprintf(stderr, "  %llu events appended (%llu refused) in %.1f s: %.0f events/s\n",
                 static_cast<unsigned long long>(g->appended),
                 static_cast<unsigned long long>(g->refused), g->seconds,
                 static_cast<double>(g->appended) / g->seconds);
  } else {
    std::fprintf(stderr, "reusing the log of %llu events in %s\n",
                 static_cast<unsigned long long>(*existing), log_dir.c_str());
  }
  std::fprintf(stderr, "flushing and waiting for compactions\n");
  settle(*store);
  uint64_t log_sst_bytes = 0;
  store->db()->GetIntProperty(store->cf(events::Cf::kLog),
                              rocksdb::DB::Properties::kTotalSstFilesSize, &log_sst_bytes);

  std::vector<Row> rows;
  // The first pass brings the log into the page cache (when it fits) and is not a reference.
  Row warm = measure("raw_first", "raw RocksDB iteration, first pass",
                     [&](Row& r) { raw_pass(*store, r); });
  rows.push_back(warm);
  Row raw1 = measure("raw", "raw RocksDB iteration (key + value bytes)",
                     [&](Row& r) { raw_pass(*store, r); });
  raw1.reference = true;
  rows.push_back(raw1);
  rows.push_back(measure("parse", "raw iteration + protobuf parse (for_each_event)",
                         [&](Row& r) { parse_pass(*store, r); }));
  ReplayOutcome replay_outcome;
  rows.push_back(replay_pass(*store, work_dir / "replay-target", verify, replay_outcome));
  if (!replay_only) {
    rows.push_back(measure("jsonl", "JSONL export (event_to_json + dump + write)",
                           [&](Row& r) { jsonl_pass(*store, jsonl_out, r); }));
  }
  if (replay_only) {
    std::fprintf(stderr, "pass: exports skipped (--replay-only)\n");
  } else if (!pg_dsn.empty()) {
    rows.push_back(measure("postgres", "PostgreSQL export (PostgresExporter)",
                           [&](Row& r) { postgres_pass(*store, pg_dsn, pg_seconds, r); }));
  } else {
    std::fprintf(stderr, "pass: PostgreSQL export skipped (no --pg-dsn)\n");
  }
  Row raw2 = measure("raw", "raw RocksDB iteration, again", [&](Row& r) { raw_pass(*store, r); });
  raw2.reference = true;
  rows.push_back(raw2);

  double reference = 0;
  for (const Row& r : rows) {
    if (r.reference) {
      reference = std::max(reference, r.rate());
    }
  }
  double replay_rate = 0;
  for (const Row& r : rows) {
    if (r.key == "replay") {
      replay_rate = r.rate();
    }
  }
  const double replay_ratio = reference > 0 ? replay_rate / reference : 0;
  const uint64_t log_events = raw1.events;

  nlohmann::json out;
  out["events"] = log_events;
  out["log_sst_bytes"] = log_sst_bytes;
  out["reference_events_per_second"] = reference;
  out["replay_ratio"] = replay_ratio;
  out["replay_target_met"] = replay_ratio >= 0.25;
  if (generated) {
    out["generation"] = {{"events", generated->appended},
                         {"refused", generated->refused},
                         {"seconds", generated->seconds},
                         {"by_type", generated->by_type}};
  }
  if (replay_outcome.digests_match) {
    out["views_match"] = *replay_outcome.digests_match;
    out["view_records"] = replay_outcome.view_records;
  }
  out["passes"] = nlohmann::json::array();
  for (const Row& r : rows) {
    out["passes"].push_back({{"pass", r.key},
                             {"name", r.name},
                             {"events", r.events},
                             {"seconds", r.seconds},
                             {"events_per_second", r.rate()},
                             {"ratio_to_raw", reference > 0 ? r.rate() / reference : 0},
                             {"cpu_seconds", r.cpu_seconds},
                             {"cpu_micros_per_event", r.cpu_micros_per_event()},
                             {"bytes", r.bytes}});
  }
  if (!json_file.empty()) {
    std::ofstream(json_file) << out.dump(2) << '\n';
  }

  if (json) {
    std::cout << out.dump(2) << '\n';
  } else {
    std::printf("log: %llu events, %.0f MiB of SST files (LZ4)",
                static_cast<unsigned long long>(log_events),
                static_cast<double>(log_sst_bytes) / (1 << 20));
    if (generated) {
      std::printf("; generated through EventLog (sync off) at %.0f events/s",
                  static_cast<double>(generated->appended) / generated->seconds);
    }
    std::printf(
        "\n\n| pass | events | seconds | events/s | x raw iteration | CPU s | CPU us/event |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (const Row& r : rows) {
      std::printf("| %s | %llu | %.2f | %.0f | %.3f | %.1f | %.2f |\n", r.name.c_str(),
                  static_cast<unsigned long long>(r.events), r.seconds, r.rate(),
                  reference > 0 ? r.rate() / reference : 0, r.cpu_seconds,
                  r.cpu_micros_per_event());
    }
    std::printf("\nreplay / raw iteration = %.1f%% (target >= 25%%: %s)\n", 100 * replay_ratio,
                replay_ratio >= 0.25 ? "met" : "not met");
    if (replay_outcome.digests_match) {
      std::printf("rebuilt views (%llu records) %s the live ones\n",
                  static_cast<unsigned long long>(replay_outcome.view_records),
                  *replay_outcome.digests_match ? "match" : "DO NOT match");
    }
  }

  store.reset();
  if (!keep) {
    if (own_log) {
      fs::remove_all(log_dir, ec);
    }
    if (own_work_dir) {
      fs::remove(work_dir, ec);  // only if empty
    }
  }
  return replay_outcome.digests_match.value_or(true) ? 0 : 1;
}

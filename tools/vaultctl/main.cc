// vaultctl: the operator CLI. `vaultctl events ...` inspects the event log of a data directory,
// as a RocksDB secondary instance, so it works while the server runs (`events export|state` are
// in event_commands.h). `vaultctl tenants|quotas|users|keys|grants|buckets|master-key ...` drive
// the admin API over HTTP (admin_commands.h).

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "common/time_format.h"
#include "events/event_json.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "events/store.h"
#include "events/view_reader.h"
#include "vaultctl/admin_commands.h"
#include "vaultctl/event_commands.h"
#include "vaultctl/export_commands.h"

namespace {

namespace fs = std::filesystem;
using vaultaire::vaultctl::open_secondary;
using vaultaire::vaultctl::ScratchDir;

volatile std::sig_atomic_t g_interrupted = 0;

std::string one_line(const vaultaire::proto::Event& e) {
  std::string line =
      std::to_string(e.sequence()) + " " + vaultaire::format_iso8601(e.time_unix_nanos()) + " " +
      std::string(vaultaire::events::event_type_name(e)) + " " + e.tenant() + "/" + e.container();
  if (!e.path().empty()) {
    line += "/" + e.path();
  }
  if (e.has_artifact_committed()) {
    line += " size=" + std::to_string(e.artifact_committed().size()) +
            " etag=" + e.artifact_committed().etag();
  }
  if (e.has_artifact_read()) {
    line += " bytes=" + std::to_string(e.artifact_read().bytes_sent());
  }
  line += " principal=" + (e.principal().empty() ? std::string("-") : e.principal());
  line += " req=" + (e.request_id().empty() ? std::string("-") : e.request_id());
  return line;
}

void print(const vaultaire::proto::Event& e, bool json) {
  if (json) {
    std::cout << vaultaire::events::event_to_json(e).dump() << '\n';
  } else {
    std::cout << one_line(e) << '\n';
  }
}

void check(const vaultaire::Result<void>& r, const std::string& what) {
  if (!r) {
    throw std::runtime_error(what + ": " + r.error().message());
  }
}

int cmd_tail(const fs::path& data_dir, uint64_t count, bool follow, bool json) {
  const ScratchDir scratch;
  auto store = open_secondary(data_dir, scratch);
  auto last = vaultaire::events::stored_last_sequence(*store);
  if (!last) {
    throw std::runtime_error("cannot read the log: " + last.error().message());
  }
  uint64_t next = *last >= count ? *last - count + 1 : 1;
  auto print_from = [&](uint64_t from) {
    uint64_t seen = from;
    check(vaultaire::events::for_each_event(*store, from,
                                            [&](const vaultaire::proto::Event& e) {
                                              print(e, json);
                                              seen = e.sequence() + 1;
                                              return true;
                                            }),
          "reading the log");
    std::cout.flush();
    return seen;
  };
  next = print_from(next);
  if (!follow) {
    return 0;
  }
  std::signal(SIGINT, [](int) { g_interrupted = 1; });
  std::signal(SIGTERM, [](int) { g_interrupted = 1; });
  while (g_interrupted == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    check(store->catch_up(), "following the log");
    next = print_from(next);
  }
  return 0;
}

int cmd_show(const fs::path& data_dir, uint64_t sequence, bool json) {
  const ScratchDir scratch;
  auto store = open_secondary(data_dir, scratch);
  auto event = vaultaire::events::read_event(*store, sequence);
  if (!event) {
    std::cerr << "vaultctl: no event with sequence " << sequence << '\n';
    return 1;
  }
  if (json) {
    std::cout << vaultaire::events::event_to_json(*event).dump(2) << '\n';
  } else {
    std::cout << one_line(*event) << '\n' << event->DebugString();
  }
  return 0;
}

int cmd_stats(const fs::path& data_dir, bool json) {
  const ScratchDir scratch;
  auto store = open_secondary(data_dir, scratch);
  std::map<std::string, uint64_t> by_type;
  uint64_t total = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  int64_t first_time = 0;
  int64_t last_time = 0;
  check(vaultaire::events::for_each_event(
            *store, 1,
            [&](const vaultaire::proto::Event& e) {
              ++by_type[std::string(vaultaire::events::event_type_name(e))];
              if (total++ == 0) {
                first = e.sequence();
                first_time = e.time_unix_nanos();
              }
              last = e.sequence();
              last_time = e.time_unix_nanos();
              return true;
            }),
        "reading the log");
  if (json) {
    nlohmann::json j;
    j["events"] = total;
    j["first_sequence"] = first;
    j["last_sequence"] = last;
    j["by_type"] = by_type;
    if (total > 0) {
      j["first_time"] = vaultaire::format_iso8601(first_time);
      j["last_time"] = vaultaire::format_iso8601(last_time);
    }
    std::cout << j.dump(2) << '\n';
    return 0;
  }
  std::cout << "events " << total << '\n';
  if (total > 0) {
    std::cout << "first " << first << ' ' << vaultaire::format_iso8601(first_time) << '\n'
              << "last " << last << ' ' << vaultaire::format_iso8601(last_time) << '\n';
  }
  // The data events always (0 when absent), then every other type the log holds.
  const char* const always[] = {"container_created", "container_deleted", "artifact_committed",
                                "artifact_deleted",  "artifact_read",     "container_listed",
                                "artifact_tagged",   "upload_created",    "part_uploaded",
                                "upload_aborted"};
  for (const char* type : always) {
    std::cout << type << ' ' << by_type[type] << '\n';
  }
  for (const auto& [type, count] : by_type) {
    if (std::find(std::begin(always), std::end(always), type) == std::end(always)) {
      std::cout << type << ' ' << count << '\n';
    }
  }
  return 0;
}

int cmd_verify(const fs::path& data_dir, bool json) {
  const ScratchDir scratch;
  auto store = open_secondary(data_dir, scratch);
  auto report = vaultaire::events::verify(*store, scratch.path() / "replay");
  if (!report) {
    throw std::runtime_error("verify failed: " + report.error().message());
  }
  if (json) {
    nlohmann::json j;
    j["match"] = report->match();
    j["events"] = report->replay.events;
    j["last_sequence"] = report->replay.last_sequence;
    j["live_digest"] = report->live.sha256_hex;
    j["live_records"] = report->live.records;
    j["replayed_digest"] = report->rebuilt.sha256_hex;
    j["replayed_records"] = report->rebuilt.records;
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << "replayed " << report->replay.events << " events (up to sequence "
              << report->replay.last_sequence << ")\n"
              << "live views     " << report->live.records << " records sha256 "
              << report->live.sha256_hex << '\n'
              << "replayed views " << report->rebuilt.records << " records sha256 "
              << report->rebuilt.sha256_hex << '\n'
              << (report->match() ? "OK: the views are exactly what the log says\n"
                                  : "MISMATCH: the live views differ from a replay of the log\n");
  }
  return report->match() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vaultctl: inspect and administer Vaultaire"};
  app.require_subcommand(1);
  // Global options may also follow the command: `vaultctl tenants list --json`.
  app.fallthrough();
  vaultaire::vaultctl::AdminCommands admin(app);
  CLI::App* events = app.add_subcommand("events", "Inspect the event log");
  events->require_subcommand(1);

  std::string data_dir = "./data";
  bool json = false;
  uint64_t count = 20;
  bool follow = false;
  uint64_t sequence = 0;

  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", data_dir, "The server's data directory")->capture_default_str();
    cmd->add_flag("--json", json, "JSON output");
  };
  CLI::App* tail = events->add_subcommand("tail", "Print the last events");
  add_common(tail);
  tail->add_option("-n,--count", count, "How many events")->capture_default_str();
  tail->add_flag("-f,--follow", follow, "Keep printing new events until interrupted");
  CLI::App* show = events->add_subcommand("show", "Print one event");
  add_common(show);
  show->add_option("sequence", sequence, "Sequence number")->required();
  CLI::App* stats = events->add_subcommand("stats", "Count events by type");
  add_common(stats);
  CLI::App* verify = events->add_subcommand(
      "verify", "Replay the log into fresh views and compare with the live ones");
  add_common(verify);
  vaultaire::vaultctl::EventCommands event_commands(*events);
  vaultaire::vaultctl::ExportCommands export_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    // "A subcommand is required" hides the cause when a command name was mistyped.
    std::vector<std::string> extras = app.remaining();
    std::reverse(extras.begin(), extras.end());  // CLI11 keeps them last first
    if (extras.empty()) {
      return app.exit(e) == 0 ? 0 : vaultaire::vaultctl::kExitUsage;
    }
    return app.exit(CLI::ExtrasError(extras)) == 0 ? 0 : vaultaire::vaultctl::kExitUsage;
  } catch (const CLI::ParseError& e) {
    // Prints the help (exit 0) or the mistake; every mistake is exit code 1.
    return app.exit(e) == 0 ? 0 : vaultaire::vaultctl::kExitUsage;
  }

  try {
    json = json || admin.json_requested();  // `vaultctl --json events ...`
    if (tail->parsed()) {
      return cmd_tail(data_dir, count, follow, json);
    }
    if (show->parsed()) {
      return cmd_show(data_dir, sequence, json);
    }
    if (stats->parsed()) {
      return cmd_stats(data_dir, json);
    }
    if (verify->parsed()) {
      return cmd_verify(data_dir, json);
    }
    if (event_commands.chosen()) {
      return event_commands.run(json);
    }
    if (export_commands.chosen()) {
      return export_commands.run(json);
    }
    if (admin.chosen()) {
      return admin.run();
    }
  } catch (const std::exception& e) {
    std::cerr << "vaultctl: " << e.what() << '\n';
    return 1;
  }
  return 1;
}

#include "vaultctl/export_commands.h"

#include <csignal>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "billing/usage.h"
#include "common/time_format.h"
#include "export/postgres_exporter.h"
#include "vaultctl/admin_commands.h"
#include "vaultctl/event_commands.h"

namespace vaultaire::vaultctl {
namespace {

constexpr int kExitInterrupted = 130;

struct ExportProgressSum {
  uint64_t events = 0;
  uint64_t usage_rows = 0;
};

volatile std::sig_atomic_t g_interrupted = 0;

int exit_code_of(const boost::system::error_code& ec) {
  if (is(ec, Errc::kIo)) {
    return kExitUnreachable;
  }
  if (is(ec, Errc::kInternal)) {
    return kExitServerError;
  }
  return kExitUsage;
}

}  // namespace

ExportCommands::ExportCommands(CLI::App& app) {
  CLI::App* exports = app.add_subcommand("export", "Export the event log to other systems");
  exports->require_subcommand(1);
  postgres_ = exports->add_subcommand(
      "postgres",
      "Export the event log and hourly usage into PostgreSQL once (exactly once: the position "
      "is kept in the database)");
  postgres_->add_option("--dsn", dsn_, "libpq connection string or postgresql:// URI")->required();
  postgres_->add_option("--from-seq", from_seq_,
                        "Replace the rows from this sequence on (delete, then export again)");
  postgres_->add_option("--name", name_, "The export_state row to continue from")
      ->capture_default_str();
  postgres_->add_option("--batch-events", batch_events_, "Events per transaction")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  postgres_->add_option("--data-dir", data_dir_, "The server's data directory")
      ->capture_default_str();
  postgres_->add_flag("--json", json_, "JSON output");
}

bool ExportCommands::chosen() const { return postgres_->parsed(); }

int ExportCommands::run(bool json) const {
  json = json || json_;
  const ScratchDir scratch;
  auto store = open_secondary(data_dir_, scratch);
  std::string error;
  auto exporter = exports::PostgresExporter::create(
      *store, {.dsn = dsn_, .name = name_, .batch_events = batch_events_}, error);
  if (!exporter) {
    std::cerr << "vaultctl: " << error << '\n';
    return kExitUsage;
  }
  g_interrupted = 0;
  std::signal(SIGINT, [](int) { g_interrupted = 1; });
  std::signal(SIGTERM, [](int) { g_interrupted = 1; });
  const auto stop = [] { return g_interrupted != 0; };

  auto progress = (*exporter)->export_pending(from_seq_, stop);
  if (progress && progress->log_behind) {
    // The server's exporter may have committed events this secondary instance had not seen
    // yet when it opened: look again before concluding the database is another log's.
    if (auto caught_up = store->catch_up(); caught_up) {
      const ExportProgressSum before{progress->events, progress->usage_rows};
      progress = (*exporter)->export_pending({}, stop);
      if (progress) {
        progress->events += before.events;
        progress->usage_rows += before.usage_rows;
      }
    }
  }
  if (!progress) {
    std::cerr << "vaultctl: " << (*exporter)->last_error() << '\n';
    return exit_code_of(progress.error());
  }
  if (progress->log_behind) {
    std::cerr << "vaultctl: PostgreSQL holds events up to " << progress->last_seq
              << " but the log in " << data_dir_ << " ends at " << *progress->log_behind
              << ": the database belongs to another data directory\n";
    return kExitUsage;
  }
  const std::string until =
      progress->usage_until_hour
          ? format_iso8601(*progress->usage_until_hour * billing::kNanosPerHour)
          : std::string();
  if (json) {
    nlohmann::json j = {{"events", progress->events},
                        {"usage_rows", progress->usage_rows},
                        {"last_seq", progress->last_seq},
                        {"usage_until", until.empty() ? nlohmann::json() : nlohmann::json(until)}};
    std::cout << j.dump() << '\n';
  } else {
    std::cout << "exported " << progress->events << " events (last_seq " << progress->last_seq
              << ") and " << progress->usage_rows << " usage rows"
              << (until.empty() ? std::string() : " (complete hours before " + until + ")")
              << " to " << (*exporter)->description() << '\n';
  }
  return g_interrupted != 0 ? kExitInterrupted : kExitOk;
}

}  // namespace vaultaire::vaultctl

#pragma once

// vaultctl's `export postgres`: a one-shot export of a data directory's event log and hourly
// usage into PostgreSQL, with the server's exporter (export/postgres_exporter.h), reading the
// store as a RocksDB secondary instance so the server may run (docs/export.md).
//
//   vaultctl export postgres --dsn DSN [--from-seq N] [--name NAME] [--batch-events N]
//                            [--data-dir DIR] [--json]
//
// It continues from export_state.last_seq of NAME (default "default", the server's): run next
// to a server exporting into the same database, the two take turns and neither duplicates the
// other. --from-seq N deletes the rows with seq >= N and exports them again, in the same
// transaction as the first batch: still exactly once.
//
// Exit codes: 0 done; 1 a bad DSN or usage, an unreadable log, or a database that holds events
// this log lacks; 3 PostgreSQL refused a statement; 4 PostgreSQL unreachable; 130 interrupted
// (what was committed stays).

#include <cstdint>
#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace vaultaire::vaultctl {

class ExportCommands {
 public:
  // Adds `export postgres` to `app`, which keeps pointers into this object: it must not
  // outlive it.
  explicit ExportCommands(CLI::App& app);
  ExportCommands(const ExportCommands&) = delete;
  ExportCommands& operator=(const ExportCommands&) = delete;

  bool chosen() const;

  // Runs the chosen command; `json` is the global --json. Returns the exit code; throws
  // std::runtime_error for main() to report as "vaultctl: <message>" (exit 1).
  int run(bool json) const;

 private:
  CLI::App* postgres_ = nullptr;
  std::string data_dir_ = "./data";
  std::string dsn_;
  std::optional<uint64_t> from_seq_;
  std::string name_ = "default";
  size_t batch_events_ = 5000;
  bool json_ = false;
};

}  // namespace vaultaire::vaultctl

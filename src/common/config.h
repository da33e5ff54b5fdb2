#pragma once

// The server's configuration: defaults, overridden by a TOML file, overridden by flags.
//
//   data_dir = "./data"
//   region = "us-east-1"
//   spoke_id = "local"
//   [s3]     listen = "127.0.0.1:8080"
//            domain = ""               # set: BUCKET.<domain> addresses BUCKET (virtual hosts)
//   [admin]  listen = "127.0.0.1:8081"
//   [log]    level = "info"            # trace debug info warn error off
//            access = true             # one line per S3 request on the "access" logger
//   [threads] io = 0                   # 0: one per core
//             blocking = 0             # 0: max(16, 4 per core)
//   [gc]     sweep_grace_seconds = 3600
//            release_delay_ms = 2000        # a released blob waits this long (and for reads)
//   [actors] idle_seconds = 60
//   [multipart] abandon_after_seconds = 604800   # aborted when older (7 days)
//               sweep_interval_seconds = 3600
//
// Drivers and tiers (docs/tiering.md). Without any [[tiers]], the default: hot, warm, cold and
// frozen on local folders DATA_DIR/drivers/{local,warm,cold,frozen}, priced like S3 Standard,
// Standard-IA, Glacier Instant Retrieval and Glacier Deep Archive.
//
//   [drivers.NAME]  type = "local"             # path = DATA_DIR/drivers/NAME by default
//                   type = "s3"                # endpoint, bucket, prefix, access_key,
//                                              # secret_key (or secret_key_env), region,
//                                              # storage_class, max_connections, part_size_mib
//   [[tiers]]       name = "hot"  driver = "local"  storage_classes = ["STANDARD"]
//                   price_gb_month, price_gb_retrieved, price_per_1000_get,
//                   price_per_1000_put, min_storage_days, min_billable_kib, instant,
//                   restore_price_gb, restore_price_per_1000, restore_hours
//                   (a price not given: the default tier of that name's, else 0)
//   [tiering]       policy = "cost-optimal"    # age-rules, intelligent-tiering, none
//                   pass_interval_seconds = 3600, concurrency = 4,
//                   bandwidth_mib_per_second = 0 (unlimited)
//   [[tiering.rules]] prefix = "logs/"         # the age-rules policy, per BUCKET/PREFIX
//                   steps = [{tier = "hot", days = 0}, {tier = "cold", days = 3}]
//                   promote_on_read = true, min_size_kib = 128
//
// Billing (docs/billing.md): the tiers' prices above, and traffic.
//   [billing]       currency = "USD", transfer_out_per_gb = 0.09, transfer_in_per_gb = 0
//
// Export into PostgreSQL (docs/export.md): off unless a DSN is given.
//   [export.postgres]  dsn = "host=... dbname=..."  # or postgresql://...; libpq's env and
//                                                   # ~/.pgpass apply (keep passwords there)
//                      batch_events = 5000, poll_interval_ms = 500, name = "default"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vaultaire {

struct DriverConfig {
  std::string type = "local";  // "local" or "s3"
  std::filesystem::path path;  // local: empty means DATA_DIR/drivers/<name>
  // s3
  std::string endpoint;
  std::string bucket;
  std::string prefix = "vaultaire/blobs/";
  std::string access_key;
  std::string secret_key;
  std::string secret_key_env;  // the secret from this environment variable instead
  std::string region = "us-east-1";
  std::string storage_class;
  unsigned max_connections = 16;
  unsigned part_size_mib = 8;
};

struct TierConfig {
  std::string name;
  std::string driver;
  std::vector<std::string> storage_classes;  // the first is reported; the others map here too
  // Unset: the default tier of the same name's value, else 0 (instant: true).
  std::optional<double> price_gb_month, price_gb_retrieved, price_per_1000_get, price_per_1000_put,
      restore_price_gb, restore_price_per_1000, restore_hours;
  std::optional<int64_t> min_storage_days, min_billable_kib;
  std::optional<bool> instant;
};

// An age rule ([[tiering.rules]]) for the age-rules policy: artifacts whose "BUCKET/KEY" starts
// with `prefix` walk down `steps` (tier, from this many days after being written or promoted).
struct AgeRuleConfig {
  std::string prefix;
  std::vector<std::pair<std::string, int64_t>> steps;
  bool promote_on_read = true;
  int64_t min_size_kib = 128;
};

struct TieringConfig {
  std::string policy = "cost-optimal";  // or "age-rules", "intelligent-tiering", "none"
  int64_t pass_interval_seconds = 3600;
  unsigned concurrency = 4;
  unsigned bandwidth_mib_per_second = 0;  // 0: unlimited
  std::vector<AgeRuleConfig> rules;       // age-rules: per bucket and prefix
};

struct BillingConfig {
  std::string currency = "USD";
  double transfer_out_per_gb = 0.09;  // AWS's first 10 TB/month to the internet
  double transfer_in_per_gb = 0.0;
};

struct PostgresExportConfig {
  std::string dsn;  // empty: no export
  unsigned batch_events = 5000;
  unsigned poll_interval_ms = 500;
  std::string name = "default";  // the export_state row
};

struct Config {
  std::filesystem::path data_dir = "./data";
  std::string region = "us-east-1";
  std::string spoke_id = "local";
  std::string s3_listen = "127.0.0.1:8080";
  std::string admin_listen = "127.0.0.1:8081";
  std::string log_level = "info";
  bool access_log = true;
  unsigned io_threads = 0;
  unsigned blocking_threads = 0;
  int64_t sweep_grace_seconds = 3600;
  int64_t release_delay_ms = 2000;
  int64_t actor_idle_seconds = 60;
  std::string master_key_file;                  // empty: DATA_DIR/master.key
  std::string s3_domain;                        // virtual-hosted-style: BUCKET.<domain>
  int64_t upload_abandon_seconds = 7 * 86400;   // multipart uploads older than this are aborted
  int64_t upload_sweep_seconds = 3600;          // how often they are looked for
  std::map<std::string, DriverConfig> drivers;  // empty: the default local drivers
  std::vector<TierConfig> tiers;                // empty: the default tiers
  TieringConfig tiering;
  BillingConfig billing;
  PostgresExportConfig export_postgres;
  bool test_clock = false;  // serve --test-clock: event and policy time can be advanced
};

// Fills in the drivers and tiers of `c` once data_dir is final (after the flags): without
// [[tiers]], hot on driver "local" and warm, cold, frozen on local drivers of their names;
// without [drivers], a local driver for each driver a tier names; always a "local" driver; local
// paths default to DATA_DIR/drivers/NAME. Throws std::runtime_error when a tier names a driver
// [drivers] does not configure, or two tiers share a name or a storage class.
void resolve_tiers(Config& c);

// Reads `path` over the defaults. Throws std::runtime_error with a message naming the file,
// the line and the problem (a syntax error, an unknown key, a value of the wrong type): this
// runs at startup only, and main turns it into a clear exit.
Config load_config(const std::filesystem::path& path);

// Splits "host:port"; throws std::runtime_error on anything else.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
HostPort parse_host_port(const std::string& text);

}  // namespace vaultaire

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
//   [actors] idle_seconds = 60
//   [multipart] abandon_after_seconds = 604800   # aborted when older (7 days)
//               sweep_interval_seconds = 3600

#include <cstdint>
#include <filesystem>
#include <string>

namespace vaultaire {

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
  int64_t actor_idle_seconds = 60;
  std::string master_key_file;  // empty: DATA_DIR/master.key
  std::string s3_domain;                       // virtual-hosted-style: BUCKET.<domain>
  int64_t upload_abandon_seconds = 7 * 86400;  // multipart uploads older than this are aborted
  int64_t upload_sweep_seconds = 3600;         // how often they are looked for
};

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

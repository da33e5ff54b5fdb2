// vaultaire: the server. `vaultaire serve` runs hub and spoke in one process over an embedded
// store (RocksDB and local folders under --data-dir).

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include "common/config.h"
#include "common/logging.h"
#include "server/server.h"

namespace {

// Connections and cached blob descriptors are file descriptors: take what the system allows.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Vaultaire: an S3-compatible storage router with an event-sourced log"};
  app.require_subcommand(1);

  std::string config_file;
  std::string data_dir;
  std::string s3_listen;
  std::string admin_listen;
  std::string log_level;
  std::string region;
  std::string spoke_id;
  unsigned io_threads = 0;
  bool no_access_log = false;
  CLI::App* serve = app.add_subcommand("serve", "Run hub and spoke in one process");
  serve->add_option("--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
  serve->add_option("--data-dir", data_dir, "Where the log, the views and local blobs live");
  serve->add_option("--s3-listen", s3_listen, "S3 endpoint HOST:PORT (default 127.0.0.1:8080)");
  serve->add_option("--admin-listen", admin_listen,
                    "Health, readiness and metrics HOST:PORT (default 127.0.0.1:8081)");
  serve->add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  serve->add_option("--region", region, "The region clients sign for (default us-east-1)");
  serve->add_option("--spoke-id", spoke_id, "This spoke's name in events (default local)");
  serve->add_option("--io-threads", io_threads, "Network threads (default: one per core)");
  serve->add_flag("--no-access-log", no_access_log, "Do not log one line per S3 request");
  std::string master_key_file;
  serve->add_option("--master-key-file", master_key_file,
                    "Master keys sealing access-key secrets (default DATA_DIR/master.key)");

  bool test_clock = false;
  serve->add_flag("--test-clock", test_clock,
                  "Tests only: let POST /admin/v1/test/clock move the time of events, tiering "
                  "and restores forward");

  app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (app.got_subcommand("version")) {
    std::cout << "vaultaire 0.1.0\n";
    return 0;
  }

  try {
    vaultaire::Config config;
    if (!config_file.empty()) {
      config = vaultaire::load_config(config_file);
    }
    if (!data_dir.empty()) {
      config.data_dir = data_dir;
    }
    if (!s3_listen.empty()) {
      config.s3_listen = s3_listen;
    }
    if (!admin_listen.empty()) {
      config.admin_listen = admin_listen;
    }
    if (!log_level.empty()) {
      config.log_level = log_level;
    }
    if (!region.empty()) {
      config.region = region;
    }
    if (!spoke_id.empty()) {
      config.spoke_id = spoke_id;
    }
    if (io_threads != 0) {
      config.io_threads = io_threads;
    }
    if (!master_key_file.empty()) {
      config.master_key_file = master_key_file;
    }
    if (no_access_log) {
      config.access_log = false;
    }
    config.test_clock = test_clock;
    vaultaire::resolve_tiers(config);
    if (!vaultaire::set_log_level(config.log_level)) {
      throw std::runtime_error("unknown log level '" + config.log_level + "'");
    }

    vaultaire::server::RootCredentials root{env("VAULTAIRE_ROOT_ACCESS_KEY"),
                                            env("VAULTAIRE_ROOT_SECRET_KEY")};
    if (root.access_key.empty() || root.secret_key.empty()) {
      throw std::runtime_error(
          "set VAULTAIRE_ROOT_ACCESS_KEY and VAULTAIRE_ROOT_SECRET_KEY (the root credentials)");
    }
    raise_open_file_limit();
    vaultaire::server::Server server(std::move(config), std::move(root),
                                     env("VAULTAIRE_MASTER_KEY"));
    server.run();
  } catch (const std::exception& e) {
    std::cerr << "vaultaire: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

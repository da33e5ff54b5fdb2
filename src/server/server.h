#pragma once

// The `vaultaire serve` process: configuration in, actors and listeners wired, run until a
// signal. Owns everything; destruction order is the reverse of construction (listeners, hub,
// log, store).

#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "actors/billing_actor.h"
#include "actors/local_hub.h"
#include "actors/postgres_export_actor.h"
#include "actors/spoke.h"
#include "actors/tiering_actor.h"
#include "common/config.h"
#include "events/event_log.h"
#include "events/store.h"
#include "events/view_reader.h"
#include "s3/auth.h"
#include "s3/http_server.h"
#include "s3/s3_service.h"
#include "server/admin.h"
#include "server/admin_api.h"
#include "server/credentials.h"

namespace vaultaire::server {

class Server {
 public:
  // Opens the data directory, sweeps orphan blobs and binds the listeners. Throws
  // std::runtime_error on any startup failure (main reports it and exits non-zero).
  // `master_key` (optional) is a key given in the environment; otherwise the key file
  // (config.master_key_file, default DATA_DIR/master.key) is read, or created.
  Server(Config config, RootCredentials root, std::string master_key = {});
  ~Server();

  // Serves until SIGINT or SIGTERM (or stop()), then drains and returns.
  void run();
  void stop();

 private:
  void sweep_orphans();
  std::vector<asio::io_context*> workers() const;
  asio::awaitable<bool> ready();
  // After the listeners stopped: waits for open connections (closing them past a grace
  // period), then stops the actors and the network threads.
  asio::awaitable<void> drain_and_stop();
  // The clock of events, policies and restores: the system clock, or the test clock.
  const Clock& domain_clock() const;
  std::vector<std::unique_ptr<drivers::Driver>> open_drivers();
  tiering::TierTable tier_table() const;
  // The tiers' prices and [billing]'s traffic prices, for invoices.
  billing::PriceSheet price_sheet(const tiering::TierTable& tiers) const;

  Config config_;
  std::unique_ptr<OffsetClock> test_clock_;
  // One io_context per network thread: a connection's handlers stay on one thread, so posting
  // between them needs no cross-thread wakeup. ios_[0] also runs the listeners' accept loops,
  // the actors and the signals.
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  asio::io_context& io_;
  std::unique_ptr<events::Store> store_;
  std::unique_ptr<events::EventLog> log_;
  std::unique_ptr<events::ViewReader> views_;
  std::unique_ptr<actors::Spoke> spoke_;
  std::unique_ptr<actors::LocalHub> hub_;
  std::unique_ptr<actors::TieringActor> tiering_;
  std::unique_ptr<actors::BillingActor> billing_;
  std::unique_ptr<actors::PostgresExportActor> pg_export_;  // null without [export.postgres]
  std::unique_ptr<HubCredentialStore> credentials_;
  std::unique_ptr<s3::S3Service> s3_;
  std::unique_ptr<AdminApi> admin_api_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<s3::HttpServer> s3_listener_;
  std::unique_ptr<s3::HttpServer> admin_listener_;
  asio::signal_set signals_;
};

}  // namespace vaultaire::server

#include "server/server.h"

#include <stdexcept>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/logging.h"
#include "common/metrics.h"
#include "drivers/local_driver.h"
#include "drivers/s3_driver.h"

namespace vaultaire::server {
namespace {

asio::ip::tcp::endpoint endpoint_of(const std::string& text) {
  const HostPort hp = parse_host_port(text);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(hp.host == "localhost" ? "127.0.0.1" : hp.host, ec);
  if (ec) {
    throw std::runtime_error("bad listen address '" + text + "': " + ec.message());
  }
  return {address, hp.port};
}

[[noreturn]] void startup_failure(const std::string& what, const boost::system::error_code& ec) {
  throw std::runtime_error(what + ": " + ec.message());
}

}  // namespace

namespace {
std::vector<std::unique_ptr<asio::io_context>> make_io_contexts(unsigned configured) {
  const unsigned n =
      configured != 0 ? configured : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<asio::io_context>> ios;
  for (unsigned i = 0; i < n; ++i) {
    ios.push_back(std::make_unique<asio::io_context>(1));
  }
  return ios;
}
}  // namespace

Server::Server(Config config, RootCredentials root, std::string master_key)
    : config_(std::move(config)),
      test_clock_(config_.test_clock ? std::make_unique<OffsetClock>() : nullptr),
      ios_(make_io_contexts(config_.io_threads)),
      io_(*ios_[0]),
      signals_(io_, SIGINT, SIGTERM) {
  auto log = logger("server");
  if (config_.blocking_threads != 0) {
    set_blocking_threads(config_.blocking_threads);
  }
  std::error_code fs_ec;
  std::filesystem::create_directories(config_.data_dir, fs_ec);
  if (fs_ec) {
    throw std::runtime_error("cannot create data dir " + config_.data_dir.string() + ": " +
                             fs_ec.message());
  }

  auto store = events::Store::open(config_.data_dir / "db", events::OpenMode::kPrimary);
  if (!store) {
    startup_failure("cannot open the event store in " + (config_.data_dir / "db").string(),
                    store.error());
  }
  store_ = std::move(*store);
  auto event_log = events::EventLog::open(*store_, domain_clock());
  if (!event_log) {
    startup_failure("cannot open the event log", event_log.error());
  }
  log_ = std::move(*event_log);
  views_ = std::make_unique<events::ViewReader>(*store_);
  metrics().gauge("vaultaire_events_last_sequence", "Sequence number of the last durable event",
                  [l = log_.get()] { return static_cast<double>(l->last_sequence()); });

  actors::SpokeOptions spoke_options{
      .id = config_.spoke_id,
      .tiers = {},
      .release_delay = std::chrono::milliseconds(config_.release_delay_ms)};
  for (const TierConfig& t : config_.tiers) {
    spoke_options.tiers.push_back({.name = t.name,
                                   .driver = t.driver,
                                   .storage_classes = t.storage_classes,
                                   .instant = t.instant.value_or(true)});
  }
  tiering::TierTable tiers = tier_table();
  for (size_t i = 0; i < tiers.size(); ++i) {
    spoke_options.tiers[i].instant = tiers[i].instant;  // defaults filled in by tier_table()
  }
  spoke_ =
      std::make_unique<actors::Spoke>(io_.get_executor(), std::move(spoke_options), open_drivers());
  hub_ = std::make_unique<actors::LocalHub>(io_.get_executor(), *log_, *views_);
  actors::TieringOptions tiering_options;
  tiering_options.policy = config_.tiering.policy;
  tiering_options.pass_interval =
      std::chrono::seconds(std::max<int64_t>(1, config_.tiering.pass_interval_seconds));
  tiering_options.concurrency = std::max(1u, config_.tiering.concurrency);
  tiering_options.bandwidth_bytes_per_second = uint64_t{config_.tiering.bandwidth_mib_per_second}
                                               << 20;
  for (const AgeRuleConfig& rc : config_.tiering.rules) {
    tiering::AgeRule& rule = tiering_options.age_rules.emplace_back();
    rule.prefix = rc.prefix;
    for (const auto& [tier, days] : rc.steps) {
      rule.ladder.push_back({days, tier});
    }
    rule.promote_on_read = rc.promote_on_read;
    rule.min_size_bytes = static_cast<uint64_t>(rc.min_size_kib) * 1024;
  }
  if (auto problem = tiering::age_rules_problem(tiers, tiering_options.age_rules)) {
    throw std::runtime_error("invalid [[tiering.rules]]: " + *problem);
  }
  auto tiering =
      actors::TieringActor::create(asio::make_strand(io_), *store_, *log_, *views_, *hub_, *spoke_,
                                   std::move(tiers), std::move(tiering_options), domain_clock());
  if (!tiering) {
    throw std::runtime_error("unknown tiering policy '" + config_.tiering.policy +
                             "' (age-rules, intelligent-tiering, cost-optimal or none)");
  }
  tiering_ = std::move(*tiering);
  billing_ = std::make_unique<actors::BillingActor>(
      asio::make_strand(io_), *store_, *log_, tiering_->tiers().hottest().name, domain_clock());

  if (!config_.export_postgres.dsn.empty()) {
    actors::PostgresExportActorOptions pg;
    pg.exporter.dsn = config_.export_postgres.dsn;
    pg.exporter.name = config_.export_postgres.name;
    pg.exporter.batch_events = config_.export_postgres.batch_events;
    pg.poll_interval =
        std::chrono::milliseconds(std::max(10u, config_.export_postgres.poll_interval_ms));
    std::string error;
    auto exporter = actors::PostgresExportActor::create(*store_, *log_, std::move(pg), error);
    if (!exporter) {
      throw std::runtime_error("[export.postgres]: " + error);
    }
    pg_export_ = std::move(*exporter);
  }

  sweep_orphans();

  // Secrets of access keys are sealed under the master key: from the environment, or a key
  // file (created with a fresh key on first start).
  std::filesystem::path key_file;
  Result<MasterKeys> keys = Errc::kInternal;
  if (!master_key.empty()) {
    keys = MasterKeys::from_string(master_key);
  } else {
    key_file = config_.master_key_file.empty() ? config_.data_dir / "master.key"
                                               : std::filesystem::path(config_.master_key_file);
    keys = MasterKeys::load(key_file, /*create=*/true);
  }
  if (!keys) {
    startup_failure(master_key.empty() ? "cannot use the master key file " + key_file.string()
                                       : std::string("VAULTAIRE_MASTER_KEY is not a valid key"),
                    keys.error());
  }
  const std::string root_access_key = root.access_key;
  credentials_ = std::make_unique<HubCredentialStore>(*views_, hub_->identity_generation(),
                                                      std::move(*keys), key_file, std::move(root));
  s3::S3Options s3_options;
  s3_options.auth.region = config_.region;
  s3_options.access_log = config_.access_log;
  s3_options.domain = config_.s3_domain;
  s3_options.events_clock = &domain_clock();
  s3_ = std::make_unique<s3::S3Service>(s3_options, *hub_, *spoke_, *credentials_,
                                        SystemClock::instance());
  admin_api_ =
      std::make_unique<AdminApi>(*hub_, *credentials_, s3_options.auth, SystemClock::instance());
  admin_api_->set_tiering(tiering_.get(), test_clock_.get());
  admin_api_->set_event_log(*store_, *log_);
  admin_api_->set_billing(billing_.get(), price_sheet(tiering_->tiers()));
  admin_ = std::make_unique<AdminService>([this]() { return ready(); }, admin_api_.get());

  auto s3_listener = s3::HttpServer::create(
      io_, endpoint_of(config_.s3_listen),
      [svc = s3_.get()](s3::HttpExchange& ex) { return svc->handle(ex); },
      {.name = "s3", .malformed = s3::malformed_request_response}, workers());
  if (!s3_listener) {
    startup_failure("cannot listen on " + config_.s3_listen, s3_listener.error());
  }
  s3_listener_ = std::move(*s3_listener);
  auto admin_listener =
      s3::HttpServer::create(io_, endpoint_of(config_.admin_listen),
                             [svc = admin_.get()](s3::HttpExchange& ex) { return svc->handle(ex); },
                             {.name = "admin", .idle_timeout = std::chrono::seconds(30)});
  if (!admin_listener) {
    startup_failure("cannot listen on " + config_.admin_listen, admin_listener.error());
  }
  admin_listener_ = std::move(*admin_listener);

  const auto s3_ep = s3_listener_->local_endpoint();
  const auto admin_ep = admin_listener_->local_endpoint();
  log->info(
      "vaultaire serving s3=http://{}:{} admin=http://{}:{} data_dir={} region={} "
      "access_key={} last_sequence={}",
      s3_ep.address().to_string(), s3_ep.port(), admin_ep.address().to_string(), admin_ep.port(),
      config_.data_dir.string(), config_.region, root_access_key, log_->last_sequence());
}

Server::~Server() {
  s3_listener_.reset();
  admin_listener_.reset();
  if (tiering_) {
    tiering_->stop();
  }
  if (billing_) {
    billing_->stop();
  }
  if (pg_export_) {
    pg_export_->stop();  // joins its thread: after the network threads, which it never blocks
  }
  if (hub_) {
    hub_->stop();
  }
  if (log_) {
    log_->stop();
  }
}

const Clock& Server::domain_clock() const {
  if (test_clock_) {
    return *test_clock_;
  }
  return SystemClock::instance();
}

std::vector<std::unique_ptr<drivers::Driver>> Server::open_drivers() {
  std::vector<std::unique_ptr<drivers::Driver>> out;
  for (const auto& [name, d] : config_.drivers) {
    if (d.type == "local") {
      auto local =
          drivers::LocalDriver::create({.name = name, .root = d.path}, SystemClock::instance());
      if (!local) {
        startup_failure("cannot open driver '" + name + "' at " + d.path.string(), local.error());
      }
      out.push_back(std::move(*local));
      continue;
    }
    drivers::S3DriverOptions o;
    o.name = name;
    o.endpoint = d.endpoint;
    o.bucket = d.bucket;
    o.prefix = d.prefix;
    o.access_key = d.access_key;
    o.secret_key = d.secret_key;
    if (!d.secret_key_env.empty()) {
      const char* v = std::getenv(d.secret_key_env.c_str());
      if (v == nullptr) {
        throw std::runtime_error("driver '" + name + "': environment variable " + d.secret_key_env +
                                 " is not set");
      }
      o.secret_key = v;
    }
    o.region = d.region;
    o.storage_class = d.storage_class;
    o.max_connections = std::max(1u, d.max_connections);
    o.part_size = size_t{std::max(5u, d.part_size_mib)} << 20;
    auto s3 = drivers::S3Driver::create(io_.get_executor(), std::move(o), SystemClock::instance());
    if (!s3) {
      startup_failure("cannot configure driver '" + name + "'", s3.error());
    }
    out.push_back(std::move(*s3));
  }
  return out;
}

billing::PriceSheet Server::price_sheet(const tiering::TierTable& tiers) const {
  billing::PriceSheet sheet;
  for (const tiering::Tier& t : tiers.tiers()) {
    billing::TierPrices p;
    p.tier = t.name;
    p.storage_per_gb_month = t.storage_per_gb_month;
    p.per_1000_a = t.put_per_1000;
    p.per_1000_b = t.get_per_1000;
    p.retrieval_per_gb = t.retrieval_per_gb;
    p.restore_per_gb = t.restore_per_gb;
    p.restore_per_1000 = t.restore_per_1000;
    sheet.tiers.push_back(std::move(p));
  }
  sheet.transfer_out_per_gb = config_.billing.transfer_out_per_gb;
  sheet.transfer_in_per_gb = config_.billing.transfer_in_per_gb;
  sheet.currency = config_.billing.currency;
  return sheet;
}

tiering::TierTable Server::tier_table() const {
  const tiering::TierTable& defaults = tiering::default_tiers();
  std::vector<tiering::Tier> tiers;
  for (const TierConfig& c : config_.tiers) {
    tiering::Tier t;
    if (const auto i = defaults.index_of(c.name)) {
      t = defaults[*i];
    }
    t.name = c.name;
    t.storage_per_gb_month = c.price_gb_month.value_or(t.storage_per_gb_month);
    t.retrieval_per_gb = c.price_gb_retrieved.value_or(t.retrieval_per_gb);
    t.get_per_1000 = c.price_per_1000_get.value_or(t.get_per_1000);
    t.put_per_1000 = c.price_per_1000_put.value_or(t.put_per_1000);
    t.min_storage_days = c.min_storage_days.value_or(t.min_storage_days);
    if (c.min_billable_kib) {
      t.min_billable_bytes = static_cast<uint64_t>(*c.min_billable_kib) * 1024;
    }
    t.instant = c.instant.value_or(t.instant);
    t.restore_per_gb = c.restore_price_gb.value_or(t.restore_per_gb);
    t.restore_per_1000 = c.restore_price_per_1000.value_or(t.restore_per_1000);
    t.restore_hours = c.restore_hours.value_or(t.restore_hours);
    tiers.push_back(std::move(t));
  }
  auto table = tiering::TierTable::create(std::move(tiers));
  if (!table) {
    throw std::runtime_error("the [[tiers]] configuration is not valid: " +
                             table.error().message());
  }
  return *std::move(table);
}

void Server::sweep_orphans() {
  const int64_t now = SystemClock::instance().now_unix_nanos() / kNanosPerSecond;
  const int64_t cutoff = now - config_.sweep_grace_seconds;
  for (const auto& [name, driver] : spoke_->drivers()) {
    auto referenced = [views = views_.get(), driver_name = name](std::string_view id) {
      auto r = views->blob_referenced(driver_name, id);
      return !r || *r;  // when unsure, keep the blob
    };
    std::optional<Result<drivers::SweepReport>> outcome;
    asio::co_spawn(io_, driver->sweep(std::move(referenced), cutoff),
                   [&outcome](std::exception_ptr e, Result<drivers::SweepReport> r) {
                     outcome = e ? Result<drivers::SweepReport>(Errc::kInternal) : std::move(r);
                   });
    io_.run();
    io_.restart();
    if (outcome && *outcome) {
      const auto& rep = **outcome;
      logger("server")->info(
          "startup sweep driver={} examined={} removed={} removed_bytes={} temp_removed={}", name,
          rep.examined, rep.removed, rep.removed_bytes, rep.temp_removed);
    } else {
      logger("server")->warn("startup sweep failed driver={}", name);
    }
  }
}

std::vector<asio::io_context*> Server::workers() const {
  std::vector<asio::io_context*> out;
  for (const auto& io : ios_) {
    out.push_back(io.get());
  }
  return out;
}

asio::awaitable<bool> Server::ready() {
  for (const auto& [name, driver] : spoke_->drivers()) {
    if (!co_await driver->health()) {
      co_return false;
    }
  }
  co_return true;
}

void Server::run() {
  if (auto started = tiering_->start(); !started) {
    startup_failure("cannot start the tiering actor", started.error());
  }
  if (auto started = billing_->start(); !started) {
    startup_failure("cannot start the billing actor", started.error());
  }
  if (pg_export_) {
    pg_export_->start();
  }
  hub_->start_upload_sweep(std::chrono::seconds(std::max<int64_t>(1, config_.upload_sweep_seconds)),
                           std::chrono::seconds(config_.upload_abandon_seconds), domain_clock(),
                           [spoke = spoke_.get()](std::vector<proto::BlobRef> blobs) {
                             spoke->release(std::move(blobs));
                           });
  hub_->registry().start_eviction(
      std::chrono::seconds(std::max<int64_t>(1, config_.actor_idle_seconds / 2)),
      std::chrono::seconds(config_.actor_idle_seconds));
  s3_listener_->start();
  admin_listener_->start();
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (!ec) {
      logger("server")->info("signal received signal={} stopping", signo);
      stop();
    }
  });
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  for (auto& io : ios_) {
    keep_running.push_back(asio::make_work_guard(*io));
  }
  std::vector<std::thread> threads;
  for (size_t i = 1; i < ios_.size(); ++i) {
    threads.emplace_back([io = ios_[i].get()] { io->run(); });
  }
  io_.run();
  for (auto& io : ios_) {
    io->stop();
  }
  for (auto& t : threads) {
    t.join();
  }
  logger("server")->info("stopped last_sequence={}", log_->last_sequence());
}

void Server::stop() {
  asio::post(io_, [this] {
    s3_listener_->stop();
    admin_listener_->stop();
    admin_api_->stop_streams();
    boost::system::error_code ec;
    signals_.cancel(ec);
    asio::co_spawn(io_, drain_and_stop(), [this](const std::exception_ptr& e) {
      if (e) {  // not expected; stop all the same
        logger("server")->error("shutdown drain failed, stopping now");
        for (auto& io : ios_) {
          io->stop();
        }
      }
    });
  });
}

asio::awaitable<void> Server::drain_and_stop() {
  // Requests in flight finish (the hub still answers them) for up to kShutdownGrace; then the
  // connections still open are closed, and their sessions unwind before the services go.
  // Acknowledged writes are durable regardless.
  constexpr auto kShutdownGrace = std::chrono::seconds(10);
  constexpr auto kUnwindGrace = std::chrono::seconds(2);
  const auto open = [this] {
    return s3_listener_->open_sessions() + admin_listener_->open_sessions();
  };
  asio::steady_timer timer(io_);
  auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
  bool aborted = false;
  for (;;) {
    const size_t busy = open();
    if (busy == 0) {
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (aborted) {
        logger("server")->warn("stopping with open connections connections={}", busy);
        break;
      }
      logger("server")->warn("shutdown grace over, closing connections connections={}", busy);
      s3_listener_->abort_sessions();
      admin_listener_->abort_sessions();
      aborted = true;
      deadline = std::chrono::steady_clock::now() + kUnwindGrace;
    }
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(kNoThrow);
  }
  tiering_->stop();
  billing_->stop();
  hub_->stop();
  for (auto& io : ios_) {
    io->stop();
  }
}

}  // namespace vaultaire::server

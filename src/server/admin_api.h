#pragma once

// The admin API (docs/admin-api.md): JSON over HTTP on the admin listener, SigV4-signed by root
// or a tenant admin, for tenants, users, access keys, grants, bucket ACLs, quotas and usage.
// Every change goes through the hub as a command, so it is an event like everything else.

#include <memory>
#include <string>

#include "actors/billing_actor.h"
#include "actors/hub.h"
#include "actors/tiering_actor.h"
#include "common/clock.h"
#include "s3/auth.h"
#include "s3/http_server.h"
#include "server/admin_events.h"
#include "server/credentials.h"

namespace vaultaire::server {

class AdminApi {
 public:
  // All references outlive the API.
  AdminApi(actors::Hub& hub, HubCredentialStore& credentials, s3::AuthOptions auth,
           const Clock& clock);

  // True for the paths it answers (/admin/v1/...).
  static bool handles(std::string_view path) { return path.substr(0, 10) == "/admin/v1/"; }

  asio::awaitable<void> handle(s3::HttpExchange& exchange);

  // /tiering/... answers once set; /test/clock only with a test clock (serve --test-clock).
  void set_tiering(actors::TieringActor* tiering, OffsetClock* test_clock) {
    tiering_ = tiering;
    test_clock_ = test_clock;
  }
  // GET /events (the log as NDJSON, admin_events.h) answers once set; `store` and `log`
  // outlive the API.
  void set_event_log(const events::Store& store, const events::EventLog& log) {
    event_stream_ = std::make_unique<EventStream>(store, log);
  }
  // Ends the event streams that follow the log (the server is stopping).
  void stop_streams() {
    if (event_stream_) {
      event_stream_->stop();
    }
  }
  // /billing/... answers once set.
  void set_billing(actors::BillingActor* billing, billing::PriceSheet prices) {
    billing_ = billing;
    prices_ = std::move(prices);
  }

 private:
  struct Call;
  asio::awaitable<void> route(Call& call);
  asio::awaitable<void> record_denial(Call& call);
  asio::awaitable<bool> route_tiering(Call& call);
  // GET /events: false (with call.answer set) when refused, true once streamed.
  asio::awaitable<bool> stream_events(Call& call);
  asio::awaitable<bool> route_billing(Call& call);
  // The tenant's record as the admin API shows it (Errc::kNotFound unless created or default).
  asio::awaitable<Result<proto::TenantRecord>> tenant_record(Call& call, std::string tenant);

  actors::Hub& hub_;
  HubCredentialStore& credentials_;
  const s3::AuthOptions auth_;
  const Clock& clock_;
  actors::TieringActor* tiering_ = nullptr;
  OffsetClock* test_clock_ = nullptr;
  std::unique_ptr<EventStream> event_stream_;
  actors::BillingActor* billing_ = nullptr;
  billing::PriceSheet prices_;
};

}  // namespace vaultaire::server

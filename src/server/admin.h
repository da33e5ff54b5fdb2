#pragma once

// The admin listener's handler: GET /health (the process answers), GET /ready (the log is open
// and every driver is healthy), GET /metrics (Prometheus text).

#include <functional>

#include "s3/http_server.h"
#include "server/admin_api.h"

namespace vaultaire::server {

class AdminService {
 public:
  // `ready` reports readiness; it may await (driver health checks).
  // `api` (may be null) answers /admin/v1/...; it outlives the service.
  AdminService(std::function<asio::awaitable<bool>()> ready, AdminApi* api)
      : ready_(std::move(ready)), api_(api) {}

  asio::awaitable<void> handle(s3::HttpExchange& exchange);

 private:
  std::function<asio::awaitable<bool>()> ready_;
  AdminApi* api_;
};

}  // namespace vaultaire::server

#pragma once

// The admin listener's handler: GET /health (the process answers), GET /ready (the log is open
// and every driver is healthy), GET /metrics (Prometheus text).

#include <functional>

#include "s3/http_server.h"

namespace vaultaire::server {

class AdminService {
 public:
  // `ready` reports readiness; it may await (driver health checks).
  explicit AdminService(std::function<asio::awaitable<bool>()> ready) : ready_(std::move(ready)) {}

  asio::awaitable<void> handle(s3::HttpExchange& exchange);

 private:
  std::function<asio::awaitable<bool>()> ready_;
};

}  // namespace vaultaire::server

#include "server/admin.h"

#include "common/metrics.h"

namespace vaultaire::server {

asio::awaitable<void> AdminService::handle(s3::HttpExchange& exchange) {
  const auto& req = exchange.request();
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (api_ != nullptr && AdminApi::handles(path)) {
    co_await api_->handle(exchange);
    co_return;
  }
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::server, "Vaultaire");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.body() = "method not allowed\n";
  } else if (path == "/health") {
    res.body() = "ok\n";
  } else if (path == "/ready") {
    const bool ready = co_await ready_();
    res.result(ready ? http::status::ok : http::status::service_unavailable);
    res.body() = ready ? "ready\n" : "not ready\n";
  } else if (path == "/metrics") {
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = metrics().render();
  } else {
    res.result(http::status::not_found);
    res.body() = "not found\n";
  }
  if (!exchange.body_done()) {
    exchange.close_after();
  }
  (void)co_await exchange.send(std::move(res));
}

}  // namespace vaultaire::server

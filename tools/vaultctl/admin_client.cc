#include "vaultctl/admin_client.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "common/assert.h"
#include "common/crypto.h"
#include "common/sigv4.h"
#include "common/uri.h"

namespace vaultaire::vaultctl {
namespace {

constexpr std::string_view kService = "s3";
constexpr std::string_view kPrefix = "/admin/v1";
constexpr uint64_t kMaxAnswerBytes = 64ull << 20;  // a key list of a very large tenant

// 20091012T175030Z
std::string amz_date(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char out[17];
  std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &tm);
  return out;
}

asio::awaitable<Result<AdminResponse>> exchange(Endpoint endpoint,
                                                http::request<http::string_body> req,
                                                std::chrono::seconds timeout) {
  const auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_ec, addresses] =
      co_await resolver.async_resolve(endpoint.host, endpoint.port, kNoThrow);
  if (resolve_ec) {
    co_return resolve_ec;
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);  // one deadline for connect, write and read together
  auto [connect_ec, connected] = co_await stream.async_connect(addresses, kNoThrow);
  if (connect_ec) {
    co_return connect_ec;
  }
  auto [write_ec, written] = co_await http::async_write(stream, req, kNoThrow);
  if (write_ec) {
    co_return write_ec;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  if (read_ec) {
    co_return read_ec;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  co_return AdminResponse{parser.get().result_int(), std::move(parser.get().body())};
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint out;
  out.url = std::string(url);
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return Errc::kInvalidArgument;  // https or another scheme
  }
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") {
      return Errc::kInvalidArgument;  // the admin API is at the root of the listener
    }
    rest = rest.substr(0, slash);
  }
  out.authority = std::string(rest);
  std::string_view port;
  if (rest.starts_with("[")) {  // [::1]:8081
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return Errc::kInvalidArgument;
    }
    out.host = std::string(rest.substr(1, close - 1));
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(":")) {
        return Errc::kInvalidArgument;
      }
      port = after.substr(1);
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  } else {
    out.host = std::string(rest);
  }
  if (out.host.empty()) {
    return Errc::kInvalidArgument;
  }
  if (port.empty()) {
    out.port = "80";
    return out;
  }
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
    return Errc::kInvalidArgument;
  }
  out.port = std::string(port);
  return out;
}

void sign(http::request<http::string_body>& req, const Credentials& credentials,
          std::string_view authority, int64_t unix_seconds) {
  const std::string date_time = amz_date(unix_seconds);
  const std::string date = date_time.substr(0, 8);
  const std::string payload_hash = to_hex(sha256(req.body()));
  req.set(http::field::host, authority);
  req.set("x-amz-date", date_time);
  req.set("x-amz-content-sha256", payload_hash);

  // Sorted, as SigV4 lists them.
  std::vector<sigv4::Header> headers;
  if (const auto type = req.find(http::field::content_type); type != req.end()) {
    headers.push_back({"content-type", std::string(type->value())});
  }
  headers.push_back({"host", std::string(authority)});
  headers.push_back({"x-amz-content-sha256", payload_hash});
  headers.push_back({"x-amz-date", date_time});
  std::vector<std::string> signed_headers;
  for (const auto& h : headers) {
    signed_headers.push_back(h.name);
  }

  const std::string_view target = req.target();
  const Target split = split_target(target);
  const std::optional<std::string> decoded_path = uri_decode(split.path, false);
  VAULTAIRE_ASSERT(decoded_path.has_value(), "the target was encoded by the caller");
  const std::optional<std::vector<QueryParam>> query = parse_query(split.query);
  VAULTAIRE_ASSERT(query.has_value(), "the target was encoded by the caller");

  sigv4::CanonicalInput in;
  in.method = req.method_string();
  in.canonical_uri = sigv4::canonical_uri(*decoded_path, /*normalize=*/false);
  in.query = *query;
  in.headers = std::move(headers);
  in.signed_headers = signed_headers;
  in.payload_hash = payload_hash;
  const std::string scope = sigv4::scope(date, credentials.region, kService);
  const std::string string_to_sign =
      sigv4::string_to_sign(date_time, scope, sigv4::canonical_request(in));
  const std::string key =
      sigv4::signing_key(credentials.secret_key, date, credentials.region, kService);

  std::string joined;
  for (const auto& name : signed_headers) {
    joined += joined.empty() ? name : ";" + name;
  }
  req.set(http::field::authorization,
          std::string(sigv4::kAlgorithm) + " Credential=" + credentials.access_key + "/" + scope +
              ", SignedHeaders=" + joined + ", Signature=" + sigv4::signature(key, string_to_sign));
}

AdminClient::AdminClient(Endpoint endpoint, Credentials credentials, std::chrono::seconds timeout)
    : endpoint_(std::move(endpoint)), credentials_(std::move(credentials)), timeout_(timeout) {}

Result<AdminResponse> AdminClient::call(http::verb method, std::string_view path,
                                        std::string body) const {
  http::request<http::string_body> req{method, std::string(kPrefix) + std::string(path), 11};
  req.set(http::field::user_agent, "vaultctl");
  req.set(http::field::accept, "application/json");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
  }
  req.body() = std::move(body);
  req.prepare_payload();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  sign(req, credentials_, endpoint_.authority,
       std::chrono::duration_cast<std::chrono::seconds>(now).count());

  asio::io_context io;
  Result<AdminResponse> out = Errc::kInternal;
  asio::co_spawn(io, exchange(endpoint_, std::move(req), timeout_),
                 [&out](std::exception_ptr e, Result<AdminResponse> r) {
                   if (e) {
                     std::rethrow_exception(e);  // out of io.run(), to main's handler
                   }
                   out = std::move(r);
                 });
  io.run();
  return out;
}

}  // namespace vaultaire::vaultctl

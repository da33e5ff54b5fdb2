#pragma once

// A synchronous client of the admin API (docs/admin-api.md): one SigV4-signed HTTP/1.1 request
// per call, on a fresh connection, with one deadline for the whole exchange. For vaultctl, which
// makes one or two calls and exits.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include "common/async.h"
#include "common/errors.h"

namespace vaultaire::vaultctl {

// Where the admin listener is: "http://host:port" (or "host:port"), parsed.
struct Endpoint {
  std::string host;       // name or address; an IPv6 address without its brackets
  std::string port;       // "80" when the URL names none
  std::string authority;  // the Host header: host[:port] as written
  std::string url;        // as given, for messages
};

// Parses an endpoint URL. Only plain http: the admin listener does not speak TLS. Fails with
// Errc::kInvalidArgument (https, a path other than "/", no host, a bad port).
[[nodiscard]] Result<Endpoint> parse_endpoint(std::string_view url);

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region;
};

struct AdminResponse {
  unsigned status = 0;
  std::string body;
};

// Adds what SigV4 needs (host, x-amz-date, x-amz-content-sha256, and Authorization over those
// and content-type when the request has it) to `req`, whose target, method and body are final.
// Service "s3", as the server expects.
void sign(http::request<http::string_body>& req, const Credentials& credentials,
          std::string_view authority, int64_t unix_seconds);

class AdminClient {
 public:
  AdminClient(Endpoint endpoint, Credentials credentials, std::chrono::seconds timeout);

  // Sends `method` to "/admin/v1" + `path` (already percent-encoded) with `body`, a JSON text
  // or empty. Succeeds with whatever the server answered, any status. Fails only when no answer
  // arrived: the error of resolving, connecting, writing or reading; beast::error::timeout when
  // the deadline passed first.
  [[nodiscard]] Result<AdminResponse> call(http::verb method, std::string_view path,
                                           std::string body) const;

  const Endpoint& endpoint() const { return endpoint_; }
  std::chrono::seconds timeout() const { return timeout_; }

 private:
  Endpoint endpoint_;
  Credentials credentials_;
  std::chrono::seconds timeout_;
};

}  // namespace vaultaire::vaultctl

#pragma once

// A Boost.Beast HTTP/1.1 server: keep-alive connections, one coroutine per connection (on one of
// the worker io_contexts, each run by one thread, or on a strand of the accepting io_context),
// request bodies streamed to the handler on demand (never buffered whole), responses
// either whole or streamed. Used by the S3 listener and the admin listener.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/async.h"
#include "common/errors.h"

namespace vaultaire::s3 {

struct HttpServerOptions {
  std::string name = "http";                                     // for logs
  std::chrono::seconds idle_timeout{120};                        // waiting for the next request
  std::chrono::seconds io_timeout{300};                          // any single read or write
  uint64_t body_limit = 5ull * 1024 * 1024 * 1024 + (64 << 20);  // 5 GiB plus chunk framing
  uint32_t header_limit = 64 * 1024;
  // The answer to a request whose head does not parse (a bad header byte, a head over
  // header_limit, a Content-Length over body_limit); the connection closes after it. Unset: a
  // plain-text 400.
  std::function<http::response<http::string_body>(const boost::system::error_code&)> malformed;
};

// One request on a connection and its response. Owned by the connection's coroutine, which
// awaits the handler: the exchange outlives every coroutine the handler runs on it.
class HttpExchange {
 public:
  HttpExchange(beast::tcp_stream& stream, beast::flat_buffer& buffer,
               http::request_parser<http::empty_body>& header, std::string remote,
               const HttpServerOptions& options);
  ~HttpExchange();
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  const http::request_header<>& request() const;
  const std::string& remote() const { return remote_; }

  // The announced body length, if the request has a Content-Length.
  std::optional<uint64_t> content_length() const;
  bool chunked() const;

  // Appends up to `max` body bytes to `out`; returns how many (0 once the body is complete).
  // Sends "100 Continue" first when the client asked for it. Fails with Errc::kIncompleteBody
  // when the client stops sending, Errc::kEntityTooLarge past the body limit.
  asio::awaitable<Result<size_t>> read_body(std::string* out, size_t max);
  bool body_done() const;

  // A whole response. Adds Content-Length; closes the connection afterwards if the request
  // body was not fully read or the request asked to close.
  asio::awaitable<Result<void>> send(http::response<http::string_body> response);

  // A reply to HEAD: the header as given (Content-Length describes the entity), no body.
  asio::awaitable<Result<void>> send_head(http::response<http::string_body> response);

  // A streamed response: the header (with Content-Length set by the caller) together with the
  // first body chunk in one write, then the other chunks. `last` marks the final chunk.
  asio::awaitable<Result<void>> send_header(http::response<http::buffer_body> response,
                                            std::string first_chunk, bool last);
  asio::awaitable<Result<void>> send_body(std::string chunk, bool last);

  // Whether the connection can carry another request after this one.
  bool keep_alive() const;
  void close_after() { close_ = true; }

  uint64_t body_bytes_read() const { return body_bytes_read_; }
  uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  asio::awaitable<Result<void>> maybe_continue();
  asio::awaitable<Result<size_t>> read_direct(std::string* out, size_t max);

  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  http::request_parser<http::empty_body>& header_;  // moved into body_ once the body is read
  std::optional<http::request_parser<http::buffer_body>> body_;  // chunked bodies only
  std::optional<uint64_t> direct_remaining_;  // a Content-Length body read straight off the socket
  std::optional<http::response<http::buffer_body>> streamed_;
  std::optional<http::response_serializer<http::buffer_body>> serializer_;
  std::string chunk_;  // the body bytes being written
  std::string remote_;
  const HttpServerOptions& options_;
  bool continue_sent_ = false;
  bool close_ = false;
  bool failed_ = false;
  uint64_t body_bytes_read_ = 0;
  uint64_t bytes_sent_ = 0;
};

// The handler answers one request; it must send exactly one response.
using HttpHandler = std::function<asio::awaitable<void>(HttpExchange&)>;

class HttpServer {
 public:
  // Binds `endpoint` (port 0 picks a free port); accepts on `io` and deals connections out to
  // `workers` in turn (each connection then lives on one of them; empty: all on `io`). Fails
  // with Errc::kIo when it cannot listen.
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> create(
      asio::io_context& io, asio::ip::tcp::endpoint endpoint, HttpHandler handler,
      HttpServerOptions options, std::vector<asio::io_context*> workers = {});
  ~HttpServer();

  void start();
  // Stops accepting; connections waiting for their next request close now, the others finish
  // their current request and close. Call it from a thread of `io`.
  void stop();
  // Connections still open (after stop(): those finishing a request).
  size_t open_sessions() const;
  // Closes every open connection's socket, so that whatever it waits for fails and its session
  // ends: for a shutdown whose grace period is over.
  void abort_sessions();
  asio::ip::tcp::endpoint local_endpoint() const;

 private:
  HttpServer(asio::io_context& io, HttpHandler handler, HttpServerOptions options,
             std::vector<asio::io_context*> workers);
  static asio::awaitable<void> accept_loop(HttpServer* self);
  static asio::awaitable<void> session(HttpServer* self, asio::ip::tcp::socket socket);
  bool stopping() const { return sessions_->stopping.load(); }
  // Runs `act` on the stream of each open connection (with `idle_only`, of each waiting for a
  // request), on that connection's own executor, if it is still open (and idle) there.
  void post_to_sessions(bool idle_only, std::function<void(beast::tcp_stream&)> act);

  asio::io_context& io_;
  std::vector<asio::io_context*> workers_;
  size_t next_worker_ = 0;  // used by the accept loop only
  asio::ip::tcp::acceptor acceptor_;
  HttpHandler handler_;
  HttpServerOptions options_;
  // Shared with the sessions, which may outlive the server object by a little.
  struct Sessions {
    // A session marks itself idle before it checks `stopping`, and stop() sets `stopping` before
    // it looks for idle sessions (both sequentially consistent): either the session sees the
    // stop, or stop() sees it idle. No lock per request.
    std::atomic<bool> stopping{false};
    std::mutex mutex;
    // Every open connection and its "waiting for a request" flag, owned by its session; the
    // map guarded by mutex.
    std::unordered_map<beast::tcp_stream*, const std::atomic<bool>*> open;
  };
  std::shared_ptr<Sessions> sessions_;
};

}  // namespace vaultaire::s3

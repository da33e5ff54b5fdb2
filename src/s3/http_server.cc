#include "s3/http_server.h"

#include <array>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "common/logging.h"

namespace vaultaire::s3 {

HttpExchange::HttpExchange(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                           http::request_parser<http::empty_body>& header, std::string remote,
                           const HttpServerOptions& options)
    : stream_(stream),
      buffer_(buffer),
      header_(header),
      remote_(std::move(remote)),
      options_(options) {}

HttpExchange::~HttpExchange() = default;

const http::request_header<>& HttpExchange::request() const {
  if (body_) {
    return body_->get();
  }
  return header_.get();
}

std::optional<uint64_t> HttpExchange::content_length() const {
  const auto v = body_ ? body_->content_length() : header_.content_length();
  return v ? std::optional<uint64_t>(*v) : std::nullopt;
}

bool HttpExchange::chunked() const { return body_ ? body_->chunked() : header_.chunked(); }

bool HttpExchange::body_done() const {
  if (direct_remaining_) {
    return *direct_remaining_ == 0;
  }
  if (body_) {
    return body_->is_done();
  }
  return header_.is_done();
}

bool HttpExchange::keep_alive() const {
  const bool keep = body_ ? body_->keep_alive() : header_.keep_alive();
  // A client that asked for 100-continue and got a final answer instead may still send its
  // body, or (botocore) mis-parse the next response on this connection: start afresh.
  const bool expect_pending =
      !continue_sent_ && beast::iequals(request()[http::field::expect], "100-continue");
  return !close_ && !failed_ && !expect_pending && body_done() && keep;
}

asio::awaitable<Result<void>> HttpExchange::maybe_continue() {
  if (continue_sent_) {
    co_return Result<void>{};
  }
  continue_sent_ = true;
  const auto expect = request()[http::field::expect];
  if (!beast::iequals(expect, "100-continue")) {
    co_return Result<void>{};
  }
  http::response<http::empty_body> res{http::status::continue_, 11};
  stream_.expires_after(options_.io_timeout);
  auto [ec, n] = co_await http::async_write(stream_, res, kNoThrow);
  if (ec) {
    failed_ = true;
    co_return Errc::kIncompleteBody;
  }
  co_return Result<void>{};
}

asio::awaitable<Result<size_t>> HttpExchange::read_body(std::string* out, size_t max) {
  if (!body_ && !direct_remaining_) {
    // Even an empty body gets its 100 Continue: some clients wait for it regardless.
    if (auto r = co_await maybe_continue(); !r) {
      co_return r.error();
    }
    if (header_.is_done()) {
      co_return size_t{0};
    }
    if (const auto length = header_.content_length(); length && !header_.chunked()) {
      if (*length > options_.body_limit) {
        failed_ = true;
        co_return Errc::kEntityTooLarge;
      }
      direct_remaining_ = *length;
    } else {
      body_.emplace(std::move(header_));
      body_->body_limit(options_.body_limit);
    }
  }
  if (direct_remaining_) {
    co_return co_await read_direct(out, max);
  }
  http::request_parser<http::buffer_body>& parser = *body_;
  const size_t start = out->size();
  out->resize(start + max);
  size_t got = 0;
  while (got == 0 && !parser.is_done()) {
    parser.get().body().data = out->data() + start;
    parser.get().body().size = max;
    stream_.expires_after(options_.io_timeout);
    auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, kNoThrow);
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    got = max - parser.get().body().size;
    if (ec) {
      out->resize(start + got);
      failed_ = true;
      if (ec == http::error::body_limit) {
        co_return Errc::kEntityTooLarge;
      }
      co_return Errc::kIncompleteBody;
    }
  }
  out->resize(start + got);
  body_bytes_read_ += got;
  co_return got;
}

// A body of known length: what the header read already buffered, then straight from the
// socket, `max` bytes at a time (or what remains).
asio::awaitable<Result<size_t>> HttpExchange::read_direct(std::string* out, size_t max) {
  uint64_t& remaining = *direct_remaining_;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, max));
  if (want == 0) {
    co_return size_t{0};
  }
  const size_t start = out->size();
  out->resize(start + want);
  const size_t buffered = std::min(buffer_.size(), want);
  if (buffered > 0) {
    asio::buffer_copy(asio::buffer(out->data() + start, buffered), buffer_.data());
    buffer_.consume(buffered);
  }
  size_t got = buffered;
  if (got < want) {
    stream_.expires_after(options_.io_timeout);
    auto [ec, n] = co_await asio::async_read(
        stream_, asio::buffer(out->data() + start + got, want - got), kNoThrow);
    got += n;
    if (ec) {
      out->resize(start + got);
      remaining -= got;
      body_bytes_read_ += got;
      failed_ = true;
      co_return Errc::kIncompleteBody;
    }
  }
  remaining -= got;
  body_bytes_read_ += got;
  co_return got;
}

asio::awaitable<Result<void>> HttpExchange::send(http::response<http::string_body> response) {
  response.keep_alive(keep_alive());
  response.prepare_payload();
  stream_.expires_after(options_.io_timeout);
  const size_t body = response.body().size();
  auto [ec, n] = co_await http::async_write(stream_, response, kNoThrow);
  if (ec) {
    failed_ = true;
    co_return Errc::kIo;
  }
  bytes_sent_ += body;
  co_return Result<void>{};
}

asio::awaitable<Result<void>> HttpExchange::send_head(http::response<http::string_body> response) {
  response.keep_alive(keep_alive());
  http::response<http::empty_body> head(std::move(response.base()));
  stream_.expires_after(options_.io_timeout);
  auto [ec, n] = co_await http::async_write(stream_, head, kNoThrow);
  if (ec) {
    failed_ = true;
    co_return Errc::kIo;
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> HttpExchange::send_header(http::response<http::buffer_body> response,
                                                        std::string first_chunk, bool last) {
  response.keep_alive(keep_alive());
  streamed_.emplace(std::move(response));
  serializer_.emplace(*streamed_);
  co_return co_await send_body(std::move(first_chunk), last);
}

asio::awaitable<Result<void>> HttpExchange::send_body(std::string chunk, bool last) {
  chunk_ = std::move(chunk);
  streamed_->body().data = chunk_.empty() ? nullptr : chunk_.data();
  streamed_->body().size = chunk_.size();
  streamed_->body().more = !last;
  stream_.expires_after(options_.io_timeout);
  auto [ec, n] = co_await http::async_write(stream_, *serializer_, kNoThrow);
  if (ec == http::error::need_buffer) {
    ec = {};
  }
  if (ec) {
    failed_ = true;
    co_return Errc::kIo;
  }
  bytes_sent_ += chunk_.size();
  co_return Result<void>{};
}

Result<std::unique_ptr<HttpServer>> HttpServer::create(asio::io_context& io,
                                                       asio::ip::tcp::endpoint endpoint,
                                                       HttpHandler handler,
                                                       HttpServerOptions options,
                                                       std::vector<asio::io_context*> workers) {
  auto server = std::unique_ptr<HttpServer>(
      new HttpServer(io, std::move(handler), options, std::move(workers)));
  boost::system::error_code ec;
  server->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    server->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    server->acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    logger("s3")->error("cannot listen server={} endpoint={}:{} error={}", options.name,
                        endpoint.address().to_string(), endpoint.port(), ec.message());
    return Errc::kIo;
  }
  return server;
}

HttpServer::HttpServer(asio::io_context& io, HttpHandler handler, HttpServerOptions options,
                       std::vector<asio::io_context*> workers)
    : io_(io),
      workers_(std::move(workers)),
      acceptor_(io),
      handler_(std::move(handler)),
      options_(std::move(options)),
      sessions_(std::make_shared<Sessions>()) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(this), log_exception("accept loop"));
}

void HttpServer::stop() {
  sessions_->stopping.store(true);
  post_to_sessions(true, [](beast::tcp_stream& stream) { stream.cancel(); });
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void HttpServer::post_to_sessions(bool idle_only, std::function<void(beast::tcp_stream&)> act) {
  std::vector<beast::tcp_stream*> streams;
  {
    std::lock_guard lock(sessions_->mutex);
    for (const auto& [stream, idle] : sessions_->open) {
      if (!idle_only || idle->load()) {
        streams.push_back(stream);
      }
    }
  }
  // On the stream's own executor, where its session runs: a session that has gone meanwhile
  // has left the map (on that executor too), so the pointer is used only while the stream
  // lives.
  for (beast::tcp_stream* stream : streams) {
    asio::post(stream->get_executor(), [sessions = sessions_, stream, idle_only, act] {
      std::lock_guard lock(sessions->mutex);
      if (auto it = sessions->open.find(stream);
          it != sessions->open.end() && (!idle_only || it->second->load())) {
        act(*stream);
      }
    });
  }
}

size_t HttpServer::open_sessions() const {
  std::lock_guard lock(sessions_->mutex);
  return sessions_->open.size();
}

void HttpServer::abort_sessions() {
  post_to_sessions(false, [](beast::tcp_stream& stream) {
    boost::system::error_code ignored;
    stream.socket().close(ignored);
  });
}

asio::ip::tcp::endpoint HttpServer::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

asio::awaitable<void> HttpServer::accept_loop(HttpServer* self) {
  for (;;) {
    // Each worker io_context is run by exactly one thread, so a connection on it needs no
    // strand: its handlers never run concurrently. Without workers, a strand of io_, whatever
    // number of threads runs it.
    asio::any_io_executor home =
        self->workers_.empty()
            ? asio::any_io_executor(asio::make_strand(self->io_))
            : asio::any_io_executor(
                  self->workers_[self->next_worker_++ % self->workers_.size()]->get_executor());
    auto [ec, socket] = co_await self->acceptor_.async_accept(home, kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || self->stopping()) {
        co_return;
      }
      // Out of file descriptors and the like: log and keep accepting after a breath.
      logger("s3")->warn("accept failed server={} error={}", self->options_.name, ec.message());
      asio::steady_timer timer(self->io_, std::chrono::milliseconds(50));
      co_await timer.async_wait(kNoThrow);
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, session(self, std::move(socket)), log_exception("http session"));
  }
}

namespace {
// How long and how much a closing connection reads and drops (see the end of session()).
constexpr std::chrono::seconds kLingerTime{2};
constexpr size_t kLingerBytes = 8 << 20;
}  // namespace

asio::awaitable<void> HttpServer::session(HttpServer* self, asio::ip::tcp::socket socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string remote =
      ec ? std::string("unknown") : peer.address().to_string() + ":" + std::to_string(peer.port());
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  const auto sessions = self->sessions_;
  const HttpServerOptions& options = self->options_;
  const HttpHandler& handler = self->handler_;
  // Registered while the stream lives, however the session ends.
  struct Registration {
    Sessions& sessions;
    beast::tcp_stream* stream;
    std::atomic<bool> idle{false};
    Registration(Sessions& s, beast::tcp_stream* st) : sessions(s), stream(st) {
      std::lock_guard lock(sessions.mutex);
      sessions.open.emplace(stream, &idle);
    }
    ~Registration() {
      std::lock_guard lock(sessions.mutex);
      sessions.open.erase(stream);
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
  };
  Registration registration(*sessions, &stream);
  for (;;) {
    registration.idle.store(true);
    if (sessions->stopping.load()) {
      break;
    }
    http::request_parser<http::empty_body> header;
    header.body_limit(options.body_limit);
    header.header_limit(options.header_limit);
    stream.expires_after(options.idle_timeout);
    auto [read_ec, n] = co_await http::async_read_header(stream, buffer, header, kNoThrow);
    registration.idle.store(false);
    if (read_ec) {
      if (read_ec != http::error::end_of_stream && read_ec != asio::error::operation_aborted &&
          read_ec != beast::error::timeout && read_ec != asio::error::connection_reset &&
          read_ec != asio::error::eof) {
        // A malformed request: answer 400 and drop the connection.
        http::response<http::string_body> res;
        if (options.malformed) {
          res = options.malformed(read_ec);
        } else {
          res = {http::status::bad_request, 11};
          res.body() = "malformed HTTP request\n";
        }
        res.set(http::field::connection, "close");
        res.prepare_payload();
        stream.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, res, kNoThrow);
      }
      break;
    }
    HttpExchange exchange(stream, buffer, header, remote, options);
    co_await handler(exchange);
    if (!exchange.keep_alive()) {
      break;
    }
  }
  // Lingering close: after our FIN, read and drop what the client still sends (the rest of a
  // body we answered without reading, say) until it closes too, for a bounded time and amount.
  // Closing a socket with unread bytes makes the kernel send a reset, and a reset can destroy
  // the answer before the client has read it.
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  registration.idle.store(true);  // stop() cancels a lingering read as it does an idle one
  if (!ec && !sessions->stopping.load()) {
    stream.expires_after(kLingerTime);
    std::array<char, 16384> sink;
    for (size_t drained = 0; drained < kLingerBytes;) {
      auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
      if (read_ec) {
        break;
      }
      drained += n;
    }
  }
  stream.socket().close(ec);
}

}  // namespace vaultaire::s3

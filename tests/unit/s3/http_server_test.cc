#include "s3/http_server.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <poll.h>

namespace vaultaire::s3 {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A server with one worker io_context on its own thread, as `vaultaire serve` runs it, answering
// every request with 200 "ok" (after reading the whole body, for POST).
class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = HttpServer::create(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                      [this](HttpExchange& ex) -> asio::awaitable<void> {
                                        handled_on_ = std::this_thread::get_id();
                                        if (ex.request().method() == http::verb::post) {
                                          std::string body;
                                          for (;;) {
                                            auto n = co_await ex.read_body(&body, 1 << 20);
                                            if (!n) {
                                              co_return;
                                            }
                                            if (*n == 0) {
                                              break;
                                            }
                                          }
                                        }
                                        http::response<http::string_body> res{http::status::ok, 11};
                                        res.body() = "ok";
                                        (void)co_await ex.send(std::move(res));
                                      },
                                      {.name = "test"}, {&worker_});
    ASSERT_TRUE(created.has_value());
    server_ = std::move(*created);
    server_->start();
    threads_.emplace_back([this] { io_.run(); });
    threads_.emplace_back([this] { worker_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_->stop(); });
    guard_io_.reset();
    guard_worker_.reset();
    io_.stop();
    worker_.stop();
    for (auto& t : threads_) {
      t.join();
    }
    server_.reset();
  }

  // A connection that has had one keep-alive exchange and now waits.
  tcp::socket connect_and_ask() {
    tcp::socket s(client_io_);
    s.connect(server_->local_endpoint());
    const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(s, asio::buffer(request));
    std::string response(256, '\0');
    const size_t n = s.read_some(asio::buffer(response));
    response.resize(n);
    EXPECT_NE(response.find("200 OK"), std::string::npos) << response;
    EXPECT_EQ(response.find("Connection: close"), std::string::npos) << response;
    return s;
  }

  enum class Closed { kEndOfStream, kStillOpen, kOther };
  // Waits up to `ms` for the server to close `s` (an orderly end of stream).
  static Closed wait_for_close(tcp::socket& s, int ms) {
    ::pollfd p{.fd = s.native_handle(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, ms) == 0) {
      return Closed::kStillOpen;
    }
    char byte = 0;
    boost::system::error_code ec;
    const size_t n = s.read_some(asio::buffer(&byte, 1), ec);
    return n == 0 && ec == asio::error::eof ? Closed::kEndOfStream : Closed::kOther;
  }

  asio::io_context io_{1};
  asio::io_context worker_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_io_{io_.get_executor()};
  asio::executor_work_guard<asio::io_context::executor_type> guard_worker_{worker_.get_executor()};
  asio::io_context client_io_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;  // [0] runs io_ (accepts), [1] the worker
  std::atomic<std::thread::id> handled_on_;
};

TEST_F(HttpServerTest, AnIdleConnectionStaysOpenWhileTheServerRuns) {
  tcp::socket idle = connect_and_ask();
  EXPECT_EQ(wait_for_close(idle, 1000), Closed::kStillOpen);
}

TEST_F(HttpServerTest, StopClosesConnectionsWaitingForTheirNextRequest) {
  tcp::socket idle = connect_and_ask();
  asio::post(io_, [this] { server_->stop(); });
  // Closed now, not at the idle timeout (120 s).
  EXPECT_EQ(wait_for_close(idle, 10'000), Closed::kEndOfStream)
      << "the idle connection stayed open after stop()";
}

// Polls `open_sessions()` for up to `ms` until it equals `want`.
bool wait_for_open(const HttpServer& server, size_t want, int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (server.open_sessions() != want) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST_F(HttpServerTest, StopLetsABusyRequestRunAndAbortClosesIt) {
  tcp::socket idle = connect_and_ask();
  // A request whose body never finishes arriving: its handler waits on the socket.
  tcp::socket busy(client_io_);
  busy.connect(server_->local_endpoint());
  const std::string partial =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789";
  asio::write(busy, asio::buffer(partial));
  ASSERT_TRUE(wait_for_open(*server_, 2, 10'000));

  asio::post(io_, [this] { server_->stop(); });
  EXPECT_EQ(wait_for_close(idle, 10'000), Closed::kEndOfStream);
  ASSERT_TRUE(wait_for_open(*server_, 1, 10'000));
  EXPECT_EQ(wait_for_close(busy, 300), Closed::kStillOpen) << "stop() cut a busy request";
  EXPECT_EQ(server_->open_sessions(), 1u);

  asio::post(io_, [this] { server_->abort_sessions(); });
  EXPECT_TRUE(wait_for_open(*server_, 0, 10'000)) << "the busy session did not end";
  EXPECT_NE(wait_for_close(busy, 10'000), Closed::kStillOpen);
}

TEST_F(HttpServerTest, ConnectionsAreServedOnTheWorkersNotOnTheAcceptingThread) {
  for (int i = 0; i < 3; ++i) {
    tcp::socket s = connect_and_ask();
    EXPECT_EQ(handled_on_.load(), threads_[1].get_id()) << "connection " << i;
  }
}

}  // namespace
}  // namespace vaultaire::s3

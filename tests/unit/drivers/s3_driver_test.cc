#include "drivers/s3_driver.h"

#include <atomic>
#include <chrono>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/sigv4.h"
#include "support/run.h"
#include "support/temp_dir.h"

// The s3 driver against a real `vaultaire serve` (its own process, ports and data folder per
// test), reached through FaultProxy, an in-test HTTP proxy that forwards requests and responses
// and, when told to, answers 503 SlowDown itself, resets connections, stalls a response past
// the driver's timeout or cuts a response body in the middle.

namespace vaultaire::drivers {
namespace {

using SteadyClock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

constexpr std::string_view kAccessKey = "VAULTAIRES3DRIVER001";
constexpr std::string_view kSecretKey = "s3DriverTestSecret/0123456789+abcdefghij";
constexpr std::string_view kBucket = "s3-driver-test";
constexpr std::string_view kRegion = "us-east-1";
// Any single driver call must finish within this, or the test fails instead of hanging.
constexpr auto kCallLimit = std::chrono::seconds(30);
constexpr auto kReadyLimit = std::chrono::seconds(60);  // a fresh RocksDB on a busy disk

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(rng());
  }
  return out;
}

uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

std::string amz_date_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// One HTTP exchange on a new connection to 127.0.0.1:port; nullopt when the connection fails or
// the deadline passes.
asio::awaitable<std::optional<http::response<http::string_body>>> exchange_async(
    uint16_t port, http::request<http::string_body> request, std::chrono::milliseconds limit) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(limit);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  auto [cec] = co_await stream.async_connect(endpoint, kNoThrow);
  if (cec) {
    co_return std::nullopt;
  }
  request.prepare_payload();
  auto [wec, wn] = co_await http::async_write(stream, request, kNoThrow);
  if (wec) {
    co_return std::nullopt;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto [rec, rn] = co_await http::async_read(stream, buffer, response, kNoThrow);
  if (rec) {
    co_return std::nullopt;
  }
  co_return response;
}

std::optional<http::response<http::string_body>> exchange(
    uint16_t port, http::request<http::string_body> request,
    std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  asio::io_context io;
  return testing::run(io, exchange_async(port, std::move(request), limit));
}

// A request signed with the root keys (SigV4, UNSIGNED-PAYLOAD), as the driver signs its own.
http::request<http::string_body> signed_request(http::verb verb, std::string path, uint16_t port) {
  const std::string host = "127.0.0.1:" + std::to_string(port);
  const std::string date = amz_date_now();
  const std::string payload(sigv4::kUnsignedPayload);
  http::request<http::string_body> request{verb, path, 11};
  request.set(http::field::host, host);
  request.set("x-amz-date", date);
  request.set("x-amz-content-sha256", payload);
  sigv4::CanonicalInput in;
  in.method = http::to_string(verb);
  in.canonical_uri = path;
  in.headers = {{"host", host}, {"x-amz-content-sha256", payload}, {"x-amz-date", date}};
  in.signed_headers = {"host", "x-amz-content-sha256", "x-amz-date"};
  in.payload_hash = payload;
  const std::string day = date.substr(0, 8);
  const std::string scope = sigv4::scope(day, kRegion, "s3");
  const std::string signature =
      sigv4::signature(sigv4::signing_key(kSecretKey, day, kRegion, "s3"),
                       sigv4::string_to_sign(date, scope, sigv4::canonical_request(in)));
  request.set(http::field::authorization,
              std::string(sigv4::kAlgorithm) + " Credential=" + std::string(kAccessKey) + "/" +
                  scope +
                  ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + signature);
  return request;
}

// Runs a driver call on the test's io_context to completion, at most kCallLimit: a call that
// hangs fails the test (with an exception) instead of hanging the suite.
template <typename T>
T bounded(asio::awaitable<T> task) {
  struct State {
    bool done = false;
    std::exception_ptr error;
    std::optional<T> value;
  };
  auto state = std::make_shared<State>();
  asio::io_context& io = testing::test_io();
  asio::co_spawn(io, std::move(task), [state](std::exception_ptr e, T value) {
    state->done = true;
    state->error = e;
    if (!e) {
      state->value.emplace(std::move(value));
    }
  });
  io.restart();
  const auto deadline = SteadyClock::now() + kCallLimit;
  while (!state->done && io.run_one_until(deadline) > 0) {
  }
  if (!state->done) {
    throw std::runtime_error("the driver call did not finish within the test's limit");
  }
  if (state->error) {
    std::rethrow_exception(state->error);
  }
  return std::move(*state->value);
}

// One `vaultaire serve` over <dir>/data on free loopback ports, its output appended to
// <dir>/server.log. Killed (SIGKILL) with the test process if that dies first.
//
// One tier on one local driver and no tiering: each local driver makes 4096 fan-out folders,
// which on a busy disk cost seconds to create and to remove with the TempDir.
class ServerProcess {
 public:
  explicit ServerProcess(std::filesystem::path dir)
      : data_dir_(dir / "data"), config_path_(dir / "server.toml"), log_path_(dir / "server.log") {
    std::ofstream(config_path_) << "[[tiers]]\nname = \"hot\"\ndriver = \"local\"\n\n"
                                   "[tiering]\npolicy = \"none\"\n";
  }
  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server on new free ports and waits for GET /ready == 200. Tries other ports when
  // the process exits early (a port taken meanwhile). False when it never gets ready.
  bool start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      s3_port_ = free_port();
      do {
        admin_port_ = free_port();
      } while (admin_port_ == s3_port_);
      if (!spawn()) {
        return false;
      }
      if (wait_ready()) {
        return true;
      }
      const bool exited = pid_ < 0;
      stop();
      if (!exited) {
        return false;  // running but never ready: another try would not help
      }
    }
    return false;
  }

  // SIGTERM, then SIGKILL if it has not exited after a grace period; waits for the exit.
  void stop() {
    if (pid_ < 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
    while (SteadyClock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  uint16_t s3_port() const { return s3_port_; }

  std::string log_tail() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  }

 private:
  bool spawn() {
    std::vector<std::string> args = {VAULTAIRE_SERVER_BIN,
                                     "serve",
                                     "--config",
                                     config_path_.string(),
                                     "--data-dir",
                                     data_dir_.string(),
                                     "--s3-listen",
                                     "127.0.0.1:" + std::to_string(s3_port_),
                                     "--admin-listen",
                                     "127.0.0.1:" + std::to_string(admin_port_),
                                     "--log-level",
                                     "warn",
                                     "--no-access-log",
                                     "--io-threads",
                                     "1"};
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry(*e);
      if (!entry.starts_with("VAULTAIRE_") && !entry.starts_with("AWS_")) {
        env.emplace_back(entry);
      }
    }
    env.push_back("VAULTAIRE_ROOT_ACCESS_KEY=" + std::string(kAccessKey));
    env.push_back("VAULTAIRE_ROOT_SECRET_KEY=" + std::string(kSecretKey));
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    const int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) {
      return false;
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls from here: the test process has other threads.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) {
        ::_exit(127);
      }
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      // The proxy's sockets must not live on in the server: a connection the proxy closes
      // would stay open.
      ::close_range(3, ~0U, 0);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(log);
    if (pid < 0) {
      return false;
    }
    pid_ = pid;
    return true;
  }

  bool wait_ready() {
    const auto deadline = SteadyClock::now() + kReadyLimit;
    while (SteadyClock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      http::request<http::string_body> ready{http::verb::get, "/ready", 11};
      ready.set(http::field::host, "127.0.0.1:" + std::to_string(admin_port_));
      const auto response = exchange(admin_port_, std::move(ready), std::chrono::seconds(2));
      if (response && response->result_int() == 200) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  const std::filesystem::path data_dir_;
  const std::filesystem::path config_path_;
  const std::filesystem::path log_path_;
  pid_t pid_ = -1;
  uint16_t s3_port_ = 0;
  uint16_t admin_port_ = 0;
};

// An HTTP/1.1 proxy on 127.0.0.1 with its own thread and io_context. Each client connection
// gets its own upstream connection; requests and responses are read whole and forwarded as they
// came (the Host header too, so signatures still hold). Faults are budgets the test sets from its
// own thread; each injected fault uses one up.
class FaultProxy {
 public:
  explicit FaultProxy(uint16_t upstream_port)
      : upstream_port_(upstream_port),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_, accept_loop(), log_exception("fault proxy accept"));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FaultProxy() {
    io_.stop();
    thread_.join();
  }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // New upstream connections go to `port` (a restarted server).
  void set_upstream(uint16_t port) { upstream_port_ = port; }

  // The next n requests get `503 SlowDown` from the proxy; the server never sees them.
  void answer_slow_down(int n) { slow_downs_ = n; }
  // The next n new connections are reset (RST) right after accept.
  void reset_connections(int n) { resets_ = n; }
  // Every new connection and every request on an open one is reset, until turned off.
  void refuse_all(bool on) { refuse_all_ = on; }
  // The next n responses are held back `for_` and then dropped with the connection.
  void stall_responses(int n, std::chrono::milliseconds for_ = std::chrono::seconds(5)) {
    stall_for_ms_ = for_.count();
    stalls_ = n;
  }
  // The next n responses with a body lose their connection about half way through the body.
  void cut_bodies(int n) { cuts_ = n; }

  int slow_downs_sent() const { return slow_downs_sent_; }
  int connections_reset() const { return connections_reset_; }
  int responses_stalled() const { return responses_stalled_; }
  int bodies_cut() const { return bodies_cut_; }
  // The most client connections open at once.
  int peak_open_connections() const { return peak_open_; }
  // Requests whose target contains `needle` ("partNumber=", "uploads").
  int requests_with(std::string_view needle) const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& t : targets_) {
      n += t.find(needle) != std::string::npos ? 1 : 0;
    }
    return n;
  }

 private:
  static bool take(std::atomic<int>& budget) {
    int n = budget.load();
    while (n > 0) {
      if (budget.compare_exchange_weak(n, n - 1)) {
        return true;
      }
    }
    return false;
  }

  static void reset(beast::tcp_stream& stream) {
    boost::system::error_code ignored;
    stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    stream.socket().close(ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) {
        co_return;
      }
      asio::co_spawn(io_, session(std::move(socket)), log_exception("fault proxy session"));
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream client(std::move(socket));
    if (refuse_all_ || take(resets_)) {
      ++connections_reset_;
      reset(client);
      co_return;
    }
    const int open = ++open_;
    int peak = peak_open_.load();
    while (open > peak && !peak_open_.compare_exchange_weak(peak, open)) {
    }
    co_await relay(std::move(client));
    --open_;
  }

  asio::awaitable<void> relay(beast::tcp_stream client) {
    std::optional<beast::tcp_stream> upstream;
    beast::flat_buffer client_buffer;
    beast::flat_buffer upstream_buffer;
    for (;;) {
      http::request_parser<http::string_body> request_parser;
      request_parser.body_limit(boost::none);
      auto [rec, rn] = co_await http::async_read(client, client_buffer, request_parser, kNoThrow);
      if (rec) {
        co_return;
      }
      http::request<http::string_body> request = request_parser.release();
      {
        std::lock_guard lock(mu_);
        targets_.push_back(std::string(request.method_string()) + " " +
                           std::string(request.target()));
      }
      const bool head = request.method() == http::verb::head;
      if (refuse_all_) {
        ++connections_reset_;
        reset(client);
        co_return;
      }
      if (take(slow_downs_)) {
        ++slow_downs_sent_;
        http::response<http::string_body> slow_down{http::status::service_unavailable, 11};
        slow_down.set(http::field::content_type, "application/xml");
        slow_down.set("x-amz-request-id", "fault-proxy");
        if (!head) {
          slow_down.body() =
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
              "<Message>Please reduce your request rate.</Message>"
              "<RequestId>fault-proxy</RequestId></Error>";
        }
        slow_down.keep_alive(request.keep_alive());
        slow_down.prepare_payload();
        auto [sec, sn] = co_await http::async_write(client, slow_down, kNoThrow);
        if (sec || !request.keep_alive()) {
          co_return;
        }
        continue;
      }
      if (!upstream) {
        upstream.emplace(co_await asio::this_coro::executor);
        upstream->expires_after(std::chrono::seconds(10));
        const tcp::endpoint to(asio::ip::make_address("127.0.0.1"), upstream_port_.load());
        auto [cec] = co_await upstream->async_connect(to, kNoThrow);
        if (cec) {
          co_return;  // the server is down: the client sees its connection close
        }
      }
      upstream->expires_after(std::chrono::seconds(30));
      auto [wec, wn] = co_await http::async_write(*upstream, request, kNoThrow);
      if (wec) {
        co_return;
      }
      http::response_parser<http::string_body> response_parser;
      response_parser.body_limit(boost::none);
      response_parser.skip(head);
      auto [uec, un] =
          co_await http::async_read(*upstream, upstream_buffer, response_parser, kNoThrow);
      if (uec) {
        co_return;
      }
      http::response<http::string_body> response = response_parser.release();
      if (take(stalls_)) {
        ++responses_stalled_;
        asio::steady_timer timer(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(stall_for_ms_.load()));
        co_await timer.async_wait(kNoThrow);
        co_return;  // never answered
      }
      if (response.body().size() > 1 && take(cuts_)) {
        ++bodies_cut_;
        http::response_serializer<http::string_body> serializer(response);
        auto [hec, hn] = co_await http::async_write_header(client, serializer, kNoThrow);
        if (hec) {
          co_return;
        }
        const size_t keep = std::min(response.body().size() / 2 + 777, response.body().size() - 1);
        co_await asio::async_write(client, asio::buffer(response.body().data(), keep), kNoThrow);
        co_return;  // the connection closes in the middle of the body
      }
      const bool keep_alive = response.keep_alive() && request.keep_alive();
      auto [fec, fn] = co_await http::async_write(client, response, kNoThrow);
      if (fec || !keep_alive) {
        co_return;
      }
    }
  }

  asio::io_context io_;
  std::atomic<uint16_t> upstream_port_;
  tcp::acceptor acceptor_;
  std::atomic<int> slow_downs_{0};
  std::atomic<int> resets_{0};
  std::atomic<bool> refuse_all_{false};
  std::atomic<int> stalls_{0};
  std::atomic<int64_t> stall_for_ms_{5000};
  std::atomic<int> cuts_{0};
  std::atomic<int> slow_downs_sent_{0};
  std::atomic<int> connections_reset_{0};
  std::atomic<int> responses_stalled_{0};
  std::atomic<int> bodies_cut_{0};
  std::atomic<int> open_{0};
  std::atomic<int> peak_open_{0};
  mutable std::mutex mu_;
  std::vector<std::string> targets_;  // guarded by mu_
  std::thread thread_;                // runs io_; joined before anything above goes
};

struct ReadOutcome {
  std::string bytes;
  boost::system::error_code error;  // of open() or of the read() that failed
  uint64_t size = 0;                // what the reader announced
};

class S3DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path());
    ASSERT_TRUE(server_->start()) << "vaultaire serve did not get ready:\n" << server_->log_tail();
    const std::string bucket_path = "/" + std::string(kBucket);
    // A generous limit: the bucket's first event waits for an fsync on a possibly busy disk.
    const auto created = exchange(server_->s3_port(),
                                  signed_request(http::verb::put, bucket_path, server_->s3_port()),
                                  std::chrono::seconds(30));
    ASSERT_TRUE(created.has_value());
    ASSERT_EQ(created->result_int(), 200u) << created->body();
    proxy_ = std::make_unique<FaultProxy>(server_->s3_port());
    driver_ = make_driver(options());
  }

  // Fast retries, a generous timeout; tests tighten what they exercise.
  S3DriverOptions options() const {
    S3DriverOptions o;
    o.name = "remote";
    o.endpoint = proxy_->endpoint();
    o.bucket = std::string(kBucket);
    o.access_key = std::string(kAccessKey);
    o.secret_key = std::string(kSecretKey);
    o.region = std::string(kRegion);
    o.part_size = 5 << 20;
    o.max_attempts = 4;
    o.base_backoff = std::chrono::milliseconds(5);
    o.max_backoff = std::chrono::milliseconds(40);
    o.timeout = std::chrono::seconds(20);
    return o;
  }

  std::unique_ptr<S3Driver> make_driver(S3DriverOptions o) const {
    return std::move(
        S3Driver::create(testing::test_io().get_executor(), std::move(o), SystemClock::instance())
            .value());
  }

  // Writes `bytes` in `chunk`-sized writes and commits.
  static Result<BlobInfo> put(Driver& driver, const std::string& bytes, size_t chunk = 256 << 10) {
    auto writer = bounded(driver.create());
    if (!writer) {
      return writer.error();
    }
    for (size_t off = 0; off < bytes.size(); off += chunk) {
      if (auto w = bounded((*writer)->write(bytes.substr(off, chunk))); !w) {
        return w.error();
      }
    }
    return bounded((*writer)->commit());
  }

  // Opens and reads until the reader says it is done (an empty chunk) or a read fails.
  static ReadOutcome read_all(Driver& driver, const std::string& id,
                              std::optional<ByteRange> range = std::nullopt,
                              size_t chunk = 64 << 10) {
    ReadOutcome out;
    auto reader = bounded(driver.open(id, range));
    if (!reader) {
      out.error = reader.error();
      return out;
    }
    out.size = (*reader)->size();
    for (;;) {
      auto part = bounded((*reader)->read(chunk));
      if (!part) {
        out.error = part.error();
        return out;
      }
      if (part->empty()) {
        return out;
      }
      EXPECT_LE(part->size(), chunk);
      out.bytes += *part;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<S3Driver> driver_;
};

TEST_F(S3DriverTest, SmallBlobRoundTrips) {
  const std::string payload = random_bytes(100 * 1024 + 13, 1);
  const auto info = put(*driver_, payload, 7000);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(info->size, payload.size());

  const auto stat = bounded(driver_->stat(info->id));
  ASSERT_TRUE(stat.has_value()) << stat.error().message();
  EXPECT_EQ(stat->size, payload.size());
  EXPECT_GT(stat->modified_unix_seconds, 0);

  const auto whole = read_all(*driver_, info->id);
  EXPECT_FALSE(whole.error) << whole.error.message();
  EXPECT_EQ(whole.size, payload.size());
  EXPECT_TRUE(whole.bytes == payload);

  const auto range = read_all(*driver_, info->id, ByteRange{1000, 51'233}, 4096);
  EXPECT_FALSE(range.error) << range.error.message();
  EXPECT_EQ(range.size, 50'234u);
  EXPECT_TRUE(range.bytes == payload.substr(1000, 50'234));

  const auto last = read_all(*driver_, info->id, ByteRange{payload.size() - 1, payload.size() - 1});
  EXPECT_EQ(last.bytes, payload.substr(payload.size() - 1));

  ASSERT_TRUE(bounded(driver_->remove(info->id)).has_value());
  EXPECT_EQ(bounded(driver_->stat(info->id)).error(), make_error_code(Errc::kNoSuchBlob));
  EXPECT_EQ(read_all(*driver_, info->id).error, make_error_code(Errc::kNoSuchBlob));
  EXPECT_TRUE(bounded(driver_->remove(info->id)).has_value()) << "removing an absent blob";
}

TEST_F(S3DriverTest, EmptyBlobRoundTrips) {
  const auto info = put(*driver_, "");
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(bounded(driver_->stat(info->id)).value().size, 0u);
  const auto read = read_all(*driver_, info->id);
  EXPECT_FALSE(read.error) << read.error.message();
  EXPECT_EQ(read.size, 0u);
  EXPECT_EQ(read.bytes, "");
}

TEST_F(S3DriverTest, MissingBlobAndBadRangesAreReported) {
  const std::string payload = random_bytes(1000, 2);
  const auto info = put(*driver_, payload).value();
  const std::string absent = put(*driver_, "x").value().id;
  ASSERT_TRUE(bounded(driver_->remove(absent)).has_value());
  EXPECT_EQ(read_all(*driver_, absent, ByteRange{0, 0}).error, make_error_code(Errc::kNoSuchBlob));
  EXPECT_EQ(read_all(*driver_, "not-a-blob-id").error, make_error_code(Errc::kNoSuchBlob));
  EXPECT_EQ(read_all(*driver_, info.id, ByteRange{1000, 1010}).error,
            make_error_code(Errc::kInvalidRange));
  // Partly past the end: the remote would answer the shorter part; the reader must not announce
  // 1500 bytes and then stop at 500.
  EXPECT_EQ(read_all(*driver_, info.id, ByteRange{500, 1999}).error,
            make_error_code(Errc::kInvalidRange));
}

TEST_F(S3DriverTest, LargeBlobGoesThroughMultipart) {
  const size_t part = 5 << 20;
  const std::string payload = random_bytes(2 * part + 4097, 3);
  const uint64_t before = driver_->requests_sent();
  const auto info = put(*driver_, payload, 1 << 20);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(info->size, payload.size());
  // Create the upload, three parts, complete it.
  EXPECT_EQ(driver_->requests_sent() - before, 5u);
  EXPECT_EQ(proxy_->requests_with("?uploads"), 1);
  EXPECT_EQ(proxy_->requests_with("partNumber="), 3);

  EXPECT_EQ(bounded(driver_->stat(info->id)).value().size, payload.size());
  const auto whole = read_all(*driver_, info->id, std::nullopt, 1 << 20);
  EXPECT_FALSE(whole.error) << whole.error.message();
  EXPECT_EQ(whole.bytes.size(), payload.size());
  EXPECT_TRUE(whole.bytes == payload);
  const auto across = read_all(*driver_, info->id, ByteRange{part - 100, part + 99});
  EXPECT_TRUE(across.bytes == payload.substr(part - 100, 200));
}

TEST_F(S3DriverTest, AbandonedUploadIsAbortedEvenAfterTheDriverIsGone) {
  auto driver = make_driver(options());
  {
    auto writer = bounded(driver->create());
    ASSERT_TRUE(writer.has_value());
    // More than one part: the upload exists at the remote, with its first part.
    ASSERT_TRUE(bounded((*writer)->write(random_bytes((5 << 20) + 1, 11))).has_value());
    ASSERT_EQ(proxy_->requests_with("?uploads"), 1);
    ASSERT_EQ(proxy_->requests_with("partNumber=1"), 1);
  }  // dropped without commit or abort
  driver.reset();
  // The abort runs in the background on the driver's executor: run it until the remote has it.
  const auto deadline = SteadyClock::now() + std::chrono::seconds(20);
  while (proxy_->requests_with("DELETE ") == 0 && SteadyClock::now() < deadline) {
    testing::test_io().restart();
    testing::test_io().run_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(proxy_->requests_with("DELETE "), 1) << "the abandoned upload was never aborted";
  EXPECT_EQ(proxy_->requests_with("uploadId="), 2);  // its part, then the abort
}

TEST_F(S3DriverTest, RetriesSlowDownThenSucceeds) {
  const std::string payload = random_bytes(30'000, 4);
  proxy_->answer_slow_down(2);
  uint64_t before = driver_->requests_sent();
  const auto info = put(*driver_, payload);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(driver_->requests_sent() - before, 3u);
  EXPECT_EQ(proxy_->slow_downs_sent(), 2);

  proxy_->answer_slow_down(2);
  before = driver_->requests_sent();
  const auto stat = bounded(driver_->stat(info->id));
  ASSERT_TRUE(stat.has_value()) << stat.error().message();
  EXPECT_EQ(stat->size, payload.size());
  EXPECT_EQ(driver_->requests_sent() - before, 3u);

  // A reader's GET is retried the same way.
  proxy_->answer_slow_down(2);
  before = driver_->requests_sent();
  const auto read = read_all(*driver_, info->id, ByteRange{0, 29'999});
  EXPECT_FALSE(read.error) << read.error.message();
  EXPECT_TRUE(read.bytes == payload);
  EXPECT_EQ(driver_->requests_sent() - before, 3u);
  EXPECT_EQ(proxy_->slow_downs_sent(), 6);
}

TEST_F(S3DriverTest, GivesUpAfterMaxAttemptsOfSlowDown) {
  auto o = options();
  o.max_attempts = 3;
  auto driver = make_driver(o);
  const std::string payload = random_bytes(10'000, 5);
  const auto stored = put(*driver, payload).value();

  proxy_->answer_slow_down(1000);
  const auto started = SteadyClock::now();
  uint64_t before = driver->requests_sent();
  const auto failed = put(*driver, payload);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error(), make_error_code(Errc::kDriverUnavailable));
  EXPECT_EQ(driver->requests_sent() - before, 3u);

  before = driver->requests_sent();
  EXPECT_EQ(bounded(driver->stat(stored.id)).error(), make_error_code(Errc::kDriverUnavailable));
  EXPECT_EQ(read_all(*driver, stored.id).error, make_error_code(Errc::kDriverUnavailable));
  EXPECT_EQ(read_all(*driver, stored.id, ByteRange{0, 9}).error,
            make_error_code(Errc::kDriverUnavailable));
  EXPECT_EQ(bounded(driver->remove(stored.id)).error(), make_error_code(Errc::kDriverUnavailable));
  EXPECT_EQ(bounded(driver->health()).error(), make_error_code(Errc::kDriverUnavailable));
  EXPECT_EQ(driver->requests_sent() - before, 5u * 3u) << "each call tried max_attempts times";
  EXPECT_LT(SteadyClock::now() - started, std::chrono::seconds(20))
      << "6 calls, 2 short backoffs each";

  // Nothing is left broken: the same driver works once the remote does.
  proxy_->answer_slow_down(0);
  EXPECT_TRUE(read_all(*driver, stored.id).bytes == payload);
  EXPECT_TRUE(put(*driver, payload).has_value());
}

TEST_F(S3DriverTest, RetriesResetConnections) {
  // driver_ has no pooled connection yet: its first request needs a new one.
  const std::string payload = random_bytes(20'000, 6);
  proxy_->reset_connections(2);
  const uint64_t before = driver_->requests_sent();
  const auto info = put(*driver_, payload);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(driver_->requests_sent() - before, 3u);
  EXPECT_EQ(proxy_->connections_reset(), 2);

  // A reader's GET, from a driver with an empty pool.
  auto reader_driver = make_driver(options());
  proxy_->reset_connections(2);
  const auto read = read_all(*reader_driver, info->id, ByteRange{0, 19'999});
  EXPECT_FALSE(read.error) << read.error.message();
  EXPECT_TRUE(read.bytes == payload);
  EXPECT_EQ(reader_driver->requests_sent(), 3u);
  EXPECT_EQ(proxy_->connections_reset(), 4);
}

TEST_F(S3DriverTest, RetriesStalledResponse) {
  // The proxy holds each stalled response far longer than the driver's timeout, so a call that
  // finishes well before the stall ends gave up on it and retried. Counts are lower bounds: on a
  // busy machine a retry may itself run past the short timeout.
  auto o = options();
  o.timeout = std::chrono::seconds(2);
  auto driver = make_driver(o);
  const std::string payload = random_bytes(50'000, 7);
  const auto kStall = std::chrono::seconds(25);

  // A PUT whose response never comes: the object was written, the retry writes it again.
  proxy_->stall_responses(1, kStall);
  auto started = SteadyClock::now();
  const auto info = put(*driver, payload);
  auto elapsed = SteadyClock::now() - started;
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(proxy_->responses_stalled(), 1);
  EXPECT_GE(driver->requests_sent(), 2u);
  EXPECT_GE(elapsed, o.timeout) << "gave up before its timeout";
  EXPECT_LT(elapsed, std::chrono::seconds(15)) << "waited for the stalled response";

  // A HEAD, then a GET.
  proxy_->stall_responses(1, kStall);
  started = SteadyClock::now();
  const auto stat = bounded(driver->stat(info->id));
  ASSERT_TRUE(stat.has_value()) << stat.error().message();
  EXPECT_EQ(stat->size, payload.size());
  EXPECT_EQ(proxy_->responses_stalled(), 2);

  proxy_->stall_responses(1, kStall);
  const uint64_t before = driver->requests_sent();
  const auto read = read_all(*driver, info->id, ByteRange{0, 49'999});
  elapsed = SteadyClock::now() - started;
  EXPECT_FALSE(read.error) << read.error.message();
  EXPECT_TRUE(read.bytes == payload);
  EXPECT_EQ(proxy_->responses_stalled(), 3);
  EXPECT_GE(driver->requests_sent() - before, 2u);
  EXPECT_LT(elapsed, std::chrono::seconds(15)) << "waited for a stalled response";
}

TEST_F(S3DriverTest, CutBodyIsResumedWhereItStopped) {
  const std::string payload = random_bytes(1 << 20, 8);
  const auto info = put(*driver_, payload).value();
  proxy_->cut_bodies(1);
  const uint64_t before = driver_->requests_sent();
  const auto read = read_all(*driver_, info.id);
  EXPECT_FALSE(read.error) << read.error.message();
  EXPECT_EQ(read.bytes.size(), payload.size());
  EXPECT_TRUE(read.bytes == payload);
  EXPECT_EQ(proxy_->bodies_cut(), 1);
  // The HEAD for the size, the GET that broke, the GET for the rest.
  EXPECT_EQ(driver_->requests_sent() - before, 3u);
}

TEST_F(S3DriverTest, CutBodyWithTheRemoteGoneIsAnError) {
  const std::string payload = random_bytes(1 << 20, 9);
  const auto info = put(*driver_, payload).value();
  proxy_->cut_bodies(1);
  auto reader = bounded(driver_->open(info.id, std::nullopt)).value();
  proxy_->refuse_all(true);
  std::string got;
  boost::system::error_code error;
  for (;;) {
    auto part = bounded(reader->read(64 << 10));
    if (!part) {
      error = part.error();
      break;
    }
    ASSERT_FALSE(part->empty()) << "end of blob after " << got.size() << " of " << payload.size()
                                << " bytes";
    got += *part;
  }
  EXPECT_EQ(error, make_error_code(Errc::kDriverUnavailable));
  EXPECT_LT(got.size(), payload.size());
  EXPECT_GT(got.size(), 0u);
  EXPECT_TRUE(got == payload.substr(0, got.size())) << "the bytes before the cut are the blob's";
}

TEST_F(S3DriverTest, ReadAfterABrokenConnectionNeverSkipsBytes) {
  // No retries at all: a broken body may surface as an error, but the bytes before it are
  // returned and a reader that tries again continues exactly where it stopped.
  auto o = options();
  o.max_attempts = 1;
  auto driver = make_driver(o);
  const std::string payload = random_bytes(1 << 20, 10);
  const auto info = put(*driver, payload).value();
  proxy_->cut_bodies(1);
  auto reader = bounded(driver->open(info.id, std::nullopt)).value();
  std::string got;
  int errors = 0;
  while (errors < 3) {
    auto part = bounded(reader->read(64 << 10));
    if (!part) {
      ++errors;
      continue;
    }
    if (part->empty()) {
      break;
    }
    got += *part;
  }
  EXPECT_EQ(proxy_->bodies_cut(), 1);
  EXPECT_EQ(got.size(), payload.size());
  EXPECT_TRUE(got == payload);
}

TEST_F(S3DriverTest, BackoffIsBoundedByMaxBackoff) {
  // Full jitter: each wait is uniform in [0, min(max_backoff, base_backoff * 2^attempt)), so
  // there is no floor to measure; the cap is what bounds the time. With base_backoff 10 s an
  // uncapped backoff would take minutes.
  auto o = options();
  o.max_attempts = 6;
  o.base_backoff = std::chrono::seconds(10);
  o.max_backoff = std::chrono::milliseconds(20);
  auto driver = make_driver(o);
  const std::string payload = random_bytes(1000, 11);
  const auto warm = put(*driver, payload);  // a pooled connection, so only backoffs remain
  ASSERT_TRUE(warm.has_value());

  proxy_->answer_slow_down(5);
  const uint64_t before = driver->requests_sent();
  const auto started = SteadyClock::now();
  const auto info = put(*driver, payload);
  const auto elapsed = SteadyClock::now() - started;
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(driver->requests_sent() - before, 6u);
  EXPECT_EQ(proxy_->slow_downs_sent(), 5);
  // Uncapped, the 5 waits would be uniform in [0, 20 s), [0, 40 s), ... [0, 320 s).
  EXPECT_LT(elapsed, std::chrono::seconds(20)) << "5 waits of at most 20 ms each";
}

TEST_F(S3DriverTest, HealthFollowsTheRemote) {
  EXPECT_TRUE(bounded(driver_->health()).has_value());
  const auto info = put(*driver_, "still here").value();

  proxy_->refuse_all(true);
  EXPECT_EQ(bounded(driver_->health()).error(), make_error_code(Errc::kDriverUnavailable));
  proxy_->refuse_all(false);
  EXPECT_TRUE(bounded(driver_->health()).has_value());

  server_->stop();
  EXPECT_EQ(bounded(driver_->health()).error(), make_error_code(Errc::kDriverUnavailable));
  ASSERT_TRUE(server_->start()) << server_->log_tail();
  proxy_->set_upstream(server_->s3_port());
  EXPECT_TRUE(bounded(driver_->health()).has_value());
  EXPECT_EQ(read_all(*driver_, info.id).bytes, "still here");
}

TEST_F(S3DriverTest, NeverOpensMoreThanMaxConnections) {
  auto o = options();
  o.max_connections = 1;
  auto driver = make_driver(o);
  const std::string payload = random_bytes(1 << 20, 12);
  const auto big = put(*driver, payload).value();
  const auto empty = put(*driver, "").value();

  // A reader of an empty blob holds no connection; one mid-body holds the only one.
  auto empty_reader = bounded(driver->open(empty.id, std::nullopt)).value();
  auto reader = bounded(driver->open(big.id, std::nullopt)).value();
  ASSERT_EQ(bounded(reader->read(64 << 10)).value().size(), 64u << 10);
  empty_reader.reset();

  // So a second reader waits until the first one is done.
  using OpenResult = Result<std::unique_ptr<BlobReader>>;
  auto second = std::make_shared<std::optional<OpenResult>>();
  asio::io_context& io = testing::test_io();
  asio::co_spawn(io, driver->open(big.id, ByteRange{0, 99}),
                 [second](std::exception_ptr, OpenResult r) { second->emplace(std::move(r)); });
  io.restart();
  io.run_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(second->has_value()) << "a second connection was opened";
  EXPECT_EQ(proxy_->peak_open_connections(), 1);

  reader.reset();  // not read to its end: its connection closes and its slot frees
  const auto deadline = SteadyClock::now() + kCallLimit;
  while (!second->has_value() && io.run_one_until(deadline) > 0) {
  }
  ASSERT_TRUE(second->has_value());
  ASSERT_TRUE((*second)->has_value()) << (*second)->error().message();
  EXPECT_EQ(bounded((**second).value()->read(100)).value(), payload.substr(0, 100));
}

}  // namespace
}  // namespace vaultaire::drivers

// s3bench: an S3 load generator. Points at any S3 endpoint with any credentials; runs PUT, GET,
// HEAD, LIST, DELETE or a mix with a given object size and concurrency, for a duration or a
// number of operations; reports ops/s, MiB/s and latency percentiles as text or JSON.
//
// It must not be the bottleneck when comparing servers on one machine: every connection is
// kept alive, requests are signed with SigV4 (the signing key is derived once per day) and by
// default with UNSIGNED-PAYLOAD, bodies are sent from one shared buffer and received into a
// reused one.
//
//   s3bench --endpoint http://127.0.0.1:8080 --access-key K --secret-key S
//           --bucket b --op put --size 4KiB --concurrency 64 --duration 10

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "common/async.h"
#include "common/crypto.h"
#include "common/time_format.h"
#include "common/sigv4.h"
#include "common/uri.h"

namespace {

namespace asio = vaultaire::asio;
namespace beast = vaultaire::beast;
namespace http = vaultaire::http;
namespace sigv4 = vaultaire::sigv4;
using asio::awaitable;
using vaultaire::kNoThrow;
using SteadyClock = std::chrono::steady_clock;

enum class OpKind { kPut, kGet, kHead, kList, kDelete };
constexpr std::array<std::string_view, 5> kOpNames = {"PUT", "GET", "HEAD", "LIST", "DELETE"};

struct Options {
  std::string endpoint = "http://127.0.0.1:8080";
  std::string access_key;
  std::string secret_key;
  std::string region = "us-east-1";
  std::string bucket = "s3bench";
  std::string op = "put";
  std::string size_text = "4KiB";
  uint64_t size = 4096;
  int concurrency = 16;
  double duration = 10;
  uint64_t ops = 0;
  uint64_t keys = 1000;
  std::string prefix = "s3bench/";
  bool prepare = false;
  bool create_bucket = true;
  bool sign_payload = false;
  bool json = false;
  int threads = 1;
  std::string mix = "get=70,put=20,head=5,list=5";
  uint32_t list_max_keys = 1000;
  std::string list_prefix;
};

std::optional<uint64_t> parse_size(std::string_view s) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc()) {
    return std::nullopt;
  }
  const std::string_view unit(end, static_cast<size_t>(s.data() + s.size() - end));
  if (unit.empty() || unit == "B") {
    return n;
  }
  if (unit == "KiB" || unit == "K" || unit == "k") {
    return n << 10;
  }
  if (unit == "MiB" || unit == "M") {
    return n << 20;
  }
  if (unit == "GiB" || unit == "G") {
    return n << 30;
  }
  return std::nullopt;
}

// Latencies in microseconds, per operation kind.
struct Stats {
  std::array<std::vector<uint32_t>, 5> latencies;
  std::array<uint64_t, 5> errors{};
  std::array<uint64_t, 5> bytes{};
  void merge(const Stats& o) {
    for (size_t i = 0; i < 5; ++i) {
      latencies[i].insert(latencies[i].end(), o.latencies[i].begin(), o.latencies[i].end());
      errors[i] += o.errors[i];
      bytes[i] += o.bytes[i];
    }
  }
};

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {
    body_.resize(o_.size);
    std::mt19937_64 gen(42);
    for (auto& c : body_) {
      c = static_cast<char>(gen());
    }
    const std::string rest = o_.endpoint.substr(o_.endpoint.find("//") + 2);
    const size_t colon = rest.find(':');
    host_ = rest.substr(0, colon);
    port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    while (!port_.empty() && port_.back() == '/') {
      port_.pop_back();
    }
    host_header_ = host_ + (colon == std::string::npos ? "" : ":" + port_);
    parse_mix();
  }

  // Runs `concurrency` connections until `deadline` or `total_ops`; returns merged stats.
  Stats run(std::vector<OpKind> plan_kinds, double seconds, uint64_t total_ops,
            bool record = true) {
    plan_ = std::move(plan_kinds);
    stop_.store(false);
    issued_.store(0);
    total_ops_ = total_ops;
    asio::io_context io(o_.threads);
    std::vector<Stats> per_worker(static_cast<size_t>(o_.concurrency));
    for (int w = 0; w < o_.concurrency; ++w) {
      asio::co_spawn(io, worker(this, w, &per_worker[static_cast<size_t>(w)], record),
                     asio::detached);
    }
    start_ = SteadyClock::now();
    std::thread timer;
    if (seconds > 0) {
      timer = std::thread([this, seconds] {
        const auto end = SteadyClock::now() + std::chrono::duration<double>(seconds);
        while (!stop_.load() && SteadyClock::now() < end) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop_.store(true);
      });
    }
    std::vector<std::thread> threads;
    for (int t = 1; t < o_.threads; ++t) {
      threads.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& t : threads) {
      t.join();
    }
    stop_.store(true);
    if (timer.joinable()) {
      timer.join();
    }
    elapsed_ = std::chrono::duration<double>(SteadyClock::now() - start_).count();
    Stats all;
    for (const auto& s : per_worker) {
      all.merge(s);
    }
    return all;
  }

  double elapsed() const { return elapsed_; }
  const Options& options() const { return o_; }

  // One request, signed, on an open stream. Returns the HTTP status or 0 on a transport error.
  awaitable<unsigned> request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                              std::string* scratch, http::verb verb, std::string path,
                              std::string query, bool send_body, uint64_t* bytes_in) {
    http::request<http::span_body<const char>> req{verb, path + (query.empty() ? "" : "?" + query),
                                                   11};
    req.set(http::field::host, host_header_);
    req.set(http::field::user_agent, "s3bench");
    const std::string amz_date = now_amz_date();
    const std::string payload = send_body && o_.sign_payload
                                    ? vaultaire::to_hex(vaultaire::sha256(body_))
                                    : std::string(sigv4::kUnsignedPayload);
    req.set("x-amz-date", amz_date);
    req.set("x-amz-content-sha256", payload);
    if (send_body) {
      req.body() = {body_.data(), body_.size()};
    }
    req.prepare_payload();
    sign(req, path, query, amz_date, payload);

    auto [wec, wn] = co_await http::async_write(stream, req, kNoThrow);
    if (wec) {
      co_return 0u;
    }
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (verb == http::verb::head) {
      parser.skip(true);
    }
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
    if (hec) {
      co_return 0u;
    }
    uint64_t received = 0;
    const auto length = parser.content_length();
    if (length && !parser.is_done()) {
      // A known length: take what the header read left in `buffer`, then read the rest straight
      // from the socket into the scratch space (Beast's body parser copies in 64 KiB steps).
      uint64_t remaining = *length;
      const size_t buffered = std::min<size_t>(buffer.size(), remaining);
      buffer.consume(buffered);
      remaining -= buffered;
      received += buffered;
      while (remaining > 0) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, scratch->size()));
        auto [rec, n] =
            co_await stream.async_read_some(asio::buffer(scratch->data(), want), kNoThrow);
        if (rec) {
          co_return 0u;
        }
        remaining -= n;
        received += n;
      }
    } else {
      while (!parser.is_done()) {
        parser.get().body().data = scratch->data();
        parser.get().body().size = scratch->size();
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
        if (bec == http::error::need_buffer) {
          bec = {};
        }
        if (bec) {
          co_return 0u;
        }
        received += scratch->size() - parser.get().body().size;
      }
    }
    *bytes_in = received;
    if (!parser.get().keep_alive()) {
      co_return 0u;  // reconnect for the next request
    }
    co_return parser.get().result_int();
  }

 private:
  void parse_mix() {
    for (const auto& part : split(o_.mix, ',')) {
      const size_t eq = part.find('=');
      if (eq == std::string::npos) {
        continue;
      }
      const std::string name = part.substr(0, eq);
      const int weight = std::atoi(part.c_str() + eq + 1);
      for (size_t k = 0; k < kOpNames.size(); ++k) {
        std::string lower(kOpNames[k]);
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (lower == name) {
          for (int i = 0; i < weight; ++i) {
            mix_.push_back(static_cast<OpKind>(k));
          }
        }
      }
    }
  }

  static std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
      const size_t pos = s.find(sep, start);
      out.push_back(s.substr(start, pos - start));
      if (pos == std::string::npos) {
        break;
      }
      start = pos + 1;
    }
    return out;
  }

  std::string now_amz_date() {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::lock_guard lock(date_mu_);
    if (now != date_second_) {
      date_second_ = now;
      const std::string iso = vaultaire::format_iso8601(now * 1'000'000'000);
      date_text_ = iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2) + "T" +
                   iso.substr(11, 2) + iso.substr(14, 2) + iso.substr(17, 2) + "Z";
      if (date_text_.substr(0, 8) != key_date_) {
        key_date_ = date_text_.substr(0, 8);
        signing_key_ = sigv4::signing_key(o_.secret_key, key_date_, o_.region, "s3");
      }
    }
    return date_text_;
  }

  template <typename Request>
  void sign(Request& req, const std::string& path, const std::string& query,
            const std::string& amz_date, const std::string& payload) {
    sigv4::CanonicalInput in;
    in.method = http::to_string(req.method());
    in.canonical_uri = path;  // already encoded by the caller
    if (!query.empty()) {
      in.query =
          vaultaire::parse_query(query).value_or(std::vector<vaultaire::QueryParam>{});
    }
    in.headers = {
        {"host", host_header_}, {"x-amz-content-sha256", payload}, {"x-amz-date", amz_date}};
    in.signed_headers = {"host", "x-amz-content-sha256", "x-amz-date"};
    in.payload_hash = payload;
    std::string key;
    std::string date;
    {
      std::lock_guard lock(date_mu_);
      key = signing_key_;
      date = key_date_;
    }
    const std::string scope = sigv4::scope(date, o_.region, "s3");
    const std::string sts = sigv4::string_to_sign(amz_date, scope, sigv4::canonical_request(in));
    req.set(http::field::authorization,
            std::string(sigv4::kAlgorithm) + " Credential=" + o_.access_key + "/" + scope +
                ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" +
                sigv4::signature(key, sts));
  }

  std::string object_path(uint64_t n) const {
    return "/" + o_.bucket + "/" + vaultaire::uri_encode(o_.prefix + std::to_string(n), true);
  }

  static awaitable<void> worker(Bench* self, int id, Stats* stats, bool record) {
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(self->host_, self->port_, kNoThrow);
    if (rec) {
      std::cerr << "s3bench: cannot resolve " << self->host_ << ": " << rec.message() << '\n';
      co_return;
    }
    std::string scratch(1 << 20, '\0');
    std::mt19937_64 rng(static_cast<uint64_t>(id) * 7919 + 1);
    std::unique_ptr<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    uint64_t put_counter = 0;
    while (!self->stop_.load(std::memory_order_relaxed)) {
      const uint64_t n = self->issued_.fetch_add(1);
      if (self->total_ops_ != 0 && n >= self->total_ops_) {
        break;
      }
      if (!stream) {
        stream = std::make_unique<beast::tcp_stream>(ex);
        auto [cec, ep] = co_await stream->async_connect(endpoints, kNoThrow);
        if (cec) {
          std::cerr << "s3bench: connect failed: " << cec.message() << '\n';
          co_return;
        }
        stream->socket().set_option(asio::ip::tcp::no_delay(true));
        buffer.clear();
      }
      const OpKind kind =
          self->plan_.size() == 1 ? self->plan_[0] : self->plan_[rng() % self->plan_.size()];
      const uint64_t key_index =
          self->total_ops_ != 0 && kind == OpKind::kPut && !record
              ? n  // prepare phase: write keys 0..N-1 exactly once
              : (kind == OpKind::kPut ? (static_cast<uint64_t>(id) << 32) + put_counter++
                                      : rng() % std::max<uint64_t>(1, self->o_.keys));
      http::verb verb = http::verb::get;
      std::string path = self->object_path(key_index);
      std::string query;
      bool body = false;
      switch (kind) {
        case OpKind::kPut:
          verb = http::verb::put;
          body = true;
          break;
        case OpKind::kGet:
          break;
        case OpKind::kHead:
          verb = http::verb::head;
          break;
        case OpKind::kDelete:
          verb = http::verb::delete_;
          break;
        case OpKind::kList:
          path = "/" + self->o_.bucket;
          query = "list-type=2&max-keys=" + std::to_string(self->o_.list_max_keys);
          if (!self->o_.list_prefix.empty()) {
            query += "&prefix=" + vaultaire::uri_encode(self->o_.list_prefix, false);
          }
          break;
      }
      const auto t0 = SteadyClock::now();
      uint64_t bytes_in = 0;
      const unsigned status =
          co_await self->request(*stream, buffer, &scratch, verb, path, query, body, &bytes_in);
      const auto micros =
          std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0).count();
      const auto k = static_cast<size_t>(kind);
      if (status == 0) {
        stream.reset();  // transport error or server closed: reconnect
      }
      if (!record) {
        continue;
      }
      if (status == 0 || status >= 300) {
        ++stats->errors[k];
      } else {
        stats->latencies[k].push_back(static_cast<uint32_t>(std::min<int64_t>(micros, UINT32_MAX)));
        stats->bytes[k] += body ? self->body_.size() : bytes_in;
      }
    }
    if (stream) {
      boost::system::error_code ec;
      stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    }
  }

  Options o_;
  std::string body_;
  std::string host_;
  std::string port_;
  std::string host_header_;
  std::vector<OpKind> mix_;
  std::vector<OpKind> plan_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> issued_{0};
  uint64_t total_ops_ = 0;
  SteadyClock::time_point start_;
  double elapsed_ = 0;
  std::mutex date_mu_;
  int64_t date_second_ = 0;
  std::string date_text_;
  std::string key_date_;
  std::string signing_key_;

 public:
  const std::vector<OpKind>& mix() const { return mix_; }
};

double percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) {
    return 0;
  }
  const size_t idx = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return v[idx] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"s3bench: S3 load generator"};
  app.add_option("--endpoint", o.endpoint, "http://HOST:PORT")->capture_default_str();
  app.add_option("--access-key", o.access_key)->envname("AWS_ACCESS_KEY_ID");
  app.add_option("--secret-key", o.secret_key)->envname("AWS_SECRET_ACCESS_KEY");
  app.add_option("--region", o.region)->capture_default_str();
  app.add_option("--bucket", o.bucket)->capture_default_str();
  app.add_option("--op", o.op, "put, get, head, list, delete or mixed")
      ->check(CLI::IsMember({"put", "get", "head", "list", "delete", "mixed"}))
      ->capture_default_str();
  app.add_option("--size", o.size_text, "Object size (4KiB, 16MiB, ...)")->capture_default_str();
  app.add_option("--concurrency,-c", o.concurrency, "Connections")->capture_default_str();
  app.add_option("--duration,-d", o.duration, "Seconds to run")->capture_default_str();
  app.add_option("--ops,-n", o.ops, "Stop after this many operations (overrides --duration)");
  app.add_option("--keys", o.keys, "Key space of GET/HEAD/DELETE (objects 0..keys-1)")
      ->capture_default_str();
  app.add_option("--prefix", o.prefix, "Key prefix")->capture_default_str();
  app.add_flag("--prepare", o.prepare, "PUT the --keys objects first (not measured)");
  app.add_flag("!--no-create-bucket", o.create_bucket, "Do not create the bucket first");
  app.add_flag("--sign-payload", o.sign_payload, "Sign the body's SHA-256 (default: unsigned)");
  app.add_option("--threads", o.threads, "Client threads")->capture_default_str();
  app.add_option("--mix", o.mix, "Weights for --op mixed")->capture_default_str();
  app.add_option("--list-max-keys", o.list_max_keys, "max-keys of LIST")->capture_default_str();
  app.add_option("--list-prefix", o.list_prefix, "prefix of LIST");
  app.add_flag("--json", o.json, "JSON output");
  CLI11_PARSE(app, argc, argv);

  const auto size = parse_size(o.size_text);
  if (!size) {
    std::cerr << "s3bench: bad --size " << o.size_text << '\n';
    return 2;
  }
  o.size = *size;
  if (o.access_key.empty() || o.secret_key.empty()) {
    std::cerr << "s3bench: --access-key and --secret-key (or AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY) are required\n";
    return 2;
  }

  Bench bench(o);
  if (o.create_bucket) {
    asio::io_context io;
    unsigned status = 0;
    asio::co_spawn(
        io,
        [](Bench* b, unsigned* out) -> awaitable<void> {
          auto ex = co_await asio::this_coro::executor;
          asio::ip::tcp::resolver resolver(ex);
          auto [rec, eps] = co_await resolver.async_resolve(
              b->options().endpoint.substr(
                  b->options().endpoint.find("//") + 2,
                  b->options().endpoint.rfind(':') - b->options().endpoint.find("//") - 2),
              b->options().endpoint.substr(b->options().endpoint.rfind(':') + 1), kNoThrow);
          if (rec) {
            co_return;
          }
          beast::tcp_stream stream(ex);
          auto [cec, ep] = co_await stream.async_connect(eps, kNoThrow);
          if (cec) {
            co_return;
          }
          beast::flat_buffer buffer;
          std::string scratch(1 << 16, '\0');
          uint64_t bytes = 0;
          *out = co_await b->request(stream, buffer, &scratch, http::verb::put,
                                     "/" + b->options().bucket, "", false, &bytes);
        }(&bench, &status),
        asio::detached);
    io.run();
    if (status != 200 && status != 409) {
      std::cerr << "s3bench: cannot create bucket " << o.bucket << " (status " << status << ")\n";
      return 1;
    }
  }
  if (o.prepare) {
    bench.run({OpKind::kPut}, 0, o.keys, /*record=*/false);
  }

  std::vector<OpKind> plan;
  if (o.op == "mixed") {
    plan = bench.mix();
  } else {
    const std::map<std::string, OpKind> kinds = {{"put", OpKind::kPut},
                                                 {"get", OpKind::kGet},
                                                 {"head", OpKind::kHead},
                                                 {"list", OpKind::kList},
                                                 {"delete", OpKind::kDelete}};
    plan = {kinds.at(o.op)};
  }
  Stats stats = bench.run(plan, o.ops != 0 ? 0 : o.duration, o.ops);
  const double secs = bench.elapsed();

  nlohmann::json out;
  out["endpoint"] = o.endpoint;
  out["op"] = o.op;
  out["size"] = o.size;
  out["concurrency"] = o.concurrency;
  out["seconds"] = secs;
  uint64_t total_ops = 0;
  for (size_t k = 0; k < kOpNames.size(); ++k) {
    auto& lat = stats.latencies[k];
    if (lat.empty() && stats.errors[k] == 0) {
      continue;
    }
    nlohmann::json j;
    j["ops"] = lat.size();
    j["errors"] = stats.errors[k];
    j["ops_per_second"] = static_cast<double>(lat.size()) / secs;
    j["mib_per_second"] = static_cast<double>(stats.bytes[k]) / secs / (1 << 20);
    j["p50_ms"] = percentile(lat, 0.50);
    j["p90_ms"] = percentile(lat, 0.90);
    j["p99_ms"] = percentile(lat, 0.99);
    j["max_ms"] = lat.empty() ? 0.0 : *std::max_element(lat.begin(), lat.end()) / 1000.0;
    out["operations"][std::string(kOpNames[k])] = j;
    total_ops += lat.size();
  }
  out["ops_per_second"] = static_cast<double>(total_ops) / secs;
  if (o.json) {
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  std::printf("endpoint %s  op %s  size %s  concurrency %d  %.1f s\n", o.endpoint.c_str(),
              o.op.c_str(), o.size_text.c_str(), o.concurrency, secs);
  std::printf("%-7s %10s %7s %11s %10s %9s %9s %9s %9s\n", "op", "ops", "errors", "ops/s", "MiB/s",
              "p50 ms", "p90 ms", "p99 ms", "max ms");
  for (const auto& [name, j] : out["operations"].items()) {
    std::printf("%-7s %10llu %7llu %11.1f %10.2f %9.3f %9.3f %9.3f %9.3f\n", name.c_str(),
                static_cast<unsigned long long>(j["ops"].get<uint64_t>()),
                static_cast<unsigned long long>(j["errors"].get<uint64_t>()),
                j["ops_per_second"].get<double>(), j["mib_per_second"].get<double>(),
                j["p50_ms"].get<double>(), j["p90_ms"].get<double>(), j["p99_ms"].get<double>(),
                j["max_ms"].get<double>());
  }
  return 0;
}

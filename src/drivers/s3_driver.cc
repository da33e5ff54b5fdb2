#include "drivers/s3_driver.h"

#include <atomic>
#include <charconv>
#include <random>

#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <pugixml.hpp>

#include "common/checksum.h"
#include "common/crypto.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/sigv4.h"
#include "common/time_format.h"
#include "common/uri.h"

namespace vaultaire::drivers {
namespace internal {
namespace {

constexpr std::string_view kService = "s3";

struct Request {
  http::verb verb = http::verb::get;
  std::string key;  // the object key inside the bucket; empty: the bucket
  std::vector<QueryParam> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Response {
  unsigned status = 0;
  http::fields headers;
  std::string body;
};

bool retryable(unsigned status) { return status >= 500 || status == 429; }

std::string amz_date(int64_t unix_nanos) {
  const std::string iso = format_iso8601(unix_nanos);
  return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2) + "T" + iso.substr(11, 2) +
         iso.substr(14, 2) + iso.substr(17, 2) + "Z";
}

std::string query_string(const std::vector<QueryParam>& query) {
  std::string out;
  for (const auto& p : query) {
    out += out.empty() ? "" : "&";
    out += uri_encode(p.name, false);
    if (!p.no_value) {
      out += "=" + uri_encode(p.value, false);
    }
  }
  return out;
}

}  // namespace

// The HTTP side of the driver: signing, the connection pool, retries.
class S3Client : public std::enable_shared_from_this<S3Client> {
 public:
  S3Client(asio::any_io_executor executor, S3DriverOptions options, const Clock& clock,
           std::string host, std::string port)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        clock_(clock),
        host_(std::move(host)),
        port_(std::move(port)),
        tokens_(executor_, options_.max_connections) {
    for (size_t i = 0; i < options_.max_connections; ++i) {
      tokens_.try_send(boost::system::error_code());
    }
  }

  const S3DriverOptions& options() const { return options_; }
  const Clock& clock() const { return clock_; }
  uint64_t requests_sent() const { return requests_.load(); }
  // Counts a request sent outside send() (a reader's GET).
  void count_request() { ++requests_; }

  // One request, retried on connection errors, timeouts, 5xx and 429 with backoff and jitter.
  // The body of the response is read whole (these are small: XML, errors, empty).
  asio::awaitable<Result<Response>> send(Request request) {
    for (int attempt = 1;; ++attempt) {
      auto response = co_await send_once(request);
      const bool retry = !response || retryable(response->status);
      if (!retry || attempt >= options_.max_attempts) {
        if (!response) {
          logger("drivers")->warn("remote request failed driver={} verb={} key={} attempts={}",
                                  options_.name, std::string(http::to_string(request.verb)),
                                  request.key, attempt);
        }
        co_return response;
      }
      co_await backoff(attempt);
    }
  }

  // The signed head of a request (without its body).
  http::request<http::string_body> prepare(const Request& request) const {
    const std::string path =
        "/" + options_.bucket + (request.key.empty() ? "" : "/" + uri_encode(request.key, true));
    const std::string query = query_string(request.query);
    http::request<http::string_body> req{request.verb, path + (query.empty() ? "" : "?" + query),
                                         11};
    const std::string host = host_ + ":" + port_;
    const std::string date = amz_date(clock_.now_unix_nanos());
    const std::string payload(sigv4::kUnsignedPayload);
    req.set(http::field::host, host);
    req.set("x-amz-date", date);
    req.set("x-amz-content-sha256", payload);
    std::vector<sigv4::Header> headers = {
        {"host", host}, {"x-amz-content-sha256", payload}, {"x-amz-date", date}};
    for (const auto& [name, value] : request.headers) {
      req.set(name, value);
      headers.push_back({name, value});
    }
    std::sort(headers.begin(), headers.end(),
              [](const sigv4::Header& a, const sigv4::Header& b) { return a.name < b.name; });
    std::vector<std::string> signed_names;
    std::string joined;
    for (const auto& h : headers) {
      signed_names.push_back(h.name);
      joined += (joined.empty() ? "" : ";") + h.name;
    }
    sigv4::CanonicalInput in;
    in.method = std::string(http::to_string(request.verb));
    in.canonical_uri = path;
    in.query = request.query;
    in.headers = headers;
    in.signed_headers = signed_names;
    in.payload_hash = payload;
    const std::string day = date.substr(0, 8);
    const std::string scope = sigv4::scope(day, options_.region, kService);
    const std::string signature =
        sigv4::signature(sigv4::signing_key(options_.secret_key, day, options_.region, kService),
                         sigv4::string_to_sign(date, scope, sigv4::canonical_request(in)));
    req.set(http::field::authorization,
            std::string(sigv4::kAlgorithm) + " Credential=" + options_.access_key + "/" + scope +
                ", SignedHeaders=" + joined + ", Signature=" + signature);
    req.set(http::field::user_agent, "vaultaire-s3-driver");
    return req;
  }

  // A connection from the pool (or a new one), at most max_connections at once.
  asio::awaitable<Result<std::unique_ptr<beast::tcp_stream>>> acquire() {
    auto [ec] = co_await tokens_.async_receive(kNoThrow);
    if (ec) {
      co_return Errc::kShuttingDown;
    }
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto stream = std::move(idle_.back());
        idle_.pop_back();
        co_return stream;
      }
    }
    auto stream = std::make_unique<beast::tcp_stream>(executor_);
    asio::ip::tcp::resolver resolver(executor_);
    auto [rec, endpoints] = co_await resolver.async_resolve(host_, port_, kNoThrow);
    if (rec) {
      release(nullptr);
      co_return Errc::kDriverUnavailable;
    }
    stream->expires_after(options_.timeout);
    auto [cec, ep] = co_await stream->async_connect(endpoints, kNoThrow);
    if (cec) {
      release(nullptr);
      co_return Errc::kDriverUnavailable;
    }
    boost::system::error_code ignored;
    stream->socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    co_return stream;
  }

  // Gives a connection back (null: it was broken, its slot frees).
  void release(std::unique_ptr<beast::tcp_stream> stream) {
    if (stream) {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(stream));
    }
    tokens_.try_send(boost::system::error_code());
  }

  asio::awaitable<void> backoff(int attempt) {
    const auto cap = std::min<int64_t>(options_.max_backoff.count(), options_.base_backoff.count()
                                                                         << std::min(attempt, 16));
    const auto ms =
        static_cast<int64_t>(random_u64() % static_cast<uint64_t>(std::max<int64_t>(1, cap)));
    asio::steady_timer timer(executor_, std::chrono::milliseconds(ms));
    co_await timer.async_wait(kNoThrow);
  }

  const std::string& host() const { return host_; }

 private:
  asio::awaitable<Result<Response>> send_once(const Request& request) {
    ++requests_;
    auto stream = co_await acquire();
    if (!stream) {
      co_return stream.error();
    }
    auto req = prepare(request);
    req.body() = request.body;
    req.prepare_payload();
    beast::flat_buffer buffer;
    (*stream)->expires_after(options_.timeout);
    auto [wec, wn] = co_await http::async_write(**stream, req, kNoThrow);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    if (request.verb == http::verb::head) {
      parser.skip(true);
    }
    if (!wec) {
      auto [rec, rn] = co_await http::async_read(**stream, buffer, parser, kNoThrow);
      if (!rec) {
        Response out;
        out.status = parser.get().result_int();
        out.headers = parser.get().base();
        out.body = std::move(parser.get().body());
        release(parser.get().keep_alive() ? std::move(*stream) : nullptr);
        co_return out;
      }
    }
    release(nullptr);
    co_return Errc::kDriverUnavailable;
  }

  asio::any_io_executor executor_;
  const S3DriverOptions options_;
  const Clock& clock_;
  const std::string host_;
  const std::string port_;
  std::mutex mu_;
  std::vector<std::unique_ptr<beast::tcp_stream>> idle_;  // guarded by mu_
  asio::experimental::concurrent_channel<void(boost::system::error_code)> tokens_;
  std::atomic<uint64_t> requests_{0};
};

}  // namespace internal

namespace {

using internal::Request;
using internal::Response;
using internal::S3Client;

boost::system::error_code status_error(const Response& r, std::string_view what,
                                       const std::string& driver) {
  if (r.status == 404) {
    return Errc::kNoSuchBlob;
  }
  if (r.status == 416) {
    return Errc::kInvalidRange;
  }
  logger("drivers")->warn("remote answered an error driver={} op={} status={} body={}", driver,
                          what, r.status, r.body.substr(0, 200));
  return r.status >= 500 ? Errc::kDriverUnavailable : Errc::kIo;
}

std::string crc32c_header(std::string_view body) {
  Checksum c(ChecksumAlgorithm::kCrc32c);
  c.update(body);
  return base64_encode(c.finish());
}

class S3Writer final : public BlobWriter {
 public:
  S3Writer(S3Client& client, std::string id) : client_(client), id_(std::move(id)) {}

  ~S3Writer() override {
    if (!upload_id_.empty() && !done_) {
      // Abandoned: abort the remote upload in the background.
      Request r;
      r.verb = http::verb::delete_;
      r.key = key();
      r.query = {{"uploadId", upload_id_, false}};
      asio::co_spawn(asio::system_executor(), fire(client_.shared_from_this(), std::move(r)),
                     asio::detached);
    }
  }

  const std::string& id() const override { return id_; }

  asio::awaitable<Result<void>> write(std::string data) override {
    buffer_.append(data);
    size_ += data.size();
    while (buffer_.size() >= client_.options().part_size) {
      std::string part = buffer_.substr(0, client_.options().part_size);
      buffer_.erase(0, client_.options().part_size);
      if (auto r = co_await upload_part(std::move(part)); !r) {
        co_return r;
      }
    }
    co_return Result<void>{};
  }

  asio::awaitable<Result<BlobInfo>> commit() override {
    if (upload_id_.empty()) {
      // Small enough for one PUT.
      Request r;
      r.verb = http::verb::put;
      r.key = key();
      r.headers.emplace_back("x-amz-checksum-crc32c", crc32c_header(buffer_));
      if (!client_.options().storage_class.empty()) {
        r.headers.emplace_back("x-amz-storage-class", client_.options().storage_class);
      }
      r.body = std::move(buffer_);
      auto response = co_await client_.send(std::move(r));
      if (!response) {
        co_return response.error();
      }
      if (response->status != 200) {
        co_return status_error(*response, "put", client_.options().name);
      }
    } else {
      if (!buffer_.empty() || etags_.empty()) {
        if (auto p = co_await upload_part(std::move(buffer_)); !p) {
          co_return p.error();
        }
      }
      std::string xml = "<CompleteMultipartUpload>";
      for (size_t i = 0; i < etags_.size(); ++i) {
        xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags_[i] +
               "</ETag></Part>";
      }
      xml += "</CompleteMultipartUpload>";
      Request r;
      r.verb = http::verb::post;
      r.key = key();
      r.query = {{"uploadId", upload_id_, false}};
      r.headers.emplace_back("content-md5", base64_encode(md5(xml)));
      r.body = std::move(xml);
      auto response = co_await client_.send(std::move(r));
      if (!response) {
        co_return response.error();
      }
      // A completion can fail inside a 200: the body says so.
      if (response->status != 200 || response->body.find("<Error>") != std::string::npos) {
        co_return status_error(*response, "complete", client_.options().name);
      }
    }
    done_ = true;
    co_return BlobInfo{id_, size_, client_.clock().now_unix_nanos() / kNanosPerSecond};
  }

  asio::awaitable<void> abort() override {
    done_ = true;
    if (upload_id_.empty()) {
      co_return;
    }
    Request r;
    r.verb = http::verb::delete_;
    r.key = key();
    r.query = {{"uploadId", upload_id_, false}};
    (void)co_await client_.send(std::move(r));
  }

 private:
  static asio::awaitable<void> fire(std::shared_ptr<S3Client> client, Request r) {
    (void)co_await client->send(std::move(r));
  }

  std::string key() const { return client_.options().prefix + id_; }

  asio::awaitable<Result<void>> upload_part(std::string body) {
    if (upload_id_.empty()) {
      Request r;
      r.verb = http::verb::post;
      r.key = key();
      r.query = {{"uploads", "", true}};
      r.headers.emplace_back("x-amz-checksum-algorithm", "CRC32C");
      if (!client_.options().storage_class.empty()) {
        r.headers.emplace_back("x-amz-storage-class", client_.options().storage_class);
      }
      auto response = co_await client_.send(std::move(r));
      if (!response) {
        co_return response.error();
      }
      pugi::xml_document doc;
      doc.load_buffer(response->body.data(), response->body.size());
      upload_id_ = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
      if (response->status != 200 || upload_id_.empty()) {
        co_return status_error(*response, "create upload", client_.options().name);
      }
    }
    Request r;
    r.verb = http::verb::put;
    r.key = key();
    r.query = {{"partNumber", std::to_string(etags_.size() + 1), false},
               {"uploadId", upload_id_, false}};
    r.headers.emplace_back("x-amz-checksum-crc32c", crc32c_header(body));
    r.body = std::move(body);
    auto response = co_await client_.send(std::move(r));
    if (!response) {
      co_return response.error();
    }
    if (response->status != 200) {
      co_return status_error(*response, "upload part", client_.options().name);
    }
    etags_.emplace_back(response->headers[http::field::etag]);
    co_return Result<void>{};
  }

  S3Client& client_;
  const std::string id_;
  std::string buffer_;
  uint64_t size_ = 0;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool done_ = false;
};

// Streams one GET; reopens from the current offset when the connection breaks.
class S3Reader final : public BlobReader {
 public:
  S3Reader(S3Client& client, std::string id, uint64_t first, uint64_t length)
      : client_(client), id_(std::move(id)), offset_(first), remaining_(length), length_(length) {}

  ~S3Reader() override {
    // Only a held stream holds a connection slot; one not read to its end cannot carry another
    // request.
    if (stream_) {
      client_.release(remaining_ == 0 && body_left_ == 0 ? std::move(stream_) : nullptr);
    }
  }

  uint64_t size() const override { return length_; }

  // Sends the GET for [offset_, offset_ + remaining_) and reads its header. Errors:
  // kNoSuchBlob, kInvalidRange, driver errors.
  asio::awaitable<Result<void>> start() {
    for (int attempt = 1;; ++attempt) {
      auto r = co_await start_once();
      if (r || attempt >= client_.options().max_attempts || is(r.error(), Errc::kNoSuchBlob) ||
          is(r.error(), Errc::kInvalidRange)) {
        co_return r;
      }
      co_await client_.backoff(attempt);
    }
  }

  asio::awaitable<Result<std::string>> read(size_t max) override {
    for (int attempt = 1; remaining_ > 0; ++attempt) {
      if (!stream_) {
        if (auto s = co_await start(); !s) {
          co_return s.error();
        }
      }
      const size_t want = static_cast<size_t>(std::min<uint64_t>(max, body_left_));
      std::string chunk(want, '\0');
      size_t got = std::min(buffer_.size(), want);
      if (got > 0) {
        asio::buffer_copy(asio::buffer(chunk.data(), got), buffer_.data());
        buffer_.consume(got);
      }
      bool broken = false;
      if (got < want) {
        stream_->expires_after(client_.options().timeout);
        auto [ec, n] = co_await asio::async_read(
            *stream_, asio::buffer(chunk.data() + got, want - got), kNoThrow);
        got += n;
        broken = static_cast<bool>(ec);
      }
      chunk.resize(got);
      offset_ += got;
      remaining_ -= got;
      body_left_ -= got;
      if (broken) {
        client_.release(nullptr);
        stream_.reset();
        // Bytes already read are returned (and counted in offset_): the next read reopens
        // after them. An error here would lose them.
        if (got == 0) {
          if (attempt >= client_.options().max_attempts) {
            co_return Errc::kDriverUnavailable;
          }
          co_await client_.backoff(attempt);
          continue;  // reopen from offset_
        }
      }
      co_return chunk;
    }
    co_return std::string();
  }

 private:
  asio::awaitable<Result<void>> start_once() {
    // Counted before the connection, as send() counts: a connection reset before the connect
    // completes is an attempt too.
    client_.count_request();
    auto stream = co_await client_.acquire();
    if (!stream) {
      co_return stream.error();
    }
    stream_ = std::move(*stream);
    Request r;
    r.verb = http::verb::get;
    r.key = client_.options().prefix + id_;
    if (remaining_ > 0) {
      r.headers.emplace_back("range", "bytes=" + std::to_string(offset_) + "-" +
                                          std::to_string(offset_ + remaining_ - 1));
    }
    auto req = client_.prepare(r);
    req.prepare_payload();
    buffer_.clear();
    stream_->expires_after(client_.options().timeout);
    auto [wec, wn] = co_await http::async_write(*stream_, req, kNoThrow);
    http::response_parser<http::empty_body> parser;
    parser.body_limit(boost::none);
    if (!wec) {
      auto [hec, hn] = co_await http::async_read_header(*stream_, buffer_, parser, kNoThrow);
      if (!hec) {
        const unsigned status = parser.get().result_int();
        if ((status == 200 || status == 206) && parser.content_length() == remaining_) {
          body_left_ = remaining_;
          co_return Result<void>{};
        }
        if (status == 200 || status == 206) {
          // Fewer bytes than asked (a range past the blob's end, answered with what exists) or
          // a length we cannot trust: never hand out short data as if it were the whole range.
          logger("drivers")->warn(
              "remote answered another length driver={} id={} status={} asked={} length={}",
              client_.options().name, id_, status, remaining_,
              parser.content_length() ? std::to_string(*parser.content_length()) : "none");
          client_.release(nullptr);
          stream_.reset();
          if (status == 206 && parser.content_length().value_or(0) < remaining_) {
            co_return Errc::kInvalidRange;
          }
          co_return Errc::kIo;
        }
        // An error: read its (small) body, then give up on this connection.
        client_.release(nullptr);
        stream_.reset();
        if (status == 404) {
          co_return Errc::kNoSuchBlob;
        }
        if (status == 416) {
          co_return Errc::kInvalidRange;
        }
        co_return status >= 500 ? Errc::kDriverUnavailable : Errc::kIo;
      }
    }
    client_.release(nullptr);
    stream_.reset();
    co_return Errc::kDriverUnavailable;
  }

  S3Client& client_;
  const std::string id_;
  std::unique_ptr<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  uint64_t offset_;
  uint64_t remaining_;
  uint64_t length_;
  uint64_t body_left_ = 0;  // of the current response
};

}  // namespace

S3Driver::S3Driver(std::shared_ptr<internal::S3Client> client) : client_(std::move(client)) {}
S3Driver::~S3Driver() = default;

Result<std::unique_ptr<S3Driver>> S3Driver::create(asio::any_io_executor executor,
                                                   S3DriverOptions options, const Clock& clock) {
  std::string_view rest = options.endpoint;
  if (rest.substr(0, 7) != "http://") {
    logger("drivers")->error("s3 driver endpoint must be http://host:port driver={} endpoint={}",
                             options.name, options.endpoint);
    return Errc::kInvalidArgument;
  }
  rest.remove_prefix(7);
  while (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  const size_t colon = rest.rfind(':');
  std::string host(rest.substr(0, colon));
  std::string port = colon == std::string_view::npos ? "80" : std::string(rest.substr(colon + 1));
  if (host.empty() || options.bucket.empty() || options.max_connections == 0 ||
      options.part_size < (5u << 20)) {
    return Errc::kInvalidArgument;
  }
  return std::unique_ptr<S3Driver>(new S3Driver(std::make_shared<internal::S3Client>(
      std::move(executor), std::move(options), clock, std::move(host), std::move(port))));
}

const std::string& S3Driver::name() const { return client_->options().name; }

uint64_t S3Driver::requests_sent() const { return client_->requests_sent(); }

asio::awaitable<Result<std::unique_ptr<BlobWriter>>> S3Driver::create() {
  co_return std::make_unique<S3Writer>(
      *client_, new_blob_id(client_->clock().now_unix_nanos() / kNanosPerSecond));
}

asio::awaitable<Result<std::unique_ptr<BlobReader>>> S3Driver::open(
    std::string id, std::optional<ByteRange> range) {
  if (!is_blob_id(id)) {
    co_return Errc::kNoSuchBlob;
  }
  uint64_t first = 0;
  uint64_t length = 0;
  if (range) {
    if (range->first > range->last) {
      co_return Errc::kInvalidRange;
    }
    first = range->first;
    length = range->length();
  } else {
    auto info = co_await stat(id);
    if (!info) {
      co_return info.error();
    }
    length = info->size;
  }
  auto reader = std::make_unique<S3Reader>(*client_, std::move(id), first, length);
  if (length > 0) {
    if (auto started = co_await reader->start(); !started) {
      co_return started.error();
    }
  }
  co_return std::unique_ptr<BlobReader>(std::move(reader));
}

asio::awaitable<Result<void>> S3Driver::remove(std::string id) {
  if (!is_blob_id(id)) {
    co_return Result<void>{};
  }
  Request r;
  r.verb = http::verb::delete_;
  r.key = client_->options().prefix + id;
  auto response = co_await client_->send(std::move(r));
  if (!response) {
    co_return response.error();
  }
  if (response->status != 204 && response->status != 200 && response->status != 404) {
    co_return status_error(*response, "delete", name());
  }
  co_return Result<void>{};
}

asio::awaitable<Result<BlobInfo>> S3Driver::stat(std::string id) {
  if (!is_blob_id(id)) {
    co_return Errc::kNoSuchBlob;
  }
  Request r;
  r.verb = http::verb::head;
  r.key = client_->options().prefix + id;
  auto response = co_await client_->send(std::move(r));
  if (!response) {
    co_return response.error();
  }
  if (response->status != 200) {
    co_return status_error(*response, "head", name());
  }
  BlobInfo info;
  info.id = id;
  const auto length = response->headers[http::field::content_length];
  std::from_chars(length.data(), length.data() + length.size(), info.size);
  const auto modified = response->headers[http::field::last_modified];
  info.modified_unix_seconds =
      parse_http_date(std::string_view(modified.data(), modified.size())).value_or(0);
  co_return info;
}

asio::awaitable<Result<void>> S3Driver::health() {
  Request r;
  r.verb = http::verb::head;
  auto response = co_await client_->send(std::move(r));
  if (!response) {
    co_return response.error();
  }
  if (response->status != 200) {
    co_return Errc::kDriverUnavailable;
  }
  co_return Result<void>{};
}

asio::awaitable<Result<SweepReport>> S3Driver::sweep(
    std::function<bool(std::string_view id)> referenced, int64_t older_than_unix_seconds) {
  SweepReport report;
  std::string token;
  for (;;) {
    Request r;
    r.verb = http::verb::get;
    r.query = {{"list-type", "2", false}, {"prefix", client_->options().prefix, false}};
    if (!token.empty()) {
      r.query.push_back({"continuation-token", token, false});
    }
    auto response = co_await client_->send(std::move(r));
    if (!response) {
      co_return response.error();
    }
    if (response->status != 200) {
      co_return status_error(*response, "list", name());
    }
    pugi::xml_document doc;
    doc.load_buffer(response->body.data(), response->body.size());
    const pugi::xml_node result = doc.child("ListBucketResult");
    for (pugi::xml_node c = result.child("Contents"); c; c = c.next_sibling("Contents")) {
      const std::string key = c.child_value("Key");
      const std::string id = key.substr(std::min(key.size(), client_->options().prefix.size()));
      if (!is_blob_id(id)) {
        continue;
      }
      ++report.examined;
      const auto modified = parse_iso8601(c.child_value("LastModified"));
      if (!modified || *modified >= older_than_unix_seconds || referenced(id)) {
        continue;
      }
      if (co_await remove(id)) {
        ++report.removed;
        report.removed_bytes += std::strtoull(c.child_value("Size"), nullptr, 10);
      }
    }
    if (std::string_view(result.child_value("IsTruncated")) != "true") {
      break;
    }
    token = result.child_value("NextContinuationToken");
    if (token.empty()) {
      break;
    }
  }
  co_return report;
}

}  // namespace vaultaire::drivers

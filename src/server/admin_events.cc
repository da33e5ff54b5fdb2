#include "server/admin_events.h"

#include <algorithm>
#include <limits>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "events/event_json.h"

namespace vaultaire::server {
namespace {

// Events [from, until] of `tenant` (all when empty) as NDJSON lines, at most `max_events`
// of them examined. `next` is where the following batch starts.
struct Batch {
  std::string text;
  uint64_t next = 0;
  uint64_t events = 0;
};

Result<Batch> read_batch(const events::Store& store, uint64_t from, uint64_t until,
                         const std::string& tenant, size_t max_events) {
  Batch batch;
  batch.next = from;
  size_t examined = 0;
  auto walked = events::for_each_event(store, from, [&](const proto::Event& e) {
    if (e.sequence() > until || examined == max_events) {
      return false;
    }
    ++examined;
    batch.next = e.sequence() + 1;
    if (!tenant.empty() && e.tenant() != tenant) {
      return true;
    }
    // A user agent need not be valid UTF-8: replace rather than fail the stream.
    batch.text +=
        events::event_to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    batch.text += '\n';
    ++batch.events;
    return true;
  });
  if (!walked) {
    return walked.error();
  }
  return batch;
}

std::string heartbeat(uint64_t seen) { return "{\"heartbeat\":" + std::to_string(seen) + "}\n"; }

}  // namespace

EventStream::EventStream(const events::Store& store, const events::EventLog& log,
                         EventStreamOptions options)
    : store_(store), log_(log), options_(options) {}

asio::awaitable<uint64_t> EventStream::serve(s3::HttpExchange& exchange, EventStreamRequest request,
                                             std::string request_id) {
  auto log = logger("server");
  const bool follow = request.follow;
  // Without follow, the stream ends with the log as it was when the request came.
  const uint64_t end = follow ? std::numeric_limits<uint64_t>::max() : log_.last_sequence();
  uint64_t next = std::max<uint64_t>(1, request.from);
  uint64_t sent = 0;
  bool header_sent = false;
  auto last_write = std::chrono::steady_clock::now();
  asio::steady_timer timer(co_await asio::this_coro::executor);

  for (;;) {
    const uint64_t until = std::min(end, log_.last_sequence());
    std::string chunk;
    bool failed = false;
    if (next <= until) {
      auto task = [store = &store_, next, until, tenant = request.tenant,
                   max = options_.batch_events]() {
        return read_batch(*store, next, until, tenant, max);
      };
      auto batch = co_await run_blocking(std::move(task));
      if (!batch) {
        log->error("event stream read failed req={} from={} error={}", request_id, next,
                   batch.error().message());
        failed = true;
      } else {
        chunk = std::move(batch->text);
        sent += batch->events;
        next = batch->next;
      }
    }
    if (failed && !header_sent) {
      http::response<http::string_body> res{http::status::internal_server_error, 11};
      res.set(http::field::server, "Vaultaire");
      res.set("x-amz-request-id", request_id);
      res.set(http::field::content_type, "application/json");
      res.body() = nlohmann::json{{"error",
                                   {{"code", "InternalError"},
                                    {"message", "cannot read the event log"},
                                    {"request_id", request_id}}}}
                       .dump() +
                   "\n";
      (void)co_await exchange.send(std::move(res));
      co_return sent;
    }
    const bool more_now = next <= std::min(end, log_.last_sequence());
    const bool done =
        failed || stopping_.load(std::memory_order_acquire) || (!follow && next > end);
    const auto now = std::chrono::steady_clock::now();
    if (chunk.empty() && !done && (!header_sent || now - last_write >= options_.heartbeat)) {
      // Opens a stream with nothing to send yet (a header alone is not flushed), and tells an
      // idle subscriber where it stands; a write to a client that left fails here.
      chunk = heartbeat(next - 1);
    }
    Result<void> written;
    if (!header_sent) {
      http::response<http::buffer_body> res{http::status::ok, 11};
      res.set(http::field::server, "Vaultaire");
      res.set("x-amz-request-id", request_id);
      res.set(http::field::content_type, "application/x-ndjson");
      res.set(http::field::cache_control, "no-store");
      res.chunked(true);
      written = co_await exchange.send_header(std::move(res), std::move(chunk), done);
      header_sent = true;
      last_write = now;
    } else if (!chunk.empty() || done) {
      written = co_await exchange.send_body(std::move(chunk), done);
      last_write = now;
    }
    if (!written) {
      log->debug("event stream ended req={} reason=client-gone next={} sent={}", request_id, next,
                 sent);
      exchange.close_after();
      co_return sent;
    }
    if (done) {
      co_return sent;
    }
    if (!more_now) {
      timer.expires_after(options_.poll);
      co_await timer.async_wait(kNoThrow);
    }
  }
}

}  // namespace vaultaire::server

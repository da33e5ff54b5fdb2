#pragma once

// GET /admin/v1/events (docs/admin-api.md, "Events"; docs/event-log.md, "Streaming"): the log as
// newline-delimited JSON, one event_to_json() object per line, from a sequence number on, and
// with follow=true the events appended after it as they become durable.
//
// The answer is a chunked `application/x-ndjson` body. Lines are events in sequence order, or
// heartbeats `{"heartbeat": N}`: every event up to N that the stream selects has been sent. A
// heartbeat opens a stream with nothing to send yet, and follows every 10 s of silence. A
// subscriber resumes after a disconnect with from = (the last sequence or heartbeat it saw) + 1:
// no gap and no duplicate. Only durable events are sent (up to EventLog::last_sequence()).
//
// The log is read on the blocking pool in batches of at most kBatchEvents events, so a stream
// never holds a network thread for long; a follower polls EventLog::last_sequence() (an atomic)
// every 100 ms and reads only when it moved.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "common/async.h"
#include "events/event_log.h"
#include "events/store.h"
#include "s3/http_server.h"

namespace vaultaire::server {

struct EventStreamRequest {
  uint64_t from = 1;    // the first sequence to send (0 is taken as 1)
  bool follow = false;  // keep sending new events until the client leaves or the server stops
  std::string tenant;   // only this tenant's events; empty: every tenant's
};

struct EventStreamOptions {
  size_t batch_events = 1000;                   // events read per trip to the blocking pool
  std::chrono::milliseconds poll{100};          // how often a follower looks for new events
  std::chrono::milliseconds heartbeat{10'000};  // silence before a heartbeat line
};

class EventStream {
 public:
  // `store` and `log` outlive this object (the server owns all three).
  EventStream(const events::Store& store, const events::EventLog& log,
              EventStreamOptions options = {});
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Sends the whole answer on `exchange`. Without follow, it ends once it has sent the events up
  // to the last one durable when the request came. With follow, it ends when a write fails (the
  // client left: a write after it left may still succeed, so this is noticed at the latest on
  // the second heartbeat) or after stop(), with the body's final chunk. Returns the number of
  // events sent.
  asio::awaitable<uint64_t> serve(s3::HttpExchange& exchange, EventStreamRequest request,
                                  std::string request_id);

  // Ends every stream at its next poll (the server is stopping). Thread-safe.
  void stop() { stopping_.store(true, std::memory_order_release); }

 private:
  const events::Store& store_;
  const events::EventLog& log_;
  const EventStreamOptions options_;
  std::atomic<bool> stopping_{false};
};

}  // namespace vaultaire::server

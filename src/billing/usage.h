#pragma once

// Usage accounting: events in, usage per tenant per hour out. Pure code over a consumer state
// (events/consumer.h); the billing actor feeds it the log and answers queries with it.
//
// What is counted, per tenant, hour and tier (docs/billing.md):
// - storage: bytes stored x time, exactly, from each change to the next. Stored bytes are
//   objects, parts of uploads in progress (on their upload's tier) and restored copies (on the
//   hottest tier while they last). An overwrite, a delete, a completion, an abort or a move
//   changes them at the moment of its event, so each hour gets exactly its share.
// - requests: class A (PUT, COPY, POST: upload creation, parts, completion; LIST; moves into
//   the tier) and class B (GET, HEAD), on the tier of the object they touch (LIST: the hottest).
// - bytes in (bodies stored), bytes out (bodies sent), bytes retrieved from each tier, restores
//   and the bytes they copied, deletes.
//
// Usage is known up to the last event consumed ("now"): an hour after it is not reported, and
// the current hour is counted up to it.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "events/consumer.h"
#include "events/store.h"
#include "vaultaire/billing.pb.h"
#include "vaultaire/events.pb.h"

namespace vaultaire::billing {

inline constexpr int64_t kNanosPerHour = int64_t{3600} * 1'000'000'000;

// Applies one event. `hottest` is the tier restored copies and listings are counted on.
[[nodiscard]] Result<void> apply(const proto::Event& event, events::ConsumerState& state,
                                 const std::string& hottest);

// The key of the "now" record (BillingClock).
const std::string& clock_key();

// One tier's usage in one hour, complete (the stored bytes counted to the end of the hour, or
// to `now` for the current one).
struct UsageRow {
  std::string tenant;
  int64_t hour = 0;  // hours since the Unix epoch
  std::string tier;
  uint64_t byte_seconds = 0;
  uint64_t objects = 0;     // at the end of the hour (or now)
  uint64_t bytes = 0;       // likewise
  proto::TierUsage counts;  // requests, bytes in/out/retrieved, restores, transitions, deletes
};

// Usage rows of `tenant` (empty: every tenant) for the hours in [from_hour, to_hour), from the
// billing column family of `store`; rows with nothing stored and nothing done are left out.
// Usage is counted up to the billing clock (known_until), or up to `until` when that is later:
// a consumer that has read the whole log knows nothing changed since its last event.
[[nodiscard]] Result<std::vector<UsageRow>> usage(const events::Store& store,
                                                  const std::string& tenant, int64_t from_hour,
                                                  int64_t to_hour,
                                                  std::optional<int64_t> until = std::nullopt);

// A row as the admin API and the exports show it: tenant, hour (RFC 3339), tier and every
// count by name (docs/billing.md, "Admin API").
nlohmann::json to_json(const UsageRow& row);

// Rows summed per (tenant, tier) over their period; objects and bytes are those of the last
// hour, `hour` that hour. Ordered by tenant, then tier.
std::vector<UsageRow> totals(const std::vector<UsageRow>& rows);

// The billing clock: usage is known up to this time.
[[nodiscard]] Result<int64_t> known_until(const events::Store& store);

// Prices per tier, and for traffic.
struct TierPrices {
  std::string tier;
  double storage_per_gb_month = 0;  // a month is 30 days (720 hours), a GB 2^30 bytes
  double per_1000_a = 0;
  double per_1000_b = 0;
  double retrieval_per_gb = 0;
  double restore_per_gb = 0;
  double restore_per_1000 = 0;
};
struct PriceSheet {
  std::vector<TierPrices> tiers;
  double transfer_out_per_gb = 0;
  double transfer_in_per_gb = 0;
  std::string currency = "USD";
};

struct InvoiceLine {
  std::string item;  // "storage hot", "requests A hot", "transfer out", ...
  double quantity = 0;
  std::string unit;  // "GB-month", "1000 requests", "GB"
  double unit_price = 0;
  double amount = 0;
};

// Invoice lines for usage rows (of one tenant and period): one line per item with a non-zero
// quantity, in a stable order.
std::vector<InvoiceLine> invoice(const std::vector<UsageRow>& rows, const PriceSheet& prices);

}  // namespace vaultaire::billing

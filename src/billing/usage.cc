#include "billing/usage.h"

#include <algorithm>
#include <map>
#include <memory>

#include <rocksdb/db.h>

#include "common/time_format.h"
#include "events/keys.h"

namespace vaultaire::billing {

namespace {

constexpr uint64_t kNanosPerSecond = 1'000'000'000;
constexpr double kBytesPerGb = 1024.0 * 1024.0 * 1024.0;
constexpr double kHoursPerMonth = 720.0;

std::string join_key(char kind, std::initializer_list<std::string_view> parts) {
  std::string k(1, kind);
  for (const std::string_view p : parts) {
    k.push_back('\0');
    k.append(p);
  }
  return k;
}

std::string be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t from_be64(std::string_view s) {
  uint64_t v = 0;
  for (const char c : s) {
    v = (v << 8) | static_cast<unsigned char>(c);
  }
  return v;
}

std::string levels_key(std::string_view tenant) { return join_key('t', {tenant}); }
std::string hour_prefix(std::string_view tenant) { return join_key('h', {tenant}) + '\0'; }
std::string hour_key(std::string_view tenant, int64_t hour) {
  return hour_prefix(tenant) + be64(static_cast<uint64_t>(hour));
}
std::string object_key(const proto::Event& e) {
  return join_key('o', {e.tenant(), e.container(), e.path()});
}
std::string upload_key(const proto::Event& e, std::string_view upload_id) {
  return join_key('u', {e.tenant(), e.container(), upload_id});
}

int64_t hour_of(int64_t unix_nanos) { return unix_nanos / kNanosPerHour; }

// Adds bytes x nanos to an exact (seconds, remainder) pair.
void accumulate(uint64_t& byte_seconds, uint64_t& byte_nanos, uint64_t bytes, int64_t nanos) {
  if (nanos <= 0 || bytes == 0) {
    return;
  }
  const unsigned __int128 total =
      static_cast<unsigned __int128>(bytes) * static_cast<uint64_t>(nanos) + byte_nanos;
  byte_seconds += static_cast<uint64_t>(total / kNanosPerSecond);
  byte_nanos = static_cast<uint64_t>(total % kNanosPerSecond);
}

// The tenant's levels and its row for the hour of `now`, with storage counted up to `now`.
struct Hour {
  proto::TenantLevels* levels = nullptr;
  proto::UsageHour* row = nullptr;
  std::string levels_key;
  std::string row_key;
};

Result<Hour> begin(events::ConsumerState& state, const std::string& tenant, int64_t now) {
  Hour h;
  h.levels_key = levels_key(tenant);
  auto levels = state.get<proto::TenantLevels>(h.levels_key);
  if (!levels) {
    return levels.error();
  }
  if (*levels == nullptr) {
    proto::TenantLevels fresh;
    fresh.set_last_change_unix_nanos(now);
    state.put(h.levels_key, std::move(fresh));
    levels = state.get<proto::TenantLevels>(h.levels_key);
  }
  h.levels = *levels;
  // Event times follow log order; should the clock ever step back, no time passes.
  now = std::max(now, h.levels->last_change_unix_nanos());
  const int64_t hour = hour_of(now);
  h.row_key = hour_key(tenant, hour);
  auto row = state.get<proto::UsageHour>(h.row_key);
  if (!row) {
    return row.error();
  }
  int64_t since = 0;
  if (*row == nullptr) {
    state.put(h.row_key, proto::UsageHour());
    row = state.get<proto::UsageHour>(h.row_key);
    // Hours between the last change and this one are counted from the previous row's levels
    // when usage is read; this row starts at its hour.
    since = std::max(hour * kNanosPerHour, h.levels->last_change_unix_nanos());
  } else {
    since = (*row)->last_change_unix_nanos();
  }
  h.row = *row;
  for (const auto& [tier, level] : h.levels->tiers()) {
    proto::TierUsage& u = (*h.row->mutable_tiers())[tier];
    uint64_t seconds = u.byte_seconds();
    uint64_t nanos = u.byte_nanos();
    accumulate(seconds, nanos, level.bytes(), now - since);
    u.set_byte_seconds(seconds);
    u.set_byte_nanos(nanos);
  }
  h.row->set_last_change_unix_nanos(now);
  h.levels->set_last_change_unix_nanos(now);
  state.touch(h.levels_key);
  state.touch(h.row_key);
  return h;
}

// Records the levels after the changes of an event as the row's end levels.
void finish(Hour& h) {
  for (const auto& [tier, level] : h.levels->tiers()) {
    *(*h.row->mutable_tiers())[tier].mutable_level_end() = level;
  }
}

proto::TierUsage& on(Hour& h, const std::string& tier) { return (*h.row->mutable_tiers())[tier]; }

void add_bytes(Hour& h, const std::string& tier, int64_t bytes, int64_t objects) {
  proto::TierLevel& l = (*h.levels->mutable_tiers())[tier];
  l.set_bytes(static_cast<uint64_t>(static_cast<int64_t>(l.bytes()) + bytes));
  l.set_objects(static_cast<uint64_t>(static_cast<int64_t>(l.objects()) + objects));
}

void remove_object(Hour& h, const proto::BillingObject& o, const std::string& hottest) {
  add_bytes(h, o.tier(), -static_cast<int64_t>(o.size()), -1);
  if (o.restored_copy()) {
    add_bytes(h, hottest, -static_cast<int64_t>(o.size()), 0);
  }
}

uint64_t committed_size(const proto::ArtifactCommitted& put) {
  if (put.segments_size() == 0) {
    return put.size();
  }
  uint64_t total = 0;
  for (const auto& s : put.segments()) {
    total += s.size();
  }
  return total;
}

}  // namespace

const std::string& clock_key() {
  static const std::string key = "now";
  return key;
}

Result<void> apply(const proto::Event& e, events::ConsumerState& state,
                   const std::string& hottest) {
  proto::BillingClock clock;
  clock.set_unix_nanos(e.time_unix_nanos());
  state.put(clock_key(), std::move(clock));

  const int64_t t = e.time_unix_nanos();
  switch (e.payload_case()) {
    case proto::Event::kArtifactCommitted:
    case proto::Event::kArtifactDeleted:
    case proto::Event::kArtifactRead:
    case proto::Event::kContainerListed:
    case proto::Event::kUploadCreated:
    case proto::Event::kPartUploaded:
    case proto::Event::kUploadAborted:
    case proto::Event::kArtifactMigrated:
    case proto::Event::kRestoreRequested:
    case proto::Event::kArtifactRestored:
    case proto::Event::kRestoreExpired:
      break;
    default:
      return {};
  }
  auto begun = begin(state, e.tenant(), t);
  if (!begun) {
    return begun.error();
  }
  Hour& h = *begun;
  const std::string okey = object_key(e);

  switch (e.payload_case()) {
    case proto::Event::kArtifactCommitted: {
      const proto::ArtifactCommitted& put = e.artifact_committed();
      auto old = state.get<proto::BillingObject>(okey);
      if (!old) {
        return old.error();
      }
      if (*old != nullptr) {
        remove_object(h, **old, hottest);
      }
      const uint64_t size = committed_size(put);
      bool body = !put.shares_blobs() && put.copy_source().empty();  // a copy brings no bytes
      if (!put.completed_upload_id().empty()) {
        body = false;  // the parts brought the bytes in
        const std::string ukey = upload_key(e, put.completed_upload_id());
        auto upload = state.get<proto::BillingUpload>(ukey);
        if (!upload) {
          return upload.error();
        }
        if (*upload != nullptr) {
          for (const auto& [number, part_size] : (*upload)->parts()) {
            add_bytes(h, (*upload)->tier(), -static_cast<int64_t>(part_size), 0);
          }
          state.erase(ukey);
        }
      }
      add_bytes(h, put.tier(), static_cast<int64_t>(size), 1);
      proto::TierUsage& u = on(h, put.tier());
      u.set_requests_a(u.requests_a() + 1);
      if (body) {
        u.set_bytes_in(u.bytes_in() + size);
      }
      proto::BillingObject o;
      o.set_size(size);
      o.set_tier(put.tier());
      state.put(okey, std::move(o));
      break;
    }
    case proto::Event::kArtifactDeleted: {
      auto old = state.get<proto::BillingObject>(okey);
      if (!old) {
        return old.error();
      }
      const std::string tier = *old != nullptr ? (*old)->tier() : hottest;
      if (*old != nullptr) {
        remove_object(h, **old, hottest);
        state.erase(okey);
      }
      proto::TierUsage& u = on(h, tier);
      u.set_deletes(u.deletes() + 1);
      break;
    }
    case proto::Event::kArtifactRead: {
      const proto::ArtifactRead& r = e.artifact_read();
      const std::string& tier = r.tier().empty() ? hottest : r.tier();
      proto::TierUsage& u = on(h, tier);
      u.set_requests_b(u.requests_b() + 1);
      u.set_bytes_out(u.bytes_out() + r.bytes_sent());
      if (tier != hottest) {
        u.set_bytes_retrieved(u.bytes_retrieved() + r.bytes_sent());
      }
      break;
    }
    case proto::Event::kContainerListed: {
      proto::TierUsage& u = on(h, hottest);
      u.set_requests_a(u.requests_a() + 1);
      break;
    }
    case proto::Event::kUploadCreated: {
      proto::BillingUpload upload;
      upload.set_tier(e.upload_created().artifact().tier().empty()
                          ? hottest
                          : e.upload_created().artifact().tier());
      proto::TierUsage& u = on(h, upload.tier());
      u.set_requests_a(u.requests_a() + 1);
      state.put(upload_key(e, e.upload_created().upload_id()), std::move(upload));
      break;
    }
    case proto::Event::kPartUploaded: {
      const proto::PartUploaded& p = e.part_uploaded();
      const std::string ukey = upload_key(e, p.upload_id());
      auto upload = state.get<proto::BillingUpload>(ukey);
      if (!upload) {
        return upload.error();
      }
      const std::string tier = *upload != nullptr ? (*upload)->tier() : hottest;
      if (*upload != nullptr) {
        auto& parts = *(*upload)->mutable_parts();
        if (const auto it = parts.find(p.part_number()); it != parts.end()) {
          add_bytes(h, tier, -static_cast<int64_t>(it->second), 0);  // a part uploaded again
        }
        parts[p.part_number()] = p.part().size();
        add_bytes(h, tier, static_cast<int64_t>(p.part().size()), 0);
        state.touch(ukey);
      }
      proto::TierUsage& u = on(h, tier);
      u.set_requests_a(u.requests_a() + 1);
      u.set_bytes_in(u.bytes_in() + p.part().size());
      break;
    }
    case proto::Event::kUploadAborted: {
      const std::string ukey = upload_key(e, e.upload_aborted().upload_id());
      auto upload = state.get<proto::BillingUpload>(ukey);
      if (!upload) {
        return upload.error();
      }
      if (*upload != nullptr) {
        for (const auto& [number, part_size] : (*upload)->parts()) {
          add_bytes(h, (*upload)->tier(), -static_cast<int64_t>(part_size), 0);
        }
        state.erase(ukey);
      }
      break;
    }
    case proto::Event::kArtifactMigrated: {
      auto o = state.get<proto::BillingObject>(okey);
      if (!o) {
        return o.error();
      }
      if (*o != nullptr) {
        proto::BillingObject moved = **o;
        remove_object(h, moved, hottest);
        moved.set_restored_copy(false);
        moved.set_tier(e.artifact_migrated().to_tier());
        add_bytes(h, moved.tier(), static_cast<int64_t>(moved.size()), 1);
        proto::TierUsage& u = on(h, moved.tier());
        u.set_requests_a(u.requests_a() + 1);
        u.set_transitions_in(u.transitions_in() + 1);
        state.put(okey, std::move(moved));
      }
      break;
    }
    case proto::Event::kRestoreRequested: {
      proto::TierUsage& u = on(h, e.restore_requested().tier());
      u.set_restore_requests(u.restore_requests() + 1);
      break;
    }
    case proto::Event::kArtifactRestored: {
      auto o = state.get<proto::BillingObject>(okey);
      if (!o) {
        return o.error();
      }
      if (*o != nullptr && !(*o)->restored_copy()) {
        proto::BillingObject restored = **o;
        restored.set_restored_copy(true);
        add_bytes(h, hottest, static_cast<int64_t>(restored.size()), 0);
        proto::TierUsage& u = on(h, restored.tier());
        u.set_restores(u.restores() + 1);
        u.set_restored_bytes(u.restored_bytes() + restored.size());
        state.put(okey, std::move(restored));
      }
      break;
    }
    case proto::Event::kRestoreExpired: {
      auto o = state.get<proto::BillingObject>(okey);
      if (!o) {
        return o.error();
      }
      if (*o != nullptr && (*o)->restored_copy()) {
        proto::BillingObject expired = **o;
        expired.set_restored_copy(false);
        add_bytes(h, hottest, -static_cast<int64_t>(expired.size()), 0);
        state.put(okey, std::move(expired));
      }
      break;
    }
    default:
      break;
  }
  finish(h);
  return {};
}

Result<int64_t> known_until(const events::Store& store) {
  std::string bytes;
  const rocksdb::Status s =
      store.db()->Get(rocksdb::ReadOptions(), store.cf(events::Cf::kBilling), clock_key(), &bytes);
  if (s.IsNotFound()) {
    return int64_t{0};
  }
  if (!s.ok()) {
    return events::to_error_code(s, "billing clock");
  }
  proto::BillingClock clock;
  if (!clock.ParseFromString(bytes)) {
    return Errc::kCorruption;
  }
  return clock.unix_nanos();
}

namespace {

// Appends the rows of one tenant.
Result<void> tenant_usage(const events::Store& store, const rocksdb::Snapshot* snapshot,
                          const std::string& tenant, int64_t from_hour, int64_t to_hour,
                          int64_t now, std::vector<UsageRow>& out) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  const std::string prefix = hour_prefix(tenant);
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(ro, store.cf(events::Cf::kBilling)));
  // The levels before the first hour asked for: the end of the row before it.
  std::map<std::string, proto::TierLevel> level;
  it->SeekForPrev(hour_key(tenant, from_hour - 1) + std::string(1, '\xff'));
  if (it->Valid() && it->key().starts_with(prefix)) {
    proto::UsageHour row;
    if (!row.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
    for (const auto& [tier, u] : row.tiers()) {
      level[tier] = u.level_end();
    }
  }
  it->Seek(hour_key(tenant, from_hour));
  const int64_t last_hour = std::min(to_hour, hour_of(now) + 1);
  proto::UsageHour row;
  for (int64_t hour = from_hour; hour < last_hour; ++hour) {
    const int64_t hour_start = hour * kNanosPerHour;
    const int64_t hour_end = std::min(hour_start + kNanosPerHour, now);
    bool has_row = false;
    if (it->Valid() && it->key().starts_with(prefix) &&
        static_cast<int64_t>(from_be64(
            std::string_view(it->key().data(), it->key().size()).substr(prefix.size()))) == hour) {
      if (!row.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return Errc::kCorruption;
      }
      has_row = true;
      it->Next();
    }
    std::map<std::string, UsageRow> rows;
    if (has_row) {
      for (const auto& [tier, u] : row.tiers()) {
        UsageRow& r = rows[tier];
        uint64_t seconds = u.byte_seconds();
        uint64_t nanos = u.byte_nanos();
        accumulate(seconds, nanos, u.level_end().bytes(), hour_end - row.last_change_unix_nanos());
        r.byte_seconds = seconds;
        r.counts = u;
        r.counts.clear_level_end();
        r.counts.clear_byte_seconds();
        r.counts.clear_byte_nanos();
        r.bytes = u.level_end().bytes();
        r.objects = u.level_end().objects();
        level[tier] = u.level_end();
      }
    } else {
      for (const auto& [tier, l] : level) {
        UsageRow& r = rows[tier];
        uint64_t seconds = 0;
        uint64_t nanos = 0;
        accumulate(seconds, nanos, l.bytes(), hour_end - hour_start);
        r.byte_seconds = seconds;
        r.bytes = l.bytes();
        r.objects = l.objects();
      }
    }
    for (auto& [tier, r] : rows) {
      const proto::TierUsage& c = r.counts;
      const bool empty = r.byte_seconds == 0 && r.bytes == 0 && r.objects == 0 &&
                         c.requests_a() == 0 && c.requests_b() == 0 && c.bytes_in() == 0 &&
                         c.bytes_out() == 0 && c.restores() == 0 && c.deletes() == 0 &&
                         c.transitions_in() == 0 && c.restore_requests() == 0;
      if (empty) {
        continue;
      }
      r.tenant = tenant;
      r.hour = hour;
      r.tier = tier;
      out.push_back(std::move(r));
    }
  }
  if (!it->status().ok()) {
    return events::to_error_code(it->status(), "billing usage");
  }
  return {};
}

}  // namespace

Result<std::vector<UsageRow>> usage(const events::Store& store, const std::string& tenant,
                                    int64_t from_hour, int64_t to_hour,
                                    std::optional<int64_t> until) {
  auto now = known_until(store);
  if (!now) {
    return now.error();
  }
  if (until && *until > *now) {
    *now = *until;
  }
  std::vector<UsageRow> out;
  const rocksdb::Snapshot* snapshot = store.db()->GetSnapshot();
  std::vector<std::string> tenants;
  if (!tenant.empty()) {
    tenants.push_back(tenant);
  } else {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    std::unique_ptr<rocksdb::Iterator> it(
        store.db()->NewIterator(ro, store.cf(events::Cf::kBilling)));
    const std::string prefix("t\0", 2);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      tenants.emplace_back(it->key().data() + 2, it->key().size() - 2);
    }
  }
  Result<void> done;
  for (const auto& t : tenants) {
    done = tenant_usage(store, snapshot, t, from_hour, to_hour, *now, out);
    if (!done) {
      break;
    }
  }
  store.db()->ReleaseSnapshot(snapshot);
  if (!done) {
    return done.error();
  }
  return out;
}

std::vector<InvoiceLine> invoice(const std::vector<UsageRow>& rows, const PriceSheet& prices) {
  struct Totals {
    uint64_t byte_seconds = 0, a = 0, b = 0, retrieved = 0, restores = 0, restored = 0;
    uint64_t restore_requests = 0;
  };
  std::map<std::string, Totals> by_tier;
  uint64_t out_bytes = 0;
  uint64_t in_bytes = 0;
  for (const UsageRow& r : rows) {
    Totals& t = by_tier[r.tier];
    t.byte_seconds += r.byte_seconds;
    t.a += r.counts.requests_a();
    t.b += r.counts.requests_b();
    t.retrieved += r.counts.bytes_retrieved();
    t.restores += r.counts.restores();
    t.restore_requests += r.counts.restore_requests();
    t.restored += r.counts.restored_bytes();
    out_bytes += r.counts.bytes_out();
    in_bytes += r.counts.bytes_in();
  }
  std::vector<InvoiceLine> lines;
  auto line = [&](std::string item, double quantity, std::string unit, double unit_price) {
    if (quantity > 0) {
      lines.push_back(
          {std::move(item), quantity, std::move(unit), unit_price, quantity * unit_price});
    }
  };
  for (const TierPrices& p : prices.tiers) {
    const auto found = by_tier.find(p.tier);
    if (found == by_tier.end()) {
      continue;
    }
    const Totals& t = found->second;
    line("storage " + p.tier,
         static_cast<double>(t.byte_seconds) / 3600.0 / kBytesPerGb / kHoursPerMonth, "GB-month",
         p.storage_per_gb_month);
    line("requests A " + p.tier, static_cast<double>(t.a) / 1000.0, "1000 requests", p.per_1000_a);
    line("requests B " + p.tier, static_cast<double>(t.b) / 1000.0, "1000 requests", p.per_1000_b);
    line("retrieval " + p.tier, static_cast<double>(t.retrieved) / kBytesPerGb, "GB",
         p.retrieval_per_gb);
    line("restore requests " + p.tier, static_cast<double>(t.restore_requests) / 1000.0,
         "1000 requests", p.restore_per_1000);
    line("restore " + p.tier, static_cast<double>(t.restored) / kBytesPerGb, "GB",
         p.restore_per_gb);
  }
  line("transfer out", static_cast<double>(out_bytes) / kBytesPerGb, "GB",
       prices.transfer_out_per_gb);
  line("transfer in", static_cast<double>(in_bytes) / kBytesPerGb, "GB", prices.transfer_in_per_gb);
  return lines;
}

nlohmann::json to_json(const UsageRow& r) {
  const proto::TierUsage& c = r.counts;
  return {{"tenant", r.tenant},
          {"hour", format_iso8601(r.hour * kNanosPerHour)},
          {"tier", r.tier},
          {"byte_seconds", r.byte_seconds},
          {"objects", r.objects},
          {"bytes", r.bytes},
          {"requests_a", c.requests_a()},
          {"requests_b", c.requests_b()},
          {"bytes_in", c.bytes_in()},
          {"bytes_out", c.bytes_out()},
          {"bytes_retrieved", c.bytes_retrieved()},
          {"restore_requests", c.restore_requests()},
          {"restores", c.restores()},
          {"restored_bytes", c.restored_bytes()},
          {"transitions_in", c.transitions_in()},
          {"deletes", c.deletes()}};
}

std::vector<UsageRow> totals(const std::vector<UsageRow>& rows) {
  std::map<std::pair<std::string, std::string>, UsageRow> sums;
  for (const UsageRow& r : rows) {
    UsageRow& t = sums[{r.tenant, r.tier}];
    proto::TierUsage& c = t.counts;
    const proto::TierUsage& d = r.counts;
    t.tenant = r.tenant;
    t.tier = r.tier;
    t.hour = r.hour;
    t.byte_seconds += r.byte_seconds;
    t.objects = r.objects;
    t.bytes = r.bytes;
    c.set_requests_a(c.requests_a() + d.requests_a());
    c.set_requests_b(c.requests_b() + d.requests_b());
    c.set_bytes_in(c.bytes_in() + d.bytes_in());
    c.set_bytes_out(c.bytes_out() + d.bytes_out());
    c.set_bytes_retrieved(c.bytes_retrieved() + d.bytes_retrieved());
    c.set_restore_requests(c.restore_requests() + d.restore_requests());
    c.set_restores(c.restores() + d.restores());
    c.set_restored_bytes(c.restored_bytes() + d.restored_bytes());
    c.set_transitions_in(c.transitions_in() + d.transitions_in());
    c.set_deletes(c.deletes() + d.deletes());
  }
  std::vector<UsageRow> out;
  for (auto& [key, row] : sums) {
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace vaultaire::billing

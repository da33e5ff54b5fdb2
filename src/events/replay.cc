#include "events/replay.h"

#include <algorithm>
#include <memory>

#include <unistd.h>

#include "common/crypto.h"
#include "events/event_log.h"
#include "events/keys.h"
#include "events/projection.h"
#include "vaultaire/events.pb.h"

namespace vaultaire::events {
namespace {

void hash_field(Digest& d, std::string_view bytes) {
  const uint64_t n = bytes.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) {
    len[i] = static_cast<unsigned char>(n >> (56 - 8 * i));
  }
  d.update(len, sizeof len);
  d.update(bytes);
}

// Into an empty store, the replay keeps every view record in memory, so no lookup reaches
// RocksDB, and writes them once at the end as sorted SST files, so no record goes through the
// memtable.
//
// Events per write once past the in-memory records. Records stay cached in the ViewTxn for the
// whole batch, so a record that several events change (a container's counters, an artifact
// overwritten) is read once and written once per batch.
constexpr size_t kReplayBatch = 65536;

}  // namespace

size_t default_replay_in_memory_records() {
  constexpr uint64_t kBytesPerRecord = 768;
  constexpr size_t kMinimum = 100'000;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) {
    return kMinimum;
  }
  const uint64_t quarter = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) / 4;
  return std::max<size_t>(kMinimum, static_cast<size_t>(quarter / kBytesPerRecord));
}

Result<ViewDigest> digest_views(const Store& store, uint64_t* last_sequence) {
  // A secondary changes only when it catches up, and does not support snapshots.
  const rocksdb::Snapshot* snapshot =
      store.mode() == OpenMode::kPrimary ? store.db()->GetSnapshot() : nullptr;
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.fill_cache = false;
  Digest d(DigestAlgorithm::kSha256);
  ViewDigest out;
  Result<void> status;
  for (const Cf cf : kViewCfs) {
    std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, store.cf(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      hash_field(d, cf_name(cf));
      hash_field(d, {it->key().data(), it->key().size()});
      hash_field(d, {it->value().data(), it->value().size()});
      ++out.records;
    }
    if (!it->status().ok()) {
      status = to_error_code(it->status(), "digest views");
      break;
    }
  }
  if (status && last_sequence != nullptr) {
    std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, store.cf(Cf::kLog)));
    it->SeekToLast();
    *last_sequence = 0;
    if (it->Valid()) {
      *last_sequence = parse_log_key({it->key().data(), it->key().size()}).value_or(0);
    }
  }
  if (snapshot != nullptr) {
    store.db()->ReleaseSnapshot(snapshot);
  }
  if (!status) {
    return status.error();
  }
  out.sha256_hex = to_hex(d.finish());
  return out;
}

Result<ReplayStats> replay(const Store& source, Store& target, uint64_t until,
                           const std::function<void(uint64_t)>& progress,
                           size_t in_memory_records) {
  ViewTxn txn(target);
  txn.set_store_empty(true);
  bool in_memory = true;
  ReplayStats stats;
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // a rebuild is redone from the log if interrupted

  auto flush = [&]() -> Result<void> {
    if (in_memory) {
      in_memory = false;
      return txn.ingest_into_empty_store();
    }
    const rocksdb::Status s = target.db()->Write(wo, &txn.flush());
    txn.clear();
    if (!s.ok()) {
      return to_error_code(s, "replay write");
    }
    return {};
  };

  Result<void> failure;
  size_t in_batch = 0;
  auto walked = for_each_event_pipelined(source, 1, [&](const proto::Event& event) {
    if (event.sequence() > until) {
      return false;
    }
    if (auto projected = project(event, txn); !projected) {
      failure = projected.error();
      return false;
    }
    ++stats.events;
    stats.last_sequence = event.sequence();
    if (in_memory ? txn.records() > in_memory_records : ++in_batch == kReplayBatch) {
      in_batch = 0;
      if (auto f = flush(); !f) {
        failure = f;
        return false;
      }
    }
    if (progress && stats.events % kReplayBatch == 0) {
      progress(stats.events);
    }
    return true;
  });
  if (!walked) {
    return walked.error();
  }
  if (!failure) {
    return failure.error();
  }
  if (auto f = flush(); !f) {
    return f.error();
  }
  if (const rocksdb::Status s = target.db()->Flush(rocksdb::FlushOptions()); !s.ok()) {
    return to_error_code(s, "replay flush");
  }
  if (progress) {
    progress(stats.events);
  }
  return stats;
}

Result<VerifyReport> verify(const Store& store, const std::filesystem::path& scratch_dir) {
  VerifyReport report;
  uint64_t last = 0;
  auto live = digest_views(store, &last);
  if (!live) {
    return live.error();
  }
  report.live = *live;

  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  auto fresh = Store::open(scratch_dir, OpenMode::kPrimary);
  if (!fresh) {
    return fresh.error();
  }
  auto stats = replay(store, **fresh, last);
  if (!stats) {
    return stats.error();
  }
  report.replay = *stats;
  auto rebuilt = digest_views(**fresh);
  fresh->reset();
  std::filesystem::remove_all(scratch_dir, ec);
  if (!rebuilt) {
    return rebuilt.error();
  }
  report.rebuilt = *rebuilt;
  return report;
}

}  // namespace vaultaire::events

#pragma once

// Replay: rebuild every view from the log into a fresh store, and digest views so that the live
// ones can be compared with the rebuilt ones. Equal digests mean equal bytes in every view
// column family.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "common/errors.h"
#include "events/store.h"

namespace vaultaire::events {

struct ViewDigest {
  std::string sha256_hex;  // over (cf, key, value) of every view record, in order
  uint64_t records = 0;
  bool operator==(const ViewDigest&) const = default;
};

// Digests the views of `store` as of one snapshot; also returns the log's last sequence in that
// same snapshot, so a replay can stop exactly there.
[[nodiscard]] Result<ViewDigest> digest_views(const Store& store,
                                              uint64_t* last_sequence = nullptr);

struct ReplayStats {
  uint64_t events = 0;
  uint64_t last_sequence = 0;
};

// View records a replay holds in memory before it writes them: as many as fit in a quarter of
// the machine's physical memory at about 750 bytes each (8 million on 24 GiB), at least 100 000.
size_t default_replay_in_memory_records();

// Projects every event of `source` with sequence <= `until` into `target`'s views, which must
// be empty. `progress` (optional) is called now and then with the events done.
//
// Up to `in_memory_records` view records the views are built in memory, with no RocksDB read,
// and written once as sorted SST files ingested into `target`; past that, what is held is
// written the same way and the rest of the log goes in batches through RocksDB's write path.
[[nodiscard]] Result<ReplayStats> replay(
    const Store& source, Store& target, uint64_t until,
    const std::function<void(uint64_t)>& progress = {},
    size_t in_memory_records = default_replay_in_memory_records());

struct VerifyReport {
  ViewDigest live;
  ViewDigest rebuilt;
  ReplayStats replay;
  bool match() const { return live == rebuilt; }
};

// Replays `store`'s log into a fresh store under `scratch_dir` (created, then removed) and
// compares its digest with the live views, both as of one consistent point of the log.
[[nodiscard]] Result<VerifyReport> verify(const Store& store,
                                          const std::filesystem::path& scratch_dir);

}  // namespace vaultaire::events

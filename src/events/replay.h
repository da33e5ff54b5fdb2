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

// Projects every event of `source` with sequence <= `until` into `target`'s views (which should
// be empty), in batches. `progress` (optional) is called now and then with the events done.
[[nodiscard]] Result<ReplayStats> replay(const Store& source, Store& target, uint64_t until,
                                         const std::function<void(uint64_t)>& progress = {});

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

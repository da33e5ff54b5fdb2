#pragma once

// Projections: how each event changes the metadata views. A projection is a pure function of
// the event and of the views as they stand just before it in log order, so replaying the log
// into empty views rebuilds them bit for bit. The log writer runs it for every appended event,
// in the same WriteBatch as the event; replay runs the very same code.
//
// Effects per event type:
//   ContainerCreated   containers[t,c] = {created, region, 0 artifacts, 0 bytes}
//   ContainerDeleted   containers[t,c] removed
//   ArtifactCommitted  artifacts[t,c,p] = record; container counts adjusted; the new blob gains
//                      a reference, the replaced one loses one (released at zero)
//   ArtifactDeleted    artifacts[t,c,p] removed (if present); counts; blob reference dropped
//   ArtifactRead       no view change

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/utilities/write_batch_with_index.h>

#include "common/errors.h"
#include "events/store.h"
#include "vaultaire/events.pb.h"
#include "vaultaire/hub.pb.h"

namespace vaultaire::events {

// A batch of view writes whose reads see the batch's own earlier writes over the database.
// Not thread-safe: owned by the log writer thread (or a replay).
class ViewTxn {
 public:
  ViewTxn(const Store& store, rocksdb::DB* db);

  [[nodiscard]] Result<std::optional<std::string>> get(Cf cf, std::string_view key);
  void put(Cf cf, std::string_view key, std::string_view value);
  void remove(Cf cf, std::string_view key);

  // Writes to the log column family (not read back by projections).
  void put_log(std::string_view key, std::string_view value);

  void set_save_point() { batch_.SetSavePoint(); }
  void rollback_to_save_point();
  size_t count() { return batch_.GetWriteBatch()->Count(); }
  rocksdb::WriteBatch* write_batch() { return batch_.GetWriteBatch(); }
  void clear() { batch_.Clear(); }

 private:
  const Store& store_;
  rocksdb::DB* db_;
  rocksdb::WriteBatchWithIndex batch_;
  rocksdb::ReadOptions read_options_;
};

struct Projected {
  std::vector<proto::BlobRef> released;  // blobs no view references any more
  bool no_op = false;                    // the event changed no view (delete of nothing)
};

// Applies `event` (sequence and time already assigned) to the views in `txn`.
// Fails with Errc::kUnknownEvent on a payload this build does not know, Errc::kCorruption on an
// unreadable view record.
[[nodiscard]] Result<Projected> project(const proto::Event& event, ViewTxn& txn);

// Deterministic serialization, so equal records are equal bytes (replay digests depend on it).
std::string serialize_deterministic(const google::protobuf::Message& m);

}  // namespace vaultaire::events

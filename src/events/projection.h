#pragma once

// Projections: how each event changes the metadata views. A projection is a pure function of
// the event and of the views as they stand just before it in log order, so replaying the log
// into empty views rebuilds them bit for bit. The log writer runs it for every appended event;
// replay runs the very same code.
//
// Effects per event type:
//   ContainerCreated   containers[t,c] = {created, region, 0 artifacts, 0 bytes}
//   ContainerDeleted   containers[t,c] removed
//   ArtifactCommitted  artifacts[t,c,p] = record; container counts adjusted; the new blob gains
//                      a reference, the replaced one loses one (released at zero)
//   ArtifactDeleted    artifacts[t,c,p] removed (if present); counts; blob reference dropped
//   ArtifactRead       no view change
//   ArtifactTagged     the artifact's tags replaced
//   UploadCreated      uploads[t,c,p,id] = record
//   PartUploaded       parts[t,c,id,n] = part (a replaced part's blob loses a reference)
//   UploadAborted      the upload and its parts removed, their blobs released
//   ArtifactCommitted with completed_upload_id also removes that upload and its parts; parts the
//   artifact does not use are released. With shares_blobs, a blob nobody references any more
//   (the source of a copy was deleted earlier in the log) refuses the event.
//   ArtifactMigrated   the artifact's blobs (or segments' blobs) replaced by same-sized copies on
//                      another tier; old blobs and a restored copy released. Refused unless the
//                      artifact still holds exactly `from` on `from_tier`, with no restore under
//                      way
//   RestoreRequested   restore = {ongoing, days}; on a restored copy, its expiry moved instead.
//                      Refused while one is under way, or if the artifact left that tier
//   ArtifactRestored   restore = {copy, expires = time + days}; refused unless a restore is
//                      under way and the artifact still holds `from`
//   RestoreExpired     the copy released, restore cleared; refused if it was extended past
//                      expired_before meanwhile (overwrites and deletes release copies too)
//
// Every event that changes what a tenant stores (buckets, objects, bytes of objects and of
// parts) updates the tenant's usage, and is refused with Errc::kQuotaExceeded when it would
// grow past one of the tenant's quotas: checked here, in log order, concurrent writers cannot
// both take the last bytes. The identity events maintain tenants, users, keys and grants.
//
// Every projection reads first and writes after: once it starts changing records it cannot
// fail, so a refused event leaves no trace.

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <rocksdb/write_batch.h>

#include "common/errors.h"
#include "events/store.h"
#include "vaultaire/events.pb.h"
#include "vaultaire/hub.pb.h"
#include "vaultaire/views.pb.h"

namespace vaultaire::events {

// A view record as a batch of projections sees it: loaded once, changed in memory, written
// once when the batch is flushed.
template <typename Record>
struct Slot {
  std::optional<Record> value;  // nullopt: absent (or deleted by this batch)
  bool dirty = false;
};

// The view records a batch of events reads and writes, over the database (and over the
// batches still being written before it, for a pipelined writer). Owned by one thread.
class ViewTxn {
 public:
  // `base` (optional) is an earlier batch not yet in the database; it must outlive this one
  // or be detached with rebase() first.
  explicit ViewTxn(const Store& store, const ViewTxn* base = nullptr);

  [[nodiscard]] Result<Slot<proto::ContainerRecord>*> container(const std::string& key);
  [[nodiscard]] Result<Slot<proto::ArtifactRecord>*> artifact(const std::string& key);
  [[nodiscard]] Result<Slot<proto::BlobRecord>*> blob(const std::string& key);
  [[nodiscard]] Result<Slot<proto::UploadRecord>*> upload(const std::string& key);
  [[nodiscard]] Result<Slot<proto::PartRecord>*> part(const std::string& key);
  [[nodiscard]] Result<Slot<proto::TenantRecord>*> tenant(const std::string& key);
  [[nodiscard]] Result<Slot<proto::UserRecord>*> user(const std::string& key);
  [[nodiscard]] Result<Slot<proto::KeyRecord>*> access_key(const std::string& key);
  [[nodiscard]] Result<Slot<proto::GrantRecord>*> grant(const std::string& key);

  // Adds a log entry to the batch.
  void put_log(std::string_view key, std::string_view value);

  // Writes every changed record into the batch and returns it; records stay readable until
  // clear().
  rocksdb::WriteBatch& flush();
  void clear();
  void rebase(const ViewTxn* base) { base_ = base; }
  size_t log_entries() const { return log_entries_; }

  // For a rebuild into an empty store: a key this txn has not seen is absent, without asking
  // the store. Stays on until ingest_into_empty_store() or set_store_empty(false).
  void set_store_empty(bool empty) { store_empty_ = empty; }
  // Records held (present or deleted), over every view.
  size_t records() const;
  // Writes every present record as sorted SST files (one per column family) and ingests them
  // into the store, which must have no view records yet; then clear()s and stops assuming an
  // empty store. Much cheaper than a WriteBatch of the same records: no memtable inserts.
  [[nodiscard]] Result<void> ingest_into_empty_store();

 private:
  template <typename Record>
  using Map = std::unordered_map<std::string, Slot<Record>>;

  template <typename Record>
  Result<Slot<Record>*> lookup(Map<Record>& map, Map<Record> ViewTxn::*member, Cf cf,
                               const std::string& key);
  // Calls fn(map, cf) for each view's records, in kViewCfs order.
  template <typename Self, typename Fn>
  static void for_each_view(Self& self, Fn&& fn) {
    fn(self.containers_, Cf::kContainers);
    fn(self.artifacts_, Cf::kArtifacts);
    fn(self.blobs_, Cf::kBlobs);
    fn(self.uploads_, Cf::kUploads);
    fn(self.parts_, Cf::kParts);
    fn(self.tenants_, Cf::kTenants);
    fn(self.users_, Cf::kUsers);
    fn(self.keys_, Cf::kKeys);
    fn(self.grants_, Cf::kGrants);
  }

  const Store& store_;
  const ViewTxn* base_;
  bool store_empty_ = false;
  Map<proto::ContainerRecord> containers_;
  Map<proto::ArtifactRecord> artifacts_;
  Map<proto::BlobRecord> blobs_;
  Map<proto::UploadRecord> uploads_;
  Map<proto::PartRecord> parts_;
  Map<proto::TenantRecord> tenants_;
  Map<proto::UserRecord> users_;
  Map<proto::KeyRecord> keys_;
  Map<proto::GrantRecord> grants_;
  rocksdb::WriteBatch batch_;
  size_t log_entries_ = 0;
};

struct Projected {
  std::vector<proto::BlobRef> released;  // blobs no view references any more
  bool no_op = false;                    // the event changed no view (delete of nothing)
};

// Applies `event` (sequence and time already assigned) to the views in `txn`.
// Fails with Errc::kUnknownEvent on a payload this build does not know, Errc::kCorruption on an
// unreadable view record; a failed projection changed nothing.
[[nodiscard]] Result<Projected> project(const proto::Event& event, ViewTxn& txn);

// Deterministic serialization, so equal records are equal bytes (replay digests depend on it).
std::string serialize_deterministic(const google::protobuf::Message& m);

}  // namespace vaultaire::events

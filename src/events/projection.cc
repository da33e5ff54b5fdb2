#include "events/projection.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <thread>
#include <type_traits>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <rocksdb/sst_file_writer.h>

#include "common/clock.h"
#include "events/keys.h"

namespace vaultaire::events {

ViewTxn::ViewTxn(const Store& store, const ViewTxn* base) : store_(store), base_(base) {}

template <typename Record>
Result<Slot<Record>*> ViewTxn::lookup(Map<Record>& map, Map<Record> ViewTxn::*member, Cf cf,
                                      const std::string& key) {
  if (store_empty_) {
    return &map.try_emplace(key).first->second;
  }
  if (auto it = map.find(key); it != map.end()) {
    return &it->second;
  }
  Slot<Record> slot;
  // The newest earlier batch that knows the key wins; then the database.
  bool found = false;
  for (const ViewTxn* b = base_; b != nullptr && !found; b = b->base_) {
    const Map<Record>& earlier = b->*member;
    if (auto it = earlier.find(key); it != earlier.end()) {
      slot.value = it->second.value;
      found = true;
    }
  }
  if (!found) {
    rocksdb::PinnableSlice bytes;
    const rocksdb::Status s =
        store_.db()->Get(rocksdb::ReadOptions(), store_.cf(cf), rocksdb::Slice(key), &bytes);
    if (s.ok()) {
      Record r;
      if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return Errc::kCorruption;
      }
      slot.value = std::move(r);
    } else if (!s.IsNotFound()) {
      return to_error_code(s, "view read");
    }
  }
  return &map.emplace(key, std::move(slot)).first->second;
}

Result<Slot<proto::ContainerRecord>*> ViewTxn::container(const std::string& key) {
  return lookup(containers_, &ViewTxn::containers_, Cf::kContainers, key);
}

Result<Slot<proto::ArtifactRecord>*> ViewTxn::artifact(const std::string& key) {
  return lookup(artifacts_, &ViewTxn::artifacts_, Cf::kArtifacts, key);
}

Result<Slot<proto::BlobRecord>*> ViewTxn::blob(const std::string& key) {
  return lookup(blobs_, &ViewTxn::blobs_, Cf::kBlobs, key);
}

Result<Slot<proto::UploadRecord>*> ViewTxn::upload(const std::string& key) {
  return lookup(uploads_, &ViewTxn::uploads_, Cf::kUploads, key);
}

Result<Slot<proto::PartRecord>*> ViewTxn::part(const std::string& key) {
  return lookup(parts_, &ViewTxn::parts_, Cf::kParts, key);
}

Result<Slot<proto::TenantRecord>*> ViewTxn::tenant(const std::string& key) {
  return lookup(tenants_, &ViewTxn::tenants_, Cf::kTenants, key);
}

Result<Slot<proto::UserRecord>*> ViewTxn::user(const std::string& key) {
  return lookup(users_, &ViewTxn::users_, Cf::kUsers, key);
}

Result<Slot<proto::KeyRecord>*> ViewTxn::access_key(const std::string& key) {
  return lookup(keys_, &ViewTxn::keys_, Cf::kKeys, key);
}

Result<Slot<proto::GrantRecord>*> ViewTxn::grant(const std::string& key) {
  return lookup(grants_, &ViewTxn::grants_, Cf::kGrants, key);
}

void ViewTxn::put_log(std::string_view key, std::string_view value) {
  batch_.Put(store_.cf(Cf::kLog), rocksdb::Slice(key), rocksdb::Slice(value))
      .PermitUncheckedError();
  ++log_entries_;
}

rocksdb::WriteBatch& ViewTxn::flush() {
  auto write = [this](auto& map, Cf cf) {
    for (auto& [key, slot] : map) {
      if (!slot.dirty) {
        continue;
      }
      if (slot.value) {
        batch_.Put(store_.cf(cf), key, serialize_deterministic(*slot.value)).PermitUncheckedError();
      } else {
        batch_.Delete(store_.cf(cf), key).PermitUncheckedError();
      }
      slot.dirty = false;
    }
  };
  for_each_view(*this, write);
  return batch_;
}

size_t ViewTxn::records() const {
  size_t n = 0;
  for_each_view(*this, [&n](const auto& map, Cf) { n += map.size(); });
  return n;
}

Result<void> ViewTxn::ingest_into_empty_store() {
  rocksdb::DB* db = store_.db();
  const std::filesystem::path dir = std::filesystem::path(db->GetName()) / "replay-ingest";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return ec;
  }
  // One sorted SST file per non-empty column family, all ingested in one atomic call.
  struct File {
    Cf cf;
    std::string path;
    rocksdb::Status status;
    bool written = false;
  };
  auto write = [&](const auto& map, Cf cf, File& file) {
    file.cf = cf;
    std::vector<const typename std::decay_t<decltype(map)>::value_type*> sorted;
    sorted.reserve(map.size());
    for (const auto& entry : map) {
      if (entry.second.value) {
        sorted.push_back(&entry);
      }
    }
    if (sorted.empty()) {
      return;
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    rocksdb::ColumnFamilyHandle* handle = store_.cf(file.cf);
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db->GetOptions(handle), handle);
    file.path = (dir / (std::string(cf_name(file.cf)) + ".sst")).string();
    file.status = writer.Open(file.path);
    std::string value;
    for (size_t i = 0; file.status.ok() && i < sorted.size(); ++i) {
      value = serialize_deterministic(*sorted[i]->second.value);
      file.status = writer.Put(sorted[i]->first, value);
    }
    if (file.status.ok()) {
      file.status = writer.Finish();
    }
    file.written = true;
  };
  std::array<File, kViewCfs.size()> files;
  // Artifacts are most of the records: written on a second thread while this one does the rest.
  std::thread artifacts;
  size_t next = 0;
  for_each_view(*this, [&](const auto& map, Cf cf) {
    File& file = files[next++];
    if (cf == Cf::kArtifacts) {
      artifacts = std::thread([&write, &map, cf, &file] { write(map, cf, file); });
    } else {
      write(map, cf, file);
    }
  });
  artifacts.join();

  rocksdb::Status s;
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (const File& file : files) {
    if (file.written && s.ok()) {
      s = file.status;
      rocksdb::IngestExternalFileArg arg;
      arg.column_family = store_.cf(file.cf);
      arg.external_files = {file.path};
      arg.options.move_files = true;
      args.push_back(std::move(arg));
    }
  }
  if (s.ok() && !args.empty()) {
    s = db->IngestExternalFiles(args);
  }
  std::filesystem::remove_all(dir, ec);
  clear();
  store_empty_ = false;
  if (!s.ok()) {
    return to_error_code(s, "replay ingest");
  }
  return {};
}

void ViewTxn::clear() {
  for_each_view(*this, [](auto& map, Cf) { map.clear(); });
  batch_.Clear();
  log_entries_ = 0;
}

std::string serialize_deterministic(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

namespace {

// Takes one reference from a blob; true when that was its last.
bool unreference(Slot<proto::BlobRecord>& blob) {
  blob.dirty = true;
  if (!blob.value || blob.value->refs() <= 1) {
    blob.value.reset();
    return true;
  }
  blob.value->set_refs(blob.value->refs() - 1);
  return false;
}

void reference(Slot<proto::BlobRecord>& blob, const std::string& driver, uint64_t size) {
  blob.dirty = true;
  if (!blob.value) {
    blob.value.emplace();
    blob.value->set_driver(driver);
    blob.value->set_size(size);
  }
  blob.value->set_refs(blob.value->refs() + 1);
}

proto::BlobRef blob_ref(const std::string& driver, const std::string& id) {
  proto::BlobRef ref;
  ref.set_driver(driver);
  ref.set_blob_id(id);
  return ref;
}

// One blob an artifact (or a part) holds, with its loaded reference record.
struct BlobUse {
  std::string driver;
  std::string blob_id;
  uint64_t size = 0;
  Slot<proto::BlobRecord>* slot = nullptr;
};

// The blobs of an artifact record or of a commit: its segments, or its single blob.
template <typename Artifact>
std::vector<BlobUse> blobs_of(const Artifact& a) {
  std::vector<BlobUse> out;
  if (a.segments_size() > 0) {
    for (const auto& s : a.segments()) {
      out.push_back({s.driver(), s.blob_id(), s.size(), nullptr});
    }
  } else if (!a.blob_id().empty()) {
    out.push_back({a.driver(), a.blob_id(), a.size(), nullptr});
  }
  return out;
}

// True when `uses` are exactly the blobs listed in `segments`, in order.
bool same_blobs(const std::vector<BlobUse>& uses,
                const google::protobuf::RepeatedPtrField<proto::Segment>& segments) {
  if (uses.size() != static_cast<size_t>(segments.size())) {
    return false;
  }
  for (size_t i = 0; i < uses.size(); ++i) {
    const proto::Segment& s = segments[static_cast<int>(i)];
    if (uses[i].driver != s.driver() || uses[i].blob_id != s.blob_id() ||
        uses[i].size != s.size()) {
      return false;
    }
  }
  return true;
}

// The blobs of a migration's or restore's new copy: its segments, or its single blob of the
// artifact's size.
template <typename Copy>
std::vector<BlobUse> copy_blobs(const Copy& c, uint64_t artifact_size) {
  std::vector<BlobUse> out;
  if (c.segments_size() > 0) {
    for (const auto& s : c.segments()) {
      out.push_back({s.driver(), s.blob_id(), s.size(), nullptr});
    }
  } else if (!c.blob_id().empty()) {
    out.push_back({c.driver(), c.blob_id(), artifact_size, nullptr});
  }
  return out;
}

// The blobs of an artifact's restored copy, if it has one.
void append_restore_blobs(const proto::ArtifactRecord& a, std::vector<BlobUse>& out) {
  if (a.has_restore()) {
    std::vector<BlobUse> copy = copy_blobs(a.restore(), a.size());
    out.insert(out.end(), copy.begin(), copy.end());
  }
}

// Loads the reference records of `uses` (the read phase of a projection).
Result<void> load(ViewTxn& txn, std::vector<BlobUse>& uses) {
  for (BlobUse& u : uses) {
    auto slot = txn.blob(blob_key(u.driver, u.blob_id));
    if (!slot) {
      return slot.error();
    }
    u.slot = *slot;
  }
  return {};
}

void release_all(std::vector<BlobUse>& uses, Projected& out) {
  for (BlobUse& u : uses) {
    if (unreference(*u.slot)) {
      out.released.push_back(blob_ref(u.driver, u.blob_id));
    }
  }
}

// An upload and its parts, loaded for removal.
struct LoadedUpload {
  Slot<proto::UploadRecord>* upload = nullptr;
  std::vector<Slot<proto::PartRecord>*> parts;
  std::vector<BlobUse> part_blobs;
};

Result<LoadedUpload> load_upload(ViewTxn& txn, const proto::Event& event,
                                 const std::string& upload_id) {
  LoadedUpload out;
  auto upload = txn.upload(upload_key(event.tenant(), event.container(), event.path(), upload_id));
  if (!upload) {
    return upload.error();
  }
  out.upload = *upload;
  if (!out.upload->value) {
    return out;
  }
  for (const uint32_t n : out.upload->value->part_numbers()) {
    auto part = txn.part(part_key(event.tenant(), event.container(), upload_id, n));
    if (!part) {
      return part.error();
    }
    out.parts.push_back(*part);
    if ((*part)->value) {
      const proto::Segment& seg = (*part)->value->part();
      out.part_blobs.push_back({seg.driver(), seg.blob_id(), seg.size(), nullptr});
    }
  }
  if (auto l = load(txn, out.part_blobs); !l) {
    return l.error();
  }
  return out;
}

void remove_upload(LoadedUpload& u, Projected& out) {
  release_all(u.part_blobs, out);
  for (auto* p : u.parts) {
    p->value.reset();
    p->dirty = true;
  }
  u.upload->value.reset();
  u.upload->dirty = true;
}

uint64_t size_of(const proto::ArtifactCommitted& put) {
  if (put.segments_size() == 0) {
    return put.size();
  }
  uint64_t total = 0;
  for (const auto& s : put.segments()) {
    total += s.size();
  }
  return total;
}

// A change of what a tenant stores.
struct UsageDelta {
  int64_t bytes = 0;
  int64_t objects = 0;
  int64_t buckets = 0;
};

// The tenant's record, created without quotas if no event created it (the default tenant).
Result<Slot<proto::TenantRecord>*> tenant_of(ViewTxn& txn, const std::string& tenant) {
  auto slot = txn.tenant(tenant);
  if (!slot) {
    return slot.error();
  }
  if (!(*slot)->value) {
    (*slot)->value.emplace();
  }
  return *slot;
}

// Refuses a change that grows usage past a quota (0 is unlimited). Shrinking is always allowed.
Result<void> check_quotas(const proto::TenantRecord& t, const UsageDelta& d) {
  const proto::Quotas& q = t.quotas();
  auto over = [](uint64_t now, int64_t delta, uint64_t max) {
    return delta > 0 && max > 0 && now + static_cast<uint64_t>(delta) > max;
  };
  if (over(t.bytes(), d.bytes, q.max_bytes()) || over(t.objects(), d.objects, q.max_objects()) ||
      over(t.buckets(), d.buckets, q.max_buckets())) {
    return Errc::kQuotaExceeded;
  }
  return {};
}

void apply_usage(Slot<proto::TenantRecord>& slot, const UsageDelta& d) {
  if (d.bytes == 0 && d.objects == 0 && d.buckets == 0) {
    return;
  }
  proto::TenantRecord& t = *slot.value;
  auto add = [](uint64_t now, int64_t delta) {
    return delta >= 0 ? now + static_cast<uint64_t>(delta)
                      : now - std::min(now, static_cast<uint64_t>(-delta));
  };
  t.set_bytes(add(t.bytes(), d.bytes));
  t.set_objects(add(t.objects(), d.objects));
  t.set_buckets(add(t.buckets(), d.buckets));
  slot.dirty = true;
}

// Loads the tenant and checks `d` against its quotas (the read phase of a projection).
Result<Slot<proto::TenantRecord>*> usage_change(ViewTxn& txn, const proto::Event& event,
                                                const UsageDelta& d) {
  auto t = tenant_of(txn, event.tenant());
  if (!t) {
    return t.error();
  }
  if (auto ok = check_quotas(*(*t)->value, d); !ok) {
    return ok.error();
  }
  return *t;
}

Result<Projected> project_artifact_committed(const proto::Event& event, ViewTxn& txn) {
  const proto::ArtifactCommitted& put = event.artifact_committed();
  // Reads.
  auto container = txn.container(container_key(event.tenant(), event.container()));
  if (!container) {
    return container.error();
  }
  auto artifact = txn.artifact(artifact_key(event.tenant(), event.container(), event.path()));
  if (!artifact) {
    return artifact.error();
  }
  std::vector<BlobUse> fresh = blobs_of(put);
  if (auto l = load(txn, fresh); !l) {
    return l.error();
  }
  if (put.shares_blobs()) {
    for (const BlobUse& u : fresh) {
      if (!u.slot->value) {
        return Errc::kNoSuchBlob;  // the source went away earlier in the log
      }
    }
  }
  const std::optional<proto::ArtifactRecord>& previous = (*artifact)->value;
  std::vector<BlobUse> replaced;
  if (previous) {
    replaced = blobs_of(*previous);
    append_restore_blobs(*previous, replaced);
    if (auto l = load(txn, replaced); !l) {
      return l.error();
    }
  }
  LoadedUpload upload;
  if (!put.completed_upload_id().empty()) {
    auto u = load_upload(txn, event, put.completed_upload_id());
    if (!u) {
      return u.error();
    }
    if (!u->upload->value) {
      return Errc::kNoSuchUpload;
    }
    upload = std::move(*u);
  }
  UsageDelta delta;
  delta.bytes =
      static_cast<int64_t>(size_of(put)) - (previous ? static_cast<int64_t>(previous->size()) : 0);
  delta.objects = previous ? 0 : 1;
  for (const BlobUse& part : upload.part_blobs) {
    delta.bytes -= static_cast<int64_t>(part.size);  // the parts become the object
  }
  auto tenant = usage_change(txn, event, delta);
  if (!tenant) {
    return tenant.error();
  }

  // Writes. Reference the new blobs before releasing anything: an overwrite that keeps a blob
  // (a metadata-only copy onto itself) or a completion that keeps a part must not release it.
  Projected out;
  const uint64_t size = size_of(put);
  apply_usage(**tenant, delta);
  for (BlobUse& u : fresh) {
    reference(*u.slot, u.driver, u.size);
  }
  if (upload.upload != nullptr) {
    remove_upload(upload, out);
  }
  if (previous) {
    release_all(replaced, out);
  }
  if (auto& c = (*container)->value) {
    if (previous) {
      c->set_total_bytes(c->total_bytes() - previous->size() + size);
    } else {
      c->set_artifact_count(c->artifact_count() + 1);
      c->set_total_bytes(c->total_bytes() + size);
    }
    (*container)->dirty = true;
  }
  proto::ArtifactRecord& record = (*artifact)->value.emplace();
  record.set_size(size);
  record.set_etag(put.etag());
  record.set_content_type(put.content_type());
  *record.mutable_user_metadata() = put.user_metadata();
  record.set_blob_id(put.blob_id());
  record.set_driver(put.driver());
  record.set_tier(put.tier());
  record.set_content_encoding(put.content_encoding());
  record.set_cache_control(put.cache_control());
  record.set_content_disposition(put.content_disposition());
  record.set_content_language(put.content_language());
  record.set_expires(put.expires());
  record.set_modified_unix_nanos(event.time_unix_nanos());
  record.set_sequence(event.sequence());
  *record.mutable_segments() = put.segments();
  *record.mutable_tags() = put.tags();
  *record.mutable_checksums() = put.checksums();
  (*artifact)->dirty = true;
  return out;
}

Result<Projected> project_artifact_deleted(const proto::Event& event, ViewTxn& txn) {
  auto artifact = txn.artifact(artifact_key(event.tenant(), event.container(), event.path()));
  if (!artifact) {
    return artifact.error();
  }
  Projected out;
  if (!(*artifact)->value) {
    out.no_op = true;
    return out;
  }
  const proto::ArtifactRecord& old = *(*artifact)->value;
  auto container = txn.container(container_key(event.tenant(), event.container()));
  if (!container) {
    return container.error();
  }
  std::vector<BlobUse> uses = blobs_of(old);
  append_restore_blobs(old, uses);
  if (auto l = load(txn, uses); !l) {
    return l.error();
  }
  const UsageDelta delta{.bytes = -static_cast<int64_t>(old.size()), .objects = -1, .buckets = 0};
  auto tenant = usage_change(txn, event, delta);
  if (!tenant) {
    return tenant.error();
  }

  apply_usage(**tenant, delta);
  release_all(uses, out);
  if (auto& c = (*container)->value) {
    c->set_artifact_count(c->artifact_count() - 1);
    c->set_total_bytes(c->total_bytes() - old.size());
    (*container)->dirty = true;
  }
  (*artifact)->value.reset();
  (*artifact)->dirty = true;
  return out;
}

Result<Projected> project_artifact_tagged(const proto::Event& event, ViewTxn& txn) {
  auto artifact = txn.artifact(artifact_key(event.tenant(), event.container(), event.path()));
  if (!artifact) {
    return artifact.error();
  }
  Projected out;
  if (!(*artifact)->value) {
    out.no_op = true;
    return out;
  }
  *(*artifact)->value->mutable_tags() = event.artifact_tagged().tags();
  (*artifact)->dirty = true;
  return out;
}

// The artifact's record, for the tiering events: they need it to exist.
Result<Slot<proto::ArtifactRecord>*> existing_artifact(const proto::Event& event, ViewTxn& txn) {
  auto artifact = txn.artifact(artifact_key(event.tenant(), event.container(), event.path()));
  if (!artifact) {
    return artifact.error();
  }
  if (!(*artifact)->value) {
    return Errc::kNoSuchArtifact;
  }
  return *artifact;
}

Result<Projected> project_artifact_migrated(const proto::Event& event, ViewTxn& txn) {
  const proto::ArtifactMigrated& m = event.artifact_migrated();
  auto artifact = existing_artifact(event, txn);
  if (!artifact) {
    return artifact.error();
  }
  proto::ArtifactRecord& record = *(*artifact)->value;
  std::vector<BlobUse> old = blobs_of(record);
  // Changed since the move was planned (overwritten, or moved by someone else): refused, and the
  // mover releases the copy it made.
  // A restore under way is not cancelled by a move: the move waits for a later pass.
  if (!same_blobs(old, m.from()) || record.tier() != m.from_tier() ||
      (record.has_restore() && record.restore().ongoing())) {
    return Errc::kPreconditionFailed;
  }
  std::vector<BlobUse> fresh = copy_blobs(m, record.size());
  if (fresh.size() != std::max<size_t>(old.size(), 1) ||
      (record.segments_size() > 0) != (m.segments_size() > 0)) {
    return Errc::kInvalidArgument;
  }
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (fresh[i].size != old[i].size) {
      return Errc::kInvalidArgument;  // a copy is the same bytes: the same sizes
    }
  }
  append_restore_blobs(record, old);  // a restored copy has no purpose on the new tier
  if (auto l = load(txn, old); !l) {
    return l.error();
  }
  if (auto l = load(txn, fresh); !l) {
    return l.error();
  }

  Projected out;
  for (BlobUse& u : fresh) {
    reference(*u.slot, u.driver, u.size);
  }
  release_all(old, out);
  record.set_tier(m.to_tier());
  record.set_tier_since_unix_nanos(event.time_unix_nanos());
  record.clear_restore();
  if (m.segments_size() > 0) {
    for (int i = 0; i < m.segments_size(); ++i) {
      proto::Segment& s = *record.mutable_segments(i);
      s.set_driver(m.segments(i).driver());
      s.set_blob_id(m.segments(i).blob_id());
    }
  } else {
    record.set_driver(m.driver());
    record.set_blob_id(m.blob_id());
  }
  (*artifact)->dirty = true;
  return out;
}

Result<Projected> project_restore_requested(const proto::Event& event, ViewTxn& txn) {
  auto artifact = existing_artifact(event, txn);
  if (!artifact) {
    return artifact.error();
  }
  proto::ArtifactRecord& record = *(*artifact)->value;
  const uint32_t days = event.restore_requested().days();
  if (record.tier() != event.restore_requested().tier()) {
    return Errc::kInvalidObjectState;  // moved meanwhile
  }
  if (record.has_restore() && record.restore().ongoing()) {
    return Errc::kRestoreInProgress;
  }
  proto::Restore& r = *record.mutable_restore();
  r.set_days(days);
  if (r.expires_unix_nanos() > 0) {
    // Restored already: the copy stays, for `days` from now.
    r.set_expires_unix_nanos(event.time_unix_nanos() + int64_t{days} * 86400 * kNanosPerSecond);
  } else {
    r.set_ongoing(true);
    r.set_requested_unix_nanos(event.time_unix_nanos());
  }
  (*artifact)->dirty = true;
  return Projected{};
}

Result<Projected> project_artifact_restored(const proto::Event& event, ViewTxn& txn) {
  const proto::ArtifactRestored& done = event.artifact_restored();
  auto artifact = existing_artifact(event, txn);
  if (!artifact) {
    return artifact.error();
  }
  proto::ArtifactRecord& record = *(*artifact)->value;
  if (!record.has_restore() || !record.restore().ongoing() ||
      !same_blobs(blobs_of(record), done.from())) {
    return Errc::kPreconditionFailed;  // overwritten, moved or expired meanwhile
  }
  std::vector<BlobUse> fresh = copy_blobs(done, record.size());
  const std::vector<BlobUse> originals = blobs_of(record);
  if (fresh.size() != std::max<size_t>(originals.size(), 1) ||
      (record.segments_size() > 0) != (done.segments_size() > 0)) {
    return Errc::kInvalidArgument;
  }
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (fresh[i].size != originals[i].size) {
      return Errc::kInvalidArgument;
    }
  }
  if (auto l = load(txn, fresh); !l) {
    return l.error();
  }
  for (BlobUse& u : fresh) {
    reference(*u.slot, u.driver, u.size);
  }
  proto::Restore& r = *record.mutable_restore();
  r.set_ongoing(false);
  r.set_expires_unix_nanos(event.time_unix_nanos() + int64_t{r.days()} * 86400 * kNanosPerSecond);
  r.set_driver(done.driver());
  r.set_blob_id(done.blob_id());
  *r.mutable_segments() = done.segments();
  (*artifact)->dirty = true;
  return Projected{};
}

Result<Projected> project_restore_expired(const proto::Event& event, ViewTxn& txn) {
  auto artifact = txn.artifact(artifact_key(event.tenant(), event.container(), event.path()));
  if (!artifact) {
    return artifact.error();
  }
  Projected out;
  if (!(*artifact)->value || !(*artifact)->value->has_restore()) {
    out.no_op = true;
    return out;
  }
  proto::ArtifactRecord& record = *(*artifact)->value;
  // An expiry decided on an older state (the copy was extended meanwhile, or a new restore
  // started) is refused in log order.
  const int64_t before = event.restore_expired().expired_before_unix_nanos();
  if (before > 0 &&
      (record.restore().ongoing() || record.restore().expires_unix_nanos() >= before)) {
    return Errc::kPreconditionFailed;
  }
  std::vector<BlobUse> copy;
  append_restore_blobs(record, copy);
  if (auto l = load(txn, copy); !l) {
    return l.error();
  }
  release_all(copy, out);
  record.clear_restore();
  (*artifact)->dirty = true;
  return out;
}

Result<Projected> project_upload_created(const proto::Event& event, ViewTxn& txn) {
  const proto::UploadCreated& created = event.upload_created();
  auto upload =
      txn.upload(upload_key(event.tenant(), event.container(), event.path(), created.upload_id()));
  if (!upload) {
    return upload.error();
  }
  proto::UploadRecord& r = (*upload)->value.emplace();
  r.set_upload_id(created.upload_id());
  r.set_initiated_unix_nanos(event.time_unix_nanos());
  *r.mutable_artifact() = created.artifact();
  r.set_principal(event.principal());
  r.set_checksum_algorithm(created.checksum_algorithm());
  r.set_checksum_type(created.checksum_type());
  r.set_sequence(event.sequence());
  (*upload)->dirty = true;
  return Projected{};
}

Result<Projected> project_part_uploaded(const proto::Event& event, ViewTxn& txn) {
  const proto::PartUploaded& uploaded = event.part_uploaded();
  auto upload =
      txn.upload(upload_key(event.tenant(), event.container(), event.path(), uploaded.upload_id()));
  if (!upload) {
    return upload.error();
  }
  if (!(*upload)->value) {
    return Errc::kNoSuchUpload;  // aborted or completed earlier in the log
  }
  auto part = txn.part(
      part_key(event.tenant(), event.container(), uploaded.upload_id(), uploaded.part_number()));
  if (!part) {
    return part.error();
  }
  std::vector<BlobUse> fresh = {
      {uploaded.part().driver(), uploaded.part().blob_id(), uploaded.part().size(), nullptr}};
  std::vector<BlobUse> replaced;
  if ((*part)->value) {
    const proto::Segment& old = (*part)->value->part();
    replaced.push_back({old.driver(), old.blob_id(), old.size(), nullptr});
  }
  if (auto l = load(txn, fresh); !l) {
    return l.error();
  }
  if (auto l = load(txn, replaced); !l) {
    return l.error();
  }
  UsageDelta delta;
  delta.bytes = static_cast<int64_t>(uploaded.part().size()) -
                (replaced.empty() ? 0 : static_cast<int64_t>(replaced[0].size));
  auto tenant = usage_change(txn, event, delta);
  if (!tenant) {
    return tenant.error();
  }

  Projected out;
  apply_usage(**tenant, delta);
  reference(*fresh[0].slot, fresh[0].driver, fresh[0].size);
  release_all(replaced, out);
  proto::PartRecord& p = (*part)->value.emplace();
  *p.mutable_part() = uploaded.part();
  p.set_modified_unix_nanos(event.time_unix_nanos());
  p.set_part_number(uploaded.part_number());
  (*part)->dirty = true;
  auto* numbers = (*upload)->value->mutable_part_numbers();
  const auto at = std::lower_bound(numbers->begin(), numbers->end(), uploaded.part_number());
  if (at == numbers->end() || *at != uploaded.part_number()) {
    numbers->Add(uploaded.part_number());
    std::sort(numbers->begin(), numbers->end());
  }
  (*upload)->dirty = true;
  return out;
}

Result<Projected> project_upload_aborted(const proto::Event& event, ViewTxn& txn) {
  auto u = load_upload(txn, event, event.upload_aborted().upload_id());
  if (!u) {
    return u.error();
  }
  Projected out;
  if (!u->upload->value) {
    out.no_op = true;
    return out;
  }
  UsageDelta delta;
  for (const BlobUse& part : u->part_blobs) {
    delta.bytes -= static_cast<int64_t>(part.size);
  }
  auto tenant = usage_change(txn, event, delta);
  if (!tenant) {
    return tenant.error();
  }
  apply_usage(**tenant, delta);
  remove_upload(*u, out);
  return out;
}

Result<Projected> project_container_created(const proto::Event& event, ViewTxn& txn) {
  auto container = txn.container(container_key(event.tenant(), event.container()));
  if (!container) {
    return container.error();
  }
  Projected out;
  if ((*container)->value) {
    out.no_op = true;  // the actor never lets this happen; replay treats it as harmless
    return out;
  }
  const UsageDelta delta{.bytes = 0, .objects = 0, .buckets = 1};
  auto tenant = usage_change(txn, event, delta);
  if (!tenant) {
    return tenant.error();
  }
  apply_usage(**tenant, delta);
  proto::ContainerRecord& c = (*container)->value.emplace();
  c.set_created_unix_nanos(event.time_unix_nanos());
  c.set_created_sequence(event.sequence());
  c.set_region(event.container_created().region());
  c.set_acl(event.container_created().acl());
  (*container)->dirty = true;
  return out;
}

Result<Projected> project_container_deleted(const proto::Event& event, ViewTxn& txn) {
  auto container = txn.container(container_key(event.tenant(), event.container()));
  if (!container) {
    return container.error();
  }
  Projected out;
  if (!(*container)->value) {
    out.no_op = true;
    return out;
  }
  const UsageDelta delta{.bytes = 0, .objects = 0, .buckets = -1};
  auto tenant = usage_change(txn, event, delta);
  if (!tenant) {
    return tenant.error();
  }
  apply_usage(**tenant, delta);
  (*container)->value.reset();
  (*container)->dirty = true;
  return out;
}

// --- identity ----------------------------------------------------------------------------

void insert_sorted(google::protobuf::RepeatedPtrField<std::string>* list, const std::string& v) {
  const auto at = std::lower_bound(list->begin(), list->end(), v);
  if (at == list->end() || *at != v) {
    list->Add(std::string(v));
    std::sort(list->begin(), list->end());
  }
}

void erase_value(google::protobuf::RepeatedPtrField<std::string>* list, const std::string& v) {
  const auto at = std::find(list->begin(), list->end(), v);
  if (at != list->end()) {
    list->erase(at);
  }
}

Result<Projected> project_tenant_created(const proto::Event& event, ViewTxn& txn) {
  auto t = tenant_of(txn, event.tenant());
  if (!t) {
    return t.error();
  }
  Projected out;
  proto::TenantRecord& r = *(*t)->value;
  if (r.created()) {
    out.no_op = true;
    return out;
  }
  r.set_created(true);
  r.set_created_unix_nanos(event.time_unix_nanos());
  *r.mutable_quotas() = event.tenant_created().quotas();
  (*t)->dirty = true;
  return out;
}

Result<Projected> project_tenant_quotas_changed(const proto::Event& event, ViewTxn& txn) {
  auto t = tenant_of(txn, event.tenant());
  if (!t) {
    return t.error();
  }
  *(*t)->value->mutable_quotas() = event.tenant_quotas_changed().quotas();
  (*t)->dirty = true;
  return Projected{};
}

Result<Projected> project_tenant_deleted(const proto::Event& event, ViewTxn& txn) {
  auto t = txn.tenant(event.tenant());
  if (!t) {
    return t.error();
  }
  (*t)->value.reset();
  (*t)->dirty = true;
  return Projected{};
}

Result<Projected> project_user_created(const proto::Event& event, ViewTxn& txn) {
  const proto::UserCreated& created = event.user_created();
  auto u = txn.user(user_key(event.tenant(), created.user()));
  if (!u) {
    return u.error();
  }
  Projected out;
  if ((*u)->value) {
    out.no_op = true;
    return out;
  }
  proto::UserRecord& r = (*u)->value.emplace();
  r.set_role(created.role());
  r.set_created_unix_nanos(event.time_unix_nanos());
  (*u)->dirty = true;
  return out;
}

Result<Projected> project_user_deleted(const proto::Event& event, ViewTxn& txn) {
  const std::string& name = event.user_deleted().user();
  auto u = txn.user(user_key(event.tenant(), name));
  if (!u) {
    return u.error();
  }
  Projected out;
  if (!(*u)->value) {
    out.no_op = true;
    return out;
  }
  // Its keys and grants go with it.
  std::vector<Slot<proto::KeyRecord>*> keys;
  for (const auto& k : (*u)->value->access_keys()) {
    auto slot = txn.access_key(k);
    if (!slot) {
      return slot.error();
    }
    keys.push_back(*slot);
  }
  std::vector<Slot<proto::GrantRecord>*> grants;
  for (const auto& c : (*u)->value->grants()) {
    auto slot = txn.grant(grant_key(event.tenant(), name, c));
    if (!slot) {
      return slot.error();
    }
    grants.push_back(*slot);
  }
  for (auto* k : keys) {
    k->value.reset();
    k->dirty = true;
  }
  for (auto* g : grants) {
    g->value.reset();
    g->dirty = true;
  }
  (*u)->value.reset();
  (*u)->dirty = true;
  return out;
}

Result<Projected> project_access_key_created(const proto::Event& event, ViewTxn& txn) {
  const proto::AccessKeyCreated& created = event.access_key_created();
  auto k = txn.access_key(created.access_key());
  if (!k) {
    return k.error();
  }
  auto u = txn.user(user_key(event.tenant(), created.user()));
  if (!u) {
    return u.error();
  }
  if (!(*u)->value) {
    return Errc::kNotFound;  // the user was deleted earlier in the log
  }
  Projected out;
  if ((*k)->value) {
    out.no_op = true;
    return out;
  }
  proto::KeyRecord& r = (*k)->value.emplace();
  r.set_tenant(event.tenant());
  r.set_user(created.user());
  *r.mutable_secret() = created.secret();
  r.set_enabled(true);
  *r.mutable_rate_limit() = created.rate_limit();
  r.set_created_unix_nanos(event.time_unix_nanos());
  (*k)->dirty = true;
  insert_sorted((*u)->value->mutable_access_keys(), created.access_key());
  (*u)->dirty = true;
  return out;
}

Result<Projected> project_access_key_changed(const proto::Event& event, ViewTxn& txn) {
  const proto::AccessKeyChanged& change = event.access_key_changed();
  auto k = txn.access_key(change.access_key());
  if (!k) {
    return k.error();
  }
  Projected out;
  if (!(*k)->value) {
    out.no_op = true;
    return out;
  }
  if (change.has_enabled()) {
    (*k)->value->set_enabled(change.enabled());
  }
  if (change.rate_limit_changed()) {
    *(*k)->value->mutable_rate_limit() = change.rate_limit();
  }
  (*k)->dirty = true;
  return out;
}

Result<Projected> project_access_key_deleted(const proto::Event& event, ViewTxn& txn) {
  const std::string& id = event.access_key_deleted().access_key();
  auto k = txn.access_key(id);
  if (!k) {
    return k.error();
  }
  Projected out;
  if (!(*k)->value) {
    out.no_op = true;
    return out;
  }
  auto u = txn.user(user_key((*k)->value->tenant(), (*k)->value->user()));
  if (!u) {
    return u.error();
  }
  if ((*u)->value) {
    erase_value((*u)->value->mutable_access_keys(), id);
    (*u)->dirty = true;
  }
  (*k)->value.reset();
  (*k)->dirty = true;
  return out;
}

Result<Projected> project_grant_changed(const proto::Event& event, ViewTxn& txn) {
  const proto::GrantChanged& change = event.grant_changed();
  auto g = txn.grant(grant_key(event.tenant(), change.user(), event.container()));
  if (!g) {
    return g.error();
  }
  auto u = txn.user(user_key(event.tenant(), change.user()));
  if (!u) {
    return u.error();
  }
  if (!(*u)->value) {
    return Errc::kNotFound;
  }
  if (change.read() || change.write()) {
    proto::GrantRecord& r = (*g)->value.emplace();
    r.set_read(change.read());
    r.set_write(change.write());
    insert_sorted((*u)->value->mutable_grants(), event.container());
  } else {
    (*g)->value.reset();
    erase_value((*u)->value->mutable_grants(), event.container());
  }
  (*g)->dirty = true;
  (*u)->dirty = true;
  return Projected{};
}

Result<Projected> project_container_acl_changed(const proto::Event& event, ViewTxn& txn) {
  auto c = txn.container(container_key(event.tenant(), event.container()));
  if (!c) {
    return c.error();
  }
  Projected out;
  if (!(*c)->value) {
    out.no_op = true;
    return out;
  }
  (*c)->value->set_acl(event.container_acl_changed().acl());
  (*c)->dirty = true;
  return out;
}

Result<Projected> project_secrets_reencrypted(const proto::Event& event, ViewTxn& txn) {
  std::vector<std::pair<Slot<proto::KeyRecord>*, const proto::SealedSecret*>> changes;
  for (const auto& s : event.secrets_reencrypted().secrets()) {
    auto k = txn.access_key(s.access_key());
    if (!k) {
      return k.error();
    }
    if ((*k)->value) {
      changes.emplace_back(*k, &s.secret());
    }
  }
  for (auto& [slot, secret] : changes) {
    *slot->value->mutable_secret() = *secret;
    slot->dirty = true;
  }
  return Projected{};
}

}  // namespace

Result<Projected> project(const proto::Event& event, ViewTxn& txn) {
  switch (event.payload_case()) {
    case proto::Event::kContainerCreated:
      return project_container_created(event, txn);
    case proto::Event::kContainerDeleted:
      return project_container_deleted(event, txn);
    case proto::Event::kArtifactCommitted:
      return project_artifact_committed(event, txn);
    case proto::Event::kArtifactDeleted:
      return project_artifact_deleted(event, txn);
    case proto::Event::kArtifactRead:
      return Projected{.released = {}, .no_op = true};
    case proto::Event::kArtifactTagged:
      return project_artifact_tagged(event, txn);
    case proto::Event::kUploadCreated:
      return project_upload_created(event, txn);
    case proto::Event::kPartUploaded:
      return project_part_uploaded(event, txn);
    case proto::Event::kUploadAborted:
      return project_upload_aborted(event, txn);
    case proto::Event::kTenantCreated:
      return project_tenant_created(event, txn);
    case proto::Event::kTenantQuotasChanged:
      return project_tenant_quotas_changed(event, txn);
    case proto::Event::kTenantDeleted:
      return project_tenant_deleted(event, txn);
    case proto::Event::kUserCreated:
      return project_user_created(event, txn);
    case proto::Event::kUserDeleted:
      return project_user_deleted(event, txn);
    case proto::Event::kAccessKeyCreated:
      return project_access_key_created(event, txn);
    case proto::Event::kAccessKeyChanged:
      return project_access_key_changed(event, txn);
    case proto::Event::kAccessKeyDeleted:
      return project_access_key_deleted(event, txn);
    case proto::Event::kGrantChanged:
      return project_grant_changed(event, txn);
    case proto::Event::kContainerAclChanged:
      return project_container_acl_changed(event, txn);
    case proto::Event::kAccessDenied:
    case proto::Event::kContainerListed:
      return Projected{.released = {}, .no_op = true};
    case proto::Event::kSecretsReencrypted:
      return project_secrets_reencrypted(event, txn);
    case proto::Event::kArtifactMigrated:
      return project_artifact_migrated(event, txn);
    case proto::Event::kRestoreRequested:
      return project_restore_requested(event, txn);
    case proto::Event::kArtifactRestored:
      return project_artifact_restored(event, txn);
    case proto::Event::kRestoreExpired:
      return project_restore_expired(event, txn);
    case proto::Event::PAYLOAD_NOT_SET:
      break;
  }
  return Errc::kUnknownEvent;
}

}  // namespace vaultaire::events

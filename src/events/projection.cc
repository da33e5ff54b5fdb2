#include "events/projection.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "events/keys.h"

namespace vaultaire::events {

ViewTxn::ViewTxn(const Store& store, const ViewTxn* base) : store_(store), base_(base) {}

template <typename Record>
Result<Slot<Record>*> ViewTxn::lookup(Map<Record>& map, Map<Record> ViewTxn::*member, Cf cf,
                                      const std::string& key) {
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
  write(containers_, Cf::kContainers);
  write(artifacts_, Cf::kArtifacts);
  write(blobs_, Cf::kBlobs);
  return batch_;
}

void ViewTxn::clear() {
  containers_.clear();
  artifacts_.clear();
  blobs_.clear();
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
  auto new_blob = txn.blob(blob_key(put.driver(), put.blob_id()));
  if (!new_blob) {
    return new_blob.error();
  }
  Slot<proto::BlobRecord>* old_blob = nullptr;
  const std::optional<proto::ArtifactRecord>& previous = (*artifact)->value;
  if (previous) {
    auto b = txn.blob(blob_key(previous->driver(), previous->blob_id()));
    if (!b) {
      return b.error();
    }
    old_blob = *b;
  }

  // Writes. Reference the new blob before releasing the old one: an overwrite that keeps the
  // same blob (a metadata-only change) must not release it.
  Projected out;
  reference(**new_blob, put.driver(), put.size());
  if (previous && unreference(*old_blob)) {
    out.released.push_back(blob_ref(previous->driver(), previous->blob_id()));
  }
  if (auto& c = (*container)->value) {
    if (previous) {
      c->set_total_bytes(c->total_bytes() - previous->size() + put.size());
    } else {
      c->set_artifact_count(c->artifact_count() + 1);
      c->set_total_bytes(c->total_bytes() + put.size());
    }
    (*container)->dirty = true;
  }
  proto::ArtifactRecord& record = (*artifact)->value.emplace();
  record.set_size(put.size());
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
  const proto::ArtifactRecord old = *(*artifact)->value;
  auto container = txn.container(container_key(event.tenant(), event.container()));
  if (!container) {
    return container.error();
  }
  auto blob = txn.blob(blob_key(old.driver(), old.blob_id()));
  if (!blob) {
    return blob.error();
  }

  (*artifact)->value.reset();
  (*artifact)->dirty = true;
  if (unreference(**blob)) {
    out.released.push_back(blob_ref(old.driver(), old.blob_id()));
  }
  if (auto& c = (*container)->value) {
    c->set_artifact_count(c->artifact_count() - 1);
    c->set_total_bytes(c->total_bytes() - old.size());
    (*container)->dirty = true;
  }
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
  proto::ContainerRecord& c = (*container)->value.emplace();
  c.set_created_unix_nanos(event.time_unix_nanos());
  c.set_created_sequence(event.sequence());
  c.set_region(event.container_created().region());
  (*container)->dirty = true;
  return out;
}

Result<Projected> project_container_deleted(const proto::Event& event, ViewTxn& txn) {
  auto container = txn.container(container_key(event.tenant(), event.container()));
  if (!container) {
    return container.error();
  }
  (*container)->value.reset();
  (*container)->dirty = true;
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
    case proto::Event::PAYLOAD_NOT_SET:
      break;
  }
  return Errc::kUnknownEvent;
}

}  // namespace vaultaire::events

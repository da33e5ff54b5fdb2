#include "events/projection.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "events/keys.h"
#include "vaultaire/views.pb.h"

namespace vaultaire::events {

ViewTxn::ViewTxn(const Store& store, rocksdb::DB* db)
    : store_(store), db_(db), batch_(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true) {}

Result<std::optional<std::string>> ViewTxn::get(Cf cf, std::string_view key) {
  std::string value;
  const rocksdb::Status s =
      batch_.GetFromBatchAndDB(db_, read_options_, store_.cf(cf), rocksdb::Slice(key), &value);
  if (s.IsNotFound()) {
    return std::optional<std::string>();
  }
  if (!s.ok()) {
    return to_error_code(s, "view read");
  }
  return std::optional<std::string>(std::move(value));
}

void ViewTxn::put(Cf cf, std::string_view key, std::string_view value) {
  batch_.Put(store_.cf(cf), rocksdb::Slice(key), rocksdb::Slice(value)).PermitUncheckedError();
}

void ViewTxn::remove(Cf cf, std::string_view key) {
  batch_.Delete(store_.cf(cf), rocksdb::Slice(key)).PermitUncheckedError();
}

void ViewTxn::put_log(std::string_view key, std::string_view value) {
  batch_.Put(store_.cf(Cf::kLog), rocksdb::Slice(key), rocksdb::Slice(value))
      .PermitUncheckedError();
}

void ViewTxn::rollback_to_save_point() { batch_.RollbackToSavePoint().PermitUncheckedError(); }

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

template <typename Record>
Result<std::optional<Record>> read_record(ViewTxn& txn, Cf cf, const std::string& key) {
  auto bytes = txn.get(cf, key);
  if (!bytes) {
    return bytes.error();
  }
  if (!bytes->has_value()) {
    return std::optional<Record>();
  }
  Record r;
  if (!r.ParseFromString(**bytes)) {
    return Errc::kCorruption;
  }
  return std::optional<Record>(std::move(r));
}

// Adds `delta` references to a blob; returns true when the blob lost its last reference.
Result<bool> adjust_blob_refs(ViewTxn& txn, std::string_view driver, std::string_view blob_id,
                              uint64_t size, int delta) {
  const std::string key = blob_key(driver, blob_id);
  auto existing = read_record<proto::BlobRecord>(txn, Cf::kBlobs, key);
  if (!existing) {
    return {boost::system::in_place_error, existing.error()};
  }
  proto::BlobRecord record;
  if (existing->has_value()) {
    record = std::move(**existing);
  } else {
    record.set_driver(std::string(driver));
    record.set_size(size);
  }
  const int64_t refs = static_cast<int64_t>(record.refs()) + delta;
  if (refs <= 0) {
    txn.remove(Cf::kBlobs, key);
    return true;
  }
  record.set_refs(static_cast<uint32_t>(refs));
  txn.put(Cf::kBlobs, key, serialize_deterministic(record));
  return false;
}

Result<Projected> project_artifact_committed(const proto::Event& event, ViewTxn& txn) {
  const proto::ArtifactCommitted& put = event.artifact_committed();
  const std::string ckey = container_key(event.tenant(), event.container());
  const std::string akey = artifact_key(event.tenant(), event.container(), event.path());

  auto container = read_record<proto::ContainerRecord>(txn, Cf::kContainers, ckey);
  if (!container) {
    return container.error();
  }
  auto previous = read_record<proto::ArtifactRecord>(txn, Cf::kArtifacts, akey);
  if (!previous) {
    return previous.error();
  }

  proto::ArtifactRecord record;
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
  txn.put(Cf::kArtifacts, akey, serialize_deterministic(record));

  Projected out;
  // Reference the new blob before releasing the old one: an overwrite that keeps the same blob
  // (a metadata-only change) must not release it.
  if (auto r = adjust_blob_refs(txn, put.driver(), put.blob_id(), put.size(), +1); !r) {
    return r.error();
  }
  if (previous->has_value()) {
    const proto::ArtifactRecord& old = **previous;
    auto released = adjust_blob_refs(txn, old.driver(), old.blob_id(), old.size(), -1);
    if (!released) {
      return released.error();
    }
    if (*released) {
      proto::BlobRef& ref = out.released.emplace_back();
      ref.set_driver(old.driver());
      ref.set_blob_id(old.blob_id());
    }
  }

  if (container->has_value()) {
    proto::ContainerRecord& c = **container;
    if (previous->has_value()) {
      c.set_total_bytes(c.total_bytes() - (*previous)->size() + put.size());
    } else {
      c.set_artifact_count(c.artifact_count() + 1);
      c.set_total_bytes(c.total_bytes() + put.size());
    }
    txn.put(Cf::kContainers, ckey, serialize_deterministic(c));
  }
  return out;
}

Result<Projected> project_artifact_deleted(const proto::Event& event, ViewTxn& txn) {
  const std::string ckey = container_key(event.tenant(), event.container());
  const std::string akey = artifact_key(event.tenant(), event.container(), event.path());
  auto previous = read_record<proto::ArtifactRecord>(txn, Cf::kArtifacts, akey);
  if (!previous) {
    return previous.error();
  }
  Projected out;
  if (!previous->has_value()) {
    out.no_op = true;
    return out;
  }
  const proto::ArtifactRecord& old = **previous;
  txn.remove(Cf::kArtifacts, akey);
  auto released = adjust_blob_refs(txn, old.driver(), old.blob_id(), old.size(), -1);
  if (!released) {
    return released.error();
  }
  if (*released) {
    proto::BlobRef& ref = out.released.emplace_back();
    ref.set_driver(old.driver());
    ref.set_blob_id(old.blob_id());
  }
  auto container = read_record<proto::ContainerRecord>(txn, Cf::kContainers, ckey);
  if (!container) {
    return container.error();
  }
  if (container->has_value()) {
    proto::ContainerRecord& c = **container;
    c.set_artifact_count(c.artifact_count() - 1);
    c.set_total_bytes(c.total_bytes() - old.size());
    txn.put(Cf::kContainers, ckey, serialize_deterministic(c));
  }
  return out;
}

Result<Projected> project_container_created(const proto::Event& event, ViewTxn& txn) {
  const std::string ckey = container_key(event.tenant(), event.container());
  auto existing = read_record<proto::ContainerRecord>(txn, Cf::kContainers, ckey);
  if (!existing) {
    return existing.error();
  }
  Projected out;
  if (existing->has_value()) {
    out.no_op = true;  // the actor never lets this happen; replay treats it as harmless
    return out;
  }
  proto::ContainerRecord c;
  c.set_created_unix_nanos(event.time_unix_nanos());
  c.set_created_sequence(event.sequence());
  c.set_region(event.container_created().region());
  txn.put(Cf::kContainers, ckey, serialize_deterministic(c));
  return out;
}

}  // namespace

Result<Projected> project(const proto::Event& event, ViewTxn& txn) {
  switch (event.payload_case()) {
    case proto::Event::kContainerCreated:
      return project_container_created(event, txn);
    case proto::Event::kContainerDeleted:
      txn.remove(Cf::kContainers, container_key(event.tenant(), event.container()));
      return Projected{};
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

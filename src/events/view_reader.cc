#include "events/view_reader.h"

#include <memory>

#include "events/keys.h"

namespace vaultaire::events {
namespace {

std::string_view to_view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

Result<proto::ContainerRecord> ViewReader::container(std::string_view tenant,
                                                     std::string_view name) const {
  rocksdb::PinnableSlice bytes;
  const rocksdb::Status s = store_.db()->Get(rocksdb::ReadOptions(), store_.cf(Cf::kContainers),
                                             container_key(tenant, name), &bytes);
  if (s.IsNotFound()) {
    return Errc::kNoSuchContainer;
  }
  if (!s.ok()) {
    return to_error_code(s, "get container");
  }
  proto::ContainerRecord record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Errc::kCorruption;
  }
  return record;
}

Result<proto::ContainerList> ViewReader::containers(std::string_view tenant) const {
  const std::string prefix = tenant_prefix(tenant);
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db()->NewIterator(rocksdb::ReadOptions(), store_.cf(Cf::kContainers)));
  proto::ContainerList out;
  for (it->Seek(prefix); it->Valid() && starts_with(to_view(it->key()), prefix); it->Next()) {
    proto::ContainerEntry* entry = out.add_containers();
    entry->set_name(std::string(to_view(it->key()).substr(prefix.size())));
    if (!entry->mutable_record()->ParseFromArray(it->value().data(),
                                                 static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
  }
  if (!it->status().ok()) {
    return to_error_code(it->status(), "list containers");
  }
  return out;
}

Result<proto::ArtifactRecord> ViewReader::artifact(std::string_view tenant,
                                                   std::string_view container,
                                                   std::string_view path) const {
  rocksdb::PinnableSlice bytes;
  const rocksdb::Status s = store_.db()->Get(rocksdb::ReadOptions(), store_.cf(Cf::kArtifacts),
                                             artifact_key(tenant, container, path), &bytes);
  if (s.IsNotFound()) {
    return Errc::kNoSuchArtifact;
  }
  if (!s.ok()) {
    return to_error_code(s, "get artifact");
  }
  proto::ArtifactRecord record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Errc::kCorruption;
  }
  return record;
}

Result<bool> ViewReader::has_artifacts(std::string_view tenant, std::string_view container) const {
  const std::string prefix = artifact_prefix(tenant, container);
  rocksdb::ReadOptions ro;
  const std::string upper = prefix_successor(prefix);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.cf(Cf::kArtifacts)));
  it->Seek(prefix);
  if (!it->status().ok()) {
    return {boost::system::in_place_error, to_error_code(it->status(), "probe artifacts")};
  }
  return it->Valid();
}

Result<proto::UploadRecord> ViewReader::upload(std::string_view tenant, std::string_view container,
                                               std::string_view path,
                                               std::string_view upload_id) const {
  rocksdb::PinnableSlice bytes;
  const rocksdb::Status s =
      store_.db()->Get(rocksdb::ReadOptions(), store_.cf(Cf::kUploads),
                       upload_key(tenant, container, path, upload_id), &bytes);
  if (s.IsNotFound()) {
    // S3 names the missing bucket before the missing upload.
    auto bucket = this->container(tenant, container);
    return bucket || !is(bucket.error(), Errc::kNoSuchContainer) ? Errc::kNoSuchUpload
                                                                 : Errc::kNoSuchContainer;
  }
  if (!s.ok()) {
    return to_error_code(s, "get upload");
  }
  proto::UploadRecord record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Errc::kCorruption;
  }
  return record;
}

Result<proto::UploadList> ViewReader::list_uploads(std::string_view tenant,
                                                   std::string_view container,
                                                   const proto::ListUploads& request) const {
  const std::string base = artifact_prefix(tenant, container);
  const std::string& prefix = request.prefix();
  const std::string& delimiter = request.delimiter();
  const std::string scan_prefix = base + prefix;
  rocksdb::ReadOptions ro;
  const std::string upper = prefix_successor(scan_prefix);
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) {
    ro.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.cf(Cf::kUploads)));
  auto rollup = [&](std::string_view path) -> std::string_view {
    if (delimiter.empty()) {
      return {};
    }
    const size_t pos = path.find(delimiter, prefix.size());
    return pos == std::string_view::npos ? std::string_view()
                                         : path.substr(0, pos + delimiter.size());
  };
  // Resume: after (key_marker, upload_id_marker), or after every upload of key_marker.
  const std::string& key_marker = request.key_marker();
  if (!key_marker.empty() && key_marker >= prefix) {
    const std::string_view cp = rollup(key_marker);
    if (!cp.empty()) {
      it->Seek(prefix_successor(base + std::string(cp)));
    } else if (!request.upload_id_marker().empty()) {
      it->Seek(base + key_marker + std::string(1, '\0') + request.upload_id_marker() +
               std::string(1, '\0'));
    } else {
      it->Seek(base + key_marker + std::string(1, '\1'));
    }
  } else {
    it->Seek(scan_prefix);
  }
  proto::UploadList out;
  const uint32_t max = request.max_uploads();
  uint32_t emitted = 0;
  for (; it->Valid();) {
    const std::string_view key = to_view(it->key());
    const std::string_view rest = key.substr(base.size());
    const size_t nul = rest.rfind('\0');
    if (nul == std::string_view::npos) {
      it->Next();
      continue;
    }
    const std::string_view path = rest.substr(0, nul);
    if (emitted == max) {
      out.set_truncated(true);
      break;
    }
    if (const std::string_view cp = rollup(path); !cp.empty()) {
      out.add_common_prefixes(std::string(cp));
      out.set_next_key_marker(std::string(cp));
      out.clear_next_upload_id_marker();
      ++emitted;
      it->Seek(prefix_successor(base + std::string(cp)));
      continue;
    }
    proto::UploadEntry* entry = out.add_uploads();
    entry->set_path(std::string(path));
    if (!entry->mutable_record()->ParseFromArray(it->value().data(),
                                                 static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
    out.set_next_key_marker(std::string(path));
    out.set_next_upload_id_marker(entry->record().upload_id());
    ++emitted;
    it->Next();
  }
  if (!it->status().ok()) {
    return to_error_code(it->status(), "list uploads");
  }
  return out;
}

Result<proto::PartList> ViewReader::list_parts(std::string_view tenant, std::string_view container,
                                               std::string_view path,
                                               const proto::ListParts& request) const {
  auto upload_record = upload(tenant, container, path, request.upload_id());
  if (!upload_record) {
    return upload_record.error();
  }
  proto::PartList out;
  *out.mutable_upload() = std::move(*upload_record);
  const std::string prefix = part_prefix(tenant, container, request.upload_id());
  rocksdb::ReadOptions ro;
  const std::string upper = prefix_successor(prefix);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.cf(Cf::kParts)));
  it->Seek(part_key(tenant, container, request.upload_id(), request.part_number_marker() + 1));
  const uint32_t max = request.max_parts();
  for (; it->Valid(); it->Next()) {
    if (static_cast<uint32_t>(out.parts_size()) == max) {
      out.set_truncated(true);
      break;
    }
    proto::PartRecord* part = out.add_parts();
    if (!part->ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
    out.set_next_part_number_marker(part->part_number());
  }
  if (!it->status().ok()) {
    return to_error_code(it->status(), "list parts");
  }
  return out;
}

Result<std::vector<ViewReader::UploadRef>> ViewReader::uploads_started_before(
    int64_t before_unix_nanos, size_t limit) const {
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db()->NewIterator(rocksdb::ReadOptions(), store_.cf(Cf::kUploads)));
  std::vector<UploadRef> out;
  proto::UploadRecord record;
  for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
    if (record.initiated_unix_nanos() >= before_unix_nanos) {
      continue;
    }
    // tenant \0 container \0 path \0 upload id
    const std::string_view key = to_view(it->key());
    const size_t a = key.find('\0');
    const size_t b = key.find('\0', a + 1);
    const size_t c = key.rfind('\0');
    if (a == std::string_view::npos || b == std::string_view::npos || c <= b) {
      return Errc::kCorruption;
    }
    out.push_back({std::string(key.substr(0, a)), std::string(key.substr(a + 1, b - a - 1)),
                   std::string(key.substr(b + 1, c - b - 1)), std::string(key.substr(c + 1))});
  }
  if (!it->status().ok()) {
    return to_error_code(it->status(), "scan uploads");
  }
  return out;
}

namespace {

template <typename Record>
Result<Record> get_record(const Store& store, Cf cf, const std::string& key, const char* what) {
  rocksdb::PinnableSlice bytes;
  const rocksdb::Status s = store.db()->Get(rocksdb::ReadOptions(), store.cf(cf), key, &bytes);
  if (s.IsNotFound()) {
    return Errc::kNotFound;
  }
  if (!s.ok()) {
    return to_error_code(s, what);
  }
  Record record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Errc::kCorruption;
  }
  return record;
}

// Calls fn(key, value) for every record of `cf` whose key starts with `prefix`.
template <typename Fn>
Result<void> scan(const Store& store, Cf cf, const std::string& prefix, Fn fn) {
  rocksdb::ReadOptions ro;
  const std::string upper = prefix_successor(prefix);
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) {
    ro.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, store.cf(cf)));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (auto r = fn(std::string_view(it->key().data(), it->key().size()), it->value()); !r) {
      return r;
    }
  }
  if (!it->status().ok()) {
    return to_error_code(it->status(), "scan");
  }
  return {};
}

template <typename Record>
Result<void> parse_into(const rocksdb::Slice& value, Record* out) {
  if (!out->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Errc::kCorruption;
  }
  return {};
}

}  // namespace

Result<proto::TenantRecord> ViewReader::tenant(std::string_view tenant) const {
  return get_record<proto::TenantRecord>(store_, Cf::kTenants, std::string(tenant), "get tenant");
}

Result<proto::TenantList> ViewReader::tenants() const {
  proto::TenantList out;
  auto r = scan(store_, Cf::kTenants, "", [&](std::string_view key, const rocksdb::Slice& v) {
    proto::TenantEntry* e = out.add_tenants();
    e->set_name(std::string(key));
    return parse_into(v, e->mutable_record());
  });
  if (!r) {
    return r.error();
  }
  return out;
}

Result<proto::UserRecord> ViewReader::user(std::string_view tenant, std::string_view user) const {
  return get_record<proto::UserRecord>(store_, Cf::kUsers, user_key(tenant, user), "get user");
}

Result<proto::UserList> ViewReader::users(std::string_view tenant) const {
  proto::UserList out;
  const std::string prefix = tenant_prefix(tenant);
  auto r = scan(store_, Cf::kUsers, prefix, [&](std::string_view key, const rocksdb::Slice& v) {
    proto::UserEntry* e = out.add_users();
    e->set_name(std::string(key.substr(prefix.size())));
    return parse_into(v, e->mutable_record());
  });
  if (!r) {
    return r.error();
  }
  return out;
}

Result<proto::KeyRecord> ViewReader::access_key(std::string_view access_key) const {
  return get_record<proto::KeyRecord>(store_, Cf::kKeys, std::string(access_key), "get key");
}

Result<proto::KeyList> ViewReader::access_keys(std::string_view tenant) const {
  proto::KeyList out;
  auto r = scan(store_, Cf::kKeys, "", [&](std::string_view key, const rocksdb::Slice& v) {
    proto::KeyRecord record;
    if (auto p = parse_into(v, &record); !p) {
      return p;
    }
    if (tenant.empty() || record.tenant() == tenant) {
      proto::KeyEntry* e = out.add_keys();
      e->set_access_key(std::string(key));
      *e->mutable_record() = std::move(record);
    }
    return Result<void>{};
  });
  if (!r) {
    return r.error();
  }
  return out;
}

Result<proto::GrantRecord> ViewReader::grant(std::string_view tenant, std::string_view user,
                                             std::string_view container) const {
  return get_record<proto::GrantRecord>(store_, Cf::kGrants, grant_key(tenant, user, container),
                                        "get grant");
}

Result<proto::GrantList> ViewReader::grants(std::string_view tenant) const {
  proto::GrantList out;
  const std::string prefix = tenant_prefix(tenant);
  auto r = scan(store_, Cf::kGrants, prefix, [&](std::string_view key, const rocksdb::Slice& v) {
    const std::string_view rest = key.substr(prefix.size());
    const size_t nul = rest.find('\0');
    proto::GrantEntry* e = out.add_grants();
    e->set_user(std::string(rest.substr(0, nul)));
    e->set_container(std::string(rest.substr(nul + 1)));
    return parse_into(v, e->mutable_record());
  });
  if (!r) {
    return r.error();
  }
  return out;
}

Result<bool> ViewReader::blob_referenced(std::string_view driver, std::string_view blob_id) const {
  rocksdb::PinnableSlice bytes;
  const rocksdb::Status s = store_.db()->Get(rocksdb::ReadOptions(), store_.cf(Cf::kBlobs),
                                             blob_key(driver, blob_id), &bytes);
  if (s.IsNotFound()) {
    return false;
  }
  if (!s.ok()) {
    return {boost::system::in_place_error, to_error_code(s, "get blob")};
  }
  return true;
}

Result<proto::ArtifactList> ViewReader::list(std::string_view tenant, std::string_view container,
                                             const proto::ListArtifacts& request) const {
  const std::string base = artifact_prefix(tenant, container);
  const std::string& prefix = request.prefix();
  const std::string& delimiter = request.delimiter();
  const std::string& start_after = request.start_after();
  const std::string scan_prefix = base + prefix;

  rocksdb::ReadOptions ro;
  const std::string upper = prefix_successor(scan_prefix);
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) {
    ro.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.cf(Cf::kArtifacts)));

  // Where to start: the prefix, or just past start_after when that lies beyond it.
  auto rollup = [&](std::string_view path) -> std::string_view {
    if (delimiter.empty()) {
      return {};
    }
    const size_t pos = path.find(delimiter, prefix.size());
    if (pos == std::string_view::npos) {
      return {};
    }
    return path.substr(0, pos + delimiter.size());
  };
  std::string skip_exact;  // a key to step over if the seek lands on it
  if (!start_after.empty() && start_after >= prefix) {
    const std::string_view cp =
        starts_with(start_after, prefix) ? rollup(start_after) : std::string_view();
    if (!cp.empty()) {
      it->Seek(prefix_successor(base + std::string(cp)));
    } else {
      skip_exact = base + start_after;
      it->Seek(skip_exact);
    }
  } else {
    it->Seek(scan_prefix);
  }

  proto::ArtifactList out;
  const uint32_t max = request.max_entries();
  uint32_t emitted = 0;
  const std::string* last = nullptr;  // in `out`; its elements do not move as it grows
  while (it->Valid()) {
    const std::string_view key = to_view(it->key());
    if (!starts_with(key, scan_prefix)) {
      break;
    }
    if (!skip_exact.empty() && key == skip_exact) {
      it->Next();
      continue;
    }
    const std::string_view path = key.substr(base.size());
    if (emitted == max) {
      out.set_truncated(true);
      break;
    }
    if (const std::string_view cp = rollup(path); !cp.empty()) {
      std::string* added = out.add_common_prefixes();
      added->assign(cp);
      last = added;
      ++emitted;
      it->Seek(prefix_successor(base + std::string(cp)));
      continue;
    }
    proto::ArtifactEntry* entry = out.add_artifacts();
    entry->set_path(std::string(path));
    if (!entry->mutable_record()->ParseFromArray(it->value().data(),
                                                 static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
    last = &entry->path();
    ++emitted;
    it->Next();
  }
  if (!it->status().ok()) {
    return to_error_code(it->status(), "list artifacts");
  }
  if (last != nullptr) {
    out.set_last(*last);
  }
  return out;
}

}  // namespace vaultaire::events

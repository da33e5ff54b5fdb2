#include "events/store.h"

#include <algorithm>

#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include "common/logging.h"

namespace vaultaire::events {
namespace {

constexpr std::array<std::string_view, kCfCount> kCfNames = {
    "log",   "containers", "artifacts", "blobs", "meta",  "uploads",
    "parts", "tenants",    "users",     "keys",  "grants", "tiering", "billing"};

rocksdb::ColumnFamilyOptions cf_options(Cf cf) {
  rocksdb::ColumnFamilyOptions o;
  o.compression = rocksdb::kLZ4Compression;
  rocksdb::BlockBasedTableOptions table;
  if (cf != Cf::kLog) {
    // Point lookups dominate the views, most of them for keys that do not exist yet (a new
    // artifact, a new blob): bloom filters in the files and in the memtable answer those
    // without searching.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    o.memtable_whole_key_filtering = true;
    o.memtable_prefix_bloom_size_ratio = 0.05;
  } else {
    // Log keys only grow: inserting next to the previous one is the fast path.
    o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
  }
  table.block_size = 16 * 1024;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 4;
  o.max_manifest_file_size = 64 << 20;
  return o;
}

}  // namespace

std::string_view cf_name(Cf cf) noexcept { return kCfNames[static_cast<int>(cf)]; }

boost::system::error_code to_error_code(const rocksdb::Status& s, std::string_view what) {
  logger("events")->error("rocksdb failed op={} status={}", what, s.ToString());
  if (s.IsCorruption()) {
    return Errc::kCorruption;
  }
  if (s.IsIOError() || s.IsNoSpace()) {
    return Errc::kIo;
  }
  if (s.IsShutdownInProgress()) {
    return Errc::kShuttingDown;
  }
  return Errc::kInternal;
}

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& dir, OpenMode mode,
                                           std::filesystem::path secondary_dir) {
  auto store = std::unique_ptr<Store>(new Store());
  store->mode_ = mode;
  const rocksdb::DBOptions options = db_options();

  // Open every column family present (a newer build may have added some) plus ours.
  std::vector<std::string> existing;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir.string(), &existing);
  if (!s.ok() && mode != OpenMode::kPrimary) {
    return to_error_code(s, "list column families");
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < kCfCount; ++i) {
    const auto name = std::string(kCfNames[i]);
    if (mode != OpenMode::kPrimary &&
        std::find(existing.begin(), existing.end(), name) == existing.end()) {
      return Errc::kCorruption;  // not a Vaultaire database, or an incomplete one
    }
    descriptors.emplace_back(name, cf_options(static_cast<Cf>(i)));
  }
  for (const auto& name : existing) {
    const bool known = name == rocksdb::kDefaultColumnFamilyName ||
                       std::find(kCfNames.begin(), kCfNames.end(), name) != kCfNames.end();
    if (!known) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  switch (mode) {
    case OpenMode::kPrimary: {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      s = rocksdb::DB::Open(options, dir.string(), descriptors, &handles, &raw);
      break;
    }
    case OpenMode::kSecondary: {
      rocksdb::DBOptions o = options;
      o.max_open_files = -1;  // required by secondary instances
      s = rocksdb::DB::OpenAsSecondary(o, dir.string(), secondary_dir.string(), descriptors,
                                       &handles, &raw);
      break;
    }
    case OpenMode::kReadOnly:
      s = rocksdb::DB::OpenForReadOnly(options, dir.string(), descriptors, &handles, &raw);
      break;
  }
  if (!s.ok()) {
    return to_error_code(s, "open " + dir.string());
  }
  store->db_.reset(raw);
  // handles[0] is default; ours follow in Cf order, then the unknown ones.
  store->handles_.assign(handles.begin() + 1, handles.begin() + 1 + kCfCount);
  store->extra_handles_.push_back(handles[0]);
  store->extra_handles_.insert(store->extra_handles_.end(), handles.begin() + 1 + kCfCount,
                               handles.end());
  return store;
}

Store::~Store() {
  if (!db_) {
    return;
  }
  for (auto* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  for (auto* h : extra_handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  // Close reports background errors; there is nobody left to tell but the log.
  const rocksdb::Status s = db_->Close();
  if (!s.ok() && !s.IsNotSupported()) {
    logger("events")->warn("rocksdb close failed status={}", s.ToString());
  }
}

Result<void> Store::catch_up() {
  if (mode_ != OpenMode::kSecondary) {
    return {};
  }
  const rocksdb::Status s = db_->TryCatchUpWithPrimary();
  if (!s.ok()) {
    return to_error_code(s, "catch up with primary");
  }
  return {};
}

}  // namespace vaultaire::events

#pragma once

// What every consumer of the log (tiering, billing, exporters) does the same way: read the
// events after its checkpoint, in batches, and write the state they change together with the
// new checkpoint in one WriteBatch of its own column family. A crash loses at most the batch
// being built, and the consumer reads those events again: exactly once in effect.
//
// ConsumerState is the consumer's view of its column family while a batch is applied: reads go
// through a cache (so an event sees what earlier events of the same batch wrote), writes are
// collected for the batch.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <google/protobuf/message.h>
#include <rocksdb/write_batch.h>

#include "common/errors.h"
#include "events/store.h"
#include "vaultaire/events.pb.h"

namespace vaultaire::events {

class ConsumerState {
 public:
  // `store` null: an in-memory state with nothing behind it (relearning, tests).
  ConsumerState(const Store* store, Cf cf) : store_(store), cf_(cf) {}

  // The record under `key`, or nullptr when there is none. The pointer stays valid until the
  // next put, erase or flush of that key.
  template <typename Message>
  Result<Message*> get(const std::string& key) {
    auto found = lookup(key, [] { return std::make_unique<Message>(); });
    if (!found) {
      return {boost::system::in_place_error, found.error()};
    }
    return static_cast<Message*>(*found);
  }
  // Marks the record under `key` (from get(), changed in place) to be written.
  void touch(const std::string& key);
  template <typename Message>
  void put(const std::string& key, Message value) {
    Entry& e = cache_[key];
    e.value = std::make_unique<Message>(std::move(value));
    e.dirty = true;
  }
  void erase(const std::string& key);

  // Every change since the last flush, into `batch`; the cache is emptied.
  void flush(rocksdb::WriteBatch& batch);

 private:
  struct Entry {
    std::unique_ptr<google::protobuf::Message> value;  // null: absent
    bool dirty = false;
  };
  Result<google::protobuf::Message*> lookup(
      const std::string& key,
      const std::function<std::unique_ptr<google::protobuf::Message>()>& make);

  const Store* store_;
  Cf cf_;
  std::unordered_map<std::string, Entry> cache_;
};

// The checkpoint a consumer stored in `cf` under `key` (0: none yet).
[[nodiscard]] Result<uint64_t> load_checkpoint(const Store& store, Cf cf, const std::string& key);

struct ConsumeOptions {
  size_t batch_events = 4096;  // events per WriteBatch
  bool sync = false;           // fsync each batch (a lost batch is read again anyway)
};

// Applies the events after `checkpoint` up to `until` with `apply`, in batches; after each
// batch, `before_write` (optional) may add to the batch, which is written with the new
// checkpoint. `checkpoint` advances as batches are written. A failing `apply` stops at the
// last written batch.
[[nodiscard]] Result<void> consume_log(
    Store& store, Cf cf, const std::string& checkpoint_key, uint64_t& checkpoint, uint64_t until,
    const std::function<Result<void>(const proto::Event&, ConsumerState&)>& apply,
    const ConsumeOptions& options = {},
    const std::function<void(rocksdb::WriteBatch&)>& before_write = {});

}  // namespace vaultaire::events

#include "events/consumer.h"

#include <rocksdb/db.h>

#include "events/event_log.h"

namespace vaultaire::events {

namespace {

std::string encode_checkpoint(uint64_t sequence) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(sequence & 0xff);
    sequence >>= 8;
  }
  return out;
}

std::optional<uint64_t> decode_checkpoint(std::string_view bytes) {
  if (bytes.size() != 8) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (const char c : bytes) {
    v = (v << 8) | static_cast<unsigned char>(c);
  }
  return v;
}

}  // namespace

Result<google::protobuf::Message*> ConsumerState::lookup(
    const std::string& key,
    const std::function<std::unique_ptr<google::protobuf::Message>()>& make) {
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    Entry e;
    if (store_ != nullptr) {
      std::string bytes;
      const rocksdb::Status s =
          store_->db()->Get(rocksdb::ReadOptions(), store_->cf(cf_), key, &bytes);
      if (!s.ok() && !s.IsNotFound()) {
        return to_error_code(s, "consumer state");
      }
      if (s.ok()) {
        e.value = make();
        if (!e.value->ParseFromString(bytes)) {
          return Errc::kCorruption;
        }
      }
    }
    it = cache_.emplace(key, std::move(e)).first;
  }
  return it->second.value.get();
}

void ConsumerState::touch(const std::string& key) {
  const auto it = cache_.find(key);
  if (it != cache_.end()) {
    it->second.dirty = true;
  }
}

void ConsumerState::erase(const std::string& key) {
  Entry& e = cache_[key];
  e.value.reset();
  e.dirty = true;
}

void ConsumerState::flush(rocksdb::WriteBatch& batch) {
  if (store_ != nullptr) {
    for (auto& [key, entry] : cache_) {
      if (!entry.dirty) {
        continue;
      }
      if (entry.value) {
        batch.Put(store_->cf(cf_), key, entry.value->SerializeAsString());
      } else {
        batch.Delete(store_->cf(cf_), key);
      }
    }
  }
  cache_.clear();
}

Result<uint64_t> load_checkpoint(const Store& store, Cf cf, const std::string& key) {
  std::string bytes;
  const rocksdb::Status s = store.db()->Get(rocksdb::ReadOptions(), store.cf(cf), key, &bytes);
  if (s.IsNotFound()) {
    return uint64_t{0};
  }
  if (!s.ok()) {
    return to_error_code(s, "consumer checkpoint");
  }
  const auto sequence = decode_checkpoint(bytes);
  if (!sequence) {
    return Errc::kCorruption;
  }
  return *sequence;
}

Result<void> consume_log(
    Store& store, Cf cf, const std::string& checkpoint_key, uint64_t& checkpoint, uint64_t until,
    const std::function<Result<void>(const proto::Event&, ConsumerState&)>& apply,
    const ConsumeOptions& options, const std::function<void(rocksdb::WriteBatch&)>& before_write) {
  while (checkpoint < until) {
    ConsumerState state(&store, cf);
    uint64_t reached = checkpoint;
    Result<void> failed;
    auto walked = for_each_event(store, checkpoint + 1, [&](const proto::Event& e) {
      if (e.sequence() > until || reached - checkpoint >= options.batch_events) {
        return false;
      }
      if (auto a = apply(e, state); !a) {
        failed = a;
        return false;
      }
      reached = e.sequence();
      return true;
    });
    if (!walked) {
      return walked;
    }
    if (!failed) {
      return failed;
    }
    if (reached == checkpoint) {
      return {};  // nothing readable yet past the checkpoint
    }
    rocksdb::WriteBatch batch;
    state.flush(batch);
    if (before_write) {
      before_write(batch);
    }
    batch.Put(store.cf(cf), checkpoint_key, encode_checkpoint(reached));
    rocksdb::WriteOptions wo;
    wo.sync = options.sync;
    if (const rocksdb::Status s = store.db()->Write(wo, &batch); !s.ok()) {
      return to_error_code(s, "consumer write");
    }
    checkpoint = reached;
  }
  return {};
}

}  // namespace vaultaire::events

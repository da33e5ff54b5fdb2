#include "actors/spoke.h"

#include "common/assert.h"
#include "common/logging.h"

namespace vaultaire::actors {

Spoke::Spoke(asio::any_io_executor executor, SpokeOptions options,
             std::vector<std::unique_ptr<drivers::Driver>> drivers)
    : Actor(std::move(executor), "spoke/" + options.id), options_(std::move(options)) {
  for (auto& d : drivers) {
    const std::string name = d->name();
    drivers_.emplace(name, std::move(d));
  }
  VAULTAIRE_ASSERT(drivers_.contains(options_.default_driver),
                   "the server wires the default driver into the spoke");
}

drivers::Driver& Spoke::default_driver() const {
  return *drivers_.find(options_.default_driver)->second;
}

drivers::Driver* Spoke::driver(std::string_view name) const {
  const auto it = drivers_.find(name);
  return it == drivers_.end() ? nullptr : it->second.get();
}

void Spoke::release(std::vector<proto::BlobRef> blobs) {
  if (blobs.empty()) {
    return;
  }
  tell_on_strand(handle_release(std::move(blobs)));
}

asio::awaitable<void> Spoke::handle_release(std::vector<proto::BlobRef> blobs) {
  for (const proto::BlobRef& blob : blobs) {
    drivers::Driver* d = driver(blob.driver());
    if (d == nullptr) {
      logger("actors")->warn("release for unknown driver driver={} blob={}", blob.driver(),
                             blob.blob_id());
      continue;
    }
    if (auto r = co_await d->remove(blob.blob_id()); !r) {
      logger("actors")->warn("blob release failed driver={} blob={} error={}", blob.driver(),
                             blob.blob_id(), r.error().message());
    }
  }
}

}  // namespace vaultaire::actors

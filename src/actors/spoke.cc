#include "actors/spoke.h"

#include <algorithm>

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

namespace {

// Reads consecutive pieces as one stream.
class PiecesReader final : public drivers::BlobReader {
 public:
  // `first` is the offset into the artifact where reading starts; `length` bytes are read.
  PiecesReader(const Spoke& spoke, std::vector<BlobPiece> pieces, uint64_t first, uint64_t length)
      : spoke_(spoke),
        pieces_(std::move(pieces)),
        offset_(first),
        remaining_(length),
        length_(length) {}

  uint64_t size() const override { return length_; }

  asio::awaitable<Result<std::string>> read(size_t max) override {
    while (remaining_ > 0) {
      if (!current_) {
        // Find the piece holding offset_ and open the part of it we need.
        uint64_t start = 0;
        size_t i = 0;
        while (i < pieces_.size() && start + pieces_[i].size <= offset_) {
          start += pieces_[i].size;
          ++i;
        }
        if (i == pieces_.size()) {
          co_return Errc::kCorruption;  // the pieces are shorter than the artifact's size
        }
        const BlobPiece& piece = pieces_[i];
        drivers::Driver* driver = spoke_.driver(piece.driver);
        if (driver == nullptr) {
          co_return Errc::kDriverUnavailable;
        }
        const uint64_t within = offset_ - start;
        const uint64_t take = std::min(piece.size - within, remaining_);
        auto opened =
            co_await driver->open(piece.blob_id, drivers::ByteRange{within, within + take - 1});
        if (!opened) {
          co_return opened.error();
        }
        current_ = std::move(*opened);
      }
      auto chunk =
          co_await current_->read(static_cast<size_t>(std::min<uint64_t>(max, remaining_)));
      if (!chunk) {
        co_return chunk.error();
      }
      if (chunk->empty()) {
        current_.reset();  // this piece is done; the next read opens the following one
        continue;
      }
      offset_ += chunk->size();
      remaining_ -= chunk->size();
      co_return std::move(*chunk);
    }
    co_return std::string();
  }

 private:
  const Spoke& spoke_;
  std::vector<BlobPiece> pieces_;
  std::unique_ptr<drivers::BlobReader> current_;
  uint64_t offset_;
  uint64_t remaining_;
  uint64_t length_;
};

}  // namespace

asio::awaitable<Result<std::unique_ptr<drivers::BlobReader>>> Spoke::open(
    std::vector<BlobPiece> pieces, std::optional<drivers::ByteRange> range) {
  if (pieces.size() == 1) {
    drivers::Driver* d = driver(pieces[0].driver);
    if (d == nullptr) {
      co_return Errc::kDriverUnavailable;
    }
    co_return co_await d->open(pieces[0].blob_id, range);
  }
  uint64_t total = 0;
  for (const auto& p : pieces) {
    total += p.size;
  }
  uint64_t first = 0;
  uint64_t length = total;
  if (range) {
    if (range->first > range->last || range->last >= total) {
      co_return Errc::kInvalidRange;
    }
    first = range->first;
    length = range->length();
  }
  co_return std::unique_ptr<drivers::BlobReader>(
      std::make_unique<PiecesReader>(*this, std::move(pieces), first, length));
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

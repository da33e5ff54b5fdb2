#include "actors/spoke.h"

#include <algorithm>

#include <boost/asio/steady_timer.hpp>

#include "common/assert.h"
#include "common/logging.h"

namespace vaultaire::actors {

Spoke::Spoke(asio::any_io_executor executor, SpokeOptions options,
             std::vector<std::unique_ptr<drivers::Driver>> drivers)
    : Actor(std::move(executor), "spoke/" + options.id), options_(std::move(options)) {
  VAULTAIRE_ASSERT(!drivers.empty(), "the server wires at least one driver into the spoke");
  if (options_.tiers.empty()) {
    options_.tiers.push_back({.name = "hot",
                              .driver = drivers.front()->name(),
                              .storage_classes = {"STANDARD"},
                              .instant = true});
  }
  for (auto& d : drivers) {
    const std::string name = d->name();
    drivers_.emplace(name, std::move(d));
  }
  for (const TierInfo& t : options_.tiers) {
    VAULTAIRE_ASSERT(drivers_.contains(t.driver), "the server wires every tier's driver");
  }
}

const TierInfo* Spoke::tier(std::string_view name) const {
  for (const TierInfo& t : options_.tiers) {
    if (t.name == name) {
      return &t;
    }
  }
  return nullptr;
}

const TierInfo* Spoke::tier_of_class(std::string_view storage_class) const {
  for (const TierInfo& t : options_.tiers) {
    if (std::find(t.storage_classes.begin(), t.storage_classes.end(), storage_class) !=
        t.storage_classes.end()) {
      return &t;
    }
  }
  return nullptr;
}

std::string_view Spoke::storage_class(std::string_view tier_name) const {
  const TierInfo* t = tier(tier_name);
  return t != nullptr && !t->storage_classes.empty() ? std::string_view(t->storage_classes.front())
                                                     : std::string_view("STANDARD");
}

bool Spoke::needs_restore(std::string_view tier_name) const {
  const TierInfo* t = tier(tier_name);
  return t != nullptr && !t->instant;
}

drivers::Driver& Spoke::default_driver() const { return driver_of(options_.tiers.front()); }

drivers::Driver& Spoke::driver_of(const TierInfo& tier) const {
  return *drivers_.find(tier.driver)->second;
}

drivers::Driver* Spoke::driver(std::string_view name) const {
  const auto it = drivers_.find(name);
  return it == drivers_.end() ? nullptr : it->second.get();
}

namespace {

std::string held_key(std::string_view driver, std::string_view blob_id) {
  std::string k;
  k.reserve(driver.size() + 1 + blob_id.size());
  k.append(driver);
  k.push_back('\0');
  k.append(blob_id);
  return k;
}

// A reader that holds its artifact's blobs against release while it lives.
class HeldReader final : public drivers::BlobReader {
 public:
  HeldReader(Spoke& spoke, std::vector<BlobPiece> pieces, std::unique_ptr<drivers::BlobReader> r)
      : spoke_(spoke), pieces_(std::move(pieces)), reader_(std::move(r)) {}
  ~HeldReader() override { spoke_.unhold(pieces_); }
  uint64_t size() const override { return reader_->size(); }
  asio::awaitable<Result<std::string>> read(size_t max) override { return reader_->read(max); }

 private:
  Spoke& spoke_;
  std::vector<BlobPiece> pieces_;
  std::unique_ptr<drivers::BlobReader> reader_;
};

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

void Spoke::hold(const std::vector<BlobPiece>& pieces) {
  std::lock_guard lock(held_mu_);
  for (const BlobPiece& p : pieces) {
    ++held_[held_key(p.driver, p.blob_id)];
  }
}

void Spoke::unhold(const std::vector<BlobPiece>& pieces) {
  std::lock_guard lock(held_mu_);
  for (const BlobPiece& p : pieces) {
    const auto it = held_.find(held_key(p.driver, p.blob_id));
    if (it != held_.end() && --it->second == 0) {
      held_.erase(it);
    }
  }
}

bool Spoke::held(const proto::BlobRef& blob) const {
  std::lock_guard lock(held_mu_);
  return held_.contains(held_key(blob.driver(), blob.blob_id()));
}

asio::awaitable<Result<std::unique_ptr<drivers::BlobReader>>> Spoke::open(
    std::vector<BlobPiece> pieces, std::optional<drivers::ByteRange> range) {
  hold(pieces);
  auto opened = co_await open_pieces(pieces, range);
  if (!opened) {
    unhold(pieces);
    co_return opened.error();
  }
  co_return std::unique_ptr<drivers::BlobReader>(
      std::make_unique<HeldReader>(*this, std::move(pieces), std::move(*opened)));
}

asio::awaitable<Result<std::unique_ptr<drivers::BlobReader>>> Spoke::open_pieces(
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
  // Reads that looked the artifact up before the release may not have opened it yet: wait,
  // then wait for the readers that did.
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto delay = options_.release_delay;
  while (!blobs.empty()) {
    if (delay.count() > 0) {
      timer.expires_after(delay);
      (void)co_await timer.async_wait(kNoThrow);
    }
    std::vector<proto::BlobRef> still_read;
    for (proto::BlobRef& blob : blobs) {
      if (held(blob)) {
        still_read.push_back(std::move(blob));
      } else {
        co_await remove_blob(blob);
      }
    }
    blobs = std::move(still_read);
    delay = std::max(options_.release_delay, std::chrono::milliseconds(200));
  }
}

asio::awaitable<void> Spoke::remove_blob(const proto::BlobRef& blob) {
  drivers::Driver* d = driver(blob.driver());
  if (d == nullptr) {
    logger("actors")->warn("release for unknown driver driver={} blob={}", blob.driver(),
                           blob.blob_id());
    co_return;
  }
  if (auto r = co_await d->remove(blob.blob_id()); !r) {
    logger("actors")->warn("blob release failed driver={} blob={} error={}", blob.driver(),
                           blob.blob_id(), r.error().message());
  }
}

}  // namespace vaultaire::actors

#include "drivers/local_driver.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <unordered_map>

#include <boost/asio/post.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/logging.h"

namespace vaultaire::drivers {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBufferLimit = 1 << 20;  // buffered in memory before the file is opened
constexpr size_t kPrefetch = 256 * 1024;  // read together with open()

boost::system::error_code errno_error(std::string_view what, const fs::path& path) {
  const int e = errno;
  logger("drivers")->error("local io failed op={} path={} errno={} error={}", what, path.string(),
                           e, std::strerror(e));
  return Errc::kIo;
}

Result<void> write_all(int fd, const char* data, size_t size, const fs::path& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("write", path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Result<void> fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error("open dir", dir);
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) {
    return errno_error("fsync dir", dir);
  }
  return {};
}

std::string shard_of(std::string_view id) { return std::string(id.substr(id.size() - 3)); }

}  // namespace

namespace internal {

// An open, immutable blob file. Closed when the last reader and the cache let go of it.
struct OpenBlob {
  OpenBlob(int f, uint64_t s) : fd(f), size(s) {}
  ~OpenBlob() { ::close(fd); }
  OpenBlob(const OpenBlob&) = delete;
  OpenBlob& operator=(const OpenBlob&) = delete;
  const int fd;
  const uint64_t size;
};

// Least recently used open blobs. Thread-safe.
class OpenBlobCache {
 public:
  explicit OpenBlobCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<OpenBlob> find(const std::string& id) {
    std::lock_guard lock(mu_);
    const auto it = map_.find(id);
    if (it == map_.end()) {
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second.position);
    return it->second.blob;
  }

  void insert(const std::string& id, std::shared_ptr<OpenBlob> blob) {
    if (capacity_ == 0) {
      return;
    }
    std::lock_guard lock(mu_);
    if (map_.contains(id)) {
      return;
    }
    lru_.push_front(id);
    map_.emplace(id, Entry{std::move(blob), lru_.begin()});
    if (map_.size() > capacity_) {
      map_.erase(lru_.back());
      lru_.pop_back();
    }
  }

  void erase(const std::string& id) {
    std::lock_guard lock(mu_);
    const auto it = map_.find(id);
    if (it != map_.end()) {
      lru_.erase(it->second.position);
      map_.erase(it);
    }
  }

 private:
  struct Entry {
    std::shared_ptr<OpenBlob> blob;
    std::list<std::string>::iterator position;
  };
  const size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
  std::list<std::string> lru_;  // most recent first
};

}  // namespace internal

namespace {

using internal::OpenBlob;

// Reads up to `want` bytes at `offset` if the page cache holds them, without ever waiting for
// the disk. Returns the bytes read (maybe fewer than asked, maybe none).
std::string read_cached(int fd, uint64_t offset, size_t want) {
  std::string out;
  out.resize(want);
  size_t done = 0;
  while (done < want) {
    iovec iov{out.data() + done, want - done};
    const ssize_t n = ::preadv2(fd, &iov, 1, static_cast<off_t>(offset + done), RWF_NOWAIT);
    if (n <= 0) {
      break;  // EAGAIN: not cached; EOPNOTSUPP: no such fast path here; 0: end of file
    }
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

class LocalWriter final : public BlobWriter {
 public:
  LocalWriter(const LocalDriver& driver, std::string id)
      : driver_(driver),
        id_(std::move(id)),
        temp_(driver.temp_path(id_)),
        final_(driver.blob_path(id_)) {}

  ~LocalWriter() override {
    if (fd_ >= 0 && !committed_) {
      // Abandoned mid-write: clean up off this thread.
      asio::post(blocking_pool(), [fd = fd_, temp = temp_] {
        ::close(fd);
        ::unlink(temp.c_str());
      });
    }
  }

  const std::string& id() const override { return id_; }

  asio::awaitable<Result<void>> write(std::string data) override {
    if (fd_ < 0 && pending_.size() + data.size() <= kBufferLimit) {
      if (pending_.empty()) {
        pending_ = std::move(data);
      } else {
        pending_.append(data);
      }
      co_return Result<void>{};
    }
    auto task = [this, data = std::move(data)]() -> Result<void> {
      if (auto r = flush_pending(); !r) {
        return r;
      }
      const uint64_t offset = size_;
      size_ += data.size();
      if (auto r = write_all(fd_, data.data(), data.size(), temp_); !r) {
        return r;
      }
      if (driver_.options().sync) {
        // Start writing this chunk back now, so the fdatasync at commit has little left to do
        // and a large blob's flush overlaps with receiving the rest of it.
        ::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(data.size()),
                          SYNC_FILE_RANGE_WRITE);
      }
      return Result<void>{};
    };
    co_return co_await run_blocking(std::move(task));
  }

  asio::awaitable<Result<BlobInfo>> commit() override {
    auto task = [this]() -> Result<BlobInfo> {
      if (auto r = flush_pending(); !r) {
        return r.error();
      }
      if (driver_.options().sync && ::fdatasync(fd_) != 0) {
        return errno_error("fsync", temp_);
      }
      if (::close(fd_) != 0) {
        fd_ = -1;
        return errno_error("close", temp_);
      }
      fd_ = -1;
      if (::rename(temp_.c_str(), final_.c_str()) != 0) {
        // The blob's shard folder is made by the first blob that lands in it.
        if (errno != ENOENT) {
          return errno_error("rename", final_);
        }
        const fs::path shard = final_.parent_path();
        if (::mkdir(shard.c_str(), 0755) != 0 && errno != EEXIST) {
          return errno_error("mkdir", shard);
        }
        if (driver_.options().sync) {
          if (auto r = fsync_dir(shard.parent_path()); !r) {
            return r.error();
          }
        }
        if (::rename(temp_.c_str(), final_.c_str()) != 0) {
          return errno_error("rename", final_);
        }
      }
      committed_ = true;
      if (driver_.options().sync) {
        if (auto r = fsync_dir(final_.parent_path()); !r) {
          return r.error();
        }
      }
      return BlobInfo{id_, size_, driver_.clock().now_unix_nanos() / kNanosPerSecond};
    };
    co_return co_await run_blocking(std::move(task));
  }

  asio::awaitable<void> abort() override {
    if (fd_ < 0) {
      pending_.clear();
      co_return;
    }
    auto task = [this]() -> Result<void> {
      ::close(fd_);
      fd_ = -1;
      ::unlink(temp_.c_str());
      return {};
    };
    co_await run_blocking(std::move(task));
  }

 private:
  // Opens the temporary file if needed and writes what was buffered. Blocking.
  Result<void> flush_pending() {
    if (fd_ < 0) {
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd_ < 0) {
        return errno_error("create", temp_);
      }
    }
    if (pending_.empty()) {
      return {};
    }
    size_ += pending_.size();
    auto r = write_all(fd_, pending_.data(), pending_.size(), temp_);
    pending_.clear();
    pending_.shrink_to_fit();
    return r;
  }

  const LocalDriver& driver_;
  const std::string id_;
  const fs::path temp_;
  const fs::path final_;
  std::string pending_;
  uint64_t size_ = 0;
  int fd_ = -1;
  bool committed_ = false;
};

// Reads exactly `want` bytes at `offset`, waiting for the disk if needed (blocking pool only).
// A short file is corruption: the view says it is larger.
Result<std::string> pread_exact(int fd, uint64_t offset, size_t want, const fs::path& path) {
  std::string out;
  out.resize(want);
  size_t done = 0;
  while (done < want) {
    const ssize_t n =
        ::pread(fd, out.data() + done, want - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("pread", path);
    }
    if (n == 0) {
      logger("drivers")->error("blob shorter than expected path={} offset={}", path.string(),
                               offset + done);
      return Errc::kCorruption;
    }
    done += static_cast<size_t>(n);
  }
  return out;
}

class LocalReader final : public BlobReader {
 public:
  LocalReader(std::shared_ptr<OpenBlob> blob, fs::path path, uint64_t offset, uint64_t length,
              std::string prefetched)
      : blob_(std::move(blob)),
        path_(std::move(path)),
        offset_(offset + prefetched.size()),
        remaining_(length - prefetched.size()),
        length_(length),
        prefetched_(std::move(prefetched)) {}

  uint64_t size() const override { return length_; }

  asio::awaitable<Result<std::string>> read(size_t max) override {
    if (!prefetched_.empty()) {
      if (prefetched_.size() <= max) {
        co_return std::move(prefetched_);
      }
      std::string head = prefetched_.substr(0, max);
      prefetched_.erase(0, max);
      co_return head;
    }
    if (remaining_ == 0) {
      co_return std::string();
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(max, remaining_));
    std::string chunk = read_cached(blob_->fd, offset_, want);
    if (chunk.empty()) {
      auto task = [blob = blob_, offset = offset_, want, path = path_]() {
        return pread_exact(blob->fd, offset, want, path);
      };
      auto waited = co_await run_blocking(std::move(task));
      if (!waited) {
        co_return waited.error();
      }
      chunk = std::move(*waited);
    }
    offset_ += chunk.size();
    remaining_ -= chunk.size();
    co_return chunk;
  }

 private:
  std::shared_ptr<OpenBlob> blob_;
  fs::path path_;
  uint64_t offset_;
  uint64_t remaining_;
  uint64_t length_;
  std::string prefetched_;
};

// Checks `range` against the blob; returns the first offset and the length to read.
Result<std::pair<uint64_t, uint64_t>> resolve_range(const std::optional<ByteRange>& range,
                                                    uint64_t size) {
  if (!range) {
    return std::pair<uint64_t, uint64_t>{0, size};
  }
  if (range->first > range->last || range->last >= size) {
    return Errc::kInvalidRange;
  }
  return std::pair<uint64_t, uint64_t>{range->first, range->length()};
}

}  // namespace

LocalDriver::LocalDriver(LocalDriverOptions options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      open_blobs_(std::make_unique<internal::OpenBlobCache>(options_.open_blob_cache)) {}

LocalDriver::~LocalDriver() = default;

Result<std::unique_ptr<LocalDriver>> LocalDriver::create(LocalDriverOptions options,
                                                         const Clock& clock) {
  // The 4096 shard folders under blobs/ are made as blobs arrive (commit()), not here: a fresh
  // driver starts at once.
  std::error_code ec;
  for (const char* folder : {"tmp", "blobs"}) {
    fs::create_directories(options.root / folder, ec);
    if (ec) {
      logger("drivers")->error("cannot create driver folder path={} error={}",
                               (options.root / folder).string(), ec.message());
      return Errc::kIo;
    }
  }
  return std::unique_ptr<LocalDriver>(new LocalDriver(std::move(options), clock));
}

fs::path LocalDriver::blob_path(std::string_view id) const {
  return options_.root / "blobs" / shard_of(id) / std::string(id);
}

fs::path LocalDriver::temp_path(std::string_view id) const {
  return options_.root / "tmp" / (std::string(id) + ".tmp");
}

asio::awaitable<Result<std::unique_ptr<BlobWriter>>> LocalDriver::create() {
  co_return std::make_unique<LocalWriter>(*this,
                                          new_blob_id(clock_.now_unix_nanos() / kNanosPerSecond));
}

asio::awaitable<Result<std::unique_ptr<BlobReader>>> LocalDriver::open(
    std::string id, std::optional<ByteRange> range) {
  if (!is_blob_id(id)) {
    co_return Errc::kNoSuchBlob;
  }
  fs::path path = blob_path(id);
  // Fast path: a blob opened before whose first bytes are in the page cache.
  if (std::shared_ptr<OpenBlob> blob = open_blobs_->find(id)) {
    auto span = resolve_range(range, blob->size);
    if (!span) {
      co_return span.error();
    }
    const auto [first, length] = *span;
    const size_t first_chunk = static_cast<size_t>(std::min<uint64_t>(kPrefetch, length));
    std::string prefetched = read_cached(blob->fd, first, first_chunk);
    if (prefetched.size() == first_chunk) {
      co_return std::unique_ptr<BlobReader>(std::make_unique<LocalReader>(
          std::move(blob), std::move(path), first, length, std::move(prefetched)));
    }
  }
  auto task = [path, range, cache = open_blobs_.get(),
               id]() mutable -> Result<std::unique_ptr<BlobReader>> {
    std::shared_ptr<OpenBlob> blob = cache->find(id);
    if (!blob) {
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        if (errno == ENOENT) {
          return Errc::kNoSuchBlob;
        }
        return errno_error("open", path);
      }
      struct stat st {};
      if (::fstat(fd, &st) != 0) {
        auto ec = errno_error("fstat", path);
        ::close(fd);
        return ec;
      }
      blob = std::make_shared<OpenBlob>(fd, static_cast<uint64_t>(st.st_size));
      cache->insert(id, blob);
    }
    auto span = resolve_range(range, blob->size);
    if (!span) {
      return span.error();
    }
    const auto [first, length] = *span;
    const size_t first_chunk = static_cast<size_t>(std::min<uint64_t>(kPrefetch, length));
    auto prefetched = pread_exact(blob->fd, first, first_chunk, path);
    if (!prefetched) {
      return prefetched.error();
    }
    return std::unique_ptr<BlobReader>(std::make_unique<LocalReader>(
        std::move(blob), std::move(path), first, length, std::move(*prefetched)));
  };
  co_return co_await run_blocking(std::move(task));
}

asio::awaitable<Result<void>> LocalDriver::remove(std::string id) {
  if (!is_blob_id(id)) {
    co_return Result<void>{};
  }
  open_blobs_->erase(id);
  auto task = [path = blob_path(id)]() -> Result<void> {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return errno_error("unlink", path);
    }
    return {};
  };
  co_return co_await run_blocking(std::move(task));
}

asio::awaitable<Result<BlobInfo>> LocalDriver::stat(std::string id) {
  if (!is_blob_id(id)) {
    co_return Errc::kNoSuchBlob;
  }
  auto task = [path = blob_path(id), id]() -> Result<BlobInfo> {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        return Errc::kNoSuchBlob;
      }
      return errno_error("stat", path);
    }
    return BlobInfo{id, static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec};
  };
  co_return co_await run_blocking(std::move(task));
}

asio::awaitable<Result<void>> LocalDriver::health() {
  auto task = [root = options_.root]() -> Result<void> {
    if (::access((root / "tmp").c_str(), W_OK) != 0 ||
        ::access((root / "blobs").c_str(), R_OK) != 0) {
      return errno_error("access", root);
    }
    return {};
  };
  co_return co_await run_blocking(std::move(task));
}

asio::awaitable<Result<SweepReport>> LocalDriver::sweep(
    std::function<bool(std::string_view id)> referenced, int64_t older_than_unix_seconds) {
  auto task = [this, referenced = std::move(referenced),
               older_than_unix_seconds]() -> Result<SweepReport> {
    SweepReport report;
    std::error_code ec;
    auto older = [&](const fs::path& p) {
      struct stat st {};
      return ::stat(p.c_str(), &st) == 0 && st.st_mtim.tv_sec < older_than_unix_seconds;
    };
    for (auto it = fs::directory_iterator(options_.root / "tmp", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (older(it->path()) && ::unlink(it->path().c_str()) == 0) {
        ++report.temp_removed;
      }
    }
    for (auto shard = fs::directory_iterator(options_.root / "blobs", ec);
         !ec && shard != fs::directory_iterator(); shard.increment(ec)) {
      std::error_code inner;
      for (auto it = fs::directory_iterator(shard->path(), inner);
           !inner && it != fs::directory_iterator(); it.increment(inner)) {
        const std::string id = it->path().filename().string();
        if (!is_blob_id(id)) {
          continue;  // not ours: leave it alone
        }
        ++report.examined;
        struct stat st {};
        if (::stat(it->path().c_str(), &st) != 0 || st.st_mtim.tv_sec >= older_than_unix_seconds ||
            referenced(id)) {
          continue;
        }
        if (::unlink(it->path().c_str()) == 0) {
          ++report.removed;
          report.removed_bytes += static_cast<uint64_t>(st.st_size);
        }
      }
      if (inner) {
        ec = inner;
      }
    }
    if (ec) {
      logger("drivers")->error("sweep failed root={} error={}", options_.root.string(),
                               ec.message());
      return Errc::kIo;
    }
    return report;
  };
  co_return co_await run_blocking(std::move(task));
}

}  // namespace vaultaire::drivers

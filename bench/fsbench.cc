// fsbench: the raw-filesystem reference for the S3 benchmarks. The same operations a durable
// object store must do, with nothing else: PUT = write a temp file, fdatasync, rename into a
// fan-out folder, fsync the folder (optionally plus a synced RocksDB put, the commit); GET =
// open, read, close. N threads, for a duration; ops/s, MiB/s and latency percentiles.
//
//   fsbench --dir DIR --op put|get --size 4KiB --concurrency 64 --duration 10 [--rocksdb]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

void die(const std::string& what) {
  std::perror(what.c_str());
  std::exit(1);
}

void put_file(const fs::path& dir, const std::string& name, const std::string& body) {
  const fs::path tmp = dir / "tmp" / (name + ".tmp");
  const fs::path shard = dir / "blobs" / name.substr(name.size() - 2);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    die("open " + tmp.string());
  }
  size_t off = 0;
  while (off < body.size()) {
    const ssize_t n = ::write(fd, body.data() + off, body.size() - off);
    if (n < 0) {
      die("write");
    }
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    die("fdatasync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), (shard / name).c_str()) != 0) {
    die("rename");
  }
  const int dfd = ::open(shard.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) {
    die("fsync dir");
  }
  ::close(dfd);
}

uint64_t get_file(const fs::path& dir, const std::string& name, std::string& buf) {
  const fs::path p = dir / "blobs" / name.substr(name.size() - 2) / name;
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    die("open " + p.string());
  }
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      die("read");
    }
    if (n == 0) {
      break;
    }
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return total;
}

std::string name_of(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "obj%016llx", static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir_text;
  std::string op = "put";
  std::string size_text = "4KiB";
  int concurrency = 16;
  double duration = 5;
  uint64_t keys = 1000;
  bool with_rocksdb = false;
  bool json = false;
  CLI::App app{"fsbench: raw filesystem reference for the S3 benchmarks"};
  app.add_option("--dir", dir_text, "Scratch folder (emptied)")->required();
  app.add_option("--op", op)->check(CLI::IsMember({"put", "get"}));
  app.add_option("--size", size_text);
  app.add_option("--concurrency,-c", concurrency);
  app.add_option("--duration,-d", duration);
  app.add_option("--keys", keys, "Files prepared for get");
  app.add_flag("--rocksdb", with_rocksdb, "Also commit each PUT with a synced RocksDB put");
  app.add_flag("--json", json);
  CLI11_PARSE(app, argc, argv);

  uint64_t size = std::stoull(size_text);
  if (size_text.find("KiB") != std::string::npos) {
    size <<= 10;
  }
  if (size_text.find("MiB") != std::string::npos) {
    size <<= 20;
  }
  const fs::path dir = dir_text;
  fs::remove_all(dir);
  fs::create_directories(dir / "tmp");
  for (int i = 0; i < 256; ++i) {
    char shard[4];
    std::snprintf(shard, sizeof shard, "%02x", i);
    fs::create_directories(dir / "blobs" / shard);
  }
  std::string body(size, '\0');
  std::mt19937_64 gen(1);
  for (auto& c : body) {
    c = static_cast<char>(gen());
  }

  std::unique_ptr<rocksdb::DB> db;
  if (with_rocksdb) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, (dir / "db").string(), &raw).ok()) {
      die("rocksdb open");
    }
    db.reset(raw);
  }
  if (op == "get") {
    for (uint64_t k = 0; k < keys; ++k) {
      put_file(dir, name_of(k), body);
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> counter{0};
  std::vector<std::vector<uint32_t>> lat(static_cast<size_t>(concurrency));
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      std::string buf(1 << 20, '\0');
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 7);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = SteadyClock::now();
        if (op == "put") {
          const std::string name = name_of(counter.fetch_add(1) + (1ull << 40));
          put_file(dir, name, body);
          if (db && !db->Put(wo, name, "meta-of-" + name).ok()) {
            die("rocksdb put");
          }
        } else {
          get_file(dir, name_of(rng() % keys), buf);
        }
        lat[static_cast<size_t>(t)].push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0)
                .count()));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(duration));
  stop.store(true);
  for (auto& th : threads) {
    th.join();
  }
  const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::vector<uint32_t> all;
  for (auto& v : lat) {
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty()
               ? 0.0
               : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))] / 1000.0;
  };
  db.reset();
  fs::remove_all(dir);
  nlohmann::json out{{"op", op},
                     {"size", size},
                     {"concurrency", concurrency},
                     {"rocksdb", with_rocksdb},
                     {"ops", all.size()},
                     {"seconds", secs},
                     {"ops_per_second", static_cast<double>(all.size()) / secs},
                     {"mib_per_second", static_cast<double>(all.size() * size) / secs / (1 << 20)},
                     {"p50_ms", pct(0.5)},
                     {"p99_ms", pct(0.99)}};
  if (json) {
    std::cout << out.dump(2) << '\n';
  } else {
    std::printf(
        "fsbench %s size %s concurrency %d%s: %.1f ops/s %.2f MiB/s p50 %.3f ms p99 %.3f ms\n",
        op.c_str(), size_text.c_str(), concurrency, with_rocksdb ? " +rocksdb" : "",
        out["ops_per_second"].get<double>(), out["mib_per_second"].get<double>(), pct(0.5),
        pct(0.99));
  }
  return 0;
}

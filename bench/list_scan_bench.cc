// The reference for the LIST benchmark (bench/run_list_bench.sh): the same 1000-key page read
// straight from a stopped server's RocksDB, in this process, with no HTTP, no authentication, no
// XML and no ContainerListed event. Two rows per concurrency:
//   raw    an iterator prefix scan of the container's artifact keys (key and value copied), the
//          least any listing of these records can cost;
//   views  ViewReader::list(), what a LIST asks of the views (records decoded into protobufs).
// Every thread reads the first page of the container, as `s3bench --op list` does.
//
//   list_scan_bench --db DATA_DIR/db --container NAME [--prefix P] [--page 1000] [--seconds 5]
//                   [--threads 1,16]
//
// Prints JSON: {"raw": {"1": {pages_per_second, p50_ms, p90_ms, p99_ms, keys}, ...}, "views": ...}

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <rocksdb/db.h>

#include "common/logging.h"
#include "events/keys.h"
#include "events/store.h"
#include "events/view_reader.h"

namespace {

namespace events = vaultaire::events;
using SteadyClock = std::chrono::steady_clock;

// One page; returns the number of entries read (so the work cannot be optimised away).
using PageFn = size_t (*)(const events::Store&, const std::string&, const std::string&,
                          const std::string&, uint32_t);

size_t raw_page(const events::Store& store, const std::string& tenant, const std::string& container,
                const std::string& prefix, uint32_t page) {
  const std::string scan = events::artifact_prefix(tenant, container) + prefix;
  const std::string upper = events::prefix_successor(scan);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  if (!upper.empty()) {
    ro.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(ro, store.cf(events::Cf::kArtifacts)));
  size_t n = 0;
  std::string key;
  std::string value;
  for (it->Seek(scan); it->Valid() && n < page; it->Next()) {
    key.assign(it->key().data(), it->key().size());
    value.assign(it->value().data(), it->value().size());
    ++n;
  }
  return n;
}

size_t views_page(const events::Store& store, const std::string& tenant,
                  const std::string& container, const std::string& prefix, uint32_t page) {
  const events::ViewReader views(store);
  vaultaire::proto::ListArtifacts request;
  request.set_prefix(prefix);
  request.set_max_entries(page);
  const auto list = views.list(tenant, container, request);
  if (!list) {
    std::cerr << "list failed: " << list.error().message() << '\n';
    std::exit(1);
  }
  return static_cast<size_t>(list->artifacts_size());
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  const size_t i =
      std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())));
  return sorted[i];
}

nlohmann::json measure(const events::Store& store, PageFn fn, const std::string& tenant,
                       const std::string& container, const std::string& prefix, uint32_t page,
                       int threads, double seconds) {
  // Warm the block cache (the server's pages are hot too: every LIST reads the same page).
  for (int i = 0; i < 50; ++i) {
    fn(store, tenant, container, prefix, page);
  }
  std::vector<std::vector<double>> latencies(threads);
  std::atomic<size_t> keys{0};
  const auto deadline = SteadyClock::now() + std::chrono::duration<double>(seconds);
  const auto start = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      size_t mine = 0;
      while (SteadyClock::now() < deadline) {
        const auto t0 = SteadyClock::now();
        mine += fn(store, tenant, container, prefix, page);
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
      }
      keys += mine;
    });
  }
  for (auto& th : pool) {
    th.join();
  }
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) {
    all.insert(all.end(), l.begin(), l.end());
  }
  std::sort(all.begin(), all.end());
  return {{"pages", all.size()},
          {"keys_per_page", all.empty() ? 0.0 : static_cast<double>(keys) / all.size()},
          {"pages_per_second", static_cast<double>(all.size()) / elapsed},
          {"p50_ms", percentile(all, 0.50)},
          {"p90_ms", percentile(all, 0.90)},
          {"p99_ms", percentile(all, 0.99)},
          {"max_ms", all.empty() ? 0.0 : all.back()}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"LIST reference: a page of artifact records read straight from RocksDB"};
  std::string db;
  std::string container;
  std::string prefix;
  uint32_t page = 1000;
  double seconds = 5;
  std::vector<int> threads = {1, 16};
  app.add_option("--db", db, "the server's RocksDB folder (DATA_DIR/db); the server stopped")
      ->required();
  app.add_option("--container", container, "the bucket")->required();
  app.add_option("--prefix", prefix, "list prefix");
  app.add_option("--page", page, "keys per page")->capture_default_str();
  app.add_option("--seconds", seconds, "seconds per measurement")->capture_default_str();
  app.add_option("--threads", threads, "concurrencies")->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  vaultaire::set_log_level("warn");

  auto opened = events::Store::open(db, events::OpenMode::kReadOnly);
  if (!opened) {
    std::cerr << "cannot open " << db << ": " << opened.error().message() << '\n';
    return 1;
  }
  const events::Store& store = **opened;

  // The bucket's tenant: the containers column family is keyed tenant \0 container.
  std::string tenant;
  bool found = false;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        store.db()->NewIterator(rocksdb::ReadOptions(), store.cf(events::Cf::kContainers)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key = it->key().ToString();
      const size_t nul = key.find('\0');
      if (nul != std::string::npos && key.substr(nul + 1) == container) {
        tenant = key.substr(0, nul);
        found = true;
        break;
      }
    }
  }
  if (!found) {
    std::cerr << "no container " << container << " in " << db << '\n';
    return 1;
  }

  nlohmann::json out;
  for (const auto& [name, fn] : {std::pair<const char*, PageFn>{"raw", raw_page},
                                 std::pair<const char*, PageFn>{"views", views_page}}) {
    for (const int t : threads) {
      out[name][std::to_string(t)] =
          measure(store, fn, tenant, container, prefix, page, t, seconds);
    }
  }
  std::cout << out.dump() << '\n';
  return 0;
}

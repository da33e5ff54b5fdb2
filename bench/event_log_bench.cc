// Event-append throughput: the event log (group commit, one synced WriteBatch per group, views
// projected in the same batch) with 1, 16, 64 and 256 concurrent appenders, next to raw RocksDB
// writing the same encoded events with sync=true, one per write and in batches of 100, in the
// same run on the same disk.
//
//   event_log_bench [--seconds S] [--dir DIR] [--json]
//
// Prints a markdown table; docs/benchmarks.md quotes it. The machine is shared and noisy:
// compare rows of one run, not runs.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <rocksdb/db.h>
#include <sys/resource.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/logging.h"
#include "events/event_log.h"
#include "events/keys.h"
#include "events/store.h"

namespace {

namespace fs = std::filesystem;
using vaultaire::asio::awaitable;
namespace asio = vaultaire::asio;
using Clock = std::chrono::steady_clock;

struct Row {
  std::string name;
  int concurrency;
  uint64_t events;
  double seconds;
  double cpu_seconds;  // user + system of the whole process while the row ran
  double rate() const { return static_cast<double>(events) / seconds; }
  double cpu_micros_per_event() const { return cpu_seconds * 1e6 / static_cast<double>(events); }
};

double cpu_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

vaultaire::proto::Event committed_event(int appender, uint64_t i) {
  vaultaire::proto::Event e;
  e.set_tenant("default");
  e.set_container("bench-" + std::to_string(appender % 8));
  e.set_path("objects/" + std::to_string(appender) + "/" + std::to_string(i));
  e.set_request_id("0123456789ABCDEF");
  e.set_principal("AKIDBENCHMARK");
  e.set_source_address("127.0.0.1:50000");
  e.set_user_agent("event_log_bench");
  e.set_spoke_id("local");
  auto* put = e.mutable_artifact_committed();
  put->set_size(4096);
  put->set_etag("d41d8cd98f00b204e9800998ecf8427e");
  put->set_content_type("application/octet-stream");
  put->set_blob_id(vaultaire::new_blob_id(1'700'000'000));
  put->set_driver("local");
  put->set_tier("hot");
  return e;
}

vaultaire::proto::Event container_event(int n) {
  vaultaire::proto::Event e;
  e.set_tenant("default");
  e.set_container("bench-" + std::to_string(n));
  e.mutable_container_created()->set_region("us-east-1");
  return e;
}

awaitable<void> appender(vaultaire::events::EventLog* log, int id, const std::atomic<bool>* stop,
                         std::atomic<uint64_t>* done) {
  for (uint64_t i = 0; !stop->load(std::memory_order_relaxed); ++i) {
    auto r = co_await log->append(committed_event(id, i));
    if (!r) {
      std::cerr << "append failed: " << r.error().message() << '\n';
      std::exit(1);
    }
    done->fetch_add(1, std::memory_order_relaxed);
  }
}

Row run_log(const fs::path& dir, int concurrency, double seconds) {
  fs::remove_all(dir);
  auto store =
      std::move(vaultaire::events::Store::open(dir, vaultaire::events::OpenMode::kPrimary).value());
  auto log = std::move(
      vaultaire::events::EventLog::open(*store, vaultaire::SystemClock::instance()).value());
  asio::io_context io;
  // The containers exist, as they would on a server.
  {
    for (int c = 0; c < 8; ++c) {
      asio::co_spawn(io, log->append(container_event(c)), asio::detached);
    }
    io.run();
    io.restart();
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  for (int a = 0; a < concurrency; ++a) {
    asio::co_spawn(io, appender(log.get(), a, &stop, &done), asio::detached);
  }
  const auto start = Clock::now();
  const double cpu0 = cpu_now();
  std::thread timer([&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop.store(true);
  });
  io.run();
  timer.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpu_now() - cpu0;
  log.reset();
  store.reset();
  fs::remove_all(dir);
  return {"event log, group commit", concurrency, done.load(), elapsed, cpu};
}

Row run_raw(const fs::path& dir, int batch, double seconds) {
  fs::remove_all(dir);
  auto store =
      std::move(vaultaire::events::Store::open(dir, vaultaire::events::OpenMode::kPrimary).value());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  uint64_t seq = 1;
  std::string encoded;
  const auto start = Clock::now();
  const double cpu0 = cpu_now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    rocksdb::WriteBatch wb;
    for (int i = 0; i < batch; ++i, ++seq) {
      auto e = committed_event(static_cast<int>(seq % 64), seq);
      e.set_sequence(seq);
      encoded.clear();
      e.SerializeToString(&encoded);
      wb.Put(store->cf(vaultaire::events::Cf::kLog), vaultaire::events::log_key(seq), encoded);
    }
    if (!store->db()->Write(wo, &wb).ok()) {
      std::cerr << "raw write failed\n";
      std::exit(1);
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpu_now() - cpu0;
  store.reset();
  fs::remove_all(dir);
  return {"raw RocksDB, sync=true, batch of " + std::to_string(batch), 1, seq - 1, elapsed, cpu};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3.0;
  fs::path dir = fs::temp_directory_path() / "vaultaire-event-log-bench";
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else {
      std::cerr << "usage: event_log_bench [--seconds S] [--dir DIR] [--json]\n";
      return 2;
    }
  }
  vaultaire::set_log_level("warn");

  std::vector<Row> rows;
  rows.push_back(run_raw(dir, 1, seconds));
  rows.push_back(run_raw(dir, 100, seconds));
  for (const int c : {1, 16, 64, 256}) {
    rows.push_back(run_log(dir, c, seconds));
  }
  const double single = rows[2].rate();
  const double raw100 = rows[1].rate();

  if (json) {
    std::cout << "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      std::cout << (i ? "," : "") << "{\"name\":\"" << rows[i].name
                << "\",\"concurrency\":" << rows[i].concurrency << ",\"events\":" << rows[i].events
                << ",\"seconds\":" << rows[i].seconds << ",\"events_per_second\":" << rows[i].rate()
                << "}";
    }
    std::cout << "]\n";
    return 0;
  }
  std::printf(
      "| writer | appenders | events/s | x single appender | %% of raw batch-100 | CPU us/event "
      "|\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %s | %d | %.0f | %.1f | %.0f%% | %.1f |\n", r.name.c_str(), r.concurrency,
                r.rate(), r.rate() / single, 100.0 * r.rate() / raw100, r.cpu_micros_per_event());
  }
  return 0;
}

#include "log_generator.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>

#include "common/clock.h"
#include "common/ids.h"
#include "events/event_log.h"
#include "vaultaire/events.pb.h"

namespace vaultaire::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr uint32_t kOpenUploadsMax = 32;
constexpr uint64_t kMiB = 1 << 20;

// A live artifact: enough to name it again and to report its size when read.
struct Live {
  uint32_t container = 0;
  uint32_t path_id = 0;
  uint64_t size = 0;
};

struct OpenUpload {
  uint32_t container = 0;
  uint32_t path_id = 0;
  std::string upload_id;
  uint32_t parts_wanted = 0;
  std::vector<proto::Segment> parts;
};

// Completions of the appends in flight; touched on the io_context's one thread only.
struct AppendCounters {
  size_t in_flight = 0;
  uint64_t appended = 0;
  uint64_t refused = 0;
  boost::system::error_code fatal;  // a write failure: generation stops
};

struct AppendDone {
  AppendCounters* counters;
  void operator()(Result<events::Appended> r) const {
    --counters->in_flight;
    if (r) {
      ++counters->appended;
    } else if (r.error() == Errc::kIo || r.error() == Errc::kShuttingDown) {
      counters->fatal = r.error();
    } else {
      ++counters->refused;
    }
  }
};

std::string hex(uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[v & 0xf];
    v >>= 4;
  }
  return out;
}

// Draws the events: the model of a busy multi-tenant store, one event at a time.
class MixGenerator {
 public:
  explicit MixGenerator(const GenerateOptions& options) : options_(options), rng_(options.seed) {
    for (uint32_t t = 0; t < options_.tenants; ++t) {
      tenants_.push_back("tenant-" + std::to_string(t));
      principals_.push_back("AKIA" + hex(0x5EED0000ULL + t, 16));
    }
  }

  proto::Event next() {
    if (created_ < options_.containers) {
      return container_created(created_++);
    }
    const uint32_t roll = uniform(100);
    if (roll < 55 || live_.empty()) {
      return put();
    }
    if (roll < 85) {
      return read();
    }
    if (roll < 93) {
      return remove();
    }
    return multipart_step();
  }

 private:
  uint32_t uniform(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  // Object sizes: mostly small, a long tail up to 64 MiB (log-uniform).
  uint64_t object_size() {
    const double log2_size = std::uniform_real_distribution<double>(9.0, 26.0)(rng_);
    return static_cast<uint64_t>(std::exp2(log2_size));
  }

  std::string container_name(uint32_t c) const { return "bucket-" + std::to_string(c); }

  std::string path(uint32_t path_id) const {
    const uint32_t day = 1 + path_id % 28;
    return "ingest/app-" + std::to_string(path_id % 50) + "/2026/11/" + (day < 10 ? "0" : "") +
           std::to_string(day) + "/" + hex(path_id, 8) + ".json.gz";
  }

  // The envelope a spoke fills in for a request on container `c`.
  proto::Event envelope(uint32_t c, const std::string& artifact_path) {
    proto::Event e;
    const uint32_t t = c % options_.tenants;
    e.set_tenant(tenants_[t]);
    e.set_container(container_name(c));
    e.set_path(artifact_path);
    e.set_request_id(new_request_id());
    e.set_principal(principals_[t]);
    e.set_source_address("10.20." + std::to_string(t) + "." + std::to_string(1 + uniform(250)) +
                         ":" + std::to_string(32768 + uniform(28000)));
    static const char* const kAgents[] = {
        "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2",
        "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#6.1.0 md/arch#x86_64 "
        "lang/python#3.11.2",
        "rclone/v1.60.1", "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 cfg/retry-mode"};
    e.set_user_agent(kAgents[uniform(4)]);
    e.set_spoke_id("spoke-a");
    return e;
  }

  proto::Event container_created(uint32_t c) {
    proto::Event e = envelope(c, "");
    e.mutable_container_created()->set_region("us-east-1");
    return e;
  }

  void fill_put(proto::ArtifactCommitted& put, uint64_t size) {
    static const char* const kTypes[] = {"application/json", "application/gzip",
                                         "application/octet-stream", "image/jpeg", "text/csv"};
    put.set_size(size);
    put.set_etag(hex(rng_(), 16) + hex(rng_(), 16));
    put.set_content_type(kTypes[uniform(5)]);
    auto* origin = put.add_user_metadata();
    origin->set_key("origin");
    origin->set_value("ingest-" + std::to_string(uniform(16)));
    auto* batch = put.add_user_metadata();
    batch->set_key("batch-id");
    batch->set_value(hex(rng_(), 16));
    auto* checksum = put.add_checksums();
    checksum->set_algorithm("CRC64NVME");
    checksum->set_value("AAAAAAAAAAA=");
    checksum->set_type("FULL_OBJECT");
    put.set_tier("hot");
  }

  proto::Event put() {
    const uint64_t size = object_size();
    Live* target = nullptr;
    if (!live_.empty() && uniform(5) == 0) {
      target = &live_[uniform(static_cast<uint32_t>(live_.size()))];  // an overwrite
    } else {
      target = &live_.emplace_back(Live{uniform(options_.containers), next_path_id_++, 0});
    }
    target->size = size;
    proto::Event e = envelope(target->container, path(target->path_id));
    proto::ArtifactCommitted& put = *e.mutable_artifact_committed();
    fill_put(put, size);
    put.set_blob_id(new_blob_id(1'795'000'000));
    put.set_driver("local");
    return e;
  }

  proto::Event read() {
    const Live& target = live_[uniform(static_cast<uint32_t>(live_.size()))];
    proto::Event e = envelope(target.container, path(target.path_id));
    proto::ArtifactRead& r = *e.mutable_artifact_read();
    r.set_size(target.size);
    r.set_tier("hot");
    const uint32_t kind = uniform(20);
    if (kind < 2) {
      r.set_head(true);
    } else if (kind == 2 && target.size > 1) {
      r.set_ranged(true);
      r.set_range_first(0);
      r.set_range_last(target.size / 2);
      r.set_bytes_sent(target.size / 2 + 1);
    } else {
      r.set_bytes_sent(target.size);
    }
    return e;
  }

  proto::Event remove() {
    const size_t at = uniform(static_cast<uint32_t>(live_.size()));
    const Live target = live_[at];
    live_[at] = live_.back();
    live_.pop_back();
    proto::Event e = envelope(target.container, path(target.path_id));
    e.mutable_artifact_deleted();
    return e;
  }

  proto::Event multipart_step() {
    if (open_.size() < kOpenUploadsMax / 2 || (open_.size() < kOpenUploadsMax && uniform(4) == 0)) {
      OpenUpload u;
      u.container = uniform(options_.containers);
      u.path_id = next_path_id_++;
      u.upload_id = new_ordered_id(1'795'000'000'000'000'000 + static_cast<int64_t>(u.path_id));
      u.parts_wanted = 2 + uniform(4);
      proto::Event e = envelope(u.container, path(u.path_id));
      proto::UploadCreated& created = *e.mutable_upload_created();
      created.set_upload_id(u.upload_id);
      fill_put(*created.mutable_artifact(), 0);
      created.mutable_artifact()->clear_etag();
      created.mutable_artifact()->clear_checksums();
      created.mutable_artifact()->clear_size();
      open_.push_back(std::move(u));
      return e;
    }
    const size_t at = uniform(static_cast<uint32_t>(open_.size()));
    OpenUpload& u = open_[at];
    if (u.parts.size() < u.parts_wanted) {
      proto::Event e = envelope(u.container, path(u.path_id));
      proto::PartUploaded& part = *e.mutable_part_uploaded();
      part.set_upload_id(u.upload_id);
      part.set_part_number(static_cast<uint32_t>(u.parts.size()) + 1);
      proto::Segment& seg = *part.mutable_part();
      seg.set_blob_id(new_blob_id(1'795'000'000));
      seg.set_driver("local");
      seg.set_size(5 * kMiB + uniform(11) * kMiB);
      seg.set_etag(hex(rng_(), 16) + hex(rng_(), 16));
      u.parts.push_back(seg);
      return e;
    }
    // Complete: the parts become the artifact's segments, as ContainerActor::complete_upload
    // writes them.
    proto::Event e = envelope(u.container, path(u.path_id));
    proto::ArtifactCommitted& put = *e.mutable_artifact_committed();
    fill_put(put, 0);
    put.clear_size();
    put.clear_checksums();
    put.set_completed_upload_id(u.upload_id);
    uint64_t size = 0;
    for (const proto::Segment& seg : u.parts) {
      *put.add_segments() = seg;
      size += seg.size();
    }
    put.set_etag(hex(rng_(), 16) + hex(rng_(), 16) + "-" + std::to_string(u.parts.size()));
    live_.push_back({u.container, u.path_id, size});
    open_[at] = std::move(open_.back());
    open_.pop_back();
    return e;
  }

  const GenerateOptions options_;
  std::mt19937_64 rng_;
  std::vector<std::string> tenants_;
  std::vector<std::string> principals_;
  uint32_t created_ = 0;
  uint32_t next_path_id_ = 0;
  std::vector<Live> live_;
  std::vector<OpenUpload> open_;
};

}  // namespace

Result<GenerateStats> generate_log(events::Store& store, const GenerateOptions& options) {
  events::EventLogOptions log_options;
  log_options.sync = false;  // durability is not what is measured; the bytes are the same
  auto log = events::EventLog::open(store, SystemClock::instance(), log_options);
  if (!log) {
    return log.error();
  }
  asio::io_context io;
  AppendCounters counters;
  MixGenerator mix(options);
  GenerateStats stats;
  const auto start = SteadyClock::now();
  auto last_report = start;
  uint64_t issued = 0;
  // Appends are enqueued in the order they are issued, so the log holds the mix's order.
  while (issued < options.events && !counters.fatal) {
    while (counters.in_flight < options.in_flight && issued < options.events) {
      proto::Event e = mix.next();
      ++stats.by_type[std::string(events::event_type_name(e))];
      (*log)->async_append(std::move(e), asio::bind_executor(io, AppendDone{&counters}));
      ++counters.in_flight;
      ++issued;
    }
    io.run_one();
    if (SteadyClock::now() - last_report > std::chrono::seconds(10)) {
      last_report = SteadyClock::now();
      const double s = std::chrono::duration<double>(last_report - start).count();
      std::fprintf(stderr, "  generated %llu / %llu events (%.0f events/s)\n",
                   static_cast<unsigned long long>(counters.appended),
                   static_cast<unsigned long long>(options.events),
                   static_cast<double>(counters.appended) / s);
    }
  }
  while (counters.in_flight > 0) {
    io.run_one();
  }
  (*log)->stop();
  stats.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (counters.fatal) {
    return counters.fatal;
  }
  stats.appended = counters.appended;
  stats.refused = counters.refused;
  return stats;
}

}  // namespace vaultaire::bench

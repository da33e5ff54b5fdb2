#include "vaultctl/event_commands.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "common/config.h"
#include "common/time_format.h"
#include "events/event_json.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "events/view_reader.h"
#include "vaultctl/event_formats.h"

namespace vaultaire::vaultctl {
namespace {

namespace fs = std::filesystem;

constexpr int kExitInterrupted = 130;
constexpr int kExitNoContainer = 2;

volatile std::sig_atomic_t g_interrupted = 0;

// Thrown out of a replay's progress callback to stop it when interrupted.
struct Interrupted {};

// SIGINT and SIGTERM set g_interrupted; long loops check it between two events, stop, and
// flush what they wrote, so the output ends with a whole line. A write blocked on a slow reader
// resumes after the signal (SA_RESTART); a second signal ends the process at once (SA_RESETHAND).
void catch_interrupts() {
  g_interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted = 1; };
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// A progress line on stderr for work that takes a while: only when stderr is a terminal, and
// only once the work has run for a second (short commands stay quiet).
class Progress {
 public:
  Progress(std::string what, uint64_t total)
      : what_(std::move(what)),
        total_(total),
        enabled_(::isatty(STDERR_FILENO) == 1),
        start_(std::chrono::steady_clock::now()),
        next_(start_ + std::chrono::seconds(1)) {}
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { finish(); }

  void update(uint64_t done) {
    if (!enabled_) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) {
      return;
    }
    next_ = now + std::chrono::milliseconds(200);
    shown_ = true;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    if (total_ > 0) {
      const int percent = static_cast<int>(100.0 * static_cast<double>(std::min(done, total_)) /
                                           static_cast<double>(total_));
      std::fprintf(stderr, "\r%s: %llu/%llu events (%d%%) %.0fs ", what_.c_str(),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                   percent, seconds);
    } else {
      std::fprintf(stderr, "\r%s: %llu events %.0fs ", what_.c_str(),
                   static_cast<unsigned long long>(done), seconds);
    }
    std::fflush(stderr);
  }

  void finish() {
    if (shown_) {
      std::fprintf(stderr, "\r\033[K");  // erase the line
      std::fflush(stderr);
      shown_ = false;
    }
  }

 private:
  std::string what_;
  uint64_t total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point next_;
};

template <typename T>
T checked(Result<T> r, const std::string& what) {
  if (!r) {
    throw std::runtime_error(what + ": " + r.error().message());
  }
  if constexpr (!std::is_void_v<T>) {
    return std::move(*r);
  }
}

// The first sequence in [lo, hi] whose event's time is >= t (hi + 1 when none): a binary
// search, since times never decrease along the log.
uint64_t first_at_or_after(const events::Store& store, uint64_t lo, uint64_t hi, int64_t t) {
  uint64_t end = hi + 1;
  while (lo < end) {
    const uint64_t mid = lo + (end - lo) / 2;
    auto event = events::read_event(store, mid);
    if (!event) {
      throw std::runtime_error("cannot read event " + std::to_string(mid) + ": " +
                               event.error().message());
    }
    if (event->time_unix_nanos() < t) {
      lo = mid + 1;
    } else {
      end = mid;
    }
  }
  return lo;
}

// The configuration's storage class of every tier (the defaults without a file).
StorageClasses storage_classes(const std::string& config_file) {
  Config config = config_file.empty() ? Config() : load_config(config_file);
  resolve_tiers(config);
  StorageClasses out;
  for (const TierConfig& t : config.tiers) {
    if (!t.storage_classes.empty()) {
      out.emplace(t.name, t.storage_classes.front());
    }
  }
  return out;
}

std::string json_line(const nlohmann::json& j) {
  // Keys are valid UTF-8, but a user agent need not be: never fail an export on one.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

ScratchDir::ScratchDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/vaultctl-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary folder in " + tmpl + ": " +
                             std::strerror(errno));
  }
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::unique_ptr<events::Store> open_secondary(const fs::path& data_dir, const ScratchDir& scratch) {
  const fs::path db = data_dir / "db";
  if (!fs::exists(db / "CURRENT")) {
    throw std::runtime_error("no Vaultaire data in " + data_dir.string() + " (expected " +
                             db.string() + ")");
  }
  auto store = events::Store::open(db, events::OpenMode::kSecondary, scratch.path() / "secondary");
  if (!store) {
    throw std::runtime_error("cannot open " + db.string() + ": " + store.error().message());
  }
  return std::move(*store);
}

std::optional<TimeSpan> parse_time_arg(std::string_view text) {
  // YYYY-MM-DD
  int year = 0, month = 0, day = 0;
  if (!parse_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' ||
      !parse_digits(text, 5, 2, month) || text[7] != '-' || !parse_digits(text, 8, 2, day)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  constexpr int64_t kSecond = 1'000'000'000;
  const int64_t midnight =
      int64_t{std::chrono::sys_days(ymd).time_since_epoch().count()} * 86400 * kSecond;
  if (text.size() == 10) {
    return TimeSpan{midnight, midnight + 86400 * kSecond - 1};
  }
  // THH:MM[:SS[.fraction]]
  size_t pos = 10;
  int hour = 0, minute = 0, second = 0;
  if ((text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') ||
      !parse_digits(text, pos + 1, 2, hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
      !parse_digits(text, pos + 4, 2, minute) || hour > 23 || minute > 59) {
    return std::nullopt;
  }
  pos += 6;
  int64_t span = 60 * kSecond;  // what the text's precision covers
  int64_t fraction = 0;
  if (pos < text.size() && text[pos] == ':') {
    if (!parse_digits(text, pos + 1, 2, second) || second > 59) {
      return std::nullopt;
    }
    pos += 3;
    span = kSecond;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      size_t digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (++digits > 9) {
          return std::nullopt;  // finer than a nanosecond
        }
        fraction = fraction * 10 + (text[pos] - '0');
        span /= 10;
        ++pos;
      }
      if (digits == 0) {
        return std::nullopt;
      }
      for (size_t i = digits; i < 9; ++i) {
        fraction *= 10;
      }
    }
  }
  // Z, +HH:MM, +HHMM, +HH, or nothing (UTC).
  int64_t offset = 0;
  if (pos < text.size()) {
    const char sign = text[pos];
    if ((sign == 'Z' || sign == 'z') && pos + 1 == text.size()) {
      pos += 1;
    } else if (sign == '+' || sign == '-') {
      int oh = 0, om = 0;
      if (!parse_digits(text, pos + 1, 2, oh)) {
        return std::nullopt;
      }
      pos += 3;
      if (pos < text.size() && text[pos] == ':') {
        ++pos;
      }
      if (pos < text.size() && (!parse_digits(text, pos, 2, om) || (pos += 2) != text.size())) {
        return std::nullopt;
      }
      if (oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset = (sign == '+' ? 1 : -1) * (int64_t{oh} * 3600 + om * 60) * kSecond;
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const int64_t first =
      midnight + (int64_t{hour} * 3600 + minute * 60 + second) * kSecond + fraction - offset;
  return TimeSpan{first, first + span - 1};
}

EventCommands::EventCommands(CLI::App& events) {
  export_ = events.add_subcommand(
      "export", "Write the log's events, filtered, as JSON lines, CSV or S3 event notifications");
  export_->add_option("--data-dir", data_dir_, "The server's data directory")
      ->capture_default_str();
  export_->add_option("--format", format_, "jsonl, csv or s3-event")
      ->check(CLI::IsMember({"jsonl", "csv", "s3-event"}))
      ->capture_default_str();
  export_->add_option_function<uint64_t>(
      "--from-seq", [this](const uint64_t& v) { from_seq_ = v; },
      "First sequence number (inclusive)");
  export_->add_option_function<uint64_t>(
      "--until-seq", [this](const uint64_t& v) { until_seq_ = v; },
      "Last sequence number (inclusive)");
  export_->add_option("--since", since_,
                      "Events at or after this time (2026-11-21, 2026-11-21T10:00:00Z, ...)");
  export_->add_option("--until", until_, "Events at or before this time (the whole span written)");
  export_->add_option("--tenant", tenant_, "Only this tenant's events");
  export_->add_option("--container", container_, "Only this bucket's events");
  export_->add_option("--type", types_,
                      "Event types or aliases, comma-separated: artifact_committed, ..., PUT, GET, "
                      "HEAD, DELETE, LIST, COPY, MIGRATE, RESTORE");
  export_->add_option("--output", output_, "Write to this file instead of stdout");
  export_->add_option("--region", region_, "awsRegion of s3-event records")->capture_default_str();
  export_->add_option("--config", config_,
                      "The server's configuration file (storage classes of the tiers)");

  state_ = events.add_subcommand(
      "state", "List a bucket's objects as they were at a point of the log (replayed)");
  state_->add_option("--data-dir", data_dir_, "The server's data directory")->capture_default_str();
  state_->add_option("--container", container_, "The bucket")->required();
  state_->add_option("--tenant", tenant_, "Its tenant (default: default)");
  state_->add_option("--at", at_, "A sequence number, or a time (its whole span included)")
      ->required();
  state_->add_option("--prefix", prefix_, "Only keys that start with this");
  state_->add_option("--config", config_,
                     "The server's configuration file (storage classes of the tiers)");
  state_->add_flag("--json", json_, "JSON output");
}

bool EventCommands::chosen() const { return export_->parsed() || state_->parsed(); }

int EventCommands::run(bool json) const {
  if (export_->parsed()) {
    return run_export();
  }
  return run_state(json || json_);
}

int EventCommands::run_export() const {
  std::string unknown;
  const auto filter = TypeFilter::parse(types_, &unknown);
  if (!filter) {
    std::string known;
    for (const std::string& name : event_type_names()) {
      known += (known.empty() ? "" : ", ") + name;
    }
    std::cerr << "vaultctl: unknown event type '" << unknown << "' (types: " << known
              << "; aliases: PUT, GET, HEAD, DELETE, LIST, COPY, MIGRATE, RESTORE)\n";
    return 1;
  }
  std::optional<TimeSpan> since;
  std::optional<TimeSpan> until;
  for (const auto& [text, span, flag] :
       {std::tuple{&since_, &since, "--since"}, std::tuple{&until_, &until, "--until"}}) {
    if (text->empty()) {
      continue;
    }
    *span = parse_time_arg(*text);
    if (!*span) {
      std::cerr << "vaultctl: " << flag << " '" << *text
                << "' is not a time (2026-11-21, 2026-11-21T10:00:00Z, "
                   "2026-11-21T12:00:00.5+02:00, ...)\n";
      return 1;
    }
  }
  const StorageClasses classes =
      format_ == "s3-event" ? storage_classes(config_) : StorageClasses();

  const ScratchDir scratch;
  const auto store = open_secondary(data_dir_, scratch);
  const uint64_t last = checked(events::stored_last_sequence(*store), "cannot read the log");
  // The export covers the log as it is now: events appended meanwhile are the next export's.
  uint64_t from = std::max<uint64_t>(1, from_seq_.value_or(1));
  const uint64_t end = std::min(last, until_seq_.value_or(last));
  if (since && from <= end) {
    from = first_at_or_after(*store, from, end, since->first);
  }

  std::FILE* out = stdout;
  if (!output_.empty()) {
    out = std::fopen(output_.c_str(), "wb");
    if (out == nullptr) {
      throw std::runtime_error("cannot write " + output_ + ": " + std::strerror(errno));
    }
  }
  bool write_failed = false;
  auto write = [&](const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size()) {
      write_failed = true;
    }
  };
  if (format_ == "csv") {
    write(csv_header());
  }

  catch_interrupts();
  uint64_t written = 0;
  Result<void> walked;
  if (from <= end) {
    Progress progress("exporting", end - from + 1);
    walked = events::for_each_event(*store, from, [&](const proto::Event& e) {
      if (g_interrupted != 0 || write_failed || e.sequence() > end ||
          (until && e.time_unix_nanos() > until->last)) {
        return false;
      }
      progress.update(e.sequence() - from + 1);
      if ((!tenant_.empty() && e.tenant() != tenant_) ||
          (!container_.empty() && e.container() != container_) || !filter->matches(e)) {
        return true;
      }
      if (format_ == "jsonl") {
        write(json_line(events::event_to_json(e)));
      } else if (format_ == "csv") {
        write(csv_row(e));
      } else {
        auto record = s3_event_record(e, region_, classes);
        if (!record) {
          return true;  // no S3 notification for this kind of event
        }
        write(json_line(nlohmann::json{{"Records", nlohmann::json::array({std::move(*record)})}}));
      }
      ++written;
      return true;
    });
  }
  const bool flushed = std::fflush(out) == 0 && !write_failed && std::ferror(out) == 0;
  const bool closed = out == stdout || std::fclose(out) == 0;
  if (g_interrupted != 0) {
    std::cerr << "vaultctl: interrupted after " << written << " events\n";
    return kExitInterrupted;
  }
  if (!flushed || !closed) {
    throw std::runtime_error("cannot write " + (output_.empty() ? "the output" : output_) + ": " +
                             std::strerror(errno));
  }
  checked(std::move(walked), "reading the log");
  return 0;
}

int EventCommands::run_state(bool json) const {
  const std::string tenant = tenant_.empty() ? "default" : tenant_;
  std::optional<TimeSpan> at_time;
  uint64_t at_sequence = 0;
  if (all_digits(at_)) {
    try {
      at_sequence = std::stoull(at_);
    } catch (const std::out_of_range&) {
      std::cerr << "vaultctl: --at " << at_ << " is not a sequence number\n";
      return 1;
    }
  } else {
    at_time = parse_time_arg(at_);
    if (!at_time) {
      std::cerr << "vaultctl: --at '" << at_
                << "' is neither a sequence number nor a time (2026-11-21T10:00:00Z, ...)\n";
      return 1;
    }
  }
  const StorageClasses classes = storage_classes(config_);

  const ScratchDir scratch;
  const auto store = open_secondary(data_dir_, scratch);
  const uint64_t last = checked(events::stored_last_sequence(*store), "cannot read the log");
  if (at_time) {
    // The last event at or before the end of the span the time was written with.
    at_sequence = last == 0 ? 0 : first_at_or_after(*store, 1, last, at_time->last + 1) - 1;
  }
  at_sequence = std::min(at_sequence, last);
  int64_t at_unix_nanos = 0;
  if (at_sequence > 0) {
    at_unix_nanos =
        checked(events::read_event(*store, at_sequence), "cannot read the log").time_unix_nanos();
  }

  auto fresh = events::Store::open(scratch.path() / "state", events::OpenMode::kPrimary);
  if (!fresh) {
    throw std::runtime_error("cannot create a scratch store: " + fresh.error().message());
  }
  catch_interrupts();
  try {
    Progress progress("replaying", at_sequence);
    const std::function<void(uint64_t)> on_progress = [&progress](uint64_t done) {
      if (g_interrupted != 0) {
        throw Interrupted();  // replay() has no way to stop early; unwinding cleans up
      }
      progress.update(done);
    };
    checked(events::replay(*store, **fresh, at_sequence, on_progress), "replaying the log");
  } catch (const Interrupted&) {
    std::cerr << "vaultctl: interrupted\n";
    return kExitInterrupted;
  }

  const events::ViewReader views(**fresh);
  const auto container = views.container(tenant, container_);
  if (!container) {
    if (is(container.error(), Errc::kNoSuchContainer)) {
      std::cerr << "vaultctl: no bucket '" << container_ << "' in tenant '" << tenant
                << "' at sequence " << at_sequence
                << (at_sequence > 0 ? " (" + format_iso8601(at_unix_nanos) + ")" : std::string())
                << '\n';
      return kExitNoContainer;
    }
    throw std::runtime_error("cannot read the replayed views: " + container.error().message());
  }

  std::vector<proto::ArtifactEntry> objects;
  proto::ListArtifacts request;
  request.set_prefix(prefix_);
  request.set_max_entries(1000);
  for (;;) {
    auto page = checked(views.list(tenant, container_, request), "cannot list the replayed views");
    for (auto& a : *page.mutable_artifacts()) {
      objects.push_back(std::move(a));
    }
    if (!page.truncated() || page.last().empty()) {
      break;
    }
    request.set_start_after(page.last());
  }
  uint64_t bytes = 0;
  for (const auto& a : objects) {
    bytes += a.record().size();
  }

  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : objects) {
      const auto& r = a.record();
      list.push_back({{"key", a.path()},
                      {"size", r.size()},
                      {"etag", r.etag()},
                      {"last_modified", format_iso8601(r.modified_unix_nanos())},
                      {"storage_class", storage_class_of(classes, r.tier())},
                      {"tier", r.tier()},
                      {"sequence", r.sequence()}});
    }
    nlohmann::json j = {
        {"tenant", tenant},        {"container", container_},
        {"sequence", at_sequence}, {"time", at_sequence > 0 ? format_iso8601(at_unix_nanos) : ""},
        {"prefix", prefix_},       {"count", objects.size()},
        {"bytes", bytes},          {"objects", std::move(list)}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return 0;
  }
  std::cout << "# " << tenant << '/' << container_ << " at sequence " << at_sequence << " ("
            << format_iso8601(at_unix_nanos) << "): " << objects.size() << " objects, " << bytes
            << " bytes\n";
  for (const auto& a : objects) {
    const auto& r = a.record();
    std::cout << format_iso8601(r.modified_unix_nanos()) << ' ' << r.size() << ' ' << r.etag()
              << ' ' << storage_class_of(classes, r.tier()) << ' ' << r.tier() << ' ' << a.path()
              << '\n';
  }
  return 0;
}

}  // namespace vaultaire::vaultctl

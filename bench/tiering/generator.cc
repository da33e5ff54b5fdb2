#include "generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace vaultaire::tiering::bench {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

// xoshiro256** seeded by splitmix64; samplers written out so traces match across platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t uniform_int(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return uniform() < p; }
  double normal() {
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }
  uint32_t poisson(double mean) {
    if (mean <= 0) {
      return 0;
    }
    if (mean > 30) {
      return static_cast<uint32_t>(std::max(0.0, std::round(mean + std::sqrt(mean) * normal())));
    }
    const double limit = std::exp(-mean);
    uint32_t n = 0;
    for (double p = uniform(); p > limit; p *= uniform()) {
      ++n;
    }
    return n;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> state_{};
};

uint64_t clamp_size(double bytes, uint64_t lo, uint64_t hi) {
  return std::clamp(static_cast<uint64_t>(std::max(bytes, 0.0)), lo, hi);
}

// Collects events and orders them by day; within a day PUTs, then GETs, then DELETEs, each in
// the order generated.
class TraceBuilder {
 public:
  explicit TraceBuilder(int64_t days) : days_(days) {}

  void put(int64_t day, const std::string& key, uint64_t size) {
    add(day, 0, {.day = day, .op = TraceOp::kPut, .key = key, .size = size});
  }
  void get(int64_t day, const std::string& key, uint32_t count = 1) {
    for (uint32_t i = 0; i < count; ++i) {
      add(day, 1, {.day = day, .op = TraceOp::kGet, .key = key});
    }
  }
  void remove(int64_t day, const std::string& key) {
    add(day, 2, {.day = day, .op = TraceOp::kDelete, .key = key});
  }

  Trace finish() {
    std::stable_sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
      return a.day != b.day ? a.day < b.day : a.phase < b.phase;
    });
    Trace trace;
    trace.days = days_;
    trace.events.reserve(items_.size());
    for (Item& item : items_) {
      trace.events.push_back(std::move(item.event));
    }
    return trace;
  }

 private:
  struct Item {
    int64_t day;
    int phase;
    TraceEvent event;
  };
  void add(int64_t day, int phase, TraceEvent event) {
    if (day >= 0 && day < days_) {
      items_.push_back({day, phase, std::move(event)});
    }
  }

  int64_t days_;
  std::vector<Item> items_;
};

using Truths = std::unordered_map<std::string, ObjectTruth>;

// The first day of each month in a 365-day year starting on January 1st.
constexpr std::array<int64_t, 12> kMonthStarts = {0,   31,  59,  90,  120, 151,
                                                  181, 212, 243, 273, 304, 334};

bool is_month_start(int64_t day) { return std::ranges::binary_search(kMonthStarts, day % 365); }
bool is_quarter_start(int64_t day) {
  const int64_t d = day % 365;
  return d == 0 || d == 90 || d == 181 || d == 273;
}

// Zipf weights over n objects in random order, normalised to a mean of 1.
std::vector<double> zipf_weights(Rng& rng, int64_t n, double exponent) {
  std::vector<double> weights(static_cast<size_t>(n));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    weights[i] = std::pow(static_cast<double>(i + 1), -exponent);
    sum += weights[i];
  }
  for (double& w : weights) {
    w *= static_cast<double>(n) / sum;
  }
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(weights[i], weights[rng.uniform_int(0, i)]);
  }
  return weights;
}

// Reads of an object whose expected reads decay exponentially with age (time constant tau,
// `total` expected over its life), plus a steady `background` per day.
void decaying_reads(Rng& rng, TraceBuilder& out, const std::string& key, int64_t created,
                    int64_t days, double total, double tau, double background) {
  for (int64_t age = 0; created + age < days; ++age) {
    const double mean = total * (std::exp(-age / tau) - std::exp(-(age + 1) / tau)) + background;
    if (const uint32_t n = rng.poisson(mean); n > 0) {
      out.get(created + age, key, n);
    }
  }
}

Trace zipf(const GeneratorOptions& o, Rng& rng, Truths& truth) {
  // Eight categories whose popularity fades at different speeds (news fades in days, courses
  // in months): expected reads decay exponentially with age. 20 reads per object on average,
  // zipf(1) across objects.
  constexpr std::array<double, 8> kTau = {2, 4, 7, 10, 14, 21, 30, 60};
  constexpr double kMeanReads = 20;
  TraceBuilder out(o.days);
  const std::vector<double> weights = zipf_weights(rng, o.objects, 1.0);
  for (int64_t i = 0; i < o.objects; ++i) {
    const auto category = static_cast<size_t>(rng.uniform_int(0, kTau.size() - 1));
    const std::string key = fmt::format("media/cat-{}/obj-{:06}", category, i);
    const int64_t created = rng.uniform_int(0, o.days - 1);
    const uint64_t size = clamp_size(rng.lognormal(1.0 * kMiB, 2.0), kKiB, 2 * kGiB);
    out.put(created, key, size);
    const double reads = kMeanReads * weights[i];
    decaying_reads(rng, out, key, created, o.days, reads, kTau[category], 0);
    truth[key] = {.created = created, .decay_total = reads, .decay_tau = kTau[category]};
  }
  return out.finish();
}

Trace reports(const GeneratorOptions& o, Rng& rng, Truths& truth) {
  // 20 teams x {monthly, quarterly} reports, written in the first three days of each month
  // and read when written and the next two days. Monthly reports are read again on the 1st of
  // later months (70% of them the first month, 15% fewer each month after); quarterly ones on
  // the 1st of each quarter (80%).
  constexpr int kTeams = 20;
  constexpr std::array<std::string_view, 2> kKinds = {"monthly", "quarterly"};
  TraceBuilder out(o.days);
  std::vector<int64_t> month_starts;
  for (int64_t d = 0; d < o.days; ++d) {
    if (is_month_start(d)) {
      month_starts.push_back(d);
    }
  }
  const int64_t per_month =
      std::max<int64_t>(1, o.objects / static_cast<int64_t>(month_starts.size()));
  int64_t serial = 0;
  for (const int64_t month : month_starts) {
    for (int64_t i = 0; i < per_month; ++i) {
      const int team = static_cast<int>(rng.uniform_int(0, kTeams - 1));
      const size_t kind = static_cast<size_t>(rng.uniform_int(0, kKinds.size() - 1));
      const std::string key =
          fmt::format("reports/team-{:02}/{}/report-{:06}.pdf", team, kKinds[kind], serial++);
      const int64_t created = month + rng.uniform_int(0, 2);
      truth[key] = {
          .created = created,
          .report = kind == 0 ? ObjectTruth::Report::kMonthly : ObjectTruth::Report::kQuarterly};
      out.put(created, key, clamp_size(rng.lognormal(8.0 * kMiB, 1.2), 4 * kKiB, 2 * kGiB));
      out.get(created, key, rng.poisson(2) + 1);
      out.get(created + 1, key, rng.poisson(1));
      out.get(created + 2, key, rng.poisson(1));
      int months_later = 0;
      for (int64_t d = created + 1; d < o.days; ++d) {
        if (kind == 0 && is_month_start(d)) {
          ++months_later;
          if (rng.chance(0.7 * std::pow(0.85, months_later - 1))) {
            out.get(d, key, rng.poisson(2) + 1);
          }
        } else if (kind == 1 && is_quarter_start(d)) {
          if (rng.chance(0.8)) {
            out.get(d, key, rng.poisson(3) + 1);
          }
        }
      }
    }
  }
  return out.finish();
}

Trace backups(const GeneratorOptions& o, Rng& rng, Truths& truth) {
  // Per host: a daily incremental (kept 35 days), a weekly full (kept 91 days) and a monthly
  // full (kept), never read.
  const double per_host = static_cast<double>(o.days) * (1.0 + 1.0 / 7 + 12.0 / 365);
  const int64_t hosts =
      std::max<int64_t>(1, std::llround(static_cast<double>(o.objects) / per_host));
  TraceBuilder out(o.days);
  for (int64_t h = 0; h < hosts; ++h) {
    const double full = rng.lognormal(8.0 * kGiB, 0.8);
    for (int64_t d = 0; d < o.days; ++d) {
      const std::string daily = fmt::format("backups/host-{:03}/daily/{:04}.tar", h, d);
      out.put(d, daily, clamp_size(full * rng.lognormal(0.05, 0.5), kMiB, 1024 * kGiB));
      out.remove(d + 35, daily);
      truth[daily] = {.created = d, .deleted = d + 35 < o.days ? d + 35 : -1};
      if (d % 7 == 6) {
        const std::string weekly = fmt::format("backups/host-{:03}/weekly/{:04}.tar", h, d);
        out.put(d, weekly, clamp_size(full * rng.uniform(0.95, 1.05), kMiB, 1024 * kGiB));
        out.remove(d + 91, weekly);
        truth[weekly] = {.created = d, .deleted = d + 91 < o.days ? d + 91 : -1};
      }
      if (is_month_start(d)) {
        const std::string monthly = fmt::format("backups/host-{:03}/monthly/{:04}.tar", h, d);
        out.put(d, monthly, clamp_size(full * rng.uniform(0.95, 1.05), kMiB, 1024 * kGiB));
        truth[monthly] = {.created = d};
      }
    }
  }
  return out.finish();
}

Trace reborn(const GeneratorOptions& o, Rng& rng, Truths& truth) {
  // Twelve projects' datasets, written over the first 60% of the period, read 10 times on
  // average (zipf(1)) with popularity fading over 5 to 30 days depending on the project. 15%
  // of them come back 90 to 240 days after they were written: 5 to 20 days of 1 to 5 reads a
  // day.
  constexpr int kProjects = 12;
  constexpr double kMeanReads = 10;
  TraceBuilder out(o.days);
  std::array<double, kProjects> tau{};
  for (double& t : tau) {
    t = rng.uniform(5, 30);
  }
  const std::vector<double> weights = zipf_weights(rng, o.objects, 1.0);
  const int64_t write_days = std::max<int64_t>(1, o.days * 6 / 10);
  for (int64_t i = 0; i < o.objects; ++i) {
    const auto project = static_cast<size_t>(rng.uniform_int(0, kProjects - 1));
    const std::string key = fmt::format("datasets/proj-{:02}/part-{:06}.parquet", project, i);
    const int64_t created = rng.uniform_int(0, write_days - 1);
    out.put(created, key, clamp_size(rng.lognormal(16.0 * kMiB, 1.5), 4 * kKiB, 4 * kGiB));
    decaying_reads(rng, out, key, created, o.days, kMeanReads * weights[i], tau[project], 0);
    ObjectTruth& t = truth[key];
    t = {.created = created, .decay_total = kMeanReads * weights[i], .decay_tau = tau[project]};
    if (rng.chance(0.15)) {
      const int64_t back = created + rng.uniform_int(90, 240);
      const int64_t length = rng.uniform_int(5, 20);
      const double rate = rng.uniform(1, 5);
      t.burst_start = back;
      t.burst_days = length;
      t.burst_rate = rate;
      for (int64_t d = back; d < back + length; ++d) {
        out.get(d, key, rng.poisson(rate));
      }
    }
  }
  return out.finish();
}

Trace poisson(const GeneratorOptions& o, Rng& rng, Truths& truth) {
  // Ten prefixes of objects written on day 0, each read at a steady rate drawn log-uniformly
  // between once a year and once every 3 days (the same range in every prefix).
  TraceBuilder out(o.days);
  for (int64_t i = 0; i < o.objects; ++i) {
    const std::string key = fmt::format("steady/p-{}/obj-{:06}", i % 10, i);
    const double rate = std::exp(rng.uniform(std::log(1.0 / 365), std::log(1.0 / 3)));
    out.put(0, key, clamp_size(rng.lognormal(16.0 * kMiB, 1.5), 4 * kKiB, 4 * kGiB));
    for (int64_t d = 0; d < o.days; ++d) {
      out.get(d, key, rng.poisson(rate));
    }
    truth[key] = {.created = 0, .steady_rate = rate};
  }
  return out.finish();
}

}  // namespace

std::optional<Family> parse_family(std::string_view name) {
  for (const Family f :
       {Family::kZipf, Family::kReports, Family::kBackups, Family::kReborn, Family::kPoisson}) {
    if (family_name(f) == name) {
      return f;
    }
  }
  return std::nullopt;
}

std::string_view family_name(Family family) {
  switch (family) {
    case Family::kZipf:
      return "zipf";
    case Family::kReports:
      return "reports";
    case Family::kBackups:
      return "backups";
    case Family::kReborn:
      return "reborn";
    case Family::kPoisson:
      return "poisson";
  }
  return "?";
}

GeneratedTrace generate(const GeneratorOptions& options) {
  Rng rng(options.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(options.family));
  GeneratedTrace out;
  switch (options.family) {
    case Family::kZipf:
      out.trace = zipf(options, rng, out.truth);
      break;
    case Family::kReports:
      out.trace = reports(options, rng, out.truth);
      break;
    case Family::kBackups:
      out.trace = backups(options, rng, out.truth);
      break;
    case Family::kReborn:
      out.trace = reborn(options, rng, out.truth);
      break;
    case Family::kPoisson:
      out.trace = poisson(options, rng, out.truth);
      break;
  }
  return out;
}

DayOutlook outlook(const ObjectTruth& t, int64_t day) {
  double none = 1;  // P(no GET that day), over independent sources of reads
  double gets = 0;
  const auto poisson = [&](double mean) {
    none *= std::exp(-mean);
    gets += mean;
  };
  const int64_t age = day - t.created;
  if (age < 0 || (t.deleted >= 0 && day > t.deleted)) {
    return {};
  }
  if (t.decay_total > 0) {
    const double a = static_cast<double>(age);
    poisson(t.decay_total * (std::exp(-a / t.decay_tau) - std::exp(-(a + 1) / t.decay_tau)));
  }
  if (t.steady_rate > 0) {
    poisson(t.steady_rate);
  }
  if (t.burst_start >= 0 && day >= t.burst_start && day < t.burst_start + t.burst_days) {
    poisson(t.burst_rate);
  }
  if (t.report != ObjectTruth::Report::kNone) {
    if (age == 0) {  // 1 + Poisson(2) GETs when written
      none = 0;
      gets += 3;
    } else if (age <= 2) {
      poisson(1);
    }
    // Month starts in (created, day]: the k-th one after the report brings a read with
    // probability 0.7 x 0.85^(k-1) (monthly reports), 1 + Poisson(2) GETs.
    const auto month_starts_through = [](int64_t x) {
      return 12 * (x / 365) + (std::upper_bound(kMonthStarts.begin(), kMonthStarts.end(), x % 365) -
                               kMonthStarts.begin());
    };
    if (age > 0 && t.report == ObjectTruth::Report::kMonthly && is_month_start(day)) {
      const int64_t k = month_starts_through(day) - month_starts_through(t.created);
      const double p = 0.7 * std::pow(0.85, static_cast<double>(k - 1));
      none *= 1 - p;
      gets += 3 * p;
    }
    if (age > 0 && t.report == ObjectTruth::Report::kQuarterly && is_quarter_start(day)) {
      none *= 1 - 0.8;  // 1 + Poisson(3) GETs
      gets += 0.8 * 4;
    }
  }
  return {.read_chance = 1 - none, .expected_gets = gets};
}

}  // namespace vaultaire::tiering::bench

#include "tiering/cost_optimal.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "tiering/planner.h"

namespace vaultaire::tiering {
namespace {

// Ages and gaps are counted in buckets: one per day to 32 days, 8 days wide to 128, 32 days
// wide to 1152, then one bucket.
constexpr int kBuckets = 32 + 12 + 32 + 1;
constexpr int64_t kTableDays = 1536;  // per-day tables reach this far; beyond, the last bucket
constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
constexpr double kMaxHazard = 0.999;
constexpr double kMovePrior = 2;         // pseudo class moves at the parent's estimate
constexpr double kLevelPriorEvents = 2;  // pseudo events at the all-prefix level

// What an artifact's last read day was, which sets the hazard of its next one.
constexpr int kClasses = 6;
constexpr int kFirst = 0;       // its first read day ever
constexpr int kOnset30 = 1;     // the first in 30 to 89 days
constexpr int kOnset90 = 2;     // the first in 90 days or more
constexpr int kMomentum2 = 3;   // one of 2-3 read days in the 30 days up to it
constexpr int kMomentum4 = 4;   // one of 4-9
constexpr int kMomentum10 = 5;  // one of 10 or more
constexpr int64_t kMomentumDays = 30;

int bucket_of(int64_t days) {
  if (days < 32) {
    return static_cast<int>(std::max<int64_t>(days, 0));
  }
  if (days < 128) {
    return 32 + static_cast<int>((days - 32) / 8);
  }
  if (days < 1152) {
    return 44 + static_cast<int>((days - 128) / 32);
  }
  return kBuckets - 1;
}

// The class of `object` right after a read day on `day`, from its read days before `day`.
int class_after_read(const ObjectState& object, int64_t day) {
  int64_t in_window = 1;  // `day` itself
  int64_t previous = -1;
  for (auto it = object.access_days.rbegin(); it != object.access_days.rend(); ++it) {
    if (*it >= day) {
      continue;
    }
    if (previous < 0) {
      previous = *it;
    }
    if (*it <= day - kMomentumDays) {
      break;
    }
    ++in_window;
  }
  if (in_window >= 10) {
    return kMomentum10;
  }
  if (in_window >= 4) {
    return kMomentum4;
  }
  if (in_window >= 2) {
    return kMomentum2;
  }
  if (previous < 0) {
    return kFirst;
  }
  return day - previous >= 90 ? kOnset90 : kOnset30;
}

// Where a read day within 30 days of one of class c leaves an artifact before anything is
// learned: one more read day in the window.
int usual_next_class(int c) {
  if (c == kMomentum2) {
    return kMomentum4;
  }
  if (c == kMomentum4 || c == kMomentum10) {
    return c;
  }
  return kMomentum2;
}

template <typename Key>
void add(std::map<Key, int64_t>& counts, const Key& key, int64_t n) {
  auto it = counts.try_emplace(key, 0).first;
  it->second += n;
  if (it->second <= 0) {
    counts.erase(it);
  }
}

// Events and exposure (artifact-days at risk, or expected events) by age or gap bucket.
struct Counts {
  std::array<double, kBuckets> exposure{};
  std::array<double, kBuckets> events{};
};

using Rates = std::array<double, kBuckets>;
using Moves = std::array<std::array<double, kClasses>, kClasses>;

}  // namespace

struct CostOptimalPolicy::Stats {
  Counts first_read;                 // never-read artifacts by age: first read days
  std::array<Counts, kClasses> gap;  // read artifacts by gap since their last read day
  Counts life;                       // every artifact by age: deletions
  Moves moves{};  // [c][c2]: read days within 30 days of class c that led to class c2
  double reads = 0;
  double read_days = 0;
};

struct CostOptimalPolicy::Profile {
  int64_t day = kNever;
  Rates first_rate{};
  std::array<Rates, kClasses> gap_rate{};
  Rates delete_rate{};
  Moves moves{};  // [c][c2]: P(a read day within 30 days of class c leads to class c2)
  double gets_per_read_day = 1;
  bool deletes = false;  // whether any deletion was ever seen
  // Per-day tables (prefix profiles only).
  std::vector<double> first_hazard;                      // [age]
  std::array<std::vector<double>, kClasses> gap_hazard;  // [gap]
  std::vector<double> log_survival;                      // [age]: log P(not deleted before)
  // [c][tau]: expected read days in the tau days after a read day that left the artifact in
  // class c, counting that read day; after_short[c][tau]: the same after a read day within 30
  // days of one of class c (weighted by where it leads).
  std::array<std::vector<double>, kClasses> renewal;
  std::array<std::vector<double>, kClasses> after_short;

  double first_at(int64_t age) const { return first_hazard[std::min(age, kTableDays - 1)]; }
  double gap_at(int c, int64_t gap) const { return gap_hazard[c][std::min(gap, kTableDays - 1)]; }
  double log_survival_at(int64_t age) const {
    if (age < kTableDays) {
      return log_survival[age];
    }
    const double h = std::min(delete_rate[kBuckets - 1], kMaxHazard);
    return log_survival[kTableDays - 1] +
           static_cast<double>(age - kTableDays + 1) * std::log1p(-h);
  }
};

struct CostOptimalPolicy::Prefix {
  Stats stats;
  std::map<int64_t, int64_t> live_by_created;    // every live artifact
  std::map<int64_t, int64_t> unread_by_created;  // never read
  // last read day -> read artifacts, by the class of that last read day
  std::array<std::map<int64_t, int64_t>, kClasses> read_by_last;
  int64_t accounted_through = kNever;  // exposure is counted up to this day
  Profile profile;
};

Result<std::unique_ptr<CostOptimalPolicy>> CostOptimalPolicy::create(const TierTable& tiers,
                                                                     CostOptimalOptions options) {
  if (options.horizon_days < 1 || options.horizon_days > 3650 || options.prefix_prior_days <= 0 ||
      options.base_hazard < 0 || options.base_hazard >= 1 || options.hysteresis < 0) {
    return Errc::kInvalidArgument;
  }
  return std::unique_ptr<CostOptimalPolicy>(new CostOptimalPolicy(tiers, options));
}

CostOptimalPolicy::CostOptimalPolicy(const TierTable& tiers, CostOptimalOptions options)
    : tiers_(tiers),
      options_(options),
      global_(std::make_unique<Stats>()),
      global_profile_(std::make_unique<Profile>()) {}

CostOptimalPolicy::~CostOptimalPolicy() = default;

CostOptimalPolicy::Prefix& CostOptimalPolicy::prefix(const std::string& name, int64_t day) {
  std::unique_ptr<Prefix>& slot = prefixes_[name];
  if (!slot) {
    slot = std::make_unique<Prefix>();
  }
  Prefix& p = *slot;
  if (p.accounted_through == kNever) {
    p.accounted_through = day - 1;
  }
  // Every artifact alive on a day is one artifact-day at risk at its age (or gap) that day.
  // Events call this before they change the live sets, so each day is counted once with the
  // artifacts alive then.
  for (int64_t d = p.accounted_through + 1; d <= day; ++d) {
    for (Stats* s : {&p.stats, global_.get()}) {
      for (const auto& [created, n] : p.live_by_created) {
        if (created <= d) {
          s->life.exposure[bucket_of(d - created)] += static_cast<double>(n);
        }
      }
      for (const auto& [created, n] : p.unread_by_created) {
        if (created <= d) {
          s->first_read.exposure[bucket_of(d - created)] += static_cast<double>(n);
        }
      }
      for (int c = 0; c < kClasses; ++c) {
        for (const auto& [last, n] : p.read_by_last[c]) {
          if (last < d) {
            s->gap[c].exposure[bucket_of(d - last)] += static_cast<double>(n);
          }
        }
      }
    }
  }
  p.accounted_through = std::max(p.accounted_through, day);
  return p;
}

void CostOptimalPolicy::observe_put(const ObjectState& object, int64_t day) {
  Prefix& p = prefix(object.prefix, day);
  add(p.live_by_created, object.created_day, int64_t{1});
  add(p.unread_by_created, object.created_day, int64_t{1});
  if (object.created_day <= day) {  // today is counted for the others already
    const int b = bucket_of(day - object.created_day);
    for (Stats* s : {&p.stats, global_.get()}) {
      s->life.exposure[b] += 1;
      s->first_read.exposure[b] += 1;
    }
  }
}

void CostOptimalPolicy::observe_read(const ObjectState& object, int64_t day) {
  Prefix& p = prefix(object.prefix, day);
  const bool first_today = object.last_access_day != day;
  for (Stats* s : {&p.stats, global_.get()}) {
    s->reads += 1;
    s->read_days += first_today ? 1 : 0;
  }
  if (!first_today) {
    return;
  }
  const int after = class_after_read(object, day);
  if (object.last_access_day < 0) {
    const int b = bucket_of(day - object.created_day);
    for (Stats* s : {&p.stats, global_.get()}) {
      s->first_read.events[b] += 1;
    }
    add(p.unread_by_created, object.created_day, int64_t{-1});
  } else {
    const int64_t last = object.last_access_day;
    const int c = class_after_read(object, last);
    for (Stats* s : {&p.stats, global_.get()}) {
      s->gap[c].events[bucket_of(day - last)] += 1;
      if (day - last < kMomentumDays) {
        s->moves[c][after] += 1;
      }
    }
    add(p.read_by_last[c], last, int64_t{-1});
  }
  add(p.read_by_last[after], day, int64_t{1});
}

void CostOptimalPolicy::observe_delete(const ObjectState& object, int64_t day) {
  Prefix& p = prefix(object.prefix, day);
  add(p.live_by_created, object.created_day, int64_t{-1});
  if (object.last_access_day < 0) {
    add(p.unread_by_created, object.created_day, int64_t{-1});
  } else {
    const int c = class_after_read(object, object.last_access_day);
    add(p.read_by_last[c], object.last_access_day, int64_t{-1});
  }
  const int b = bucket_of(day - object.created_day);
  for (Stats* s : {&p.stats, global_.get()}) {
    s->life.events[b] += 1;
  }
}

namespace {

// Events over exposure with `prior` pseudo-exposure at `parent(b)`.
template <typename Parent>
void estimate(const Counts& counts, double prior, Parent parent, Rates& out) {
  for (int b = 0; b < kBuckets; ++b) {
    out[b] = (counts.events[b] + prior * parent(b)) / (counts.exposure[b] + prior);
  }
}

void estimate_moves(const Moves& counts, const Moves* parent, Moves& out) {
  for (int c = 0; c < kClasses; ++c) {
    double total = 0;
    for (int c2 = 0; c2 < kClasses; ++c2) {
      total += counts[c][c2];
    }
    for (int c2 = 0; c2 < kClasses; ++c2) {
      const double prior = parent ? (*parent)[c][c2] : (c2 == usual_next_class(c) ? 1.0 : 0.0);
      out[c][c2] = (counts[c][c2] + kMovePrior * prior) / (total + kMovePrior);
    }
  }
}

std::vector<double> per_day(const Rates& rate) {
  std::vector<double> out(kTableDays);
  for (int64_t d = 0; d < kTableDays; ++d) {
    out[d] = std::min(rate[bucket_of(d)], kMaxHazard);
  }
  return out;
}

// The renewal tables of Profile, from its gap hazards and class moves.
void renewal_tables(const std::array<std::vector<double>, kClasses>& hazard, const Moves& moves,
                    int64_t horizon, std::array<std::vector<double>, kClasses>& renewal,
                    std::array<std::vector<double>, kClasses>& after_short) {
  // first[c][s]: P(the next read day comes exactly s days after one of class c)
  std::array<std::vector<double>, kClasses> first;
  std::array<std::vector<double>, kClasses> density;  // [c][tau]: a read day tau days after
  std::array<std::vector<double>, kClasses> mixed;    // density after a short gap, by moves
  for (int c = 0; c < kClasses; ++c) {
    first[c].assign(horizon + 1, 0);
    double survive = 1;
    for (int64_t gap = 1; gap <= horizon; ++gap) {
      const double h = hazard[c][std::min(gap, kTableDays - 1)];
      first[c][gap] = survive * h;
      survive *= 1 - h;
    }
    density[c].assign(horizon + 1, 0);
    mixed[c].assign(horizon + 1, 0);
  }
  const auto mix = [&](int64_t tau) {
    for (int c = 0; c < kClasses; ++c) {
      double sum = 0;
      for (int c2 = 0; c2 < kClasses; ++c2) {
        sum += moves[c][c2] * density[c2][tau];
      }
      mixed[c][tau] = sum;
    }
  };
  for (int c = 0; c < kClasses; ++c) {
    density[c][0] = 1;
  }
  mix(0);
  for (int64_t tau = 1; tau <= horizon; ++tau) {
    for (int c = 0; c < kClasses; ++c) {
      double sum = 0;
      for (int64_t gap = 1; gap <= tau; ++gap) {
        const double next = gap >= 90              ? density[kOnset90][tau - gap]
                            : gap >= kMomentumDays ? density[kOnset30][tau - gap]
                                                   : mixed[c][tau - gap];
        sum += first[c][gap] * next;
      }
      density[c][tau] = sum;
    }
    mix(tau);
  }
  for (int c = 0; c < kClasses; ++c) {
    renewal[c].assign(horizon + 1, 0);
    after_short[c].assign(horizon + 1, 0);
    double running = 0;
    double running_mixed = 0;
    for (int64_t tau = 0; tau <= horizon; ++tau) {
      running += density[c][tau];
      running_mixed += mixed[c][tau];
      renewal[c][tau] = running;
      after_short[c][tau] = running_mixed;
    }
  }
}

}  // namespace

const CostOptimalPolicy::Profile& CostOptimalPolicy::global_profile(int64_t day) {
  Profile& g = *global_profile_;
  if (g.day == day) {
    return g;
  }
  g.day = day;
  const Stats& s = *global_;
  const double k = options_.prefix_prior_days;
  const double base = options_.base_hazard;
  // With nothing observed at an age or gap, the hazard of the bucket before.
  const auto carry = [](const Rates& rates, double first) {
    return [&rates, first](int b) { return b == 0 ? first : rates[b - 1]; };
  };
  estimate(s.first_read, k, carry(g.first_rate, base), g.first_rate);
  Counts pooled;  // a class's gap hazard leans on all classes at the same gap
  for (const Counts& c : s.gap) {
    for (int b = 0; b < kBuckets; ++b) {
      pooled.events[b] += c.events[b];
      pooled.exposure[b] += c.exposure[b];
    }
  }
  Rates pooled_rate{};
  estimate(pooled, k, carry(pooled_rate, base), pooled_rate);
  for (int c = 0; c < kClasses; ++c) {
    estimate(
        s.gap[c], k, [&](int b) { return pooled_rate[b]; }, g.gap_rate[c]);
  }
  estimate(s.life, k, carry(g.delete_rate, 0.0), g.delete_rate);
  estimate_moves(s.moves, nullptr, g.moves);
  g.gets_per_read_day = (s.reads + 2.0) / (s.read_days + 2.0);
  g.deletes = std::ranges::any_of(s.life.events, [](double e) { return e > 0; });
  return g;
}

const CostOptimalPolicy::Profile& CostOptimalPolicy::profile(Prefix& p, int64_t day) {
  if (p.profile.day == day) {
    return p.profile;
  }
  const Profile& g = global_profile(day);
  Profile& out = p.profile;
  out.day = day;
  const Stats& s = p.stats;
  const double k = options_.prefix_prior_days;
  // A bucket's parent is the all-prefix rate there, times the prefix's own level: its events
  // over what the all-prefix rates expected from its exposure. So a prefix's few artifact-days
  // at an age add up across ages, and the all-prefix profile only lends its shape.
  const auto scaled = [](const Counts& counts, const Rates& global) {
    double events = 0;
    double expected = 0;
    for (int b = 0; b < kBuckets; ++b) {
      events += counts.events[b];
      expected += counts.exposure[b] * global[b];
    }
    const double level = (events + kLevelPriorEvents) / (expected + kLevelPriorEvents);
    return [&global, level](int b) { return global[b] * level; };
  };
  estimate(s.first_read, k, scaled(s.first_read, g.first_rate), out.first_rate);
  for (int c = 0; c < kClasses; ++c) {
    estimate(s.gap[c], k, scaled(s.gap[c], g.gap_rate[c]), out.gap_rate[c]);
  }
  estimate(s.life, k, scaled(s.life, g.delete_rate), out.delete_rate);
  estimate_moves(s.moves, &g.moves, out.moves);
  out.gets_per_read_day = (s.reads + 2.0 * g.gets_per_read_day) / (s.read_days + 2.0);
  out.deletes = g.deletes;

  out.first_hazard = per_day(out.first_rate);
  for (int c = 0; c < kClasses; ++c) {
    out.gap_hazard[c] = per_day(out.gap_rate[c]);
  }
  out.log_survival.assign(kTableDays, 0);
  for (int64_t a = 1; a < kTableDays; ++a) {
    out.log_survival[a] = out.log_survival[a - 1] +
                          std::log1p(-std::min(out.delete_rate[bucket_of(a - 1)], kMaxHazard));
  }
  renewal_tables(out.gap_hazard, out.moves, options_.horizon_days, out.renewal, out.after_short);
  return out;
}

void CostOptimalPolicy::start_forecast(const Profile& prof, const ObjectState& object,
                                       int64_t today, int64_t days) {
  const auto n = static_cast<size_t>(std::max<int64_t>(days, 0));
  next_read_.assign(n, 0);
  double survive = 1;
  if (object.last_access_day < 0) {
    last_class_ = -1;
    const int64_t age = std::max<int64_t>(today - object.created_day, 0);
    for (size_t t = 0; t < n; ++t) {
      const double h = prof.first_at(age + static_cast<int64_t>(t));
      next_read_[t] = survive * h;
      survive *= 1 - h;
    }
    return;
  }
  last_class_ = class_after_read(object, object.last_access_day);
  gap_ = std::max<int64_t>(today - object.last_access_day, 1);
  for (size_t t = 0; t < n; ++t) {
    const double h = prof.gap_at(last_class_, gap_ + static_cast<int64_t>(t));
    next_read_[t] = survive * h;
    survive *= 1 - h;
  }
}

double CostOptimalPolicy::expected_read_days(const Profile& prof, int64_t s) const {
  double sum = 0;
  for (int64_t t = 0; t < s; ++t) {
    const int64_t tau = std::min<int64_t>(s - 1 - t, options_.horizon_days);
    // The next read day on day t, and those after it within the s days.
    double after = 0;
    if (last_class_ < 0) {
      after = prof.renewal[kFirst][tau];
    } else if (gap_ + t >= 90) {
      after = prof.renewal[kOnset90][tau];
    } else if (gap_ + t >= kMomentumDays) {
      after = prof.renewal[kOnset30][tau];
    } else {
      after = prof.after_short[last_class_][tau];
    }
    sum += next_read_[t] * after;
  }
  return sum;
}

std::vector<double> CostOptimalPolicy::forecast(const ObjectState& object, int64_t today,
                                                int64_t days) {
  days = std::clamp<int64_t>(days, 0, options_.horizon_days);
  Prefix& p = prefix(object.prefix, today);
  const Profile& prof = profile(p, today);
  start_forecast(prof, object, today, days);
  std::vector<double> out(static_cast<size_t>(days));
  double before = 0;
  for (int64_t t = 0; t < days; ++t) {
    const double through = expected_read_days(prof, t + 1);
    out[t] = through - before;
    before = through;
  }
  return out;
}

Decision CostOptimalPolicy::decide(const ObjectState& object, int64_t today) {
  Prefix& p = prefix(object.prefix, today);
  const Profile& prof = profile(p, today);
  const auto current = tiers_.index_of(object.tier);

  PlanInput in;
  in.size = object.size;
  in.current = current.value_or(0);
  in.days_on_current = current ? std::max<int64_t>(today - object.tier_since_day, 0)
                               : std::numeric_limits<int32_t>::max();
  in.restored = current && !tiers_[*current].instant && object.last_access_day == today - 1 &&
                object.tier_since_day < today;
  // The span: the horizon, or the prefix's median remaining life when that is shorter.
  in.span = options_.horizon_days;
  if (prof.deletes) {
    const int64_t age = std::max<int64_t>(today - object.created_day, 0);
    const double half = prof.log_survival_at(age) + std::log(0.5);
    if (prof.log_survival_at(age + in.span) <= half) {
      int64_t lo = 1;
      int64_t hi = in.span;
      while (lo < hi) {
        const int64_t mid = (lo + hi) / 2;
        if (prof.log_survival_at(age + mid) <= half) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      in.span = lo;
      in.removed = true;
    }
  }
  start_forecast(prof, object, today, in.span);
  for (size_t i = 0; i < kPlanLegDays.size() && kPlanLegDays[i] < in.span; ++i) {
    in.read_days_by[i] = expected_read_days(prof, kPlanLegDays[i]);
  }
  in.read_days = expected_read_days(prof, in.span);
  in.gets_per_read_day = prof.gets_per_read_day;
  if (object.read_day_count > 0) {
    in.gets_per_read_day = (static_cast<double>(object.read_count) + 2.0 * in.gets_per_read_day) /
                           (static_cast<double>(object.read_day_count) + 2.0);
  }
  return choose_tier(tiers_, in, price_plans(tiers_, in), options_.hysteresis);
}

}  // namespace vaultaire::tiering

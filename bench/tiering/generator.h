#pragma once

// Synthetic access traces for tiering_sim, one family per access pattern the policies must
// handle. Deterministic: the same options give the same trace on every platform (our own
// random number generator and samplers, not <random>'s distributions).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tiering/trace.h"

namespace vaultaire::tiering::bench {

enum class Family {
  kZipf,     // zipf popularity with ageing: new objects popular, popularity decays
  kReports,  // periodic reports: bursts of reads on the 1st of each month or quarter
  kBackups,  // backup sets written and never read; daily and weekly ones expire
  kReborn,   // decaying popularity, and a share of old objects turns hot again after months
  kPoisson,  // a control: each object read at its own steady random rate; nothing to learn
             // beyond the rate, so it shows what hindsight alone is worth
};

// zipf, reports, backups, reborn, poisson
std::optional<Family> parse_family(std::string_view name);
std::string_view family_name(Family family);

// What the generator drew for one object: enough to say how likely a read is on any day (the
// rate oracle's knowledge; never given to the policies).
struct ObjectTruth {
  int64_t created = 0;
  int64_t deleted = -1;  // the day it is deleted, -1 if it is kept
  // Reads that fade: `decay_total` expected over the life, time constant `decay_tau` days.
  double decay_total = 0;
  double decay_tau = 1;
  // Poisson(`steady_rate`) reads every day.
  double steady_rate = 0;
  // Poisson(`burst_rate`) reads a day on [burst_start, burst_start + burst_days).
  int64_t burst_start = -1;
  int64_t burst_days = 0;
  double burst_rate = 0;
  enum class Report : uint8_t { kNone, kMonthly, kQuarterly } report = Report::kNone;
};

struct DayOutlook {
  double read_chance = 0;  // P(at least one GET that day)
  double expected_gets = 0;
};

DayOutlook outlook(const ObjectTruth& truth, int64_t day);

struct GeneratorOptions {
  Family family = Family::kZipf;
  int64_t objects = 10'000;  // about; backups round to whole hosts
  int64_t days = 365;
  uint64_t seed = 1;
};

struct GeneratedTrace {
  Trace trace;
  std::unordered_map<std::string, ObjectTruth> truth;  // by key
};

GeneratedTrace generate(const GeneratorOptions& options);

}  // namespace vaultaire::tiering::bench

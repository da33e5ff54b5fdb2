#include "tiering/simulation.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/assert.h"
#include "tiering/optimal.h"

namespace vaultaire::tiering {
namespace {

// One artifact version's life as the simulator records it.
struct Life {
  std::string key;
  uint64_t size = 0;
  int64_t start = 0;
  LifeEnd end = LifeEnd::kStillStored;
  std::vector<uint32_t> gets;               // per day of life
  std::vector<std::vector<uint8_t>> tiers;  // per policy, per day of life
};

struct Live {
  size_t life = 0;
  ObjectState state;
  std::vector<uint32_t> tier;       // per policy
  std::vector<int64_t> tier_since;  // per policy
};

class Simulator {
 public:
  Simulator(const TierTable& tiers, std::span<Policy* const> policies,
            const SimulationOptions& options, SimulationResult& result)
      : tiers_(tiers), policies_(policies), options_(options), result_(result) {}

  void run(const Trace& trace, int64_t days) {
    size_t next = 0;
    for (int64_t day = 0; day < days; ++day) {
      decision_pass(day);
      for (; next < trace.events.size() && trace.events[next].day == day; ++next) {
        apply(trace.events[next], day);
      }
    }
  }

  std::vector<Life>& lives() { return lives_; }

 private:
  // Points the shared state at policy p's view of where the artifact is.
  void view_for(Live& live, size_t p) {
    live.state.tier = tiers_[live.tier[p]].name;
    live.state.tier_since_day = live.tier_since[p];
  }

  uint32_t decided(size_t p, Live& live, int64_t day, uint32_t current) {
    const Decision decision = policies_[p]->decide(live.state, day);
    if (options_.on_decision) {
      options_.on_decision(p, live.state, day, decision);
    }
    if (decision.tier == tiers_[current].name) {
      return current;
    }
    return static_cast<uint32_t>(tiers_.index_of(decision.tier).value_or(current));
  }

  void decision_pass(int64_t day) {
    for (Live& live : live_) {
      Life& life = lives_[live.life];
      life.gets.push_back(0);
      for (size_t p = 0; p < policies_.size(); ++p) {
        view_for(live, p);
        const uint32_t target = decided(p, live, day, live.tier[p]);
        if (target != live.tier[p]) {
          live.tier[p] = target;
          live.tier_since[p] = day;
          result_.outcomes[p].moves += 1;
        }
        life.tiers[p].push_back(static_cast<uint8_t>(live.tier[p]));
      }
    }
  }

  void remove(const std::string& key, int64_t day) {
    const auto it = index_.find(key);
    Live& live = live_[it->second];
    lives_[live.life].end = LifeEnd::kRemoved;
    for (size_t p = 0; p < policies_.size(); ++p) {
      view_for(live, p);
      policies_[p]->observe_delete(live.state, day);
    }
    const size_t slot = it->second;
    index_.erase(it);
    if (slot + 1 != live_.size()) {
      live_[slot] = std::move(live_.back());
      index_[live_[slot].state.key] = slot;
    }
    live_.pop_back();
  }

  void apply(const TraceEvent& event, int64_t day) {
    switch (event.op) {
      case TraceOp::kPut: {
        if (index_.contains(event.key)) {
          remove(event.key, day);
        }
        Life life{.key = event.key, .size = event.size, .start = day};
        life.gets.push_back(0);
        life.tiers.resize(policies_.size());
        lives_.push_back(std::move(life));
        result_.lives += 1;
        Live live;
        live.life = lives_.size() - 1;
        live.state.key = event.key;
        live.state.prefix = prefix_of(event.key);
        live.state.size = event.size;
        live.state.created_day = day;
        live.tier.assign(policies_.size(), 0);
        live.tier_since.assign(policies_.size(), day);
        for (size_t p = 0; p < policies_.size(); ++p) {
          view_for(live, p);
          policies_[p]->observe_put(live.state, day);
          live.tier[p] = decided(p, live, day, 0);
          lives_.back().tiers[p].push_back(static_cast<uint8_t>(live.tier[p]));
        }
        index_.emplace(event.key, live_.size());
        live_.push_back(std::move(live));
        return;
      }
      case TraceOp::kGet: {
        const auto it = index_.find(event.key);
        if (it == index_.end()) {
          result_.ignored += 1;
          return;
        }
        Live& live = live_[it->second];
        lives_[live.life].gets.back() += 1;
        result_.gets += 1;
        for (size_t p = 0; p < policies_.size(); ++p) {
          view_for(live, p);
          policies_[p]->observe_read(live.state, day);
        }
        record_read(live.state, day);
        return;
      }
      case TraceOp::kDelete:
        if (!index_.contains(event.key)) {
          result_.ignored += 1;
          return;
        }
        remove(event.key, day);
        return;
    }
  }

  const TierTable& tiers_;
  std::span<Policy* const> policies_;
  const SimulationOptions& options_;
  SimulationResult& result_;
  std::vector<Life> lives_;
  std::vector<Live> live_;
  std::unordered_map<std::string, size_t> index_;  // key -> slot in live_
};

}  // namespace

SimulationResult simulate(const TierTable& tiers, const Trace& trace,
                          std::span<Policy* const> policies, const SimulationOptions& options) {
  VAULTAIRE_ASSERT(tiers.size() <= 256, "tier indexes fit a byte");
  SimulationResult result;
  result.days = options.days > 0 ? options.days : trace.days;
  for (Policy* policy : policies) {
    result.outcomes.push_back({.name = std::string(policy->name())});
  }
  Simulator simulator(tiers, policies, options, result);
  simulator.run(trace, result.days);

  const size_t first_extra = result.outcomes.size();
  if (options.all_hot) {
    result.outcomes.push_back({.name = "all-hot"});
  }
  if (options.optimal) {
    result.outcomes.push_back({.name = "optimal"});
  }
  for (PolicyOutcome& outcome : result.outcomes) {
    outcome.daily.assign(static_cast<size_t>(result.days), 0.0);
  }

  OptimalPlanner planner(tiers);
  std::vector<DayState> days;
  for (const Life& life : simulator.lives()) {
    const size_t length = life.gets.size();
    days.resize(length);
    LifeReport report;
    const auto price = [&](PolicyOutcome& outcome) {
      const std::span<double> daily(outcome.daily.data() + life.start, length);
      const CostBreakdown cost = life_cost(tiers, life.size, days, life.end, daily);
      outcome.cost += cost;
      if (options.on_life) {
        report.costs.push_back(cost.total());
        report.tiers.emplace_back(length);
        for (size_t i = 0; i < length; ++i) {
          report.tiers.back()[i] = days[i].tier;
        }
      }
    };
    for (size_t i = 0; i < length; ++i) {
      days[i].gets = life.gets[i];
    }
    for (size_t p = 0; p < policies.size(); ++p) {
      for (size_t i = 0; i < length; ++i) {
        days[i].tier = life.tiers[p][i];
      }
      price(result.outcomes[p]);
    }
    size_t extra = first_extra;
    if (options.all_hot) {
      for (DayState& d : days) {
        d.tier = 0;
      }
      price(result.outcomes[extra++]);
    }
    if (options.optimal) {
      const OptimalPlan plan = planner.plan(life.size, life.gets, life.end);
      for (size_t i = 0; i < length; ++i) {
        days[i].tier = plan.tiers[i];
        if (i > 0 && plan.tiers[i] != plan.tiers[i - 1]) {
          result.outcomes[extra].moves += 1;
        }
      }
      const double before = result.outcomes[extra].cost.total();
      price(result.outcomes[extra]);
      const double priced = result.outcomes[extra].cost.total() - before;
      VAULTAIRE_ASSERT(std::abs(priced - plan.cost) <= 1e-9 * std::max(1.0, plan.cost),
                       "the optimum's plan costs what the program computed");
    }
    if (options.on_life) {
      report.key = life.key;
      report.size = life.size;
      report.start = life.start;
      report.end = life.end;
      report.gets = life.gets;
      options.on_life(report);
    }
  }
  return result;
}

}  // namespace vaultaire::tiering

// tiering_sim: runs the tiering policies over an access trace on a simulated clock and prints
// what each costs next to "all hot" and the offline optimum (docs/tiering.md).
//
//   tiering_sim --generate zipf --objects 10000 --days 365 --seed 1 --svg zipf.svg
//   tiering_sim --trace trace.csv
//   tiering_sim --generate backups --write-trace backups.csv

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "generator.h"
#include "rate_oracle.h"
#include "svg_plot.h"
#include "tiering/policy.h"
#include "tiering/simulation.h"
#include "tiering/tier.h"
#include "tiering/trace.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace tiering = vaultaire::tiering;

struct Args {
  std::string trace_file;
  std::string family;
  int64_t objects = 10'000;
  int64_t days = 0;
  uint64_t seed = 1;
  std::string write_trace;
  std::string svg;
  std::string explain;
  size_t worst = 0;
  bool no_oracle = false;
  std::vector<std::string> policies = {"age-rules", "intelligent-tiering", "cost-optimal"};
};

bool write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  return static_cast<bool>(out);
}

int run(const Args& args) {
  const tiering::TierTable& tiers = tiering::default_tiers();
  const auto tiers_of = [&](uint32_t index) -> std::string_view { return tiers[index].name; };
  tiering::Trace trace;
  std::unordered_map<std::string, tiering::bench::ObjectTruth> truth;
  std::string source;
  if (!args.trace_file.empty()) {
    std::ifstream in(args.trace_file, std::ios::binary);
    if (!in) {
      std::cerr << "cannot read " << args.trace_file << "\n";
      return 1;
    }
    std::stringstream text;
    text << in.rdbuf();
    tiering::TraceError error;
    auto parsed = tiering::parse_trace(text.str(), &error);
    if (!parsed) {
      std::cerr << args.trace_file << ":" << error.line << ": " << error.message << "\n";
      return 1;
    }
    trace = *std::move(parsed);
    source = args.trace_file;
  } else {
    const auto family = tiering::bench::parse_family(args.family);
    if (!family) {
      std::cerr << "unknown family '" << args.family
                << "' (zipf, reports, backups, reborn, poisson)\n";
      return 1;
    }
    const auto started = Clock::now();
    tiering::bench::GeneratedTrace generated =
        tiering::bench::generate({.family = *family,
                                  .objects = args.objects,
                                  .days = args.days > 0 ? args.days : 365,
                                  .seed = args.seed});
    trace = std::move(generated.trace);
    truth = std::move(generated.truth);
    source = fmt::format("generated {} (objects {}, days {}, seed {}) in {:.1f} s", args.family,
                         args.objects, trace.days, args.seed,
                         std::chrono::duration<double>(Clock::now() - started).count());
  }
  if (!args.write_trace.empty() && !write_file(args.write_trace, tiering::format_trace(trace))) {
    std::cerr << "cannot write " << args.write_trace << "\n";
    return 1;
  }

  std::vector<std::unique_ptr<tiering::Policy>> owned;
  std::vector<tiering::Policy*> policies;
  for (const std::string& name : args.policies) {
    auto policy = tiering::make_policy(name, tiers);
    if (!policy) {
      std::cerr << "unknown policy '" << name << "'\n";
      return 1;
    }
    owned.push_back(*std::move(policy));
    policies.push_back(owned.back().get());
  }

  // Generated traces also get the rate oracle: told the true read rates, not the reads.
  std::unique_ptr<tiering::bench::RateOraclePolicy> oracle;
  if (!truth.empty() && !args.no_oracle) {
    oracle = std::make_unique<tiering::bench::RateOraclePolicy>(tiers, truth);
    policies.push_back(oracle.get());
  }

  const auto started = Clock::now();
  tiering::SimulationOptions options{.days = args.days};
  if (!args.explain.empty()) {
    options.on_decision = [&](size_t p, const tiering::ObjectState& object, int64_t day,
                              const tiering::Decision& decision) {
      if (object.key != args.explain) {
        return;
      }
      std::string costs;
      for (const tiering::TierCost& c : decision.costs) {
        costs += fmt::format(" {}={:.3g}({})", c.tier, c.expected_cost, c.note);
      }
      fmt::print("day {} {}: {} -> {}: {}{}\n", day, policies[p]->name(), object.tier,
                 decision.tier, decision.reason, costs);
    };
  }
  // The lives where the last policy of --policies loses most to the optimum.
  struct Loss {
    double excess;
    std::string line;
  };
  std::vector<Loss> losses;
  if (args.worst > 0) {
    options.on_life = [&](const tiering::LifeReport& life) {
      const size_t mine = args.policies.size() - 1;
      const double excess = life.costs[mine] - life.costs.back();
      if (losses.size() == args.worst && excess <= losses.back().excess) {
        return;
      }
      const auto runs = [&](const std::vector<uint32_t>& tiers) {
        std::string out;
        for (size_t i = 0; i < tiers.size(); ++i) {
          if (i == 0 || tiers[i] != tiers[i - 1]) {
            out += fmt::format(" {}:{}", life.start + static_cast<int64_t>(i), tiers_of(tiers[i]));
          }
        }
        return out;
      };
      std::string reads;
      for (size_t i = 0; i < life.gets.size(); ++i) {
        if (life.gets[i] > 0) {
          reads += fmt::format(" {}x{}", life.start + static_cast<int64_t>(i), life.gets[i]);
        }
      }
      losses.push_back(
          {excess,
           fmt::format("{} size {} excess {:.4f} ({:.4f} vs {:.4f})\n  reads:{}\n  "
                       "{}:{}\n  optimal:{}",
                       life.key, life.size, excess, life.costs[mine], life.costs.back(), reads,
                       policies[mine]->name(), runs(life.tiers[mine]), runs(life.tiers.back()))});
      std::sort(losses.begin(), losses.end(),
                [](const Loss& a, const Loss& b) { return a.excess > b.excess; });
      if (losses.size() > args.worst) {
        losses.pop_back();
      }
    };
  }
  const tiering::SimulationResult result = tiering::simulate(tiers, trace, policies, options);
  for (const Loss& loss : losses) {
    fmt::print("{}\n", loss.line);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  const double optimal = result.outcomes.back().cost.total();
  const double all_hot = result.outcomes[result.outcomes.size() - 2].cost.total();
  fmt::print("{}\n{} artifact versions, {} GETs ({} ignored), {} days, simulated in {:.1f} s\n\n",
             source, result.lives, result.gets, result.ignored, result.days, seconds);
  fmt::print(
      "| policy | total $ | x optimal | x all-hot | storage | requests | retrieval | restores | "
      "transitions | early exit | moves |\n"
      "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const tiering::PolicyOutcome& o : result.outcomes) {
    const tiering::CostBreakdown& c = o.cost;
    fmt::print(
        "| {} | {:.4f} | {:.3f} | {:.3f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | "
        "{} |\n",
        o.name, c.total(), optimal > 0 ? c.total() / optimal : 0.0,
        all_hot > 0 ? c.total() / all_hot : 0.0, c.storage, c.requests, c.retrieval, c.restores,
        c.transitions, c.early_exit, o.moves);
  }

  if (!args.svg.empty()) {
    std::vector<tiering::bench::Series> series;
    for (const tiering::PolicyOutcome& o : result.outcomes) {
      tiering::bench::Series s{.name = o.name};
      double sum = 0;
      for (const double d : o.daily) {
        sum += d;
        s.values.push_back(sum);
      }
      series.push_back(std::move(s));
    }
    const std::string title = args.trace_file.empty()
                                  ? fmt::format("Cumulative cost, {} trace", args.family)
                                  : fmt::format("Cumulative cost, {}", args.trace_file);
    if (!write_file(args.svg, tiering::bench::line_chart_svg(title, "day", "US dollars", series))) {
      std::cerr << "cannot write " << args.svg << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs tiering policies over an access trace and prices them (docs/tiering.md)"};
  Args args;
  auto* trace = app.add_option("--trace", args.trace_file, "CSV trace: day,op,key,size");
  auto* generate = app.add_option("--generate", args.family,
                                  "generate a trace: zipf, reports, backups, reborn or poisson");
  trace->excludes(generate);
  generate->excludes(trace);
  app.add_option("--objects", args.objects, "objects to generate (about)")
      ->check(CLI::PositiveNumber);
  app.add_option("--days", args.days, "days to simulate (default: 365, or the trace's length)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", args.seed, "generator seed");
  app.add_option("--write-trace", args.write_trace, "also write the trace as CSV to this file");
  app.add_option("--svg", args.svg, "write the cumulative cost plot to this file");
  app.add_option("--explain", args.explain, "print every decision made for this key");
  app.add_option("--worst", args.worst,
                 "print the N lives where the last policy loses most to the optimum");
  app.add_flag("--no-oracle", args.no_oracle, "leave the rate oracle out (generated traces)");
  app.add_option("--policies", args.policies, "policies to run")->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  if (args.trace_file.empty() && args.family.empty()) {
    std::cerr << "give --trace FILE or --generate FAMILY\n";
    return 2;
  }
  return run(args);
}

#include "common/metrics.h"

#include <cmath>
#include <sstream>

namespace vaultaire {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double v) noexcept {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) {
    ++i;
  }
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(v * 1e6)), std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

double Histogram::sum() const { return static_cast<double>(sum_micros_.load()) / 1e6; }

uint64_t Histogram::count() const { return cumulative_counts().back(); }

Counter& Metrics::counter(const std::string& name, const std::string& help,
                          const std::string& labels) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "counter";
  auto& slot = f.counters[labels];
  if (!slot) {
    slot = std::make_unique<Counter>();
  }
  return *slot;
}

Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                              std::vector<double> upper_bounds, const std::string& labels) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "histogram";
  auto& slot = f.histograms[labels];
  if (!slot) {
    slot = std::make_unique<Histogram>(std::move(upper_bounds));
  }
  return *slot;
}

void Metrics::gauge(const std::string& name, const std::string& help,
                    std::function<double()> read) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "gauge";
  f.gauge = std::move(read);
}

std::string Metrics::render() const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  auto with = [](const std::string& labels, const std::string& extra) {
    if (labels.empty() && extra.empty()) {
      return std::string();
    }
    if (labels.empty()) {
      return "{" + extra + "}";
    }
    if (extra.empty()) {
      return "{" + labels + "}";
    }
    return "{" + labels + "," + extra + "}";
  };
  for (const auto& [name, f] : families_) {
    out << "# HELP " << name << ' ' << f.help << '\n';
    out << "# TYPE " << name << ' ' << f.type << '\n';
    if (f.type == "gauge" && f.gauge) {
      out << name << ' ' << f.gauge() << '\n';
    }
    for (const auto& [labels, c] : f.counters) {
      out << name << with(labels, "") << ' ' << c->value() << '\n';
    }
    for (const auto& [labels, h] : f.histograms) {
      const auto counts = h->cumulative_counts();
      for (size_t i = 0; i < h->bounds().size(); ++i) {
        std::ostringstream le;
        le << "le=\"" << h->bounds()[i] << '"';
        out << name << "_bucket" << with(labels, le.str()) << ' ' << counts[i] << '\n';
      }
      out << name << "_bucket" << with(labels, "le=\"+Inf\"") << ' ' << counts.back() << '\n';
      out << name << "_sum" << with(labels, "") << ' ' << h->sum() << '\n';
      out << name << "_count" << with(labels, "") << ' ' << counts.back() << '\n';
    }
  }
  return out.str();
}

Metrics& metrics() {
  static Metrics m;
  return m;
}

}  // namespace vaultaire

#pragma once

// Process-wide metrics in the Prometheus text format: counters, histograms and gauges read
// through callbacks. Registration takes a lock; updating a metric is one atomic add, so hot
// paths look a metric up once and keep the reference (references stay valid for the process).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vaultaire {

class Counter {
 public:
  void inc(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative count for each bound, then +Inf; and the sum.
  std::vector<uint64_t> cumulative_counts() const;
  double sum() const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // one per bound, plus +Inf
  std::atomic<uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  // `labels` is the Prometheus label set without braces: `op="GetObject",status="200"`.
  Counter& counter(const std::string& name, const std::string& help,
                   const std::string& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::vector<double> upper_bounds, const std::string& labels = {});
  void gauge(const std::string& name, const std::string& help, std::function<double()> read);

  std::string render() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
    std::function<double()> gauge;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

Metrics& metrics();

}  // namespace vaultaire

#pragma once

// Time, injectable: production code reads a Clock&, tests pass a ManualClock and move it by hand.
// Times are nanoseconds since the Unix epoch (UTC), the unit events carry.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace vaultaire {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_unix_nanos() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_unix_nanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_unix_nanos) : now_(start_unix_nanos) {}
  int64_t now_unix_nanos() const override { return now_.load(); }
  void set(int64_t unix_nanos) { now_.store(unix_nanos); }
  void advance(std::chrono::nanoseconds d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_;
};

// The system clock moved forward by an offset that only grows: `vaultaire serve --test-clock`
// runs the event log, the tiering actor and restores on it, so an end-to-end test can let 90
// days pass in a second (the admin API's POST /admin/v1/test/clock). Thread-safe.
class OffsetClock final : public Clock {
 public:
  int64_t now_unix_nanos() const override {
    return SystemClock::instance().now_unix_nanos() + offset_.load();
  }
  void advance(std::chrono::nanoseconds d) {
    if (d.count() > 0) {
      offset_.fetch_add(d.count());
    }
  }
  int64_t offset_nanos() const { return offset_.load(); }

 private:
  std::atomic<int64_t> offset_{0};
};

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace vaultaire

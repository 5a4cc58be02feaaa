// Time as an injected dependency. Production code asks a Clock; tests advance a ManualClock
// instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tramite {

// Milliseconds since the Unix epoch, UTC.
using TimePoint = std::int64_t;

// Thread safety: implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint nowMs() const = 0;
};

// Wall-clock time.
class SystemClock final : public Clock {
 public:
  TimePoint nowMs() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = 0) : now_(start) {}
  TimePoint nowMs() const override { return now_.load(); }
  void set(TimePoint t) { now_.store(t); }
  void advance(std::int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<TimePoint> now_;
};

}  // namespace tramite

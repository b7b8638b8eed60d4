// Clock: the only way nines code learns the time.
//
// Pure logic takes `now` as an argument; schedulers and servers hold a `Clock&` that outlives
// them. RealClock() is the process-wide system clock (the only code that reads the OS clock is
// core/clock.cc); FakeClock is for tests, so that a 30-day error budget or a week of alerts runs
// in milliseconds. Both are thread-safe.
#ifndef NINES_CORE_CLOCK_H_
#define NINES_CORE_CLOCK_H_

#include <atomic>

#include "core/time.h"

namespace nines::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (may jump when the system time is set).
  virtual Timestamp Now() const = 0;
  // Time since an arbitrary fixed origin that never goes backwards; use it to measure spans.
  virtual Duration Monotonic() const = 0;
};

// The system clock. The returned reference is valid for the life of the process.
Clock& RealClock();

// A clock that moves only when told. Now() starts at `start`; Monotonic() starts at zero.
class FakeClock final : public Clock {
 public:
  // 2023-11-14T22:13:20Z: a fixed, recognisable default start.
  static constexpr Timestamp kDefaultStart = Timestamp::FromUnixSeconds(1'700'000'000);

  explicit FakeClock(Timestamp start = kDefaultStart) : now_ns_(start.UnixNanos()) {}

  Timestamp Now() const override { return Timestamp::FromUnixNanos(now_ns_.load()); }
  Duration Monotonic() const override { return Duration::Nanoseconds(mono_ns_.load()); }

  // Moves both the wall and the monotonic clock forward by `d`. REQUIRES: d >= 0.
  void Advance(Duration d);
  // Sets the wall clock (forward or backward, as an NTP step would); Monotonic() is unchanged.
  void Set(Timestamp t) { now_ns_.store(t.UnixNanos()); }

 private:
  std::atomic<int64_t> now_ns_;
  std::atomic<int64_t> mono_ns_{0};
};

}  // namespace nines::core

#endif  // NINES_CORE_CLOCK_H_

// The one place in nines that reads the operating system's clocks.
#include "core/clock.h"

#include <chrono>

namespace nines::core {
namespace {

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override {
    return Timestamp::FromUnixNanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  }
  Duration Monotonic() const override {
    return Duration::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  }
};

}  // namespace

Clock& RealClock() {
  static SystemClock* clock = new SystemClock();  // never destroyed: usable during exit
  return *clock;
}

void FakeClock::Advance(Duration d) {
  if (d < Duration::Zero()) d = Duration::Zero();
  now_ns_.fetch_add(d.nanos());
  mono_ns_.fetch_add(d.nanos());
}

}  // namespace nines::core

#include "core/clock.h"
#include "core/log.h"

#include <gtest/gtest.h>

namespace nines::core {
namespace {

TEST(FakeClockTest, AdvanceMovesWallAndMonotonic) {
  FakeClock clock(Timestamp::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), Timestamp::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Monotonic(), Duration::Zero());
  clock.Advance(Duration::Days(30));
  EXPECT_EQ(clock.Now(), Timestamp::FromUnixSeconds(1000) + Duration::Days(30));
  EXPECT_EQ(clock.Monotonic(), Duration::Days(30));
}

TEST(FakeClockTest, SetMovesOnlyWallClock) {
  FakeClock clock;
  clock.Advance(Duration::Seconds(5));
  clock.Set(Timestamp::FromUnixSeconds(10));
  EXPECT_EQ(clock.Now(), Timestamp::FromUnixSeconds(10));
  EXPECT_EQ(clock.Monotonic(), Duration::Seconds(5));
}

TEST(FakeClockTest, NegativeAdvanceIsIgnored) {
  FakeClock clock;
  Timestamp before = clock.Now();
  clock.Advance(Duration::Seconds(-5));
  EXPECT_EQ(clock.Now(), before);
}

TEST(RealClockTest, MonotonicNeverGoesBackwards) {
  Clock& clock = RealClock();
  Duration prev = clock.Monotonic();
  for (int i = 0; i < 1000; ++i) {
    Duration now = clock.Monotonic();
    ASSERT_GE(now, prev);
    prev = now;
  }
  // The wall clock is past 2020 on any machine that runs these tests.
  EXPECT_GT(clock.Now(), Timestamp::FromUnixSeconds(1'577'836'800));
}

}  // namespace
}  // namespace nines::core

namespace nines::core {
namespace {

// LogLimiter: one line per key per interval, by the injected clock, each counting the events
// it stands for.
TEST(LogLimiterTest, OneLinePerKeyPerIntervalWithTheCountSinceTheLast) {
  FakeClock clock;
  LogLimiter limiter(clock, Duration::Minutes(1));
  EXPECT_EQ(limiter.Admit("too_old", 3), 3);  // the first event of a key is logged
  EXPECT_EQ(limiter.Admit("too_far_in_future"), 1);  // keys are independent
  clock.Advance(Duration::Seconds(30));
  EXPECT_EQ(limiter.Admit("too_old", 2), 0);
  EXPECT_EQ(limiter.Admit("too_old", 4), 0);
  clock.Advance(Duration::Seconds(30));
  EXPECT_EQ(limiter.Admit("too_old", 1), 7);  // 2 + 4 suppressed, and this one
  EXPECT_EQ(limiter.Admit("too_old", 1), 0);
  clock.Advance(Duration::Minutes(5));
  EXPECT_EQ(limiter.Admit("too_old", 1), 2);
}

}  // namespace
}  // namespace nines::core

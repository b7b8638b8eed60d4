#include <gtest/gtest.h>

#include "slo/slo.h"

namespace nines::slo {
namespace {

core::Timestamp T(std::string_view rfc3339) { return core::ParseTimestamp(rfc3339).value(); }

TEST(CalendarPeriodTest, TableOfUnitsZonesAndDstChanges) {
  struct Case {
    std::string name;
    CalendarUnit unit;
    std::string tz;
    std::string at;
    std::string start;
    std::string end;
    core::Duration length;
  };
  using core::Duration;
  std::vector<Case> cases = {
      {"utc month", CalendarUnit::kMonth, "UTC", "2026-02-15T12:00:00Z", "2026-02-01T00:00:00Z",
       "2026-03-01T00:00:00Z", Duration::Days(28)},
      {"berlin week across autumn DST (25h Sunday)", CalendarUnit::kWeek, "Europe/Berlin",
       "2026-10-25T12:00:00Z", "2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z",
       Duration::Days(7) + Duration::Hours(1)},
      {"berlin week across spring DST (23h Sunday)", CalendarUnit::kWeek, "Europe/Berlin",
       "2026-03-29T12:00:00Z", "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z",
       Duration::Days(7) - Duration::Hours(1)},
      {"a Monday 00:30 local is in the new week", CalendarUnit::kWeek, "Europe/Berlin",
       "2026-10-25T23:30:00Z", "2026-10-25T23:00:00Z", "2026-11-01T23:00:00Z",
       Duration::Days(7)},
      {"berlin october has 31d1h", CalendarUnit::kMonth, "Europe/Berlin",
       "2026-10-01T00:00:00Z", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z",
       Duration::Days(31) + Duration::Hours(1)},
      {"utc instant still in the previous local month", CalendarUnit::kMonth,
       "America/New_York", "2026-03-01T03:00:00Z", "2026-02-01T05:00:00Z",
       "2026-03-01T05:00:00Z", Duration::Days(28)},
      {"quarter Q4 in Berlin", CalendarUnit::kQuarter, "Europe/Berlin", "2026-11-15T00:00:00Z",
       "2026-09-30T22:00:00Z", "2026-12-31T23:00:00Z", Duration::Days(92) + Duration::Hours(1)},
      {"quarter Q1 UTC", CalendarUnit::kQuarter, "UTC", "2026-01-01T00:00:00Z",
       "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", Duration::Days(90)},
      {"half-hour zone", CalendarUnit::kMonth, "Asia/Kolkata", "2026-05-31T20:00:00Z",
       "2026-05-31T18:30:00Z", "2026-06-30T18:30:00Z", Duration::Days(30)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto p = CalendarPeriod(c.unit, c.tz, T(c.at));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->first.ToRfc3339(), T(c.start).ToRfc3339());
    EXPECT_EQ(p->second.ToRfc3339(), T(c.end).ToRfc3339());
    EXPECT_EQ(p->second - p->first, c.length);
  }
}

TEST(CalendarPeriodTest, UnknownZoneIsInvalidArgument) {
  auto p = CalendarPeriod(CalendarUnit::kMonth, "Mars/Olympus_Mons", T("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("Mars/Olympus_Mons"), std::string::npos);
}

TEST(ResolveWindowTest, RollingWindowEndsBeforeTheMinuteInProgress) {
  auto w = ResolveWindow(Window::Rolling(core::Duration::Hours(1)), T("2026-03-01T10:00:59Z"));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(MinuteStart(w->end_minute), T("2026-03-01T10:00:00Z"));
  EXPECT_EQ(MinuteStart(w->begin_minute), T("2026-03-01T09:00:00Z"));
  EXPECT_EQ(w->period, core::Duration::Hours(1));
}

TEST(ResolveWindowTest, RollingWindowMustBeWholeMinutes) {
  EXPECT_FALSE(ResolveWindow(Window::Rolling(core::Duration::Seconds(90)), T("2026-03-01T10:00:00Z")).ok());
  EXPECT_FALSE(ResolveWindow(Window::Rolling(core::Duration::Zero()), T("2026-03-01T10:00:00Z")).ok());
}

TEST(ResolveWindowTest, CalendarWindowRunsFromPeriodStartToNow) {
  auto w = ResolveWindow(Window::Calendar(CalendarUnit::kMonth, "Europe/Berlin"),
                         T("2026-10-31T22:59:00Z"));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(MinuteStart(w->begin_minute), T("2026-09-30T22:00:00Z"));
  EXPECT_EQ(w->end_minute - w->begin_minute, (31 * 24 + 1) * 60 - 1);
  EXPECT_EQ(w->period, core::Duration::Days(31) + core::Duration::Hours(1));
}

}  // namespace
}  // namespace nines::slo

// Budget windows: rolling and calendar (week from Monday, month, quarter) in an IANA time zone.
// Howard Hinnant's date library (Debian's build reads the system tz database, USE_OS_TZDB) stays
// inside this file; it throws on unknown zones, which is caught here.
#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <exception>
#include <string>

#include "slo/slo.h"

namespace nines::slo {

namespace {

core::Result<const date::time_zone*> FindZone(std::string_view name) {
  try {
    return date::locate_zone(std::string(name));
  } catch (const std::exception&) {
    return core::InvalidArgumentError("unknown time zone \"{}\"", name);
  }
}

core::Timestamp ToTimestamp(date::sys_time<std::chrono::nanoseconds> t) {
  return core::Timestamp::FromUnixNanos(t.time_since_epoch().count());
}

}  // namespace

core::Result<std::pair<core::Timestamp, core::Timestamp>> CalendarPeriod(
    CalendarUnit unit, std::string_view time_zone, core::Timestamp t) {
  ASSIGN_OR_RETURN(const date::time_zone* zone, FindZone(time_zone));
  date::sys_time<std::chrono::nanoseconds> sys{std::chrono::nanoseconds(t.UnixNanos())};
  auto local = zone->to_local(sys);
  date::local_days day = date::floor<date::days>(local);
  date::year_month_day ymd{day};
  date::local_days start;
  date::local_days end;
  switch (unit) {
    case CalendarUnit::kWeek:
      start = day - (date::weekday{day} - date::Monday);
      end = start + date::days{7};
      break;
    case CalendarUnit::kMonth: {
      date::year_month_day first = ymd.year() / ymd.month() / 1;
      start = date::local_days{first};
      end = date::local_days{first + date::months{1}};
      break;
    }
    case CalendarUnit::kQuarter: {
      unsigned q_month = (static_cast<unsigned>(ymd.month()) - 1) / 3 * 3 + 1;
      date::year_month_day first = ymd.year() / date::month{q_month} / 1;
      start = date::local_days{first};
      end = date::local_days{first + date::months{3}};
      break;
    }
  }
  // Midnight may not exist (a DST jump at 00:00) or exist twice; `earliest` takes the first
  // instant of the local day in both cases.
  auto start_sys = zone->to_sys(start, date::choose::earliest);
  auto end_sys = zone->to_sys(end, date::choose::earliest);
  return std::pair{ToTimestamp(start_sys), ToTimestamp(end_sys)};
}

core::Result<WindowBounds> ResolveWindow(const Window& window, core::Timestamp now) {
  WindowBounds b;
  b.end_minute = MinuteOf(now);
  if (window.kind == Window::Kind::kRolling) {
    if (window.rolling <= core::Duration::Zero() ||
        window.rolling % core::Duration::Minutes(1) != core::Duration::Zero()) {
      return core::InvalidArgumentError("window: rolling length {} is not a positive number of "
                                        "minutes",
                                        window.rolling.ToString());
    }
    b.begin_minute = b.end_minute - window.rolling / core::Duration::Minutes(1);
    b.period = window.rolling;
    b.period_start = MinuteStart(b.begin_minute);
    b.period_end = MinuteStart(b.end_minute);
    return b;
  }
  ASSIGN_OR_RETURN(auto period, CalendarPeriod(window.unit, window.time_zone, now));
  b.begin_minute = MinuteOf(period.first);
  b.period = period.second - period.first;
  b.period_start = period.first;
  b.period_end = period.second;
  return b;
}

namespace internal {
core::Status ValidateTimeZone(std::string_view name) { return FindZone(name).status(); }
}  // namespace internal

}  // namespace nines::slo

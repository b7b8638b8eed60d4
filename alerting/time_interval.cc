// Time intervals (Alertmanager's `time_intervals`). Howard Hinnant's date library (Debian's build
// over the system tz database) stays inside this file; it throws on an unknown zone, which is
// caught here.
#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>
#include <string>

#include "alerting/routing.h"

namespace nines::alerting {

namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
constexpr std::array<std::string_view, 12> kMonths = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Go's strconv.Atoi: an optional sign and decimal digits, nothing else.
std::optional<int> Atoi(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Splits "a:b" (or "a", meaning "a:a") and converts each side with `member`.
template <typename F>
core::Result<InclusiveRange> ParseRange(std::string_view text, F member) {
  std::string lower = Lower(text);
  std::string_view s = lower;
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    ASSIGN_OR_RETURN(int v, member(s));
    return InclusiveRange{v, v};
  }
  if (s.find(':', colon + 1) != std::string_view::npos) {
    return core::InvalidArgumentError("couldn't parse range \"{}\", invalid format", text);
  }
  ASSIGN_OR_RETURN(int begin, member(s.substr(0, colon)));
  ASSIGN_OR_RETURN(int end, member(s.substr(colon + 1)));
  return InclusiveRange{begin, end};
}

core::Result<int> IntMember(std::string_view s) {
  std::optional<int> v = Atoi(s);
  if (!v) return core::InvalidArgumentError("\"{}\" is not a number", s);
  return *v;
}

// Minutes since midnight of "HH:MM" (00:00 to 24:00).
core::Result<int> ParseClock(std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool ok = s.size() == 5 && digit(s[0]) && digit(s[1]) && s[2] == ':' && digit(s[3]) &&
            digit(s[4]);
  int h = ok ? (s[0] - '0') * 10 + (s[1] - '0') : 0;
  int m = ok ? (s[3] - '0') * 10 + (s[4] - '0') : 0;
  if (!ok || m > 59 || h > 24 || (h == 24 && m != 0)) {
    return core::InvalidArgumentError("couldn't parse time \"{}\" (want HH:MM, 00:00 to 24:00)",
                                      s);
  }
  return h * 60 + m;
}

}  // namespace

core::Result<TimeOfDayRange> ParseTimeOfDayRange(std::string_view start_time,
                                                 std::string_view end_time) {
  if (start_time.empty() || end_time.empty()) {
    return core::InvalidArgumentError("both start_time and end_time must be provided");
  }
  ASSIGN_OR_RETURN(int start, ParseClock(start_time));
  ASSIGN_OR_RETURN(int end, ParseClock(end_time));
  if (start >= end) {
    return core::InvalidArgumentError("start_time {} is not before end_time {}", start_time,
                                      end_time);
  }
  return TimeOfDayRange{start, end};
}

core::Result<InclusiveRange> ParseWeekdayRange(std::string_view text) {
  ASSIGN_OR_RETURN(InclusiveRange r,
                   ParseRange(text, [](std::string_view s) -> core::Result<int> {
                     auto it = std::find(kWeekdays.begin(), kWeekdays.end(), s);
                     if (it == kWeekdays.end()) {
                       return core::InvalidArgumentError("\"{}\" is not a valid weekday", s);
                     }
                     return static_cast<int>(it - kWeekdays.begin());
                   }));
  if (r.begin > r.end) {
    return core::InvalidArgumentError(
        "weekday range \"{}\" ends before it starts (weeks run sunday to saturday)", text);
  }
  return r;
}

core::Result<InclusiveRange> ParseDayOfMonthRange(std::string_view text) {
  ASSIGN_OR_RETURN(InclusiveRange r, ParseRange(text, IntMember));
  for (int d : {r.begin, r.end}) {
    if (d == 0 || d < -31 || d > 31) {
      return core::InvalidArgumentError("{} is not a valid day of the month: out of range", d);
    }
  }
  if (r.begin < 0 && r.end > 0) {
    return core::InvalidArgumentError("days of month \"{}\": end day must be negative if start "
                                      "day is negative", text);
  }
  // A negative day counts from the month's end; compare in the shortest month, as Alertmanager
  // does, so that "-1:25" or "20:-15" are refused even where some month could hold them.
  int check_begin = r.begin < 0 ? 28 + r.begin : r.begin;
  int check_end = r.end < 0 ? 28 + r.end : r.end;
  if (check_begin > check_end) {
    return core::InvalidArgumentError("end day {} is always before start day {}", r.end,
                                      r.begin);
  }
  return r;
}

core::Result<InclusiveRange> ParseMonthRange(std::string_view text) {
  ASSIGN_OR_RETURN(InclusiveRange r,
                   ParseRange(text, [](std::string_view s) -> core::Result<int> {
                     auto it = std::find(kMonths.begin(), kMonths.end(), s);
                     if (it != kMonths.end()) return static_cast<int>(it - kMonths.begin()) + 1;
                     std::optional<int> v = Atoi(s);
                     if (!v || *v < 1 || *v > 12) {
                       return core::InvalidArgumentError("\"{}\" is not a valid month", s);
                     }
                     return *v;
                   }));
  if (r.begin > r.end) {
    return core::InvalidArgumentError("month range \"{}\": end month is before start month",
                                      text);
  }
  return r;
}

core::Result<InclusiveRange> ParseYearRange(std::string_view text) {
  ASSIGN_OR_RETURN(InclusiveRange r, ParseRange(text, IntMember));
  if (r.begin > r.end) {
    return core::InvalidArgumentError("end year {} is before start year {}", r.end, r.begin);
  }
  return r;
}

core::Status TimeInterval::SetLocation(std::string_view name) {
  try {
    zone_ = name == "Local" ? date::current_zone() : date::locate_zone(std::string(name));
  } catch (const std::exception&) {
    return core::NotFoundError("unknown time zone \"{}\"", name);
  }
  location_name_ = std::string(name);
  return core::Status::Ok();
}

bool TimeInterval::Contains(core::Timestamp t) const {
  using std::chrono::nanoseconds;
  date::sys_time<nanoseconds> sys{nanoseconds(t.UnixNanos())};
  // The wall clock in the zone: days, months and times of day are local.
  date::local_time<nanoseconds> local =
      zone_ != nullptr ? zone_->to_local(sys)
                       : date::local_time<nanoseconds>(sys.time_since_epoch());
  date::local_days day = date::floor<date::days>(local);
  date::year_month_day ymd{day};
  date::hh_mm_ss<nanoseconds> tod{local - day};
  const int minute = static_cast<int>(tod.hours().count() * 60 + tod.minutes().count());
  const int mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  const int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  const int year = static_cast<int>(ymd.year());
  const int weekday = static_cast<int>(date::weekday{day}.c_encoding());

  if (!times.empty() &&
      std::none_of(times.begin(), times.end(), [&](const TimeOfDayRange& r) {
        return minute >= r.start_minute && minute < r.end_minute;
      })) {
    return false;
  }
  if (!days_of_month.empty()) {
    const int days_in_month =
        static_cast<int>(static_cast<unsigned>((ymd.year() / ymd.month() / date::last).day()));
    bool in = false;
    for (const InclusiveRange& r : days_of_month) {
      int begin = r.begin < 0 ? days_in_month + r.begin + 1 : r.begin;
      int end = r.end < 0 ? days_in_month + r.end + 1 : r.end;
      // A range that starts after this month's last day is not in this month ("31" in April);
      // one that ends after it stops at it ("25:31" in April is 25..30).
      if (begin > days_in_month) continue;
      end = std::min(end, days_in_month);
      if (mday >= begin && mday <= end) {
        in = true;
        break;
      }
    }
    if (!in) return false;
  }
  auto in_ranges = [](const std::vector<InclusiveRange>& ranges, int v) {
    return ranges.empty() || std::any_of(ranges.begin(), ranges.end(), [v](const InclusiveRange& r) {
             return v >= r.begin && v <= r.end;
           });
  };
  return in_ranges(months, month) && in_ranges(weekdays, weekday) && in_ranges(years, year);
}

bool AnyContains(const std::vector<TimeInterval>& intervals, core::Timestamp t) {
  return std::any_of(intervals.begin(), intervals.end(),
                     [t](const TimeInterval& i) { return i.Contains(t); });
}

}  // namespace nines::alerting

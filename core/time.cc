#include "core/time.h"

#include <array>
#include <charconv>
#include <cmath>

namespace nines::core {
namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

// In the order they must appear; "ms" precedes "m" in matching (see MatchUnit).
constexpr std::array<Unit, 9> kUnits = {{
    {"y", 365LL * 86400 * 1'000'000'000},
    {"w", 7LL * 86400 * 1'000'000'000},
    {"d", 86400LL * 1'000'000'000},
    {"h", 3600LL * 1'000'000'000},
    {"m", 60LL * 1'000'000'000},
    {"s", 1'000'000'000LL},
    {"ms", 1'000'000LL},
    {"us", 1'000LL},
    {"ns", 1LL},
}};

// Returns the index in kUnits of the unit at the start of `rest`, or -1; sets *len.
int MatchUnit(std::string_view rest, size_t* len) {
  for (std::string_view two : {"ms", "us", "ns"}) {
    if (rest.starts_with(two)) {
      *len = 2;
      for (size_t i = 0; i < kUnits.size(); ++i) {
        if (kUnits[i].name == two) return static_cast<int>(i);
      }
    }
  }
  if (rest.starts_with("µs")) {
    *len = std::string_view("µs").size();
    return 7;
  }
  for (size_t i = 0; i < kUnits.size(); ++i) {
    if (kUnits[i].name.size() == 1 && !rest.empty() && rest[0] == kUnits[i].name[0]) {
      *len = 1;
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Reads exactly `n` digits at text[*pos] into *out.
bool ReadDigits(std::string_view text, size_t* pos, int n, int* out) {
  if (*pos + n > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

// Reads ".ddd" (1 to 9 digits) into nanoseconds; absent is zero.
bool ReadFraction(std::string_view text, size_t* pos, int64_t* ns) {
  *ns = 0;
  if (*pos >= text.size() || text[*pos] != '.') return true;
  ++*pos;
  int digits = 0;
  int64_t scale = 100'000'000;
  while (*pos < text.size() && IsDigit(text[*pos])) {
    if (digits < 9) {
      *ns += (text[*pos] - '0') * scale;
      scale /= 10;
    }
    ++digits;
    ++*pos;
  }
  return digits > 0;
}

Result<Timestamp> ParseRfc3339(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError(
        "invalid timestamp \"{}\": want RFC 3339 (2026-11-22T03:04:10Z) or Unix seconds", text);
  };
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day)) {
    return bad();
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return bad();
  }
  ++pos;
  if (!ReadDigits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &second)) {
    return bad();
  }
  int64_t frac_ns = 0;
  if (!ReadFraction(text, &pos, &frac_ns)) return bad();
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!ReadDigits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 ||
      minute > 59 || second > 60) {
    return bad();
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return bad();
  if (second == 60) second = 59;  // a leap second maps onto the one before it
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  // About +-292 years around 1970 fit in int64 nanoseconds; a year 0000-9999 date outside them
  // is refused, as the file comment promises (the multiplication below would overflow).
  if (secs >= INT64_MAX / 1'000'000'000 || secs <= INT64_MIN / 1'000'000'000) {
    return OutOfRangeError("timestamp \"{}\" is out of range", text);
  }
  return Timestamp::FromUnixNanos(secs * 1'000'000'000 + frac_ns);
}

Result<Timestamp> ParseUnixSeconds(std::string_view text) {
  size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
    negative = text[pos] == '-';
    ++pos;
  }
  size_t start = pos;
  int64_t secs = 0;
  while (pos < text.size() && IsDigit(text[pos])) {
    if (secs > 9'000'000'000LL) {
      return OutOfRangeError("timestamp \"{}\" is out of range", text);
    }
    secs = secs * 10 + (text[pos] - '0');
    ++pos;
  }
  int64_t frac_ns = 0;
  if (!ReadFraction(text, &pos, &frac_ns) || pos != text.size() || pos == start) {
    return InvalidArgumentError(
        "invalid timestamp \"{}\": want RFC 3339 (2026-11-22T03:04:10Z) or Unix seconds", text);
  }
  int64_t ns = secs * 1'000'000'000 + frac_ns;
  return Timestamp::FromUnixNanos(negative ? -ns : ns);
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Duration Duration::FromSecondsDouble(double s) {
  return Duration(static_cast<int64_t>(std::llround(s * 1e9)));
}

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("empty duration");
  if (text == "0") return Duration::Zero();
  if (text[0] == '-') {
    return InvalidArgumentError("invalid duration \"{}\": durations cannot be negative", text);
  }
  size_t pos = 0;
  int last_unit = -1;
  int64_t total = 0;
  while (pos < text.size()) {
    size_t start = pos;
    int64_t n = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, text[pos] - '0', &n)) {
        return OutOfRangeError("duration \"{}\" is too long (the maximum is about 292y)", text);
      }
      ++pos;
    }
    if (pos == start) {
      return InvalidArgumentError(
          "invalid duration \"{}\": expected a number at position {}, as in \"90s\" or \"1h30m\"",
          text, start + 1);
    }
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      return InvalidArgumentError(
          "invalid duration \"{}\": fractions are not allowed; combine units, as in \"1h30m\"",
          text);
    }
    if (pos == text.size()) {
      return InvalidArgumentError(
          "invalid duration \"{}\": missing unit after {} (one of y, w, d, h, m, s, ms)", text,
          text.substr(start));
    }
    size_t len = 0;
    int unit = MatchUnit(text.substr(pos), &len);
    if (unit < 0) {
      size_t end = pos;
      while (end < text.size() && !IsDigit(text[end])) ++end;
      return InvalidArgumentError(
          "invalid duration \"{}\": unknown unit \"{}\" (want y, w, d, h, m, s or ms)", text,
          text.substr(pos, end - pos));
    }
    if (unit <= last_unit) {
      return InvalidArgumentError(
          "invalid duration \"{}\": units must appear once each, largest first (as in \"1h30m\")",
          text);
    }
    last_unit = unit;
    pos += len;
    int64_t part;
    if (__builtin_mul_overflow(n, kUnits[unit].ns, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      return OutOfRangeError("duration \"{}\" is too long (the maximum is about 292y)", text);
    }
  }
  return Duration::Nanoseconds(total);
}

Result<Duration> ParseApiDuration(std::string_view text) {
  // Plain seconds first, as Prometheus does; anything with a unit letter other than 'e' falls
  // through to ParseDuration and its error messages.
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (!std::isfinite(seconds) || std::fabs(seconds) >= 9.2e9) {
      return OutOfRangeError("duration \"{}\" is out of range", text);
    }
    if (seconds < 0) {
      return InvalidArgumentError("invalid duration \"{}\": durations cannot be negative", text);
    }
    return Duration::FromSecondsDouble(seconds);
  }
  if (ec == std::errc::result_out_of_range) {
    return OutOfRangeError("duration \"{}\" is out of range", text);
  }
  return ParseDuration(text);
}

std::string Duration::ToString() const {
  if (ns_ == 0) return "0s";
  if (ns_ < 0) {
    if (ns_ == INT64_MIN) return "-292y24w3d23h47m16s854ms775us808ns";
    return "-" + Duration(-ns_).ToString();
  }
  std::string out;
  constexpr int64_t kDay = 86400LL * 1'000'000'000;
  int64_t days = ns_ / kDay;
  int64_t rest = ns_ % kDay;
  // Whole years or whole weeks read better than "4w2d"; anything else prints as days.
  if (days > 0) {
    if (days % 365 == 0) {
      out += fmt::format("{}y", days / 365);
    } else if (days % 7 == 0) {
      out += fmt::format("{}w", days / 7);
    } else {
      out += fmt::format("{}d", days);
    }
  }
  for (size_t i = 3; i < kUnits.size(); ++i) {  // h, m, s, ms, us, ns
    int64_t n = rest / kUnits[i].ns;
    rest %= kUnits[i].ns;
    if (n > 0) out += fmt::format("{}{}", n, kUnits[i].name);
  }
  return out;
}

std::string Duration::ToRoundedString() const {
  if (ns_ < 0) return ns_ == INT64_MIN ? ToString() : "-" + Duration(-ns_).ToRoundedString();
  const int64_t unit = ns_ < Seconds(1).ns_   ? Milliseconds(1).ns_
                       : ns_ < Hours(1).ns_   ? Seconds(1).ns_
                       : ns_ < Days(1).ns_    ? Minutes(1).ns_
                                              : Hours(1).ns_;
  // Round half up, without overflowing near the maximum.
  const int64_t rounded = ns_ / unit + (ns_ % unit >= unit / 2 ? 1 : 0);
  return Duration(rounded * unit).ToString();
}

Timestamp Timestamp::FromUnixSecondsDouble(double s) {
  return Timestamp(static_cast<int64_t>(std::llround(s * 1e9)));
}

Timestamp Timestamp::Floor(Duration step) const {
  return Timestamp(FloorDiv(ns_, step.nanos()) * step.nanos());
}

std::string Timestamp::ToRfc3339() const {
  int64_t ms = UnixMillis();
  int64_t secs = FloorDiv(ms, 1000);
  int64_t milli = ms - secs * 1000;
  int64_t days = FloorDiv(secs, 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d, sod / 3600,
                     (sod / 60) % 60, sod % 60, milli);
}

Result<Timestamp> ParseTimestamp(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("empty timestamp");
  if (text.size() >= 10 && text[4] == '-') return ParseRfc3339(text);
  return ParseUnixSeconds(text);
}

}  // namespace nines::core

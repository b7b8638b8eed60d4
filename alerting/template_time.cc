// Go's time.Time.Format for templates (template_internal.h): the reference-time layout
// ("Mon Jan 2 15:04:05 MST 2006"), for times in UTC, the only zone template times are in; and
// Alertmanager's humanizeDuration (Prometheus' HumanizeDuration).
#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "alerting/template_internal.h"

namespace nines::alerting::template_internal {

namespace {

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                   "Thursday", "Friday", "Saturday"};

struct Civil {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  int weekday = 4;  // 0 = Sunday; 1970-01-01 was a Thursday
  int yday = 1;     // 1..366
};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil ToCivil(core::Timestamp t) {
  Civil c;
  int64_t secs = 0;
  GoUnix(t, &secs, &c.nanos);
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) sod += 86400, --days;
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod / 60 % 60);
  c.second = static_cast<int>(sod % 60);
  c.weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);
  // civil_from_days
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.yday = static_cast<int>(days - DaysFromCivil(c.year, 1, 1) + 1);
  return c;
}

bool Has(std::string_view s, size_t i, std::string_view what) {
  return s.substr(i, what.size()) == what;
}
bool LowerAt(std::string_view s, size_t i) { return i < s.size() && s[i] >= 'a' && s[i] <= 'z'; }
bool DigitAt(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// The fraction of a second in `digits` digits after `sep`; with `trim` (a .999 layout) without
// trailing zeros, and nothing at all when they are all zeros.
std::string Fraction(int64_t nanos, char sep, size_t digits, bool trim) {
  std::string f = fmt::format("{:09}", nanos).substr(0, digits);
  if (trim) {
    while (!f.empty() && f.back() == '0') f.pop_back();
    if (f.empty()) return "";
  }
  return sep + f;
}

// The element of the layout at `i`, written to `out`; returns its length (0: not an element).
size_t Element(std::string_view l, size_t i, const Civil& c, std::string& out) {
  const std::string_view month = kMonths[c.month - 1];
  const std::string_view day = kDays[c.weekday];
  const int hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
  switch (l[i]) {
    case 'J':
      if (Has(l, i, "January")) return out += month, 7;
      if (Has(l, i, "Jan") && !LowerAt(l, i + 3)) return out += month.substr(0, 3), 3;
      return 0;
    case 'M':
      if (Has(l, i, "Monday")) return out += day, 6;
      if (Has(l, i, "Mon") && !LowerAt(l, i + 3)) return out += day.substr(0, 3), 3;
      if (Has(l, i, "MST")) return out += "UTC", 3;
      return 0;
    case '0':
      if (Has(l, i, "002")) return out += fmt::format("{:03}", c.yday), 3;
      if (Has(l, i, "01")) return out += fmt::format("{:02}", c.month), 2;
      if (Has(l, i, "02")) return out += fmt::format("{:02}", c.day), 2;
      if (Has(l, i, "03")) return out += fmt::format("{:02}", hour12), 2;
      if (Has(l, i, "04")) return out += fmt::format("{:02}", c.minute), 2;
      if (Has(l, i, "05")) return out += fmt::format("{:02}", c.second), 2;
      if (Has(l, i, "06")) return out += fmt::format("{:02}", (c.year % 100 + 100) % 100), 2;
      return 0;
    case '1':
      if (Has(l, i, "15")) return out += fmt::format("{:02}", c.hour), 2;
      return out += std::to_string(c.month), 1;
    case '2':
      if (Has(l, i, "2006")) return out += fmt::format("{:04}", c.year), 4;
      return out += std::to_string(c.day), 1;
    case '_':
      if (Has(l, i, "_2006")) return out += "_" + fmt::format("{:04}", c.year), 5;
      if (Has(l, i, "_2")) return out += fmt::format("{:>2}", c.day), 2;
      if (Has(l, i, "__2")) return out += fmt::format("{:>3}", c.yday), 3;
      return 0;
    case '3':
      return out += std::to_string(hour12), 1;
    case '4':
      return out += std::to_string(c.minute), 1;
    case '5':
      return out += std::to_string(c.second), 1;
    case 'P':
      if (Has(l, i, "PM")) return out += c.hour >= 12 ? "PM" : "AM", 2;
      return 0;
    case 'p':
      if (Has(l, i, "pm")) return out += c.hour >= 12 ? "pm" : "am", 2;
      return 0;
    case '-':  // numeric zone offsets: UTC is +00...
    case 'Z':  // ISO 8601: UTC is Z
      for (std::string_view zone : {"070000", "07:00:00", "0700", "07:00", "07"}) {
        if (!Has(l, i + 1, zone)) continue;
        if (l[i] == 'Z') {
          out += 'Z';
        } else {
          out += '+';
          for (char z : zone) out += z == ':' ? ':' : '0';
        }
        return zone.size() + 1;
      }
      return 0;
    case '.':
    case ',':
      if (i + 1 < l.size() && (l[i + 1] == '0' || l[i + 1] == '9')) {
        size_t j = i + 1;
        while (j < l.size() && l[j] == l[i + 1]) ++j;
        if (DigitAt(l, j)) return 0;  // the run must end the number
        return out += Fraction(c.nanos, l[i], j - i - 1, l[i + 1] == '9'), j - i;
      }
      return 0;
    default:
      return 0;
  }
}

// Go's %.4g.
std::string G4(double v) {
  auto s = Sprintf("%.4g", {Value::Float(v)}, 64);
  return s.ok() ? *s : std::string();
}

}  // namespace

void GoUnix(core::Timestamp t, int64_t* secs, int64_t* nanos) {
  if (t == core::Timestamp()) {
    *secs = -62'135'596'800;  // 0001-01-01T00:00:00Z
    *nanos = 0;
    return;
  }
  int64_t ns = t.UnixNanos();
  *secs = ns / 1'000'000'000;
  *nanos = ns % 1'000'000'000;
  if (*nanos < 0) *nanos += 1'000'000'000, --*secs;
}

core::Result<std::string> HumanizeDuration(const Value& v) {
  double secs = 0;
  if (v.kind() == Value::Kind::kFloat) {
    secs = v.f();
  } else if (v.kind() == Value::Kind::kInt) {
    secs = static_cast<double>(v.i());
  } else if (v.kind() == Value::Kind::kString) {
    const std::string& s = v.s();
    char* end = nullptr;
    errno = 0;
    secs = s.empty() || std::isspace(static_cast<unsigned char>(s[0]))
               ? 0
               : std::strtod(s.c_str(), &end);
    if (end == nullptr || end != s.c_str() + s.size())
      return core::InvalidArgumentError("strconv.ParseFloat: parsing {:?}: invalid syntax", s);
  } else {
    return core::InvalidArgumentError("can't convert {} to float", v.TypeName());
  }
  if (std::isnan(secs) || std::isinf(secs)) return G4(secs);
  if (secs == 0) return G4(secs) + "s";
  if (std::fabs(secs) >= 1) {
    std::string sign = secs < 0 ? "-" : "";
    double a = std::fabs(secs);
    // Go's int64(a); out of range it is the minimum (amd64), not undefined behaviour here.
    int64_t d = a < 9.2e18 ? static_cast<int64_t>(a) : INT64_MIN;
    int64_t s = d % 60, m = d / 60 % 60, h = d / 3600 % 24, days = d / 86400;
    if (days != 0) return fmt::format("{}{}d {}h {}m {}s", sign, days, h, m, s);
    if (h != 0) return fmt::format("{}{}h {}m {}s", sign, h, m, s);
    if (m != 0) return fmt::format("{}{}m {}s", sign, m, s);
    return sign + G4(a) + "s";
  }
  // Below a second: milli, micro, ... seconds, three orders at a time.
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(secs) >= 1) break;
    prefix = p;
    secs *= 1000;
  }
  return G4(secs) + prefix + "s";
}

std::string FormatGoTime(core::Timestamp t, std::string_view layout) {
  const Civil c = ToCivil(t);
  std::string out;
  for (size_t i = 0; i < layout.size();) {
    size_t n = Element(layout, i, c, out);
    if (n == 0) out += layout[i], n = 1;
    i += n;
  }
  return out;
}

}  // namespace nines::alerting::template_internal

// Duration and Timestamp: nines' two time types, both 64-bit nanosecond counts.
//
// Duration is a signed span; Timestamp is a point on the Unix time line (UTC). Both are plain
// values, trivially copyable and thread-compatible. Their range is about +-292 years; parsing
// rejects what would overflow, arithmetic assumes the caller stays in range.
//
// Durations are written the Prometheus way: a sequence of <integer><unit> with units in strictly
// decreasing order, each at most once: "90s", "5m", "1h30m", "30d", "1w", "1y", "250ms". Units:
// y (365d), w (7d), d (24h), h, m, s, ms, and, as an extension for sub-millisecond probe
// timings, us and ns. Negative, fractional and unit-less values (except "0") are rejected.
#ifndef NINES_CORE_TIME_H_
#define NINES_CORE_TIME_H_

#include <chrono>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace nines::core {

class Duration {
 public:
  constexpr Duration() = default;

  static constexpr Duration Nanoseconds(int64_t n) { return Duration(n); }
  static constexpr Duration Microseconds(int64_t n) { return Duration(n * 1'000); }
  static constexpr Duration Milliseconds(int64_t n) { return Duration(n * 1'000'000); }
  static constexpr Duration Seconds(int64_t n) { return Duration(n * 1'000'000'000); }
  static constexpr Duration Minutes(int64_t n) { return Seconds(n * 60); }
  static constexpr Duration Hours(int64_t n) { return Seconds(n * 3600); }
  static constexpr Duration Days(int64_t n) { return Seconds(n * 86400); }
  static constexpr Duration Weeks(int64_t n) { return Days(n * 7); }
  // Nearest nanosecond to `s` seconds.
  static Duration FromSecondsDouble(double s);
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Max() { return Duration(INT64_MAX); }
  template <typename Rep, typename Period>
  static constexpr Duration FromChrono(std::chrono::duration<Rep, Period> d) {
    return Duration(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }

  constexpr int64_t nanos() const { return ns_; }
  // Truncated toward zero.
  constexpr int64_t millis() const { return ns_ / 1'000'000; }
  constexpr int64_t seconds() const { return ns_ / 1'000'000'000; }
  constexpr double SecondsDouble() const { return static_cast<double>(ns_) / 1e9; }
  constexpr std::chrono::nanoseconds ToChrono() const { return std::chrono::nanoseconds(ns_); }

  // Prometheus-style, exact: "1h30m", "30d", "1w", "250ms", "0s"; negatives get a leading "-".
  std::string ToString() const;
  // For people (logs, messages): rounded to two units at most, in ToString's syntax: "250ms"
  // under a second, whole seconds under an hour ("6m56s"), minutes under a day ("2h5m"), hours
  // beyond ("3d4h").
  std::string ToRoundedString() const;

  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator-() const { return Duration(-ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr int64_t operator/(Duration o) const { return ns_ / o.ns_; }
  constexpr Duration operator%(Duration o) const { return Duration(ns_ % o.ns_); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }
  constexpr auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// Parses a Prometheus-style duration (see the file comment).
// Errors: INVALID_ARGUMENT naming the problem ("unknown unit \"x\" in \"5x\"", "negative
// duration", "units out of order", ...); OUT_OF_RANGE when the value overflows.
Result<Duration> ParseDuration(std::string_view text);

// Parses a duration parameter as the Prometheus HTTP API accepts one (`step`, `timeout`): a
// number of seconds, fraction allowed ("300", "0.5", "1e3"), or a duration as above ("5m").
// Errors: INVALID_ARGUMENT naming the text; OUT_OF_RANGE when the value overflows.
Result<Duration> ParseApiDuration(std::string_view text);

class Timestamp {
 public:
  // The Unix epoch.
  constexpr Timestamp() = default;

  static constexpr Timestamp FromUnixNanos(int64_t ns) { return Timestamp(ns); }
  static constexpr Timestamp FromUnixMillis(int64_t ms) { return Timestamp(ms * 1'000'000); }
  static constexpr Timestamp FromUnixSeconds(int64_t s) { return Timestamp(s * 1'000'000'000); }
  static Timestamp FromUnixSecondsDouble(double s);

  constexpr int64_t UnixNanos() const { return ns_; }
  // Floored, so that a timestamp before the epoch maps to the millisecond that contains it.
  constexpr int64_t UnixMillis() const {
    return ns_ >= 0 ? ns_ / 1'000'000 : -((-ns_ + 999'999) / 1'000'000);
  }
  constexpr int64_t UnixSeconds() const {
    return ns_ >= 0 ? ns_ / 1'000'000'000 : -((-ns_ + 999'999'999) / 1'000'000'000);
  }
  constexpr double UnixSecondsDouble() const { return static_cast<double>(ns_) / 1e9; }

  // RFC 3339 in UTC with millisecond precision: "2026-11-22T03:04:10.123Z".
  std::string ToRfc3339() const;

  // The largest multiple of `step` (measured from the epoch) not after this timestamp.
  // REQUIRES: step > 0.
  Timestamp Floor(Duration step) const;

  constexpr Timestamp operator+(Duration d) const { return Timestamp(ns_ + d.nanos()); }
  constexpr Timestamp operator-(Duration d) const { return Timestamp(ns_ - d.nanos()); }
  constexpr Duration operator-(Timestamp o) const { return Duration::Nanoseconds(ns_ - o.ns_); }
  constexpr Timestamp& operator+=(Duration d) { ns_ += d.nanos(); return *this; }
  constexpr auto operator<=>(const Timestamp&) const = default;

 private:
  constexpr explicit Timestamp(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// Parses a timestamp as the Prometheus HTTP API accepts it: RFC 3339 ("2026-11-22T03:04:10Z",
// "2026-11-22T05:04:10.5+02:00") or Unix seconds with an optional fraction ("1763780650.5").
// Errors: INVALID_ARGUMENT naming the text.
Result<Timestamp> ParseTimestamp(std::string_view text);

// Days since 1970-01-01 of the proleptic Gregorian date y-m-d (Howard Hinnant's civil
// algorithm; negative before 1970). REQUIRES: 1 <= m <= 12, 1 <= d <= 31.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace nines::core

#endif  // NINES_CORE_TIME_H_

// A small leveled logger: one line per call, written whole to stderr (or a sink set for tests).
// Thread-safe. Lines look like
//   2026-11-22T03:04:10.123Z I server.cc:120] listening on 127.0.0.1:9099
#ifndef NINES_CORE_LOG_H_
#define NINES_CORE_LOG_H_

#include <fmt/format.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/time.h"

namespace nines::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Default: kInfo.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug", "info", "warning"/"warn", "error". Returns false on anything else.
bool ParseLogLevel(std::string_view text, LogLevel* level);

// Replaces where finished lines go (nullptr restores stderr). For tests.
void SetLogSink(std::function<void(std::string_view line)> sink);

// Writes one line; prefer the NINES_LOG macro.
void LogLine(LogLevel level, const char* file, int line, std::string_view message);

class Clock;

// Rate limiting for a line that repeated events would otherwise write each time (refused
// samples, a failing peer): at most one line per key per `interval`, each saying how many events
// it stands for. Thread-safe; the Clock must outlive it.
//
// Example:
//   LogLimiter limiter(clock, Duration::Minutes(1));
//   if (int64_t n = limiter.Admit("too_old", batch_refused)) {
//     LOG_WARNING("refused {} samples as too_old since the last line; e.g. ...", n);
//   }
class LogLimiter {
 public:
  LogLimiter(const Clock& clock, Duration interval) : clock_(clock), interval_(interval) {}

  // Records `n` (> 0) events of `key`. Returns 0 when a line for `key` was written less than
  // `interval` ago (by Clock::Monotonic); else the events to report: these `n` plus every one
  // recorded since the last line. Events after the last line of a burst are reported with the
  // next line, whenever that comes (counters, not logs, are the complete record).
  int64_t Admit(std::string_view key, int64_t n = 1);

 private:
  struct State {
    Duration last_line;
    int64_t pending = 0;
  };
  const Clock& clock_;
  const Duration interval_;
  std::mutex mu_;
  std::map<std::string, State, std::less<>> keys_;  // guarded by mu_
};

}  // namespace nines::core

#define NINES_LOG(level, ...)                                                      \
  do {                                                                             \
    if (::nines::core::LogLevel::level >= ::nines::core::GetLogLevel())            \
      ::nines::core::LogLine(::nines::core::LogLevel::level, __FILE__, __LINE__,   \
                             ::fmt::format(__VA_ARGS__));                          \
  } while (0)
#define LOG_DEBUG(...) NINES_LOG(kDebug, __VA_ARGS__)
#define LOG_INFO(...) NINES_LOG(kInfo, __VA_ARGS__)
#define LOG_WARNING(...) NINES_LOG(kWarning, __VA_ARGS__)
#define LOG_ERROR(...) NINES_LOG(kError, __VA_ARGS__)

#endif  // NINES_CORE_LOG_H_

// A small leveled logger: one line per call, written whole to stderr (or a sink set for tests).
// Thread-safe. Lines look like
//   2026-11-22T03:04:10.123Z I server.cc:120] listening on 127.0.0.1:9099
#ifndef NINES_CORE_LOG_H_
#define NINES_CORE_LOG_H_

#include <fmt/format.h>

#include <functional>
#include <string>
#include <string_view>

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

#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <utility>

#include "core/clock.h"

namespace nines::core {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

struct SinkState {
  std::mutex mu;
  std::function<void(std::string_view)> sink;
};

SinkState& State() {
  static SinkState* state = new SinkState();  // never destroyed: logging works during exit
  return *state;
}

char LevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return 'D';
    case LogLevel::kInfo: return 'I';
    case LogLevel::kWarning: return 'W';
    case LogLevel::kError: return 'E';
  }
  return '?';
}

std::string_view BaseName(const char* file) {
  std::string_view f(file);
  size_t slash = f.find_last_of('/');
  return slash == std::string_view::npos ? f : f.substr(slash + 1);
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level); }
LogLevel GetLogLevel() { return g_level.load(); }

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  if (text == "debug") *level = LogLevel::kDebug;
  else if (text == "info") *level = LogLevel::kInfo;
  else if (text == "warning" || text == "warn") *level = LogLevel::kWarning;
  else if (text == "error") *level = LogLevel::kError;
  else return false;
  return true;
}

void SetLogSink(std::function<void(std::string_view line)> sink) {
  SinkState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  state.sink = std::move(sink);
}

void LogLine(LogLevel level, const char* file, int line, std::string_view message) {
  std::string out = fmt::format("{} {} {}:{}] {}\n", RealClock().Now().ToRfc3339(),
                                LevelLetter(level), BaseName(file), line, message);
  SinkState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.sink) {
    state.sink(out);
  } else {
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
}

int64_t LogLimiter::Admit(std::string_view key, int64_t n) {
  const Duration now = clock_.Monotonic();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    keys_.emplace(std::string(key), State{now, 0});
    return n;
  }
  State& state = it->second;
  state.pending += n;
  if (now - state.last_line < interval_) return 0;
  state.last_line = now;
  return std::exchange(state.pending, 0);
}

}  // namespace nines::core

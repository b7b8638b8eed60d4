// Test helpers shared by every test binary: temporary directories and child processes.
//
// ChildProcess runs a program with its stdout and stderr captured into one pipe, which a reader
// thread drains all the time (so a chatty child never blocks on a full pipe), so a test can wait
// (with a bound, never a blind sleep) for a line the program prints, send it signals, and wait
// for it to exit. A child still running when its ChildProcess is destroyed is killed.
// Thread-safe.
#ifndef NINES_TESTS_TESTUTIL_TESTUTIL_H_
#define NINES_TESTS_TESTUTIL_TESTUTIL_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/time.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::testutil {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Writes `contents` to File(name) and returns its path.
  std::string Write(const std::string& name, const std::string& contents) const;

 private:
  std::string path_;
};

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`; aborts the test binary if fork/exec setup fails.
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits until `needle` appears in the output, `timeout` passes or the child closes its
  // output. Returns whether it appeared.
  bool WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout);

  // Everything the child printed so far (stdout and stderr interleaved).
  std::string output() const;

  void Signal(int sig);

  // Waits for the child to exit. Returns its exit code, 128+N for death by signal N, or nullopt
  // if it did not exit within `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  void ReadLoop();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;      // guarded by mu_
  bool eof_ = false;        // guarded by mu_
  std::optional<int> exit_code_;  // guarded by mu_
};

// Waits (up to `timeout`) for `marker` in `child`'s output and for the end of that line; returns
// the rest of the line after the last `marker`. When it does not come, fails the test with the
// output and returns "".
std::string WaitForLine(ChildProcess& child, const std::string& marker,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The `nines` binary under test as a child process: the e2e tests' start, wait-for-ready and
// stop in one place. Thread-safe as ChildProcess.
class NinesProcess : public ChildProcess {
 public:
  // Starts NinesBinary() with `args`, the subcommand first ("serve", "agent", "check", ...).
  explicit NinesProcess(std::vector<std::string> args);

  // The URL the process prints once it serves: "nines listening on <url>" ("nines agent
  // listening on <url>" for `nines agent`). Fails the test and returns "" when it is not
  // printed within `timeout`.
  std::string WaitForUrl(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // SIGTERM, then waits up to `timeout` for the exit; returns the exit code as Wait does.
  std::optional<int> Stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));

 private:
  std::string marker_;
};

// Polls `condition` every millisecond until it is true or `timeout` passes; returns its last
// value. Thread-safe. For state with no condition variable to wait on (metrics, sockets): a
// bounded wait on a condition, not a sleep standing in for one.
bool WaitFor(const std::function<bool()>& condition,
             core::Duration timeout = core::Duration::Seconds(10));

// The value of the sample of `name` whose labels include every pair in `labels`, or -1 when there
// is none. Counters and gauges give their value, histograms their sample count.
double MetricValue(prometheus::Registry& registry, std::string_view name,
                   const std::map<std::string, std::string>& labels = {});

// A port on 127.0.0.1 that nothing listens on right now (bound to 0, then closed; another
// process could take it before the caller does, which loopback tests accept). Never the same
// port twice in one process, so several asked for at once are distinct.
int UnusedPort();

// The path of the nines binary under test ($NINES_BINARY, else the one this build made).
std::string NinesBinary();
// The source tree ($NINES_SOURCE_DIR, else the one this build came from).
std::string SourceDir();

// Sets the log sink for a test's scope: reset even when an ASSERT returns early, so that no
// later test logs into a dead lambda.
class ScopedLogSink {
 public:
  explicit ScopedLogSink(std::function<void(std::string_view)> sink) {
    core::SetLogSink(std::move(sink));
  }
  ~ScopedLogSink() { core::SetLogSink(nullptr); }
  ScopedLogSink(const ScopedLogSink&) = delete;
  ScopedLogSink& operator=(const ScopedLogSink&) = delete;
};

}  // namespace nines::testutil

#endif  // NINES_TESTS_TESTUTIL_TESTUTIL_H_

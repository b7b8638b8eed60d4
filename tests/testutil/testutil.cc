#include "tests/testutil/testutil.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "core/clock.h"

namespace nines::testutil {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "testutil: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/nines-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& contents) const {
  std::string p = File(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out) Die("write temp file");
  return p;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) Die("pipe2");
  pid_ = fork();
  if (pid_ < 0) Die("fork");
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    // The test binary may have signals blocked or ignored; the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
  reader_ = std::thread([this] { ReadLoop(); });
}

ChildProcess::~ChildProcess() {
  bool exited;
  {
    std::lock_guard<std::mutex> lock(mu_);
    exited = exit_code_.has_value();
  }
  if (!exited) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();  // the pipe closes with the child (or its heirs)
  close(out_fd_);
}

void ChildProcess::ReadLoop() {
  char buf[4096];
  while (true) {
    ssize_t r = read(out_fd_, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (r <= 0) {
      eof_ = true;
      cv_.notify_all();
      return;
    }
    output_.append(buf, static_cast<size_t>(r));
    cv_.notify_all();
  }
}

std::string ChildProcess::output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return output_;
}

bool ChildProcess::WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos || eof_;
  }) && output_.find(needle) != std::string::npos;
}

void ChildProcess::Signal(int sig) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!exit_code_) kill(pid_, sig);
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (exit_code_) return exit_code_;
  }
  auto deadline = Clock::now() + timeout;
  // A pidfd becomes readable when the child exits.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{pidfd, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    close(pidfd);
    if (n <= 0) return std::nullopt;
  }
  int status;
  if (waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // Let the reader take in the last of the output (the pipe is closed or about to be).
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [this] { return eof_; });
  exit_code_ = code;
  return exit_code_;
}

std::string WaitForLine(ChildProcess& child, const std::string& marker,
                        std::chrono::milliseconds timeout) {
  if (!child.WaitForOutput(marker, timeout) ||
      !child.WaitForOutput("\n", std::chrono::milliseconds(1000))) {
    ADD_FAILURE() << "no \"" << marker << "\" from the child; its output:\n" << child.output();
    return "";
  }
  const std::string out = child.output();
  const size_t at = out.rfind(marker) + marker.size();
  const size_t end = out.find('\n', at);
  if (end == std::string::npos) {
    ADD_FAILURE() << "no end of line after \"" << marker << "\":\n" << out;
    return "";
  }
  return out.substr(at, end - at);
}

namespace {
std::vector<std::string> WithNinesBinary(std::vector<std::string> args) {
  args.insert(args.begin(), NinesBinary());
  return args;
}
}  // namespace

NinesProcess::NinesProcess(std::vector<std::string> args)
    : ChildProcess(WithNinesBinary(args)),
      // main.cc prints these once the server accepts requests.
      marker_(!args.empty() && args[0] == "agent" ? "nines agent listening on "
                                                  : "nines listening on ") {}

std::string NinesProcess::WaitForUrl(std::chrono::milliseconds timeout) {
  return WaitForLine(*this, marker_, timeout);
}

std::optional<int> NinesProcess::Stop(std::chrono::milliseconds timeout) {
  Signal(SIGTERM);
  return Wait(timeout);
}

bool WaitFor(const std::function<bool()>& condition, core::Duration timeout) {
  core::Clock& clock = core::RealClock();
  const core::Duration deadline = clock.Monotonic() + timeout;
  // For what offers no condition variable (a child process's HTTP answers, metrics, real
  // sockets): poll, backing off from 1 ms to 50 ms, so that a slow wait (a process starting
  // under ASan) does not cost a thousand probes a second.
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    if (condition()) return true;
    if (clock.Monotonic() >= deadline) return condition();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

double MetricValue(prometheus::Registry& registry, std::string_view name,
                   const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& l : metric.label) {
        auto it = labels.find(l.name);
        if (it != labels.end() && it->second == l.value) ++matched;
      }
      if (matched != labels.size()) continue;
      if (family.type == prometheus::MetricType::Counter) return metric.counter.value;
      if (family.type == prometheus::MetricType::Gauge) return metric.gauge.value;
      if (family.type == prometheus::MetricType::Histogram) {
        return static_cast<double>(metric.histogram.sample_count);
      }
    }
  }
  return -1;
}

std::string NinesBinary() { return EnvOr("NINES_BINARY", NINES_TEST_BINARY); }
std::string SourceDir() { return EnvOr("NINES_SOURCE_DIR", NINES_TEST_SOURCE_DIR); }

namespace {

int BindAnyPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

}  // namespace

int UnusedPort() {
  // The kernel may hand the same free port to two binds in a row once the first socket is
  // closed, and a test that asks for several ports (nginx with four listeners) would then get
  // one twice. So a port is never returned twice by this process.
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = BindAnyPort();
    if (port == 0) return 0;
    if (given.insert(port).second) return port;
  }
  return 0;
}

}  // namespace nines::testutil

// Whole-run benchmarks of the probe engine (a custom main: these measure a run of many seconds on
// the real clock, which Google Benchmark's repeated-iteration model does not fit).
//
//   nines_probe_engine_bench schedule [--checks N] [--interval SECONDS] [--cycles C]
//                                     [--probe noop|tcp] [--threads T]
//     N checks (default 10000) on the real ProbeEngine with the real clock for C intervals,
//     spread by the engine's per-check offsets. The engine's on_start hook records each probe's
//     start delay (actual start - due time); reported as p50/p90/p99/max. The probe is either a
//     no-op (the scheduler alone) or a real TCP connect to one loopback listener that accepts and
//     closes (the engine plus a realistic, cheap I/O load). The goal (issue): p99 < 50 ms.
//
//   nines_probe_engine_bench icmp [--count N] [--concurrency K] [--socket auto|ping|raw]
//     N real ICMP echo probes to 127.0.0.1 (default 1000), K in flight at a time, one io thread;
//     reports the CPU time this process spent (getrusage: user + system) per 1000 probes.
//
// Reaches into collector's private headers (probe.h, icmp_probe.h) on purpose, as chunk_bench
// does for the store: the ICMP probe is measured without the dispatcher.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/collector.h"
#include "collector/icmp_probe.h"
#include "collector/probe_engine.h"
#include "core/clock.h"

namespace nines {
namespace {

namespace asio = boost::asio;
using core::Duration;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// The value at quantile q of sorted `v`.
double Quantile(const std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return static_cast<double>(v[std::min(i, v.size() - 1)]);
}

struct Args {
  std::string mode;
  int checks = 10000;
  int interval_s = 5;
  int cycles = 3;
  std::string probe = "tcp";
  int threads = 1;
  int count = 1000;
  int concurrency = 1;
  std::string socket = "auto";
};

bool ParseArgs(int argc, char** argv, Args* a) {
  if (argc < 2) return false;
  a->mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--checks") {
      a->checks = std::atoi(v.c_str());
    } else if (k == "--interval") {
      a->interval_s = std::atoi(v.c_str());
    } else if (k == "--cycles") {
      a->cycles = std::atoi(v.c_str());
    } else if (k == "--probe") {
      a->probe = v;
    } else if (k == "--threads") {
      a->threads = std::atoi(v.c_str());
    } else if (k == "--count") {
      a->count = std::atoi(v.c_str());
    } else if (k == "--concurrency") {
      a->concurrency = std::atoi(v.c_str());
    } else if (k == "--socket") {
      a->socket = v;
    } else {
      return false;
    }
  }
  return a->mode == "schedule" || a->mode == "icmp";
}

// A loopback listener that accepts and closes, on its own io thread; and a probe function that
// connects to it. The client closes with SO_LINGER 0 (a reset) so that thousands of connects a
// second leave no TIME_WAIT behind to exhaust ephemeral ports.
class TcpTarget {
 public:
  TcpTarget() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TcpTarget() {
    io_.stop();
    thread_.join();
  }

  collector::ProbeFunction Probe() {
    return [this](std::shared_ptr<const collector::CheckSpec>,
                  std::function<void(collector::ProbeResult)> done) {
      auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
      socket->async_connect(acceptor_.local_endpoint(),
                            [socket, done = std::move(done)](const boost::system::error_code& ec) {
                              collector::ProbeResult r;
                              r.success = !ec;
                              if (ec) r.reason = ec.message();
                              boost::system::error_code ignored;
                              socket->set_option(asio::socket_base::linger(true, 0), ignored);
                              socket->close(ignored);
                              done(std::move(r));
                            });
    };
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
      if (!ec) {
        boost::system::error_code ignored;
        s.close(ignored);
      }
      if (ec != asio::error::operation_aborted) Accept();
    });
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

int RunSchedule(const Args& a) {
  core::Clock& clock = core::RealClock();
  const Duration interval = Duration::Seconds(a.interval_s);
  const int64_t want = int64_t{a.checks} * a.cycles;

  std::mutex mu;
  std::condition_variable cv;
  std::vector<int64_t> delays_ns;
  delays_ns.reserve(static_cast<size_t>(want) + a.checks);
  std::atomic<int64_t> failures{0};

  std::unique_ptr<TcpTarget> target;
  collector::ProbeEngineOptions o;
  o.threads = a.threads;
  o.max_concurrency = 1000;
  if (a.probe == "tcp") {
    target = std::make_unique<TcpTarget>();
    o.probe_function = target->Probe();
  } else {
    o.probe_function = [](std::shared_ptr<const collector::CheckSpec>,
                          std::function<void(collector::ProbeResult)> done) {
      collector::ProbeResult r;
      r.success = true;
      done(std::move(r));
    };
  }
  o.on_start = [&](const collector::CheckSpec&, core::Timestamp due, core::Timestamp started) {
    std::lock_guard<std::mutex> lock(mu);
    delays_ns.push_back((started - due).nanos());
    if (static_cast<int64_t>(delays_ns.size()) >= want) cv.notify_all();
  };
  collector::ProbeEngine engine(
      o, clock, [&](const collector::CheckSpec&, const collector::ProbeResult& r, core::Timestamp) {
        if (!r.success) failures.fetch_add(1, std::memory_order_relaxed);
      });
  std::vector<collector::CheckSpec> checks(static_cast<size_t>(a.checks));
  for (int i = 0; i < a.checks; ++i) {
    collector::CheckSpec& c = checks[static_cast<size_t>(i)];
    c.name = fmt::format("check-{:05d}", i);
    c.kind = collector::CheckKind::kTcp;
    c.target = "127.0.0.1";
    c.interval = interval;
    c.timeout = Duration::Seconds(1);
  }
  engine.SetChecks(std::move(checks));

  // Control: how late this host wakes a thread that waits 1 ms, measured alongside the run. When
  // its p99 is as bad as the engine's, the host's CPU contention (not the engine) is the delay.
  std::atomic<bool> control_stop{false};
  std::vector<int64_t> control_ns;
  std::thread control([&] {
    while (!control_stop.load()) {
      const auto t0 = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const auto late = std::chrono::steady_clock::now() - t0 - std::chrono::milliseconds(1);
      control_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(late).count());
    }
  });

  const double cpu0 = CpuSeconds();
  const auto wall0 = std::chrono::steady_clock::now();
  engine.Start();
  {
    // The run's length is the measurement itself: C intervals, plus slack for the last ones.
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, (interval * a.cycles + Duration::Seconds(5)).ToChrono(),
                [&] { return static_cast<int64_t>(delays_ns.size()) >= want; });
  }
  engine.Stop();
  control_stop.store(true);
  control.join();
  std::sort(control_ns.begin(), control_ns.end());
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double cpu = CpuSeconds() - cpu0;

  uint64_t skipped = 0;
  for (const collector::CheckStatus& s : engine.Statuses()) skipped += s.skipped;
  std::vector<int64_t> d;
  {
    std::lock_guard<std::mutex> lock(mu);
    d = delays_ns;
  }
  std::sort(d.begin(), d.end());
  auto ms = [](double ns) { return ns / 1e6; };
  fmt::print(
      "schedule: {} checks, interval {}s, {} cycles, probe={}, io threads={}\n"
      "  probes started {} (want {}), failed {}, skipped {}, wall {:.1f}s\n"
      "  start delay ms: p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}  (goal p99 < "
      "50)\n"
      "  cpu {:.2f}s = {:.3f} cpu-s per 1000 probes ({:.0f}% of one core)\n"
      "  control, lateness of a 1 ms sleep ms: p50 {:.3f}  p99 {:.3f}  max {:.3f}\n",
      a.checks, a.interval_s, a.cycles, a.probe, a.threads, d.size(), want, failures.load(),
      skipped, wall, ms(Quantile(d, 0.5)), ms(Quantile(d, 0.9)), ms(Quantile(d, 0.99)),
      ms(Quantile(d, 0.999)), ms(d.empty() ? 0 : static_cast<double>(d.back())), cpu,
      d.empty() ? 0 : cpu / static_cast<double>(d.size()) * 1000, 100 * cpu / wall,
      ms(Quantile(control_ns, 0.5)), ms(Quantile(control_ns, 0.99)),
      ms(control_ns.empty() ? 0 : static_cast<double>(control_ns.back())));
  return static_cast<int64_t>(d.size()) >= want && ms(Quantile(d, 0.99)) < 50 ? 0 : 1;
}

int RunIcmp(const Args& a) {
  collector::IcmpProbeOptions options;
  if (a.socket == "ping") options.socket = collector::IcmpSocketKind::kPing;
  if (a.socket == "raw") options.socket = collector::IcmpSocketKind::kRaw;
  auto check = std::make_shared<collector::CheckSpec>();
  check->name = "ping-loopback";
  check->kind = collector::CheckKind::kIcmp;
  check->target = "127.0.0.1";
  check->timeout = Duration::Seconds(2);

  asio::io_context io;
  int started = 0, finished = 0, failed = 0;
  std::string first_failure;
  std::vector<int64_t> rtt_ns;
  // Single io thread: the handlers below need no lock. Each completion starts the next probe,
  // keeping `concurrency` in flight.
  std::function<void()> start_one = [&] {
    ++started;
    collector::StartIcmpProbeWithOptions(
        io, core::RealClock(), check, options, [&](collector::ProbeResult r) {
          ++finished;
          if (!r.success) {
            ++failed;
            if (first_failure.empty()) first_failure = r.reason;
          }
          for (const collector::ProbeMetric& m : r.metrics) {
            if (m.name == "probe_icmp_duration_seconds" && !m.labels.empty() &&
                m.labels[0].second == "rtt") {
              rtt_ns.push_back(static_cast<int64_t>(m.value * 1e9));
            }
          }
          if (started < a.count) start_one();
        });
  };
  const double cpu0 = CpuSeconds();
  const auto wall0 = std::chrono::steady_clock::now();
  for (int i = 0; i < std::min(a.concurrency, a.count); ++i) start_one();
  io.run();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double cpu = CpuSeconds() - cpu0;
  std::sort(rtt_ns.begin(), rtt_ns.end());
  fmt::print(
      "icmp: {} probes to 127.0.0.1, {} in flight, socket={}: {} failed{}\n"
      "  wall {:.3f}s ({:.0f} probes/s), cpu {:.3f}s = {:.3f} cpu-s per 1000 probes\n"
      "  rtt ms: p50 {:.3f}  p99 {:.3f}  max {:.3f}\n",
      finished, a.concurrency, a.socket, failed,
      first_failure.empty() ? "" : " (first: " + first_failure + ")", wall, finished / wall, cpu,
      cpu / finished * 1000, Quantile(rtt_ns, 0.5) / 1e6, Quantile(rtt_ns, 0.99) / 1e6,
      rtt_ns.empty() ? 0.0 : static_cast<double>(rtt_ns.back()) / 1e6);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace nines

int main(int argc, char** argv) {
  nines::Args a;
  if (!nines::ParseArgs(argc, argv, &a)) {
    std::fprintf(stderr,
                 "usage: %s schedule [--checks N] [--interval S] [--cycles C] [--probe noop|tcp] "
                 "[--threads T]\n"
                 "       %s icmp [--count N] [--concurrency K] [--socket auto|ping|raw]\n",
                 argv[0], argv[0]);
    return 2;
  }
  return a.mode == "schedule" ? nines::RunSchedule(a) : nines::RunIcmp(a);
}

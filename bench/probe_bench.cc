// CPU per 1000 HTTP probes against a loopback server (collector/http_probe.cc).
//
// The probes run on an io_context driven by the benchmark thread itself, so the thread CPU time
// Google Benchmark reports is the probes' cost (the server runs on its own thread and is not
// counted). One iteration = 1000 probes, `concurrency` in flight at a time; `checks` adds a body
// regex and a JSON check, `padding_kib` puts that many KiB before the JSON (the regex reads it
// all; compare real time there: a matcher on another thread is not in this thread's CPU).
//
// Also a load generator for bench/probe_compare.sh:
//   nines_probe_bench --loadgen URL N CONCURRENCY
// runs N probes of URL and prints "probes=N ok=K cpu_seconds=S" (S from /proc/self/stat,
// utime+stime, measured around the probing only).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "collector/probe.h"
#include "core/clock.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using nines::collector::CheckSpec;
using nines::collector::ProbeResult;

// A minimal HTTP/1.1 responder: reads a request header, answers 200 with a short body, closes.
class TinyServer {
 public:
  // `padding` bytes of spaces go before the JSON body (a long page whose marker is at its end).
  explicit TinyServer(size_t padding = 0)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    const std::string body = std::string(padding, ' ') + "{\"status\":\"ok\"}";
    response_ = fmt::format(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
        "Connection: close\r\n\r\n{}",
        body.size(), body);
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TinyServer() {
    io_.stop();
    thread_.join();
  }
  std::string Url() const {
    return fmt::format("http://127.0.0.1:{}/health", acceptor_.local_endpoint().port());
  }

 private:
  struct Session {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    asio::streambuf in;
  };
  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<Session>(std::move(socket));
      asio::async_read_until(s->socket, s->in, "\r\n\r\n", [this, s](boost::system::error_code rec, size_t) {
        if (rec) return;
        asio::async_write(s->socket, asio::buffer(response_), [s](boost::system::error_code, size_t) {});
      });
      Accept();
    });
  }
  std::string response_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// Runs `total` probes of `spec`, `concurrency` at a time, on `io` in this thread. Returns the
// number that succeeded.
int RunProbes(asio::io_context& io, std::shared_ptr<const CheckSpec> spec, int total,
              int concurrency) {
  int started = 0, ok = 0, finished = 0;
  std::function<void()> launch = [&] {
    ++started;
    nines::collector::StartHttpProbe(io, nines::core::RealClock(), spec, [&](ProbeResult r) {
      if (r.success) ++ok;
      ++finished;
      if (started < total) launch();
    });
  };
  for (int i = 0; i < concurrency && started < total; ++i) launch();
  io.restart();
  io.run();
  (void)finished;
  return ok;
}

std::shared_ptr<const CheckSpec> Spec(const std::string& url, bool checks) {
  CheckSpec c;
  c.name = "bench";
  c.target = url;
  if (checks) {
    c.http.fail_if_body_not_matches = {"\"status\":\\s*\"ok\""};
    c.http.json_checks = {{"/status", "ok"}};
  }
  return std::make_shared<const CheckSpec>(std::move(c));
}

void BM_HttpProbe1000(benchmark::State& state) {
  TinyServer server(static_cast<size_t>(state.range(2)) << 10);
  asio::io_context io;
  auto spec = Spec(server.Url(), state.range(1) != 0);
  for (auto _ : state) {
    int ok = RunProbes(io, spec, 1000, static_cast<int>(state.range(0)));
    if (ok != 1000) state.SkipWithError(fmt::format("only {} of 1000 probes succeeded", ok).c_str());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetLabel("1 iteration = 1000 probes; cpu = probe side only");
}
BENCHMARK(BM_HttpProbe1000)
    ->ArgNames({"concurrency", "checks", "padding_kib"})
    ->Args({1, 0, 0})
    ->Args({50, 0, 0})
    ->Args({50, 1, 0})
    ->Args({50, 1, 200})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

double SelfCpuSeconds() {
  std::ifstream f("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--loadgen") {
    if (argc != 5) {
      std::fprintf(stderr, "usage: %s --loadgen URL N CONCURRENCY\n", argv[0]);
      return 2;
    }
    const int n = std::atoi(argv[3]);
    const int concurrency = std::atoi(argv[4]);
    asio::io_context io;
    auto spec = Spec(argv[2], false);
    const double before = SelfCpuSeconds();
    const int ok = RunProbes(io, spec, n, concurrency);
    const double after = SelfCpuSeconds();
    std::printf("probes=%d ok=%d cpu_seconds=%.3f\n", n, ok, after - before);
    return ok == n ? 0 : 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

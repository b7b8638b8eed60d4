// How fast an agent drains the backlog of an engine outage, and how long fresh results wait.
//
// It queues what `--checks` checks at `--interval` measure in `--hours` (probe_success,
// probe_duration_seconds and three blackbox metrics per result, flushed into one queue record per
// second, as the agent does), then starts a real engine (RocksDB store behind the remote-write
// handler on loopback) and an agent on that queue, and measures
//  - the drain: time until the queue is empty, samples/s delivered and committed;
//  - freshness: the agent keeps probing one check every second during the drain; how long its
//    first result waits until the engine has it (the queue is FIFO, so about the drain time).
//
// Usage: nines_agent_drain_bench [--checks N] [--interval SECONDS] [--hours H] [--dir DIR]
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "collector/agent.h"
#include "core/clock.h"
#include "net/net.h"
#include "remote/remote.h"
#include "store/queue.h"
#include "store/store.h"

namespace {

using nines::core::Duration;
using nines::core::Timestamp;
namespace collector = nines::collector;
namespace store = nines::store;

int ArgInt(int argc, char** argv, const char* name, int def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::atoi(argv[i + 1]);
  }
  return def;
}

std::string ArgString(int argc, char** argv, const char* name, std::string def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return argv[i + 1];
  }
  return def;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

int64_t Count(store::Store& s, const std::string& selector) {
  auto m = store::ParseSelector(selector);
  if (!m.ok()) return -1;
  auto series = s.Select(*m, 0, INT64_MAX);
  if (!series.ok()) return -1;
  int64_t n = 0;
  for (const auto& x : *series) n += static_cast<int64_t>(x.samples.size());
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const int checks = ArgInt(argc, argv, "--checks", 1000);
  const int interval_s = ArgInt(argc, argv, "--interval", 15);
  const int hours = ArgInt(argc, argv, "--hours", 1);
  const std::string dir = ArgString(argc, argv, "--dir", "/tmp/nines-agent-drain-bench");
  std::filesystem::remove_all(dir);
  nines::core::Clock& clock = nines::core::RealClock();
  // The outage ended just now: the backlog covers [now - hours, now).
  const Timestamp end = clock.Now();
  const Timestamp begin = end - Duration::Hours(hours);

  // 1. The backlog, written as the agent writes it: one record per second of measurements.
  int64_t queued_samples = 0, queued_bytes = 0, records = 0, results = 0;
  {
    store::DurableQueueOptions qo;
    qo.dir = dir + "/queue";
    qo.max_bytes = int64_t{16} << 30;
    auto queue = store::OpenDurableQueue(qo);
    if (!queue.ok()) {
      std::fprintf(stderr, "queue: %s\n", queue.status().ToString().c_str());
      return 1;
    }
    std::vector<collector::CheckSpec> specs(checks);
    for (int i = 0; i < checks; ++i) {
      specs[i].name = fmt::format("check-{:05d}", i);
      specs[i].service = "api";
      specs[i].target = fmt::format("https://svc-{}.example/health", i);
      specs[i].region = "eu-west-1";
      specs[i].location = "eu-west-1a";
      specs[i].interval = Duration::Seconds(interval_s);
    }
    collector::WriteRequestBuilder builder;
    const auto t0 = std::chrono::steady_clock::now();
    for (Timestamp second = begin; second < end; second = second + Duration::Seconds(1)) {
      const int64_t s = second.UnixSeconds();
      for (int i = 0; i < checks; ++i) {
        // Each check once per interval, spread over it by its index.
        if ((s + i) % interval_s != 0) continue;
        collector::ProbeResult r;
        r.success = (s / 60 + i) % 97 != 0;
        if (!r.success) r.reason = "status 503";
        r.duration = Duration::Milliseconds(20 + (s + i) % 50);
        r.metrics = {{"probe_http_status_code", {}, r.success ? 200.0 : 503.0},
                     {"probe_http_redirects", {}, 0},
                     {"probe_http_duration_seconds", {{"phase", "connect"}}, 0.001}};
        if (!collector::AppendProbeResult(specs[i], r, second, builder).ok()) return 1;
        ++results;
      }
      auto [record, samples] = builder.Take();
      if (record.empty()) continue;
      if (!(*queue)->Push(record).ok()) return 1;
      queued_samples += samples;
      queued_bytes += static_cast<int64_t>(record.size());
      ++records;
    }
    std::printf("backlog: %d checks every %ds for %dh: %lld samples in %lld records, %.1f MiB "
                "(built in %.1fs)\n",
                checks, interval_s, hours, static_cast<long long>(queued_samples),
                static_cast<long long>(records), queued_bytes / 1048576.0,
                Seconds(std::chrono::steady_clock::now() - t0));
  }

  // 2. The engine: a real store behind the remote-write handler.
  store::StoreOptions so;
  so.dir = dir + "/engine";
  so.out_of_order_window = Duration::Hours(hours + 1);
  auto engine_store = store::OpenStore(so, clock);
  if (!engine_store.ok()) {
    std::fprintf(stderr, "store: %s\n", engine_store.status().ToString().c_str());
    return 1;
  }
  auto registry = std::make_shared<prometheus::Registry>();
  nines::net::Router router;
  router.Handle("POST", "/api/v1/write", nines::net::Access::kPublic,
                nines::remote::RemoteWriteHandler(
                    [&] { return (*engine_store)->NewAppender(); }, registry));
  nines::net::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.access_log = false;
  server_options.max_body_bytes = 64 << 20;
  auto server = nines::net::Server::Start(server_options, std::move(router), clock, registry);
  if (!server.ok()) return 1;

  // 3. The agent on that queue, probing one fresh check every second meanwhile.
  collector::AgentOptions o;
  o.region = "eu-west-1";
  o.location = "eu-west-1a";
  o.engine_url = fmt::format("http://127.0.0.1:{}/api/v1/write", (*server)->port());
  o.queue_dir = dir + "/queue";
  o.queue_max_bytes = int64_t{16} << 30;
  o.heartbeat_interval = Duration::Zero();
  o.registry = std::make_shared<prometheus::Registry>();
  o.probe.probe_function = [](std::shared_ptr<const collector::CheckSpec>,
                              std::function<void(collector::ProbeResult)> done) {
    collector::ProbeResult r;
    r.success = true;
    done(r);
  };
  collector::CheckSpec fresh;
  fresh.name = "fresh";
  fresh.target = "fake://fresh";
  fresh.region = "eu-west-1";
  fresh.location = "eu-west-1a";
  fresh.interval = Duration::Seconds(1);
  fresh.timeout = Duration::Milliseconds(500);
  const auto start = std::chrono::steady_clock::now();
  auto agent = collector::Agent::Start(o, {fresh}, clock);
  if (!agent.ok()) {
    std::fprintf(stderr, "agent: %s\n", agent.status().ToString().c_str());
    return 1;
  }
  double drained_at = -1, fresh_at = -1;
  // Bounded: gives up after 30 minutes.
  while (Seconds(std::chrono::steady_clock::now() - start) < 1800) {
    const double t = Seconds(std::chrono::steady_clock::now() - start);
    if (drained_at < 0 && (*agent)->QueueStats().records <= 1) drained_at = t;
    if (fresh_at < 0 && Count(**engine_store, R"(probe_success{probe="fresh"})") > 0) fresh_at = t;
    if (drained_at >= 0 && fresh_at >= 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (*agent)->Stop();
  const int64_t stored = Count(**engine_store, R"({__name__="probe_success",probe!="fresh"})");
  (*server)->Shutdown();
  std::printf("drain: %.2fs for %lld samples (%.0f samples/s; %.1f MiB/s of protobuf)\n",
              drained_at, static_cast<long long>(queued_samples), queued_samples / drained_at,
              queued_bytes / 1048576.0 / drained_at);
  std::printf("first fresh result stored after %.2fs (it queued behind the backlog)\n", fresh_at);
  const int64_t want = results;  // one probe_success per result
  std::printf("probe_success samples stored: %lld of %lld queued%s\n",
              static_cast<long long>(stored), static_cast<long long>(want),
              stored == want ? "" : "  <-- MISMATCH");
  std::filesystem::remove_all(dir);
  return stored == want && drained_at >= 0 ? 0 : 1;
}

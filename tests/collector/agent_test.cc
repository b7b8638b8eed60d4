// The agent against a real receiver: net::Server with the store's remote-write handler over a
// RocksDB store in a temp dir. Probes are fakes (deterministic results) so the test controls what
// was measured; the network path, the queue and the store are real.
#include "collector/agent.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>

#include "core/log.h"
#include "net/net.h"
#include "remote/remote.h"
#include "store/store.h"
#include "tests/testutil/testutil.h"

namespace nines::collector {
namespace {

using core::Duration;

// A store behind POST /api/v1/write on 127.0.0.1:port.
class Receiver {
 public:
  // `clock`: the engine's (the store's) clock; must outlive the receiver.
  explicit Receiver(const std::string& dir, int port = 0, core::Clock& clock = core::RealClock(),
                    Duration out_of_order_window = Duration::Days(1)) {
    store::StoreOptions so;
    so.dir = dir;
    so.out_of_order_window = out_of_order_window;
    store_ = std::move(*store::OpenStore(so, clock));
    auto registry = std::make_shared<prometheus::Registry>();
    net::Router router;
    net::Handler write =
        remote::RemoteWriteHandler([this] { return store_->NewAppender(); }, registry);
    router.Handle("POST", "/api/v1/write", net::Access::kPublic,
                  [this, write](const net::Request& req) {
                    net::Response res = write(req);
                    {
                      std::lock_guard<std::mutex> lock(mu_);
                      ++writes_;
                    }
                    written_.notify_all();
                    return res;
                  });
    net::ServerOptions options;
    options.listen = "127.0.0.1:" + std::to_string(port);
    auto server = net::Server::Start(options, std::move(router), core::RealClock(), registry);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }
  ~Receiver() { server_->Shutdown(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/api/v1/write"; }
  int port() const { return server_->port(); }
  store::Store& store() { return *store_; }

  // Waits (bounded) until `condition` holds, checking it now and after every write request the
  // receiver answers. `condition` must not wait for a write itself.
  bool WaitFor(const std::function<bool()>& condition, Duration timeout = Duration::Seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return written_.wait_for(lock, timeout.ToChrono(), [&] { return condition(); });
  }

  // Samples stored for series matching `selector`, summed over them.
  int64_t Count(const std::string& selector) {
    auto matchers = store::ParseSelector(selector);
    EXPECT_TRUE(matchers.ok()) << selector;
    auto series = store_->Select(*matchers, 0, INT64_MAX);
    if (!series.ok()) return -1;
    int64_t n = 0;
    for (const auto& s : *series) n += static_cast<int64_t>(s.samples.size());
    return n;
  }

 private:
  std::unique_ptr<store::Store> store_;
  std::mutex mu_;
  std::condition_variable written_;  // a write request was answered
  int64_t writes_ = 0;               // guarded by mu_
  std::unique_ptr<net::Server> server_;  // last: stopped before what its handlers use
};

CheckSpec FakeCheck(const std::string& name, Duration interval) {
  CheckSpec c;
  c.name = name;
  c.target = "fake://" + name;
  c.region = "eu-west-1";
  c.location = "eu-west-1a";
  c.interval = interval;
  c.timeout = interval / 2;
  return c;
}

AgentOptions Options(const std::string& queue_dir, const std::string& url) {
  AgentOptions o;
  o.region = "eu-west-1";
  o.location = "eu-west-1a";
  o.engine_url = url;
  o.queue_dir = queue_dir;
  o.flush_interval = Duration::Milliseconds(20);
  o.min_backoff = Duration::Milliseconds(10);
  o.max_backoff = Duration::Milliseconds(100);
  o.send_timeout = Duration::Seconds(5);
  o.heartbeat_interval = Duration::Milliseconds(100);
  o.registry = std::make_shared<prometheus::Registry>();
  // Every third run fails, with a reason.
  o.probe.probe_function = [n = std::make_shared<std::atomic<int>>(0)](
                               std::shared_ptr<const CheckSpec>, std::function<void(ProbeResult)> done) {
    ProbeResult r;
    r.success = (++*n % 3) != 0;
    if (!r.success) r.reason = "status 503";
    r.duration = Duration::Milliseconds(12);
    done(r);
  };
  return o;
}

int64_t Runs(const Agent& agent) {
  int64_t runs = 0;
  for (const CheckStatus& s : agent.Statuses()) runs += static_cast<int64_t>(s.runs);
  return runs;
}

TEST(AgentTest, DeliversResultsReasonsAndHeartbeats) {
  testutil::TempDir dir;
  Receiver engine(dir.File("engine"));
  auto agent = Agent::Start(Options(dir.File("queue"), engine.url()),
                            {FakeCheck("a", Duration::Milliseconds(50)),
                             FakeCheck("b", Duration::Milliseconds(50))},
                            core::RealClock());
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  ASSERT_TRUE(engine.WaitFor([&] {
    return engine.Count(R"(probe_success{probe="a"})") >= 6 &&
           engine.Count(R"(nines_agent_heartbeat{location="eu-west-1a",region="eu-west-1"})") >= 2;
  }));
  (*agent)->Stop();
  // After Stop the queue may hold the last flush; what reached the engine matches what ran, and
  // the queue holds the rest: nothing is lost.
  const int64_t stored = engine.Count(R"({__name__="probe_success"})");
  EXPECT_GT(stored, 0);
  EXPECT_LE(stored, Runs(**agent));
  EXPECT_GE(engine.Count(R"(nines_probe_failure_reason{reason="status 503"})"), 1);
  EXPECT_GE(engine.Count(R"(probe_duration_seconds{probe="b",location="eu-west-1a"})"), 1);
}

// An agent that measures several regions names each in its heartbeat (one series per region,
// same timestamp), and follows its checks when they change.
TEST(AgentTest, HeartbeatNamesEveryRegionTheAgentMeasures) {
  testutil::TempDir dir;
  Receiver engine(dir.File("engine"));
  CheckSpec other = FakeCheck("c", Duration::Milliseconds(50));
  other.region = "us-east-1";
  auto agent = Agent::Start(Options(dir.File("queue"), engine.url()),
                            {FakeCheck("a", Duration::Milliseconds(50)), other},
                            core::RealClock());
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  ASSERT_TRUE(engine.WaitFor([&] {
    return engine.Count(R"(nines_agent_heartbeat{location="eu-west-1a",region="eu-west-1"})") >=
               2 &&
           engine.Count(R"(nines_agent_heartbeat{location="eu-west-1a",region="us-east-1"})") >= 2;
  }));
  CheckSpec third = FakeCheck("d", Duration::Milliseconds(50));
  third.region = "ap-southeast-2";
  (*agent)->SetChecks({third});
  ASSERT_TRUE(engine.WaitFor([&] {
    return engine.Count(R"(nines_agent_heartbeat{region="ap-southeast-2"})") >= 2;
  }));
  (*agent)->Stop();
  // The new region's heartbeat names the agent's location.
  auto matchers = store::ParseSelector(R"(nines_agent_heartbeat{region="ap-southeast-2"})");
  ASSERT_TRUE(matchers.ok());
  auto series = engine.store().Select(*matchers, 0, INT64_MAX);
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ((*series)[0].labels.Get("location"), "eu-west-1a");
}

// The engine is down while the agent measures; when it comes up, every measured sample arrives,
// once, in order.
TEST(AgentTest, KeepsMeasuringWhileTheEngineIsDownAndDeliversEverythingOnce) {
  testutil::TempDir dir;
  const int port = testutil::UnusedPort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/write";
  AgentOptions options = Options(dir.File("queue"), url);
  auto registry = options.registry;
  auto agent = Agent::Start(options, {FakeCheck("down", Duration::Milliseconds(20))},
                            core::RealClock());
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  // Measure for a while with nowhere to send: records pile up and sends fail.
  ASSERT_TRUE(testutil::WaitFor([&] {
    return (*agent)->QueueStats().records >= 10 &&
           testutil::MetricValue(*registry, "nines_agent_send_failures_total") >= 2;
  }));
  EXPECT_GE(Runs(**agent), 10);
  // The engine comes up on the agreed port; the backlog drains.
  Receiver engine(dir.File("engine"), port);
  ASSERT_TRUE(engine.WaitFor([&] { return engine.Count(R"(probe_success{probe="down"})") >= 20; }));
  (*agent)->Stop();
  // Whatever the final flush left queued, a restarted agent delivers.
  auto restarted = Agent::Start(Options(dir.File("queue"), url), {}, core::RealClock());
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  ASSERT_TRUE(testutil::WaitFor([&] { return (*restarted)->QueueStats().records == 0; }));
  (*restarted)->Stop();
  // Exactly the runs measured, each once.
  auto matchers = *store::ParseSelector(R"(probe_success{probe="down"})");
  auto series = engine.store().Select(matchers, 0, INT64_MAX);
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->size(), 1u);
  const auto& samples = (*series)[0].samples;
  EXPECT_EQ(static_cast<int64_t>(samples.size()), Runs(**agent));
  // In time order, each on the check's 20 ms grid. A scheduler that wakes late (a loaded
  // machine, a sanitizer build) skips grid points rather than bunching runs, so a gap may be a
  // multiple of the interval, never a fraction of it.
  for (size_t i = 1; i < samples.size(); ++i) {
    const int64_t gap = samples[i].timestamp_ms - samples[i - 1].timestamp_ms;
    EXPECT_GT(gap, 0) << i;
    EXPECT_EQ(gap % 20, 0) << i << ": gap " << gap;
  }
}

TEST(AgentTest, RefusedRecordsAreDroppedAndCounted) {
  testutil::TempDir dir;
  // A receiver that refuses every batch with a 400.
  net::Router router;
  std::atomic<int> requests{0};
  router.Handle("POST", "/api/v1/write", net::Access::kPublic, [&](const net::Request&) {
    ++requests;
    return net::Response::Error(400, "no thanks");
  });
  net::ServerOptions so;
  so.listen = "127.0.0.1:0";
  auto server = std::move(*net::Server::Start(so, std::move(router), core::RealClock(), nullptr));
  AgentOptions options = Options(dir.File("queue"),
                                 "http://127.0.0.1:" + std::to_string(server->port()) + "/api/v1/write");
  auto registry = options.registry;
  auto agent = Agent::Start(options, {FakeCheck("x", Duration::Milliseconds(30))}, core::RealClock());
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE(testutil::WaitFor(
      [&] { return testutil::MetricValue(*registry, "nines_agent_rejected_records_total") >= 3; }));
  (*agent)->Stop();
  // A receiver that does not say why refused the whole batch: every sample of it is counted.
  EXPECT_GE(testutil::MetricValue(*registry, "nines_agent_samples_refused_total",
                                  {{"reason", "rejected"}}),
            3);
  EXPECT_GE(requests.load(), 3);
  server->Shutdown();
}

using testutil::ScopedLogSink;

// Issue 12: an agent whose clock is 3 hours fast, or 3 hours slow, against a real engine (store
// and remote-write receiver over loopback): the engine refuses every sample, says so (400), and
// the agent counts them by reason and logs it, instead of being told 204 and dropping them
// silently. The refused records leave the queue (they are refused for good).
TEST(AgentTest, WhatTheEngineRefusesIsCountedByReasonAndLogged) {
  struct Case {
    std::string name;
    Duration engine_behind;  // how far the engine's clock is behind the agent's
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"agent clock 3h fast", Duration::Hours(3), "too_far_in_future"},
      {"agent clock 3h slow", -Duration::Hours(3), "too_old"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    testutil::TempDir dir;
    std::mutex mu;
    std::vector<std::string> lines;
    ScopedLogSink sink([&](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu);
      if (line.find("agent: the engine refused") != std::string_view::npos) {
        lines.emplace_back(line);
      }
    });
    core::FakeClock engine_clock(core::RealClock().Now() - c.engine_behind);
    Receiver engine(dir.File("engine"), 0, engine_clock, Duration::Hours(2));
    AgentOptions options = Options(dir.File("queue"), engine.url());
    auto registry = options.registry;
    auto agent =
        Agent::Start(options, {FakeCheck("x", Duration::Milliseconds(30))}, core::RealClock());
    ASSERT_TRUE(agent.ok()) << agent.status().ToString();
    auto refused = [&] {
      return testutil::MetricValue(*registry, "nines_agent_samples_refused_total",
                                   {{"reason", c.reason}});
    };
    EXPECT_TRUE(testutil::WaitFor([&] { return refused() >= 20; })) << refused();
    (*agent)->Stop();
    core::SetLogSink(nullptr);
    EXPECT_EQ(engine.Count(R"({__name__=~".+"})"), 0);
    // Removed from the queue, not retried forever.
    EXPECT_GE(testutil::MetricValue(*registry, "nines_agent_rejected_records_total"), 1);
    // Logged, rate-limited: one line in the first minute, naming the reason and the engine's
    // answer.
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find(" as " + c.reason + " "), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("HTTP 400"), std::string::npos) << lines[0];
  }
}

TEST(AgentTest, ScrapedSamplesAndUpTravelThroughTheQueue) {
  testutil::TempDir dir;
  Receiver engine(dir.File("engine"));
  net::Router router;
  router.Handle("GET", "/m", net::Access::kPublic, [](const net::Request&) {
    return net::Response::Text(200, "# TYPE app_requests_total counter\n"
                                    "app_requests_total{code=\"200\"} 5\n");
  });
  net::ServerOptions so;
  so.listen = "127.0.0.1:0";
  auto app = net::Server::Start(so, std::move(router), core::RealClock(), nullptr);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  auto agent = Agent::Start(Options(dir.File("queue"), engine.url()), {}, core::RealClock());
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  ScrapeSpec target;
  target.job = "app";
  target.url = fmt::format("http://127.0.0.1:{}/m", (*app)->port());
  target.region = "eu-west-1";
  target.location = "eu-west-1a";
  target.interval = Duration::Milliseconds(100);
  target.timeout = Duration::Milliseconds(100);
  ScrapeSpec broken = target;
  broken.url = "nope";
  EXPECT_EQ((*agent)->SetScrapes({target, broken}).code(), core::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*agent)->SetScrapes({target}).ok());
  ASSERT_TRUE(engine.WaitFor([&] {
    return engine.Count(R"(app_requests_total{job="app",location="eu-west-1a",code="200"})") >= 3 &&
           engine.Count(R"(up{job="app",region="eu-west-1"})") >= 3;
  }));
  std::vector<ScrapeTargetStatus> targets = (*agent)->ScrapeTargets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_TRUE(targets[0].up);
  EXPECT_GE(targets[0].scrapes, 3u);
  (*agent)->Stop();
  (*app)->Shutdown();
}

TEST(AgentTest, StartFailsClearlyWithoutRequiredOptions) {
  testutil::TempDir dir;
  AgentOptions o = Options(dir.File("q"), "http://127.0.0.1:1/api/v1/write");
  o.location = "";
  EXPECT_EQ(Agent::Start(o, {}, core::RealClock()).status().code(), core::StatusCode::kInvalidArgument);
  o = Options(dir.File("q"), "not a url");
  EXPECT_EQ(Agent::Start(o, {}, core::RealClock()).status().code(), core::StatusCode::kInvalidArgument);
}

TEST(LatestResultsTest, ShowsEachChecksLatestResultWithItsReason) {
  testutil::TempDir dir;
  store::StoreOptions so;
  so.dir = dir.File("tsdb");
  core::FakeClock clock;
  auto st = std::move(*store::OpenStore(so, clock));
  CheckSpec ok = FakeCheck("api-eu", Duration::Seconds(15));
  CheckSpec bad = FakeCheck("dns-eu", Duration::Seconds(15));
  const core::Timestamp t0 = clock.Now();
  auto app = st->NewAppender();
  ProbeResult failed;
  failed.reason = "rcode NXDOMAIN not in valid_rcodes [NOERROR]";
  ProbeResult earlier_failure;
  earlier_failure.reason = "timeout after 5s";
  ProbeResult success;
  success.success = true;
  // api-eu failed, then recovered: no reason shown. dns-eu failed twice: the latest reason.
  ASSERT_TRUE(AppendProbeResult(ok, earlier_failure, t0, *app).ok());
  ASSERT_TRUE(AppendProbeResult(ok, success, t0 + Duration::Seconds(15), *app).ok());
  ASSERT_TRUE(AppendProbeResult(bad, earlier_failure, t0, *app).ok());
  ASSERT_TRUE(AppendProbeResult(bad, failed, t0 + Duration::Seconds(15), *app).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto results = LatestResults(*st, t0 + Duration::Seconds(20), Duration::Hours(1));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 2u);  // sorted by probe
  const LatestCheckResult& api = (*results)[0];
  EXPECT_EQ(api.labels.Get("probe"), "api-eu");
  EXPECT_EQ(api.labels.Get("target"), "fake://api-eu");
  EXPECT_EQ(api.labels.Get("region"), "eu-west-1");
  EXPECT_EQ(api.labels.Get("location"), "eu-west-1a");
  EXPECT_EQ(api.last_run.ToRfc3339(), "2023-11-14T22:13:35.000Z");
  EXPECT_TRUE(api.success);
  EXPECT_EQ(api.reason, "");
  const LatestCheckResult& dns = (*results)[1];
  EXPECT_EQ(dns.labels.Get("probe"), "dns-eu");
  EXPECT_FALSE(dns.success);
  EXPECT_EQ(dns.reason, "rcode NXDOMAIN not in valid_rcodes [NOERROR]");
  // Outside the lookback nothing is listed.
  auto old = LatestResults(*st, t0 + Duration::Hours(3), Duration::Hours(1));
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->empty());
}

}  // namespace
}  // namespace nines::collector

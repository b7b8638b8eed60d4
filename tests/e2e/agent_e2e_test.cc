// `nines agent` and `nines serve` as child processes: the engine goes away and comes back while
// the agent keeps probing, and the agent is killed with SIGKILL in the middle of draining its
// backlog. Every probe measured while the agent was alive must arrive, once: the stored samples of
// every check lie on its schedule with no gaps, except where the agent itself was dead.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "net/http_client.h"
#include "net/net.h"
#include "store/store.h"
#include "tests/testutil/testutil.h"

namespace nines {
namespace {

using std::chrono::milliseconds;
using testutil::NinesProcess;
using testutil::TempDir;

// The value of an unlabelled sample in a Prometheus text page, or -1.
double Scrape(const std::string& url, const std::string& metric) {
  net::HttpClient client(net::ClientOptions{});
  net::ClientRequest req;
  req.url = url + "/metrics";
  auto resp = client.Do(req);
  if (!resp.ok() || resp->status != 200) return -1;
  size_t at = resp->body.find("\n" + metric + " ");
  if (at == std::string::npos) at = resp->body.find("\n" + metric + "{");
  if (at == std::string::npos) return -1;
  size_t sp = resp->body.find(' ', at + 1);
  return std::stod(resp->body.substr(sp + 1, resp->body.find('\n', sp + 1) - sp - 1));
}

TEST(AgentE2eTest, EngineOutagesAndAgentKill9LoseNothingThatWasQueued) {
  TempDir dir;
  // A target for the checks: a plain HTTP server in this process.
  net::Router router;
  router.Handle("GET", "/health", net::Access::kPublic,
                [](const net::Request&) { return net::Response::Json(200, R"({"status":"ok"})"); });
  net::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.access_log = false;
  auto target = std::move(*net::Server::Start(so, std::move(router), core::RealClock(), nullptr));

  const int engine_port = testutil::UnusedPort();
  const std::string engine_url = "http://127.0.0.1:" + std::to_string(engine_port);
  std::string checks;
  for (int i = 0; i < 4; ++i) {
    checks += "      - name: check-" + std::to_string(i) +
              "\n        region: eu-west-1\n        interval: 1s\n        timeout: 500ms\n"
              "        http: {url: \"http://127.0.0.1:" +
              std::to_string(target->port()) + "/health\"}\n";
  }
  const std::string config = dir.Write(
      "agent.yaml",
      "regions:\n  - name: eu-west-1\n    locations: [eu-west-1a]\n"
      "collector:\n  location: eu-west-1a\n"
      "agent:\n  engine_url: " + engine_url + "/api/v1/write\n" +
      "  queue_dir: " + dir.File("queue") + "\n  listen: 127.0.0.1:0\n"
      "  flush_interval: 200ms\n  heartbeat_interval: 1s\n  send_timeout: 2s\n"
      "services:\n  - name: api\n    checks:\n" + checks);

  auto start_engine = [&] {
    auto engine = std::make_unique<NinesProcess>(std::vector<std::string>{
        "serve", "--listen", "127.0.0.1:" + std::to_string(engine_port), "--data-dir",
        dir.File("engine"), "--log-level", "warning"});
    EXPECT_EQ(engine->WaitForUrl(), engine_url);
    return engine;
  };
  auto start_agent = [&] {
    auto agent = std::make_unique<NinesProcess>(
        std::vector<std::string>{"agent", "--config", config, "--log-level", "warning"});
    std::string url = agent->WaitForUrl();
    return std::make_pair(std::move(agent), url);
  };

  auto engine = start_engine();
  auto [agent, agent_url] = start_agent();
  ASSERT_FALSE(agent_url.empty());
  ASSERT_TRUE(testutil::WaitFor([&] { return Scrape(agent_url, "nines_agent_sent_records_total") >= 3; }));

  // 1. The engine goes away; the agent keeps measuring into its queue.
  ASSERT_EQ(engine->Stop(), 0) << engine->output();
  ASSERT_TRUE(testutil::WaitFor(
      [&] {
        return Scrape(agent_url, "nines_queue_records") >= 15 &&
               Scrape(agent_url, "nines_agent_send_failures_total") >= 1;
      },
      core::Duration::Seconds(20)));
  // 2. It comes back: the backlog drains.
  engine = start_engine();
  ASSERT_TRUE(testutil::WaitFor([&] { return Scrape(agent_url, "nines_queue_records") == 0; },
                                core::Duration::Seconds(20)));

  // 3. Another outage; then the agent is killed while it drains the backlog.
  ASSERT_EQ(engine->Stop(), 0);
  ASSERT_TRUE(testutil::WaitFor([&] { return Scrape(agent_url, "nines_queue_records") >= 15; },
                                core::Duration::Seconds(30)));
  // The agent is killed at a moment within its first drain attempts: before a send, during one,
  // or between a send and its acknowledgement. Three rounds cover the moments a little apart.
  std::vector<std::pair<int64_t, int64_t>> dead;  // when the agent could not have measured
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    engine = start_engine();
    std::this_thread::sleep_for(milliseconds(40 * round));  // the moment of the kill
    const core::Timestamp killed = core::RealClock().Now();
    agent->Signal(SIGKILL);
    ASSERT_EQ(agent->Wait(milliseconds(10000)), 128 + SIGKILL);
    std::tie(agent, agent_url) = start_agent();
    // From a flush interval plus a probe before the kill (measured, not yet queued) until a
    // probe after the restart.
    dead.emplace_back((killed - core::Duration::Milliseconds(1500)).UnixMillis(),
                      (core::RealClock().Now() + core::Duration::Seconds(2)).UnixMillis());
    ASSERT_TRUE(testutil::WaitFor([&] { return Scrape(agent_url, "nines_queue_records") == 0; },
                                  core::Duration::Seconds(20)));
    if (round < 2) {
      ASSERT_EQ(engine->Stop(), 0);
      ASSERT_TRUE(testutil::WaitFor([&] { return Scrape(agent_url, "nines_queue_records") >= 10; },
                                    core::Duration::Seconds(30)));
    }
  }
  // A few more probes after the restart, then a clean stop of both.
  std::this_thread::sleep_for(milliseconds(1500));  // real probes on a 1s schedule
  ASSERT_EQ(agent->Stop(), 0) << agent->output();
  ASSERT_EQ(engine->Stop(), 0);

  // Read the engine's store directly.
  core::FakeClock clock;
  store::StoreOptions options;
  options.dir = dir.File("engine") + "/tsdb";
  auto db = std::move(*store::OpenStore(options, clock));
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE("check-" + std::to_string(i));
    auto matchers = *store::ParseSelector("probe_success{probe=\"check-" + std::to_string(i) + "\"}");
    auto series = db->Select(matchers, 0, INT64_MAX / 2);
    ASSERT_TRUE(series.ok());
    ASSERT_EQ(series->size(), 1u);
    const auto& samples = (*series)[0].samples;
    ASSERT_GE(samples.size(), 8u);
    int64_t gaps_outside = 0;
    for (size_t k = 1; k < samples.size(); ++k) {
      const int64_t a = samples[k - 1].timestamp_ms, b = samples[k].timestamp_ms;
      ASSERT_EQ((b - a) % 1000, 0) << "off the schedule";
      if (b - a == 1000) continue;
      bool agent_dead = false;
      for (auto [from, to] : dead) agent_dead = agent_dead || (a >= from && b <= to);
      if (agent_dead) continue;
      ++gaps_outside;
      ADD_FAILURE() << "missing samples between " << a << " and " << b;
    }
    EXPECT_EQ(gaps_outside, 0);
  }
  target->Shutdown();
}

}  // namespace
}  // namespace nines

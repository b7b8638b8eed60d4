// AlertingService: the pipeline from Send to a receiver, and what survives a restart. A crash
// (kill -9) is simulated by copying the state directory while the service runs, at the instant
// the test wants to crash, and starting a new service on the copy: the first one's later writes
// never reach it, as if it had died there.
#include "alerting/service.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/state_file.h"
#include "net/net.h"
#include "tests/alerting/test_helpers.h"
#include "tests/testutil/testutil.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;
using testing::Firing;
using testing::L;
using testing::M;
using testing::Resolved;

constexpr Timestamp kT0 = Timestamp::FromUnixSeconds(1'700'000'000);

// A receiver on the other side of a Transport: records what reached it; while down, refuses
// (a transport error, retried by the queue).
class FakeTransport final : public Transport {
 public:
  core::Result<TransportResponse> Send(const OutgoingRequest& request) override {
    if (on_send_) on_send_();
    std::lock_guard lock(mu_);
    ++attempts_;
    cv_.notify_all();
    if (down_) return core::UnavailableError("connection refused");
    delivered_.push_back(request);
    if (clock_ != nullptr) times_.push_back(clock_->Now());
    return TransportResponse{200, "", "ok"};
  }
  // Waits (real time, at most 10 s) until `done(attempts, delivered)`; returns whether it came.
  bool WaitUntil(const std::function<bool(int, size_t)>& done) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10),
                        [&] { return done(attempts_, delivered_.size()); });
  }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  std::vector<OutgoingRequest> delivered() const {
    std::lock_guard lock(mu_);
    return delivered_;
  }
  int attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  // Runs `f` at the start of each Send (set before the service starts).
  void SetOnSend(std::function<void()> f) { on_send_ = std::move(f); }
  // Records, with each delivery, `clock`'s time then.
  void SetClock(const core::Clock* clock) {
    std::lock_guard lock(mu_);
    clock_ = clock;
  }
  std::vector<Timestamp> times() const {
    std::lock_guard lock(mu_);
    return times_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool down_ = false;
  int attempts_ = 0;
  std::vector<OutgoingRequest> delivered_;
  const core::Clock* clock_ = nullptr;
  std::vector<Timestamp> times_;
  std::function<void()> on_send_;
};

// The top-level "status" of a webhook body (the first one: version, groupKey, truncatedAlerts,
// status, ...).
std::string TopStatus(const OutgoingRequest& r) {
  const std::string& body = r.http.body;
  const std::string key = "\"status\":\"";
  size_t at = body.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return body.substr(at, body.find('"', at) - at);
}

std::vector<std::string> Statuses(const std::vector<OutgoingRequest>& sent) {
  std::vector<std::string> out;
  for (const OutgoingRequest& r : sent) out.push_back(TopStatus(r));
  return out;
}

AlertmanagerConfig PagerConfig() {
  AlertmanagerConfig c;
  c.route = testing::Root({"alertname", "region"}, Duration::Seconds(30), Duration::Minutes(5),
                          Duration::Hours(4));
  c.route.receiver = "pager";
  c.receivers.push_back(
      Receiver{"pager", {testing::WebhookIntegration("http://127.0.0.1:9/hook")}});
  return c;
}

const char kBurn[] = R"({alertname="Burn",region="eu-west-1",severity="page"})";

class ServiceTest : public ::testing::Test {
 protected:
  // A service on `state_dir` (the test's own by default), one cycle at a time.
  std::unique_ptr<AlertingService> Start(const std::string& state_dir = "") {
    AlertingServiceOptions o;
    o.config = config_;
    o.external_url = "http://nines.example:9099";
    o.state_dir = state_dir.empty() ? dir_.path() + "/state" : state_dir;
    o.sync = false;
    o.transport = &transport_;
    o.run_thread = false;
    o.registry = registry_;
    o.inbox_capacity = inbox_capacity_;
    o.delivery.initial_backoff = Duration::Milliseconds(1);
    o.delivery.max_backoff = Duration::Milliseconds(2);
    o.delivery.give_up_after = Duration::Hours(24);
    // The queues' retries run on a clock of their own that their waits move (a short real
    // wait each, so a receiver that is down is not hammered).
    o.delivery.clock = &delivery_clock_;
    o.delivery.wait = [this](Timestamp deadline) {
      std::unique_lock lock(wait_mu_);
      wait_cv_.wait_for(lock, std::chrono::milliseconds(2));
      if (delivery_clock_.Now() < deadline) delivery_clock_.Set(deadline);
    };
    auto s = AlertingService::Start(std::move(o), clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *std::move(s) : nullptr;
  }

  // "kill -9" now: the state as it is on disk at this instant, for a new service to start on.
  std::string Crash() {
    const std::string copy = dir_.path() + "/crash" + std::to_string(++crashes_);
    std::filesystem::copy(dir_.path() + "/state", copy, std::filesystem::copy_options::recursive);
    return copy;
  }

  // The engine's evaluation at clock_.Now(): Send, then a cycle; waits for delivery.
  void Evaluate(AlertingService& s, std::vector<Alert> alerts) {
    s.Send(alerts);
    s.RunOnce();
    ASSERT_TRUE(s.WaitIdle(Duration::Seconds(10)));
  }

  void Advance(Duration d) { clock_.Advance(d); }
  Timestamp Now() const { return clock_.Now(); }

  AlertmanagerConfig config_ = PagerConfig();  // what Start gives the service
  size_t inbox_capacity_ = 200'000;
  testutil::TempDir dir_;
  core::FakeClock clock_{kT0};
  core::FakeClock delivery_clock_{kT0};
  FakeTransport transport_;
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  int crashes_ = 0;
  prometheus::Registry* registry_ = nullptr;
};

TEST_F(ServiceTest, APageIsDeliveredAfterGroupWaitOnceAndItsResolutionOnce) {
  auto s = Start();
  Evaluate(*s, {Firing(kBurn, Now(), Now())});
  EXPECT_TRUE(transport_.delivered().empty());  // group_wait
  Advance(Duration::Seconds(30));
  Evaluate(*s, {Firing(kBurn, kT0, Now())});
  ASSERT_EQ(Statuses(transport_.delivered()), std::vector<std::string>{"firing"});
  EXPECT_EQ(transport_.delivered()[0].http.url, "http://127.0.0.1:9/hook");
  for (int i = 0; i < 10; ++i) {  // resends every minute, nothing new to say
    Advance(Duration::Minutes(1));
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
  }
  EXPECT_EQ(transport_.delivered().size(), 1u);
  Evaluate(*s, {Resolved(kBurn, kT0, Now())});
  Advance(Duration::Minutes(5));
  Evaluate(*s, {});
  EXPECT_EQ(Statuses(transport_.delivered()), (std::vector<std::string>{"firing", "resolved"}));
  Advance(Duration::Minutes(5));
  Evaluate(*s, {});
  EXPECT_EQ(transport_.delivered().size(), 2u);
  EXPECT_TRUE(s->Groups().empty());
}

TEST_F(ServiceTest, ADeliveredPageIsNotSentAgainAfterARestart) {
  std::string state;
  {
    auto s = Start();
    Evaluate(*s, {Firing(kBurn, Now(), Now())});
    Advance(Duration::Seconds(30));
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
    ASSERT_EQ(transport_.delivered().size(), 1u);
    state = Crash();
  }
  Advance(Duration::Seconds(20));
  auto s = Start(state);
  for (int i = 0; i < 30; ++i) {
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
    Advance(Duration::Minutes(1));
  }
  EXPECT_EQ(transport_.delivered().size(), 1u);
}

TEST_F(ServiceTest, APageDueButNotDeliveredIsSentAfterARestart) {
  std::string state;
  transport_.SetDown(true);
  {
    auto s = Start();
    Evaluate(*s, {Firing(kBurn, Now(), Now())});
    Advance(Duration::Seconds(30));
    s->Send({Firing(kBurn, kT0, Now())});
    s->RunOnce();  // handed to the queue; the receiver refuses
    ASSERT_TRUE(transport_.WaitUntil([](int attempts, size_t) { return attempts >= 2; }));
    state = Crash();
    s->Stop(Duration::Milliseconds(10));  // what it does after the crash does not matter
  }
  transport_.SetDown(false);
  ASSERT_TRUE(transport_.delivered().empty());
  Advance(Duration::Minutes(2));  // nines was down two minutes; the engine has not resent yet
  auto s = Start(state);
  s->RunOnce();
  ASSERT_TRUE(s->WaitIdle(Duration::Seconds(10)));
  ASSERT_EQ(Statuses(transport_.delivered()), std::vector<std::string>{"firing"});
  Evaluate(*s, {Firing(kBurn, kT0, Now())});
  Advance(Duration::Minutes(5));
  Evaluate(*s, {Firing(kBurn, kT0, Now())});
  EXPECT_EQ(transport_.delivered().size(), 1u);
}

TEST_F(ServiceTest, ARestartWhileAnAlertFiresNeitherRepagesNorResolves) {
  std::string state;
  {
    auto s = Start();
    Evaluate(*s, {Firing(kBurn, Now(), Now())});
    Advance(Duration::Seconds(30));
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
    ASSERT_EQ(transport_.delivered().size(), 1u);
    Advance(Duration::Minutes(1));
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
    state = Crash();
  }
  // Down 10 minutes: the alert's ends_at (4 minutes after the last resend) has passed.
  Advance(Duration::Minutes(10));
  auto s = Start(state);
  Evaluate(*s, {});  // the restored group flushes before the engine resends anything
  ASSERT_EQ(s->Alerts().size(), 1u);
  EXPECT_EQ(s->Alerts()[0].alert.status, AlertStatus::kFiring);
  EXPECT_EQ(s->Alerts()[0].State(), "active");
  for (int i = 0; i < 20; ++i) {  // the engine catches up after a minute, then every minute
    Advance(Duration::Minutes(1));
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
  }
  EXPECT_EQ(Statuses(transport_.delivered()), std::vector<std::string>{"firing"});
}

TEST_F(ServiceTest, ARestoredAlertTheEngineNoLongerSendsResolvesAfterTheGracePeriod) {
  std::string state;
  {
    auto s = Start();
    Evaluate(*s, {Firing(kBurn, Now(), Now())});
    Advance(Duration::Seconds(30));
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
    state = Crash();
  }
  Advance(Duration::Hours(1));
  auto s = Start(state);
  const Timestamp restart = Now();
  while (Now() < restart + Duration::Minutes(15)) {
    Evaluate(*s, {});
    Advance(Duration::Minutes(1));
  }
  // resolve_timeout (5m) of grace, then the next group_interval tick.
  EXPECT_EQ(Statuses(transport_.delivered()), (std::vector<std::string>{"firing", "resolved"}));
}

TEST_F(ServiceTest, AResolutionDueAtTheCrashIsDeliveredAfterTheRestart) {
  struct Case {
    std::string name;
    bool flushed_before_crash;  // the resolved notification was made and failed to deliver
  };
  for (const Case& c :
       {Case{"received, not yet flushed", false}, Case{"flushed, receiver down", true}}) {
    SCOPED_TRACE(c.name);
    testutil::TempDir dir;
    std::string state;
    const Timestamp start = Now();
    const size_t base = transport_.delivered().size();
    {
      auto s = Start(dir.path());
      Evaluate(*s, {Firing(kBurn, start, Now())});
      Advance(Duration::Seconds(30));
      Evaluate(*s, {Firing(kBurn, start, Now())});
      ASSERT_EQ(transport_.delivered().size(), base + 1);
      Advance(Duration::Minutes(1));
      Evaluate(*s, {Resolved(kBurn, start, Now())});
      if (c.flushed_before_crash) {
        transport_.SetDown(true);
        Advance(Duration::Minutes(4));
        const int attempts = transport_.attempts();
        s->RunOnce();
        ASSERT_TRUE(transport_.WaitUntil([&](int n, size_t) { return n > attempts + 1; }));
      }
      state = dir.path() + "-crash";
      std::filesystem::copy(dir.path(), state, std::filesystem::copy_options::recursive);
      s->Stop(Duration::Milliseconds(10));
    }
    transport_.SetDown(false);
    Advance(Duration::Minutes(3));
    {
      auto s = Start(state);
      Evaluate(*s, {});
      Advance(Duration::Minutes(5));
      Evaluate(*s, {});
    }
    std::filesystem::remove_all(state);
    auto sent = transport_.delivered();
    sent.erase(sent.begin(), sent.begin() + static_cast<std::ptrdiff_t>(base));
    EXPECT_EQ(Statuses(sent), (std::vector<std::string>{"firing", "resolved"}));
  }
}

TEST_F(ServiceTest, ACrashBetweenASendAndItsRecordRepeatsThePageOnceWithTheSameDedupKey) {
  AlertmanagerConfig c = PagerConfig();
  Integration pagerduty;
  pagerduty.kind = IntegrationKind::kPagerDuty;
  pagerduty.fields["routing_key"] = "0123456789abcdef0123456789abcdef";
  c.receivers[0].integrations = {pagerduty};
  std::string state;
  // The receiver takes the event; nines dies before it hears back, so before the record.
  transport_.SetOnSend([&] {
    if (state.empty()) state = Crash();
  });
  {
    auto s = Start();
    s->Reload(c, nullptr);
    Evaluate(*s, {Firing(kBurn, Now(), Now())});
    Advance(Duration::Seconds(30));
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
    ASSERT_EQ(transport_.delivered().size(), 1u);
  }
  ASSERT_FALSE(state.empty());
  Advance(Duration::Seconds(30));
  auto s = Start(state);
  s->Reload(c, nullptr);
  for (int i = 0; i < 10; ++i) {
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
    Advance(Duration::Minutes(1));
  }
  const auto sent = transport_.delivered();
  ASSERT_EQ(sent.size(), 2u);  // once more, no more
  EXPECT_FALSE(sent[0].dedup_key.empty());
  EXPECT_EQ(sent[1].dedup_key, sent[0].dedup_key);
  EXPECT_NE(sent[1].http.body.find("\"event_action\":\"trigger\""), std::string::npos);
}

TEST_F(ServiceTest, SilencesSurviveARestartAndExpiredOnesAreCollected) {
  std::string state;
  std::string id;
  {
    auto s = Start();
    Silence silence;
    silence.matchers = M(R"(region="eu-west-1")");
    silence.ends_at = Now() + Duration::Hours(2);
    silence.created_by = "ana";
    silence.comment = "maintenance";
    auto added = s->AddSilence(silence);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    id = *added;
    Silence short_one = silence;
    short_one.matchers = M(R"(region="us-east-1")");
    short_one.ends_at = Now() + Duration::Minutes(1);
    ASSERT_TRUE(s->AddSilence(short_one).ok());
    state = Crash();
  }
  auto s = Start(state);
  ASSERT_EQ(s->silences().List().size(), 2u);
  auto kept = s->silences().Get(id);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->created_by, "ana");
  Evaluate(*s, {Firing(kBurn, Now(), Now())});
  Advance(Duration::Seconds(30));
  Evaluate(*s, {Firing(kBurn, Now(), Now())});
  EXPECT_TRUE(transport_.delivered().empty());
  ASSERT_EQ(s->Alerts().size(), 1u);
  EXPECT_EQ(s->Alerts()[0].silenced_by, std::vector<std::string>{id});
  // One added on the store directly is saved at the next cycle.
  Silence direct;
  direct.matchers = M(R"(alertname="Direct")");
  direct.ends_at = Now() + Duration::Hours(1);
  auto direct_id = s->silences().Add(direct, Now());
  ASSERT_TRUE(direct_id.ok());
  Evaluate(*s, {});
  {
    const std::string copy = state + "-copy";
    std::filesystem::copy(state, copy, std::filesystem::copy_options::recursive);
    auto restarted = Start(copy);
    EXPECT_TRUE(restarted->silences().Get(*direct_id).has_value());
  }
  // Expired and kept for silence_retention (120h), then gone, from disk too.
  ASSERT_TRUE(s->ExpireSilence(id).ok());
  ASSERT_TRUE(s->ExpireSilence(*direct_id).ok());
  Advance(Duration::Hours(120) - Duration::Seconds(1));
  Evaluate(*s, {});
  EXPECT_EQ(s->silences().List().size(), 3u);
  Advance(Duration::Minutes(2));
  Evaluate(*s, {});
  EXPECT_TRUE(s->silences().List().empty());
  s.reset();
  auto again = Start(state);
  EXPECT_TRUE(again->silences().List().empty());
}

TEST_F(ServiceTest, CorruptStateFilesAreSetAsideAndTheServiceStartsEmpty) {
  const std::string state = dir_.path() + "/state";
  std::filesystem::create_directories(state);
  for (const char* name : {"alerts", "silences", "nflog"}) {
    ASSERT_TRUE(core::WriteFileAtomic(state + "/" + name, "garbage\x01\n", false).ok());
  }
  auto s = Start();
  ASSERT_NE(s, nullptr);
  for (const char* name : {"alerts", "silences", "nflog"}) {
    EXPECT_TRUE(std::filesystem::exists(state + "/" + name + ".corrupt")) << name;
  }
  EXPECT_TRUE(s->Alerts().empty());
  EXPECT_TRUE(s->silences().List().empty());
  Evaluate(*s, {Firing(kBurn, Now(), Now())});
  Advance(Duration::Seconds(30));
  Evaluate(*s, {Firing(kBurn, Now(), Now())});
  EXPECT_EQ(transport_.delivered().size(), 1u);
}

TEST_F(ServiceTest, ReloadKeepsAlertsAndTheLogSoNothingIsResent) {
  auto s = Start("");
  Evaluate(*s, {Firing(kBurn, Now(), Now())});
  Advance(Duration::Seconds(30));
  Evaluate(*s, {Firing(kBurn, kT0, Now())});
  ASSERT_EQ(transport_.delivered().size(), 1u);
  AlertmanagerConfig next = PagerConfig();
  next.receivers.push_back(
      Receiver{"tickets", {testing::WebhookIntegration("http://127.0.0.1:9/tickets")}});
  s->Reload(next, nullptr);
  EXPECT_EQ(s->ReceiverNames(), (std::vector<std::string>{"pager", "tickets"}));
  EXPECT_EQ(s->Alerts().size(), 1u);
  for (int i = 0; i < 10; ++i) {
    Advance(Duration::Minutes(1));
    Evaluate(*s, {Firing(kBurn, kT0, Now())});
  }
  EXPECT_EQ(transport_.delivered().size(), 1u);
}

TEST_F(ServiceTest, ReloadDropsTheQueuesOfRemovedReceiversAndRoutesToTheNewOnes) {
  auto s = Start();
  Evaluate(*s, {Firing(kBurn, Now(), Now())});
  Advance(Duration::Seconds(30));
  Evaluate(*s, {Firing(kBurn, kT0, Now())});
  ASSERT_EQ(transport_.delivered().size(), 1u);
  AlertmanagerConfig next = PagerConfig();
  next.route.receiver = "oncall";
  next.receivers = {Receiver{"oncall", {testing::WebhookIntegration("http://127.0.0.1:9/oncall")}}};
  Advance(Duration::Minutes(1));  // the alert is older than group_wait: no new wait
  s->Reload(next, nullptr);
  EXPECT_EQ(s->ReceiverNames(), std::vector<std::string>{"oncall"});
  Evaluate(*s, {Firing(kBurn, kT0, Now())});  // a new receiver: its first notification
  ASSERT_EQ(transport_.delivered().size(), 2u);
  EXPECT_EQ(transport_.delivered()[1].http.url, "http://127.0.0.1:9/oncall");
  ASSERT_EQ(s->Groups().size(), 1u);
  EXPECT_EQ(s->Groups()[0].receiver, "oncall");
}

// Shutdown while the receiver is down: its six queues keep retrying until their deadline, and
// they get one deadline together (one after another it was six).
TEST_F(ServiceTest, StopGivesAllQueuesOneDeadlineTogether) {
  for (int i = 1; i < 6; ++i) {
    config_.receivers[0].integrations.push_back(
        testing::WebhookIntegration("http://127.0.0.1:9/hook" + std::to_string(i)));
  }
  transport_.SetDown(true);
  auto s = Start();
  s->Send({Firing(kBurn, kT0, Now())});
  s->RunOnce();
  Advance(Duration::Seconds(30));
  s->RunOnce();
  ASSERT_TRUE(transport_.WaitUntil([](int attempts, size_t) { return attempts >= 30; }));
  core::Clock& real = core::RealClock();
  const Duration start = real.Monotonic();
  s->Stop(Duration::Milliseconds(500));
  const Duration took = real.Monotonic() - start;
  EXPECT_GE(took, Duration::Milliseconds(450));  // they did use the deadline, retrying
  EXPECT_LT(took, Duration::Milliseconds(2000)) << took.ToString();  // not 6 x 500 ms
  EXPECT_TRUE(transport_.delivered().empty());
}

// A full inbox drops repeats, then firing alerts (resent at every evaluation), never the
// resolution the engine sends only once.
TEST_F(ServiceTest, AFullInboxKeepsResolutionsAndTheLatestOfEachAlert) {
  inbox_capacity_ = 4;
  auto s = Start();
  const char kA[] = R"({alertname="A",region="eu-west-1"})";
  Evaluate(*s, {Firing(kA, Now(), Now())});
  Advance(Duration::Seconds(1));
  auto name = [](int i) { return "{alertname=\"F" + std::to_string(i) + "\"}"; };
  s->Send({Resolved(kA, kT0, Now())});  // the oldest in the inbox
  for (int i = 0; i < 4; ++i) s->Send({Firing(name(i), Now(), Now())});
  // Repeats of one alert are coalesced: F3 three more times costs nothing.
  for (int i = 0; i < 3; ++i) s->Send({Firing(name(3), Now(), Now())});
  s->Send({Firing(name(4), Now(), Now())});
  s->RunOnce();
  std::map<std::string, AlertStatus> held;
  for (const AlertView& v : s->Alerts()) held[std::string(v.alert.labels.Get("alertname"))] = v.alert.status;
  // 6 distinct alerts for 4 places: the two oldest firing ones (F0, F1) went; A's resolution
  // reached the dispatcher (A is no longer held as firing).
  EXPECT_EQ(held, (std::map<std::string, AlertStatus>{{"F2", AlertStatus::kFiring},
                                                      {"F3", AlertStatus::kFiring},
                                                      {"F4", AlertStatus::kFiring}}));
}

TEST_F(ServiceTest, ANotificationThatCannotBeBuiltIsSkippedAndCounted) {
  AlertmanagerConfig c = PagerConfig();
  c.receivers[0].integrations[0].fields["url"] = "{{ .Nope ";  // a template that cannot parse
  prometheus::Registry registry;
  registry_ = &registry;
  auto s = Start();
  s->Reload(c, nullptr);
  Evaluate(*s, {Firing(kBurn, Now(), Now())});
  Advance(Duration::Seconds(30));
  Evaluate(*s, {Firing(kBurn, kT0, Now())});
  EXPECT_EQ(transport_.attempts(), 0);
  EXPECT_EQ(s->Alerts().size(), 1u);
  EXPECT_EQ(testutil::MetricValue(registry, "nines_notification_build_errors_total",
                                  {{"receiver", "pager"}, {"integration", "webhook[0]"}}),
            1);
}

TEST_F(ServiceTest, TheThreadDispatchesWhatArrivesAndWhatIsDue) {
  AlertingServiceOptions o;
  o.config = PagerConfig();
  o.config.route.group_wait = Duration::Zero();
  o.transport = &transport_;
  o.sync = false;
  auto s = AlertingService::Start(std::move(o), clock_);
  ASSERT_TRUE(s.ok());
  (*s)->Send({Firing(kBurn, Now(), Now())});
  ASSERT_TRUE(transport_.WaitUntil([](int, size_t delivered) { return delivered == 1; }));
  ASSERT_TRUE((*s)->WaitIdle(Duration::Seconds(10)));  // recorded
  (*s)->Send({Resolved(kBurn, kT0, Now())});
  // Due at the next group_interval tick: the thread sees the clock move within a second.
  Advance(Duration::Minutes(5));
  ASSERT_TRUE(transport_.WaitUntil([](int, size_t delivered) { return delivered == 2; }));
  EXPECT_EQ(Statuses(transport_.delivered()), (std::vector<std::string>{"firing", "resolved"}));
  (*s)->Stop(Duration::Seconds(1));
}

// A webhook receiver on 127.0.0.1 that keeps every body it is sent.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    net::Router router;
    router.Handle("POST", "/hook", net::Access::kPublic, [this](const net::Request& req) {
      std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
      cv_.notify_all();
      return net::Response::Text(200, "ok");
    });
    net::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.shutdown_timeout = Duration::Seconds(1);
    auto server = net::Server::Start(options, std::move(router), core::RealClock(), nullptr);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = *std::move(server);
  }
  std::string url() const { return "http://" + server_->address() + "/hook"; }
  bool WaitForBodies(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return bodies_.size() >= n; });
  }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> bodies_;
  std::unique_ptr<net::Server> server_;
};

TEST(ServiceWebhookTest, APageReachesARealReceiverOnceAcrossARestart) {
  WebhookReceiver receiver;
  testutil::TempDir dir;
  core::FakeClock clock(kT0);
  AlertingServiceOptions o;
  o.config = PagerConfig();
  o.config.route.group_wait = Duration::Zero();
  o.config.receivers[0].integrations[0].fields["url"] = receiver.url();
  o.external_url = "http://nines.example:9099";
  o.state_dir = dir.path();
  o.sync = true;  // the real thing: fsync'd appends and renames
  {
    auto s = AlertingService::Start(o, clock);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    (*s)->Send({Firing(kBurn, kT0, kT0)});
    ASSERT_TRUE(receiver.WaitForBodies(1));
    ASSERT_TRUE((*s)->WaitIdle(Duration::Seconds(10)));
  }
  const std::vector<std::string> bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(bodies[0].c_str()).HasParseError()) << bodies[0];
  EXPECT_STREQ(doc["version"].GetString(), "4");
  EXPECT_STREQ(doc["status"].GetString(), "firing");
  EXPECT_STREQ(doc["receiver"].GetString(), "pager");
  EXPECT_STREQ(doc["externalURL"].GetString(), "http://nines.example:9099");
  EXPECT_STREQ(doc["groupKey"].GetString(), R"({}:{alertname="Burn", region="eu-west-1"})");
  ASSERT_EQ(doc["alerts"].Size(), 1u);
  EXPECT_STREQ(doc["alerts"][0]["labels"]["region"].GetString(), "eu-west-1");
  EXPECT_STREQ(doc["alerts"][0]["annotations"]["summary"].GetString(), "burning");

  // Restarted: the engine keeps sending the alert; the receiver hears nothing new.
  clock.Advance(Duration::Seconds(30));
  o.run_thread = false;
  auto s = AlertingService::Start(o, clock);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 12; ++i) {
    (*s)->Send({Firing(kBurn, kT0, clock.Now())});
    (*s)->RunOnce();
    ASSERT_TRUE((*s)->WaitIdle(Duration::Seconds(10)));
    clock.Advance(Duration::Minutes(1));
  }
  EXPECT_EQ(receiver.bodies().size(), 1u);
}

// Europe/Berlin falls back from CEST (+02) to CET (+01) at 2026-10-25T01:00Z, so the local hour
// 02:00-03:00 happens twice: 00:00-01:00Z and 01:00-02:00Z. Group timers run on absolute time,
// the mute interval on the wall clock (both of its hours), silences on absolute instants
// whatever offset they were written with, and inhibition on what fires at each flush.
TEST_F(ServiceTest, TimersMutesSilencesAndInhibitionAcrossBerlinsFallBack) {
  AlertmanagerConfig c = PagerConfig();
  c.route.group_by = {"alertname"};
  c.route.repeat_interval = Duration::Hours(1);
  c.route.mute_time_intervals = {"two-am"};
  TimeInterval two_am;
  ASSERT_TRUE(two_am.SetLocation("Europe/Berlin").ok());
  two_am.times = {{2 * 60, 3 * 60}};
  c.time_intervals["two-am"] = {two_am};
  c.inhibit_rules.push_back(
      InhibitRule{"", M(R"(severity="page")"), M(R"(severity="ticket")"), {"region"}});
  const Timestamp start = testing::At("2026-10-24T23:00:00Z");  // 01:00 CEST
  clock_.Set(start);
  transport_.SetClock(&clock_);
  auto s = Start();
  s->Reload(c, nullptr);
  Silence quiet;
  quiet.matchers = M(R"(alertname="Other")");
  // 23:10Z to 02:40Z (read as CEST, the end would be 01:40Z and Other would repeat at 02:00:30).
  quiet.starts_at = testing::At("2026-10-25T01:10:00+02:00");
  quiet.ends_at = testing::At("2026-10-25T03:40:00+01:00");
  ASSERT_TRUE(s->AddSilence(quiet).ok());

  const char kSlow[] = R"({alertname="Slow",region="eu-west-1",severity="ticket"})";
  const char kOther[] = R"({alertname="Other",region="us-east-1",severity="ticket"})";
  const Timestamp page_resolves = testing::At("2026-10-25T02:30:00Z");
  while (clock_.Now() <= testing::At("2026-10-25T03:00:00Z")) {
    const Timestamp now = clock_.Now();
    if (now.UnixSeconds() % 60 == 0) {  // the engine evaluates every minute
      std::vector<Alert> alerts = {Firing(kSlow, start, now), Firing(kOther, start, now)};
      if (now < page_resolves) alerts.push_back(Firing(kBurn, start, now));
      if (now == page_resolves) alerts.push_back(Resolved(kBurn, start, now));
      s->Send(alerts);
    }
    s->RunOnce();
    ASSERT_TRUE(s->WaitIdle(Duration::Seconds(10)));
    clock_.Advance(Duration::Seconds(30));
  }
  std::vector<std::string> got;
  const auto sent = transport_.delivered();
  const auto times = transport_.times();
  ASSERT_EQ(sent.size(), times.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    rapidjson::Document doc;
    ASSERT_FALSE(doc.Parse(sent[i].http.body.c_str()).HasParseError());
    got.push_back(times[i].ToRfc3339() + " " + doc["groupLabels"]["alertname"].GetString() + " " +
                  doc["status"].GetString());
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "2026-10-24T23:00:30.000Z Burn firing",    // group_wait
                     "2026-10-24T23:00:30.000Z Other firing",   // before the silence
                     "2026-10-25T02:00:30.000Z Burn firing",    // repeat, held by both 02:00s
                     "2026-10-25T02:30:30.000Z Burn resolved",  // the next tick
                     "2026-10-25T02:30:30.000Z Slow firing",    // no longer inhibited
                     "2026-10-25T02:40:30.000Z Other firing",   // silenced until 02:40Z
                 }));
}

}  // namespace
}  // namespace nines::alerting

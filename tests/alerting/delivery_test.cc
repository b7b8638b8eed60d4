// DeliveryQueue and the default HTTP transport against a real receiver on 127.0.0.1 that fails,
// throttles, hangs or refuses on purpose; time is a FakeClock moved by the queue's waits, so hours
// of retries run at once. Plus the pure helpers (Retry-After, backoff caps, scrubbing).
#include "alerting/delivery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "alerting/delivery_internal.h"
#include "core/clock.h"
#include "core/json.h"
#include "net/net.h"
#include "tests/testutil/testutil.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;
using Outcome = DeliveryResult::Outcome;
using ::testing::HasSubstr;
using ::testing::Not;
using testutil::MetricValue;
using testutil::WaitFor;

constexpr char kPathToken[] = "T00000000-B11111111-XyZsecretPathToken";
constexpr char kBearer[] = "bearer-secret-0123456789abcdef";

// A receiver on 127.0.0.1: POST /hook/{token}. Answers from a script (then 200); a scripted status
// 0 hangs the request until Release(). Records every request. Thread-safe.
class Receiver {
 public:
  Receiver() {
    net::Router router;
    router.Handle("POST", "/hook/{token}", net::Access::kPublic,
                  [this](const net::Request& req) { return Handle(req); });
    net::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 4;
    options.shutdown_timeout = Duration::Seconds(1);
    auto server = net::Server::Start(options, std::move(router), core::RealClock(), nullptr);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = std::move(server).value();
  }
  ~Receiver() {
    Release();
    server_.reset();
  }

  std::string url() const { return "http://" + server_->address() + "/hook/" + kPathToken; }

  void Script(std::deque<net::Response> responses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(responses);
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool WaitForRequests(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return bodies_.size() >= n; });
  }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::string last_authorization() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_authorization_;
  }
  // From now on, answers `status` with the request's body, as a service that quotes a request
  // it refuses (the script is not used).
  void EchoBodiesWith(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    echo_status_ = status;
  }

 private:
  net::Response Handle(const net::Request& req) {
    std::unique_lock<std::mutex> lock(mu_);
    bodies_.push_back(req.body);
    last_authorization_ = std::string(req.headers.Get("Authorization"));
    cv_.notify_all();
    if (echo_status_ != 0) return net::Response::Text(echo_status_, "invalid event: " + req.body);
    net::Response res = net::Response::Text(200, "ok");
    if (!script_.empty()) {
      res = script_.front();
      script_.pop_front();
    }
    if (res.status == 0) {
      cv_.wait_for(lock, std::chrono::seconds(20), [this] { return released_; });
      return net::Response::Text(200, "late");
    }
    return res;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<net::Response> script_;
  bool released_ = false;
  int echo_status_ = 0;
  std::vector<std::string> bodies_;
  std::string last_authorization_;
  std::unique_ptr<net::Server> server_;
};

net::Response Reply(int status, std::string body = "nope") {
  return net::Response::Text(status, std::move(body));
}
net::Response Throttle(std::string retry_after) {
  net::Response r = net::Response::Text(429, "slow down");
  r.headers.Set("Retry-After", retry_after);
  return r;
}
net::Response Hang() { return net::Response{.status = 0, .headers = {}, .body = {}}; }

OutgoingRequest Post(const std::string& url, std::string body) {
  OutgoingRequest r;
  r.kind = OutgoingRequest::Kind::kHttp;
  r.http.method = "POST";
  r.http.url = url;
  r.http.headers.Set("Authorization", std::string("Bearer ") + kBearer);
  r.http.headers.Set("Content-Type", "application/json");
  r.http.body = std::move(body);
  r.target = "http://127.0.0.1/hook/<secret>";
  return r;
}

// Collects done() results; thread-safe.
class Results {
 public:
  std::function<void(const DeliveryResult&)> Callback(std::string name) {
    return [this, name](const DeliveryResult& r) {
      std::lock_guard<std::mutex> lock(mu_);
      results_[name] = r;
      cv_.notify_all();
    };
  }
  std::optional<DeliveryResult> Wait(const std::string& name) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(20), [&] { return results_.count(name) > 0; })) {
      return std::nullopt;
    }
    return results_[name];
  }
  bool Has(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return results_.count(name) > 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, DeliveryResult> results_;
};

// Log lines captured for the test's scope.
class LogCapture {
 public:
  LogCapture()
      : sink_([this](std::string_view line) {
          std::lock_guard<std::mutex> lock(mu_);
          text_ += std::string(line) + "\n";
        }) {}
  std::string text() const {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }
  int Count(std::string_view needle) const {
    std::string t = text();
    int n = 0;
    for (size_t p = t.find(needle); p != std::string::npos; p = t.find(needle, p + 1)) ++n;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::string text_;
  testutil::ScopedLogSink sink_;
};

class DeliveryTest : public ::testing::Test {
 protected:
  // Options whose waits move the fake clock at once, recording each wait.
  DeliveryOptions Options() {
    DeliveryOptions o;
    o.initial_backoff = Duration::Seconds(1);
    o.max_backoff = Duration::Seconds(16);
    o.give_up_after = Duration::Hours(1);
    o.clock = &clock_;
    o.registry = &registry_;
    o.wait = [this](Timestamp deadline) {
      Duration d = deadline - clock_.Now();
      {
        std::lock_guard<std::mutex> lock(mu_);
        waits_.push_back(d);
      }
      if (d > Duration::Zero()) clock_.Advance(d);
    };
    return o;
  }
  std::vector<Duration> waits() {
    std::lock_guard<std::mutex> lock(mu_);
    return waits_;
  }
  double Count(const std::string& outcome) {
    return MetricValue(registry_, "nines_notifications_total",
                       {{"receiver", "team"}, {"integration", "webhook[0]"}, {"outcome", outcome}});
  }
  double QueueLength() {
    return MetricValue(registry_, "nines_notification_queue_length",
                       {{"receiver", "team"}, {"integration", "webhook[0]"}});
  }
  double Latencies() {
    return MetricValue(registry_, "nines_notification_latency_seconds",
                       {{"receiver", "team"}, {"integration", "webhook[0]"}});
  }
  void ExpectNoSecrets(const std::string& text) {
    EXPECT_THAT(text, Not(HasSubstr(kPathToken)));
    EXPECT_THAT(text, Not(HasSubstr(kBearer)));
  }

  core::FakeClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<Transport> transport_ = MakeDefaultTransport(Duration::Seconds(5));
  Receiver receiver_;
  Results results_;
  std::mutex mu_;
  std::vector<Duration> waits_;
};

TEST_F(DeliveryTest, RetriesServerErrorsWithGrowingJitteredBackoffThenDelivers) {
  LogCapture log;
  receiver_.Script({Reply(500), Reply(502), Reply(503), Reply(500), Reply(500), Reply(500)});
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  queue.Enqueue("group-a", {Post(receiver_.url(), "{\"n\":1}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  EXPECT_EQ(r->attempts, 7);
  EXPECT_EQ(r->last_status, 200);
  EXPECT_EQ(receiver_.bodies().size(), 7u);
  EXPECT_EQ(receiver_.last_authorization(), std::string("Bearer ") + kBearer);
  std::vector<Duration> w = waits();
  ASSERT_EQ(w.size(), 6u);
  const int64_t caps[] = {1, 2, 4, 8, 16, 16};  // seconds: doubling, then max_backoff
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_GE(w[i], Duration::Zero()) << i;
    EXPECT_LE(w[i], Duration::Seconds(caps[i])) << i;
  }
  EXPECT_EQ(r->delivered_at, clock_.Now());
  EXPECT_EQ(Count("failed_attempt"), 6);
  EXPECT_EQ(Count("delivered"), 1);
  EXPECT_EQ(Count("dropped"), 0);
  EXPECT_EQ(Latencies(), 1);
  EXPECT_TRUE(WaitFor([&] { return QueueLength() == 0; }));
  EXPECT_THAT(log.text(), HasSubstr("status 500"));
  ExpectNoSecrets(log.text());
}

// The wall clock stepping back a day (NTP) during a backoff does not hold the retry for a day.
TEST_F(DeliveryTest, WallClockStepDoesNotMoveTheSchedule) {
  receiver_.Script({Reply(500)});
  DeliveryOptions o = Options();
  auto advance = o.wait;
  bool stepped = false;
  o.wait = [&](Timestamp deadline) {
    if (!stepped) {
      stepped = true;
      Duration left = deadline - clock_.Now();
      clock_.Set(clock_.Now() - Duration::Days(1));
      deadline = clock_.Now() + left;
    }
    advance(deadline);
  };
  DeliveryQueue queue("team", "webhook[0]", *transport_, o);
  queue.Enqueue("g", {Post(receiver_.url(), "{}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  EXPECT_EQ(r->attempts, 2);
  // The wait before the step, then at most its length again: not a day.
  Duration total;
  for (Duration w : waits()) total += w;
  EXPECT_LE(waits().size(), 2u);
  EXPECT_LE(total, Duration::Seconds(2));
  EXPECT_EQ(Latencies(), 1);
}

// Full jitter: each wait uniform in [0, cap]; over many items the waits spread over the range and
// their mean follows the doubling cap.
TEST_F(DeliveryTest, BackoffIsFullJitterUnderADoublingCap) {
  receiver_.Script({});
  DeliveryOptions o = Options();
  o.registry = nullptr;
  o.max_backoff = Duration::Seconds(64);
  DeliveryQueue queue("team", "webhook[0]", *transport_, o);
  constexpr int kItems = 60;
  std::vector<std::vector<Duration>> by_failure(4);
  for (int i = 0; i < kItems; ++i) {
    receiver_.Script({Reply(500), Reply(500), Reply(500), Reply(500)});
    size_t before = waits().size();
    queue.Enqueue("k", {Post(receiver_.url(), "{}")}, results_.Callback(std::to_string(i)));
    auto r = results_.Wait(std::to_string(i));
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->outcome, Outcome::kDelivered);
    std::vector<Duration> w = waits();
    ASSERT_EQ(w.size(), before + 4);
    for (int f = 0; f < 4; ++f) by_failure[f].push_back(w[before + f]);
  }
  for (int f = 0; f < 4; ++f) {
    SCOPED_TRACE(f);
    Duration cap = Duration::Seconds(int64_t{1} << f);
    double sum = 0, max = 0;
    std::set<int64_t> distinct;
    for (Duration d : by_failure[f]) {
      EXPECT_GE(d, Duration::Zero());
      EXPECT_LE(d, cap);
      sum += d.SecondsDouble();
      max = std::max(max, d.SecondsDouble());
      distinct.insert(d.nanos());
    }
    double mean = sum / kItems;
    // Uniform on [0, cap]: mean cap/2, sd of the mean cap/sqrt(12*60) ~ 0.037 cap.
    EXPECT_NEAR(mean, cap.SecondsDouble() / 2, cap.SecondsDouble() * 0.2);
    EXPECT_GT(max, cap.SecondsDouble() * 0.75);
    EXPECT_GT(distinct.size(), kItems - 5u);
  }
}

TEST_F(DeliveryTest, TooManyRequestsWaitsRetryAfterSecondsBeyondMaxBackoff) {
  receiver_.Script({Throttle("120")});
  DeliveryQueue queue("team", "webhook[0]", *transport_,
                      Options());  // max_backoff 16s
  queue.Enqueue("g", {Post(receiver_.url(), "{}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  EXPECT_EQ(r->attempts, 2);
  ASSERT_EQ(waits().size(), 1u);
  EXPECT_EQ(waits()[0], Duration::Seconds(120));
  EXPECT_EQ(Count("failed_attempt"), 1);
}

TEST_F(DeliveryTest, ServiceUnavailableWithRetryAfterIsHonouredToo) {
  net::Response busy = Reply(503, "maintenance");
  busy.headers.Set("Retry-After", "90");
  receiver_.Script({busy});
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  queue.Enqueue("g", {Post(receiver_.url(), "{}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  EXPECT_EQ(waits(), (std::vector<Duration>{Duration::Seconds(90)}));
}

TEST_F(DeliveryTest, TooManyRequestsWaitsUntilRetryAfterHttpDate) {
  // FakeClock starts at 2023-11-14T22:13:20Z; the receiver asks for 22:18:20, 5 minutes on.
  receiver_.Script({Throttle("Tue, 14 Nov 2023 22:18:20 GMT")});
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  queue.Enqueue("g", {Post(receiver_.url(), "{}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  ASSERT_EQ(waits().size(), 1u);
  EXPECT_EQ(waits()[0], Duration::Minutes(5));
  EXPECT_EQ(r->delivered_at, Timestamp::FromUnixSeconds(1'700'000'000 + 300));
}

// A 429 throttles the integration: the other items wait out the Retry-After too, instead of
// being sent (and throttled) meanwhile.
TEST_F(DeliveryTest, TooManyRequestsHoldsTheWholeQueue) {
  receiver_.Script({Throttle("60")});
  DeliveryOptions o = Options();
  // Both items are queued before the first is sent.
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  struct Gate final : Transport {
    Transport* inner;
    std::function<void()> before;
    core::Result<TransportResponse> Send(const OutgoingRequest& r) override {
      before();
      return inner->Send(r);
    }
  } gate;
  gate.inner = transport_.get();
  gate.before = [&] {
    std::unique_lock<std::mutex> lock(gate_mu);
    gate_cv.wait_for(lock, std::chrono::seconds(10), [&] { return open; });
  };
  DeliveryQueue queue("team", "webhook[0]", gate, o);
  queue.Enqueue("a", {Post(receiver_.url(), "A")}, results_.Callback("a"));
  queue.Enqueue("b", {Post(receiver_.url(), "B")}, results_.Callback("b"));
  {
    std::lock_guard<std::mutex> lock(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  auto a = results_.Wait("a");
  auto b = results_.Wait("b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->outcome, Outcome::kDelivered);
  EXPECT_EQ(b->outcome, Outcome::kDelivered);
  EXPECT_EQ(receiver_.bodies(), (std::vector<std::string>{"A", "A", "B"}));
  EXPECT_EQ(waits(), (std::vector<Duration>{Duration::Seconds(60)}));
  EXPECT_EQ(b->delivered_at, core::FakeClock::kDefaultStart + Duration::Seconds(60));
}

TEST_F(DeliveryTest, TooManyRequestsPastGiveUpGivesUpAtOnce) {
  LogCapture log;
  receiver_.Script({Throttle("7200")});
  DeliveryQueue queue("team", "webhook[0]", *transport_,
                      Options());  // give up after 1h
  queue.Enqueue("g", {Post(receiver_.url(), "{}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kGaveUp);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->last_status, 429);
  EXPECT_TRUE(waits().empty());
  EXPECT_EQ(Count("gave_up"), 1);
  EXPECT_THAT(log.text(), HasSubstr("gave up"));
}

TEST_F(DeliveryTest, ClientErrorIsDroppedAtOnceLoggedOnceWithBodyAndNoSecrets) {
  LogCapture log;
  // The body echoes the path token, as some services do: it must be masked in the log.
  receiver_.Script(
      {Reply(400, std::string("invalid_payload: missing field 'text' for hook ") + kPathToken)});
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  queue.Enqueue("g", {Post(receiver_.url(), "{}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDropped);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->last_status, 400);
  EXPECT_THAT(r->last_error, HasSubstr("invalid_payload: missing field 'text'"));
  EXPECT_THAT(r->last_error, HasSubstr("<secret>"));
  ExpectNoSecrets(r->last_error);
  EXPECT_EQ(receiver_.bodies().size(), 1u);
  EXPECT_TRUE(waits().empty());
  EXPECT_EQ(log.Count("dropped without retry"), 1);
  EXPECT_THAT(log.text(), HasSubstr("answered 400"));
  EXPECT_THAT(log.text(), HasSubstr("invalid_payload"));
  EXPECT_THAT(log.text(), HasSubstr("http://127.0.0.1/hook/<secret>"));
  ExpectNoSecrets(log.text());
  EXPECT_EQ(Count("dropped"), 1);
  EXPECT_EQ(Count("failed_attempt"), 0);
  EXPECT_EQ(Count("delivered"), 0);
}

// Slack's chat.postMessage answers 200 {"ok":false,...} when it refuses a message: that is not a
// delivery but a drop, logged with Slack's error and counted.
TEST_F(DeliveryTest, SlackApiOkFalseIsAnErrorNotADelivery) {
  LogCapture log;
  receiver_.Script({net::Response::Json(200, R"({"ok":false,"error":"channel_not_found"})")});
  OutgoingRequest req = Post(receiver_.url(), "{}");
  req.response_check = OutgoingRequest::ResponseCheck::kSlackApiOk;
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  queue.Enqueue("g", {req}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDropped);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->last_status, 200);
  EXPECT_THAT(r->last_error, HasSubstr("ok:false: channel_not_found"));
  EXPECT_EQ(log.Count("dropped without retry"), 1);
  EXPECT_THAT(log.text(), HasSubstr("channel_not_found"));
  EXPECT_EQ(Count("dropped"), 1);
  EXPECT_EQ(Count("delivered"), 0);
}

// "ratelimited" and a body that is not Slack's JSON are retried (as Alertmanager); ok:true is
// delivered. Without the check (an incoming webhook) the same 200 is delivered at once.
TEST_F(DeliveryTest, SlackApiRateLimitedAndUnreadableAnswersAreRetried) {
  receiver_.Script({net::Response::Json(200, R"({"ok":false,"error":"ratelimited"})"),
                    Reply(200, "<html>proxy</html>"), net::Response::Json(200, R"({"ok":true})")});
  OutgoingRequest req = Post(receiver_.url(), "{}");
  req.response_check = OutgoingRequest::ResponseCheck::kSlackApiOk;
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  queue.Enqueue("g", {req}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(Count("failed_attempt"), 2);
  EXPECT_EQ(Count("delivered"), 1);

  receiver_.Script({net::Response::Json(200, R"({"ok":false,"error":"channel_not_found"})")});
  queue.Enqueue("h", {Post(receiver_.url(), "{}")}, results_.Callback("b"));
  r = results_.Wait("b");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
}

// A service that quotes the refused request in its error answer must not put a key carried in
// the body (PagerDuty's routing_key) into the logs or the result.
TEST_F(DeliveryTest, SecretsEchoedFromTheBodyAreMasked) {
  LogCapture log;
  constexpr char kRoutingKey[] = "R0UT1NG-k3y/with\\slash";
  receiver_.EchoBodiesWith(400);
  std::string body = R"({"routing_key":)";
  core::AppendJsonString(&body, kRoutingKey);  // the echo shows the key JSON-escaped
  body += R"(,"event_action":"trigger"})";
  OutgoingRequest req = Post(receiver_.url(), body);
  req.secrets = {kRoutingKey, "abc"};  // too short to mask: left as is
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  queue.Enqueue("g", {req}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDropped);
  EXPECT_THAT(r->last_error, HasSubstr(R"("routing_key":"<secret>","event_action")"));
  EXPECT_THAT(log.text(), HasSubstr(R"("routing_key":"<secret>")"));
  EXPECT_THAT(log.text(), Not(HasSubstr("R0UT1NG")));
  EXPECT_THAT(r->last_error, Not(HasSubstr("R0UT1NG")));
}

TEST_F(DeliveryTest, RefusedConnectionIsRetriedUntilGiveUpWithoutLeakingTheUrl) {
  LogCapture log;
  DeliveryOptions o = Options();
  o.give_up_after = Duration::Minutes(2);
  DeliveryQueue queue("team", "webhook[0]", *transport_, o);
  std::string closed =
      "http://127.0.0.1:" + std::to_string(testutil::UnusedPort()) + "/hook/" + kPathToken;
  queue.Enqueue("g", {Post(closed, "{}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kGaveUp);
  // 1+2+4+8+16+16+... seconds of capped, jittered waits within 2 minutes: several attempts.
  EXPECT_GE(r->attempts, 5);
  EXPECT_EQ(r->last_status, 0);
  EXPECT_THAT(r->last_error, HasSubstr("UNAVAILABLE"));
  ExpectNoSecrets(r->last_error);
  EXPECT_EQ(clock_.Now(), core::FakeClock::kDefaultStart + Duration::Minutes(2));
  EXPECT_EQ(Count("failed_attempt"), r->attempts - 1);
  EXPECT_EQ(Count("gave_up"), 1);
  EXPECT_EQ(log.Count("gave up after"), 1);
  ExpectNoSecrets(log.text());
}

TEST_F(DeliveryTest, HungResponseTimesOutAndIsRetried) {
  auto fast = MakeDefaultTransport(Duration::Milliseconds(300));
  receiver_.Script({Hang()});
  DeliveryQueue queue("team", "webhook[0]", *fast, Options());
  queue.Enqueue("g", {Post(receiver_.url(), "{\"try\":1}")}, results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(waits().size(), 1u);
  EXPECT_EQ(Count("failed_attempt"), 1);
  receiver_.Release();
}

TEST_F(DeliveryTest, NewerItemSupersedesOneWaitingToRetry) {
  // The first retry wait blocks until the test has enqueued the newer state.
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  DeliveryOptions o = Options();
  auto advance = o.wait;
  o.wait = [&](Timestamp deadline) {
    advance(deadline);
    std::unique_lock<std::mutex> lock(gate_mu);
    gate_cv.wait_for(lock, std::chrono::seconds(10), [&] { return open; });
  };
  receiver_.Script({Reply(500)});
  DeliveryQueue queue("team", "webhook[0]", *transport_, o);
  queue.Enqueue("g", {Post(receiver_.url(), "{\"state\":\"old\"}")}, results_.Callback("old"));
  ASSERT_TRUE(WaitFor([&] { return waits().size() == 1; }));
  queue.Enqueue("g", {Post(receiver_.url(), "{\"state\":\"new\"}")}, results_.Callback("new"));
  // Decided in Enqueue, before the queue's thread runs again.
  ASSERT_TRUE(results_.Has("old"));
  {
    std::lock_guard<std::mutex> lock(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  auto old_result = results_.Wait("old");
  auto new_result = results_.Wait("new");
  ASSERT_TRUE(old_result && new_result);
  EXPECT_EQ(old_result->outcome, Outcome::kSuperseded);
  EXPECT_EQ(old_result->attempts, 1);
  EXPECT_EQ(new_result->outcome, Outcome::kDelivered);
  EXPECT_EQ(new_result->attempts, 1);
  EXPECT_EQ(receiver_.bodies(),
            (std::vector<std::string>{"{\"state\":\"old\"}", "{\"state\":\"new\"}"}));
  EXPECT_EQ(Count("superseded"), 1);
  EXPECT_EQ(Count("delivered"), 1);
}

TEST_F(DeliveryTest, ItemInFlightWhenSupersededIsNotRetried) {
  receiver_.Script({Hang()});
  auto slow = MakeDefaultTransport(Duration::Milliseconds(500));
  DeliveryQueue queue("team", "webhook[0]", *slow, Options());
  queue.Enqueue("g", {Post(receiver_.url(), "{\"state\":\"old\"}")}, results_.Callback("old"));
  ASSERT_TRUE(receiver_.WaitForRequests(1));
  queue.Enqueue("g", {Post(receiver_.url(), "{\"state\":\"new\"}")}, results_.Callback("new"));
  EXPECT_EQ(queue.queued(), 2u);
  auto old_result = results_.Wait("old");
  auto new_result = results_.Wait("new");
  ASSERT_TRUE(old_result && new_result);
  EXPECT_EQ(old_result->outcome,
            Outcome::kSuperseded);  // timed out, then not retried
  EXPECT_EQ(new_result->outcome, Outcome::kDelivered);
  EXPECT_EQ(receiver_.bodies().size(), 2u);
  EXPECT_EQ(receiver_.bodies()[1], "{\"state\":\"new\"}");
  EXPECT_TRUE(waits().empty());
  receiver_.Release();
}

TEST_F(DeliveryTest, FullQueueDropsTheOldestWaitingItem) {
  receiver_.Script({Hang()});
  DeliveryOptions o = Options();
  o.max_queue = 2;
  DeliveryQueue queue("team", "webhook[0]", *transport_, o);
  queue.Enqueue("g1", {Post(receiver_.url(), "1")}, results_.Callback("1"));
  ASSERT_TRUE(receiver_.WaitForRequests(1));  // 1 is in flight, hanging
  queue.Enqueue("g2", {Post(receiver_.url(), "2")}, results_.Callback("2"));
  queue.Enqueue("g3", {Post(receiver_.url(), "3")}, results_.Callback("3"));
  EXPECT_FALSE(results_.Has("2"));
  queue.Enqueue("g4", {Post(receiver_.url(), "4")}, results_.Callback("4"));
  ASSERT_TRUE(results_.Has("2"));
  auto dropped = results_.Wait("2");
  EXPECT_EQ(dropped->outcome, Outcome::kDropped);
  EXPECT_EQ(dropped->attempts, 0);
  EXPECT_EQ(dropped->last_error, "queue full");
  EXPECT_EQ(queue.queued(), 3u);
  EXPECT_EQ(QueueLength(), 3);
  EXPECT_EQ(Count("queue_full"), 1);
  receiver_.Release();
  for (const char* name : {"1", "3", "4"}) {
    auto r = results_.Wait(name);
    ASSERT_TRUE(r.has_value()) << name;
    EXPECT_EQ(r->outcome, Outcome::kDelivered) << name;
  }
  EXPECT_EQ(receiver_.bodies(), (std::vector<std::string>{"1", "3", "4"}));
  EXPECT_TRUE(queue.WaitIdle(Duration::Seconds(5)));
  EXPECT_EQ(QueueLength(), 0);
}

TEST_F(DeliveryTest, EveryRequestOfAnItemIsSentOnceAcceptedOnesAreNotRepeated) {
  receiver_.Script({Reply(200), Reply(503), Reply(200)});
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  queue.Enqueue("g", {Post(receiver_.url(), "first"), Post(receiver_.url(), "second")},
                results_.Callback("a"));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(receiver_.bodies(), (std::vector<std::string>{"first", "second", "second"}));
}

// The default wait is real: an item waiting an hour of backoff does not hold Stop past its
// deadline, and what is left is reported stopped.
TEST_F(DeliveryTest, StopReturnsByItsDeadlineAndReportsWhatIsLeft) {
  receiver_.Script({Reply(500)});
  DeliveryOptions o = Options();
  o.wait = nullptr;
  o.initial_backoff = Duration::Hours(1);
  o.max_backoff = Duration::Hours(1);
  o.give_up_after = Duration::Hours(2);
  DeliveryQueue queue("team", "webhook[0]", *transport_, o);
  // Jitter could make the wait short; two attempts in a row within the test are not plausible.
  queue.Enqueue("g", {Post(receiver_.url(), "{}")}, results_.Callback("a"));
  ASSERT_TRUE(receiver_.WaitForRequests(1));
  ASSERT_TRUE(WaitFor([&] { return Count("failed_attempt") == 1; }));
  core::Clock& real = core::RealClock();
  Duration start = real.Monotonic();
  queue.Stop(Duration::Milliseconds(200));
  Duration took = real.Monotonic() - start;
  EXPECT_GE(took, Duration::Milliseconds(150));
  EXPECT_LT(took, Duration::Seconds(3));
  auto r = results_.Wait("a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kStopped);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(Count("stopped"), 1);
  EXPECT_EQ(queue.queued(), 0u);
  // After Stop nothing is taken, and Stop again is a no-op.
  queue.Enqueue("g2", {Post(receiver_.url(), "{}")}, results_.Callback("b"));
  ASSERT_TRUE(results_.Has("b"));
  EXPECT_EQ(results_.Wait("b")->outcome, Outcome::kStopped);
  queue.Stop(Duration::Seconds(1));
  EXPECT_EQ(receiver_.bodies().size(), 1u);
}

TEST_F(DeliveryTest, StopLetsReadyItemsGoOutWithinTheDeadline) {
  DeliveryQueue queue("team", "webhook[0]", *transport_, Options());
  for (int i = 0; i < 5; ++i) {
    queue.Enqueue("g" + std::to_string(i), {Post(receiver_.url(), std::to_string(i))},
                  results_.Callback(std::to_string(i)));
  }
  queue.Stop(Duration::Seconds(10));
  for (int i = 0; i < 5; ++i) {
    auto r = results_.Wait(std::to_string(i));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->outcome, Outcome::kDelivered) << i;
  }
  EXPECT_EQ(receiver_.bodies().size(), 5u);
}

// ---- Pure helpers
// --------------------------------------------------------------------------

TEST(RetryAfterTest, ParsesSecondsAndTheThreeHttpDateForms) {
  using delivery_internal::ParseRetryAfter;
  Timestamp now = Timestamp::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), Duration::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), Duration::Zero());
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:37 GMT", now), Duration::Seconds(60));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:51:37 GMT", now), Duration::Seconds(120));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:52:37 1994", now), Duration::Seconds(180));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Duration::Zero());  // past
  for (const char* bad : {"", "-1", "1.5", "soon", "Sun, 32 Nov 1994 08:50:37 GMT",
                          "Sun, 06 Foo 1994 08:50:37 GMT", "99999999999", "31622401"}) {
    EXPECT_FALSE(ParseRetryAfter(bad, now).has_value()) << bad;
  }
}

TEST(BackoffCapTest, DoublesUpToTheMaximum) {
  using delivery_internal::BackoffCap;
  Duration s = Duration::Seconds(1);
  EXPECT_EQ(BackoffCap(s, Duration::Seconds(10), 1), s);
  EXPECT_EQ(BackoffCap(s, Duration::Seconds(10), 3), Duration::Seconds(4));
  EXPECT_EQ(BackoffCap(s, Duration::Seconds(10), 5), Duration::Seconds(10));
  EXPECT_EQ(BackoffCap(s, Duration::Seconds(10), 1000), Duration::Seconds(10));
}

TEST(ScrubTest, MasksUrlPathHeadersAndPassword) {
  OutgoingRequest r = Post("https://hooks.slack.com/services/T0/B0/abcdefSECRET", "{}");
  r.http.headers.Set("X-Api-Key", "genie-key-123");
  std::string s = delivery_internal::Scrub(
      "POST https://hooks.slack.com/services/T0/B0/abcdefSECRET: refused; "
      "/services/T0/B0/abcdefSECRET; Bearer " +
          std::string(kBearer) + "; genie-key-123\n",
      r);
  EXPECT_THAT(s, Not(HasSubstr("abcdefSECRET")));
  EXPECT_THAT(s, Not(HasSubstr(kBearer)));
  EXPECT_THAT(s, Not(HasSubstr("genie-key-123")));
  EXPECT_THAT(s, Not(HasSubstr("\n")));
  OutgoingRequest e;
  e.kind = OutgoingRequest::Kind::kEmail;
  e.email.auth_password = "hunter2";
  EXPECT_EQ(delivery_internal::Scrub("535 bad hunter2", e), "535 bad <secret>");
  EXPECT_EQ(delivery_internal::Scrub(std::string(600, 'x'), e).size(), 515u);
}

}  // namespace
}  // namespace nines::alerting

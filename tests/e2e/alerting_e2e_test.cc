// Pages end to end: a real `nines serve` whose SLO burns (probe results remote-written by the
// test, so the burn-rate page fires at the first evaluations instead of minutes in), alerting
// configured in nines.yaml to a webhook receiver on loopback in this process:
//  - the page arrives with its region label and budget annotations, then its resolution;
//  - kill -9 of nines while the receiver holds the page's request open, then a restart: the
//    receiver has the page once, or twice with the same groupKey;
//  - a restart (SIGTERM, then kill -9) while the alert fires: no repeat page and no false
//    resolution, over a window measured in nines' own evaluations (nines_rule_evaluations_total),
//    not in sleeps;
//  - amtool against the running binary: alert query, silence add, query and expire.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "net/http_client.h"
#include "net/net.h"
#include "remote/remote.h"
#include "tests/testutil/testutil.h"

namespace nines {
namespace {

using std::chrono::milliseconds;
using testutil::NinesProcess;
using testutil::TempDir;

// One webhook notification as received.
struct Received {
  std::string status;
  std::string group_key;
  std::string receiver;
  struct Alert {
    std::string status;
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> annotations;
  };
  std::vector<Alert> alerts;
};

std::map<std::string, std::string> StringMap(const rapidjson::Value& v, const char* name) {
  std::map<std::string, std::string> out;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsObject()) return out;
  for (const auto& m : it->value.GetObject()) {
    if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

std::string StringField(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// A webhook receiver on loopback: records every notification (Alertmanager's webhook payload,
// version 4) as it arrives; can hold the next request open until released, as a slow receiver
// does while nines is killed.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    net::Router router;
    router.Handle("POST", "/hook", net::Access::kPublic,
                  [this](const net::Request& r) { return Handle(r); });
    net::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 4;
    o.access_log = false;
    server_ = std::move(*net::Server::Start(o, std::move(router), core::RealClock(), nullptr));
    server_->SetReady(true);
  }
  ~WebhookReceiver() {
    Release();
    server_->Shutdown();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook";
  }

  // The next request is recorded, then answered only once Release() is called (or after 60 s).
  void HoldNext() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_next_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

  // Waits until `condition(received())` holds or `timeout` passes; returns its last value.
  bool WaitFor(const std::function<bool(const std::vector<Received>&)>& condition,
               std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return condition(received_); });
  }

 private:
  net::Response Handle(const net::Request& request) {
    rapidjson::Document doc;
    doc.Parse(request.body.data(), request.body.size());
    if (doc.HasParseError() || !doc.IsObject() || StringField(doc, "version") != "4") {
      ADD_FAILURE() << "not a version 4 webhook payload: " << request.body;
      return net::Response::Text(400, "bad payload");
    }
    Received r;
    r.status = StringField(doc, "status");
    r.group_key = StringField(doc, "groupKey");
    r.receiver = StringField(doc, "receiver");
    auto alerts = doc.FindMember("alerts");
    if (alerts != doc.MemberEnd() && alerts->value.IsArray()) {
      for (const auto& a : alerts->value.GetArray()) {
        r.alerts.push_back(
            {StringField(a, "status"), StringMap(a, "labels"), StringMap(a, "annotations")});
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    received_.push_back(std::move(r));
    cv_.notify_all();
    if (hold_next_) {
      hold_next_ = false;
      released_ = false;
      cv_.wait_for(lock, std::chrono::seconds(60), [this] { return released_; });
    }
    return net::Response::Json(200, "{}");
  }

  std::unique_ptr<net::Server> server_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;  // guarded by mu_
  bool hold_next_ = false;          // guarded by mu_
  bool released_ = true;            // guarded by mu_
};

// The page for api-availability in eu-west-1, firing (or resolved), among `all`.
int Count(const std::vector<Received>& all, const std::string& status) {
  int n = 0;
  for (const Received& r : all) n += r.status == status ? 1 : 0;
  return n;
}

std::string Describe(const std::vector<Received>& all) {
  std::string out;
  for (const Received& r : all) {
    out += r.status + " " + r.group_key + " [";
    for (const auto& a : r.alerts) {
      out += a.status + " " + (a.labels.count("region") ? a.labels.at("region") : "") + "; ";
    }
    out += "]\n";
  }
  return out;
}

// The value of the first sample of `metric` (with `labels` inside the braces, if given) in a
// Prometheus text page, or -1.
double MetricIn(const std::string& page, const std::string& metric,
                const std::string& labels = "") {
  size_t at = 0;
  while ((at = page.find("\n" + metric, at)) != std::string::npos) {
    const size_t name_end = at + 1 + metric.size();
    const char next = name_end < page.size() ? page[name_end] : '\n';
    const size_t eol = page.find('\n', name_end);
    const std::string line = page.substr(at + 1, eol - at - 1);
    at = name_end;
    if (next != ' ' && next != '{') continue;
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

class AlertingE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_text_ = "storage:\n  data_dir: " + dir_.File("data") +
                   "\n  self_scrape_interval: 0s\n"
                   "slo:\n  evaluation_interval: 1s\n"
                   "regions:\n  - name: eu-west-1\n    locations: [dublin, london]\n"
                   "rule_files: [rules.yaml]\n"
                   "alerting:\n"
                   "  external_url: http://nines.example.com\n"
                   "  route:\n"
                   "    receiver: pager\n"
                   "    group_by: [alertname, slo, region]\n"
                   "    group_wait: 0s\n"
                   "    group_interval: 1s\n"
                   "    repeat_interval: 4h\n"
                   "  receivers:\n"
                   "    - name: pager\n"
                   "      webhook_configs:\n"
                   "        - url: " +
                   receiver_.url() + "\n";
    config_ = dir_.Write("nines.yaml", config_text_);
    // A day's 1% budget is 14.4 minutes; a burn of 2x over the last 2 minutes and the last one
    // pages.
    dir_.Write("rules.yaml",
               "slos:\n"
               "  - name: api-availability\n"
               "    service: api\n"
               "    objective: 99\n"
               "    window: 1d\n"
               "    sli:\n"
               "      probe_availability: {selector: '{service=\"api\"}', quorum: 1}\n"
               "    alerting:\n"
               "      min_events: 1\n"
               "      burn_rates:\n"
               "        - {severity: page, long: 2m, short: 1m, factor: 2}\n");
  }

  void TearDown() override { StopWriter(); }

  std::unique_ptr<NinesProcess> StartNines() {
    auto nines = std::make_unique<NinesProcess>(std::vector<std::string>{
        "serve", "--config", config_, "--listen", "127.0.0.1:0", "--log-level", "info"});
    url_ = nines->WaitForUrl();
    EXPECT_FALSE(url_.empty()) << nines->output();
    return nines;
  }

  // Remote-writes probe_success `value` for the api check in eu-west-1 from both locations,
  // every 5 s from `from` to `to` (Unix ms).
  bool Write(int64_t from_ms, int64_t to_ms, double value) {
    remote::WriteRequest req;
    for (const char* location : {"dublin", "london"}) {
      remote::TimeSeries ts;
      ts.labels = *core::Labels::From({{"__name__", "probe_success"},
                                       {"location", location},
                                       {"probe", "api-eu"},
                                       {"region", "eu-west-1"},
                                       {"service", "api"}});
      for (int64_t t = from_ms; t <= to_ms; t += 5000) ts.samples.push_back({t, value});
      req.series.push_back(std::move(ts));
    }
    net::ClientRequest r;
    r.method = "POST";
    r.url = url_ + "/api/v1/write";
    r.headers.Set("Content-Type", "application/x-protobuf");
    r.headers.Set("Content-Encoding", "snappy");
    r.body = remote::EncodeWriteRequest(req);
    auto resp = client_.Do(r);
    return resp.ok() && resp->status / 100 == 2;
  }

  // With `value` 0, writes failed probes from 3 minutes before the current minute up to now.
  // Then writes `value` at the current time every second (real time) until StopWriter.
  // REQUIRES: url_ does not change until StopWriter.
  void StartWriter(double value) {
    if (value == 0) {
      const int64_t now = core::RealClock().Now().UnixMillis();
      ASSERT_TRUE(Write(now / 60'000 * 60'000 - 3 * 60'000, now, 0));
    }
    writer_ = std::thread([this, value] {
      std::unique_lock<std::mutex> lock(writer_mu_);
      while (!writer_cv_.wait_for(lock, milliseconds(1000), [this] { return stop_writer_; })) {
        lock.unlock();
        const int64_t t = core::RealClock().Now().UnixMillis();
        Write(t, t, value);  // a failed write is retried by the next one
        lock.lock();
      }
    });
  }
  void StopWriter() {
    {
      std::lock_guard<std::mutex> lock(writer_mu_);
      stop_writer_ = true;
    }
    writer_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    stop_writer_ = false;
  }

  std::string Get(const std::string& path) {
    auto r = client_.Do({.method = "GET", .url = url_ + path});
    return r.ok() ? r->body : "";
  }
  double Metric(const std::string& name, const std::string& labels = "") {
    return MetricIn("\n" + Get("/metrics"), name, labels);
  }
  // Waits until nines has run `n` more rule evaluations than now; returns whether it did.
  bool WaitEvaluations(int n) {
    const double start = Metric("nines_rule_evaluations_total");
    return testutil::WaitFor([&] { return Metric("nines_rule_evaluations_total") >= start + n; },
                             core::Duration::Seconds(n * 5 + 10));
  }

  WebhookReceiver receiver_;
  TempDir dir_;
  std::string config_;
  std::string config_text_;  // what config_ holds after SetUp
  std::string url_;
  net::HttpClient client_{net::ClientOptions{}};
  std::thread writer_;
  std::mutex writer_mu_;
  std::condition_variable writer_cv_;
  bool stop_writer_ = false;
};

bool IsThePage(const Received::Alert& a) {
  auto label = [&](const char* name) {
    auto it = a.labels.find(name);
    return it == a.labels.end() ? std::string() : it->second;
  };
  return label("alertname") == "SloBurnRate" && label("region") == "eu-west-1" &&
         label("slo") == "api-availability" && label("severity") == "page";
}

TEST_F(AlertingE2eTest, PageArrivesWithRegionAndBudgetThenItsResolution) {
  auto nines = StartNines();
  ASSERT_FALSE(url_.empty());
  // Three bad minutes, then good probes from the current minute on: the page fires at once and
  // resolves once the current minute is complete and good (the 1m window's burn is 0).
  const int64_t now = core::RealClock().Now().UnixMillis();
  const int64_t minute = now / 60'000 * 60'000;
  ASSERT_TRUE(Write(minute - 3 * 60'000, minute - 1, 0));
  ASSERT_TRUE(receiver_.WaitFor([](const auto& all) { return Count(all, "firing") >= 1; },
                                milliseconds(30000)))
      << nines->output();
  StartWriter(1);
  const Received page = receiver_.received().front();
  EXPECT_EQ(page.status, "firing");
  EXPECT_EQ(page.receiver, "pager");
  ASSERT_EQ(page.alerts.size(), 1u);
  const Received::Alert& alert = page.alerts[0];
  EXPECT_TRUE(IsThePage(alert));
  EXPECT_EQ(alert.status, "firing");
  for (const char* key : {"budget_remaining_ratio", "budget_remaining", "budget_total",
                          "long_burn_rate", "short_burn_rate", "window_pair", "summary"}) {
    EXPECT_TRUE(alert.annotations.count(key)) << key;
  }
  EXPECT_EQ(alert.annotations.at("window_pair"), "2m/1m");
  EXPECT_NE(page.group_key.find("eu-west-1"), std::string::npos) << page.group_key;

  // The resolution, for the same group.
  ASSERT_TRUE(receiver_.WaitFor([](const auto& all) { return Count(all, "resolved") >= 1; },
                                milliseconds(150000)))
      << Describe(receiver_.received()) << nines->output();
  std::vector<Received> all = receiver_.received();
  EXPECT_EQ(Count(all, "firing"), 1) << Describe(all);
  const Received& resolved = all.back();
  EXPECT_EQ(resolved.status, "resolved");
  EXPECT_EQ(resolved.group_key, page.group_key);
  ASSERT_EQ(resolved.alerts.size(), 1u);
  EXPECT_TRUE(IsThePage(resolved.alerts[0]));
  EXPECT_EQ(resolved.alerts[0].status, "resolved");
  EXPECT_EQ(nines->Stop(), 0) << nines->output();
}

TEST_F(AlertingE2eTest, Kill9DuringTheSendGivesThePageOnceOrTwiceWithOneGroupKey) {
  receiver_.HoldNext();
  auto nines = StartNines();
  ASSERT_FALSE(url_.empty());
  StartWriter(0);
  // The page is on its way: the receiver holds its request open.
  ASSERT_TRUE(
      receiver_.WaitFor([](const auto& all) { return all.size() >= 1; }, milliseconds(30000)))
      << nines->output();
  nines->Signal(SIGKILL);
  EXPECT_EQ(nines->Wait(milliseconds(10000)), 128 + SIGKILL);
  receiver_.Release();
  StopWriter();

  nines = StartNines();
  ASSERT_FALSE(url_.empty());
  StartWriter(0);
  // The repeat (the send was never recorded as delivered) comes soon; in any case nothing more
  // after nines has evaluated its rules 10 more times.
  receiver_.WaitFor([](const auto& all) { return all.size() >= 2; }, milliseconds(20000));
  ASSERT_TRUE(WaitEvaluations(10)) << nines->output();
  const std::vector<Received> all = receiver_.received();
  ASSERT_GE(all.size(), 1u);
  EXPECT_LE(all.size(), 2u) << Describe(all);
  for (const Received& r : all) {
    EXPECT_EQ(r.status, "firing") << Describe(all);
    EXPECT_EQ(r.group_key, all[0].group_key) << Describe(all);
    ASSERT_EQ(r.alerts.size(), 1u);
    EXPECT_TRUE(IsThePage(r.alerts[0]));
  }
  StopWriter();
  EXPECT_EQ(nines->Stop(), 0) << nines->output();
}

TEST_F(AlertingE2eTest, RestartsWhileThePageFiresNeitherRepeatNorResolveIt) {
  auto nines = StartNines();
  ASSERT_FALSE(url_.empty());
  StartWriter(0);
  ASSERT_TRUE(
      receiver_.WaitFor([](const auto& all) { return all.size() >= 1; }, milliseconds(30000)))
      << nines->output();
  // Delivered and recorded (the metric counts a delivery once its done callback ran).
  ASSERT_TRUE(testutil::WaitFor([&] {
    return Metric("nines_notifications_total", "outcome=\"delivered\"") >= 1;
  })) << Get("/metrics");
  ASSERT_TRUE(WaitEvaluations(2));

  // A graceful restart, then a kill -9 and another start.
  for (int sig : {SIGTERM, SIGKILL}) {
    SCOPED_TRACE(sig == SIGTERM ? "SIGTERM" : "SIGKILL");
    StopWriter();
    nines->Signal(sig);
    EXPECT_TRUE(nines->Wait(milliseconds(15000)).has_value());
    nines = StartNines();
    ASSERT_FALSE(url_.empty());
    StartWriter(0);
    ASSERT_TRUE(WaitEvaluations(10)) << nines->output();
    const std::string alerts = Get("/api/v1/alerts");
    EXPECT_NE(alerts.find("\"state\":\"firing\""), std::string::npos) << alerts;
    const std::vector<Received> all = receiver_.received();
    EXPECT_EQ(all.size(), 1u) << Describe(all) << nines->output();
    EXPECT_EQ(Count(all, "resolved"), 0) << Describe(all);
  }
  StopWriter();
  EXPECT_EQ(nines->Stop(), 0) << nines->output();
}

// Runs amtool (Debian's prometheus-alertmanager, 0.25) with `args` against `url`; returns its
// output without the warning that nines' version is not amtool's, failing the test unless it
// exits 0.
std::string Amtool(const std::string& url, std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/amtool", "--alertmanager.url=" + url};
  argv.insert(argv.end(), args.begin(), args.end());
  testutil::ChildProcess amtool(argv);
  std::optional<int> rc = amtool.Wait(milliseconds(30000));
  EXPECT_EQ(rc, 0) << amtool.output();
  std::string out = amtool.output();
  if (out.rfind("Warning: amtool version", 0) == 0) out.erase(0, out.find('\n') + 1);
  return out;
}

TEST_F(AlertingE2eTest, AmtoolQueriesAlertsAndAddsQueriesAndExpiresSilences) {
  auto nines = StartNines();
  ASSERT_FALSE(url_.empty());
  StartWriter(0);
  ASSERT_TRUE(
      receiver_.WaitFor([](const auto& all) { return all.size() >= 1; }, milliseconds(30000)))
      << nines->output();
  EXPECT_NE(Amtool(url_, {"alert", "query"}).find("SloBurnRate"), std::string::npos);

  std::string id = Amtool(url_, {"silence", "add", "alertname=SloBurnRate", "region=eu-west-1",
                                 "--comment=known outage", "--author=e2e", "--duration=1h"});
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  ASSERT_EQ(id.size(), 36u) << id;  // a UUID
  EXPECT_EQ(Amtool(url_, {"silence", "query", "-q"}), id + "\n");
  const std::string listed = Amtool(url_, {"silence", "query"});
  EXPECT_NE(listed.find("known outage"), std::string::npos) << listed;
  EXPECT_NE(listed.find("e2e"), std::string::npos) << listed;
  // The page is muted now; nines' own API says so too.
  EXPECT_TRUE(testutil::WaitFor([&] {
    return Get("/api/v2/alerts?silenced=true&active=false").find(id) != std::string::npos;
  })) << Get("/api/v2/alerts");

  Amtool(url_, {"silence", "expire", id});
  EXPECT_EQ(Amtool(url_, {"silence", "query", "-q"}), "");
  EXPECT_NE(Amtool(url_, {"silence", "query", "--expired"}).find(id), std::string::npos);
  StopWriter();
  EXPECT_EQ(nines->Stop(), 0) << nines->output();
  // The silence outlives the process: it is in <data_dir>/alerting.
  nines = StartNines();
  ASSERT_FALSE(url_.empty());
  EXPECT_NE(Amtool(url_, {"silence", "query", "--expired"}).find(id), std::string::npos);
  EXPECT_EQ(nines->Stop(), 0) << nines->output();
}

// A stand-in for an existing Alertmanager: takes POST /api/v2/alerts and keeps each body.
class FakeAlertmanager {
 public:
  FakeAlertmanager() {
    net::Router router;
    router.Handle("POST", "/api/v2/alerts", net::Access::kPublic, [this](const net::Request& r) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(r.body);
      authorization_ = std::string(r.headers.Get("Authorization"));
      return net::Response::Json(200, "");
    });
    net::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.access_log = false;
    server_ = std::move(*net::Server::Start(o, std::move(router), core::RealClock(), nullptr));
    server_->SetReady(true);
  }
  ~FakeAlertmanager() { server_->Shutdown(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::string authorization() const {
    std::lock_guard<std::mutex> lock(mu_);
    return authorization_;
  }

 private:
  std::unique_ptr<net::Server> server_;
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;  // guarded by mu_
  std::string authorization_;        // guarded by mu_
};

// The alerting config reloads all or nothing; alerts are pushed to an existing Alertmanager too.
TEST_F(AlertingE2eTest, ReloadAppliesAGoodAlertingConfigAndRefusesABadOne) {
  FakeAlertmanager am;
  dir_.Write("am.token", "s3cret-token\n");
  std::string text = config_text_ + "  alertmanagers:\n    - url: " + am.url() +
                     "\n      bearer_token_file: am.token\n";
  dir_.Write("nines.yaml", text);
  auto nines = StartNines();
  ASSERT_FALSE(url_.empty());
  StartWriter(0);
  ASSERT_TRUE(
      receiver_.WaitFor([](const auto& all) { return all.size() >= 1; }, milliseconds(30000)))
      << nines->output();
  // The existing Alertmanager gets the same alert, with its labels and budget annotations.
  ASSERT_TRUE(testutil::WaitFor([&] {
    for (const std::string& b : am.bodies()) {
      if (b.find("\"alertname\":\"SloBurnRate\"") != std::string::npos &&
          b.find("\"region\":\"eu-west-1\"") != std::string::npos &&
          b.find("\"budget_remaining_ratio\"") != std::string::npos) {
        return true;
      }
    }
    return false;
  })) << nines->output();
  EXPECT_EQ(am.authorization(), "Bearer s3cret-token");
  EXPECT_EQ(nines->output().find("s3cret-token"), std::string::npos);
  EXPECT_EQ(Get("/api/v2/receivers"), R"([{"name":"pager"}])");

  // A broken alerting config: refused with file:line:col, nothing changes.
  std::string bad = text;
  bad.replace(bad.find("    receiver: pager\n"), 20, "    receiver: pagr\n");
  dir_.Write("nines.yaml", bad);
  auto refused = client_.Do({.method = "POST", .url = url_ + "/-/reload"});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_NE(refused->body.find(config_ + ":"), std::string::npos) << refused->body;
  EXPECT_NE(refused->body.find("pagr"), std::string::npos) << refused->body;
  EXPECT_EQ(Metric("nines_config_last_reload_successful"), 0);
  EXPECT_EQ(Get("/api/v2/receivers"), R"([{"name":"pager"}])");

  // A good one: a second receiver, routed to by severity; applied without a restart.
  std::string good = text;
  good.replace(good.find("  receivers:\n"), 13,
               "    routes:\n      - matchers: ['severity=\"ticket\"']\n        receiver: "
               "tickets\n  receivers:\n    - name: tickets\n");
  dir_.Write("nines.yaml", good);
  auto applied = client_.Do({.method = "POST", .url = url_ + "/-/reload"});
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->status, 200) << applied->body << nines->output();
  EXPECT_EQ(Metric("nines_config_last_reload_successful"), 1);
  EXPECT_EQ(Get("/api/v2/receivers"), R"([{"name":"tickets"},{"name":"pager"}])");  // config order
  EXPECT_NE(Get("/api/v2/status").find("tickets"), std::string::npos);
  // The page already sent is not sent again because of the reload.
  ASSERT_TRUE(WaitEvaluations(5));
  EXPECT_EQ(receiver_.received().size(), 1u) << Describe(receiver_.received());
  StopWriter();
  EXPECT_EQ(nines->Stop(), 0) << nines->output();
}

}  // namespace
}  // namespace nines

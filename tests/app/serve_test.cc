// `nines` as a child process: serve, demo, check and version, end to end over loopback.
#include <signal.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include "core/labels.h"
#include "net/http_client.h"
#include "remote/remote.h"
#include "tests/testutil/testutil.h"

namespace nines::app {
namespace {

using std::chrono::milliseconds;
using testutil::ChildProcess;
using testutil::NinesBinary;
using testutil::TempDir;

// Parses Prometheus text exposition into series text -> value, failing the test on any line that
// does not parse.
std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << "line " << n << ": " << line;
    if (space == std::string::npos) continue;
    auto labels = core::ParseLabels(line.substr(0, space));
    EXPECT_TRUE(labels.ok()) << "line " << n << ": " << labels.status().ToString();
    char* end = nullptr;
    std::string value = line.substr(space + 1);
    double v = std::strtod(value.c_str(), &end);
    EXPECT_EQ(*end, '\0') << "line " << n << ": bad value " << value;
    if (labels.ok()) out[labels->ToString()] = v;
  }
  return out;
}

// A `nines` under test: start, wait for its URL, stop.
using Server = testutil::NinesProcess;

net::ClientResponse Do(net::HttpClient& client, const std::string& method, const std::string& url,
                       const std::string& token = "") {
  net::ClientRequest req;
  req.method = method;
  req.url = url;
  if (!token.empty()) req.headers.Set("Authorization", "Bearer " + token);
  auto resp = client.Do(req);
  EXPECT_TRUE(resp.ok()) << method << " " << url << ": " << resp.status().ToString();
  return resp.ok() ? *resp : net::ClientResponse{};
}

net::ClientResponse Get(net::HttpClient& client, const std::string& url) {
  return Do(client, "GET", url);
}

net::ClientResponse Post(net::HttpClient& client, const std::string& url,
                         const std::string& token) {
  return Do(client, "POST", url, token);
}

TEST(ServeTest, AnswersHealthAndMetricsThenExitsZeroOnSigterm) {
  TempDir dir;
  Server server({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.File("data")});
  std::string url = server.WaitForUrl();
  ASSERT_FALSE(url.empty());

  net::HttpClient client(net::ClientOptions{});
  net::ClientResponse health = Get(client, url + "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Get(client, url + "/readyz").status, 200);
  EXPECT_EQ(Get(client, url + "/no/such/page").status, 404);

  net::ClientResponse metrics = Get(client, url + "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers.Get("Content-Type").find("text/plain"), std::string::npos);
  std::map<std::string, double> m = ParseMetrics(metrics.body);
  EXPECT_GE((m[R"(nines_http_requests_total{code="200",method="GET",route="/healthz"})"]), 1);
  EXPECT_GE((m[R"(nines_http_requests_total{code="404",method="GET",route="unmatched"})"]), 1);
  EXPECT_EQ((m[R"(nines_build_info{mode="serve",version=")" NINES_VERSION R"("})"]), 1);
  EXPECT_EQ(m["nines_config_last_reload_successful"], 1);
  EXPECT_GE(m["nines_http_open_connections"], 1);

  EXPECT_EQ(server.Stop(), 0) << server.output();
}

TEST(ServeTest, RefusesToStartOnInvalidConfigNamingFileLineAndColumn) {
  TempDir dir;
  std::string path = dir.Write("bad.yaml", "server:\n  threads: two\n  lisen: x\n");
  ChildProcess child({NinesBinary(), "serve", "--config", path});
  EXPECT_EQ(child.Wait(milliseconds(15000)), 1);
  EXPECT_NE(child.output().find(path + ":2:12: "), std::string::npos) << child.output();
  EXPECT_NE(child.output().find(path + ":3:3: "), std::string::npos) << child.output();
  EXPECT_NE(child.output().find("did you mean \"listen\""), std::string::npos) << child.output();
}

TEST(ServeTest, SecondServerOnTheSameDataDirIsRefused) {
  TempDir dir;
  Server first({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.File("data")});
  ASSERT_FALSE(first.WaitForUrl().empty());
  ChildProcess second(
      {NinesBinary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.File("data")});
  EXPECT_EQ(second.Wait(milliseconds(15000)), 1);
  EXPECT_NE(second.output().find("in use by another nines process"), std::string::npos)
      << second.output();
}

TEST(ServeTest, ReloadKeepsOldConfigWhenNewOneIsInvalidAndAppliesValidOne) {
  TempDir dir;
  const std::string old_token = "old-admin-token-0123456789";
  const std::string new_token = "new-admin-token-9876543210";
  auto config = [&](const std::string& token, const std::string& extra) {
    return "server:\n  listen: 127.0.0.1:0\n  auth:\n    admin_tokens: [" + token +
           "]\nstorage:\n  data_dir: " + dir.File("data") + "\n" + extra;
  };
  std::string path = dir.Write("nines.yaml", config(old_token, ""));
  Server server({"serve", "--config", path});
  std::string url = server.WaitForUrl();
  ASSERT_FALSE(url.empty());
  net::HttpClient client(net::ClientOptions{});

  // A broken file on SIGHUP: refused, logged with its place, old config in force.
  dir.Write("nines.yaml", config(new_token, "slo:\n  default_objective: 100\n"));
  server.Signal(SIGHUP);
  ASSERT_TRUE(server.WaitForOutput("previous configuration stays in force",
                                           milliseconds(10000)))
      << server.output();
  EXPECT_NE(server.output().find(path + ":8:22: "), std::string::npos)
      << server.output();
  std::map<std::string, double> m = ParseMetrics(Get(client, url + "/metrics").body);
  EXPECT_EQ(m["nines_config_last_reload_successful"], 0);
  EXPECT_EQ(Post(client, url + "/-/reload", new_token).status, 401);

  // A valid file through the admin endpoint: the new token works, the old one no longer does.
  dir.Write("nines.yaml", config(new_token, ""));
  EXPECT_EQ(Post(client, url + "/-/reload", "").status, 401);
  EXPECT_EQ(Post(client, url + "/-/reload", old_token).status, 200);
  EXPECT_EQ(Post(client, url + "/-/reload", old_token).status, 401);
  EXPECT_EQ(Post(client, url + "/-/reload", new_token).status, 200);
  m = ParseMetrics(Get(client, url + "/metrics").body);
  EXPECT_EQ(m["nines_config_last_reload_successful"], 1);

  server.Signal(SIGINT);
  EXPECT_EQ(server.Wait(milliseconds(15000)), 0) << server.output();
}

// The rule loop end to end: an SLO over probe data pushed by remote write shows in
// What the HTTP edge (api/) answers, byte for byte: the landing page (golden file shared with
// tests/api), the documents of empty endpoints, and the HTTP codes errors map to.
TEST(ServeTest, LandingPageAndEndpointsAnswerExactly) {
  TempDir dir;
  const std::string token = "admin-token-0123456789abcdef";
  const std::string path = dir.Write(
      "nines.yaml", "server:\n  listen: 127.0.0.1:0\n  auth:\n    admin_tokens: [" + token +
                        "]\nstorage:\n  data_dir: " + dir.File("data") +
                        "\n  self_scrape_interval: 0s\n"
                        "slo:\n  default_objective: 99.9\n  default_window: 28d\n"
                        "regions:\n"
                        "  - name: eu-west-1\n"
                        "    display_name: \"EU <West> & 'Ireland' \\\"1\\\"\"\n"
                        "    locations: [dublin, london]\n"
                        "  - name: us-east-1\n"
                        "    locations: [ashburn]\n");
  Server server({"serve", "--config", path});
  const std::string url = server.WaitForUrl();
  ASSERT_FALSE(url.empty()) << server.output();
  net::HttpClient client(net::ClientOptions{});

  net::ClientResponse page = Get(client, url + "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers.Get("Content-Type"), "text/html; charset=utf-8");
  const std::string golden_path = testutil::SourceDir() + "/tests/api/testdata/landing_page.html";
  if (const char* update = std::getenv("NINES_UPDATE_GOLDEN"); update && *update == '1') {
    std::string body = page.body;
    body.replace(body.find(NINES_VERSION), std::string_view(NINES_VERSION).size(), "@VERSION@");
    std::ofstream(golden_path, std::ios::binary) << body;
  }
  std::ifstream golden(golden_path, std::ios::binary);
  ASSERT_TRUE(golden.good());
  std::stringstream want;
  want << golden.rdbuf();
  std::string expected = want.str();
  const std::string version_mark = "@VERSION@";
  expected.replace(expected.find(version_mark), version_mark.size(), NINES_VERSION);
  EXPECT_EQ(page.body, expected);

  auto expect = [&](const std::string& method, const std::string& route, int status,
                    const std::string& body) {
    SCOPED_TRACE(method + " " + route);
    net::ClientResponse r = Do(client, method, url + route, method == "POST" ? token : "");
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
    EXPECT_EQ(r.body, body);
  };
  expect("GET", "/api/v1/checks", 200, R"({"status":"success","data":[]})");
  expect("GET", "/api/v1/targets", 200,
         R"({"status":"success","data":{"activeTargets":[],"droppedTargets":[]}})");
  expect("GET", "/api/v1/alerts", 200, R"({"status":"success","data":{"alerts":[]}})");
  expect("GET", "/api/v1/alerts?state=fring", 400,
         R"j({"status":"error","error":"state: unknown alert state \"fring\" )j"
         R"j((known: pending, firing, resolved)"})j");
  expect("GET", "/api/v1/slos", 200, R"({"status":"success","data":[]})");
  expect("GET", "/api/v1/slos/nope", 404, R"({"status":"error","error":"no SLO named \"nope\""})");
  expect("GET", "/api/v1/series", 400,
         R"({"status":"error","error":"no match[] parameter given"})");
  expect("POST", "/-/reload", 200, R"({"status":"success"})");
  net::ClientResponse build = Get(client, url + "/api/v1/status/buildinfo");
  EXPECT_EQ(build.status, 200);
  EXPECT_EQ(build.body.rfind(std::string(R"({"status":"success","data":{"version":")") +
                                 NINES_VERSION + R"(","compiler":"g++ )",
                             0),
            0u)
      << build.body;
  EXPECT_TRUE(build.body.ends_with(fmt::format(R"(","cplusplus":{}}}}})", __cplusplus)))
      << build.body;
  // A config that no longer parses: 400; the previous one stays in force.
  dir.Write("nines.yaml", "server: [\n");
  net::ClientResponse refused = Post(client, url + "/-/reload", token);
  EXPECT_EQ(refused.status, 400);
  EXPECT_TRUE(refused.body.starts_with(R"({"status":"error","error":")")) << refused.body;
  EXPECT_EQ(server.Stop(), 0) << server.output();
}

// /api/v1/slos and its burn-rate page in /api/v1/alerts; a broken rule file on reload is refused
// with file:line:col and the old rules stay.
TEST(ServeTest, EvaluatesRuleFilesAndReloadsThemAllOrNothing) {
  TempDir dir;
  const std::string token = "admin-token-0123456789abcdef";
  const std::string rules = dir.Write("rules.yaml",
                                      "slos:\n"
                                      "  - name: api-availability\n"
                                      "    service: api\n"
                                      "    sli:\n"
                                      "      probe_availability: {selector: '{probe=\"api\"}'}\n");
  const std::string path = dir.Write(
      "nines.yaml", "server:\n  listen: 127.0.0.1:0\n  auth:\n    admin_tokens: [" + token +
                        "]\n    write_tokens: [" + token + "]\nstorage:\n  data_dir: " + dir.File("data") +
                        "\n  self_scrape_interval: 0s\nslo:\n  evaluation_interval: 1s\n"
                        "rule_files: [rules.yaml]\n");
  Server server({"serve", "--config", path});
  const std::string url = server.WaitForUrl();
  ASSERT_FALSE(url.empty()) << server.output();
  net::HttpClient client(net::ClientOptions{});
  EXPECT_NE(Get(client, url + "/api/v1/slos").body.find("\"api-availability\""),
            std::string::npos);
  EXPECT_EQ(Get(client, url + "/api/v1/slos/nope").status, 404);

  // Ten minutes of failing probes from one location, ending now: a page-severity burn.
  remote::WriteRequest request;
  remote::TimeSeries ts;
  ts.labels = core::Labels::From({{"__name__", "probe_success"},
                                  {"probe", "api"},
                                  {"region", "eu-west-1"},
                                  {"location", "a"}})
                  .value();
  const int64_t now_ms = core::RealClock().Now().UnixMillis();
  for (int64_t t = now_ms - 10 * 60'000; t <= now_ms; t += 15'000) ts.samples.push_back({t, 0});
  request.series.push_back(ts);
  net::ClientRequest write;
  write.method = "POST";
  write.url = url + "/api/v1/write";
  write.body = remote::SnappyCompress(remote::EncodeWriteRequestProto(request));
  write.headers.Set("Content-Type", "application/x-protobuf");
  write.headers.Set("Content-Encoding", "snappy");
  write.headers.Set("X-Prometheus-Remote-Write-Version", "0.1.0");
  write.headers.Set("Authorization", "Bearer " + token);
  auto written = client.Do(write);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->status, 204) << written->body;

  EXPECT_TRUE(testutil::WaitFor(
      [&] {
        const std::string alerts = Get(client, url + "/api/v1/alerts").body;
        return alerts.find("\"alertname\":\"SloBurnRate\"") != std::string::npos &&
               alerts.find("\"severity\":\"page\"") != std::string::npos &&
               alerts.find("\"region\":\"eu-west-1\"") != std::string::npos &&
               alerts.find("\"state\":\"firing\"") != std::string::npos;
      },
      core::Duration::Seconds(30)))
      << Get(client, url + "/api/v1/alerts").body;
  const std::string one = Get(client, url + "/api/v1/slos/api-availability").body;
  EXPECT_NE(one.find("\"eu-west-1\""), std::string::npos) << one;
  EXPECT_NE(one.find("\"global\""), std::string::npos) << one;

  // A broken rule file: the reload is refused naming it, the SLO stays.
  dir.Write("rules.yaml", "slos:\n  - name: api-availability\n    objectiv: 99\n");
  net::ClientResponse refused = Post(client, url + "/-/reload", token);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("rules.yaml:3:5"), std::string::npos) << refused.body;
  EXPECT_NE(Get(client, url + "/api/v1/slos").body.find("\"api-availability\""),
            std::string::npos);
  EXPECT_EQ(server.Stop(), 0) << server.output();
}

// Reload is all-or-nothing for everything it touches (issue 13): a reload whose config, rule
// file, token file, check or scrape target is bad changes nothing, although every other part of
// the new files (token, objective, SLOs, checks, scrape targets) is valid and different.
class ReloadAllOrNothingTest : public ::testing::Test {
 protected:
  static constexpr const char* kOldToken = "old-admin-token-0123456789";
  static constexpr const char* kNewToken = "new-admin-token-9876543210";

  struct Parts {
    std::string token_file = "old.token";
    std::string objective = "99.8";
    std::string check_address = "127.0.0.1:1";
    std::vector<std::string> scrape_urls = {"http://127.0.0.1:1/metrics"};
    std::vector<std::string> rule_files = {"rules.yaml"};
    std::string extra;  // appended to the slo: section
  };

  static Parts NewParts() {
    Parts p;
    p.token_file = "new.token";
    p.objective = "99.5";
    p.scrape_urls.push_back("http://127.0.0.1:2/metrics");
    p.rule_files.push_back("more-rules.yaml");
    return p;
  }

  std::string Config(const Parts& p) {
    std::string c = "server:\n  listen: 127.0.0.1:0\n  auth:\n    admin_token_file: " +
                    p.token_file + "\nstorage:\n  data_dir: " + dir_.File("data") +
                    "\n  self_scrape_interval: 0s\nslo:\n  evaluation_interval: 1s\n"
                    "  default_objective: " + p.objective + "\n" + p.extra +
                    "regions:\n  - name: eu-west-1\n    locations: [dublin]\n"
                    "collector:\n  location: dublin\n"
                    "services:\n  - name: api\n    checks:\n"
                    "      - name: api-tcp\n        region: eu-west-1\n"
                    "        tcp: {address: \"" + p.check_address + "\"}\n";
    if (p.rule_files.size() > 1) {
      c += "      - name: api-tcp-2\n        region: eu-west-1\n"
           "        tcp: {address: \"127.0.0.1:2\"}\n";
    }
    c += "    scrapes:\n";
    for (const std::string& u : p.scrape_urls) c += "      - {url: \"" + u + "\", region: eu-west-1}\n";
    c += "rule_files: [";
    for (size_t i = 0; i < p.rule_files.size(); ++i) c += (i ? ", " : "") + p.rule_files[i];
    return c + "]\n";
  }

  static std::string Slo(const std::string& name) {
    return "  - name: " + name + "\n    service: api\n    sli:\n"
           "      probe_availability: {selector: '{probe=\"api-tcp\"}'}\n";
  }

  void SetUp() override {
    dir_.Write("old.token", std::string(kOldToken) + "\n");
    dir_.Write("new.token", std::string(kNewToken) + "\n");
    dir_.Write("rules.yaml", "slos:\n" + Slo("api-availability"));
    dir_.Write("more-rules.yaml", "slos:\n" + Slo("api-latest"));
    path_ = dir_.Write("nines.yaml", Config(Parts{}));
    server_ = std::make_unique<Server>(std::vector<std::string>{"serve", "--config", path_});
    url_ = server_->WaitForUrl();
  }

  void TearDown() override {
    EXPECT_EQ(server_->Stop(), 0) << server_->output();
  }

  // Everything the first config set up is in force, nothing of `NewParts` is.
  void ExpectOldStateInForce() {
    // The old token is still the admin token (its reload of the bad file is refused: 400/409,
    // not 401); the new one is not.
    const int with_old = Post(client_, url_ + "/-/reload", kOldToken).status;
    EXPECT_TRUE(with_old == 400 || with_old == 409) << with_old;
    EXPECT_EQ(Post(client_, url_ + "/-/reload", kNewToken).status, 401);
    // The old config: its objective on the landing page.
    const std::string landing = Get(client_, url_ + "/").body;
    EXPECT_NE(landing.find("<b>99.8%</b>"), std::string::npos) << landing;
    // The old rules.
    const std::string slos = Get(client_, url_ + "/api/v1/slos").body;
    EXPECT_NE(slos.find("\"api-availability\""), std::string::npos) << slos;
    EXPECT_EQ(slos.find("\"api-latest\""), std::string::npos) << slos;
    // The old scrape targets and checks.
    const std::string targets = Get(client_, url_ + "/api/v1/targets").body;
    EXPECT_NE(targets.find("127.0.0.1:1/metrics"), std::string::npos) << targets;
    EXPECT_EQ(targets.find("127.0.0.1:2/metrics"), std::string::npos) << targets;
    std::map<std::string, double> m = ParseMetrics(Get(client_, url_ + "/metrics").body);
    EXPECT_EQ(m["nines_probe_checks"], 1);
    EXPECT_EQ(m["nines_scrape_targets"], 1);
    EXPECT_EQ(m["nines_config_last_reload_successful"], 0);
  }

  // Writes `config` and reloads it; expects the reload refused and nothing changed.
  void ExpectRefused(const std::string& config) {
    dir_.Write("nines.yaml", config);
    net::ClientResponse r = Post(client_, url_ + "/-/reload", kOldToken);
    EXPECT_TRUE(r.status == 400 || r.status == 409) << r.status << " " << r.body;
    ExpectOldStateInForce();
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Server> server_;
  std::string url_;
  net::HttpClient client_{net::ClientOptions{}};
};

TEST_F(ReloadAllOrNothingTest, ABadConfigChangesNothing) {
  ASSERT_FALSE(url_.empty());
  Parts p = NewParts();
  p.extra = "  agent_down_after: soon\n";
  ExpectRefused(Config(p));
}

TEST_F(ReloadAllOrNothingTest, ABadRuleFileChangesNothing) {
  ASSERT_FALSE(url_.empty());
  dir_.Write("more-rules.yaml", "slos:\n" + Slo("api-latest") + "    objectiv: 99\n");
  ExpectRefused(Config(NewParts()));
}

TEST_F(ReloadAllOrNothingTest, ABadTokenFileChangesNothing) {
  ASSERT_FALSE(url_.empty());
  Parts p = NewParts();
  p.token_file = "missing.token";
  ExpectRefused(Config(p));
  dir_.Write("empty.token", "\n");
  p.token_file = "empty.token";
  ExpectRefused(Config(p));
}

TEST_F(ReloadAllOrNothingTest, ABadCheckTargetChangesNothing) {
  ASSERT_FALSE(url_.empty());
  Parts p = NewParts();
  p.check_address = "no-port";
  ExpectRefused(Config(p));
}

TEST_F(ReloadAllOrNothingTest, ABadScrapeTargetChangesNothing) {
  ASSERT_FALSE(url_.empty());
  // The config parser takes these URLs (an http:// prefix); only building the scraper refuses
  // them, after the config, rules and tokens were read: the step that used to leave the new
  // tokens in force.
  Parts p = NewParts();
  p.scrape_urls.push_back("http://:99/metrics");
  ExpectRefused(Config(p));
}

TEST_F(ReloadAllOrNothingTest, AGoodReloadAppliesEveryPart) {
  ASSERT_FALSE(url_.empty());
  dir_.Write("nines.yaml", Config(NewParts()));
  EXPECT_EQ(Post(client_, url_ + "/-/reload", kOldToken).status, 200);
  EXPECT_EQ(Post(client_, url_ + "/-/reload", kOldToken).status, 401);
  EXPECT_EQ(Post(client_, url_ + "/-/reload", kNewToken).status, 200);
  EXPECT_NE(Get(client_, url_ + "/").body.find("<b>99.5%</b>"), std::string::npos);
  EXPECT_NE(Get(client_, url_ + "/api/v1/slos").body.find("\"api-latest\""), std::string::npos);
  EXPECT_NE(Get(client_, url_ + "/api/v1/targets").body.find("127.0.0.1:2/metrics"),
            std::string::npos);
  std::map<std::string, double> m = ParseMetrics(Get(client_, url_ + "/metrics").body);
  EXPECT_EQ(m["nines_probe_checks"], 2);
  EXPECT_EQ(m["nines_scrape_targets"], 2);
  EXPECT_EQ(m["nines_config_last_reload_successful"], 1);
}

TEST(ServeTest, WritesItsOwnMetricsIntoItsStore) {
  TempDir dir;
  std::string path = dir.Write("nines.yaml", "server:\n  listen: 127.0.0.1:0\nstorage:\n  data_dir: " +
                                                 dir.File("data") + "\n  self_scrape_interval: 1s\n");
  Server server({"serve", "--config", path});
  std::string url = server.WaitForUrl();
  ASSERT_FALSE(url.empty());
  net::HttpClient client;
  // The first self-scrape lands after a second; the histogram comes in text-format names.
  std::string body;
  EXPECT_TRUE(testutil::WaitFor([&] {
    body = Get(client, url + "/api/v1/series?match[]=nines_build_info").body;
    return body.find(R"("job":"nines")") != std::string::npos;
  })) << body;
  body = Get(client, url + "/api/v1/series?match[]=nines_http_request_duration_seconds_bucket").body;
  EXPECT_NE(body.find(R"("le":"+Inf")"), std::string::npos) << body;
  body = Get(client, url + "/api/v1/series?match[]=nines_http_request_duration_seconds_count").body;
  EXPECT_NE(body.find(R"("job":"nines")"), std::string::npos) << body;
  EXPECT_EQ(server.Stop(), 0) << server.output();
}

// The number after "\"<field>\":" at or after `from` in `json`, or -1.
long JsonNumberAfter(const std::string& json, size_t from, std::string_view field) {
  const size_t at = json.find("\"" + std::string(field) + "\":", from);
  if (at == std::string::npos) return -1;
  return std::strtol(json.c_str() + at + field.size() + 3, nullptr, 10);
}

// Whether /api/v1/alerts JSON holds a firing alert with every one of `labels` ("name":"value").
bool HasFiringAlert(const std::string& json, const std::vector<std::string>& labels) {
  size_t at = json.find("{\"labels\":");
  while (at != std::string::npos) {
    const size_t next = json.find("{\"labels\":", at + 1);
    const std::string alert = json.substr(at, next == std::string::npos ? next : next - at);
    bool all = alert.find("\"state\":\"firing\"") != std::string::npos;
    for (const std::string& l : labels) all = all && alert.find(l) != std::string::npos;
    if (all) return true;
    at = next;
  }
  return false;
}

TEST(DemoTest, ServesLandingPageWithTheThreeRegions) {
  TempDir dir;
  const auto launched = std::chrono::steady_clock::now();
  // Two days of history (the default 30 take long under sanitizers) fill the SLOs' windows.
  Server demo(
      {"demo", "--listen", "127.0.0.1:0", "--data-dir", dir.File("demo"), "--history", "2d"});
  std::string url = demo.WaitForUrl();
  ASSERT_FALSE(url.empty());
  EXPECT_TRUE(std::filesystem::exists(dir.File("demo/demo-history")));
  EXPECT_TRUE(demo.WaitForOutput("Open " + url, milliseconds(5000)));
  net::HttpClient client(net::ClientOptions{});
  net::ClientResponse page = Get(client, url + "/");
  EXPECT_EQ(page.status, 200);
  for (const char* region : {"us-east-1", "eu-west-1", "ap-southeast-2"}) {
    EXPECT_NE(page.body.find(region), std::string::npos) << region;
  }
  EXPECT_NE(page.body.find("99.8%"), std::string::npos);
  // The history is there: api-availability counted two days of minutes in each region.
  const std::string slo = Get(client, url + "/api/v1/slos/api-availability").body;
  const size_t eu = slo.find("\"region\":\"eu-west-1\"");
  ASSERT_NE(eu, std::string::npos) << slo;
  const size_t total = slo.find("\"total\":", eu);
  ASSERT_NE(total, std::string::npos) << slo;
  // 2880 minutes of history, plus the live minutes completed since (a few at most).
  const long minutes = std::strtol(slo.c_str() + total + 8, nullptr, 10);
  EXPECT_GE(minutes, 2880) << slo;
  EXPECT_LE(minutes, 2885) << slo;

  // The issue's promise: within a minute of `nines demo`, the scripted eu-west-1 outage (begun 2
  // minutes before the start, in the history) pages for api-availability in eu-west-1.
  const auto minute_after_launch = launched + std::chrono::seconds(60);
  std::string alerts;
  const bool paged = testutil::WaitFor(
      [&] {
        alerts = Get(client, url + "/api/v1/alerts").body;
        return HasFiringAlert(alerts, {R"("alertname":"SloBurnRate")", R"("region":"eu-west-1")",
                                       R"("severity":"page")", R"("slo":"api-availability")"});
      },
      core::Duration::FromChrono(minute_after_launch - std::chrono::steady_clock::now()));
  EXPECT_TRUE(paged) << alerts;
  // The page reaches the demo's pager: printed with its region, SLO and budget left, and listed
  // at /api/v1/demo/pages for the UI.
  const std::string printed = testutil::WaitForLine(demo, "pager: PAGE eu-west-1 api-availability",
                                                    milliseconds(20000));
  EXPECT_NE(printed.find("(SloBurnRate): "), std::string::npos) << printed;
  EXPECT_NE(printed.find("% of the error budget left, burning "), std::string::npos) << printed;
  const std::string pages = Get(client, url + "/api/v1/demo/pages").body;
  EXPECT_EQ(pages.rfind(R"({"status":"success","data":[{)", 0), 0u) << pages;
  EXPECT_NE(pages.find(R"("status":"firing")"), std::string::npos) << pages;
  EXPECT_NE(pages.find(R"("region":"eu-west-1")"), std::string::npos) << pages;
  EXPECT_NE(pages.find(R"("budget_remaining_ratio":")"), std::string::npos) << pages;
  EXPECT_EQ(demo.output().find("pager: PAGE us-east-1 api-availability"), std::string::npos)
      << demo.output();
  // Only eu-west-1 pages for api-availability.
  EXPECT_FALSE(HasFiringAlert(alerts, {R"("alertname":"SloBurnRate")", R"("region":"us-east-1")",
                                       R"("slo":"api-availability")"}))
      << alerts;
  // The global SLO is the sum of the regions': its bad minutes include eu-west-1's.
  const std::string state = Get(client, url + "/api/v1/slos/api-availability").body;
  long sum_good = 0, sum_total = 0;
  for (const char* region : {"us-east-1", "eu-west-1", "ap-southeast-2"}) {
    const size_t at = state.find(std::string("\"region\":\"") + region + "\"");
    ASSERT_NE(at, std::string::npos) << region << state;
    sum_good += JsonNumberAfter(state, at, "good");
    sum_total += JsonNumberAfter(state, at, "total");
  }
  const size_t eu_at = state.find("\"region\":\"eu-west-1\"");
  const long eu_bad = JsonNumberAfter(state, eu_at, "total") - JsonNumberAfter(state, eu_at, "good");
  EXPECT_GE(eu_bad, 2) << state;  // the outage's first two minutes, at least
  const size_t global_at = state.find("\"region\":\"global\"");
  ASSERT_NE(global_at, std::string::npos) << state;
  EXPECT_EQ(JsonNumberAfter(state, global_at, "good"), sum_good) << state;
  EXPECT_EQ(JsonNumberAfter(state, global_at, "total"), sum_total) << state;
  EXPECT_GE(sum_total - sum_good, eu_bad) << state;
  demo.Signal(SIGINT);
  EXPECT_EQ(demo.Wait(milliseconds(15000)), 0) << demo.output();
}

TEST(CliTest, CheckExitCodes) {
  TempDir dir;
  std::string good = dir.Write("good.yaml", "server:\n  threads: 4\n");
  std::string bad = dir.Write("bad.yaml", "server:\n  idle_timeout: 5x\n");
  ChildProcess ok({NinesBinary(), "check", good});
  EXPECT_EQ(ok.Wait(milliseconds(10000)), 0) << ok.output();
  ChildProcess fail({NinesBinary(), "check", good, bad});
  EXPECT_EQ(fail.Wait(milliseconds(10000)), 1);
  EXPECT_NE(fail.output().find(bad + ":2:17: "), std::string::npos) << fail.output();
  ChildProcess usage({NinesBinary(), "check"});
  EXPECT_EQ(usage.Wait(milliseconds(10000)), 2);
  ChildProcess example({NinesBinary(), "check", testutil::SourceDir() + "/examples/nines.yaml"});
  EXPECT_EQ(example.Wait(milliseconds(10000)), 0) << example.output();
}

TEST(CliTest, AgentRefusesALocationTheConfigDoesNotName) {
  TempDir dir;
  const std::string regions = dir.Write(
      "regions.yaml",
      "regions:\n  - name: eu-west-1\n    locations: [dublin, london]\n"
      "agent:\n  engine_url: http://127.0.0.1:1/api/v1/write\n  queue_dir: " +
          dir.File("queue") + "\n  listen: 127.0.0.1:0\n");
  ChildProcess typo({NinesBinary(), "agent", "--config", regions, "--location", "dubiln"});
  EXPECT_EQ(typo.Wait(milliseconds(10000)), 2) << typo.output();
  EXPECT_NE(typo.output().find("nines agent: --location \"dubiln\" is not a location of " +
                               regions + "; its locations: dublin, london\n"),
            std::string::npos)
      << typo.output();
  EXPECT_EQ(typo.output().find("listening"), std::string::npos) << typo.output();

  // Without regions, the checks' locations are the config's; none at all is said so.
  const std::string checks = dir.Write(
      "checks.yaml",
      "agent:\n  engine_url: http://127.0.0.1:1/api/v1/write\n  queue_dir: " + dir.File("queue") +
          "\n  listen: 127.0.0.1:0\ncollector:\n  location: paris\n"
          "services:\n  - name: api\n    checks:\n      - name: up\n        region: eu\n        locations: [oslo]\n"
          "        tcp: {address: \"127.0.0.1:1\"}\n");
  ChildProcess from_config({NinesBinary(), "agent", "--config", checks});
  EXPECT_EQ(from_config.Wait(milliseconds(10000)), 2) << from_config.output();
  EXPECT_NE(from_config.output().find("collector.location \"paris\" is not a location of " +
                                      checks + "; its locations: oslo\n"),
            std::string::npos)
      << from_config.output();
  const std::string empty = dir.Write(
      "empty.yaml", "agent:\n  engine_url: http://127.0.0.1:1/api/v1/write\n  queue_dir: " +
                        dir.File("queue") + "\n  listen: 127.0.0.1:0\n");
  ChildProcess none({NinesBinary(), "agent", "--config", empty, "--location", "dublin"});
  EXPECT_EQ(none.Wait(milliseconds(10000)), 2) << none.output();
  EXPECT_NE(none.output().find("it names none"), std::string::npos) << none.output();

  // A named location starts (and stops on SIGTERM).
  Server ok({"agent", "--config", regions, "--location", "london", "--log-level", "error"});
  EXPECT_FALSE(ok.WaitForUrl().empty()) << ok.output();
  EXPECT_EQ(ok.Stop(), 0) << ok.output();
}

TEST(CliTest, VersionHelpAndUsageErrors) {
  ChildProcess version({NinesBinary(), "version"});
  EXPECT_EQ(version.Wait(milliseconds(10000)), 0);
  EXPECT_EQ(version.output(), "nines " NINES_VERSION "\n");
  for (const char* cmd : {"serve", "demo", "check"}) {
    SCOPED_TRACE(cmd);
    ChildProcess help({NinesBinary(), cmd, "--help"});
    EXPECT_EQ(help.Wait(milliseconds(10000)), 0);
    EXPECT_NE(help.output().find(std::string("Usage: nines ") + cmd), std::string::npos);
  }
  ChildProcess unknown({NinesBinary(), "frobnicate"});
  EXPECT_EQ(unknown.Wait(milliseconds(10000)), 2);
  ChildProcess bad_flag({NinesBinary(), "serve", "--bogus", "1"});
  EXPECT_EQ(bad_flag.Wait(milliseconds(10000)), 2);
  EXPECT_NE(bad_flag.output().find("unknown flag --bogus"), std::string::npos);
  TempDir dir;
  ChildProcess bad_listen(
      {NinesBinary(), "serve", "--listen", "nonsense", "--data-dir", dir.File("data")});
  EXPECT_EQ(bad_listen.Wait(milliseconds(10000)), 1) << bad_listen.output();
}

}  // namespace
}  // namespace nines::app

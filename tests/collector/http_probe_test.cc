// The HTTP(S) probe against Debian's nginx on loopback (pages, JSON, redirects, errors, HTTPS with
// fresh, expired and client-certificate servers) and small in-test servers (slow, silent): each
// option succeeds and fails where it should, with a reason a person can read.
#include <gtest/gtest.h>

#include <cctype>
#include <functional>

#include "collector/exposition.h"
#include "collector/probe.h"
#include "net/http_client.h"
#include "tests/collector/probe_test_peers.h"

namespace nines::collector {
namespace {

using core::Duration;
using probe_test::Describe;
using probe_test::LoopbackServer;
using probe_test::Metric;
using probe_test::NginxPeer;
using probe_test::RunProbe;

using Labels = std::vector<std::pair<std::string, std::string>>;

CheckSpec HttpCheck(const std::string& url) {
  CheckSpec c;
  c.name = "test";
  c.kind = CheckKind::kHttp;
  c.target = url;
  c.timeout = Duration::Seconds(5);
  return c;
}

class HttpProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { nginx_ = new NginxPeer(); }
  static void TearDownTestSuite() {
    delete nginx_;
    nginx_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(nginx_->error(), "") << "nginx is required for this test"; }

  static NginxPeer* nginx_;
};
NginxPeer* HttpProbeTest::nginx_ = nullptr;

struct Case {
  std::string name;
  std::function<void(const NginxPeer&, CheckSpec&)> setup;
  bool success;
  std::string reason;  // exact; "" on success
  std::vector<std::tuple<std::string, Labels, double>> metrics = {};
};

void RunCases(const NginxPeer& nginx, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CheckSpec spec = HttpCheck(nginx.Http("/"));
    c.setup(nginx, spec);
    ProbeResult r = RunProbe(StartHttpProbe, spec);
    EXPECT_EQ(r.success, c.success) << Describe(r);
    EXPECT_EQ(r.reason, c.reason) << Describe(r);
    for (const auto& [name, labels, value] : c.metrics) {
      EXPECT_EQ(Metric(r, name, labels), std::optional<double>(value)) << name << "\n" << Describe(r);
    }
  }
}

auto Url(std::string path) {
  return [path](const NginxPeer& n, CheckSpec& c) { c.target = n.Http(path); };
}

TEST_F(HttpProbeTest, StatusBodyAndHeaders) {
  RunCases(*nginx_, {
      {"200 page", Url("/"), true, "",
       {{"probe_http_status_code", {}, 200},
        {"probe_http_redirects", {}, 0},
        {"probe_http_ssl", {}, 0},
        {"probe_http_version", {}, 1.1},
        {"probe_http_content_length", {}, 12},
        {"probe_http_uncompressed_body_length", {}, 12},
        {"probe_ip_protocol", {}, 4},
        {"probe_failed_due_to_regex", {}, 0}}},
      {"503 fails", Url("/fail"), false, "status 503", {{"probe_http_status_code", {}, 503}}},
      {"valid_status_codes accepts 503",
       [](auto& n, auto& c) {
         c.target = n.Http("/fail");
         c.http.valid_status_codes = {{200, 200}, {500, 503}};
       },
       true, ""},
      {"valid_status_codes rejects 200",
       [](auto&, auto& c) { c.http.valid_status_codes = {{500, 599}}; }, false, "status 200"},
      {"body must match, does",
       [](auto&, auto& c) { c.http.fail_if_body_not_matches = {"hello \\w+", "^hello"}; }, true, ""},
      {"body must match, does not",
       [](auto&, auto& c) { c.http.fail_if_body_not_matches = {"hello", "goodbye"}; }, false,
       "body regex \"goodbye\" did not match",
       {{"probe_failed_due_to_regex", {}, 1}, {"probe_http_status_code", {}, 200}}},
      {"body must not match, does not",
       [](auto&, auto& c) { c.http.fail_if_body_matches = {"error|fail"}; }, true, ""},
      {"body must not match, does",
       [](auto&, auto& c) { c.http.fail_if_body_matches = {"n[i]nes"}; }, false,
       "body regex \"n[i]nes\" matched", {{"probe_failed_due_to_regex", {}, 1}}},
      {"invalid body regex",
       [](auto&, auto& c) { c.http.fail_if_body_matches = {"(unclosed"}; }, false,
       "body invalid regex \"(unclosed\": missing ): (unclosed"},
      {"header must match, does (case-insensitive name)",
       [](auto& n, auto& c) {
         c.target = n.Http("/headers");
         c.http.fail_if_header_not_matches = {{"x-version", "^v2\\.\\d$"}};
       },
       true, ""},
      {"header must match, does not",
       [](auto&, auto& c) { c.http.fail_if_header_not_matches = {{"Content-Type", "json"}}; },
       false, "header Content-Type regex \"json\" did not match",
       {{"probe_failed_due_to_regex", {}, 1}}},
      {"header must not match, its second value does",
       [](auto& n, auto& c) {
         c.target = n.Http("/headers");
         c.http.fail_if_header_matches = {{"X-Multi", "^second$"}};
       },
       false, "header X-Multi regex \"^second$\" matched"},
      {"header must not match, does not",
       [](auto& n, auto& c) {
         c.target = n.Http("/headers");
         c.http.fail_if_header_matches = {{"X-Multi", "third"}};
       },
       true, ""},
      {"header missing",
       [](auto&, auto& c) { c.http.fail_if_header_not_matches = {{"X-Absent", "x"}}; }, false,
       "header X-Absent missing"},
      {"header missing, allowed",
       [](auto&, auto& c) {
         c.http.fail_if_header_not_matches = {{"X-Absent", "x", true}};
         c.http.fail_if_header_matches = {{"X-Absent", "x", true}};
       },
       true, ""},
      {"request headers sent",
       [](auto& n, auto& c) {
         c.target = n.Http("/needs-token");
         c.http.headers = {{"X-Token", "s3cret"}};
       },
       true, ""},
      {"request headers missing", Url("/needs-token"), false, "status 401"},
      {"method and body", [](auto& n, auto& c) {
         c.target = n.Http("/post-only");
         c.http.method = "POST";
         c.http.body = "small";
       },
       true, ""},
      {"wrong method", Url("/post-only"), false, "status 405"},
      {"body is sent (too large for the location)",
       [](auto& n, auto& c) {
         c.target = n.Http("/post-only");
         c.http.method = "POST";
         c.http.body = std::string(100, 'b');
       },
       false, "status 413"},
      {"HEAD has no body",
       [](auto&, auto& c) { c.http.method = "HEAD"; }, true, "",
       {{"probe_http_uncompressed_body_length", {}, 0}, {"probe_http_content_length", {}, 12}}},
      {"max_body_bytes exceeded",
       [](auto& n, auto& c) {
         c.target = n.Http("/big.bin");
         c.http.max_body_bytes = 1 << 20;
       },
       false, "body larger than 1048576 bytes"},
      {"body regex over a long body, matches",
       [](auto& n, auto& c) {
         c.target = n.Http("/medium.bin");
         c.http.fail_if_body_not_matches = {"x+END"};
       },
       true, ""},
      {"body regex over a long body, must not match",
       [](auto& n, auto& c) {
         c.target = n.Http("/medium.bin");
         c.http.fail_if_body_matches = {"^x+END"};
       },
       false, "body regex \"^x+END\" matched", {{"probe_failed_due_to_regex", {}, 1}}},
      // RE2 runs in linear time without a stack frame per character: an 8 MiB body (once over
      // std::regex's limit of 256 KiB) with patterns that make backtracking engines explode.
      {"8 MiB body, pathological regex must not match, does not",
       [](auto& n, auto& c) {
         c.target = n.Http("/huge.bin");
         c.http.fail_if_body_matches = {"(a|aa)*b", "(a+)+b"};
       },
       true, "", {{"probe_http_uncompressed_body_length", {}, (8 << 20) + 4}}},
      {"8 MiB body, pathological regex must match, does",
       [](auto& n, auto& c) {
         c.target = n.Http("/huge.bin");
         c.http.fail_if_body_not_matches = {"^(a|aa)*END\n$", "(?s)^(a*)*.END"};
       },
       true, ""},
      {"8 MiB body, pathological regex must match, does not",
       [](auto& n, auto& c) {
         c.target = n.Http("/huge.bin");
         c.http.fail_if_body_not_matches = {"^(a|aa)*b"};
       },
       false, "body regex \"^(a|aa)*b\" did not match", {{"probe_failed_due_to_regex", {}, 1}}},
      {"Go syntax: (?i) and \\pL",
       [](auto&, auto& c) { c.http.fail_if_body_not_matches = {"(?i)HELLO \\pL+"}; }, true, ""},
      {"max_body_bytes not exceeded", Url("/big.bin"), true, "",
       {{"probe_http_uncompressed_body_length", {}, 2 << 20}}},
  });
}

TEST_F(HttpProbeTest, Redirects) {
  RunCases(*nginx_, {
      {"chain of 3 (absolute path, absolute URL, relative)",
       [](auto& n, auto& c) {
         c.target = n.Http("/chain/1");
         c.http.fail_if_body_not_matches = {"end of chain"};
       },
       true, "", {{"probe_http_redirects", {}, 3}, {"probe_http_status_code", {}, 200}}},
      {"chain longer than max_redirects",
       [](auto& n, auto& c) {
         c.target = n.Http("/chain/1");
         c.http.max_redirects = 2;
       },
       // The refused third redirect is counted, as blackbox counts it.
       false, "too many redirects (2)",
       {{"probe_http_redirects", {}, 3}, {"probe_http_status_code", {}, 307}}},
      {"chain exactly max_redirects",
       [](auto& n, auto& c) {
         c.target = n.Http("/chain/1");
         c.http.max_redirects = 3;
       },
       true, "", {{"probe_http_redirects", {}, 3}}},
      // 10 followed and the 11th refused: blackbox reports 11 (see the agreement test).
      {"loop", Url("/loop"), false, "too many redirects (10)",
       {{"probe_http_redirects", {}, 11}, {"probe_http_status_code", {}, 302}}},
      {"loop, not followed",
       [](auto& n, auto& c) {
         c.target = n.Http("/loop");
         c.http.max_redirects = 0;
       },
       false, "status 302", {{"probe_http_redirects", {}, 1}}},
      {"not followed: the 3xx is the status",
       [](auto& n, auto& c) {
         c.target = n.Http("/moved");
         c.http.max_redirects = 0;
       },
       false, "status 301",
       // Blackbox counts the redirect it did not follow; so do we (see the agreement test).
       {{"probe_http_redirects", {}, 1}, {"probe_http_status_code", {}, 301}}},
      {"not followed, 301 accepted",
       [](auto& n, auto& c) {
         c.target = n.Http("/moved");
         c.http.max_redirects = 0;
         c.http.valid_status_codes = {{301, 302}};
       },
       true, ""},
      {"http to https: the final response came over TLS",
       [](auto& n, auto& c) {
         c.target = n.Http("/to-https");
         c.http.ca_file = n.good.cert;
         c.http.fail_if_body_not_matches = {"secure"};
       },
       true, "", {{"probe_http_redirects", {}, 1}, {"probe_http_ssl", {}, 1}}},
  });
}

TEST_F(HttpProbeTest, JsonPointers) {
  auto json = [](std::string path, std::vector<JsonFieldCheck> checks) {
    return [path, checks](const NginxPeer& n, CheckSpec& c) {
      c.target = n.Http(path);
      c.http.json_checks = checks;
    };
  };
  RunCases(*nginx_, {
      {"string equals", json("/health.json", {{"/status", "ok"}}), true, ""},
      {"nested arrays, numbers as written",
       json("/health.json", {{"/checks/0/name", "db"},
                             {"/checks/0/ok", "true"},
                             {"/checks/1/latency_ms/1", "2.5e1"},
                             {"/version", "3.25"}}),
       true, ""},
      {"escapes unescaped, surrogate pairs to UTF-8",
       json("/health.json", {{"/msg", "say \"hi\"! \xc3\xa9\xf0\x9f\x98\x80"}}), true, ""},
      {"null, ~1 and ~0, existence only",
       json("/health.json",
            {{"/nested/a/b", "null"}, {"/a~1b", "1"}, {"/m~0n/x", "y"}, {"/empty", "{}"},
             {"/nested", std::nullopt}, {"", std::nullopt}}),
       true, ""},
      {"value differs", json("/degraded.json", {{"/status", "ok"}}), false,
       "json /status: \"degraded\" != \"ok\""},
      {"number differs", json("/health.json", {{"/version", "3.2"}}), false,
       "json /version: \"3.25\" != \"3.2\""},
      {"missing member", json("/health.json", {{"/status", "ok"}, {"/a/b", std::nullopt}}), false,
       "json /a/b: missing"},
      {"index out of range", json("/health.json", {{"/checks/5", std::nullopt}}), false,
       "json /checks/5: missing"},
      {"index not a number", json("/health.json", {{"/checks/x", std::nullopt}}), false,
       "json /checks/x: missing"},
      {"below a scalar", json("/health.json", {{"/status/x", std::nullopt}}), false,
       "json /status/x: missing"},
      {"not JSON", json("/notjson.json", {{"/status", "ok"}}), false,
       "json /status: body is not valid JSON (at byte 0)"},
      {"not a pointer", json("/health.json", {{"status", "ok"}}), false,
       "json status: not a JSON pointer"},
  });
}

TEST_F(HttpProbeTest, Tls) {
  const double now = core::RealClock().Now().UnixSecondsDouble();
  RunCases(*nginx_, {
      {"https verified with ca_file",
       [](auto& n, auto& c) {
         c.target = n.Https(n.https_port);
         c.http.ca_file = n.good.cert;
       },
       true, "",
       {{"probe_http_ssl", {}, 1}, {"probe_tls_version_info", {{"version", "TLS 1.3"}}, 1}}},
      {"https against the system roots: self-signed", [](auto& n, auto& c) {
         c.target = n.Https(n.https_port);
       },
       false, "tls: self-signed certificate"},
      {"https unverified", [](auto& n, auto& c) {
         c.target = n.Https(n.https_port);
         c.http.tls_verify = false;
       },
       true, "", {{"probe_http_ssl", {}, 1}}},
      {"server_name verified", [](auto& n, auto& c) {
         c.target = n.Https(n.https_port);
         c.http.ca_file = n.good.cert;
         c.http.server_name = "localhost";
       },
       true, ""},
      {"server_name mismatch", [](auto& n, auto& c) {
         c.target = n.Https(n.https_port);
         c.http.ca_file = n.good.cert;
         c.http.server_name = "wrong.example";
       },
       false, "tls: hostname mismatch"},
      {"expired", [](auto& n, auto& c) {
         c.target = n.Https(n.expired_port);
         c.http.ca_file = n.expired.cert;
       },
       false, "tls: certificate has expired"},
      {"expired, unverified", [](auto& n, auto& c) {
         c.target = n.Https(n.expired_port);
         c.http.tls_verify = false;
       },
       true, ""},
      {"client certificate required, none sent", [](auto& n, auto& c) {
         c.target = n.Https(n.mtls_port);
         c.http.ca_file = n.good.cert;
       },
       false, "status 400"},
      {"client certificate sent", [](auto& n, auto& c) {
         c.target = n.Https(n.mtls_port);
         c.http.ca_file = n.good.cert;
         c.http.cert_file = n.client.cert;
         c.http.key_file = n.client.key;
       },
       true, ""},
      {"unreadable ca_file", [](auto& n, auto& c) {
         c.target = n.Https(n.https_port);
         c.http.ca_file = "/nonexistent/ca.pem";
       },
       false, "tls: ca_file /nonexistent/ca.pem: No such file or directory"},
  });

  // The expiry metrics: the served certificate's notAfter, to the second.
  CheckSpec good = HttpCheck(nginx_->Https(nginx_->https_port));
  good.http.ca_file = nginx_->good.cert;
  ProbeResult r = RunProbe(StartHttpProbe, good);
  ASSERT_TRUE(r.success) << Describe(r);
  std::optional<double> expiry = Metric(r, "probe_ssl_earliest_cert_expiry");
  ASSERT_TRUE(expiry.has_value()) << Describe(r);
  EXPECT_NEAR(*expiry, now + 2 * 86400, 120);
  EXPECT_EQ(Metric(r, "probe_ssl_last_chain_expiry_timestamp_seconds"), expiry);

  CheckSpec expired = HttpCheck(nginx_->Https(nginx_->expired_port));
  expired.http.tls_verify = false;
  r = RunProbe(StartHttpProbe, expired);
  ASSERT_TRUE(r.success) << Describe(r);
  ASSERT_TRUE(Metric(r, "probe_ssl_earliest_cert_expiry").has_value());
  EXPECT_NEAR(*Metric(r, "probe_ssl_earliest_cert_expiry"), now - 86400, 120);
  EXPECT_FALSE(Metric(r, "probe_ssl_last_chain_expiry_timestamp_seconds").has_value())
      << "an unverified chain has no verified expiry";
}

TEST_F(HttpProbeTest, ConnectResolveAndUrlErrors) {
  RunCases(*nginx_, {
      {"closed port",
       [](auto&, auto& c) { c.target = fmt::format("http://127.0.0.1:{}/", testutil::UnusedPort()); },
       false, "connect: connection refused"},
      {"unresolvable name",
       [](auto&, auto& c) { c.target = "http://nines-probe-test.invalid/"; }, false,
       "resolve: host not found (authoritative)"},
      {"bad url", [](auto&, auto& c) { c.target = "ftp://example.com/"; }, false,
       "url: url \"ftp://example.com/\": unsupported scheme \"ftp\""},
      {"ip6 preferred, falls back to ip4",
       [](auto& n, auto& c) {
         c.target = fmt::format("http://localhost:{}/", n.http_port);
         c.http.ip_preference = IpPreference::kIp6;
       },
       true, "", {{"probe_ip_protocol", {}, 4}}},
  });
}

TEST_F(HttpProbeTest, PhasesAreMeasuredAndSumToAtMostTheDuration) {
  CheckSpec c = HttpCheck(nginx_->Https(nginx_->https_port, "/"));
  c.http.tls_verify = false;
  ProbeResult r = RunProbe(StartHttpProbe, c);
  ASSERT_TRUE(r.success) << Describe(r);
  double sum = 0;
  for (const char* phase : {"resolve", "connect", "tls", "processing", "transfer"}) {
    SCOPED_TRACE(phase);
    std::optional<double> v = Metric(r, "probe_http_duration_seconds", {{"phase", phase}});
    ASSERT_TRUE(v.has_value()) << Describe(r);
    EXPECT_GE(*v, 0);
    sum += *v;
  }
  EXPECT_GT(*Metric(r, "probe_http_duration_seconds", {{"phase", "tls"}}), 0);
  EXPECT_LE(sum, r.duration.SecondsDouble() + 1e-6);
  EXPECT_TRUE(Metric(r, "probe_dns_lookup_time_seconds").has_value());
}

TEST(HttpProbeClockTest, DurationsComeFromTheGivenClock) {
  // A FakeClock never moves by itself: every span measured with it is exactly zero.
  LoopbackServer slow(LoopbackServer::Mode::kSlowHttp, Duration::Milliseconds(50));
  core::FakeClock clock;
  ProbeResult r = RunProbe(StartHttpProbe, HttpCheck("http://" + slow.address() + "/"), clock);
  ASSERT_TRUE(r.success) << Describe(r);
  EXPECT_EQ(r.duration, Duration::Zero());
  EXPECT_EQ(Metric(r, "probe_http_duration_seconds", {{"phase", "processing"}}), 0.0);
}

TEST(HttpProbeTimeoutTest, BodyTimeoutAfterTheStatusReportsTheStatus) {
  // Blackbox reports the status that arrived (Go's client returns the response before its body)
  // with probe_success 0, and the body bytes it had read.
  LoopbackServer stalled(LoopbackServer::Mode::kStalledBody);
  CheckSpec c = HttpCheck("http://" + stalled.address() + "/");
  c.timeout = Duration::Milliseconds(300);
  ProbeResult r = RunProbe(StartHttpProbe, c);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, "timeout after 300ms while reading the body");
  EXPECT_EQ(Metric(r, "probe_http_status_code"), 200.0) << Describe(r);
  EXPECT_EQ(Metric(r, "probe_http_content_length"), 1000.0) << Describe(r);
  EXPECT_EQ(Metric(r, "probe_http_uncompressed_body_length"), 12.0) << Describe(r);
  EXPECT_EQ(Metric(r, "probe_http_version"), 1.1) << Describe(r);
  EXPECT_EQ(Metric(r, "probe_failed_due_to_regex"), 0.0) << Describe(r);
  // The wait for the body is transfer time.
  EXPECT_GE(*Metric(r, "probe_http_duration_seconds", {{"phase", "transfer"}}), 0.2) << Describe(r);
}

TEST(HttpProbeTimeoutTest, TimeoutSaysWhatTheProbeWasDoing) {
  LoopbackServer silent(LoopbackServer::Mode::kSilent);
  struct TimeoutCase {
    std::string name, url, reason;
  };
  for (const TimeoutCase& t : std::vector<TimeoutCase>{
           {"http, no response", "http://" + silent.address() + "/",
            "timeout after 300ms while waiting for the response"},
           {"https, no handshake", "https://" + silent.address() + "/",
            "timeout after 300ms while handshaking"},
       }) {
    SCOPED_TRACE(t.name);
    CheckSpec c = HttpCheck(t.url);
    c.timeout = Duration::Milliseconds(300);
    ProbeResult r = RunProbe(StartHttpProbe, c);
    EXPECT_FALSE(r.success);
    EXPECT_EQ(r.reason, t.reason);
    EXPECT_GE(r.duration, Duration::Milliseconds(300));
    EXPECT_LT(r.duration, Duration::Seconds(3));
  }
}

TEST(HttpProbeDegradedTest, SlowSuccessIsDegradedFastIsNot) {
  LoopbackServer slow(LoopbackServer::Mode::kSlowHttp, Duration::Milliseconds(300));
  CheckSpec c = HttpCheck("http://" + slow.address() + "/");
  c.http.degraded_above = Duration::Milliseconds(100);
  ProbeResult r = RunProbe(StartHttpProbe, c);
  EXPECT_TRUE(r.success) << Describe(r);
  EXPECT_EQ(Metric(r, "probe_degraded"), 1.0) << Describe(r);
  EXPECT_GE(*Metric(r, "probe_http_duration_seconds", {{"phase", "processing"}}), 0.3);

  c.http.degraded_above = Duration::Seconds(4);
  r = RunProbe(StartHttpProbe, c);
  EXPECT_TRUE(r.success) << Describe(r);
  EXPECT_EQ(Metric(r, "probe_degraded"), 0.0) << Describe(r);

  c.http.degraded_above = Duration::Zero();
  r = RunProbe(StartHttpProbe, c);
  EXPECT_FALSE(Metric(r, "probe_degraded").has_value()) << "off when degraded_above is zero";
}

TEST(HttpProbeConcurrencyTest, ManyProbesOnSeveralThreadsEachReportOnce) {
  LoopbackServer slow(LoopbackServer::Mode::kSlowHttp, Duration::Milliseconds(1));
  boost::asio::io_context io;
  std::atomic<int> done{0}, ok{0};
  constexpr int kProbes = 200;
  auto spec = std::make_shared<const CheckSpec>(HttpCheck("http://" + slow.address() + "/"));
  for (int i = 0; i < kProbes; ++i) {
    StartHttpProbe(io, core::RealClock(), spec, [&](ProbeResult r) {
      if (r.success) ++ok;
      ++done;
    });
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&] { io.run_for(std::chrono::seconds(20)); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), kProbes);
  EXPECT_EQ(ok.load(), kProbes);
}

}  // namespace
}  // namespace nines::collector

namespace nines::collector {
namespace {

// Query-string escaping for a target URL passed to blackbox's /probe.
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// blackbox_exporter and nines probe the same targets with equivalent settings and must agree on
// probe_success, probe_http_status_code and probe_http_redirects (absent counts as 0, as
// blackbox reports every http gauge).
TEST_F(HttpProbeTest, AgreesWithBlackboxExporter) {
  const NginxPeer& n = *nginx_;
  const std::string config = fmt::format(R"(modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
  http_body:
    prober: http
    http:
      preferred_ip_protocol: ip4
      fail_if_body_not_matches_regexp: ["hello \\w+"]
  http_body_fail:
    prober: http
    http:
      preferred_ip_protocol: ip4
      fail_if_body_not_matches_regexp: ["goodbye"]
  http_no_follow:
    prober: http
    http:
      preferred_ip_protocol: ip4
      follow_redirects: false
  http_1s:
    prober: http
    timeout: 1s
    http:
      preferred_ip_protocol: ip4
  https_insecure:
    prober: http
    http:
      preferred_ip_protocol: ip4
      tls_config:
        insecure_skip_verify: true
  https_ca:
    prober: http
    http:
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: {good}
  tcp_connect:
    prober: tcp
    tcp:
      preferred_ip_protocol: ip4
  tcp_http:
    prober: tcp
    tcp:
      preferred_ip_protocol: ip4
      query_response:
        - send: "GET / HTTP/1.0\n"
        - expect: "^HTTP/1.1 200"
  tls_insecure:
    prober: tcp
    tcp:
      preferred_ip_protocol: ip4
      tls: true
      tls_config:
        insecure_skip_verify: true
  tls_expired:
    prober: tcp
    tcp:
      preferred_ip_protocol: ip4
      tls: true
      tls_config:
        ca_file: {expired}
)",
                                         fmt::arg("good", n.good.cert),
                                         fmt::arg("expired", n.expired.cert));
  probe_test::BlackboxPeer blackbox(config);
  ASSERT_EQ(blackbox.error(), "");

  struct Target {
    std::string module;
    CheckSpec nines;
    probe_test::StartFn start;
  };
  auto http = [&](std::string path, std::function<void(HttpCheckOptions&)> f = nullptr) {
    CheckSpec c = HttpCheck(path.rfind("http", 0) == 0 ? path : n.Http(path));
    if (f) f(c.http);
    return c;
  };
  auto stream = [&](CheckKind kind, int port, std::function<void(CheckSpec&)> f = nullptr) {
    CheckSpec c = HttpCheck("");
    c.kind = kind;
    c.target = fmt::format("127.0.0.1:{}", port);
    if (f) f(c);
    return c;
  };
  const int closed = testutil::UnusedPort();
  LoopbackServer stalled(LoopbackServer::Mode::kStalledBody);
  std::vector<Target> targets = {
      // A redirect loop: 10 followed, the 11th refused and counted.
      {"http_2xx", http("/loop"), StartHttpProbe},
      {"http_no_follow", http("/loop", [](auto& h) { h.max_redirects = 0; }), StartHttpProbe},
      // 200 and headers, then the body stalls past the timeout: status 200, probe_success 0.
      {"http_1s",
       [&] {
         CheckSpec c = http("http://" + stalled.address() + "/");
         c.timeout = Duration::Seconds(1);
         return c;
       }(),
       StartHttpProbe},
      {"http_2xx", http("/"), StartHttpProbe},
      {"http_2xx", http("/fail"), StartHttpProbe},
      {"http_2xx", http("/chain/1"), StartHttpProbe},
      {"http_2xx", http("/to-https"), StartHttpProbe},  // self-signed: both fail the handshake
      {"http_2xx", http(fmt::format("http://127.0.0.1:{}/", closed)), StartHttpProbe},
      {"http_body", http("/", [](auto& h) { h.fail_if_body_not_matches = {"hello \\w+"}; }),
       StartHttpProbe},
      {"http_body_fail", http("/", [](auto& h) { h.fail_if_body_not_matches = {"goodbye"}; }),
       StartHttpProbe},
      {"http_no_follow", http("/moved", [](auto& h) { h.max_redirects = 0; }), StartHttpProbe},
      {"http_no_follow", http("/chain/1", [](auto& h) { h.max_redirects = 0; }), StartHttpProbe},
      {"http_no_follow", http("/", [](auto& h) { h.max_redirects = 0; }), StartHttpProbe},
      {"https_insecure", http(n.Https(n.https_port), [](auto& h) { h.tls_verify = false; }),
       StartHttpProbe},
      {"https_insecure", http(n.Https(n.expired_port), [](auto& h) { h.tls_verify = false; }),
       StartHttpProbe},
      {"https_insecure", http(n.Https(n.mtls_port), [](auto& h) { h.tls_verify = false; }),
       StartHttpProbe},
      {"https_ca", http(n.Https(n.https_port), [&](auto& h) { h.ca_file = n.good.cert; }),
       StartHttpProbe},
      {"https_ca", http(n.Https(n.expired_port), [&](auto& h) { h.ca_file = n.good.cert; }),
       StartHttpProbe},
      {"tcp_connect", stream(CheckKind::kTcp, n.http_port), StartTcpProbe},
      {"tcp_connect", stream(CheckKind::kTcp, closed), StartTcpProbe},
      {"tcp_http",
       stream(CheckKind::kTcp, n.http_port,
              [](auto& c) { c.tcp.steps = {{"GET / HTTP/1.0\n", ""}, {"", "^HTTP/1.1 200"}}; }),
       StartTcpProbe},
      {"tls_insecure", stream(CheckKind::kTls, n.https_port, [](auto& c) { c.tls.tls_verify = false; }),
       StartTlsProbe},
      {"tls_insecure", stream(CheckKind::kTls, n.expired_port, [](auto& c) { c.tls.tls_verify = false; }),
       StartTlsProbe},
      {"tls_insecure", stream(CheckKind::kTls, n.http_port, [](auto& c) { c.tls.tls_verify = false; }),
       StartTlsProbe},
      {"tls_expired", stream(CheckKind::kTls, n.expired_port, [&](auto& c) { c.tls.ca_file = n.expired.cert; }),
       StartTlsProbe},
  };

  auto client = net::HttpClient::Create({.max_idle_per_host = 0});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  int agreed_failures = 0, agreed_successes = 0;
  for (const Target& t : targets) {
    SCOPED_TRACE(fmt::format("module={} target={}", t.module, t.nines.target));
    core::Result<net::ClientResponse> response = (*client)->Do(
        {.url = fmt::format("http://127.0.0.1:{}/probe?module={}&target={}", blackbox.port,
                            t.module, QueryEscape(t.nines.target))});
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_EQ(response->status, 200) << response->body;
    core::Result<Exposition> exposition = ParseExposition(response->body);
    ASSERT_TRUE(exposition.ok()) << exposition.status().ToString();
    auto theirs = [&](std::string_view name) -> double {
      for (const ExpositionSample& s : exposition->samples) {
        if (s.labels.Get("__name__") == name) return s.value;
      }
      return 0;
    };
    ProbeResult ours = RunProbe(t.start, t.nines);
    auto mine = [&](std::string_view name) { return Metric(ours, name).value_or(0); };
    EXPECT_EQ(ours.success, theirs("probe_success") == 1)
        << Describe(ours) << "\nblackbox:\n" << response->body;
    if (t.start == StartHttpProbe) {
      EXPECT_EQ(mine("probe_http_status_code"), theirs("probe_http_status_code"))
          << Describe(ours) << "\nblackbox:\n" << response->body;
      EXPECT_EQ(mine("probe_http_redirects"), theirs("probe_http_redirects"))
          << Describe(ours) << "\nblackbox:\n" << response->body;
    }
    if (t.module == "http_1s") {
      // What the stalled response's headers said and how much of its body came.
      for (const char* name : {"probe_http_content_length", "probe_http_uncompressed_body_length",
                               "probe_http_version"}) {
        EXPECT_EQ(mine(name), theirs(name)) << name << "\n" << Describe(ours) << "\nblackbox:\n"
                                            << response->body;
      }
    }
    (ours.success ? agreed_successes : agreed_failures)++;
  }
  // The table covers both outcomes.
  EXPECT_GE(agreed_successes, 8);
  EXPECT_GE(agreed_failures, 8);
}

}  // namespace
}  // namespace nines::collector

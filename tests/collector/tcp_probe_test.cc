// The TCP probe (connect, TLS, send/expect) and the TLS probe (certificate expiry and
// verification) against an in-test echo server, Debian's nginx, a silent server and a closed
// port on loopback.
#include <gtest/gtest.h>

#include <functional>

#include "collector/probe.h"
#include "tests/collector/probe_test_peers.h"

namespace nines::collector {
namespace {

using core::Duration;
using probe_test::Describe;
using probe_test::LoopbackServer;
using probe_test::Metric;
using probe_test::NginxPeer;
using probe_test::RunProbe;

CheckSpec StreamCheck(CheckKind kind, const std::string& target) {
  CheckSpec c;
  c.name = "test";
  c.kind = kind;
  c.target = target;
  c.timeout = Duration::Seconds(5);
  return c;
}

std::string Local(int port) { return fmt::format("127.0.0.1:{}", port); }

class StreamProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    nginx_ = new NginxPeer();
    echo_ = new LoopbackServer(LoopbackServer::Mode::kEcho);
  }
  static void TearDownTestSuite() {
    delete nginx_;
    delete echo_;
  }
  void SetUp() override { ASSERT_EQ(nginx_->error(), "") << "nginx is required for this test"; }

  static NginxPeer* nginx_;
  static LoopbackServer* echo_;
};
NginxPeer* StreamProbeTest::nginx_ = nullptr;
LoopbackServer* StreamProbeTest::echo_ = nullptr;

struct Case {
  std::string name;
  std::function<CheckSpec()> spec;
  bool success;
  std::string reason;
  std::vector<std::pair<std::string, double>> metrics = {};
};

void RunCases(probe_test::StartFn start, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ProbeResult r = RunProbe(start, c.spec());
    EXPECT_EQ(r.success, c.success) << Describe(r);
    EXPECT_EQ(r.reason, c.reason) << Describe(r);
    for (const auto& [name, value] : c.metrics) {
      EXPECT_EQ(Metric(r, name), std::optional<double>(value)) << name << "\n" << Describe(r);
    }
  }
}

TEST_F(StreamProbeTest, TcpConnectAndSteps) {
  const NginxPeer& n = *nginx_;
  const std::string echo = echo_->address();
  auto tcp = [](std::string target, std::vector<TcpStep> steps = {}) {
    CheckSpec c = StreamCheck(CheckKind::kTcp, target);
    c.tcp.steps = std::move(steps);
    return c;
  };
  RunCases(StartTcpProbe, {
      {"connect", [&] { return tcp(echo); }, true, "",
       {{"probe_ip_protocol", 4}, {"probe_failed_due_to_regex", 0}}},
      {"closed port", [&] { return tcp(Local(testutil::UnusedPort())); }, false,
       "connect: connection refused"},
      {"not host:port", [&] { return tcp("localhost"); }, false,
       "target \"localhost\": expected host:port"},
      {"banner, then send and expect the echo",
       [&] {
         return tcp(echo, {{"", "^nines-echo ready\n"}, {"PING 42", "PING (\\d+)\n"},
                           {"QUIT", "QUIT"}});
       },
       true, "", {{"probe_failed_due_to_regex", 0}}},
      {"an expect does not see what an earlier one consumed",
       [&] {
         CheckSpec c = tcp(echo, {{"", "ready"}, {"x", "x\n"}, {"", "ready"}});
         c.timeout = Duration::Milliseconds(500);
         return c;
       },
       // The echo server keeps the connection open: the wait ends at the timeout.
       false, "timeout after 500ms while waiting for \"ready\""},
      {"expect gives up after 64 KiB without a match",
       [&] { return tcp(echo, {{std::string(70000, 'z'), "nomatch"}}); }, false,
       "expect regex \"nomatch\" did not match in 65536 bytes", {{"probe_failed_due_to_regex", 1}}},
      {"expect finds a match at the end of a long line (old std::regex limit: 4 KiB)",
       [&] {
         return tcp(echo, {{"", "ready\n"}, {std::string(60000, 'z') + "END", "^z+END\n"}});
       },
       true, "",
       {{"probe_failed_due_to_regex", 0}}},
      {"HTTP over TCP, expected status",
       [&] { return tcp(Local(n.http_port), {{"GET / HTTP/1.0\n", "^HTTP/1\\.1 200"}}); }, true, ""},
      {"HTTP over TCP, other status: regex fails when the peer closes",
       [&] { return tcp(Local(n.http_port), {{"GET / HTTP/1.0\n", "^HTTP/1\\.1 500"}}); }, false,
       "expect regex \"^HTTP/1\\.1 500\" did not match before the connection closed",
       {{"probe_failed_due_to_regex", 1}}},
      {"TLS with steps",
       [&] {
         CheckSpec c = tcp(Local(n.https_port), {{"GET / HTTP/1.0\n", "secure hello"}});
         c.tcp.tls = true;
         c.tcp.ca_file = n.good.cert;
         return c;
       },
       true, ""},
      {"TLS expired",
       [&] {
         CheckSpec c = tcp(Local(n.expired_port));
         c.tcp.tls = true;
         c.tcp.ca_file = n.expired.cert;
         return c;
       },
       false, "tls: certificate has expired"},
      {"TLS unverified, server_name ignored",
       [&] {
         CheckSpec c = tcp(Local(n.expired_port));
         c.tcp.tls = true;
         c.tcp.tls_verify = false;
         c.tcp.server_name = "wrong.example";
         return c;
       },
       true, ""},
      {"TLS server_name checked",
       [&] {
         CheckSpec c = tcp(Local(n.https_port));
         c.tcp.tls = true;
         c.tcp.ca_file = n.good.cert;
         c.tcp.server_name = "wrong.example";
         return c;
       },
       false, "tls: hostname mismatch"},
  });
}

TEST_F(StreamProbeTest, TcpWithTlsReportsTheCertificate) {
  CheckSpec c = StreamCheck(CheckKind::kTcp, Local(nginx_->https_port));
  c.tcp.tls = true;
  c.tcp.ca_file = nginx_->good.cert;
  ProbeResult r = RunProbe(StartTcpProbe, c);
  ASSERT_TRUE(r.success) << Describe(r);
  ASSERT_TRUE(Metric(r, "probe_ssl_earliest_cert_expiry").has_value()) << Describe(r);
  EXPECT_NEAR(*Metric(r, "probe_ssl_earliest_cert_expiry"),
              core::RealClock().Now().UnixSecondsDouble() + 2 * 86400, 120);
}

TEST_F(StreamProbeTest, TlsProbe) {
  const NginxPeer& n = *nginx_;
  auto tls = [](int port, std::function<void(TlsCheckOptions&)> f = nullptr) {
    return [port, f] {
      CheckSpec c = StreamCheck(CheckKind::kTls, Local(port));
      if (f) f(c.tls);
      return c;
    };
  };
  const std::string good_ca = n.good.cert, expired_ca = n.expired.cert;
  RunCases(StartTlsProbe, {
      {"verified, expires within the default 14d warning",
       tls(n.https_port, [&](auto& t) { t.ca_file = good_ca; }), true, "",
       {{"probe_tls_expiry_warning", 1}}},
      {"verified, expires after the warning window",
       tls(n.https_port, [&](auto& t) {
         t.ca_file = good_ca;
         t.warn_before = Duration::Days(1);
       }),
       true, "", {{"probe_tls_expiry_warning", 0}}},
      {"self-signed against the system roots", tls(n.https_port), false,
       "tls: self-signed certificate"},
      {"name mismatch", tls(n.https_port, [&](auto& t) {
         t.ca_file = good_ca;
         t.server_name = "wrong.example";
       }),
       false, "tls: hostname mismatch"},
      {"server_name matches", tls(n.https_port, [&](auto& t) {
         t.ca_file = good_ca;
         t.server_name = "localhost";
       }),
       true, ""},
      {"expired fails", tls(n.expired_port, [&](auto& t) { t.ca_file = expired_ca; }), false,
       "tls: certificate has expired"},
      {"expired, unverified: succeeds and warns",
       tls(n.expired_port, [&](auto& t) { t.tls_verify = false; }), true, "",
       {{"probe_tls_expiry_warning", 1}}},
      {"plain HTTP port", tls(n.http_port, [&](auto& t) { t.tls_verify = false; }), false,
       "tls: wrong version number"},
      {"closed port", tls(testutil::UnusedPort()), false, "connect: connection refused"},
  });
}

TEST_F(StreamProbeTest, TlsExpiryMetricsAndWarningUseTheClock) {
  const double real_now = core::RealClock().Now().UnixSecondsDouble();
  CheckSpec c = StreamCheck(CheckKind::kTls, Local(nginx_->https_port));
  c.tls.ca_file = nginx_->good.cert;
  c.tls.warn_before = Duration::Days(14);

  ProbeResult r = RunProbe(StartTlsProbe, c);
  ASSERT_TRUE(r.success) << Describe(r);
  ASSERT_TRUE(Metric(r, "probe_ssl_earliest_cert_expiry").has_value()) << Describe(r);
  const double expiry = *Metric(r, "probe_ssl_earliest_cert_expiry");
  EXPECT_NEAR(expiry, real_now + 2 * 86400, 120);
  EXPECT_EQ(Metric(r, "probe_ssl_last_chain_expiry_timestamp_seconds"), expiry);
  EXPECT_EQ(Metric(r, "probe_tls_version_info", {{"version", "TLS 1.3"}}), 1.0);

  // Warning is judged against clock.Now(): a month earlier the certificate is far from expiry
  // (verification still uses the real time, so the handshake passes).
  core::FakeClock month_ago(core::Timestamp::FromUnixSecondsDouble(real_now - 30 * 86400));
  r = RunProbe(StartTlsProbe, c, month_ago);
  ASSERT_TRUE(r.success) << Describe(r);
  EXPECT_EQ(Metric(r, "probe_tls_expiry_warning"), 0.0);
  EXPECT_EQ(r.duration, Duration::Zero()) << "durations come from clock.Monotonic()";
}

TEST(StreamProbeTimeoutTest, TimeoutSaysWhatTheProbeWasDoing) {
  LoopbackServer silent(LoopbackServer::Mode::kSilent);
  CheckSpec tcp = StreamCheck(CheckKind::kTcp, silent.address());
  tcp.timeout = Duration::Milliseconds(300);
  tcp.tcp.steps = {{"hello", "world"}};
  ProbeResult r = RunProbe(StartTcpProbe, tcp);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, "timeout after 300ms while waiting for \"world\"");
  EXPECT_GE(r.duration, Duration::Milliseconds(300));

  CheckSpec tls = StreamCheck(CheckKind::kTls, silent.address());
  tls.timeout = Duration::Milliseconds(300);
  r = RunProbe(StartTlsProbe, tls);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, "timeout after 300ms while handshaking");
  EXPECT_LT(r.duration, Duration::Seconds(3));
}

}  // namespace
}  // namespace nines::collector

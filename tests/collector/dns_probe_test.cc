// The DNS probe against real servers on loopback: dnsmasq (Debian's dnsmasq-base) for what a
// resolver normally answers, and an in-test responder for what dnsmasq will not do (truncate,
// answer with the wrong id or with garbage, stay silent).
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "collector/dns.h"
#include "collector/exposition.h"
#include "collector/probe.h"
#include "core/clock.h"
#include "net/http_client.h"
#include "tests/collector/dns_peers.h"
#include "tests/testutil/testutil.h"

namespace nines::collector {
namespace {

using ::testing::HasSubstr;
namespace asio = boost::asio;

double Metric(const ProbeResult& r, std::string_view name, std::string_view phase = "") {
  for (const ProbeMetric& m : r.metrics) {
    if (m.name != name) continue;
    if (!phase.empty() && (m.labels.empty() || m.labels[0].second != phase)) continue;
    return m.value;
  }
  return -1;
}

// Runs one probe to completion on a fresh io_context (bounded: the probe's own timeout plus a
// margin), checking that `done` ran exactly once.
ProbeResult RunProbe(const CheckSpec& spec) {
  asio::io_context io;
  int calls = 0;
  ProbeResult result;
  StartDnsProbe(io, core::RealClock(), std::make_shared<const CheckSpec>(spec),
                [&](ProbeResult r) {
                  ++calls;
                  result = std::move(r);
                });
  io.run_for((spec.timeout + core::Duration::Seconds(5)).ToChrono());
  EXPECT_EQ(calls, 1) << "done must be called exactly once";
  return result;
}

CheckSpec DnsCheck(std::string target, std::string name, std::string type = "A") {
  CheckSpec spec;
  spec.name = "dns";
  spec.kind = CheckKind::kDns;
  spec.target = std::move(target);
  spec.timeout = core::Duration::Seconds(3);
  spec.dns.query_name = std::move(name);
  spec.dns.query_type = std::move(type);
  return spec;
}

class DnsProbeDnsmasqTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { peer_ = new testpeers::Dnsmasq(); }
  static void TearDownTestSuite() {
    delete peer_;
    peer_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(peer_->ok()) << peer_->error(); }
  static std::string Target() { return peer_->target(); }

  static testpeers::Dnsmasq* peer_;
};
testpeers::Dnsmasq* DnsProbeDnsmasqTest::peer_ = nullptr;

struct Case {
  std::string name;
  std::string query;
  std::string type = "A";
  std::function<void(DnsCheckOptions&)> configure = nullptr;
  bool success = true;
  std::string reason = "";  // substring of the reason on failure
  int answers = -1;         // probe_dns_answer_rrs when >= 0
};

// Every record type dnsmasq serves, every rcode it gives, every validation option passing and
// failing; each over UDP and TCP.
std::vector<Case> DnsmasqCases() {
  return {
      {"A", "host.nines.test", "A",
       [](DnsCheckOptions& o) {
         o.answer.fail_if_not_matches = {"^host\\.nines\\.test\\.\\t\\d+\\tIN\\tA\\t127\\.0\\.0\\.1$"};
       },
       true, "", 1},
      {"AAAA", "host.nines.test", "AAAA",
       [](DnsCheckOptions& o) { o.answer.fail_if_not_matches = {"\\tIN\\tAAAA\\t::1$"}; }, true, "", 1},
      {"CNAME chain", "alias.nines.test", "A",
       [](DnsCheckOptions& o) {
         o.answer.fail_if_none_matches = {"^alias\\.nines\\.test\\.\\t\\d+\\tIN\\tCNAME\\thost\\.nines\\.test\\.$"};
       },
       true, "", 2},
      {"MX", "nines.test", "MX",
       [](DnsCheckOptions& o) { o.answer.fail_if_not_matches = {"\\tMX\\t10 mail\\.nines\\.test\\.$"}; },
       true, "", 1},
      {"TXT quoted", "nines.test", "TXT",
       [](DnsCheckOptions& o) { o.answer.fail_if_not_matches = {"\\tTXT\\t\"v=spf1 -all\"$"}; }, true,
       "", 1},
      {"SRV", "_sip._tcp.nines.test", "SRV",
       [](DnsCheckOptions& o) {
         o.answer.fail_if_not_matches = {"\\tSRV\\t5 7 5060 sip\\.nines\\.test\\.$"};
       },
       true, "", 1},
      {"NS", "nines.test", "NS",
       [](DnsCheckOptions& o) { o.answer.fail_if_not_matches = {"\\tNS\\tns1\\.nines\\.test\\.$"}; },
       true, "", 1},
      {"SOA", "nines.test", "SOA",
       [](DnsCheckOptions& o) {
         o.answer.fail_if_not_matches = {"\\tSOA\\tns1\\.nines\\.test\\. hostmaster\\.nines\\.test\\. 2024061101 "};
       },
       true, "", 1},
      {"NXDOMAIN is not NOERROR", "nope.nines.test", "A", nullptr, false,
       "rcode NXDOMAIN not in [NOERROR]", 0},
      {"NXDOMAIN accepted, SOA in authority", "nope.nines.test", "A",
       [](DnsCheckOptions& o) {
         o.valid_rcodes = {"NXDOMAIN"};
         o.authority.fail_if_not_matches = {"\\tSOA\\t"};
       },
       true, "", 0},
      {"REFUSED outside the local zone", "example.org", "A", nullptr, false,
       "rcode REFUSED not in [NOERROR]", 0},
      {"REFUSED listed", "example.org", "A",
       [](DnsCheckOptions& o) { o.valid_rcodes = {"NOERROR", "REFUSED"}; }, true, "", 0},
      {"fail_if_matches hits", "host.nines.test", "A",
       [](DnsCheckOptions& o) { o.answer.fail_if_matches = {"127\\.0\\.0\\.1"}; }, false,
       "answer record matched \"127\\.0\\.0\\.1\"", 1},
      {"fail_if_matches misses", "host.nines.test", "A",
       [](DnsCheckOptions& o) { o.answer.fail_if_matches = {"10\\.0\\.0\\.1"}; }, true, "", 1},
      {"fail_if_not_matches misses", "host.nines.test", "A",
       [](DnsCheckOptions& o) { o.answer.fail_if_not_matches = {"10\\.0\\.0\\.1"}; }, false,
       "answer record did not match \"10\\.0\\.0\\.1\"", 1},
      {"fail_if_not_matches needs every record", "multi.nines.test", "A",
       [](DnsCheckOptions& o) { o.answer.fail_if_not_matches = {"127\\.0\\.0\\.2$"}; }, false,
       "answer record did not match", 2},
      {"fail_if_not_matches on no records", "nope.nines.test", "A",
       [](DnsCheckOptions& o) {
         o.valid_rcodes = {"NXDOMAIN"};
         o.answer.fail_if_not_matches = {"."};
       },
       false, "no answer records to match \".\"", 0},
      {"fail_if_none_matches one of two", "multi.nines.test", "A",
       [](DnsCheckOptions& o) { o.answer.fail_if_none_matches = {"127\\.0\\.0\\.3$"}; }, true, "", 2},
      {"fail_if_none_matches none", "multi.nines.test", "A",
       [](DnsCheckOptions& o) { o.answer.fail_if_none_matches = {"127\\.0\\.0\\.9$"}; }, false,
       "no answer record matched \"127\\.0\\.0\\.9$\"", 2},
      {"fail_if_all_match fails when not all match", "multi.nines.test", "A",
       [](DnsCheckOptions& o) { o.answer.fail_if_all_match = {"127\\.0\\.0\\.2$"}; }, false,
       "not every answer record matched", 2},
      {"fail_if_all_match passes when all match", "multi.nines.test", "A",
       [](DnsCheckOptions& o) { o.answer.fail_if_all_match = {"127\\.0\\.0\\.[23]$"}; }, true, "", 2},
      {"authority fail_if_matches", "host.nines.test", "A",
       [](DnsCheckOptions& o) { o.authority.fail_if_matches = {"\\tNS\\t"}; }, false,
       "authority record matched \"\\tNS\\t\"", 1},
      {"authority fail_if_none_matches", "host.nines.test", "A",
       [](DnsCheckOptions& o) { o.authority.fail_if_none_matches = {"ns1\\.nines\\.test\\.$"}; }, true,
       "", 1},
      {"additional empty fails fail_if_none_matches", "host.nines.test", "A",
       [](DnsCheckOptions& o) { o.additional.fail_if_none_matches = {"."}; }, false,
       "no additional record matched \".\"", 1},
      {"additional empty passes fail_if_all_match", "host.nines.test", "A",
       [](DnsCheckOptions& o) { o.additional.fail_if_all_match = {"x"}; }, true, "", 1},
  };
}

TEST_F(DnsProbeDnsmasqTest, EveryCaseOverUdpAndTcp) {
  for (bool tcp : {false, true}) {
    for (const Case& c : DnsmasqCases()) {
      SCOPED_TRACE(fmt::format("{} over {}", c.name, tcp ? "tcp" : "udp"));
      CheckSpec spec = DnsCheck(Target(), c.query, c.type);
      spec.dns.use_tcp = tcp;
      if (c.configure) c.configure(spec.dns);
      ProbeResult r = RunProbe(spec);
      EXPECT_EQ(r.success, c.success) << r.reason;
      if (c.success) {
        EXPECT_EQ(r.reason, "");
      } else {
        EXPECT_THAT(r.reason, HasSubstr(c.reason));
      }
      EXPECT_EQ(Metric(r, "probe_dns_query_succeeded"), 1);
      if (c.answers >= 0) {
        EXPECT_EQ(Metric(r, "probe_dns_answer_rrs"), c.answers);
      }
    }
  }
}

TEST_F(DnsProbeDnsmasqTest, MetricsFollowBlackbox) {
  ProbeResult r = RunProbe(DnsCheck(Target(), "nines.test", "SOA"));
  ASSERT_TRUE(r.success) << r.reason;
  EXPECT_EQ(Metric(r, "probe_dns_serial"), 2024061101);
  EXPECT_EQ(Metric(r, "probe_ip_protocol"), 4);
  EXPECT_EQ(Metric(r, "probe_dns_answer_rrs"), 1);
  EXPECT_EQ(Metric(r, "probe_dns_authority_rrs"), 1);  // the zone's NS
  EXPECT_EQ(Metric(r, "probe_dns_additional_rrs"), 0);
  EXPECT_GE(Metric(r, "probe_dns_lookup_time_seconds"), 0);
  EXPECT_GE(Metric(r, "probe_dns_duration_seconds", "resolve"), 0);
  EXPECT_GE(Metric(r, "probe_dns_duration_seconds", "connect"), 0);
  EXPECT_GT(Metric(r, "probe_dns_duration_seconds", "request"), 0);
  EXPECT_GT(r.duration, core::Duration::Zero());
  // Only an SOA query reports a serial.
  ProbeResult a = RunProbe(DnsCheck(Target(), "host.nines.test"));
  ASSERT_TRUE(a.success) << a.reason;
  EXPECT_EQ(Metric(a, "probe_dns_serial"), -1);
}

TEST_F(DnsProbeDnsmasqTest, ResolvesTheServerName) {
  // "localhost" goes through the resolver phase; IPv4 is preferred.
  CheckSpec spec = DnsCheck("localhost:" + std::to_string(peer_->port()), "host.nines.test");
  ProbeResult r = RunProbe(spec);
  EXPECT_TRUE(r.success) << r.reason;
  EXPECT_EQ(Metric(r, "probe_ip_protocol"), 4);
  EXPECT_GT(Metric(r, "probe_dns_lookup_time_seconds"), 0);
}

TEST(DnsProbeTest, ConnectionRefused) {
  const int port = testutil::UnusedPort();
  CheckSpec spec = DnsCheck("127.0.0.1:" + std::to_string(port), "host.nines.test");
  spec.dns.use_tcp = true;
  ProbeResult tcp = RunProbe(spec);
  EXPECT_FALSE(tcp.success);
  EXPECT_EQ(tcp.reason, "connect: connection refused");
  EXPECT_EQ(Metric(tcp, "probe_dns_query_succeeded"), 0);
  EXPECT_EQ(Metric(tcp, "probe_dns_answer_rrs"), 0);
  spec.dns.use_tcp = false;
  ProbeResult udp = RunProbe(spec);  // ICMP port unreachable on loopback
  EXPECT_FALSE(udp.success);
  EXPECT_EQ(udp.reason, "read: connection refused");
}

TEST(DnsProbeTest, InvalidSpecsFailWithAReason) {
  struct Bad {
    std::string name;
    std::function<void(CheckSpec&)> configure;
    std::string reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"type", [](CheckSpec& s) { s.dns.query_type = "BOGUS"; }, "unsupported query type \"BOGUS\""},
           {"rcode", [](CheckSpec& s) { s.dns.valid_rcodes = {"NOPE"}; }, "unknown rcode \"NOPE\""},
           {"regex", [](CheckSpec& s) { s.dns.answer.fail_if_matches = {"("}; }, "invalid regex \"(\""},
           {"port", [](CheckSpec& s) { s.target = "127.0.0.1:99999"; }, "invalid port \"99999\""},
           {"name", [](CheckSpec& s) { s.dns.query_name = "a..b"; }, "empty label"},
       }) {
    SCOPED_TRACE(b.name);
    CheckSpec spec = DnsCheck("127.0.0.1:53", "host.nines.test");
    b.configure(spec);
    ProbeResult r = RunProbe(spec);
    EXPECT_FALSE(r.success);
    EXPECT_THAT(r.reason, HasSubstr(b.reason));
  }
}

// Builds a response to `query` with `answers` A records 10.0.0.<i>.
std::string Answer(const dns::Message& query, int answers, bool tc = false) {
  dns::Message m;
  m.header.id = query.header.id;
  m.header.qr = true;
  m.header.rd = query.header.rd;
  m.header.ra = true;
  m.header.tc = tc;
  m.questions = query.questions;
  for (int i = 1; i <= answers; ++i) {
    m.answer.push_back(dns::Record{.name = query.questions.at(0).name, .type = dns::kTypeA,
                                   .rclass = dns::kClassIN, .ttl = 60,
                                   .rdata = std::string{10, 0, 0, static_cast<char>(i)}});
  }
  return *dns::EncodeMessage(m);
}

TEST(DnsProbeResponderTest, TruncatedUdpAnswerIsAskedAgainOverTcp) {
  testpeers::DnsResponder server([](const dns::Message& q, bool tcp) -> std::optional<std::string> {
    return tcp ? Answer(q, 3) : Answer(q, 0, /*tc=*/true);
  });
  CheckSpec spec = DnsCheck(server.target(), "big.nines.test");
  spec.dns.answer.fail_if_not_matches = {"\\tA\\t10\\.0\\.0\\.\\d$"};
  ProbeResult r = RunProbe(spec);
  EXPECT_TRUE(r.success) << r.reason;
  EXPECT_EQ(Metric(r, "probe_dns_answer_rrs"), 3);
  EXPECT_EQ(server.udp_queries(), 1);
  EXPECT_EQ(server.tcp_queries(), 1);
}

TEST(DnsProbeResponderTest, RecursionDesiredFollowsTheOption) {
  std::atomic<int> rd{-1};
  testpeers::DnsResponder server([&](const dns::Message& q, bool) -> std::optional<std::string> {
    rd = q.header.rd ? 1 : 0;
    return Answer(q, 1);
  });
  CheckSpec spec = DnsCheck(server.target(), "x.nines.test");
  spec.dns.recursion_desired = false;
  EXPECT_TRUE(RunProbe(spec).success);
  EXPECT_EQ(rd.load(), 0);
  spec.dns.recursion_desired = true;
  EXPECT_TRUE(RunProbe(spec).success);
  EXPECT_EQ(rd.load(), 1);
}

TEST(DnsProbeResponderTest, BadResponsesFail) {
  struct Bad {
    std::string name;
    std::function<std::optional<std::string>(const dns::Message&)> reply;
    std::string reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"wrong id",
            [](const dns::Message& q) {
              dns::Message other = q;
              other.header.id = static_cast<uint16_t>(q.header.id + 1);
              return std::optional<std::string>(Answer(other, 1));
            },
            "response id mismatch"},
           {"garbage", [](const dns::Message&) { return std::optional<std::string>("\x01\x02garbage"); },
            "invalid response: "},
           {"truncated record",
            [](const dns::Message& q) {
              std::string a = Answer(q, 1);
              a.resize(a.size() - 2);
              return std::optional<std::string>(a);
            },
            "invalid response: answer record 1"},
           {"silence", [](const dns::Message&) { return std::optional<std::string>(); },
            "timeout after 1s while waiting for the response"},
       }) {
    for (bool tcp : {false, true}) {
      SCOPED_TRACE(fmt::format("{} over {}", b.name, tcp ? "tcp" : "udp"));
      testpeers::DnsResponder server(
          [&](const dns::Message& q, bool) { return b.reply(q); });
      CheckSpec spec = DnsCheck(server.target(), "x.nines.test");
      spec.timeout = core::Duration::Seconds(1);
      spec.dns.use_tcp = tcp;
      ProbeResult r = RunProbe(spec);
      EXPECT_FALSE(r.success);
      EXPECT_THAT(r.reason, HasSubstr(b.reason));
      EXPECT_EQ(Metric(r, "probe_dns_query_succeeded"), 0);
    }
  }
}

TEST(DnsProbeResponderTest, ExtendedRcodeAndIpv6Server) {
  testpeers::DnsResponder server(
      [](const dns::Message& q, bool) -> std::optional<std::string> {
        dns::Message m;
        m.header.id = q.header.id;
        m.header.qr = true;
        m.questions = q.questions;
        // BADVERS/BADSIG (16): rcode 0 in the header, 1 in the OPT record's upper bits.
        m.additional.push_back(dns::Record{.name = ".", .type = dns::kTypeOPT, .rclass = 1232,
                                           .ttl = 0x01000000, .rdata = ""});
        return *dns::EncodeMessage(m);
      },
      "::1");
  if (!server.ok()) GTEST_FAIL() << "no IPv6 loopback: " << server.error();
  CheckSpec spec = DnsCheck(server.target(), "x.nines.test");
  ProbeResult r = RunProbe(spec);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, "rcode BADSIG not in [NOERROR]");
  EXPECT_EQ(Metric(r, "probe_ip_protocol"), 6);
  EXPECT_EQ(Metric(r, "probe_dns_additional_rrs"), 1);
  spec.dns.valid_rcodes = {"BADVERS"};
  spec.dns.additional.fail_if_not_matches = {"EDNS: version 0; flags:; udp: 1232"};
  ProbeResult ok = RunProbe(spec);
  EXPECT_TRUE(ok.success) << ok.reason;
}

// YAML single-quoted scalar: backslashes stay as they are, quotes double.
std::string YamlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else out.push_back(c);
  }
  return out + "'";
}

std::string YamlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + YamlQuote(items[i]);
  return out + "]";
}

// A blackbox dns module equivalent to `spec`.
std::string BlackboxModule(const std::string& name, const CheckSpec& spec) {
  const DnsCheckOptions& o = spec.dns;
  std::string y = fmt::format(
      "  {}:\n    prober: dns\n    timeout: {}\n    dns:\n      query_name: {}\n"
      "      query_type: {}\n      transport_protocol: {}\n      preferred_ip_protocol: ip4\n"
      "      valid_rcodes: {}\n",
      name, spec.timeout.ToString(), YamlQuote(o.query_name), YamlQuote(o.query_type),
      o.use_tcp ? "tcp" : "udp", YamlList(o.valid_rcodes));
  auto section = [&](const char* key, const DnsRecordValidation& v) {
    if (v.fail_if_matches.empty() && v.fail_if_not_matches.empty() && v.fail_if_all_match.empty() &&
        v.fail_if_none_matches.empty()) {
      return;
    }
    y += fmt::format("      {}:\n", key);
    auto list = [&](const char* field, const std::vector<std::string>& l) {
      if (!l.empty()) y += fmt::format("        {}: {}\n", field, YamlList(l));
    };
    list("fail_if_matches_regexp", v.fail_if_matches);
    list("fail_if_not_matches_regexp", v.fail_if_not_matches);
    list("fail_if_all_match_regexp", v.fail_if_all_match);
    list("fail_if_none_matches_regexp", v.fail_if_none_matches);
  };
  section("validate_answer_rrs", o.answer);
  section("validate_authority_rrs", o.authority);
  section("validate_additional_rrs", o.additional);
  return y;
}

double SampleValue(const Exposition& e, std::string_view name) {
  for (const ExpositionSample& s : e.samples) {
    if (s.labels.MetricName() == name) return s.value;
  }
  return -1;
}

// The same checks through blackbox_exporter's /probe and through nines: the same verdict and the
// same record counts, case by case (every dnsmasq case, over UDP and TCP). This is what pins
// blackbox's validate_*_rrs semantics (e.g. fail_if_all_match_regexp failing when NOT every
// record matches) and miekg's record text that the regexes see.
TEST_F(DnsProbeDnsmasqTest, AgreesWithBlackboxExporter) {
  std::vector<std::pair<std::string, CheckSpec>> checks;
  std::string yaml = "modules:\n";
  const std::vector<Case> cases = DnsmasqCases();
  for (bool tcp : {false, true}) {
    for (size_t i = 0; i < cases.size(); ++i) {
      CheckSpec spec = DnsCheck(Target(), cases[i].query, cases[i].type);
      spec.dns.use_tcp = tcp;
      if (cases[i].configure) cases[i].configure(spec.dns);
      const std::string module = fmt::format("case{}_{}", i, tcp ? "tcp" : "udp");
      yaml += BlackboxModule(module, spec);
      checks.emplace_back(module, spec);
    }
  }
  testpeers::BlackboxExporter blackbox(yaml);
  ASSERT_TRUE(blackbox.ok()) << blackbox.error() << "\n" << yaml;
  net::ClientOptions options;
  options.connect_timeout = core::Duration::Seconds(5);
  options.request_timeout = core::Duration::Seconds(10);
  auto client = net::HttpClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  int agreed = 0, failures_seen = 0;
  for (size_t i = 0; i < checks.size(); ++i) {
    const auto& [module, spec] = checks[i];
    const Case& c = cases[i % cases.size()];
    SCOPED_TRACE(fmt::format("{} ({}{})", module, c.name, spec.dns.use_tcp ? ", tcp" : ""));
    net::ClientRequest request;
    request.url = blackbox.ProbeUrl(module, Target());
    auto response = (*client)->Do(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_EQ(response->status, 200) << response->body;
    auto exposition = ParseExposition(response->body);
    ASSERT_TRUE(exposition.ok()) << exposition.status().ToString() << "\n" << response->body;
    const double bb_success = SampleValue(*exposition, "probe_success");
    ASSERT_GE(bb_success, 0) << response->body;

    ProbeResult ours = RunProbe(spec);
    EXPECT_EQ(ours.success, bb_success == 1)
        << "nines: " << (ours.success ? "success" : ours.reason) << "\nblackbox:\n"
        << response->body;
    for (const char* rrs : {"probe_dns_answer_rrs", "probe_dns_authority_rrs", "probe_dns_additional_rrs"}) {
      EXPECT_EQ(Metric(ours, rrs), SampleValue(*exposition, rrs)) << rrs;
    }
    if (spec.dns.query_type == "SOA") {
      EXPECT_EQ(Metric(ours, "probe_dns_serial"), SampleValue(*exposition, "probe_dns_serial"));
    }
    // Our own expectation too, so that both agreeing on a wrong answer would show.
    EXPECT_EQ(ours.success, c.success) << ours.reason;
    agreed += ours.success == (bb_success == 1);
    failures_seen += bb_success == 0;
  }
  EXPECT_EQ(agreed, static_cast<int>(checks.size()));
  EXPECT_GE(failures_seen, 10);  // the comparison covers failing verdicts, not only passes
}

}  // namespace
}  // namespace nines::collector

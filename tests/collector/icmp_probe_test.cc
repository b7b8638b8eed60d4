// The ICMP echo probe against loopback, with real sockets and a bounded
// io_context::run_for.
//
// Nothing leaves the host: targets are 127.0.0.1 and ::1, the unresolvable name
// is malformed (an empty label) so that glibc fails it without asking a DNS
// server, and the timeout is reached by the probe's corrupt_cookie seam (every
// reply is dropped as another prober's) because on loopback every echo request
// is answered.
//
// Socket kinds: the tests force a raw socket and a ping socket in turn. Whether
// this process may open each depends on the host (CAP_NET_RAW;
// net.ipv4.ping_group_range), so each test decides at run time which outcome is
// right and asserts that outcome, never skipping: a refused socket must produce
// its clear reason.
#include "collector/icmp_probe.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "collector/collector.h"
#include "core/clock.h"

namespace nines::collector {
namespace {

using core::Duration;

std::shared_ptr<const CheckSpec> IcmpCheck(const std::string& target,
                                           IpPreference ip = IpPreference::kIp4,
                                           Duration timeout = Duration::Seconds(2)) {
  auto c = std::make_shared<CheckSpec>();
  c->name = "ping";
  c->kind = CheckKind::kIcmp;
  c->target = target;
  c->timeout = timeout;
  c->interval = Duration::Seconds(15);
  c->icmp.ip_preference = ip;
  return c;
}

struct Outcome {
  int calls = 0;
  ProbeResult result;
};

// Runs one probe to completion on a fresh io_context (bounded: a hung probe
// fails the test).
Outcome Probe(std::shared_ptr<const CheckSpec> check, IcmpProbeOptions options = {}) {
  boost::asio::io_context io;
  Outcome out;
  StartIcmpProbeWithOptions(io, core::RealClock(), std::move(check), options, [&](ProbeResult r) {
    ++out.calls;
    out.result = std::move(r);
  });
  io.run_for(std::chrono::seconds(20));
  return out;
}

std::optional<double> Metric(const ProbeResult& r, const std::string& name,
                             const std::string& phase = "") {
  for (const ProbeMetric& m : r.metrics) {
    if (m.name != name) continue;
    if (phase.empty() && m.labels.empty()) return m.value;
    if (!phase.empty() && m.labels.size() == 1 && m.labels[0].first == "phase" &&
        m.labels[0].second == phase) {
      return m.value;
    }
  }
  return std::nullopt;
}

// Whether this process may open a socket of this kind, asked of the kernel
// directly (not through the code under test).
bool CanOpen(int family, int type) {
  int fd = ::socket(family, type, family == AF_INET6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP});
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// Whether ::1 is configured: binding a UDP socket to it succeeds only then.
bool HasIpv6Loopback() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

void ExpectSuccessfulEcho(const Outcome& o, double ip_protocol) {
  EXPECT_EQ(o.calls, 1);
  ASSERT_TRUE(o.result.success) << o.result.reason;
  EXPECT_EQ(o.result.reason, "");
  std::optional<double> rtt = Metric(o.result, "probe_icmp_duration_seconds", "rtt");
  ASSERT_TRUE(rtt.has_value());
  EXPECT_GT(*rtt, 0.0);
  EXPECT_LT(*rtt, 2.0);
  EXPECT_TRUE(Metric(o.result, "probe_icmp_duration_seconds", "resolve").has_value());
  EXPECT_TRUE(Metric(o.result, "probe_icmp_duration_seconds", "setup").has_value());
  EXPECT_TRUE(Metric(o.result, "probe_dns_lookup_time_seconds").has_value());
  EXPECT_EQ(Metric(o.result, "probe_ip_protocol"), ip_protocol);
  std::optional<double> hops = Metric(o.result, "probe_icmp_reply_hop_limit");
  ASSERT_TRUE(hops.has_value());
  EXPECT_GE(*hops, 1.0);
  EXPECT_LE(*hops, 255.0);
  EXPECT_GE(o.result.duration.SecondsDouble(), *rtt);
}

// The auto mode's outcome on this host: an echo when either socket kind opens,
// else the one clear reason (a CI runner without CAP_NET_RAW or
// ping_group_range must see that, not a skip).
void ExpectEchoOrNotPermitted(const Outcome& o, double ip_protocol, int family = AF_INET) {
  if (CanOpen(family, SOCK_DGRAM) || CanOpen(family, SOCK_RAW)) {
    ExpectSuccessfulEcho(o, ip_protocol);
  } else {
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.result.success);
    EXPECT_EQ(o.result.reason, kIcmpNotPermittedReason);
  }
}

struct Mode {
  const char* name;
  IcmpSocketKind kind;
  int type;  // what the kind opens
};
constexpr Mode kModes[] = {{"raw", IcmpSocketKind::kRaw, SOCK_RAW},
                           {"ping", IcmpSocketKind::kPing, SOCK_DGRAM}};

// The reason a forced socket kind gives when the kernel refuses it.
std::string RefusedPrefix(IcmpSocketKind kind) {
  return kind == IcmpSocketKind::kRaw ? "icmp: raw socket: " : "icmp: ping socket: ";
}

TEST(IcmpProbeTest, EchoToIpv4LoopbackSucceedsWithRttAndMetrics) {
  ExpectEchoOrNotPermitted(Probe(IcmpCheck("127.0.0.1")), 4);
}

TEST(IcmpProbeTest, LocalhostNameResolvesAndIsPinged) {
  ExpectEchoOrNotPermitted(Probe(IcmpCheck("localhost")), 4);
}

TEST(IcmpProbeTest, EachSocketKindPingsLoopbackOrSaysWhyNot) {
  for (const Mode& m : kModes) {
    SCOPED_TRACE(m.name);
    IcmpProbeOptions options;
    options.socket = m.kind;
    Outcome o = Probe(IcmpCheck("127.0.0.1"), options);
    if (CanOpen(AF_INET, m.type)) {
      ExpectSuccessfulEcho(o, 4);
    } else {
      EXPECT_EQ(o.calls, 1);
      EXPECT_FALSE(o.result.success);
      EXPECT_EQ(o.result.reason.rfind(RefusedPrefix(m.kind), 0), 0u) << o.result.reason;
      EXPECT_NE(
          o.result.reason.find(m.kind == IcmpSocketKind::kRaw ? "CAP_NET_RAW" : "ping_group_range"),
          std::string::npos)
          << o.result.reason;
    }
  }
}

TEST(IcmpProbeTest, EchoToIpv6LoopbackSucceedsOrFailsClearly) {
  Outcome o = Probe(IcmpCheck("::1", IpPreference::kIp6));
  EXPECT_EQ(o.calls, 1);
  if (HasIpv6Loopback() && (CanOpen(AF_INET6, SOCK_RAW) || CanOpen(AF_INET6, SOCK_DGRAM))) {
    ExpectSuccessfulEcho(o, 6);
  } else {
    EXPECT_FALSE(o.result.success);
    // Without ::1 the kernel refuses to route; without IPv6 sockets the probe
    // says so.
    EXPECT_TRUE(o.result.reason == "destination unreachable" ||
                o.result.reason.rfind("icmp: ", 0) == 0)
        << o.result.reason;
  }
}

TEST(IcmpProbeTest, PreferenceChoosesTheFamilyAndFallsBack) {
  // A literal has one family: preferring the other falls back to it.
  ExpectEchoOrNotPermitted(Probe(IcmpCheck("127.0.0.1", IpPreference::kIp6)), 4);
}

TEST(IcmpProbeTest, UnresolvableNameFailsInTheResolvePhase) {
  // An empty label: glibc rejects it before building a DNS query, so no packet
  // leaves the host.
  Outcome o = Probe(IcmpCheck("no..such.invalid"));
  EXPECT_EQ(o.calls, 1);
  EXPECT_FALSE(o.result.success);
  EXPECT_EQ(o.result.reason.rfind("resolve: ", 0), 0u) << o.result.reason;
  EXPECT_TRUE(Metric(o.result, "probe_dns_lookup_time_seconds").has_value());
  EXPECT_FALSE(Metric(o.result, "probe_icmp_duration_seconds", "rtt").has_value());
}

TEST(IcmpProbeTest, UnansweredRequestTimesOutWithThePhase) {
  int modes_run = 0;
  for (const Mode& m : kModes) {
    if (!CanOpen(AF_INET, m.type)) continue;  // the refusal is covered above
    ++modes_run;
    SCOPED_TRACE(m.name);
    IcmpProbeOptions options;
    options.socket = m.kind;
    options.corrupt_cookie = true;
    const auto start = std::chrono::steady_clock::now();
    Outcome o =
        Probe(IcmpCheck("127.0.0.1", IpPreference::kIp4, Duration::Milliseconds(300)), options);
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.result.success);
    EXPECT_EQ(o.result.reason, "timeout after 300ms while waiting for the echo reply");
    EXPECT_GE(o.result.duration, Duration::Milliseconds(300));
    EXPECT_GE(waited, std::chrono::milliseconds(300));
    EXPECT_LT(waited, std::chrono::seconds(5));
    // The phases reached are still reported.
    EXPECT_TRUE(Metric(o.result, "probe_icmp_duration_seconds", "setup").has_value());
    EXPECT_FALSE(Metric(o.result, "probe_icmp_duration_seconds", "rtt").has_value());
  }
  if (modes_run == 0) {
    EXPECT_FALSE(IcmpPermitted(IpPreference::kIp4).ok());
  }
}

TEST(IcmpProbeTest, ConcurrentProbesEachGetTheirOwnReplyOnce) {
  if (!CanOpen(AF_INET, SOCK_DGRAM) && !CanOpen(AF_INET, SOCK_RAW)) {
    // Nothing to demultiplex; the refusal is asserted by the tests above.
    EXPECT_FALSE(IcmpPermitted(IpPreference::kIp4).ok());
    return;
  }
  // Many probes on a multi-threaded io_context: with raw sockets every socket
  // sees every reply, so each probe must pick out its own (id, sequence,
  // cookie) and report exactly once.
  constexpr int kProbes = 64;
  boost::asio::io_context io;
  std::mutex mu;
  std::vector<int> calls(kProbes, 0);
  std::vector<ProbeResult> results(kProbes);
  for (int i = 0; i < kProbes; ++i) {
    IcmpProbeOptions options;
    options.socket = i % 2 == 0 ? IcmpSocketKind::kAuto : IcmpSocketKind::kRaw;
    if (options.socket == IcmpSocketKind::kRaw && !CanOpen(AF_INET, SOCK_RAW)) {
      options.socket = IcmpSocketKind::kAuto;
    }
    auto check = std::make_shared<CheckSpec>(
        *IcmpCheck(i % 3 == 0 && HasIpv6Loopback() ? "::1" : "127.0.0.1", IpPreference::kIp4));
    check->icmp.payload_bytes = 8 + i;  // different sizes, the cookie always fits
    StartIcmpProbeWithOptions(io, core::RealClock(), check, options, [&, i](ProbeResult r) {
      std::lock_guard<std::mutex> lock(mu);
      ++calls[i];
      results[i] = std::move(r);
    });
  }
  std::thread other([&] { io.run_for(std::chrono::seconds(20)); });
  io.run_for(std::chrono::seconds(20));
  other.join();
  for (int i = 0; i < kProbes; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(calls[i], 1);
    EXPECT_TRUE(results[i].success) << results[i].reason;
  }
}

TEST(IcmpProbeTest, ZeroPayloadStillMatchesByIdAndSequence) {
  auto check = std::make_shared<CheckSpec>(*IcmpCheck("127.0.0.1"));
  check->icmp.payload_bytes = 0;
  ExpectEchoOrNotPermitted(Probe(check), 4);
}

TEST(IcmpPermittedTest, AgreesWithWhatTheKernelAllows) {
  for (auto [family, pref] :
       {std::pair{AF_INET, IpPreference::kIp4}, std::pair{AF_INET6, IpPreference::kIp6}}) {
    SCOPED_TRACE(family == AF_INET ? "ipv4" : "ipv6");
    core::Status s = IcmpPermitted(pref);
    const bool allowed = CanOpen(family, SOCK_DGRAM) || CanOpen(family, SOCK_RAW);
    EXPECT_EQ(s.ok(), allowed) << s.ToString();
    if (!allowed && s.code() == core::StatusCode::kPermissionDenied) {
      EXPECT_NE(s.message().find("ping_group_range"), std::string::npos) << s.message();
      EXPECT_NE(s.message().find("CAP_NET_RAW"), std::string::npos) << s.message();
    }
  }
}

TEST(IcmpPermittedTest, RefusedPingSocketNamesTheSysctlAndTheGroup) {
  // This host's answer for a ping socket, through the probe's forced ping mode:
  // either it works or the reason names the gid and the sysctl's current value.
  IcmpProbeOptions options;
  options.socket = IcmpSocketKind::kPing;
  Outcome o = Probe(IcmpCheck("127.0.0.1"), options);
  if (CanOpen(AF_INET, SOCK_DGRAM)) {
    EXPECT_TRUE(o.result.success) << o.result.reason;
  } else {
    EXPECT_NE(o.result.reason.find("gid " + std::to_string(::getegid())), std::string::npos)
        << o.result.reason;
    EXPECT_NE(o.result.reason.find("net.ipv4.ping_group_range \""), std::string::npos)
        << o.result.reason;
  }
}

}  // namespace
}  // namespace nines::collector

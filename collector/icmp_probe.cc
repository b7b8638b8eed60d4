// The ICMP echo probe: resolve, open a socket, send one echo request, wait for
// its reply.
//
// Sockets: an unprivileged "ping" socket (SOCK_DGRAM + IPPROTO_ICMP[V6]) when
// the process's group is in net.ipv4.ping_group_range, else a raw socket
// (CAP_NET_RAW). The kernel rewrites a ping socket's echo id and hands it only
// replies to that id; a raw socket sees every ICMP packet the host receives (on
// loopback even our own request), so there the probe filters on type, id,
// sequence and a random cookie in the payload. The cookie is checked on ping
// sockets too: it costs nothing and keeps a late reply to an earlier probe
// (same socket id reused by the kernel) from passing as this one's.
//
// Both sockets are connect()ed to the target: the kernel then drops other
// sources' packets for us and reports a hard ICMP error (destination
// unreachable) as a socket error on recv.
//
// Asio only waits (readiness of the socket, the timeout timer, the resolver);
// send and recvmsg are plain system calls because the hop limit arrives as
// ancillary data, which Asio's receive does not expose. Everything of one probe
// runs on one strand, so `io` may have many threads.
#include "collector/icmp_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/generic/datagram_protocol.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/icmp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace nines::collector {
namespace {

namespace asio = boost::asio;

constexpr uint8_t kEchoRequest4 = 8;
constexpr uint8_t kEchoReply4 = 0;
constexpr uint8_t kUnreachable4 = 3;
constexpr uint8_t kEchoRequest6 = 128;
constexpr uint8_t kEchoReply6 = 129;
constexpr uint8_t kUnreachable6 = 1;
constexpr size_t kIcmpHeaderBytes = 8;
constexpr size_t kCookieBytes = 8;

// A socket descriptor closed on destruction unless released.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.Release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.Release();
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string ErrnoText(int err) { return std::strerror(err); }

bool IsPermissionError(int err) { return err == EPERM || err == EACCES; }

// "1\t0" -> "1 0"; empty when unreadable (the detail is then left out).
std::string PingGroupRange() {
  std::ifstream in("/proc/sys/net/ipv4/ping_group_range");
  std::string lo, hi;
  if (!(in >> lo >> hi)) return {};
  return lo + " " + hi;
}

// Why a ping socket was refused, for people: the errno plus the sysctl that
// decides it.
std::string PingRefusal(int err) {
  std::string out = fmt::format("ping socket: {}", ErrnoText(err));
  if (!IsPermissionError(err)) return out;
  std::string range = PingGroupRange();
  if (range.empty()) return out;
  return out + fmt::format(
                   " (gid {} and its supplementary groups are not in "
                   "net.ipv4.ping_group_range \"{}\")",
                   ::getegid(), range);
}

std::string RawRefusal(int err) {
  std::string out = fmt::format("raw socket: {}", ErrnoText(err));
  if (IsPermissionError(err)) out += " (needs CAP_NET_RAW)";
  return out;
}

struct OpenedSocket {
  Fd fd;
  bool ping = false;  // a ping socket (else raw)
};

// Opens an ICMP socket of `family` as `kind` allows. On failure returns the
// probe's reason.
core::Result<OpenedSocket> OpenIcmpSocket(int family, IcmpSocketKind kind) {
  const int proto = family == AF_INET6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  const int flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  int ping_err = 0;
  if (kind != IcmpSocketKind::kRaw) {
    int fd = ::socket(family, SOCK_DGRAM | flags, proto);
    if (fd >= 0) return OpenedSocket{Fd(fd), true};
    ping_err = errno;
    if (kind == IcmpSocketKind::kPing) {
      return core::PermissionDeniedError("icmp: {}", PingRefusal(ping_err));
    }
  }
  int fd = ::socket(family, SOCK_RAW | flags, proto);
  if (fd >= 0) return OpenedSocket{Fd(fd), false};
  const int raw_err = errno;
  if (kind == IcmpSocketKind::kRaw) {
    return core::PermissionDeniedError("icmp: {}", RawRefusal(raw_err));
  }
  // EPROTONOSUPPORT/ESOCKTNOSUPPORT: a kernel without ping sockets counts as
  // "not permitted".
  auto refused = [](int err) {
    return IsPermissionError(err) || err == EPROTONOSUPPORT || err == ESOCKTNOSUPPORT;
  };
  if (refused(ping_err) && refused(raw_err)) {
    return core::PermissionDeniedError(std::string(kIcmpNotPermittedReason));
  }
  // Something else (no IPv6 in the kernel, out of descriptors): say what it
  // was.
  const int err = refused(raw_err) ? ping_err : raw_err;
  return core::UnavailableError("icmp: cannot open an {} ICMP socket: {}",
                                family == AF_INET6 ? "IPv6" : "IPv4", ErrnoText(err));
}

// RFC 1071 checksum. IPv4 ICMP needs it from us on raw sockets (the kernel
// fills it for ping sockets, and for ICMPv6 always), and it is harmless on a
// ping socket.
uint16_t Checksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
  if (len % 2 != 0) sum += uint32_t{data[len - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

uint64_t RandomU64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

// Sequence numbers are process-wide so that two probes of the same target from
// one raw socket family never share (id, seq) even when their random ids
// collide.
std::atomic<uint16_t> g_sequence{static_cast<uint16_t>(RandomU64())};

class IcmpProbe : public std::enable_shared_from_this<IcmpProbe> {
 public:
  IcmpProbe(asio::io_context& io, core::Clock& clock, std::shared_ptr<const CheckSpec> check,
            IcmpProbeOptions options, ProbeDone done)
      : strand_(asio::make_strand(io)),
        clock_(clock),
        check_(std::move(check)),
        options_(options),
        done_(std::move(done)),
        timer_(strand_),
        resolver_(strand_),
        socket_(strand_),
        start_(clock.Monotonic()) {}

  void Start() {
    // Everything, including the first step, runs on the strand.
    asio::post(strand_, [self = shared_from_this()] { self->Begin(); });
  }

 private:
  void Begin() {
    timer_.expires_after(check_->timeout.ToChrono());
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->OnTimeout();
    });
    // An address needs no lookup (and must not wait for one).
    boost::system::error_code parse_ec;
    asio::ip::address literal = asio::ip::make_address(check_->target, parse_ec);
    if (!parse_ec) {
      OnResolved({literal});
      return;
    }
    phase_ = "resolving the host";
    resolver_.async_resolve(
        check_->target, "",
        [self = shared_from_this()](const boost::system::error_code& ec,
                                    asio::ip::icmp::resolver::results_type results) {
          if (self->finished_) return;
          if (ec) {
            self->AddResolveMetrics();
            self->Finish(false, fmt::format("resolve: {}", ec.message()));
            return;
          }
          std::vector<asio::ip::address> addrs;
          for (const auto& r : results) addrs.push_back(r.endpoint().address());
          self->OnResolved(std::move(addrs));
        });
  }

  void AddResolveMetrics() {
    const double s = (clock_.Monotonic() - start_).SecondsDouble();
    metrics_.push_back({"probe_dns_lookup_time_seconds", {}, s});
    metrics_.push_back({"probe_icmp_duration_seconds", {{"phase", "resolve"}}, s});
  }

  void OnResolved(std::vector<asio::ip::address> addrs) {
    AddResolveMetrics();
    // The preferred family's first address, else the other family's (blackbox's
    // fallback).
    const bool want6 = check_->icmp.ip_preference == IpPreference::kIp6;
    std::optional<asio::ip::address> pick;
    for (const auto& a : addrs) {
      if (a.is_v6() == want6) {
        pick = a;
        break;
      }
    }
    if (!pick && !addrs.empty()) pick = addrs.front();
    if (!pick) {
      Finish(false, "resolve: no address");
      return;
    }
    // An IPv4-mapped IPv6 address is an IPv4 destination.
    if (pick->is_v6() && pick->to_v6().is_v4_mapped()) {
      pick = asio::ip::make_address_v4(asio::ip::v4_mapped, pick->to_v6());
    }
    target_ = *pick;
    v6_ = target_.is_v6();
    metrics_.push_back({"probe_ip_protocol", {}, v6_ ? 6.0 : 4.0});
    Setup();
  }

  void Setup() {
    phase_ = "opening the socket";
    const core::Duration setup_start = clock_.Monotonic();
    const int family = v6_ ? AF_INET6 : AF_INET;
    core::Result<OpenedSocket> opened = OpenIcmpSocket(family, options_.socket);
    if (!opened.ok()) {
      Finish(false, opened.status().message());
      return;
    }
    ping_ = opened->ping;
    Fd fd = std::move(opened->fd);
    const int on = 1;
    // The reply's TTL / hop limit as ancillary data; best effort (the metric is
    // then absent).
    if (v6_) {
      (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
      if (!ping_) {
        // Raw ICMPv6 sees all ICMPv6 (neighbour discovery included): let the
        // kernel drop what cannot be ours. The userspace filter below stays the
        // authority.
        icmp6_filter filter;
        ICMP6_FILTER_SETBLOCKALL(&filter);
        ICMP6_FILTER_SETPASS(kEchoReply6, &filter);
        ICMP6_FILTER_SETPASS(kUnreachable6, &filter);
        (void)::setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
      }
    } else {
      (void)::setsockopt(fd.get(), IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
    }
    sockaddr_storage peer{};
    socklen_t peer_len = 0;
    if (v6_) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&peer);
      sa->sin6_family = AF_INET6;
      auto bytes = target_.to_v6().to_bytes();
      std::memcpy(&sa->sin6_addr, bytes.data(), bytes.size());
      sa->sin6_scope_id = target_.to_v6().scope_id();
      peer_len = sizeof(sockaddr_in6);
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&peer);
      sa->sin_family = AF_INET;
      auto bytes = target_.to_v4().to_bytes();
      std::memcpy(&sa->sin_addr, bytes.data(), bytes.size());
      peer_len = sizeof(sockaddr_in);
    }
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&peer), peer_len) != 0) {
      Finish(false, SendFailure("connect", errno));
      return;
    }
    boost::system::error_code ec;
    socket_.assign(
        asio::generic::datagram_protocol(family, v6_ ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP}),
        fd.get(), ec);
    if (ec) {
      Finish(false, fmt::format("icmp: {}", ec.message()));
      return;
    }
    fd.Release();  // owned by socket_ now
    metrics_.push_back({"probe_icmp_duration_seconds",
                        {{"phase", "setup"}},
                        (clock_.Monotonic() - setup_start).SecondsDouble()});
    Send();
  }

  // Errors the kernel reports for a destination it cannot reach, on send or
  // (connected) recv.
  static bool IsUnreachable(int err) {
    return err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN || err == ENETDOWN ||
           err == ECONNREFUSED;
  }

  static std::string SendFailure(std::string_view what, int err) {
    if (IsUnreachable(err)) return "destination unreachable";
    return fmt::format("icmp: {}: {}", what, ErrnoText(err));
  }

  void Send() {
    const size_t payload = static_cast<size_t>(std::clamp(check_->icmp.payload_bytes, 0, 65000));
    std::vector<uint8_t> packet(kIcmpHeaderBytes + payload);
    id_ = static_cast<uint16_t>(RandomU64());
    seq_ = g_sequence.fetch_add(1, std::memory_order_relaxed);
    cookie_ = RandomU64();
    packet[0] = v6_ ? kEchoRequest6 : kEchoRequest4;
    packet[2] = 0;  // checksum, below
    packet[4] = static_cast<uint8_t>(id_ >> 8);
    packet[5] = static_cast<uint8_t>(id_);
    packet[6] = static_cast<uint8_t>(seq_ >> 8);
    packet[7] = static_cast<uint8_t>(seq_);
    const uint64_t sent_cookie = options_.corrupt_cookie ? ~cookie_ : cookie_;
    for (size_t i = 0; i < payload; ++i) {
      // The cookie first, then a counting pattern (it shows up readably in a
      // packet capture).
      packet[kIcmpHeaderBytes + i] =
          i < kCookieBytes ? static_cast<uint8_t>(sent_cookie >> (8 * i)) : static_cast<uint8_t>(i);
    }
    if (!v6_) {
      const uint16_t sum = Checksum(packet.data(), packet.size());
      packet[2] = static_cast<uint8_t>(sum >> 8);
      packet[3] = static_cast<uint8_t>(sum);
    }
    phase_ = "waiting for the echo reply";
    sent_at_ = clock_.Monotonic();
    // A datagram socket either takes the whole packet or fails; EAGAIN on a
    // fresh ICMP socket would mean the host is out of buffer space, which is
    // reported like any other failure.
    if (::send(socket_.native_handle(), packet.data(), packet.size(), MSG_NOSIGNAL) < 0) {
      Finish(false, SendFailure("send", errno));
      return;
    }
    WaitForReply();
  }

  void WaitForReply() {
    socket_.async_wait(asio::socket_base::wait_read,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                         if (self->finished_) return;
                         if (ec) {
                           self->Finish(false, fmt::format("icmp: wait: {}", ec.message()));
                           return;
                         }
                         self->ReadReplies();
                       });
  }

  // Drains the socket; finishes on our reply or a reported error, else waits
  // again.
  void ReadReplies() {
    std::array<uint8_t, 65536> buf;
    alignas(cmsghdr) std::array<uint8_t, 256> control;
    for (;;) {
      iovec iov{buf.data(), buf.size()};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      const ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT);
      if (n < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        if (err == EINTR) continue;
        Finish(false, IsUnreachable(err) ? std::string("destination unreachable")
                                         : fmt::format("icmp: receive: {}", ErrnoText(err)));
        return;
      }
      const core::Duration received_at = clock_.Monotonic();
      std::optional<int> hop_limit;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
          int v = 0;
          std::memcpy(&v, CMSG_DATA(c), sizeof v);
          hop_limit = v;
        }
      }
      const uint8_t* icmp = buf.data();
      size_t len = static_cast<size_t>(n);
      if (!v6_ && !ping_) {
        // Raw IPv4 sockets deliver the IP header too; its TTL is the hop limit
        // when no ancillary data came.
        if (len < 20) continue;
        const size_t ihl = size_t{static_cast<uint8_t>(buf[0] & 0x0f)} * 4;
        if (ihl < 20 || len < ihl) continue;
        if (!hop_limit) hop_limit = buf[8];
        icmp += ihl;
        len -= ihl;
      }
      switch (Classify(icmp, len)) {
        case Match::kOthers:
          continue;
        case Match::kUnreachable:
          Finish(false, "destination unreachable");
          return;
        case Match::kReply:
          metrics_.push_back({"probe_icmp_duration_seconds",
                              {{"phase", "rtt"}},
                              (received_at - sent_at_).SecondsDouble()});
          if (hop_limit) {
            metrics_.push_back({"probe_icmp_reply_hop_limit", {}, static_cast<double>(*hop_limit)});
          }
          Finish(true, "");
          return;
      }
    }
    WaitForReply();
  }

  enum class Match { kOthers, kReply, kUnreachable };

  // Whether the ICMP message at `p` is our echo reply, an unreachable error
  // about our request, or something else (another prober's traffic, our own
  // request looped back on a raw socket).
  Match Classify(const uint8_t* p, size_t len) const {
    if (len < kIcmpHeaderBytes) return Match::kOthers;
    const uint8_t type = p[0];
    if (type == (v6_ ? kEchoReply6 : kEchoReply4)) {
      // The kernel rewrote a ping socket's id; it already matched it for us.
      if (!ping_ && Get16(p + 4) != id_) return Match::kOthers;
      if (Get16(p + 6) != seq_) return Match::kOthers;
      const size_t want =
          std::min<size_t>(kCookieBytes, static_cast<size_t>(check_->icmp.payload_bytes));
      if (len < kIcmpHeaderBytes + want) return Match::kOthers;
      for (size_t i = 0; i < want; ++i) {
        if (p[kIcmpHeaderBytes + i] != static_cast<uint8_t>(cookie_ >> (8 * i))) {
          return Match::kOthers;
        }
      }
      return Match::kReply;
    }
    if (!ping_ && type == (v6_ ? kUnreachable6 : kUnreachable4)) {
      // The error quotes our packet's IP header and the first 8 bytes of our
      // ICMP header.
      const uint8_t* q = p + kIcmpHeaderBytes;
      size_t qlen = len - kIcmpHeaderBytes;
      size_t ip_header = 40;
      if (!v6_) {
        if (qlen < 20) return Match::kOthers;
        ip_header = size_t{static_cast<uint8_t>(q[0] & 0x0f)} * 4;
      }
      if (qlen < ip_header + kIcmpHeaderBytes) return Match::kOthers;
      const uint8_t* orig = q + ip_header;
      if (orig[0] == (v6_ ? kEchoRequest6 : kEchoRequest4) && Get16(orig + 4) == id_ &&
          Get16(orig + 6) == seq_) {
        return Match::kUnreachable;
      }
    }
    return Match::kOthers;
  }

  void OnTimeout() {
    if (finished_) return;
    Finish(false, fmt::format("timeout after {} while {}", check_->timeout.ToString(), phase_));
  }

  void Finish(bool success, std::string reason) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    ProbeResult r;
    r.success = success;
    r.reason = std::move(reason);
    r.duration = clock_.Monotonic() - start_;
    r.metrics = std::move(metrics_);
    ProbeDone done = std::move(done_);
    done(std::move(r));
  }

  asio::strand<asio::io_context::executor_type> strand_;
  core::Clock& clock_;
  std::shared_ptr<const CheckSpec> check_;
  IcmpProbeOptions options_;
  ProbeDone done_;
  asio::steady_timer timer_;
  asio::ip::icmp::resolver resolver_;
  asio::generic::datagram_protocol::socket socket_;
  const core::Duration start_;
  std::string phase_ = "resolving the host";
  std::vector<ProbeMetric> metrics_;
  asio::ip::address target_;
  bool v6_ = false;
  bool ping_ = false;
  uint16_t id_ = 0;
  uint16_t seq_ = 0;
  uint64_t cookie_ = 0;
  core::Duration sent_at_;
  bool finished_ = false;
};

}  // namespace

void StartIcmpProbeWithOptions(asio::io_context& io, core::Clock& clock,
                               std::shared_ptr<const CheckSpec> check, IcmpProbeOptions options,
                               ProbeDone done) {
  std::make_shared<IcmpProbe>(io, clock, std::move(check), options, std::move(done))->Start();
}

void StartIcmpProbe(asio::io_context& io, core::Clock& clock,
                    std::shared_ptr<const CheckSpec> check, ProbeDone done) {
  StartIcmpProbeWithOptions(io, clock, std::move(check), IcmpProbeOptions{}, std::move(done));
}

core::Status IcmpPermitted(IpPreference ip) {
  const int family = ip == IpPreference::kIp6 ? AF_INET6 : AF_INET;
  const int proto = family == AF_INET6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  Fd ping(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, proto));
  if (ping.get() >= 0) return core::Status::Ok();
  const int ping_err = errno;
  Fd raw(::socket(family, SOCK_RAW | SOCK_CLOEXEC, proto));
  if (raw.get() >= 0) return core::Status::Ok();
  const int raw_err = errno;
  const std::string detail = PingRefusal(ping_err) + "; " + RawRefusal(raw_err);
  if (ping_err == EAFNOSUPPORT || raw_err == EAFNOSUPPORT ||
      (!IsPermissionError(ping_err) && !IsPermissionError(raw_err))) {
    return core::UnavailableError("cannot open an {} ICMP socket ({})",
                                  family == AF_INET6 ? "IPv6" : "IPv4", detail);
  }
  return core::PermissionDeniedError(
      "neither a ping socket nor a raw socket can be opened ({}): add the "
      "group to "
      "net.ipv4.ping_group_range or grant CAP_NET_RAW",
      detail);
}

}  // namespace nines::collector

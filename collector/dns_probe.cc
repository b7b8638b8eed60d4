// The DNS probe: one query to the check's resolver, judged as blackbox_exporter's dns prober
// judges it (prober/dns.go: validRcode, validRRs), with its metric names.
//
// Differences from blackbox, each on purpose:
// - A UDP answer with the TC bit set is asked again over TCP (a resolver that truncates is
//   working as designed; blackbox would judge the truncated answer).
// - A response whose id is not the query's fails the probe ("response id mismatch"): each probe
//   uses a fresh socket connected to the server, so no late answer to an earlier query can
//   arrive on it, and a wrong id means a broken or spoofing server.
// - (Not a difference: regexes are RE2, Go's syntax, as blackbox's; both search, unanchored.)
// - Failure reasons name the regex, never the record: the reason is a label value, and record
//   text (TTLs) would make a new series per probe.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <tuple>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "collector/dns.h"
#include "collector/probe.h"
#include "core/regex.h"

namespace nines::collector {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

struct ResolverAddress {
  std::string host;
  std::string port;
};

// host[:port], [v6]:port or a bare IPv6 literal; port 53 by default.
core::Result<ResolverAddress> SplitTarget(std::string_view target) {
  if (target.empty()) return core::InvalidArgumentError("empty target");
  if (target.front() == '[') {
    const size_t close = target.find(']');
    if (close == std::string_view::npos) {
      return core::InvalidArgumentError("target \"{}\": missing ']'", target);
    }
    std::string host(target.substr(1, close - 1));
    std::string_view rest = target.substr(close + 1);
    if (rest.empty()) return ResolverAddress{host, "53"};
    if (rest.front() != ':' || rest.size() == 1) {
      return core::InvalidArgumentError("target \"{}\": want [host]:port", target);
    }
    return ResolverAddress{host, std::string(rest.substr(1))};
  }
  const size_t colon = target.find(':');
  if (colon == std::string_view::npos) return ResolverAddress{std::string(target), "53"};
  if (target.find(':', colon + 1) != std::string_view::npos) {
    return ResolverAddress{std::string(target), "53"};  // a bare IPv6 literal
  }
  if (colon + 1 == target.size()) return core::InvalidArgumentError("target \"{}\": empty port", target);
  return ResolverAddress{std::string(target.substr(0, colon)), std::string(target.substr(colon + 1))};
}

// Asio's messages start upper-case ("Connection refused"); reasons read as "connect: connection
// refused".
std::string Lower1(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

uint16_t RandomId() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<uint16_t>(rng());
}

std::string Quoted(const std::vector<std::string>& regexes) {
  std::string out;
  for (const std::string& r : regexes) {
    if (!out.empty()) out += " or ";
    out += fmt::format("\"{}\"", r);
  }
  return out;
}

struct CompiledValidation {
  std::vector<std::pair<std::string, core::Regex>> matches, not_matches, all_match, none_matches;
};

// blackbox's validRRs, with a reason: nullopt when the records pass.
std::optional<std::string> ValidateRecords(std::string_view section,
                                           const std::vector<dns::Record>& records,
                                           const CompiledValidation& v,
                                           const DnsRecordValidation& spec) {
  if (records.empty() && !v.not_matches.empty()) {
    return fmt::format("no {} records to match \"{}\"", section, v.not_matches.front().first);
  }
  if (records.empty() && !v.none_matches.empty()) {
    return fmt::format("no {} record matched {}", section, Quoted(spec.fail_if_none_matches));
  }
  bool any_match = false;
  std::optional<std::string> not_all;  // the first all-match regex some record missed
  for (const dns::Record& r : records) {
    const std::string text = dns::RecordToString(r);
    for (const auto& [src, re] : v.matches) {
      if (re.PartialMatch(text)) return fmt::format("{} record matched \"{}\"", section, src);
    }
    for (const auto& [src, re] : v.all_match) {
      if (!not_all && !re.PartialMatch(text)) not_all = src;
    }
    for (const auto& [src, re] : v.not_matches) {
      if (!re.PartialMatch(text)) {
        return fmt::format("{} record did not match \"{}\"", section, src);
      }
    }
    for (const auto& [src, re] : v.none_matches) {
      if (!any_match && re.PartialMatch(text)) any_match = true;
    }
  }
  // blackbox fails fail_if_all_match_regexp when NOT every record matched (prober/dns.go:
  // "Not all RRs matched regexp"), whatever the option's name suggests; nines agrees with it.
  if (not_all) return fmt::format("not every {} record matched \"{}\"", section, *not_all);
  if (!v.none_matches.empty() && !any_match) {
    return fmt::format("no {} record matched {}", section, Quoted(spec.fail_if_none_matches));
  }
  return std::nullopt;
}

core::Result<CompiledValidation> Compile(std::string_view section, const DnsRecordValidation& spec) {
  CompiledValidation out;
  auto compile = [&](const char* option, const std::vector<std::string>& in,
                     std::vector<std::pair<std::string, core::Regex>>* dst) -> core::Status {
    for (const std::string& s : in) {
      core::Result<core::Regex> re = core::Regex::Compile(s);
      if (!re.ok()) {
        return core::InvalidArgumentError("{} {}: invalid regex \"{}\": {}", section, option, s,
                                          re.status().message());
      }
      dst->emplace_back(s, std::move(re).value());
    }
    return core::Status::Ok();
  };
  RETURN_IF_ERROR(compile("fail_if_matches_regexp", spec.fail_if_matches, &out.matches));
  RETURN_IF_ERROR(compile("fail_if_not_matches_regexp", spec.fail_if_not_matches, &out.not_matches));
  RETURN_IF_ERROR(compile("fail_if_all_match_regexp", spec.fail_if_all_match, &out.all_match));
  RETURN_IF_ERROR(compile("fail_if_none_matches_regexp", spec.fail_if_none_matches, &out.none_matches));
  return out;
}

class DnsProbe : public std::enable_shared_from_this<DnsProbe> {
 public:
  DnsProbe(asio::io_context& io, core::Clock& clock, std::shared_ptr<const CheckSpec> check,
           ProbeDone done)
      : clock_(clock),
        check_(std::move(check)),
        done_(std::move(done)),
        strand_(asio::make_strand(io)),
        timer_(strand_),
        resolver_(strand_),
        udp_(strand_),
        tcp_(strand_) {}

  void Start() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->Begin(); });
  }

 private:
  // Every handler runs on strand_, so the members need no lock.
  template <typename F>
  auto OnStrand(F&& f) {
    return asio::bind_executor(strand_, std::forward<F>(f));
  }

  void Begin() {
    start_ = clock_.Monotonic();
    const DnsCheckOptions& o = check_->dns;
    std::optional<uint16_t> qtype = dns::TypeFromName(o.query_type);
    if (!qtype) return Fail(fmt::format("unsupported query type \"{}\"", o.query_type));
    qtype_ = *qtype;
    for (const std::string& rc : o.valid_rcodes) {
      if (!dns::RcodeFromName(rc)) return Fail(fmt::format("unknown rcode \"{}\" in valid_rcodes", rc));
    }
    core::Result<CompiledValidation> a = Compile("answer", o.answer);
    if (!a.ok()) return Fail(a.status().message());
    core::Result<CompiledValidation> ns = Compile("authority", o.authority);
    if (!ns.ok()) return Fail(ns.status().message());
    core::Result<CompiledValidation> ar = Compile("additional", o.additional);
    if (!ar.ok()) return Fail(ar.status().message());
    validations_ = {std::move(a).value(), std::move(ns).value(), std::move(ar).value()};
    core::Result<ResolverAddress> target = SplitTarget(check_->target);
    if (!target.ok()) return Fail(target.status().message());
    target_ = std::move(target).value();

    timer_.expires_after(check_->timeout.ToChrono());
    timer_.async_wait(OnStrand([self = shared_from_this()](const error_code& ec) {
      if (ec == asio::error::operation_aborted || self->finished_) return;
      self->Fail(fmt::format("timeout after {} while {}", self->check_->timeout.ToString(),
                             self->phase_));
    }));

    error_code not_literal;
    asio::ip::address literal = asio::ip::make_address(target_.host, not_literal);
    if (!not_literal) {
      uint16_t port = 0;
      if (!ParsePort(&port)) return;
      return Resolved(literal, port);
    }
    phase_ = fmt::format("resolving {}", target_.host);
    resolver_.async_resolve(
        target_.host, target_.port,
        OnStrand([self = shared_from_this()](const error_code& ec, tcp::resolver::results_type rs) {
          self->OnResolve(ec, std::move(rs));
        }));
  }

  bool ParsePort(uint16_t* port) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(target_.port.data(), target_.port.data() + target_.port.size(), v);
    if (ec != std::errc() || p != target_.port.data() + target_.port.size() || v == 0 || v > 65535) {
      Fail(fmt::format("invalid port \"{}\"", target_.port));
      return false;
    }
    *port = static_cast<uint16_t>(v);
    return true;
  }

  void OnResolve(const error_code& ec, tcp::resolver::results_type results) {
    if (finished_) return;
    if (ec) return Fail(fmt::format("resolve {}: {}", target_.host, Lower1(ec.message())));
    const bool want6 = check_->dns.ip_preference == IpPreference::kIp6;
    std::optional<tcp::endpoint> chosen;
    for (const auto& entry : results) {
      if (entry.endpoint().address().is_v6() == want6) {
        chosen = entry.endpoint();
        break;
      }
    }
    // The other family when the preferred one has no address (blackbox's ip_protocol_fallback).
    if (!chosen && !results.empty()) chosen = results.begin()->endpoint();
    if (!chosen) return Fail(fmt::format("resolve {}: no address", target_.host));
    Resolved(chosen->address(), chosen->port());
  }

  void Resolved(const asio::ip::address& address, uint16_t port) {
    resolve_time_ = clock_.Monotonic() - start_;
    ip_protocol_ = address.is_v6() ? 6 : 4;
    server_udp_ = udp::endpoint(address, port);
    server_tcp_ = tcp::endpoint(address, port);
    id_ = RandomId();
    dns::QueryOptions q;
    q.id = id_;
    q.name = check_->dns.query_name;
    q.type = qtype_;
    q.recursion_desired = check_->dns.recursion_desired;
    core::Result<std::string> query = dns::BuildQuery(q);
    if (!query.ok()) return Fail(fmt::format("query: {}", query.status().message()));
    query_ = std::move(query).value();
    if (check_->dns.use_tcp) return StartTcp();
    StartUdp();
  }

  void StartUdp() {
    const core::Duration t0 = clock_.Monotonic();
    error_code err;
    phase_ = "connecting";
    udp_.open(server_udp_.protocol(), err);
    // A connected UDP socket only takes datagrams from the server, and reports its ICMP port
    // unreachable as ECONNREFUSED.
    if (!err) udp_.connect(server_udp_, err);
    connect_time_ += clock_.Monotonic() - t0;
    if (err) return Fail(fmt::format("connect: {}", Lower1(err.message())));
    request_start_ = clock_.Monotonic();
    phase_ = "sending the query";
    udp_.async_send(asio::buffer(query_),
                    OnStrand([self = shared_from_this()](const error_code& ec, size_t) {
                      self->OnUdpSent(ec);
                    }));
  }

  void OnUdpSent(const error_code& ec) {
    if (finished_) return;
    if (ec) return Fail(fmt::format("send: {}", Lower1(ec.message())));
    phase_ = "waiting for the response";
    buffer_.resize(dns::kMaxMessageBytes);
    udp_.async_receive(asio::buffer(buffer_),
                       OnStrand([self = shared_from_this()](const error_code& ec2, size_t n) {
                         self->OnUdpReceived(ec2, n);
                       }));
  }

  void OnUdpReceived(const error_code& ec, size_t n) {
    if (finished_) return;
    if (ec) return Fail(fmt::format("read: {}", Lower1(ec.message())));
    buffer_.resize(n);
    OnResponse(/*over_tcp=*/false);
  }

  void StartTcp() {
    const core::Duration t0 = clock_.Monotonic();
    phase_ = "connecting";
    tcp_.async_connect(server_tcp_, OnStrand([self = shared_from_this(), t0](const error_code& ec) {
      self->OnTcpConnected(ec, t0);
    }));
  }

  void OnTcpConnected(const error_code& ec, core::Duration t0) {
    if (finished_) return;
    connect_time_ += clock_.Monotonic() - t0;
    if (ec) return Fail(fmt::format("connect: {}", Lower1(ec.message())));
    tcp_request_start_ = clock_.Monotonic();
    phase_ = "sending the query";
    framed_.clear();
    framed_.push_back(static_cast<char>(query_.size() >> 8));
    framed_.push_back(static_cast<char>(query_.size() & 0xff));
    framed_ += query_;
    asio::async_write(tcp_, asio::buffer(framed_),
                      OnStrand([self = shared_from_this()](const error_code& ec2, size_t) {
                        self->OnTcpSent(ec2);
                      }));
  }

  void OnTcpSent(const error_code& ec) {
    if (finished_) return;
    if (ec) return Fail(fmt::format("write: {}", Lower1(ec.message())));
    phase_ = "waiting for the response";
    asio::async_read(tcp_, asio::buffer(length_),
                     OnStrand([self = shared_from_this()](const error_code& ec2, size_t) {
                       self->OnTcpLength(ec2);
                     }));
  }

  void OnTcpLength(const error_code& ec) {
    if (finished_) return;
    if (ec) return Fail(fmt::format("read: {}", Lower1(ec.message())));
    const size_t len = (static_cast<size_t>(length_[0]) << 8) | length_[1];
    if (len == 0) return Fail("invalid response: empty message");
    buffer_.assign(len, '\0');
    asio::async_read(tcp_, asio::buffer(buffer_),
                     OnStrand([self = shared_from_this()](const error_code& ec2, size_t) {
                       if (self->finished_) return;
                       if (ec2) return self->Fail(fmt::format("read: {}", Lower1(ec2.message())));
                       self->OnResponse(/*over_tcp=*/true);
                     }));
  }

  void OnResponse(bool over_tcp) {
    core::Result<dns::Message> parsed = dns::ParseMessage(buffer_);
    if (!parsed.ok()) return Fail(fmt::format("invalid response: {}", parsed.status().message()));
    dns::Message& m = *parsed;
    if (m.header.id != id_) {
      return Fail(fmt::format("response id mismatch (got {}, want {})", m.header.id, id_));
    }
    if (!over_tcp && m.header.tc) {
      // Truncated: the whole answer needs TCP. The UDP round trip counts as request time.
      request_time_ += clock_.Monotonic() - request_start_;
      error_code ignored;
      udp_.close(ignored);
      truncated_ = true;
      return StartTcp();
    }
    request_time_ += clock_.Monotonic() - (over_tcp ? tcp_request_start_ : request_start_);
    response_ = std::move(m);
    Judge();
  }

  void Judge() {
    const dns::Message& m = *response_;
    const std::vector<std::string>& valid = check_->dns.valid_rcodes;
    const int rcode = m.Rcode();
    bool rcode_ok = false;
    if (valid.empty()) {
      rcode_ok = rcode == 0;  // blackbox: no list means NOERROR
    } else {
      for (const std::string& v : valid) rcode_ok = rcode_ok || dns::RcodeFromName(v) == rcode;
    }
    if (!rcode_ok) {
      return Fail(fmt::format("rcode {} not in [{}]", dns::RcodeName(rcode),
                              valid.empty() ? std::string("NOERROR") : fmt::format("{}", fmt::join(valid, " "))));
    }
    const DnsCheckOptions& o = check_->dns;
    const std::array<std::tuple<std::string_view, const std::vector<dns::Record>*,
                                const DnsRecordValidation*>, 3>
        sections = {{{"answer", &m.answer, &o.answer},
                     {"authority", &m.authority, &o.authority},
                     {"additional", &m.additional, &o.additional}}};
    for (size_t i = 0; i < sections.size(); ++i) {
      const auto& [name, records, spec] = sections[i];
      if (std::optional<std::string> why = ValidateRecords(name, *records, validations_[i], *spec)) {
        return Fail(*why);
      }
    }
    Finish(true, "");
  }

  void Fail(std::string reason) { Finish(false, std::move(reason)); }

  void Finish(bool success, std::string reason) {
    if (finished_) return;
    finished_ = true;
    error_code ignored;
    timer_.cancel();
    resolver_.cancel();
    udp_.close(ignored);
    tcp_.close(ignored);
    ProbeResult r;
    r.success = success;
    r.reason = std::move(reason);
    r.duration = clock_.Monotonic() - start_;
    auto add = [&](std::string name, double value,
                   std::vector<std::pair<std::string, std::string>> labels = {}) {
      r.metrics.push_back(ProbeMetric{std::move(name), std::move(labels), value});
    };
    // Like blackbox, every gauge is there whether or not the query got an answer.
    add("probe_dns_lookup_time_seconds", resolve_time_.SecondsDouble());
    add("probe_ip_protocol", ip_protocol_);
    add("probe_dns_duration_seconds", resolve_time_.SecondsDouble(), {{"phase", "resolve"}});
    add("probe_dns_duration_seconds", connect_time_.SecondsDouble(), {{"phase", "connect"}});
    add("probe_dns_duration_seconds", request_time_.SecondsDouble(), {{"phase", "request"}});
    add("probe_dns_query_succeeded", response_ ? 1 : 0);
    add("probe_dns_answer_rrs", response_ ? static_cast<double>(response_->answer.size()) : 0);
    add("probe_dns_authority_rrs", response_ ? static_cast<double>(response_->authority.size()) : 0);
    add("probe_dns_additional_rrs", response_ ? static_cast<double>(response_->additional.size()) : 0);
    if (response_ && qtype_ == dns::kTypeSOA) {
      double serial = 0;
      for (const dns::Record& rec : response_->answer) {
        if (std::optional<uint32_t> s = dns::SoaSerial(rec)) serial = *s;
      }
      add("probe_dns_serial", serial);
    }
    ProbeDone done = std::move(done_);
    done(std::move(r));
  }

  core::Clock& clock_;
  std::shared_ptr<const CheckSpec> check_;
  ProbeDone done_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  udp::socket udp_;
  tcp::socket tcp_;

  bool finished_ = false;
  std::string phase_ = "starting";
  ResolverAddress target_;
  uint16_t qtype_ = dns::kTypeA;
  std::array<CompiledValidation, 3> validations_;
  udp::endpoint server_udp_;
  tcp::endpoint server_tcp_;
  uint16_t id_ = 0;
  std::string query_;
  std::string framed_;
  std::array<uint8_t, 2> length_{};
  std::string buffer_;
  std::optional<dns::Message> response_;
  bool truncated_ = false;
  int ip_protocol_ = 0;
  core::Duration start_;
  core::Duration resolve_time_;
  core::Duration connect_time_;
  core::Duration request_start_;
  core::Duration tcp_request_start_;
  core::Duration request_time_;
};

}  // namespace

void StartDnsProbe(asio::io_context& io, core::Clock& clock, std::shared_ptr<const CheckSpec> check,
                   ProbeDone done) {
  std::make_shared<DnsProbe>(io, clock, std::move(check), std::move(done))->Start();
}

}  // namespace nines::collector

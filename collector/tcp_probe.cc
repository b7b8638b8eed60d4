// The TCP probe (connect, optional TLS, send/expect steps: blackbox's tcp prober) and the TLS
// probe (a handshake whose certificates are the point). One class serves both: a TLS probe is a
// TCP probe with TLS on, no steps, and an expiry warning.
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "collector/probe.h"
#include "collector/probe_net.h"

namespace nines::collector {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using probe_net::error_code;
using probe_net::ErrorText;
using tcp = asio::ip::tcp;

// Data received while waiting for an `expect` regex beyond which the probe gives up: a peer
// that streams forever must not grow the buffer without bound. 64 KiB is the longest line
// blackbox's tcp prober reads (Go's bufio.Scanner); it matches line by line, nines over what
// came after the previous match, so a line blackbox accepts fits.
constexpr size_t kMaxReceiveBytes = 64 * 1024;

// What the two probe kinds share, taken from their option structs.
struct StreamOptions {
  bool tls = false;
  bool verify = true;
  std::string ca_file{};
  std::string server_name{};
  IpPreference ip_preference = IpPreference::kIp4;
  const std::vector<TcpStep>* steps = nullptr;
  std::optional<core::Duration> warn_before{};  // the TLS probe's expiry warning
};

// "host:port" or "[v6]:port" -> host, port.
bool SplitHostPort(std::string_view target, std::string* host, uint16_t* port) {
  size_t colon = target.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view h = target.substr(0, colon);
  std::string_view p = target.substr(colon + 1);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;  // an IPv6 literal needs brackets
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || ptr != p.data() + p.size() || value == 0 || value > 65535) return false;
  *host = std::string(h);
  *port = static_cast<uint16_t>(value);
  return true;
}

class StreamRun final : public probe_net::ProbeRun {
 public:
  StreamRun(asio::io_context& io, core::Clock& clock, std::shared_ptr<const CheckSpec> check,
            ProbeDone done, StreamOptions options)
      : ProbeRun(io, clock, std::move(check), std::move(done)), options_(std::move(options)) {}

 private:
  void Begin() override {
    std::string host;
    uint16_t port = 0;
    if (!SplitHostPort(check_->target, &host, &port)) {
      Finish(false, fmt::format("target \"{}\": expected host:port", check_->target));
      return;
    }
    host_ = host;
    if (options_.tls) {
      core::Result<std::shared_ptr<ssl::context>> ctx = probe_net::ClientTlsContext(
          {.verify = options_.verify, .ca_file = options_.ca_file});
      if (!ctx.ok()) {
        Finish(false, fmt::format("tls: {}", ctx.status().message()));
        return;
      }
      ctx_ = std::move(ctx).value();
    }
    Resolve(host, port, options_.ip_preference,
            [this](std::vector<tcp::endpoint> endpoints, int ip_protocol) {
              Metric("probe_dns_lookup_time_seconds", last_resolve_.SecondsDouble());
              Metric("probe_ip_protocol", ip_protocol);
              Connect(endpoints.front());
            });
  }

  void CloseAll() override {
    error_code ec;
    if (tls_) tls_->next_layer().close(ec);
    if (sock_) sock_->close(ec);
  }

  tcp::socket& Lowest() { return tls_ ? tls_->next_layer() : *sock_; }

  template <class F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*sock_);
    }
  }

  void Connect(const tcp::endpoint& endpoint) {
    SetPhase("connecting");
    if (options_.tls) {
      tls_.emplace(strand_, *ctx_);
    } else {
      sock_.emplace(strand_);
    }
    Lowest().async_connect(endpoint, Guard([this](const error_code& ec) {
      if (ec) {
        Finish(false, fmt::format("connect: {}", ErrorText(ec)));
        return;
      }
      if (options_.tls) {
        Handshake();
      } else {
        Step(0);
      }
    }));
  }

  void Handshake() {
    SetPhase("handshaking");
    probe_net::PrepareTlsClient(tls_->native_handle(),
                                options_.server_name.empty() ? host_ : options_.server_name,
                                options_.verify);
    tls_->async_handshake(ssl::stream_base::client, Guard([this](const error_code& ec) {
      if (ec) {
        Finish(false, fmt::format("tls: {}", probe_net::TlsFailure(ec, tls_->native_handle())));
        return;
      }
      std::optional<double> earliest =
          probe_net::AppendTlsMetrics(tls_->native_handle(), &result_.metrics);
      if (options_.warn_before) {
        const double left = earliest ? *earliest - clock_.Now().UnixSecondsDouble() : 0;
        Metric("probe_tls_expiry_warning", left < options_.warn_before->SecondsDouble() ? 1 : 0);
      }
      Step(0);
    }));
  }

  void Step(size_t i) {
    const std::vector<TcpStep>* steps = options_.steps;
    if (steps == nullptr || i >= steps->size()) {
      if (steps != nullptr) Metric("probe_failed_due_to_regex", 0);
      Finish(true, "");
      return;
    }
    const TcpStep& step = (*steps)[i];
    if (step.send.empty()) {
      Expect(i);
      return;
    }
    SetPhase(fmt::format("sending step {}", i + 1));
    // Blackbox's query_response sends each line followed by a newline; so do we, so that the
    // same config talks to the same servers.
    outgoing_ = step.send + "\n";
    WithStream([this, i](auto& stream) {
      asio::async_write(stream, asio::buffer(outgoing_),
                        Guard([this, i](const error_code& ec, size_t) {
                          if (ec) {
                            Finish(false, fmt::format("send: {}", ErrorText(ec)));
                            return;
                          }
                          Expect(i);
                        }));
    });
  }

  void Expect(size_t i) {
    const TcpStep& step = (*options_.steps)[i];
    if (step.expect.empty()) {
      Step(i + 1);
      return;
    }
    core::Result<core::Regex> re = probe_net::CachedRegex(step.expect);
    if (!re.ok()) {
      Metric("probe_failed_due_to_regex", 1);
      Finish(false, fmt::format("expect {}", re.status().message()));
      return;
    }
    // Each expect looks at what came after the previous match.
    std::string_view pending = std::string_view(received_).substr(consumed_);
    if (std::optional<size_t> end = re->FindEnd(pending.substr(0, kMaxReceiveBytes))) {
      consumed_ += *end;
      Step(i + 1);
      return;
    }
    if (eof_ || pending.size() >= kMaxReceiveBytes) {
      Metric("probe_failed_due_to_regex", 1);
      Finish(false, fmt::format("expect regex \"{}\" did not match{}", step.expect,
                                eof_ ? std::string(" before the connection closed")
                                     : fmt::format(" in {} bytes", kMaxReceiveBytes)));
      return;
    }
    SetPhase(fmt::format("waiting for \"{}\"", step.expect));
    WithStream([this, i](auto& stream) {
      stream.async_read_some(asio::buffer(chunk_), Guard([this, i](const error_code& ec, size_t n) {
        received_.append(chunk_.data(), n);
        if (ec) {
          if (ec != asio::error::eof && ec != ssl::error::stream_truncated) {
            Finish(false, fmt::format("read: {}", ErrorText(ec)));
            return;
          }
          eof_ = true;
        }
        Expect(i);
      }));
    });
  }

  StreamOptions options_;
  std::string host_;
  std::shared_ptr<ssl::context> ctx_;
  std::optional<tcp::socket> sock_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  std::string outgoing_;
  std::string received_;
  size_t consumed_ = 0;
  bool eof_ = false;
  std::array<char, 4096> chunk_{};
};

}  // namespace

void StartTcpProbe(boost::asio::io_context& io, core::Clock& clock,
                   std::shared_ptr<const CheckSpec> check, ProbeDone done) {
  const TcpCheckOptions& t = check->tcp;
  StreamOptions options{.tls = t.tls,
                        .verify = t.tls_verify,
                        .ca_file = t.ca_file,
                        .server_name = t.server_name,
                        .ip_preference = t.ip_preference,
                        .steps = &t.steps};
  std::make_shared<StreamRun>(io, clock, std::move(check), std::move(done), std::move(options))
      ->Start();
}

void StartTlsProbe(boost::asio::io_context& io, core::Clock& clock,
                   std::shared_ptr<const CheckSpec> check, ProbeDone done) {
  const TlsCheckOptions& t = check->tls;
  StreamOptions options{.tls = true,
                        .verify = t.tls_verify,
                        .ca_file = t.ca_file,
                        .server_name = t.server_name,
                        .ip_preference = t.ip_preference,
                        .warn_before = t.warn_before};
  std::make_shared<StreamRun>(io, clock, std::move(check), std::move(done), std::move(options))
      ->Start();
}

}  // namespace nines::collector

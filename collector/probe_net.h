// Private to collector/: what the http, tcp and tls probes share. ProbeRun is the skeleton of one
// probe (its strand, its deadline, the exactly-once `done`, resolving with an address-family
// preference); the free functions build TLS contexts and read certificates.
//
// Thread-safety: a ProbeRun is touched only from its strand (every I/O object of a probe is
// created on it, so every completion handler runs there). The caches behind CachedRegex and
// ClientTlsContext are process-wide and thread-safe.
#ifndef NINES_COLLECTOR_PROBE_NET_H_
#define NINES_COLLECTOR_PROBE_NET_H_

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/collector.h"
#include "collector/probe.h"
#include "core/clock.h"
#include "core/regex.h"
#include "core/status.h"

namespace nines::collector::probe_net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// "Connection refused" -> "connection refused": reasons read as one sentence.
std::string ErrorText(const error_code& ec);

// The compiled regex for `pattern` (RE2, which is Go's syntax: blackbox_exporter's), compiled
// once per process. Matching is linear in the input and uses no stack per character, so a body
// of any size is matched where it is. Errors: INVALID_ARGUMENT `invalid regex "P": <RE2's
// complaint>`.
core::Result<core::Regex> CachedRegex(const std::string& pattern);

struct TlsClientConfig {
  bool verify = true;
  std::string ca_file{};    // empty: the system's roots
  std::string cert_file{};  // client certificate, with key_file
  std::string key_file{};
};

// A client SSL context for `config`, shared by every probe with the same config (loading the
// system roots costs milliseconds, more than a loopback probe). A file that changes (mtime or
// size) gets a fresh context. Errors: INVALID_ARGUMENT naming the file that cannot be loaded.
core::Result<std::shared_ptr<asio::ssl::context>> ClientTlsContext(const TlsClientConfig& config);

// Before the handshake: SNI (`name` unless it is an IP literal) and, with `verify`, the name the
// peer's certificate must carry (a DNS name, or an IP address for a literal).
void PrepareTlsClient(SSL* ssl, const std::string& name, bool verify);

// Why a handshake failed, without the "tls: " prefix: OpenSSL's verify string when the chain was
// rejected ("certificate has expired"), else the error.
std::string TlsFailure(const error_code& ec, SSL* ssl);

// After a handshake: probe_ssl_earliest_cert_expiry (earliest notAfter among the certificates the
// peer sent, unix seconds), probe_ssl_last_chain_expiry_timestamp_seconds (earliest notAfter of
// the verified chain; only when it was verified) and probe_tls_version_info{version}. Returns the
// earliest expiry, or nullopt when the peer sent no certificate.
std::optional<double> AppendTlsMetrics(SSL* ssl, std::vector<ProbeMetric>* metrics);

// "TLS 1.3", as blackbox_exporter names versions.
std::string TlsVersionName(SSL* ssl);

// The skeleton every probe builds on. Subclasses implement Begin() (called on the strand) and
// CloseAll() (close every socket so that pending operations end); they report through Finish.
class ProbeRun : public std::enable_shared_from_this<ProbeRun> {
 public:
  ProbeRun(asio::io_context& io, core::Clock& clock, std::shared_ptr<const CheckSpec> check,
           ProbeDone done);
  virtual ~ProbeRun() = default;

  // Arms the deadline and posts Begin() to the strand. Call once, right after make_shared.
  void Start();

 protected:
  using Strand = asio::strand<asio::io_context::executor_type>;

  virtual void Begin() = 0;
  virtual void CloseAll() = 0;
  // Called by Finish just before `done`: a last chance to add metrics a failure skipped.
  virtual void BeforeDone() {}

  // Ends the probe; the first call wins, later ones (and handlers that run afterwards) are
  // ignored. Sets duration, success and reason, closes sockets and calls done.
  void Finish(bool success, std::string reason);
  bool finished() const { return finished_; }

  // What the probe is doing, for "timeout after 5s while <phase>".
  void SetPhase(std::string phase) { phase_ = std::move(phase); }

  // Resolves `host` (an IP literal skips the resolver) and keeps the addresses of the preferred
  // family, or the other family's when it has none (blackbox's ip_protocol_fallback). Calls
  // `then` with the endpoints (never empty) and 4 or 6; on failure finishes the probe with
  // "resolve: <error>". `took` receives the lookup time.
  void Resolve(const std::string& host, uint16_t port, IpPreference preference,
               std::function<void(std::vector<tcp::endpoint>, int ip_protocol)> then);

  // Shorthand for a metric without labels.
  void Metric(std::string name, double value) {
    result_.metrics.push_back(ProbeMetric{std::move(name), {}, value});
  }

  template <class F>
  auto Guard(F f) {
    // Every handler holds the run alive and does nothing once the probe has finished (a
    // timeout may have ended it while the operation was in flight).
    return [self = shared_from_this(), f = std::move(f)](auto&&... args) mutable {
      if (self->finished_) return;
      f(std::forward<decltype(args)>(args)...);
    };
  }

  asio::io_context& io_;
  Strand strand_;
  core::Clock& clock_;
  std::shared_ptr<const CheckSpec> check_;
  ProbeResult result_;
  core::Duration start_;
  core::Duration last_resolve_;  // lookup time of the latest Resolve

 private:
  ProbeDone done_;
  asio::steady_timer deadline_;
  tcp::resolver resolver_;
  std::string phase_ = "starting";
  bool finished_ = false;
};

}  // namespace nines::collector::probe_net

#endif  // NINES_COLLECTOR_PROBE_NET_H_

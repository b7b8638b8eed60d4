#include "collector/probe_net.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>

#include <fmt/format.h>

namespace nines::collector::probe_net {
namespace {

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// "mtime:size" of a file, so that a replaced certificate gets a fresh context; "" when absent.
std::string FileStamp(const std::string& path) {
  if (path.empty()) return "";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return fmt::format("{}.{}:{}", st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size);
}

// Why a PEM file cannot be used: the system's word when it cannot be read (Asio's error for a
// missing file is only "asio.ssl error"), else OpenSSL's.
std::string FileProblem(const std::string& path, const error_code& ec) {
  if (::access(path.c_str(), R_OK) != 0) return std::strerror(errno);
  return ec.message();
}

std::optional<double> NotAfter(X509* cert) {
  const ASN1_TIME* t = X509_get0_notAfter(cert);
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return static_cast<double>(timegm(&tm));
}

}  // namespace

std::string ErrorText(const error_code& ec) {
  std::string s = ec.message();
  if (s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
      !std::isupper(static_cast<unsigned char>(s[1]))) {
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  }
  return s;
}

core::Result<core::Regex> CachedRegex(const std::string& pattern) {
  static std::mutex mu;
  static std::map<std::string, core::Regex, std::less<>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(pattern); it != cache.end()) return it->second;
  }
  core::Result<core::Regex> re = core::Regex::Compile(pattern);
  if (!re.ok()) {
    return core::InvalidArgumentError("invalid regex \"{}\": {}", pattern, re.status().message());
  }
  std::lock_guard<std::mutex> lock(mu);
  // Patterns come from config, so the cache is bounded by the config's size.
  return cache.emplace(pattern, std::move(re).value()).first->second;
}

core::Result<std::shared_ptr<asio::ssl::context>> ClientTlsContext(const TlsClientConfig& config) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<asio::ssl::context>> cache;
  const std::string key =
      fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}", config.verify, config.ca_file, FileStamp(config.ca_file),
                  config.cert_file, FileStamp(config.cert_file), config.key_file,
                  FileStamp(config.key_file));
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3,
                   ec);
  if (config.verify) {
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
    if (config.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
      if (ec) return core::InvalidArgumentError("system CA roots: {}", ec.message());
    } else {
      ctx->load_verify_file(config.ca_file, ec);
      if (ec) {
        return core::InvalidArgumentError("ca_file {}: {}", config.ca_file,
                                          FileProblem(config.ca_file, ec));
      }
    }
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
  }
  if (!config.cert_file.empty()) {
    ctx->use_certificate_chain_file(config.cert_file, ec);
    if (ec) {
      return core::InvalidArgumentError("cert_file {}: {}", config.cert_file,
                                        FileProblem(config.cert_file, ec));
    }
    const std::string& key_path = config.key_file.empty() ? config.cert_file : config.key_file;
    ctx->use_private_key_file(key_path, asio::ssl::context::pem, ec);
    if (ec) return core::InvalidArgumentError("key_file {}: {}", key_path, FileProblem(key_path, ec));
  }
  // Old entries of a changed file stay until the process ends: a handful per rotation.
  cache.emplace(key, ctx);
  return ctx;
}

void PrepareTlsClient(SSL* ssl, const std::string& name, bool verify) {
  const bool literal = IsIpLiteral(name);
  if (!literal && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (!verify || name.empty()) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (literal) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  }
}

std::string TlsFailure(const error_code& ec, SSL* ssl) {
  if (ssl != nullptr) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) return X509_verify_cert_error_string(verify);
  }
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    return "connection closed during the handshake";
  }
  return ErrorText(ec);
}

std::string TlsVersionName(SSL* ssl) {
  switch (SSL_version(ssl)) {
    case TLS1_3_VERSION:
      return "TLS 1.3";
    case TLS1_2_VERSION:
      return "TLS 1.2";
    case TLS1_1_VERSION:
      return "TLS 1.1";
    case TLS1_VERSION:
      return "TLS 1.0";
    default:
      return "unknown";
  }
}

std::optional<double> AppendTlsMetrics(SSL* ssl, std::vector<ProbeMetric>* metrics) {
  std::optional<double> earliest;
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl); chain != nullptr) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      std::optional<double> t = NotAfter(sk_X509_value(chain, i));
      if (t && (!earliest || *t < *earliest)) earliest = t;
    }
  }
  if (earliest) metrics->push_back({"probe_ssl_earliest_cert_expiry", {}, *earliest});
  // Blackbox: the latest among the verified chains of each chain's earliest expiry. OpenSSL
  // builds one chain, so it is that chain's earliest.
  if (SSL_get_verify_result(ssl) == X509_V_OK &&
      SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE) {
    if (STACK_OF(X509)* verified = SSL_get0_verified_chain(ssl); verified != nullptr) {
      std::optional<double> chain_earliest;
      for (int i = 0; i < sk_X509_num(verified); ++i) {
        std::optional<double> t = NotAfter(sk_X509_value(verified, i));
        if (t && (!chain_earliest || *t < *chain_earliest)) chain_earliest = t;
      }
      if (chain_earliest) {
        metrics->push_back({"probe_ssl_last_chain_expiry_timestamp_seconds", {}, *chain_earliest});
      }
    }
  }
  metrics->push_back({"probe_tls_version_info", {{"version", TlsVersionName(ssl)}}, 1});
  return earliest;
}

ProbeRun::ProbeRun(asio::io_context& io, core::Clock& clock,
                   std::shared_ptr<const CheckSpec> check, ProbeDone done)
    : io_(io),
      strand_(asio::make_strand(io)),
      clock_(clock),
      check_(std::move(check)),
      done_(std::move(done)),
      deadline_(strand_),
      resolver_(strand_) {}

void ProbeRun::Start() {
  start_ = clock_.Monotonic();
  auto self = shared_from_this();
  asio::post(strand_, [self] {
    // The timer measures on steady_clock while durations use clock_.Monotonic(): the deadline is
    // a real-time bound on sockets, which a FakeClock could not advance.
    const auto timeout = std::chrono::nanoseconds(std::max<int64_t>(0, self->check_->timeout.nanos()));
    self->deadline_.expires_after(timeout);
    self->deadline_.async_wait([self](const error_code& ec) {
      if (ec || self->finished_) return;
      self->Finish(false, fmt::format("timeout after {} while {}",
                                      self->check_->timeout.ToString(), self->phase_));
    });
    self->Begin();
  });
}

void ProbeRun::Finish(bool success, std::string reason) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  resolver_.cancel();
  CloseAll();
  result_.success = success;
  result_.reason = success ? std::string() : std::move(reason);
  result_.duration = clock_.Monotonic() - start_;
  BeforeDone();
  ProbeDone done = std::move(done_);
  done_ = nullptr;
  done(std::move(result_));
}

void ProbeRun::Resolve(const std::string& host, uint16_t port, IpPreference preference,
                       std::function<void(std::vector<tcp::endpoint>, int)> then) {
  SetPhase("resolving");
  const core::Duration began = clock_.Monotonic();
  error_code ec;
  asio::ip::address literal = asio::ip::make_address(host, ec);
  if (!ec) {
    last_resolve_ = clock_.Monotonic() - began;
    then({tcp::endpoint(literal, port)}, literal.is_v6() ? 6 : 4);
    return;
  }
  resolver_.async_resolve(
      host, std::to_string(port),
      Guard([this, began, preference, host, then = std::move(then)](
                const error_code& rec, const tcp::resolver::results_type& results) {
        last_resolve_ = clock_.Monotonic() - began;
        if (rec) {
          Finish(false, fmt::format("resolve: {}", ErrorText(rec)));
          return;
        }
        std::vector<tcp::endpoint> v4, v6;
        for (const auto& entry : results) {
          (entry.endpoint().address().is_v6() ? v6 : v4).push_back(entry.endpoint());
        }
        const bool want6 = preference == IpPreference::kIp6;
        std::vector<tcp::endpoint>& first = want6 ? v6 : v4;
        std::vector<tcp::endpoint>& second = want6 ? v4 : v6;
        if (!first.empty()) {
          then(std::move(first), want6 ? 6 : 4);
        } else if (!second.empty()) {
          then(std::move(second), want6 ? 4 : 6);
        } else {
          Finish(false, fmt::format("resolve: {}: no addresses", host));
        }
      }));
}

}  // namespace nines::collector::probe_net

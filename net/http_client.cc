// HttpClient: each pooled Connection owns a private io_context, and a call drives Beast's async
// operations on it to completion in the calling thread (deadlines come from beast::tcp_stream).
// So calls never share a thread or a lock beyond the brief pool lookup, and a connection is used
// by one caller at a time.
#include "net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "net/internal.h"

namespace nines::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr uint32_t kMaxResponseHeaderBytes = 64 << 10;

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }
beast::string_view Bv(std::string_view s) { return {s.data(), s.size()}; }

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Starts an async operation with a handler that records its error, and runs `ioc` until every
// operation on it is complete. Returns the recorded error.
template <class StartOp>
error_code RunToCompletion(asio::io_context& ioc, StartOp&& start) {
  error_code result = asio::error::would_block;
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// The endpoints of url.host (an IP literal, or a name resolved within `timeout`) at url.port.
core::Result<std::vector<tcp::endpoint>> ResolveHost(const Url& url, core::Duration timeout) {
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  if (asio::ip::address addr = asio::ip::make_address(url.host, ec); !ec) {
    endpoints.emplace_back(addr, url.port);
    return endpoints;
  }
  // A throwaway io_context: Asio gives each io_context that resolves its own resolver thread,
  // which a pooled connection should not keep alive.
  asio::io_context resolve_ioc{1};
  tcp::resolver resolver(resolve_ioc);
  asio::steady_timer timer(resolve_ioc);
  bool timed_out = false;
  tcp::resolver::results_type results;
  timer.expires_after(timeout.ToChrono());
  timer.async_wait([&](error_code wec) {
    if (!wec) {
      timed_out = true;
      resolver.cancel();
    }
  });
  ec = RunToCompletion(resolve_ioc, [&](auto handler) {
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&, handler](error_code rec, tcp::resolver::results_type r) mutable {
                             results = std::move(r);
                             timer.cancel();
                             handler(rec);
                           });
  });
  if (timed_out) {
    return core::DeadlineExceededError("resolve \"{}\": timed out after {}", url.host,
                                       timeout.ToString());
  }
  if (ec) return core::UnavailableError("resolve \"{}\": {}", url.host, ec.message());
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) {
    return core::UnavailableError("resolve \"{}\": no addresses", url.host);
  }
  return endpoints;
}

}  // namespace

std::string Url::HostHeader() const {
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (default_port) return host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return internal::JoinHostPort(host, port);
}

core::Result<Url> ParseUrl(std::string_view url) {
  Url u;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return core::InvalidArgumentError("url \"{}\": missing scheme (http:// or https://)", url);
  }
  std::string_view scheme = url.substr(0, scheme_end);
  if (EqualsIgnoreCase(scheme, "http")) {
    u.scheme = "http";
    u.port = 80;
  } else if (EqualsIgnoreCase(scheme, "https")) {
    u.scheme = "https";
    u.port = 443;
  } else {
    return core::InvalidArgumentError("url \"{}\": unsupported scheme \"{}\"", url, scheme);
  }
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));
  size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return core::InvalidArgumentError("url \"{}\": userinfo is not supported", url);
  }
  if (authority.empty()) return core::InvalidArgumentError("url \"{}\": empty host", url);

  std::string_view host = authority;
  std::string_view port_text;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return core::InvalidArgumentError("url \"{}\": missing ']' after IPv6 address", url);
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return core::InvalidArgumentError("url \"{}\": unexpected \"{}\" after ']'", url, after);
      }
      port_text = after.substr(1);
    }
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return core::InvalidArgumentError("url \"{}\": empty host", url);
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return core::InvalidArgumentError("url \"{}\": bad port \"{}\"", url, port_text);
    }
    u.port = static_cast<uint16_t>(port);
  }
  u.host = std::string(host);
  if (target.empty()) {
    u.target = "/";
  } else if (target.front() == '?') {
    u.target = "/" + std::string(target);
  } else {
    u.target = std::string(target);
  }
  for (char c : u.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return core::InvalidArgumentError("url \"{}\": space or control character in path", url);
    }
  }
  return u;
}

class HttpClient::Impl {
 public:
  explicit Impl(ClientOptions options) : options_(std::move(options)) { tls_status_ = InitTls(); }

  const core::Status& tls_status() const { return tls_status_; }
  core::Result<ClientResponse> Do(const ClientRequest& request);
  size_t IdleConnections() const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& [key, conns] : idle_) n += conns.size();
    return n;
  }

 private:
  struct Connection {
    asio::io_context ioc{1};  // Declared first: the streams below must be destroyed before it.
    std::optional<beast::tcp_stream> tcp;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;

    beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }
    // False when the server has closed the connection (or sent something unasked) while it was
    // idle. TLS may legitimately have unread records (session tickets), so there only EOF counts.
    bool LooksAlive() {
      char c;
      ssize_t n = ::recv(Lowest().socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0) return false;
      if (n > 0) return tls.has_value();
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
  };

  // What went wrong in one attempt, so the caller can decide to retry.
  struct Attempt {
    core::Result<ClientResponse> result = core::UnavailableError("not attempted");
    bool stale = false;  // A reused connection failed before any response byte arrived.
  };

  core::Status InitTls();
  core::Result<std::unique_ptr<Connection>> Connect(const Url& url);
  Attempt RoundTrip(Connection& conn, const http::request<http::string_body>& req,
                    const std::string& url_text, core::Duration timeout, bool reused,
                    bool* keep_alive);
  std::unique_ptr<Connection> TakeIdle(const std::string& key);
  void PutIdle(const std::string& key, std::unique_ptr<Connection> conn);

  ClientOptions options_;
  std::optional<ssl::context> ssl_ctx_;
  core::Status tls_status_;

  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

core::Status HttpClient::Impl::InitTls() {
  ssl_ctx_.emplace(ssl::context::tls_client);
  ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  if (options_.verify_tls) {
    ssl_ctx_->set_verify_mode(ssl::verify_peer);
    if (options_.ca_file.empty()) {
      ssl_ctx_->set_default_verify_paths(ec);
      if (ec) return core::InvalidArgumentError("tls: default CA paths: {}", ec.message());
    } else {
      if (!std::ifstream(options_.ca_file).good()) {
        return core::InvalidArgumentError("tls: cannot read ca_file \"{}\"", options_.ca_file);
      }
      ssl_ctx_->load_verify_file(options_.ca_file, ec);
      if (ec) {
        return core::InvalidArgumentError("tls: ca_file \"{}\": {}", options_.ca_file,
                                          ec.message());
      }
    }
  } else {
    ssl_ctx_->set_verify_mode(ssl::verify_none);
  }
  if (options_.cert_file.empty() != options_.key_file.empty()) {
    return core::InvalidArgumentError("tls: cert_file and key_file must be set together");
  }
  if (!options_.cert_file.empty()) {
    ssl_ctx_->use_certificate_chain_file(options_.cert_file, ec);
    if (ec) {
      return core::InvalidArgumentError("tls: cert_file \"{}\": {}", options_.cert_file,
                                        ec.message());
    }
    ssl_ctx_->use_private_key_file(options_.key_file, ssl::context::pem, ec);
    if (ec) {
      return core::InvalidArgumentError("tls: key_file \"{}\": {}", options_.key_file,
                                        ec.message());
    }
  }
  return core::Status::Ok();
}

core::Result<std::unique_ptr<HttpClient::Impl::Connection>> HttpClient::Impl::Connect(
    const Url& url) {
  auto conn = std::make_unique<Connection>();
  const std::string where = internal::JoinHostPort(url.host, url.port);
  const auto timeout = options_.connect_timeout.ToChrono();

  ASSIGN_OR_RETURN(std::vector<tcp::endpoint> endpoints,
                   ResolveHost(url, options_.connect_timeout));
  error_code ec;

  if (url.scheme == "https") {
    RETURN_IF_ERROR(tls_status_);
    conn->tls.emplace(conn->ioc, *ssl_ctx_);
  } else {
    conn->tcp.emplace(conn->ioc);
  }
  beast::tcp_stream& lowest = conn->Lowest();
  lowest.expires_after(timeout);
  ec = RunToCompletion(conn->ioc, [&](auto handler) {
    lowest.async_connect(endpoints,
                         [handler](error_code cec, const tcp::endpoint&) mutable { handler(cec); });
  });
  if (ec == beast::error::timeout) {
    return core::DeadlineExceededError("connect to {}: timed out after {}", where,
                                       options_.connect_timeout.ToString());
  }
  if (ec) return core::UnavailableError("connect to {}: {}", where, ec.message());

  if (conn->tls) {
    SSL* ssl = conn->tls->native_handle();
    if (!IsIpLiteral(url.host)) SSL_set_tlsext_host_name(ssl, url.host.c_str());  // SNI
    if (options_.verify_tls) conn->tls->set_verify_callback(ssl::host_name_verification(url.host));
    ec = RunToCompletion(conn->ioc, [&](auto handler) {
      conn->tls->async_handshake(ssl::stream_base::client, handler);
    });
    if (ec == beast::error::timeout) {
      return core::DeadlineExceededError("TLS handshake with {}: timed out after {}", where,
                                         options_.connect_timeout.ToString());
    }
    if (ec) {
      std::string detail;
      if (long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
        detail = fmt::format(" ({})", X509_verify_cert_error_string(verify));
      }
      return core::UnavailableError("TLS handshake with {}: {}{}", where, ec.message(), detail);
    }
  }
  return conn;
}

HttpClient::Impl::Attempt HttpClient::Impl::RoundTrip(Connection& conn,
                                                      const http::request<http::string_body>& req,
                                                      const std::string& url_text,
                                                      core::Duration timeout, bool reused,
                                                      bool* keep_alive) {
  Attempt attempt;
  *keep_alive = false;
  auto is_stale_error = [](const error_code& ec) {
    return ec == asio::error::eof || ec == http::error::end_of_stream ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == ssl::error::stream_truncated || ec == http::error::partial_message;
  };
  auto fail = [&](const error_code& ec, std::string_view phase) {
    if (ec == beast::error::timeout) {
      attempt.result = core::DeadlineExceededError(
          "{} {}: timed out after {}", Sv(req.method_string()), url_text, timeout.ToString());
    } else if (ec == http::error::body_limit) {
      attempt.result = core::ResourceExhaustedError("{} {}: response body exceeds {} bytes",
                                                    Sv(req.method_string()), url_text,
                                                    options_.max_response_bytes);
    } else {
      attempt.result = core::UnavailableError("{} {}: {}: {}", Sv(req.method_string()), url_text,
                                              phase, ec.message());
    }
    return attempt;
  };

  conn.Lowest().expires_after(timeout.ToChrono());
  error_code ec = RunToCompletion(conn.ioc, [&](auto handler) {
    if (conn.tls) {
      http::async_write(*conn.tls, req, handler);
    } else {
      http::async_write(*conn.tcp, req, handler);
    }
  });
  if (ec) {
    attempt.stale = reused && is_stale_error(ec);
    return fail(ec, "write request");
  }

  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeaderBytes);
  parser.body_limit(options_.max_response_bytes);
  if (req.method() == http::verb::head) parser.skip(true);
  // The header first: Boost 1.74's eager response parser skips the Content-Length body_limit
  // check when header and body arrive in one read, while the header-only read reports it.
  ec = RunToCompletion(conn.ioc, [&](auto handler) {
    if (conn.tls) {
      http::async_read_header(*conn.tls, conn.buffer, parser, handler);
    } else {
      http::async_read_header(*conn.tcp, conn.buffer, parser, handler);
    }
  });
  if (!ec && !parser.is_done()) {
    ec = RunToCompletion(conn.ioc, [&](auto handler) {
      if (conn.tls) {
        http::async_read(*conn.tls, conn.buffer, parser, handler);
      } else {
        http::async_read(*conn.tcp, conn.buffer, parser, handler);
      }
    });
  }
  if (ec) {
    attempt.stale = reused && !parser.got_some() && is_stale_error(ec);
    return fail(ec, "read response");
  }
  http::response<http::string_body> res = parser.release();
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) out.headers.Add(Sv(field.name_string()), Sv(field.value()));
  out.body = std::move(res.body());
  out.reused_connection = reused;
  // A body delimited by EOF leaves nothing to reuse.
  *keep_alive = res.keep_alive() && !parser.need_eof();
  attempt.result = std::move(out);
  return attempt;
}

std::unique_ptr<HttpClient::Impl::Connection> HttpClient::Impl::TakeIdle(const std::string& key) {
  while (true) {
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = idle_.find(key);
      if (it == idle_.end() || it->second.empty()) return nullptr;
      conn = std::move(it->second.back());
      it->second.pop_back();
    }
    if (conn->LooksAlive()) return conn;
    // Closed by the server while idle: drop it (outside the lock) and try the next one.
  }
}

void HttpClient::Impl::PutIdle(const std::string& key, std::unique_ptr<Connection> conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& conns = idle_[key];
    if (conns.size() < static_cast<size_t>(std::max(options_.max_idle_per_host, 0))) {
      conns.push_back(std::move(conn));
      return;
    }
  }
  // The pool is full: `conn` closes here, outside the lock.
}

core::Result<ClientResponse> HttpClient::Impl::Do(const ClientRequest& request) {
  ASSIGN_OR_RETURN(Url url, ParseUrl(request.url));
  if (!IsToken(request.method)) {
    return core::InvalidArgumentError("request to {}: bad method \"{}\"", request.url,
                                      request.method);
  }
  if (url.scheme == "https") RETURN_IF_ERROR(tls_status_);

  http::request<http::string_body> req;
  req.method_string(Bv(request.method));
  req.target(Bv(url.target));
  req.version(11);
  req.set(http::field::host, url.HostHeader());
  req.set(http::field::user_agent, options_.user_agent);
  for (const HeaderField& f : request.headers) {
    if (EqualsIgnoreCase(f.name, "Content-Length") ||
        EqualsIgnoreCase(f.name, "Transfer-Encoding")) {
      continue;
    }
    if (f.name.find_first_of("\r\n:") != std::string::npos ||
        f.value.find_first_of("\r\n") != std::string::npos || f.name.empty()) {
      return core::InvalidArgumentError("request to {}: bad header \"{}\"", request.url, f.name);
    }
    if (EqualsIgnoreCase(f.name, "Host") || EqualsIgnoreCase(f.name, "User-Agent")) {
      req.set(Bv(f.name), Bv(f.value));
    } else {
      req.insert(Bv(f.name), Bv(f.value));
    }
  }
  req.body() = request.body;
  if (!request.body.empty() || req.method() == http::verb::post ||
      req.method() == http::verb::put || req.method() == http::verb::patch) {
    req.prepare_payload();
  }

  const std::string key = url.scheme + "://" + internal::JoinHostPort(url.host, url.port);
  const core::Duration timeout =
      request.timeout > core::Duration::Zero() ? request.timeout : options_.request_timeout;
  for (int attempt_no = 0;; ++attempt_no) {
    std::unique_ptr<Connection> conn = attempt_no == 0 ? TakeIdle(key) : nullptr;
    bool reused = conn != nullptr;
    if (!conn) {
      ASSIGN_OR_RETURN(conn, Connect(url));
    }
    bool keep_alive = false;
    Attempt attempt = RoundTrip(*conn, req, request.url, timeout, reused, &keep_alive);
    if (attempt.stale && attempt_no == 0) continue;  // Reconnect once.
    if (attempt.result.ok() && keep_alive && options_.max_idle_per_host > 0) {
      PutIdle(key, std::move(conn));
    }
    return std::move(attempt.result);
  }
}

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpClient::~HttpClient() = default;

core::Result<std::unique_ptr<HttpClient>> HttpClient::Create(ClientOptions options) {
  auto client = std::make_unique<HttpClient>(std::move(options));
  RETURN_IF_ERROR(client->impl_->tls_status());
  return client;
}

core::Result<ClientResponse> HttpClient::Do(const ClientRequest& request) {
  return impl_->Do(request);
}

size_t HttpClient::IdleConnections() const { return impl_->IdleConnections(); }

}  // namespace nines::net

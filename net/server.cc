// Server: Beast async HTTP/1.1 (optionally over TLS) on an io_context run by N threads. The
// connections are in session.cc, reading a request in request.cc (see server_impl.h).
//
// Life of a connection (a Session, one per socket, all of whose operations run on its own
// strand): [TLS handshake] -> wait for the first byte of a request ("idle") -> read the header ->
// route + authorize (before the body is read, so an unauthorized or unknown request never costs a
// body upload) -> read the body -> run the handler -> write the response -> again, or close.
// Every step runs under a beast::tcp_stream deadline (see ServerOptions for which one).
//
// Shutdown: close the acceptor, close idle sessions, flag busy ones to close after their
// response, wait for the session count to reach zero (bounded), then force-close and join.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <exception>
#include <fstream>
#include <future>

#include "core/log.h"
#include "net/server_impl.h"

namespace nines::net::internal {

using Digest = std::array<unsigned char, 32>;

struct TokenSet {
  std::vector<Digest> write;
  std::vector<Digest> admin;
};

namespace {

Digest Sha256(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

std::shared_ptr<const TokenSet> MakeTokenSet(const std::vector<std::string>& write,
                                             const std::vector<std::string>& admin) {
  auto set = std::make_shared<TokenSet>();
  for (const std::string& t : write) {
    if (!t.empty()) set->write.push_back(Sha256(t));
  }
  for (const std::string& t : admin) {
    if (!t.empty()) set->admin.push_back(Sha256(t));
  }
  return set;
}

bool FileReadable(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

std::string EndpointString(const tcp::endpoint& ep) {
  return internal::JoinHostPort(ep.address().to_string(), ep.port());
}

ServerImpl::ServerImpl(ServerOptions options, Router router, core::Clock& clock,
                       std::shared_ptr<prometheus::Registry> registry)
    : options_(std::move(options)),
      router_(std::move(router)),
      clock_(clock),
      registry_(registry ? std::move(registry) : std::make_shared<prometheus::Registry>()),
      tokens_(MakeTokenSet(options_.write_tokens, options_.admin_tokens)),
      acceptor_(asio::make_strand(ioc_)),
      accept_retry_timer_(acceptor_.get_executor()) {}

void ServerImpl::UpdateTokens(const std::vector<std::string>& write,
                              const std::vector<std::string>& admin) {
  auto set = MakeTokenSet(write, admin);
  std::lock_guard<std::mutex> lock(tokens_mu_);
  tokens_ = std::move(set);
}

bool ServerImpl::Authorized(Access access, std::string_view authorization) const {
  if (access == Access::kPublic) return true;
  std::shared_ptr<const TokenSet> tokens;
  {
    std::lock_guard<std::mutex> lock(tokens_mu_);
    tokens = tokens_;
  }
  if (tokens->write.empty() && tokens->admin.empty()) return true;  // Auth is off.
  std::string_view token;
  bool present = ParseBearer(authorization, &token);
  // Compare digests, not tokens, so that neither the time nor an early exit reveals the length
  // or a matching prefix; every configured token is compared.
  Digest digest = Sha256(token);
  int matched = 0;
  for (const Digest& d : tokens->admin) {
    matched |= CRYPTO_memcmp(d.data(), digest.data(), digest.size()) == 0;
  }
  if (access == Access::kWrite) {
    for (const Digest& d : tokens->write) {
      matched |= CRYPTO_memcmp(d.data(), digest.data(), digest.size()) == 0;
    }
  }
  return present && matched != 0;
}

void ServerImpl::Observe(std::string_view route, std::string_view method, int code,
                         core::Duration took) {
  requests_
      ->Add({{"route", std::string(route)},
             {"method", std::string(MethodLabel(method))},
             {"code", std::to_string(code)}})
      .Increment();
  auto it = durations_.find(route);
  if (it == durations_.end()) it = durations_.find(kUnmatchedRoute);
  it->second->Observe(took.SecondsDouble());
}

void ServerImpl::RemoveSession(uint64_t id) {
  open_connections_->Decrement();
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_.erase(id);
  if (sessions_.empty()) sessions_cv_.notify_all();
}

std::vector<std::shared_ptr<SessionBase>> ServerImpl::LiveSessions() {
  std::vector<std::shared_ptr<SessionBase>> live;
  std::lock_guard<std::mutex> lock(sessions_mu_);
  for (auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

core::Status ServerImpl::InitMetrics() {
  try {
    requests_ = &prometheus::BuildCounter()
                     .Name("nines_http_requests_total")
                     .Help("HTTP requests served, by route pattern, method and status code.")
                     .Register(*registry_);
    errors_ = &prometheus::BuildCounter()
                   .Name("nines_http_request_errors_total")
                   .Help(
                       "Requests that failed before a handler ran, and handler exceptions, "
                       "by reason.")
                   .Register(*registry_);
    open_connections_ = &prometheus::BuildGauge()
                             .Name("nines_http_open_connections")
                             .Help("Open HTTP connections.")
                             .Register(*registry_)
                             .Add({});
    rejected_ = &prometheus::BuildCounter()
                     .Name("nines_http_connections_rejected_total")
                     .Help("Connections refused because max_connections were open.")
                     .Register(*registry_)
                     .Add({});
    auto& durations = prometheus::BuildHistogram()
                          .Name("nines_http_request_duration_seconds")
                          .Help("Time from a request's first byte to its response written.")
                          .Register(*registry_);
    const prometheus::Histogram::BucketBoundaries buckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    for (const std::string& pattern : router_.Patterns()) {
      durations_[pattern] = &durations.Add({{"route", pattern}}, buckets);
    }
    durations_[std::string(kUnmatchedRoute)] =
        &durations.Add({{"route", std::string(kUnmatchedRoute)}}, buckets);
  } catch (const std::exception& e) {
    return core::InvalidArgumentError("registering HTTP server metrics: {}", e.what());
  }
  return core::Status::Ok();
}

core::Status ServerImpl::InitTls() {
  const TlsFiles& tls = options_.tls;
  if (!tls.enabled()) return core::Status::Ok();
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return core::InvalidArgumentError("tls: both cert_file and key_file are required");
  }
  for (const std::string* file : {&tls.cert_file, &tls.key_file}) {
    if (!FileReadable(*file)) {
      return core::InvalidArgumentError("tls: cannot read \"{}\"", *file);
    }
  }
  ssl_ctx_.emplace(ssl::context::tls_server);
  ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                        ssl::context::single_dh_use);
  error_code ec;
  ssl_ctx_->use_certificate_chain_file(tls.cert_file, ec);
  if (ec) {
    return core::InvalidArgumentError("tls: cert_file \"{}\": {}", tls.cert_file, ec.message());
  }
  ssl_ctx_->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec) {
    return core::InvalidArgumentError("tls: key_file \"{}\": {}", tls.key_file, ec.message());
  }
  if (SSL_CTX_check_private_key(ssl_ctx_->native_handle()) != 1) {
    return core::InvalidArgumentError("tls: key_file \"{}\" does not match cert_file \"{}\"",
                                      tls.key_file, tls.cert_file);
  }
  return core::Status::Ok();
}

core::Status ServerImpl::Bind() {
  ASSIGN_OR_RETURN(HostPort hp, SplitHostPort(options_.listen));
  std::string host = hp.host.empty() ? "0.0.0.0" : hp.host;
  error_code ec;
  tcp::endpoint ep;
  asio::ip::address addr = asio::ip::make_address(host, ec);
  if (!ec) {
    ep = tcp::endpoint(addr, hp.port);
  } else {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host, std::to_string(hp.port), ec);
    if (ec || results.empty()) {
      return core::InvalidArgumentError("listen \"{}\": cannot resolve \"{}\": {}", options_.listen,
                                        host, ec ? ec.message() : "no addresses");
    }
    ep = results.begin()->endpoint();
  }
  acceptor_.open(ep.protocol(), ec);
  if (ec) return core::UnavailableError("listen \"{}\": socket: {}", options_.listen, ec.message());
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_.bind(ep, ec);
  if (ec) return core::UnavailableError("listen \"{}\": bind: {}", options_.listen, ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return core::UnavailableError("listen \"{}\": listen: {}", options_.listen, ec.message());
  endpoint_ = acceptor_.local_endpoint(ec);
  if (ec) return core::UnavailableError("listen \"{}\": {}", options_.listen, ec.message());
  return core::Status::Ok();
}

void ServerImpl::AddBuiltinRoutes() {
  router_.Handle("GET", "/healthz", Access::kPublic,
                 [](const Request&) { return Response::Text(200, "ok\n"); });
  router_.Handle("GET", "/readyz", Access::kPublic, [this](const Request&) {
    return ready_.load() ? Response::Text(200, "ready\n") : Response::Text(503, "not ready\n");
  });
  router_.Handle("GET", "/metrics", Access::kPublic, [this](const Request&) {
    Response r;
    r.body = prometheus::TextSerializer().Serialize(registry_->Collect());
    r.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return r;
  });
}

core::Status ServerImpl::Init() {
  const ServerOptions& o = options_;
  if (o.threads < 1) return core::InvalidArgumentError("threads must be >= 1, got {}", o.threads);
  if (o.max_connections < 1) {
    return core::InvalidArgumentError("max_connections must be >= 1, got {}", o.max_connections);
  }
  if (o.max_header_bytes < 64) {
    return core::InvalidArgumentError("max_header_bytes must be >= 64, got {}", o.max_header_bytes);
  }
  for (auto [name, d] :
       {std::pair{"header_timeout", o.header_timeout}, std::pair{"body_timeout", o.body_timeout},
        std::pair{"idle_timeout", o.idle_timeout},
        std::pair{"shutdown_timeout", o.shutdown_timeout}}) {
    if (d <= core::Duration::Zero()) {
      return core::InvalidArgumentError("{} must be positive, got {}", name, d.ToString());
    }
  }
  AddBuiltinRoutes();
  RETURN_IF_ERROR(router_.status());
  RETURN_IF_ERROR(InitMetrics());
  RETURN_IF_ERROR(InitTls());
  RETURN_IF_ERROR(Bind());
  // A server with only public routes (an agent's) has nothing to protect.
  if (o.write_tokens.empty() && o.admin_tokens.empty() && router_.HasProtectedRoutes()) {
    LOG_WARNING("no write or admin tokens configured: write and admin endpoints are open");
  }
  return core::Status::Ok();
}

void ServerImpl::Run() {
  work_.emplace(ioc_.get_executor());
  asio::dispatch(acceptor_.get_executor(), [this] { DoAccept(); });
  threads_.reserve(options_.threads);
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] {
      // Completion handlers are written not to throw; if one does anyway, log and keep serving.
      while (true) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          LOG_ERROR("http server: exception escaped an I/O handler: {}", e.what());
        }
      }
    });
  }
  LOG_INFO("http server listening on {}{}", address(), ssl_ctx_ ? " (TLS)" : "");
}

void ServerImpl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void ServerImpl::Reject(tcp::socket& socket) {
  rejected_->Increment();
  if (!ssl_ctx_) {
    // Best effort, without blocking the accept loop: the client has usually not sent anything
    // yet, so the response fits the socket buffer and close() does not reset it.
    static const std::string kResponse = [] {
      std::string body = ErrorBody("too many connections");
      return fmt::format(
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
          "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
          body.size(), body);
    }();
    error_code ec;
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(kResponse), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
  error_code ec;
  socket.close(ec);
}

void ServerImpl::OnAccept(error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open() || stopping()) return;
    // E.g. EMFILE: back off instead of spinning.
    LOG_WARNING("http server: accept on {}: {}", address(), ec.message());
    accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
    accept_retry_timer_.async_wait([this](error_code wec) {
      if (!wec && acceptor_.is_open()) DoAccept();
    });
    return;
  }
  if (stopping()) return;  // The socket closes as it goes out of scope.
  accepted_.fetch_add(1);
  std::string remote = "unknown";
  if (auto ep = socket.remote_endpoint(ec); !ec) remote = EndpointString(ep);

  std::shared_ptr<SessionBase> session;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    if (sessions_.size() >= static_cast<size_t>(options_.max_connections)) {
      session = nullptr;
    } else {
      uint64_t id = next_session_id_++;
      session = MakeSession(this, id, std::move(remote), std::move(socket),
                            ssl_ctx_ ? &*ssl_ctx_ : nullptr);
      sessions_.emplace(id, session);
      open_connections_->Increment();
    }
  }
  if (session) {
    session->Start();
  } else {
    Reject(socket);
  }
  DoAccept();
}

void ServerImpl::Shutdown() {
  std::lock_guard<std::mutex> shutdown_lock(shutdown_mu_);
  if (shut_down_ || threads_.empty()) {
    shut_down_ = true;
    return;
  }
  shut_down_ = true;
  stopping_.store(true);

  // Acceptor operations are not thread-safe, so close it on its strand.
  std::promise<void> closed;
  asio::post(acceptor_.get_executor(), [this, &closed] {
    error_code ec;
    acceptor_.close(ec);
    accept_retry_timer_.cancel();
    closed.set_value();
  });
  closed.get_future().wait();

  for (auto& s : LiveSessions()) s->CloseIfIdle();
  bool drained;
  {
    std::unique_lock<std::mutex> lock(sessions_mu_);
    drained = sessions_cv_.wait_for(lock, options_.shutdown_timeout.ToChrono(),
                                    [this] { return sessions_.empty(); });
  }
  if (!drained) {
    auto live = LiveSessions();
    LOG_WARNING("http server: {} connections still busy after {}; closing them", live.size(),
                options_.shutdown_timeout.ToString());
    for (auto& s : live) s->ForceClose();
  }
  work_.reset();
  if (!drained) {
    // Let the closed sessions' handlers run (bounded, in case a handler never returns).
    std::unique_lock<std::mutex> lock(sessions_mu_);
    sessions_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return sessions_.empty(); });
  }
  ioc_.stop();
  for (std::thread& t : threads_) t.join();
  LOG_INFO("http server on {} stopped", address());
}

}  // namespace nines::net::internal

namespace nines::net {

Server::Server(std::unique_ptr<internal::ServerImpl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

core::Result<std::unique_ptr<Server>> Server::Start(
    ServerOptions options, Router router, core::Clock& clock,
    std::shared_ptr<prometheus::Registry> registry) {
  auto impl = std::make_unique<internal::ServerImpl>(std::move(options), std::move(router), clock,
                                                     std::move(registry));
  RETURN_IF_ERROR(impl->Init());
  impl->Run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port(); }
std::string Server::address() const { return impl_->address(); }
void Server::SetReady(bool ready) { impl_->SetReady(ready); }
void Server::UpdateTokens(std::vector<std::string> write_tokens,
                          std::vector<std::string> admin_tokens) {
  impl_->UpdateTokens(write_tokens, admin_tokens);
}
void Server::Shutdown() { impl_->Shutdown(); }
uint64_t Server::accepted_connections() const { return impl_->accepted(); }

}  // namespace nines::net

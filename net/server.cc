// Server: Beast async HTTP/1.1 (optionally over TLS) on an io_context run by N threads.
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
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <exception>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include "core/log.h"
#include "net/internal.h"
#include "net/net.h"

namespace nines::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

using Digest = std::array<unsigned char, 32>;

constexpr std::string_view kUnmatchedRoute = "unmatched";
constexpr size_t kReadChunk = 4096;
// A lingering close discards what the client still sends for at most this long / this much.
constexpr core::Duration kLingerTimeout = core::Duration::Seconds(3);
constexpr size_t kLingerMaxBytes = 64 << 20;
// How long a TLS close_notify exchange may take before the socket is just closed.
constexpr core::Duration kTlsShutdownTimeout = core::Duration::Seconds(1);

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }
beast::string_view Bv(std::string_view s) { return {s.data(), s.size()}; }

Digest Sha256(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

struct TokenSet {
  std::vector<Digest> write;
  std::vector<Digest> admin;
};

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

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

std::string EndpointString(const tcp::endpoint& ep) {
  return internal::JoinHostPort(ep.address().to_string(), ep.port());
}

bool FileReadable(const std::string& path) { return std::ifstream(path).good(); }

bool IsHttpError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

std::string ErrorBody(std::string_view reason) { return Response::Error(0, reason).body; }

// What the server answers a request whose header or body could not be read (`ec` is not a
// timeout), and the nines_http_request_errors_total reason; nullopt when there is nothing useful
// to answer (end of stream, a reset, a truncated message, a TLS error): the connection is closed.
struct ReadErrorAnswer {
  Response response;
  std::string_view reason;
};
std::optional<ReadErrorAnswer> AnswerReadError(const error_code& ec, size_t max_header_bytes,
                                               size_t max_body_bytes) {
  if (ec == http::error::body_limit) {
    return ReadErrorAnswer{
        Response::Error(413, fmt::format("request body exceeds {} bytes", max_body_bytes)),
        "body_too_large"};
  }
  if (ec == http::error::header_limit) {
    return ReadErrorAnswer{
        Response::Error(431, fmt::format("request header exceeds {} bytes", max_header_bytes)),
        "header_too_large"};
  }
  if (IsHttpError(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return ReadErrorAnswer{Response::Error(400, "bad request: " + ec.message()), "bad_request"};
  }
  return std::nullopt;
}

// A request parser with the server's limits.
void LimitParser(http::request_parser<http::string_body>* parser, size_t max_header_bytes,
                 size_t max_body_bytes) {
  parser->header_limit(static_cast<uint32_t>(
      std::min<size_t>(max_header_bytes, std::numeric_limits<uint32_t>::max())));
  parser->body_limit(max_body_bytes);
}

// The Request a handler sees for a parsed request whose target is `target` and whose
// still-encoded path (see internal::RawPathOf) is `raw_path`. remote_address and path_params
// are left to the caller.
Request MakeRequest(std::string method, std::string target, const std::string& raw_path,
                    http::request<http::string_body>* parsed) {
  Request req;
  req.method = std::move(method);
  req.target = std::move(target);
  core::Result<std::string> path = PercentDecode(raw_path, /*plus_is_space=*/false);
  req.path = path.ok() ? std::move(path).value() : raw_path;
  if (size_t q = req.target.find('?'); q != std::string::npos) {
    req.query = req.target.substr(q + 1);
    req.query = req.query.substr(0, req.query.find('#'));
  }
  for (const auto& field : *parsed) {
    req.headers.Add(Sv(field.name_string()), Sv(field.value()));
  }
  req.body = std::move(parsed->body());
  return req;
}

}  // namespace

namespace internal {

// Extracts the token from "Bearer <token>" (scheme case-insensitive). False when absent.
bool ParseBearer(std::string_view authorization, std::string_view* token) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return false;
  }
  std::string_view t = authorization.substr(kScheme.size());
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  *token = t;
  return !t.empty();
}

std::string RawPathOf(std::string_view target) {
  std::string_view raw_path = target;
  if (size_t scheme = raw_path.find("://");
      scheme != std::string_view::npos && !raw_path.empty() && raw_path.front() != '/') {
    // absolute-form (RFC 9112 3.2.2): drop "scheme://authority".
    size_t slash = raw_path.find('/', scheme + 3);
    raw_path = slash == std::string_view::npos ? std::string_view("/") : raw_path.substr(slash);
  }
  return std::string(raw_path.substr(0, raw_path.find_first_of("?#")));
}

ParsedRequest ParseRequest(std::string_view wire, size_t max_header_bytes,
                           size_t max_body_bytes) {
  ParsedRequest out;
  http::request_parser<http::string_body> parser;
  LimitParser(&parser, max_header_bytes, max_body_bytes);
  parser.eager(true);
  error_code ec;
  size_t used = 0;
  // All of `wire` is there at once: when the parser makes no progress on what is left, the
  // client has stopped sending (EOF).
  while (!parser.is_done()) {
    size_t n = parser.put(asio::buffer(wire.data() + used, wire.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) ec = {};
    if (ec) break;
    if (n == 0) {
      // As Beast's read does: EOF before any byte is the end of the stream, not a request.
      if (!parser.got_some()) {
        ec = http::error::end_of_stream;
        break;
      }
      parser.put_eof(ec);
      if (!ec && !parser.is_done()) ec = http::error::partial_message;
      break;
    }
  }
  out.consumed = used;
  if (ec) {
    if (std::optional<ReadErrorAnswer> answer =
            AnswerReadError(ec, max_header_bytes, max_body_bytes)) {
      out.error_status = answer->response.status;
      out.error = std::string(answer->reason);
    } else {
      out.error = "closed: " + ec.message();
    }
    return out;
  }
  http::request<http::string_body> parsed = parser.release();
  out.keep_alive = parsed.keep_alive();
  std::string target(Sv(parsed.target()));
  out.raw_path = RawPathOf(target);
  out.request = MakeRequest(std::string(Sv(parsed.method_string())), std::move(target),
                            out.raw_path, &parsed);
  out.ok = true;
  return out;
}

}  // namespace internal

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Both post to the session's strand and may be called from any thread.
  // Starts serving; called once, right after construction.
  virtual void Start() = 0;
  virtual void CloseIfIdle() = 0;
  virtual void ForceClose() = 0;
};

namespace internal {

class ServerImpl {
 public:
  ServerImpl(ServerOptions options, Router router, core::Clock& clock,
             std::shared_ptr<prometheus::Registry> registry)
      : options_(std::move(options)),
        router_(std::move(router)),
        clock_(clock),
        registry_(registry ? std::move(registry) : std::make_shared<prometheus::Registry>()),
        tokens_(MakeTokenSet(options_.write_tokens, options_.admin_tokens)),
        acceptor_(asio::make_strand(ioc_)),
        accept_retry_timer_(acceptor_.get_executor()) {}

  ~ServerImpl() { Shutdown(); }

  core::Status Init();
  void Run();
  void Shutdown();

  int port() const { return endpoint_.port(); }
  std::string address() const { return EndpointString(endpoint_); }
  void SetReady(bool ready) { ready_.store(ready); }
  void UpdateTokens(const std::vector<std::string>& write, const std::vector<std::string>& admin) {
    auto set = MakeTokenSet(write, admin);
    std::lock_guard<std::mutex> lock(tokens_mu_);
    tokens_ = std::move(set);
  }
  uint64_t accepted() const { return accepted_.load(); }

  // --- Used by sessions. ---
  const ServerOptions& options() const { return options_; }
  core::Clock& clock() { return clock_; }
  bool stopping() const { return stopping_.load(); }
  const Router& router() const { return router_; }
  bool Authorized(Access access, std::string_view authorization) const;
  void CountError(std::string_view reason) {
    errors_->Add({{"reason", std::string(reason)}}).Increment();
  }
  void Observe(std::string_view route, std::string_view method, int code, core::Duration took);
  void RemoveSession(uint64_t id);

 private:
  core::Status InitMetrics();
  core::Status InitTls();
  core::Status Bind();
  void AddBuiltinRoutes();
  void DoAccept();
  void OnAccept(error_code ec, tcp::socket socket);
  void Reject(tcp::socket& socket);
  std::vector<std::shared_ptr<SessionBase>> LiveSessions();

  ServerOptions options_;
  Router router_;
  core::Clock& clock_;
  std::shared_ptr<prometheus::Registry> registry_;

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Counter>* errors_ = nullptr;
  prometheus::Gauge* open_connections_ = nullptr;
  prometheus::Counter* rejected_ = nullptr;
  // One histogram per route pattern plus "unmatched"; fixed after Init, so read without a lock.
  std::map<std::string, prometheus::Histogram*, std::less<>> durations_;

  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> accepted_{0};

  mutable std::mutex tokens_mu_;
  std::shared_ptr<const TokenSet> tokens_;

  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::map<uint64_t, std::weak_ptr<SessionBase>> sessions_;
  uint64_t next_session_id_ = 0;

  std::mutex shutdown_mu_;
  bool shut_down_ = false;

  tcp::endpoint endpoint_;
  // Declared before ioc_ so that sessions destroyed with ioc_'s pending handlers still find
  // everything above (and the SSL context) alive.
  std::optional<ssl::context> ssl_ctx_;
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  std::vector<std::thread> threads_;
};

}  // namespace internal

namespace {

// One connection. Stream is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... StreamArgs>
  Session(internal::ServerImpl* server, uint64_t id, std::string remote, StreamArgs&&... args)
      : server_(server),
        id_(id),
        remote_(std::move(remote)),
        stream_(std::forward<StreamArgs>(args)...) {}

  ~Session() override { server_->RemoveSession(id_); }

  void Start() override {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      // The first request's header deadline runs from the accept and covers the handshake.
      self->Lowest().expires_after(self->server_->options().header_timeout.ToChrono());
      if constexpr (kTls) {
        self->stream_.async_handshake(ssl::stream_base::server, [self](error_code ec) {
          if (ec) {
            self->server_->CountError(ec == beast::error::timeout ? "header_timeout"
                                                                  : "tls_handshake");
            LOG_DEBUG("tls handshake with {} failed: {}", self->remote_, ec.message());
            return self->Lowest().close();
          }
          self->ReadRequest();
        });
      } else {
        self->ReadRequest();
      }
    });
  }

  void CloseIfIdle() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->Lowest().close();
    });
  }

  void ForceClose() override {
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this()] { self->Lowest().close(); });
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& opts() const { return server_->options(); }

  void ReadRequest() {
    if (server_->stopping()) return Close();
    parser_.emplace();
    LimitParser(&*parser_, opts().max_header_bytes, opts().max_body_bytes);
    route_ = nullptr;
    route_label_ = kUnmatchedRoute;
    method_.clear();
    target_.clear();
    if (buffer_.size() > 0) {  // A pipelined request is already here.
      request_start_ = server_->clock().Monotonic();
      if (!first_request_) Lowest().expires_after(opts().header_timeout.ToChrono());
      return ReadHeader();
    }
    idle_ = true;
    if (!first_request_) Lowest().expires_after(opts().idle_timeout.ToChrono());
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
        [self = this->shared_from_this()](error_code ec, size_t n) { self->OnFirstBytes(ec, n); });
  }

  void OnFirstBytes(error_code ec, size_t n) {
    idle_ = false;
    if (ec) {
      if (ec == beast::error::timeout && first_request_) server_->CountError("header_timeout");
      return Close();
    }
    buffer_.commit(n);
    request_start_ = server_->clock().Monotonic();
    if (!first_request_) Lowest().expires_after(opts().header_timeout.ToChrono());
    ReadHeader();
  }

  void ReadHeader() {
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec, /*in_body=*/false);
    const auto& header = parser_->get();
    method_ = std::string(Sv(header.method_string()));
    target_ = std::string(Sv(header.target()));
    version_ = header.version();

    // Route and authorize before reading the body.
    raw_path_ = internal::RawPathOf(target_);
    match_ = server_->router().Find(method_, raw_path_);
    switch (match_.kind) {
      case Router::Match::Kind::kNotFound:
        return Respond(Response::Error(404, "not found"), CloseIfBodyPending());
      case Router::Match::Kind::kMethodNotAllowed: {
        Response r = Response::Error(405, "method not allowed");
        r.headers.Set("Allow", match_.allow);
        return Respond(std::move(r), CloseIfBodyPending());
      }
      case Router::Match::Kind::kFound:
        break;
    }
    route_ = match_.route;
    route_label_ = route_->pattern;
    if (!server_->Authorized(route_->access, Sv(header[http::field::authorization]))) {
      Response r = Response::Error(401, "unauthorized");
      r.headers.Set("WWW-Authenticate", R"(Bearer realm="nines")");
      return Respond(std::move(r), CloseIfBodyPending());
    }
    if (parser_->is_done()) return OnRequest();
    Lowest().expires_after(opts().body_timeout.ToChrono());
    if (version_ >= 11 && EqualsIgnoreCase(Sv(header[http::field::expect]), "100-continue")) {
      continue_.emplace(http::status::continue_, version_);
      return http::async_write(stream_, *continue_,
                               [self = this->shared_from_this()](error_code wec, size_t) {
                                 if (wec) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  bool CloseIfBodyPending() const { return !parser_->is_done(); }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec, /*in_body=*/true);
                       self->OnRequest();
                     });
  }

  void OnReadError(error_code ec, bool in_body) {
    if (ec == beast::error::timeout) {
      server_->CountError(in_body ? "body_timeout" : "header_timeout");
      return Close();  // tcp_stream has closed the socket already.
    }
    if (std::optional<ReadErrorAnswer> answer =
            AnswerReadError(ec, opts().max_header_bytes, opts().max_body_bytes)) {
      server_->CountError(answer->reason);
      return Respond(std::move(answer->response), /*close=*/true);
    }
    // EOF, reset, a truncated message, a TLS error: nothing useful to answer.
    Close();
  }

  void OnRequest() {
    http::request<http::string_body> breq = parser_->release();
    Request req = MakeRequest(method_, target_, raw_path_, &breq);
    req.remote_address = remote_;
    req.path_params = std::move(match_.path_params);

    Response res;
    try {
      res = route_->handler(req);
    } catch (const std::exception& e) {
      LOG_ERROR("handler for {} {} threw: {}", method_, route_->pattern, e.what());
      server_->CountError("handler_exception");
      res = Response::Error(500, "internal error");
    } catch (...) {
      LOG_ERROR("handler for {} {} threw a non-std exception", method_, route_->pattern);
      server_->CountError("handler_exception");
      res = Response::Error(500, "internal error");
    }
    Respond(std::move(res), /*close=*/!breq.keep_alive());
  }

  // Writes `r`; afterwards reads the next request unless `close` or the server is stopping.
  void Respond(Response r, bool close) {
    close = close || server_->stopping();
    if (r.status < 200 || r.status > 599) {
      LOG_ERROR("handler for {} {} returned status {}; sending 500", method_, route_label_,
                r.status);
      r = Response::Error(500, "internal error");
    }
    status_ = r.status;
    res_.emplace();
    res_->result(static_cast<unsigned>(r.status));
    res_->version(version_ == 10 ? 10 : 11);
    res_->set(http::field::server, "nines/" NINES_VERSION);
    for (const HeaderField& f : r.headers) {
      if (f.name.empty() || HasCrLf(f.name) || HasCrLf(f.value) ||
          EqualsIgnoreCase(f.name, "Content-Length") ||
          EqualsIgnoreCase(f.name, "Transfer-Encoding") || EqualsIgnoreCase(f.name, "Connection")) {
        if (HasCrLf(f.name) || HasCrLf(f.value)) {
          LOG_ERROR("dropping response header \"{}\" with CR/LF from {}", f.name, route_label_);
        }
        continue;
      }
      res_->insert(Bv(f.name), Bv(f.value));
    }
    res_->keep_alive(!close);
    body_bytes_ = r.body.size();
    if (r.status == 204 || r.status == 304) {
      body_bytes_ = 0;
    } else if (method_ == "HEAD") {
      res_->content_length(r.body.size());
    } else {
      res_->body() = std::move(r.body);
      res_->prepare_payload();
    }
    close_after_write_ = close;
    Lowest().expires_after(opts().body_timeout.ToChrono());
    http::async_write(stream_, *res_, [self = this->shared_from_this()](error_code ec, size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(error_code ec) {
    core::Duration took = server_->clock().Monotonic() - request_start_;
    server_->Observe(route_label_, method_, status_, took);
    if (opts().access_log) {
      // Successful writes (remote write: a batch every second or so from every sender) would
      // drown everything else at info; they are routine, and counted in the route's metrics.
      const bool routine = status_ < 400 && route_ != nullptr && route_->access == Access::kWrite;
      const core::LogLevel level = routine ? core::LogLevel::kDebug : core::LogLevel::kInfo;
      if (level >= core::GetLogLevel()) {
        core::LogLine(level, __FILE__, __LINE__,
                      fmt::format("{} {} {} {} {}B {:.3f}ms", remote_,
                                  method_.empty() ? "-" : method_, target_.empty() ? "-" : target_,
                                  status_, body_bytes_, took.SecondsDouble() * 1e3));
      }
    }
    res_.reset();
    if (ec) return Close();
    if (close_after_write_) return GracefulClose();
    first_request_ = false;
    ReadRequest();
  }

  void GracefulClose() {
    if constexpr (kTls) {
      Lowest().expires_after(kTlsShutdownTimeout.ToChrono());
      stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->Close(); });
    } else {
      error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return Close();
      // Lingering close: a client may still be sending (a body we refused with 413, say).
      // Closing now would reset the connection and destroy the response it has not read yet,
      // so discard what it sends until it closes, for a bounded time and byte count.
      Lowest().expires_after(kLingerTimeout.ToChrono());
      Linger(0);
    }
  }

  void Linger(size_t drained) {
    if (drained >= kLingerMaxBytes) return Close();
    Lowest().async_read_some(
        asio::buffer(linger_buffer_),
        [self = this->shared_from_this(), drained](error_code ec, size_t n) {
          if (ec) return self->Close();  // EOF, reset or the linger deadline
          self->Linger(drained + n);
        });
  }

  void Close() { Lowest().close(); }

  internal::ServerImpl* server_;
  uint64_t id_;
  std::string remote_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> res_;

  std::array<char, 16384> linger_buffer_;
  bool idle_ = false;
  bool first_request_ = true;
  bool close_after_write_ = false;
  unsigned version_ = 11;
  std::string method_;
  std::string target_;
  std::string raw_path_;
  Router::Match match_;
  const Router::Route* route_ = nullptr;
  std::string route_label_{kUnmatchedRoute};
  int status_ = 0;
  size_t body_bytes_ = 0;
  core::Duration request_start_;
};

}  // namespace

bool internal::ServerImpl::Authorized(Access access, std::string_view authorization) const {
  if (access == Access::kPublic) return true;
  std::shared_ptr<const TokenSet> tokens;
  {
    std::lock_guard<std::mutex> lock(tokens_mu_);
    tokens = tokens_;
  }
  if (tokens->write.empty() && tokens->admin.empty()) return true;  // Auth is off.
  std::string_view token;
  bool present = internal::ParseBearer(authorization, &token);
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

void internal::ServerImpl::Observe(std::string_view route, std::string_view method, int code,
                                   core::Duration took) {
  requests_
      ->Add({{"route", std::string(route)},
             {"method", std::string(internal::MethodLabel(method))},
             {"code", std::to_string(code)}})
      .Increment();
  auto it = durations_.find(route);
  if (it == durations_.end()) it = durations_.find(kUnmatchedRoute);
  it->second->Observe(took.SecondsDouble());
}

void internal::ServerImpl::RemoveSession(uint64_t id) {
  open_connections_->Decrement();
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_.erase(id);
  if (sessions_.empty()) sessions_cv_.notify_all();
}

std::vector<std::shared_ptr<SessionBase>> internal::ServerImpl::LiveSessions() {
  std::vector<std::shared_ptr<SessionBase>> live;
  std::lock_guard<std::mutex> lock(sessions_mu_);
  for (auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

core::Status internal::ServerImpl::InitMetrics() {
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

core::Status internal::ServerImpl::InitTls() {
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

core::Status internal::ServerImpl::Bind() {
  ASSIGN_OR_RETURN(internal::HostPort hp, internal::SplitHostPort(options_.listen));
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

void internal::ServerImpl::AddBuiltinRoutes() {
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

core::Status internal::ServerImpl::Init() {
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

void internal::ServerImpl::Run() {
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

void internal::ServerImpl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void internal::ServerImpl::Reject(tcp::socket& socket) {
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

void internal::ServerImpl::OnAccept(error_code ec, tcp::socket socket) {
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
      if (ssl_ctx_) {
        auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            this, id, std::move(remote), std::move(socket), *ssl_ctx_);
        session = s;
      } else {
        auto s = std::make_shared<Session<beast::tcp_stream>>(this, id, std::move(remote),
                                                              std::move(socket));
        session = s;
      }
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

void internal::ServerImpl::Shutdown() {
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

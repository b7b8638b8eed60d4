// One HTTP connection (see server_impl.h): a Session per socket, all of whose operations run on
// its own strand. [TLS handshake] -> wait for the first byte of a request ("idle") -> read the
// header -> route + authorize (before the body is read, so an unauthorized or unknown request
// never costs a body upload) -> read the body -> run the handler -> write the response -> again,
// or close. Every step runs under a beast::tcp_stream deadline (see ServerOptions for which one).
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/ssl.hpp>
#include <exception>
#include <type_traits>

#include "core/log.h"
#include "net/server_impl.h"

namespace nines::net::internal {
namespace {

constexpr size_t kReadChunk = 4096;
// A lingering close discards what the client still sends for at most this long / this much.
constexpr core::Duration kLingerTimeout = core::Duration::Seconds(3);
constexpr size_t kLingerMaxBytes = 64 << 20;
// How long a TLS close_notify exchange may take before the socket is just closed.
constexpr core::Duration kTlsShutdownTimeout = core::Duration::Seconds(1);

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// One connection. Stream is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... StreamArgs>
  Session(ServerImpl* server, uint64_t id, std::string remote, StreamArgs&&... args)
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
    raw_path_ = RawPathOf(target_);
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
    Lowest().async_read_some(asio::buffer(linger_buffer_),
                             [self = this->shared_from_this(), drained](error_code ec, size_t n) {
                               if (ec) return self->Close();  // EOF, reset or the linger deadline
                               self->Linger(drained + n);
                             });
  }

  void Close() { Lowest().close(); }

  ServerImpl* server_;
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

std::shared_ptr<SessionBase> MakeSession(ServerImpl* server, uint64_t id, std::string remote,
                                         tcp::socket socket, ssl::context* ssl_ctx) {
  if (ssl_ctx != nullptr) {
    return std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
        server, id, std::move(remote), std::move(socket), *ssl_ctx);
  }
  return std::make_shared<Session<beast::tcp_stream>>(server, id, std::move(remote),
                                                      std::move(socket));
}

}  // namespace nines::net::internal

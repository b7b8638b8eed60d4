// Private to net/: the HTTP server's implementation, shared by the files that make it up:
//
//   server.cc   ServerImpl: options, bind, TLS context, accept loop, authorization, metrics,
//               shutdown; and the public Server that wraps it
//   session.cc  one connection (Session): read a request, route, authorize, run the handler,
//               write the response, keep alive or close
//   request.cc  turning Beast's parsed request into a Request, the answers to unreadable
//               requests, and internal::ParseRequest (the same steps on bytes, for the fuzzer)
//
// It includes Beast, Asio and OpenSSL, so no public header includes it (net/net.h forward-declares
// ServerImpl).
//
// Thread-safety: ServerImpl's methods are safe from any thread unless noted; a Session's run on
// its own strand. Ownership: ServerImpl owns the io_context and the threads that run it; sessions
// are owned by their pending operations (shared_ptr) and tracked by ServerImpl through weak_ptrs.
#ifndef NINES_NET_SERVER_IMPL_H_
#define NINES_NET_SERVER_IMPL_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/internal.h"
#include "net/net.h"

namespace nines::net::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// The route label of requests that matched no route.
constexpr std::string_view kUnmatchedRoute = "unmatched";

inline std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }
inline beast::string_view Bv(std::string_view s) { return {s.data(), s.size()}; }

// "host:port" of `ep`.
std::string EndpointString(const tcp::endpoint& ep);

// ---- request.cc ----

// The JSON body of an error response with `reason`.
std::string ErrorBody(std::string_view reason);

// What the server answers a request whose header or body could not be read (`ec` is not a
// timeout), and the nines_http_request_errors_total reason; nullopt when there is nothing useful
// to answer (end of stream, a reset, a truncated message, a TLS error): the connection is closed.
struct ReadErrorAnswer {
  Response response;
  std::string_view reason;
};
std::optional<ReadErrorAnswer> AnswerReadError(const error_code& ec, size_t max_header_bytes,
                                               size_t max_body_bytes);

// A request parser with the server's limits.
void LimitParser(http::request_parser<http::string_body>* parser, size_t max_header_bytes,
                 size_t max_body_bytes);

// The Request a handler sees for a parsed request whose target is `target` and whose
// still-encoded path (see RawPathOf) is `raw_path`; takes the body of `*parsed`. remote_address
// and path_params are left to the caller.
Request MakeRequest(std::string method, std::string target, const std::string& raw_path,
                    http::request<http::string_body>* parsed);

// ---- session.cc ----

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Both post to the session's strand and may be called from any thread.
  // Starts serving; called once, right after construction.
  virtual void Start() = 0;
  virtual void CloseIfIdle() = 0;
  virtual void ForceClose() = 0;
};

class ServerImpl;

// A new connection's session, over TLS when `ssl_ctx` is not null (which then outlives it);
// Start() it to serve. REQUIRES: `server` outlives the session.
std::shared_ptr<SessionBase> MakeSession(ServerImpl* server, uint64_t id, std::string remote,
                                         tcp::socket socket, ssl::context* ssl_ctx);

// ---- server.cc ----

// The SHA-256 digests of the write and admin tokens (server.cc).
struct TokenSet;

class ServerImpl {
 public:
  ServerImpl(ServerOptions options, Router router, core::Clock& clock,
             std::shared_ptr<prometheus::Registry> registry);

  ~ServerImpl() { Shutdown(); }

  core::Status Init();
  void Run();
  void Shutdown();

  int port() const { return endpoint_.port(); }
  std::string address() const { return EndpointString(endpoint_); }
  void SetReady(bool ready) { ready_.store(ready); }
  void UpdateTokens(const std::vector<std::string>& write, const std::vector<std::string>& admin);
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

}  // namespace nines::net::internal

#endif  // NINES_NET_SERVER_IMPL_H_

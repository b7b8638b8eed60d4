// net: nines' HTTP server: request/response types, a router with bearer-token access levels, and
// a Beast-based HTTP/1.1 server with limits, timeouts, optional TLS and its own metrics.
//
// Thread-safety: Headers, Request, Response and Router are plain values (thread-compatible). A
// Router is configured before it is handed to Server::Start and never changes afterwards. Server
// is thread-safe: SetReady, UpdateTokens and Shutdown may be called from any thread.
//
// Handlers run synchronously on the server's I/O threads (ServerOptions::threads of them), so a
// handler that blocks holds one thread; a handler must return eventually (Shutdown waits for it).
// An exception escaping a handler becomes a 500 response; it never reaches the server.
//
// Example:
//   net::Router router;
//   router.Handle("GET", "/api/v1/label/{name}/values", net::Access::kPublic,
//                 [](const net::Request& req) {
//                   return net::Response::Json(200, LabelValues(req.PathParam("name")));
//                 });
//   ASSIGN_OR_RETURN(auto server, net::Server::Start(options, std::move(router),
//                                                    core::RealClock(), registry));
//   ...
//   server->Shutdown();
#ifndef NINES_NET_NET_H_
#define NINES_NET_NET_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/time.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::net {

namespace internal {
class ServerImpl;
}  // namespace internal

struct HeaderField {
  std::string name{};
  std::string value{};
};

// An ordered list of HTTP header fields with case-insensitive names. Repeated names are kept
// (Add) in the order they were added.
class Headers {
 public:
  Headers() = default;
  Headers(std::initializer_list<HeaderField> fields) : fields_(fields) {}

  // The value of the first field named `name`, or "" when absent. The view lives until this
  // object is next modified.
  std::string_view Get(std::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string_view> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const;

  // Replaces every field named `name` with one field.
  void Set(std::string_view name, std::string_view value);
  // Appends a field, keeping existing ones of the same name.
  void Add(std::string_view name, std::string_view value);
  // Removes every field named `name`.
  void Remove(std::string_view name);

  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  std::vector<HeaderField>::const_iterator begin() const { return fields_.begin(); }
  std::vector<HeaderField>::const_iterator end() const { return fields_.end(); }

 private:
  std::vector<HeaderField> fields_;
};

// ASCII case-insensitive equality, as HTTP field names and other case-insensitive tokens compare.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Decodes %XX escapes; with `plus_is_space` (query strings and forms) '+' becomes ' '.
// Errors: INVALID_ARGUMENT for a truncated or non-hex escape.
core::Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Splits "a=1&b=x%20y&c" into decoded pairs ("c" has an empty value). Malformed escapes are kept
// verbatim rather than failing, as browsers and Go's net/url do for lenient parsing.
std::vector<std::pair<std::string, std::string>> ParseQueryString(std::string_view query);

// One HTTP request as a handler sees it. The server fills every field. (Here and below, every
// field has a default member initializer so that designated initializers may omit any.)
struct Request {
  std::string method{};  // As sent, e.g. "GET"; HEAD requests routed to GET keep "HEAD".
  std::string target{};  // The raw request-target: "/api/v1/query?query=up".
  std::string path{};    // The target's path, percent-decoded: "/api/v1/query".
  std::string query{};   // The raw query string without '?': "query=up".
  Headers headers{};
  std::string body{};
  std::string remote_address{};  // The peer, "127.0.0.1:51234" or "[::1]:51234".
  // Values of the route pattern's `{name}` segments, percent-decoded.
  std::map<std::string, std::string, std::less<>> path_params{};

  // The first value of query parameter `name` (decoded), or "" when absent.
  std::string QueryParam(std::string_view name) const;
  // Every value of query parameter `name`, in order (e.g. repeated `match[]=`).
  std::vector<std::string> QueryParams(std::string_view name) const;
  // The value of the route's `{name}` segment, or "" when the pattern has no such segment.
  std::string_view PathParam(std::string_view name) const;
  // Like Go's Request.FormValue: the first value of `name` from an
  // application/x-www-form-urlencoded body, else from the query string, else "".
  std::string FormValue(std::string_view name) const;
  // Every value of `name` from the form body followed by those from the query string.
  std::vector<std::string> FormValues(std::string_view name) const;
};

// What a handler returns. The server adds Content-Length (and Connection when it closes).
struct Response {
  int status = 200;
  Headers headers{};
  std::string body{};

  // `body` with Content-Type "text/plain; charset=utf-8".
  static Response Text(int status, std::string body);
  // `body` (already JSON) with Content-Type "application/json".
  static Response Json(int status, std::string body);
  // {"status":"error","error":"<reason>"} with `reason` JSON-escaped, as the Prometheus HTTP API
  // reports errors.
  static Response Error(int status, std::string_view reason);
};

using Handler = std::function<Response(const Request&)>;

// Who may call a route. Admin tokens also satisfy kWrite routes.
//
// Auth is off (every route is open) only when no token of either kind is configured; the server
// logs a warning at Start then. Once any token is configured it fails closed: kWrite routes need a
// write or admin token and kAdmin routes need an admin token (so with only write tokens
// configured, admin routes reject everyone).
enum class Access { kPublic, kWrite, kAdmin };

// Maps (method, path) to a handler. Patterns are absolute paths matched exactly, segment by
// segment, where a segment written `{name}` matches any one non-empty segment and captures it
// (decoded) into Request::path_params. Where several patterns match a path, the more specific
// wins: at the first segment where they differ, a literal beats a `{name}`.
//
// A path that matches no pattern is answered 404; one whose patterns lack the method, 405 with an
// Allow header. HEAD is served by a GET route unless a HEAD route exists (the body is dropped,
// its Content-Length kept).
class Router {
 public:
  Router() = default;

  // Registers `handler` for `method` (case-sensitive, e.g. "GET") on `pattern`.
  // Registration errors (a pattern not starting with '/', an empty or malformed `{}` segment, a
  // duplicate name in one pattern, a duplicate (method, pattern), an empty method, a null
  // handler) do not stop later calls; the first one is kept in status() and makes
  // Server::Start fail.
  void Handle(std::string_view method, std::string_view pattern, Access access, Handler handler);

  // OK, or the first registration error.
  const core::Status& status() const { return status_; }

  struct Route {
    std::string method;
    std::string pattern;
    Access access = Access::kPublic;
    Handler handler;
  };

  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    // kFound: the route; it lives as long as the Router, which must not be changed meanwhile.
    const Route* route = nullptr;
    // kFound: the captured `{name}` segments, decoded.
    std::map<std::string, std::string, std::less<>> path_params;
    // kMethodNotAllowed: the methods the path supports, sorted, comma-separated ("GET, HEAD").
    std::string allow;
  };

  // Resolves `raw_path` (the request-target's path, still percent-encoded, so that "%2F" inside
  // a `{name}` segment does not split it). A segment with a bad escape matches nothing.
  Match Find(std::string_view method, std::string_view raw_path) const;

  // Every registered route pattern, deduplicated, in registration order.
  std::vector<std::string> Patterns() const;

  // Whether any route needs a write or admin token.
  bool HasProtectedRoutes() const;

 private:
  struct Segment {
    bool is_param = false;
    std::string text;  // The literal, or the parameter's name.
  };
  struct PatternEntry {
    std::string pattern;
    std::vector<Segment> segments;
    std::vector<Route> routes;  // One per method.
  };

  void SetError(core::Status status);

  std::vector<PatternEntry> patterns_;
  core::Status status_;
};

struct TlsFiles {
  // PEM files: the certificate chain (leaf first) and its private key. Both empty: plain HTTP.
  std::string cert_file{};
  std::string key_file{};
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

struct ServerOptions {
  // "host:port", "[::1]:port" or ":port" (all IPv4 interfaces). Port 0 picks a free port (see
  // Server::port()). A host name is resolved once, at Start.
  std::string listen = "127.0.0.1:9099";
  // I/O threads; handlers run on them. REQUIRES: >= 1.
  int threads = 2;
  // Open connections above this are refused: a plain-HTTP client gets a best-effort
  // "503 too many connections" and the connection is closed; a TLS client is closed at once.
  int max_connections = 1024;
  // A larger request body is answered 413 and the connection closed.
  size_t max_body_bytes = 16 << 20;
  // A larger request line plus header is answered 431 and the connection closed.
  size_t max_header_bytes = 16 << 10;
  // The whole request header must arrive within this, counted from the connection's accept (first
  // request) or from the request's first byte (later ones); else the connection is closed.
  core::Duration header_timeout = core::Duration::Seconds(10);
  // The request body must arrive, and the response be written, within this.
  core::Duration body_timeout = core::Duration::Seconds(30);
  // A keep-alive connection with no new request for this long is closed.
  core::Duration idle_timeout = core::Duration::Seconds(60);
  // Shutdown() waits this long for in-flight requests before closing their connections.
  core::Duration shutdown_timeout = core::Duration::Seconds(10);
  // When enabled, the listener serves only TLS.
  TlsFiles tls{};
  // Bearer tokens for Access::kWrite and Access::kAdmin routes; see Access for the rules.
  std::vector<std::string> write_tokens{};
  std::vector<std::string> admin_tokens{};
  // One log line per request: remote, method, target, status, bytes, duration. At info, except
  // successful (< 400) requests to Access::kWrite routes, which are routine (remote write) and
  // logged at debug.
  bool access_log = false;
};

// The HTTP server. Besides the router's routes it serves
//   GET /healthz  200 "ok"
//   GET /readyz   200 "ready" after SetReady(true), else 503 "not ready" (the initial state)
//   GET /metrics  the registry in Prometheus text format 0.0.4
// and registers in the registry: nines_http_requests_total{route,method,code},
// nines_http_request_duration_seconds{route}, nines_http_open_connections,
// nines_http_connections_rejected_total and nines_http_request_errors_total{reason}. The route
// label is the matched pattern, or "unmatched", so its cardinality is bounded by the router.
class Server {
 public:
  // Binds options.listen and starts serving on options.threads threads. `clock` (for latency)
  // must outlive the server. `registry` may be null (the server then uses a private one).
  // Errors: INVALID_ARGUMENT for a bad listen address, bad options, a bad route or unusable
  // TLS files (naming the file); ALREADY_EXISTS for a route registered twice, including one of
  // the built-in routes (GET /healthz, /readyz, /metrics); UNAVAILABLE when the address cannot be
  // bound (e.g. in use).
  static core::Result<std::unique_ptr<Server>> Start(
      ServerOptions options, Router router, core::Clock& clock,
      std::shared_ptr<prometheus::Registry> registry);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Calls Shutdown().
  ~Server();

  // The bound port (the chosen one when options.listen asked for port 0).
  int port() const;
  // The bound address, "127.0.0.1:40123" or "[::1]:40123".
  std::string address() const;

  // Sets what /readyz answers.
  void SetReady(bool ready);
  // Replaces the bearer tokens (e.g. on SIGHUP); requests read after it returns use the new ones.
  void UpdateTokens(std::vector<std::string> write_tokens, std::vector<std::string> admin_tokens);

  // Graceful stop: closes the listener (new connections are refused), closes idle keep-alive
  // connections, lets requests in flight finish and answers them with "Connection: close" (for up
  // to options.shutdown_timeout; then closes their connections), and joins the I/O threads.
  // Idempotent; blocks until done. REQUIRES: not called from a handler.
  void Shutdown();

  // Connections accepted since Start (including refused ones). For tests and debugging.
  uint64_t accepted_connections() const;

 private:
  explicit Server(std::unique_ptr<internal::ServerImpl> impl);
  std::unique_ptr<internal::ServerImpl> impl_;
};

}  // namespace nines::net

#endif  // NINES_NET_NET_H_

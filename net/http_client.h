// HttpClient: a blocking HTTP/1.1 client with keep-alive pooling, deadlines and TLS.
//
// Thread-safety: HttpClient is thread-safe; concurrent Do() calls use separate connections (the
// pool hands each idle connection to one caller). Url, ClientRequest and ClientResponse are plain
// values. An HttpClient owns its pooled connections and closes them when destroyed.
//
// Example:
//   net::HttpClient client(net::ClientOptions{});
//   ASSIGN_OR_RETURN(net::ClientResponse res,
//                    client.Do({.method = "GET", .url = "https://api.example.com/healthz"}));
//   if (res.status != 200) ...
#ifndef NINES_NET_HTTP_CLIENT_H_
#define NINES_NET_HTTP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "net/net.h"

namespace nines::net {

struct ClientOptions {
  // Bounds name resolution, and then the TCP connect plus TLS handshake, each. (A resolver call
  // that ignores cancellation, e.g. a hung getaddrinfo, can outlast it.)
  core::Duration connect_timeout = core::Duration::Seconds(5);
  // Bounds writing the request and reading the whole response, per attempt.
  core::Duration request_timeout = core::Duration::Seconds(30);
  // Idle keep-alive connections kept per scheme://host:port; 0 disables reuse.
  int max_idle_per_host = 4;
  // Verify the server's certificate chain and that it names the URL's host (DNS name or IP).
  bool verify_tls = true;
  // PEM file of trusted CAs; "" uses the system's default paths.
  std::string ca_file{};
  // A client certificate (chain) and its key, PEM, for mutual TLS; both or neither.
  std::string cert_file{};
  std::string key_file{};
  // A larger response body fails the request with RESOURCE_EXHAUSTED.
  size_t max_response_bytes = 64 << 20;
  // Sent as User-Agent unless the request sets one.
  std::string user_agent = "nines/" NINES_VERSION;
};

struct Url {
  std::string scheme{};  // "http" or "https".
  std::string host{};    // Without brackets: "example.com", "127.0.0.1", "::1".
  uint16_t port = 0;     // Explicit, or the scheme's default (80, 443).
  std::string target{};  // Path and query, at least "/": "/api/v1/query?query=up".
  // "host[:port]" for the Host header: the port is left out when it is the default.
  std::string HostHeader() const;
};

// Parses an absolute http or https URL. A fragment is dropped.
// Errors: INVALID_ARGUMENT naming the URL and the problem (scheme, empty host, bad port,
// userinfo, which is not supported).
core::Result<Url> ParseUrl(std::string_view url);

// Every field has a default member initializer so that designated initializers may omit any.
struct ClientRequest {
  std::string method = "GET";
  std::string url{};
  Headers headers{};
  std::string body{};
  // Overrides ClientOptions::request_timeout when positive.
  core::Duration timeout = core::Duration::Zero();
};

struct ClientResponse {
  int status = 0;
  Headers headers{};
  std::string body{};
  // True when the request went over a pooled keep-alive connection. For tests and debugging.
  bool reused_connection = false;
};

class HttpClient {
 public:
  // Any problem with the TLS files is reported by every https request (use Create to fail early).
  explicit HttpClient(ClientOptions options = {});
  // Like the constructor, but fails when the TLS files cannot be loaded.
  // Errors: INVALID_ARGUMENT naming the file.
  static core::Result<std::unique_ptr<HttpClient>> Create(ClientOptions options);

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends `request` and reads the whole response; any HTTP status is a successful result.
  // A pooled connection that turns out to be closed by the server is replaced once, transparently.
  // Errors: INVALID_ARGUMENT (bad URL or method), UNAVAILABLE (resolution, connection, TLS or
  // protocol failure, with the cause), DEADLINE_EXCEEDED (connect or request timeout),
  // RESOURCE_EXHAUSTED (response larger than max_response_bytes).
  core::Result<ClientResponse> Do(const ClientRequest& request);

  // Idle pooled connections right now, over all hosts. For tests and debugging.
  size_t IdleConnections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nines::net

#endif  // NINES_NET_HTTP_CLIENT_H_

// Helpers shared by net's .cc files and its tests; not part of the public API.
//
// Everything here is a pure function (thread-safe). ParseRequest is defined in request.cc, next to
// the pieces it shares with the server's connections (session.cc).
#ifndef NINES_NET_INTERNAL_H_
#define NINES_NET_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/net.h"

namespace nines::net::internal {

struct HostPort {
  std::string host;  // Without brackets; "" for ":port".
  uint16_t port = 0;
};

// Splits "host:port", "[::1]:port" or ":port". The port must be a decimal in [0, 65535].
// Errors: INVALID_ARGUMENT naming `text` and the problem.
core::Result<HostPort> SplitHostPort(std::string_view text);

// "host:port", with brackets around an IPv6 literal (a host containing ':').
std::string JoinHostPort(std::string_view host, int port);

// The method as a metrics label: the standard methods as they are, anything else "OTHER", so a
// client cannot create unbounded label values.
std::string_view MethodLabel(std::string_view method);

// Extracts the token from an Authorization value "Bearer <token>" (scheme case-insensitive,
// surrounding blanks trimmed). False when the scheme is not Bearer or the token is empty.
bool ParseBearer(std::string_view authorization, std::string_view* token);

// The path part of a request-target as the router sees it, still percent-encoded: without the
// query and fragment, and without "scheme://authority" for an absolute-form target
// ("http://h/x?y" gives "/x"; "http://h" gives "/").
std::string RawPathOf(std::string_view target);

// What the server makes of the bytes of one HTTP/1.x request, parsed as a connection parses them
// (Beast's parser with the server's header and body limits; `wire` ending is the client closing).
struct ParsedRequest {
  // Whether `request` holds a complete request.
  bool ok = false;
  // When not ok: the status the server answers (400, 413 or 431), or 0 when it only closes the
  // connection (a truncated request); `error` is the nines_http_request_errors_total reason
  // ("bad_request", ...) or "closed: <why>".
  int error_status = 0;
  std::string error{};
  // When ok: the request a handler sees (remote_address and path_params empty), the path the
  // router is given (RawPathOf(request.target)) and whether the connection stays open after it.
  Request request{};
  std::string raw_path{};
  bool keep_alive = false;
  // Bytes of `wire` the request took; a pipelined request may follow.
  size_t consumed = 0;
};

// Parses the first request in `wire`. For the fuzzer (fuzz/fuzz_http_request.cc) and the tests:
// the server's connections use the same parser settings, error answers and Request assembly.
ParsedRequest ParseRequest(std::string_view wire, size_t max_header_bytes, size_t max_body_bytes);

}  // namespace nines::net::internal

#endif  // NINES_NET_INTERNAL_H_

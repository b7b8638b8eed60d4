// Helpers shared by net's .cc files and its tests; not part of the public API.
//
// Everything here is a pure function (thread-safe).
#ifndef NINES_NET_INTERNAL_H_
#define NINES_NET_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

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

}  // namespace nines::net::internal

#endif  // NINES_NET_INTERNAL_H_

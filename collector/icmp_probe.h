// Private to collector/ (and its tests and benchmarks): the ICMP echo probe's
// knobs beyond CheckSpec. Production code calls StartIcmpProbe
// (collector/probe.h), which uses the defaults; tests force a socket kind, or
// make the probe ignore every reply to reach its timeout on loopback (where
// every echo request is answered).
//
// Thread-safety: as collector/probe.h.
#ifndef NINES_COLLECTOR_ICMP_PROBE_H_
#define NINES_COLLECTOR_ICMP_PROBE_H_

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string_view>

#include "collector/probe.h"

namespace nines::collector {

// The reason of a probe that can open neither kind of ICMP socket.
inline constexpr std::string_view kIcmpNotPermittedReason =
    "icmp: not permitted (neither a ping socket nor a raw socket can be "
    "opened: add the group "
    "to net.ipv4.ping_group_range or grant CAP_NET_RAW)";

enum class IcmpSocketKind {
  kAuto,  // a ping socket when permitted, else a raw socket
  kPing,  // only an unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP[V6])
  kRaw,   // only a raw socket (SOCK_RAW; needs CAP_NET_RAW)
};

struct IcmpProbeOptions {
  IcmpSocketKind socket = IcmpSocketKind::kAuto;
  // Test seam: the request carries a cookie other than the one the probe
  // accepts, so every reply is dropped as another prober's and the probe ends
  // in its timeout. This is how a test reaches the timeout while staying on
  // loopback, and it exercises the reply filter as well.
  bool corrupt_cookie = false;
};

// StartIcmpProbe with `options`; the same contract (collector/probe.h).
void StartIcmpProbeWithOptions(boost::asio::io_context& io, core::Clock& clock,
                               std::shared_ptr<const CheckSpec> check, IcmpProbeOptions options,
                               ProbeDone done);

}  // namespace nines::collector

#endif  // NINES_COLLECTOR_ICMP_PROBE_H_

#include "collector/probe.h"

namespace nines::collector {

void StartProbe(boost::asio::io_context& io, core::Clock& clock,
                std::shared_ptr<const CheckSpec> check, ProbeDone done) {
  switch (check->kind) {
    case CheckKind::kHttp:
      return StartHttpProbe(io, clock, std::move(check), std::move(done));
    case CheckKind::kTcp:
      return StartTcpProbe(io, clock, std::move(check), std::move(done));
    case CheckKind::kTls:
      return StartTlsProbe(io, clock, std::move(check), std::move(done));
    case CheckKind::kDns:
      return StartDnsProbe(io, clock, std::move(check), std::move(done));
    case CheckKind::kIcmp:
      return StartIcmpProbe(io, clock, std::move(check), std::move(done));
  }
  ProbeResult r;
  r.reason = "unknown check kind";
  done(std::move(r));
}

}  // namespace nines::collector

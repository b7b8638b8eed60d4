// Private to collector/: the asynchronous probe functions the probe engine calls, one per check
// kind. Each runs one probe of a check on an io_context and reports exactly once.
//
// Contract of every Start*Probe function:
// - It returns at once; the probe runs on `io` (which may be run by several threads).
// - `done` is called exactly once, from a thread running `io`, with the result. It is called even
//   when the probe times out (after check->timeout, reason "timeout after 5s while <phase>") or
//   when `io` is stopped before the probe ends... unless `io` is destroyed first (then never).
// - A failed probe is a ProbeResult with success=false and a reason; nothing throws.
// - Durations (probe_duration_seconds, the phases) are measured with clock.Monotonic().
// - `check` is shared so that the probe may keep it alive; `clock` must outlive the probe.
#ifndef NINES_COLLECTOR_PROBE_H_
#define NINES_COLLECTOR_PROBE_H_

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "collector/collector.h"
#include "core/clock.h"

namespace nines::collector {

using ProbeDone = std::function<void(ProbeResult)>;

void StartHttpProbe(boost::asio::io_context& io, core::Clock& clock,
                    std::shared_ptr<const CheckSpec> check, ProbeDone done);
void StartTcpProbe(boost::asio::io_context& io, core::Clock& clock,
                   std::shared_ptr<const CheckSpec> check, ProbeDone done);
void StartTlsProbe(boost::asio::io_context& io, core::Clock& clock,
                   std::shared_ptr<const CheckSpec> check, ProbeDone done);
void StartDnsProbe(boost::asio::io_context& io, core::Clock& clock,
                   std::shared_ptr<const CheckSpec> check, ProbeDone done);
void StartIcmpProbe(boost::asio::io_context& io, core::Clock& clock,
                    std::shared_ptr<const CheckSpec> check, ProbeDone done);

// Dispatches on check->kind.
void StartProbe(boost::asio::io_context& io, core::Clock& clock,
                std::shared_ptr<const CheckSpec> check, ProbeDone done);

}  // namespace nines::collector

#endif  // NINES_COLLECTOR_PROBE_H_

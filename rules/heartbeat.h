// rules/heartbeat.h: which regional agents are alive, from the nines_agent_heartbeat{region,
// location} series every `nines agent` writes (collector/agent.h) through its queue.
//
// An agent is known when its heartbeat series has a sample within `seen_within` before `now`
// (default one day: a decommissioned agent is forgotten a day after its last heartbeat, or at
// once when its series is deleted through the admin API). A known agent is silent when its
// newest heartbeat is older than `silent_after`. The SLO evaluator uses this for SloNoData: a
// region whose every known agent is silent has lost its prober, even while other regions'
// agents still report on it.
//
// Thread-safety: ReadAgentHeartbeats is thread-safe as far as the Reader is.
#ifndef NINES_RULES_HEARTBEAT_H_
#define NINES_RULES_HEARTBEAT_H_

#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace nines::rules {

// The heartbeat metric's name.
inline constexpr std::string_view kAgentHeartbeatMetric = "nines_agent_heartbeat";

struct AgentHeartbeat {
  std::string region;
  std::string location;
  core::Timestamp last;  // the newest heartbeat at or before now
  bool silent = false;   // last <= now - silent_after
};

// Every known agent (see above), sorted by region then location. Series without a region label
// are skipped. Cost: one index lookup plus one constant-cost window aggregate per agent.
// Errors: the reader's.
core::Result<std::vector<AgentHeartbeat>> ReadAgentHeartbeats(
    store::Reader& reader, core::Timestamp now, core::Duration silent_after,
    core::Duration seen_within = core::Duration::Days(1));

}  // namespace nines::rules

#endif  // NINES_RULES_HEARTBEAT_H_

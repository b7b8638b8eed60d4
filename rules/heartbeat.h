// rules/heartbeat.h: which regional agents are alive, from the nines_agent_heartbeat{location,
// region} series every `nines agent` writes (collector/agent.h) through its queue: one series
// per region the agent measures, all stamped with the same time at each heartbeat.
//
// An agent (a location) is known while one of its heartbeat series has a sample within
// `seen_within` before `now` (default 7 days: a decommissioned agent is forgotten a week after
// its last heartbeat, or at once when its series are deleted through the admin API). It is down
// when its newest heartbeat is at least `down_after` old.
//
// NinesAgentDown (AgentDownConditions) is the alert for a lost prober: one per location, with
// the regions its last heartbeat named. The SLO evaluation uses the same heartbeats, minute by
// minute, to cap a probe SLO's quorum at the probers still alive (rules/store_counts.h).
//
// Thread-safety: the functions are thread-safe as far as the Reader is.
#ifndef NINES_RULES_HEARTBEAT_H_
#define NINES_RULES_HEARTBEAT_H_

#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "rules/rules.h"
#include "store/store.h"

namespace nines::rules {

// The heartbeat metric's name.
inline constexpr std::string_view kAgentHeartbeatMetric = "nines_agent_heartbeat";
// The alert of a lost agent.
inline constexpr std::string_view kAgentDownAlert = "NinesAgentDown";

// One heartbeat series: an agent (location) and one region it measures ("" when the series has
// no region label: an agent that measures nothing and has no region).
struct AgentHeartbeat {
  std::string region;
  std::string location;
  core::Timestamp last;  // the newest heartbeat at or before now
  bool silent = false;   // last <= now - silent_after
};

// Every known heartbeat series (see above), sorted by region then location. Series without a
// location label are skipped. Cost: one index lookup plus one constant-cost window aggregate per
// series. Errors: the reader's.
core::Result<std::vector<AgentHeartbeat>> ReadAgentHeartbeats(
    store::Reader& reader, core::Timestamp now, core::Duration silent_after,
    core::Duration seen_within = core::Duration::Days(7));

// One agent, by location.
struct AgentStatus {
  std::string location;
  // The regions its newest heartbeat named (the series stamped with `last`), sorted; none for a
  // heartbeat without a region label.
  std::vector<std::string> regions;
  core::Timestamp last;  // its newest heartbeat
  bool down = false;     // see AgentStatuses
};

// The agents of `heartbeats` (any order), sorted by location. An agent is down when its newest
// heartbeat is at least `down_after` old at `now` and nines has watched for at least
// `down_after` (now - watching_since >= down_after): after the engine itself was down, agents
// get that long to deliver the heartbeats they queued meanwhile before they count as lost.
std::vector<AgentStatus> AgentStatuses(const std::vector<AgentHeartbeat>& heartbeats,
                                       core::Timestamp now, core::Duration down_after,
                                       core::Timestamp watching_since);

// NinesAgentDown, one condition per agent that is down:
//   labels: alertname="NinesAgentDown", location, regions (the regions its last heartbeat named,
//           sorted, joined with ","), severity="ticket";
//   value: seconds since its last heartbeat;
//   annotations: last_heartbeat (RFC 3339), summary, description.
// The alert resolves when heartbeats arrive again (or when the agent is forgotten).
std::vector<ActiveCondition> AgentDownConditions(const std::vector<AgentStatus>& agents,
                                                 core::Timestamp now, core::Duration down_after);

}  // namespace nines::rules

#endif  // NINES_RULES_HEARTBEAT_H_

#include "rules/heartbeat.h"

#include <algorithm>
#include <tuple>

namespace nines::rules {

core::Result<std::vector<AgentHeartbeat>> ReadAgentHeartbeats(store::Reader& reader,
                                                              core::Timestamp now,
                                                              core::Duration silent_after,
                                                              core::Duration seen_within) {
  const int64_t now_ms = now.UnixMillis();
  const int64_t since_ms = (now - seen_within).UnixMillis();
  ASSIGN_OR_RETURN(store::Matcher name,
                   store::Matcher::Create(store::Matcher::Op::kEqual,
                                          std::string(core::kMetricNameLabel),
                                          std::string(kAgentHeartbeatMetric)));
  ASSIGN_OR_RETURN(std::vector<core::Labels> series, reader.Series({name}, since_ms, now_ms));
  std::vector<AgentHeartbeat> out;
  for (const core::Labels& labels : series) {
    AgentHeartbeat h;
    h.region = std::string(labels.Get("region"));
    h.location = std::string(labels.Get("location"));
    if (h.region.empty()) continue;
    // [since, now] inclusive of a heartbeat stamped exactly now.
    ASSIGN_OR_RETURN(store::WindowAggregate agg,
                     reader.Aggregate(labels, since_ms, now_ms + 1, store::Reader::Fields::kCounts));
    if (agg.count == 0) continue;
    h.last = core::Timestamp::FromUnixMillis(agg.last_timestamp_ms);
    h.silent = h.last <= now - silent_after;
    out.push_back(std::move(h));
  }
  std::sort(out.begin(), out.end(), [](const AgentHeartbeat& a, const AgentHeartbeat& b) {
    return std::tie(a.region, a.location) < std::tie(b.region, b.location);
  });
  return out;
}

}  // namespace nines::rules

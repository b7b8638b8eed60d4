#include "rules/heartbeat.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
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
    if (h.location.empty()) continue;
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

std::vector<AgentStatus> AgentStatuses(const std::vector<AgentHeartbeat>& heartbeats,
                                       core::Timestamp now, core::Duration down_after,
                                       core::Timestamp watching_since) {
  std::map<std::string, AgentStatus> by_location;
  for (const AgentHeartbeat& h : heartbeats) {
    AgentStatus& a = by_location[h.location];
    a.location = h.location;
    if (h.last > a.last) {
      a.last = h.last;
      a.regions.clear();
    }
    if (h.last == a.last && !h.region.empty()) a.regions.push_back(h.region);
  }
  std::vector<AgentStatus> out;
  out.reserve(by_location.size());
  for (auto& [location, a] : by_location) {
    std::sort(a.regions.begin(), a.regions.end());
    a.regions.erase(std::unique(a.regions.begin(), a.regions.end()), a.regions.end());
    a.down = now - a.last >= down_after && now - watching_since >= down_after;
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<ActiveCondition> AgentDownConditions(const std::vector<AgentStatus>& agents,
                                                 core::Timestamp now, core::Duration down_after) {
  std::vector<ActiveCondition> out;
  for (const AgentStatus& a : agents) {
    if (!a.down) continue;
    std::string regions;
    for (const std::string& r : a.regions) {
      if (!regions.empty()) regions += ",";
      regions += r;
    }
    core::Labels::Builder b;
    b.Set("alertname", kAgentDownAlert);
    b.Set("location", a.location);
    b.Set("regions", regions);
    b.Set("severity", "ticket");
    auto labels = b.Build();
    if (!labels.ok()) continue;  // a location is a valid label value: cannot happen
    ActiveCondition c;
    c.labels = std::move(*labels);
    const core::Duration silent = now - a.last;
    c.value = silent.SecondsDouble();
    c.annotations["last_heartbeat"] = a.last.ToRfc3339();
    c.annotations["summary"] = fmt::format(
        "nines agent at {} has sent no heartbeat for {} (it measured {})", a.location,
        silent.ToRoundedString(), regions.empty() ? std::string("no region") : regions);
    c.annotations["description"] = fmt::format(
        "no heartbeat within {}: its probes are missing too. Probe SLOs of {} count with the "
        "probers that remain (reduced coverage; a fixed quorum is capped at the live probers); "
        "alerts that rested on its data stay active, marked no_data",
        down_after.ToString(), regions.empty() ? std::string("its regions") : regions);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace nines::rules

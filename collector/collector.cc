#include "collector/collector.h"

#include "store/store.h"

namespace nines::collector {

std::string_view CheckKindName(CheckKind kind) {
  switch (kind) {
    case CheckKind::kHttp:
      return "http";
    case CheckKind::kTcp:
      return "tcp";
    case CheckKind::kDns:
      return "dns";
    case CheckKind::kTls:
      return "tls";
    case CheckKind::kIcmp:
      return "icmp";
  }
  return "unknown";
}

core::Result<core::Labels> ProbeLabels(const CheckSpec& check, std::string_view metric,
                         const std::vector<std::pair<std::string, std::string>>& extra) {
  core::Labels::Builder b;
  for (const auto& [name, value] : check.extra_labels) b.Set(name, value);
  b.Set("__name__", metric);
  b.Set("probe", check.name);
  b.Set("target", check.target);
  if (!check.region.empty()) b.Set("region", check.region);
  if (!check.location.empty()) b.Set("location", check.location);
  if (!check.service.empty()) b.Set("service", check.service);
  for (const auto& [name, value] : extra) b.Set(name, value);
  return b.Build();
}

core::Status AppendProbeResult(const CheckSpec& check, const ProbeResult& result,
                               core::Timestamp at, store::Appender& appender) {
  const int64_t t = at.UnixMillis();
  auto append = [&](std::string_view name, const auto& extra, double value) -> core::Status {
    ASSIGN_OR_RETURN(core::Labels labels, ProbeLabels(check, name, extra));
    return appender.Append(labels, t, value);
  };
  const std::vector<std::pair<std::string, std::string>> none;
  RETURN_IF_ERROR(append("probe_success", none, result.success ? 1 : 0));
  RETURN_IF_ERROR(append("probe_duration_seconds", none, result.duration.SecondsDouble()));
  for (const ProbeMetric& m : result.metrics) RETURN_IF_ERROR(append(m.name, m.labels, m.value));
  if (!result.success) {
    // The reason travels as a label so that the engine can say why, not just 0. Reasons are
    // short fixed phrases plus a detail, so the number of distinct values stays small.
    std::string reason = result.reason.empty() ? "unknown" : result.reason;
    if (reason.size() > kMaxReasonBytes) reason.resize(kMaxReasonBytes);
    RETURN_IF_ERROR(append(kFailureReasonMetric,
                           std::vector<std::pair<std::string, std::string>>{{"reason", reason}}, 1));
  }
  return core::Status::Ok();
}

}  // namespace nines::collector

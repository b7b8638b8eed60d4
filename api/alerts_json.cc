// The alerts document (api/json.h), from the alert tracker's alerts.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "api/json.h"
#include "core/json.h"

namespace nines::api {
namespace {

std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    size_t comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

bool Matches(const rules::Alert& a, const AlertFilter& f) {
  if (!f.states.empty() && std::find(f.states.begin(), f.states.end(), a.state) == f.states.end()) {
    return false;
  }
  if (f.regions.empty()) return true;
  for (const std::string& r : f.regions) {
    if (a.labels.Get("region") == r) return true;
    for (std::string_view x : SplitCommas(a.labels.Get("regions"))) {
      if (x == r) return true;
    }
  }
  return false;
}

// The states a client may ask for: those an alert the tracker holds can be in.
constexpr rules::AlertState kListedStates[] = {rules::AlertState::kPending,
                                               rules::AlertState::kFiring,
                                               rules::AlertState::kResolved};

}  // namespace

core::Result<AlertFilter> ParseAlertFilter(const std::vector<std::string>& states,
                                           const std::vector<std::string>& regions) {
  AlertFilter f;
  for (const std::string& param : states) {
    for (std::string_view name : SplitCommas(param)) {
      auto known =
          std::find_if(std::begin(kListedStates), std::end(kListedStates),
                       [name](rules::AlertState s) { return rules::AlertStateName(s) == name; });
      if (known == std::end(kListedStates)) {
        return core::InvalidArgumentError(
            "state: unknown alert state \"{}\" (known: pending, firing, resolved)", name);
      }
      f.states.push_back(*known);
    }
  }
  for (const std::string& param : regions) {
    for (std::string_view name : SplitCommas(param)) f.regions.emplace_back(name);
  }
  return f;
}

std::string AlertsJson(const std::vector<rules::Alert>& alerts, const AlertFilter& filter) {
  std::string out = R"({"status":"success","data":{"alerts":[)";
  bool first = true;
  for (const rules::Alert& a : alerts) {
    if (!Matches(a, filter)) continue;
    if (!first) out.push_back(',');
    first = false;
    out.append(R"({"labels":)");
    core::AppendJsonLabels(&out, a.labels);
    out.append(R"(,"annotations":)");
    core::AppendJsonStringMap(&out, a.annotations);
    out.append(R"(,"state":)");
    core::AppendJsonString(&out, rules::AlertStateName(a.state));
    out.append(R"(,"activeAt":)");
    core::AppendJsonString(&out, a.active_since.ToRfc3339());
    out.append(R"(,"value":)");
    core::AppendJsonString(&out, FormatAlertValue(a.value));
    if (a.state != rules::AlertState::kPending) {
      out.append(R"(,"firedAt":)");
      core::AppendJsonString(&out, a.fired_at.ToRfc3339());
    }
    if (a.state == rules::AlertState::kResolved) {
      out.append(R"(,"resolvedAt":)");
      core::AppendJsonString(&out, a.resolved_at.ToRfc3339());
    }
    out.push_back('}');
  }
  out.append("]}}");
  return out;
}

std::string FormatAlertValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  if (ec != std::errc()) return fmt::format("{:e}", v);
  return std::string(buf, p);
}

}  // namespace nines::api

// alerting/notify_pagerduty.cc: PagerDuty's Events API v2 (and v1 for a `service_key`), as
// Alertmanager's notify/pagerduty sends them: one event per notification, "trigger" while any
// alert fires and "resolve" when all resolved, dedup_key the SHA-256 of the group key.
// Events API v2: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "alerting/notify_internal.h"
#include "core/json.h"

namespace nines::alerting::notify_internal {

namespace {

constexpr std::string_view kDefaultUrl = "https://events.pagerduty.com/v2/enqueue";
constexpr std::string_view kV1Url =
    "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
constexpr size_t kMaxSummaryRunes = 1024;
constexpr size_t kMaxEventBytes = 512000;
constexpr std::string_view kDetailsRemoved =
    "Custom details have been removed because the original event exceeds the maximum size of "
    "512KB";

// A configured detail: a scalar (the entry "" of `node`) rendered and kept structured when it
// reads as JSON, or a map or list written in the YAML (its entries' dotted paths below the
// detail's), rebuilt with each leaf rendered, as Alertmanager's DeepCopyWithTemplate does.
core::Status AppendDetailNode(const Renderer& r, const std::string& path,
                              const std::map<std::string, std::string>& node, int depth,
                              std::string* out) {
  if (auto leaf = node.find(""); leaf != node.end() || depth > 16) {
    ASSIGN_OR_RETURN(std::string value,
                     r.Text(path, leaf == node.end() ? std::string() : leaf->second));
    AppendDetailValue(out, value);
    return core::Status::Ok();
  }
  std::map<std::string, std::map<std::string, std::string>> children;
  bool list = true;
  for (const auto& [key, text] : node) {
    const size_t dot = key.find('.');
    std::string head = key.substr(0, dot);
    list = list && !head.empty() && head.find_first_not_of("0123456789") == std::string::npos;
    children[head][dot == std::string::npos ? "" : key.substr(dot + 1)] = text;
  }
  std::vector<std::pair<std::string, const std::map<std::string, std::string>*>> ordered;
  for (const auto& [head, child] : children) ordered.emplace_back(head, &child);
  if (list) {
    std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
      return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
    });
  }
  *out += list ? '[' : '{';
  for (size_t i = 0; i < ordered.size(); ++i) {
    if (i > 0) *out += ',';
    if (!list) {
      core::AppendJsonString(out, ordered[i].first);
      *out += ':';
    }
    RETURN_IF_ERROR(
        AppendDetailNode(r, path + "." + ordered[i].first, *ordered[i].second, depth + 1, out));
  }
  *out += list ? ']' : '}';
  return core::Status::Ok();
}

// custom_details (v2) or details (v1): Alertmanager's defaults (firing, resolved, num_firing,
// num_resolved), then nines' SLO numbers from the alerts, then the configured `details` (which
// win), keys in order as Go marshals a map.
core::Result<std::string> DetailsJson(const BuildInput& in, const Renderer& r) {
  std::map<std::string, std::string> values;  // key -> JSON value
  auto firing = AlertsWithStatus(in.data, "firing");
  auto resolved = AlertsWithStatus(in.data, "resolved");
  AppendAlertsJson(&values["firing"], firing);
  AppendAlertsJson(&values["resolved"], resolved);
  values["num_firing"] = std::to_string(firing.size());
  values["num_resolved"] = std::to_string(resolved.size());
  SloFacts facts = GetSloFacts(in.data);
  auto add = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) AppendDetailValue(&values[std::string(key)], value);
  };
  add("region", facts.region);
  add("slo", facts.slo);
  add("budget_remaining", facts.budget_remaining);
  add("budget_total", facts.budget_total);
  add("budget_unit", facts.budget_unit);
  add("budget_remaining_ratio", facts.budget_remaining_ratio);
  add("long_burn_rate", facts.long_burn_rate);
  add("short_burn_rate", facts.short_burn_rate);
  add("window_pair", facts.window_pair);
  add("exhaustion_at_1h_burn", facts.exhaustion_at_1h_burn);
  std::map<std::string, std::map<std::string, std::string>> configured;
  for (const auto& [key, text] : Fields(in.integration.fields).Map("details")) {
    const size_t dot = key.find('.');
    configured[key.substr(0, dot)][dot == std::string::npos ? "" : key.substr(dot + 1)] = text;
  }
  for (const auto& [key, node] : configured) {
    std::string& slot = values[key];
    slot.clear();
    RETURN_IF_ERROR(AppendDetailNode(r, "details." + key, node, 0, &slot));
  }
  std::string out = "{";
  for (const auto& [key, value] : values) {
    if (out.size() > 1) out += ',';
    core::AppendJsonString(&out, key);
    out += ':' + value;
  }
  return out + "}";
}

struct Common {
  std::string event;  // "trigger" or "resolve"
  std::string key;    // the dedup key
  std::string client, client_url, details;
};

void AppendOptional(std::string* out, std::string_view name, const std::string& value) {
  if (value.empty()) return;
  *out += ",\"";
  *out += name;
  *out += "\":";
  core::AppendJsonString(out, value);
}

core::Result<std::string> ImagesAndLinks(const BuildInput& in, const Renderer& r) {
  Fields f(in.integration.fields);
  std::string images, links;
  for (size_t i = 0; i < f.ListSize("images"); ++i) {
    std::string p = "images." + std::to_string(i);
    ASSIGN_OR_RETURN(std::string src, r.Text(p + ".src", f.Get(p + ".src")));
    ASSIGN_OR_RETURN(std::string alt, r.Text(p + ".alt", f.Get(p + ".alt")));
    ASSIGN_OR_RETURN(std::string href, r.Text(p + ".href", f.Get(p + ".href")));
    if (src.empty()) continue;
    images += images.empty() ? "[" : ",";
    images += "{\"src\":";
    core::AppendJsonString(&images, src);
    images += ",\"alt\":";
    core::AppendJsonString(&images, alt);
    images += ",\"href\":";
    core::AppendJsonString(&images, href);
    images += '}';
  }
  for (size_t i = 0; i < f.ListSize("links"); ++i) {
    std::string p = "links." + std::to_string(i);
    ASSIGN_OR_RETURN(std::string href, r.Text(p + ".href", f.Get(p + ".href")));
    ASSIGN_OR_RETURN(std::string text, r.Text(p + ".text", f.Get(p + ".text")));
    if (href.empty()) continue;
    links += links.empty() ? "[" : ",";
    links += "{\"href\":";
    core::AppendJsonString(&links, href);
    links += ",\"text\":";
    core::AppendJsonString(&links, text);
    links += '}';
  }
  std::string out;
  if (!images.empty()) out += ",\"images\":" + images + "]";
  if (!links.empty()) out += ",\"links\":" + links + "]";
  return out;
}

// `,"<name>":` and the details, or in their place Alertmanager's error object when the event
// was too large with them (`drop_details`).
void AppendDetails(std::string* out, std::string_view name, const Common& c, bool drop_details) {
  *out += ",\"";
  *out += name;
  *out += "\":";
  if (drop_details) {
    *out += "{\"error\":";
    core::AppendJsonString(out, kDetailsRemoved);
    *out += '}';
  } else {
    *out += c.details;
  }
}

// Events API v2 (pagerDutyMessage with a payload, as encoding/json writes it).
core::Result<std::string> V2Json(const BuildInput& in, const Renderer& r, const Common& c,
                                 const std::string& routing_key, bool drop_details) {
  Fields f(in.integration.fields);
  ASSIGN_OR_RETURN(std::string description,
                   r.Text("description",
                          f.Get("description", DefaultTemplate("pagerduty.default.description"))));
  // An unset source is the client's text, as Alertmanager's config defaults it.
  std::string source_text = f.Has("source")
                                ? f.Get("source")
                                : f.Get("client", DefaultTemplate("pagerduty.default.client"));
  ASSIGN_OR_RETURN(std::string source, r.Text("source", source_text));
  ASSIGN_OR_RETURN(std::string severity, r.Text("severity", f.Get("severity", "error")));
  if (severity.empty()) severity = "error";
  ASSIGN_OR_RETURN(std::string klass, r.Text("class", f.Get("class")));
  ASSIGN_OR_RETURN(std::string component, r.Text("component", f.Get("component")));
  ASSIGN_OR_RETURN(std::string group, r.Text("group", f.Get("group")));
  ASSIGN_OR_RETURN(std::string images_links, ImagesAndLinks(in, r));
  std::string out = "{\"routing_key\":";
  core::AppendJsonString(&out, routing_key);
  out += ",\"dedup_key\":";
  core::AppendJsonString(&out, c.key);
  out += ",\"event_action\":";
  core::AppendJsonString(&out, c.event);
  out += ",\"payload\":{\"summary\":";
  core::AppendJsonString(&out, TruncateRunes(description, kMaxSummaryRunes));
  out += ",\"source\":";
  core::AppendJsonString(&out, source);
  out += ",\"severity\":";
  core::AppendJsonString(&out, severity);
  AppendOptional(&out, "class", klass);
  AppendOptional(&out, "component", component);
  AppendOptional(&out, "group", group);
  AppendDetails(&out, "custom_details", c, drop_details);
  out += '}';
  AppendOptional(&out, "client", c.client);
  AppendOptional(&out, "client_url", c.client_url);
  out += images_links;
  return out + "}\n";
}

// Events API v1 (the generic create_event endpoint, for a `service_key`), as Alertmanager's
// notifyV1 writes it (event_action "" and payload null included, as its struct tags say).
core::Result<std::string> V1Json(const BuildInput& in, const Renderer& r, const Common& c,
                                 const std::string& service_key, bool drop_details) {
  Fields f(in.integration.fields);
  ASSIGN_OR_RETURN(std::string description,
                   r.Text("description",
                          f.Get("description", DefaultTemplate("pagerduty.default.description"))));
  std::string out = "{\"service_key\":";
  core::AppendJsonString(&out, service_key);
  out += ",\"incident_key\":";
  core::AppendJsonString(&out, c.key);
  out += ",\"event_type\":";
  core::AppendJsonString(&out, c.event);
  AppendOptional(&out, "description", TruncateRunes(description, kMaxSummaryRunes));
  out += ",\"event_action\":\"\",\"payload\":null";
  if (c.event == "trigger") {
    AppendOptional(&out, "client", c.client);
    AppendOptional(&out, "client_url", c.client_url);
  }
  AppendDetails(&out, "details", c, drop_details);
  return out + "}\n";
}

}  // namespace

core::Result<std::vector<OutgoingRequest>> BuildPagerDuty(const BuildInput& in) {
  Fields f(in.integration.fields);
  Renderer r(in);
  const bool v1 = f.Has("service_key") || f.Has("service_key_file");
  const std::string key_field = v1 ? "service_key" : "routing_key";
  if (!f.Has(key_field)) {
    return r.Error(key_field + "_file",
                   "keys in files are read when the configuration is "
                   "loaded; the integration has no " +
                       key_field);
  }
  Common c;
  c.event = in.data.status == "resolved" ? "resolve" : "trigger";
  c.key = Sha256Hex(in.n.group_key);
  ASSIGN_OR_RETURN(c.client,
                   r.Text("client", f.Get("client", DefaultTemplate("pagerduty.default.client"))));
  ASSIGN_OR_RETURN(
      c.client_url,
      r.Text("client_url", f.Get("client_url", DefaultTemplate("pagerduty.default.clientURL"))));
  ASSIGN_OR_RETURN(c.details, DetailsJson(in, r));
  ASSIGN_OR_RETURN(std::string key, r.Text(key_field, f.Get(key_field)));
  if (key.empty()) return r.Error(key_field, "empty after templating");

  std::string url(kV1Url);
  if (!v1) {
    url = f.Get("url", Fields(in.global.fields).Get("pagerduty_url", kDefaultUrl));
    if (url.empty()) url = kDefaultUrl;
    if (core::Status s = CheckHttpUrl(url); !s.ok()) return r.Error("url", s.message());
  }
  auto body = v1 ? V1Json(in, r, c, key, false) : V2Json(in, r, c, key, false);
  if (!body.ok()) return body.status();
  if (body->size() > kMaxEventBytes) {
    body = v1 ? V1Json(in, r, c, key, true) : V2Json(in, r, c, key, true);
    if (!body.ok()) return body.status();
  }
  std::string target = MaskUrl(url, /*keep_path=*/true);
  ASSIGN_OR_RETURN(OutgoingRequest req,
                   JsonPost(in, r, std::move(url), std::move(*body), std::move(target)));
  req.dedup_key = c.key;
  req.secrets.push_back(key);  // routing_key or service_key, in the body
  std::vector<OutgoingRequest> out;
  out.push_back(std::move(req));
  return out;
}

}  // namespace nines::alerting::notify_internal

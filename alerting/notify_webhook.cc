// alerting/notify_webhook.cc: Alertmanager's webhook payload, version 4 (notify/webhook in
// Alertmanager; docs/configuration.md, <webhook_config>).
#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include "alerting/notify_internal.h"
#include "core/json.h"

namespace nines::alerting::notify_internal {

namespace {

// The JSON as Go's encoding/json writes Alertmanager's webhook.Message: the embedded
// template.Data's fields first, in their order, then version, groupKey and truncatedAlerts, and
// a final newline (json.Encoder). Strings are escaped by core/json.h, which leaves <, > and &
// as they are (Go writes \u003c, \u003e, \u0026): the same JSON values.
std::string WebhookJson(const Notification& n, const TemplateData& d, uint64_t truncated) {
  std::string out = "{\"receiver\":";
  core::AppendJsonString(&out, d.receiver);
  out += ",\"status\":";
  core::AppendJsonString(&out, d.status);
  out += ",\"alerts\":[";
  for (size_t i = 0; i < d.alerts.size(); ++i) {
    if (i > 0) out += ',';
    AppendAlertJson(&out, d.alerts[i]);
  }
  out += "],\"notification_reason\":";
  core::AppendJsonString(&out, NotifyReasonName(n.reason));
  out += ",\"groupLabels\":";
  core::AppendJsonStringMap(&out, d.group_labels);
  out += ",\"commonLabels\":";
  core::AppendJsonStringMap(&out, d.common_labels);
  out += ",\"commonAnnotations\":";
  core::AppendJsonStringMap(&out, d.common_annotations);
  // Alertmanager 0.34 also marshals its routes' routeLabels here; they are not part of the
  // documented payload and nines' routes have none, so the field is left out.
  out += ",\"externalURL\":";
  core::AppendJsonString(&out, d.external_url);
  out += ",\"version\":\"4\",\"groupKey\":";
  core::AppendJsonString(&out, n.group_key);
  out += ",\"truncatedAlerts\":" + std::to_string(truncated) + "}\n";
  return out;
}

}  // namespace

core::Result<std::vector<OutgoingRequest>> BuildWebhook(const BuildInput& in) {
  Fields f(in.integration.fields);
  Renderer r(in);
  if (!f.Has("url")) {
    return r.Error(f.Has("url_file") ? "url_file" : "url",
                   f.Has("url_file") ? "url_file is read when the configuration is loaded; "
                                       "the integration has no url"
                                     : "no url");
  }
  if (f.Has("payload") || f.HasPrefix("payload")) {
    return r.Error("payload", "a custom webhook payload is not supported by nines");
  }
  uint64_t max_alerts = 0;
  if (f.Has("max_alerts")) {
    const std::string v = f.Get("max_alerts");
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), max_alerts);
    if (ec != std::errc() || p != v.data() + v.size()) {
      return r.Error("max_alerts", "not a non-negative integer");
    }
  }
  // Alertmanager truncates before it builds the template data: status, common labels and
  // annotations are those of the alerts sent.
  const Notification* n = &in.n;
  Notification truncated_n;
  TemplateData truncated_data;
  const TemplateData* data = &in.data;
  uint64_t truncated = 0;
  if (max_alerts != 0 && in.n.alerts.size() > max_alerts) {
    truncated = in.n.alerts.size() - max_alerts;
    truncated_n = in.n;
    truncated_n.alerts.resize(max_alerts);
    truncated_data = MakeTemplateData(truncated_n, in.context.external_url);
    n = &truncated_n;
    data = &truncated_data;
  }
  BuildInput tin{*n, in.integration, in.global, in.context, *data};
  Renderer tr(tin);
  ASSIGN_OR_RETURN(std::string url, tr.Text("url", f.Get("url")));
  if (url.empty()) return r.Error("url", "empty after templating");
  if (core::Status s = CheckHttpUrl(url); !s.ok()) return r.Error("url", s.message());
  std::string target = MaskUrl(url, /*keep_path=*/false);
  ASSIGN_OR_RETURN(
      OutgoingRequest req,
      JsonPost(tin, tr, std::move(url), WebhookJson(*n, *data, truncated), std::move(target)));
  std::vector<OutgoingRequest> out;
  out.push_back(std::move(req));
  return out;
}

}  // namespace nines::alerting::notify_internal

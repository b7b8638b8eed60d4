// alerting/notifiers.cc: MakeTemplateData and BuildRequests (the kinds' payloads are in
// notify_<kind>.cc).
#include "alerting/notifiers.h"

#include <string>
#include <utility>
#include <vector>

#include "alerting/notify_internal.h"

namespace nines::alerting {

namespace {

using notify_internal::BuildInput;

std::map<std::string, std::string> ToMap(const core::Labels& labels) {
  std::map<std::string, std::string> m;
  for (const core::Label& l : labels) m.emplace(l.name, l.value);
  return m;
}

// Keeps the entries of `common` that `other` has with the same value.
void Intersect(std::map<std::string, std::string>* common,
               const std::map<std::string, std::string>& other) {
  for (auto it = common->begin(); it != common->end();) {
    auto o = other.find(it->first);
    it = (o == other.end() || o->second != it->second) ? common->erase(it) : std::next(it);
  }
}

}  // namespace

// As Alertmanager's template.Data: the receiver name with regexp metacharacters escaped (its
// QuoteMeta), the group status, and the labels and annotations every alert shares.
TemplateData MakeTemplateData(const Notification& n, std::string_view external_url) {
  TemplateData d;
  d.receiver = notify_internal::QuoteMeta(n.receiver);
  d.status = std::string(AlertStatusName(n.Status()));
  d.external_url = std::string(external_url);
  d.group_labels = ToMap(n.group_labels);
  d.alerts.reserve(n.alerts.size());
  for (const Alert& a : n.alerts) {
    TemplateAlert t;
    t.status = std::string(AlertStatusName(a.status));
    t.labels = ToMap(a.labels);
    t.annotations = a.annotations;
    t.starts_at = a.starts_at;
    t.ends_at = a.ends_at;
    t.generator_url = a.generator_url;
    t.fingerprint = a.Fingerprint().ToString();
    d.alerts.push_back(std::move(t));
  }
  if (!d.alerts.empty()) {
    d.common_labels = d.alerts[0].labels;
    d.common_annotations = d.alerts[0].annotations;
    for (size_t i = 1; i < d.alerts.size(); ++i) {
      Intersect(&d.common_labels, d.alerts[i].labels);
      Intersect(&d.common_annotations, d.alerts[i].annotations);
    }
  }
  return d;
}

core::Result<std::vector<OutgoingRequest>> BuildRequests(const Notification& n,
                                                         const Integration& integration,
                                                         const GlobalConfig& global,
                                                         const NotifyContext& context) {
  if (context.templates == nullptr) {
    return core::InvalidArgumentError("receiver {}: no template set to render notifications",
                                      n.receiver);
  }
  // An integration that does not send resolved alerts never sees them (the dispatcher leaves
  // them out already; this keeps the function right for any caller).
  Notification filtered;
  const Notification* use = &n;
  if (!integration.send_resolved) {
    filtered = n;
    std::erase_if(filtered.alerts,
                  [](const Alert& a) { return a.status == AlertStatus::kResolved; });
    use = &filtered;
  }
  if (use->alerts.empty()) return std::vector<OutgoingRequest>{};
  TemplateData data = MakeTemplateData(*use, context.external_url);
  BuildInput in{*use, integration, global, context, data};
  switch (integration.kind) {
    case IntegrationKind::kWebhook:
      return notify_internal::BuildWebhook(in);
    case IntegrationKind::kPagerDuty:
      return notify_internal::BuildPagerDuty(in);
    case IntegrationKind::kSlack:
      return notify_internal::BuildSlack(in);
    case IntegrationKind::kOpsgenie:
      return notify_internal::BuildOpsgenie(in);
    case IntegrationKind::kEmail:
      return notify_internal::BuildEmail(in);
  }
  return core::InvalidArgumentError("receiver {}: unknown integration kind", n.receiver);
}

}  // namespace nines::alerting

// The documents of Alertmanager's API v2 (api/alertmanager_api.h), written with
// core/json.h's appenders in the key order Alertmanager's own (go-swagger)
// models print them.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/alertmanager_api.h"
#include "core/json.h"

namespace nines::api {
namespace {

// Go's zero time.Time as Alertmanager prints it; an unset time (the zero
// Timestamp) shows so.
constexpr std::string_view kGoZeroTime = "0001-01-01T00:00:00.000Z";

void AppendTime(std::string* out, core::Timestamp t) {
  if (t == core::Timestamp()) {
    core::AppendJsonString(out, kGoZeroTime);
  } else {
    core::AppendJsonString(out, t.ToRfc3339());
  }
}

void AppendStringArray(std::string* out, const std::vector<std::string>& items) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    core::AppendJsonString(out, items[i]);
  }
  out->push_back(']');
}

void AppendReceiver(std::string* out, std::string_view name) {
  out->append(R"({"name":)");
  core::AppendJsonString(out, name);
  out->push_back('}');
}

void AppendMatcher(std::string* out, const alerting::Matcher& m) {
  const bool is_regex =
      m.type() == alerting::MatchType::kRegexp || m.type() == alerting::MatchType::kNotRegexp;
  const bool is_equal =
      m.type() == alerting::MatchType::kEqual || m.type() == alerting::MatchType::kRegexp;
  out->append(R"({"isEqual":)");
  out->append(is_equal ? "true" : "false");
  out->append(R"(,"isRegex":)");
  out->append(is_regex ? "true" : "false");
  out->append(R"(,"name":)");
  core::AppendJsonString(out, m.name());
  out->append(R"(,"value":)");
  core::AppendJsonString(out, m.value());
  out->push_back('}');
}

void AppendGettableAlert(std::string* out, const alerting::AlertView& view) {
  const alerting::Alert& a = view.alert;
  const bool suppressed = !view.silenced_by.empty() || !view.inhibited_by.empty();
  out->append(R"({"annotations":)");
  core::AppendJsonStringMap(out, a.annotations);
  out->append(R"(,"endsAt":)");
  AppendTime(out, a.ends_at);
  out->append(R"(,"fingerprint":)");
  core::AppendJsonString(out, a.Fingerprint().ToString());
  out->append(R"(,"receivers":[)");
  for (size_t i = 0; i < view.receivers.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendReceiver(out, view.receivers[i]);
  }
  out->append(R"(],"startsAt":)");
  AppendTime(out, a.starts_at);
  out->append(R"(,"status":{"inhibitedBy":)");
  AppendStringArray(out, view.inhibited_by);
  out->append(R"(,"silencedBy":)");
  AppendStringArray(out, view.silenced_by);
  out->append(R"(,"state":)");
  core::AppendJsonString(out, suppressed ? "suppressed" : "active");
  // nines does not keep when an alert was last received; its start is the
  // stable stand-in.
  out->append(R"(},"updatedAt":)");
  AppendTime(out, a.starts_at);
  if (!a.generator_url.empty()) {
    out->append(R"(,"generatorURL":)");
    core::AppendJsonString(out, a.generator_url);
  }
  out->append(R"(,"labels":)");
  core::AppendJsonLabels(out, a.labels);
  out->push_back('}');
}

void AppendGettableSilence(std::string* out, const alerting::Silence& s, core::Timestamp now) {
  out->append(R"({"id":)");
  core::AppendJsonString(out, s.id);
  out->append(R"(,"status":{"state":)");
  core::AppendJsonString(out, alerting::SilenceStateName(s.State(now)));
  out->append(R"(},"updatedAt":)");
  AppendTime(out, s.updated_at);
  out->append(R"(,"comment":)");
  core::AppendJsonString(out, s.comment);
  out->append(R"(,"createdBy":)");
  core::AppendJsonString(out, s.created_by);
  out->append(R"(,"endsAt":)");
  AppendTime(out, s.ends_at);
  out->append(R"(,"matchers":[)");
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendMatcher(out, s.matchers[i]);
  }
  out->append(R"(],"startsAt":)");
  AppendTime(out, s.starts_at);
  out->push_back('}');
}

int StateOrder(alerting::SilenceState s) {
  switch (s) {
    case alerting::SilenceState::kActive:
      return 1;
    case alerting::SilenceState::kPending:
      return 2;
    case alerting::SilenceState::kExpired:
      return 3;
  }
  return 4;
}

}  // namespace

std::string GettableAlertJson(const alerting::AlertView& view) {
  std::string out;
  AppendGettableAlert(&out, view);
  return out;
}

std::string GettableAlertsJson(const std::vector<alerting::AlertView>& views) {
  std::string out = "[";
  for (size_t i = 0; i < views.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendGettableAlert(&out, views[i]);
  }
  out.push_back(']');
  return out;
}

std::string GettableSilenceJson(const alerting::Silence& silence, core::Timestamp now) {
  std::string out;
  AppendGettableSilence(&out, silence, now);
  return out;
}

std::string GettableSilencesJson(std::vector<alerting::Silence> silences, core::Timestamp now) {
  std::stable_sort(silences.begin(), silences.end(),
                   [now](const alerting::Silence& a, const alerting::Silence& b) {
                     const alerting::SilenceState sa = a.State(now);
                     const alerting::SilenceState sb = b.State(now);
                     if (sa != sb) return StateOrder(sa) < StateOrder(sb);
                     switch (sa) {
                       case alerting::SilenceState::kActive:
                         return a.ends_at < b.ends_at;
                       case alerting::SilenceState::kPending:
                         return a.starts_at < b.starts_at;
                       case alerting::SilenceState::kExpired:
                         return a.ends_at > b.ends_at;
                     }
                     return false;
                   });
  std::string out = "[";
  for (size_t i = 0; i < silences.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendGettableSilence(&out, silences[i], now);
  }
  out.push_back(']');
  return out;
}

std::string ReceiversJson(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendReceiver(&out, names[i]);
  }
  out.push_back(']');
  return out;
}

std::string AlertmanagerStatusJson(const AlertmanagerStatusInfo& info) {
  std::string out = R"({"cluster":{"peers":[],"status":"disabled"},"config":{"original":)";
  core::AppendJsonString(&out, info.config_original);
  out.append(R"(},"uptime":)");
  AppendTime(&out, info.started_at);
  // Alertmanager's build fields; nines has a version and nothing that maps onto
  // the others.
  out.append(R"(,"versionInfo":{"branch":"","buildDate":"","buildUser":"","goVersion":"",)"
             R"("revision":"","version":)");
  core::AppendJsonString(&out, info.version.empty() ? std::string_view(NINES_VERSION)
                                                    : std::string_view(info.version));
  out.append("}}");
  return out;
}

std::string AlertGroupJson(const alerting::Dispatcher::GroupView& group,
                           const std::vector<alerting::AlertView>& alerts) {
  std::map<alerting::Fingerprint, const alerting::AlertView*> by_fingerprint;
  for (const auto& v : alerts) by_fingerprint.emplace(v.alert.Fingerprint(), &v);
  std::string out = R"({"alerts":[)";
  bool first = true;
  for (const alerting::Alert& a : group.alerts) {
    if (!first) out.push_back(',');
    first = false;
    auto it = by_fingerprint.find(a.Fingerprint());
    if (it != by_fingerprint.end()) {
      AppendGettableAlert(&out, *it->second);
    } else {
      alerting::AlertView view;
      view.alert = a;
      view.receivers = {group.receiver};
      AppendGettableAlert(&out, view);
    }
  }
  out.append(R"(],"labels":)");
  core::AppendJsonLabels(&out, group.group_labels);
  out.append(R"(,"receiver":)");
  AppendReceiver(&out, group.receiver);
  out.push_back('}');
  return out;
}

}  // namespace nines::api

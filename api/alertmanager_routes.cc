// Alertmanager's API v2 routes (api/alertmanager_api.h): parameters, filters,
// and the answers.
#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/alertmanager_api.h"
#include "core/json.h"

namespace nines::api {
namespace {

// An error as Alertmanager answers one: the reason as a JSON string.
net::Response AmError(int status, std::string_view reason) {
  std::string body;
  core::AppendJsonString(&body, reason);
  return net::Response::Json(status, std::move(body));
}

int AmStatusFor(const core::Status& s) {
  switch (s.code()) {
    case core::StatusCode::kInvalidArgument:
    case core::StatusCode::kOutOfRange:
      return 400;
    case core::StatusCode::kNotFound:
      return 404;
    case core::StatusCode::kUnavailable:
      // Not running (yet or any more): clients (Prometheus, amtool) retry a 503. api's
      // HttpStatusFor maps UNAVAILABLE to 500 for the engine's own routes.
      return 503;
    default:
      return 500;
  }
}

net::Response AmError(const core::Status& s) { return AmError(AmStatusFor(s), s.message()); }

// Go's strconv.ParseBool, which go-swagger's query binding accepts.
core::Result<bool> ParseQueryBool(std::string_view name, std::string_view text) {
  static constexpr std::string_view kTrue[] = {"1", "t", "T", "true", "TRUE", "True"};
  static constexpr std::string_view kFalse[] = {"0", "f", "F", "false", "FALSE", "False"};
  for (auto t : kTrue) {
    if (text == t) return true;
  }
  for (auto f : kFalse) {
    if (text == f) return false;
  }
  return core::InvalidArgumentError("{}: \"{}\" is not a boolean (true or false)", name, text);
}

// Alertmanager's matchFilterLabels: a matcher of the empty value is satisfied
// by an absent label (=, =~) or a present one (!=, !~), as its API filters
// alerts.
bool FilterMatches(const alerting::Matchers& matchers, const core::Labels& labels) {
  for (const alerting::Matcher& m : matchers) {
    const std::string_view v = labels.Get(m.name());
    const bool present = !v.empty();
    const bool negative =
        m.type() == alerting::MatchType::kNotEqual || m.type() == alerting::MatchType::kNotRegexp;
    if (m.value().empty() && (negative ? present : !present)) continue;
    if (!m.Matches(v)) return false;
  }
  return true;
}

bool Suppressed(const alerting::AlertView& v) {
  return !v.silenced_by.empty() || !v.inhibited_by.empty();
}

// Silences whose matchers include every `filter` matcher exactly (name, type
// and value), as Alertmanager filters GET /api/v2/silences.
bool SilenceHasMatchers(const alerting::Silence& s, const alerting::Matchers& filter) {
  for (const alerting::Matcher& f : filter) {
    const bool found = std::any_of(s.matchers.begin(), s.matchers.end(), [&](const auto& m) {
      return m.name() == f.name() && m.type() == f.type() && m.value() == f.value();
    });
    if (!found) return false;
  }
  return true;
}

core::Result<alerting::Matchers> ParseFilterParams(const std::vector<std::string>& filters) {
  alerting::Matchers out;
  for (const std::string& f : filters) {
    auto m = alerting::ParseMatcher(f);
    if (!m.ok()) return m.status().WithContext("filter \"" + f + "\"");
    out.push_back(std::move(*m));
  }
  return out;
}

std::vector<std::string> QueryValues(const std::vector<std::pair<std::string, std::string>>& params,
                                     std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) {
    if (k == name) out.push_back(v);
  }
  return out;
}

net::Response GetAlerts(const AlertmanagerBackend& backend, core::Clock& clock,
                        const net::Request& req) {
  auto filter = ParseAlertmanagerAlertFilter(req.query);
  if (!filter.ok()) return AmError(filter.status());
  const core::Timestamp now = clock.Now();
  std::vector<alerting::AlertView> views = backend.Alerts();
  std::vector<alerting::AlertView> out;
  for (auto& v : views) {
    if (filter->Passes(v, now)) out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.alert.Fingerprint().ToString() < b.alert.Fingerprint().ToString();
  });
  return net::Response::Json(200, GettableAlertsJson(out));
}

net::Response GetAlertGroups(const AlertmanagerBackend& backend, core::Clock& clock,
                             const net::Request& req) {
  auto filter = ParseAlertmanagerAlertFilter(req.query);
  if (!filter.ok()) return AmError(filter.status());
  const core::Timestamp now = clock.Now();
  const std::vector<alerting::AlertView> views = backend.Alerts();
  std::map<alerting::Fingerprint, const alerting::AlertView*> by_fingerprint;
  for (const auto& v : views) by_fingerprint.emplace(v.alert.Fingerprint(), &v);
  // The receiver filter applies to each group's receiver here, not to each alert's receivers.
  AlertmanagerAlertFilter per_alert = *filter;
  per_alert.receiver.reset();
  std::string body = "[";
  bool first = true;
  for (auto& group : backend.Groups()) {
    if (filter->receiver && !filter->receiver->FullMatch(group.receiver)) continue;
    std::vector<alerting::Alert> kept;
    bool all_muted = true;
    for (auto& a : group.alerts) {
      alerting::AlertView fallback;
      fallback.alert = a;
      fallback.receivers = {group.receiver};
      auto it = by_fingerprint.find(a.Fingerprint());
      const alerting::AlertView& v = it != by_fingerprint.end() ? *it->second : fallback;
      if (!per_alert.Passes(v, now)) continue;
      all_muted = all_muted && Suppressed(v);
      kept.push_back(std::move(a));
    }
    if (kept.empty() || (!filter->muted && all_muted)) continue;
    group.alerts = std::move(kept);
    if (!first) body.push_back(',');
    first = false;
    body += AlertGroupJson(group, views);
  }
  body.push_back(']');
  return net::Response::Json(200, std::move(body));
}

net::Response PostAlerts(AlertmanagerBackend& backend, core::Clock& clock,
                         const net::Request& req) {
  auto posted = ParsePostableAlerts(req.body, clock.Now());
  if (!posted.ok()) return AmError(posted.status());
  // Best effort, as Alertmanager: the valid alerts are taken even when others
  // are refused.
  if (!posted->valid.empty()) {
    if (core::Status s = backend.Receive(std::move(posted->valid)); !s.ok()) return AmError(s);
  }
  if (!posted->errors.empty()) {
    std::string reason;
    for (const auto& e : posted->errors) {
      if (!reason.empty()) reason += "; ";
      reason += e;
    }
    return AmError(400, reason);
  }
  return net::Response::Json(200, "");
}

net::Response GetSilences(const AlertmanagerBackend& backend, core::Clock& clock,
                          const net::Request& req) {
  auto matchers = ParseFilterParams(req.QueryParams("filter"));
  if (!matchers.ok()) return AmError(matchers.status());
  std::vector<alerting::Silence> out;
  for (auto& s : backend.Silences()) {
    if (SilenceHasMatchers(s, *matchers)) out.push_back(std::move(s));
  }
  return net::Response::Json(200, GettableSilencesJson(std::move(out), clock.Now()));
}

net::Response PostSilence(AlertmanagerBackend& backend, core::Clock& clock,
                          const net::Request& req) {
  auto silence = ParsePostableSilence(req.body);
  if (!silence.ok()) return AmError(silence.status());
  if (silence->starts_at >= silence->ends_at) {
    return AmError(400, "silence.endsAt: the start time must be before the end time");
  }
  if (silence->ends_at < clock.Now()) {
    return AmError(400, "silence.endsAt: the end time can't be in the past");
  }
  auto id = backend.AddSilence(std::move(*silence));
  if (!id.ok()) return AmError(id.status());
  std::string body = R"({"silenceID":)";
  core::AppendJsonString(&body, *id);
  body.push_back('}');
  return net::Response::Json(200, std::move(body));
}

net::Response GetSilence(const AlertmanagerBackend& backend, core::Clock& clock,
                         const net::Request& req) {
  const std::string_view id = req.PathParam("id");
  for (const auto& s : backend.Silences()) {
    if (s.id == id) return net::Response::Json(200, GettableSilenceJson(s, clock.Now()));
  }
  return AmError(404, "silenceID: no silence with id \"" + std::string(id) + "\"");
}

net::Response DeleteSilence(AlertmanagerBackend& backend, const net::Request& req) {
  const std::string id(req.PathParam("id"));
  core::Status s = backend.ExpireSilence(id);
  if (!s.ok()) return AmError(s.WithContext("silenceID \"" + id + "\""));
  return net::Response::Json(200, "");
}

}  // namespace

bool AlertmanagerAlertFilter::Passes(const alerting::AlertView& view, core::Timestamp now) const {
  const alerting::Alert& a = view.alert;
  if (a.ends_at != core::Timestamp() && a.ends_at < now) return false;
  const bool silenced_now = !view.silenced_by.empty();
  const bool inhibited_now = !view.inhibited_by.empty();
  if (!active && !silenced_now && !inhibited_now) return false;
  if (!silenced && silenced_now) return false;
  if (!inhibited && inhibited_now) return false;
  if (receiver) {
    const bool any = std::any_of(view.receivers.begin(), view.receivers.end(),
                                 [&](const std::string& r) { return receiver->FullMatch(r); });
    if (!any) return false;
  }
  return FilterMatches(matchers, a.labels);
}

core::Result<AlertmanagerAlertFilter> ParseAlertmanagerAlertFilter(std::string_view query) {
  const auto params = net::ParseQueryString(query);
  AlertmanagerAlertFilter f;
  ASSIGN_OR_RETURN(f.matchers, ParseFilterParams(QueryValues(params, "filter")));
  const std::pair<std::string_view, bool*> flags[] = {
      {"active", &f.active},           {"silenced", &f.silenced}, {"inhibited", &f.inhibited},
      {"unprocessed", &f.unprocessed}, {"muted", &f.muted},
  };
  for (const auto& [name, field] : flags) {
    const auto values = QueryValues(params, name);
    if (values.empty()) continue;
    ASSIGN_OR_RETURN(*field, ParseQueryBool(name, values.front()));
  }
  const auto receivers = QueryValues(params, "receiver");
  if (!receivers.empty() && !receivers.front().empty()) {
    auto re = core::Regex::Compile("^(?:" + receivers.front() + ")$");
    if (!re.ok()) return re.status().WithContext("receiver: bad regex");
    f.receiver = std::move(*re);
  }
  return f;
}

void RegisterAlertmanagerRoutes(net::Router& router, AlertmanagerBackend& backend,
                                core::Clock& clock) {
  AlertmanagerBackend* b = &backend;
  core::Clock* c = &clock;
  // Every route but status answers 503 while the backend is not ready.
  auto handle = [&router, b](const char* method, const char* path, net::Access access,
                             std::function<net::Response(const net::Request&)> f) {
    router.Handle(method, path, access, [b, f = std::move(f)](const net::Request& req) {
      if (core::Status s = b->Ready(); !s.ok()) return AmError(s);
      return f(req);
    });
  };
  router.Handle("GET", "/api/v2/status", net::Access::kPublic, [b](const net::Request&) {
    return net::Response::Json(200, AlertmanagerStatusJson(b->StatusInfo()));
  });
  handle("GET", "/api/v2/receivers", net::Access::kPublic, [b](const net::Request&) {
    return net::Response::Json(200, ReceiversJson(b->ReceiverNames()));
  });
  handle("GET", "/api/v2/alerts", net::Access::kPublic,
         [b, c](const net::Request& req) { return GetAlerts(*b, *c, req); });
  handle("POST", "/api/v2/alerts", net::Access::kWrite,
         [b, c](const net::Request& req) { return PostAlerts(*b, *c, req); });
  handle("GET", "/api/v2/alerts/groups", net::Access::kPublic,
         [b, c](const net::Request& req) { return GetAlertGroups(*b, *c, req); });
  handle("GET", "/api/v2/silences", net::Access::kPublic,
         [b, c](const net::Request& req) { return GetSilences(*b, *c, req); });
  handle("POST", "/api/v2/silences", net::Access::kWrite,
         [b, c](const net::Request& req) { return PostSilence(*b, *c, req); });
  handle("GET", "/api/v2/silence/{id}", net::Access::kPublic,
         [b, c](const net::Request& req) { return GetSilence(*b, *c, req); });
  handle("DELETE", "/api/v2/silence/{id}", net::Access::kWrite,
         [b](const net::Request& req) { return DeleteSilence(*b, req); });
}

}  // namespace nines::api

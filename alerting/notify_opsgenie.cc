// alerting/notify_opsgenie.cc: Opsgenie's Alert API v2 as Alertmanager's notify/opsgenie uses
// it: create (POST v2/alerts, alias = the SHA-256 of the group key) while any alert fires, with
// update_alerts also the message and description (PUT); close (POST
// v2/alerts/{alias}/close?identifierType=alias) when all resolved. Authorization "GenieKey KEY".
// API: https://docs.opsgenie.com/docs/alert-api
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "alerting/notify_internal.h"
#include "core/json.h"

namespace nines::alerting::notify_internal {

namespace {

constexpr std::string_view kDefaultApiUrl = "https://api.opsgenie.com/";
constexpr size_t kMaxMessageRunes = 130;

// Alertmanager's safeSplit: split on `sep` after trimming, empty parts dropped.
std::vector<std::string> SafeSplit(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return out;
  s = s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
  while (true) {
    size_t p = s.find(sep);
    std::string_view part = s.substr(0, p);
    if (!part.empty()) out.emplace_back(part);
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

void AppendStringList(std::string* out, std::string_view name,
                      const std::vector<std::string>& list) {
  if (list.empty()) return;
  *out += ",\"";
  *out += name;
  *out += "\":[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) *out += ',';
    core::AppendJsonString(out, list[i]);
  }
  *out += ']';
}

void AppendOptional(std::string* out, std::string_view name, const std::string& value) {
  if (value.empty()) return;
  *out += ",\"";
  *out += name;
  *out += "\":";
  core::AppendJsonString(out, value);
}

// `base` (ending in "/") with `path` appended to its path, and `query` (already encoded).
std::string Endpoint(std::string_view base, std::string_view path, std::string_view query) {
  size_t q = base.find('?');
  std::string out(base.substr(0, q));
  out += path;
  std::string query_all(query);
  if (q != std::string_view::npos && q + 1 < base.size()) {
    query_all = query_all.empty() ? std::string(base.substr(q + 1))
                                  : std::string(base.substr(q + 1)) + "&" + query_all;
  }
  if (!query_all.empty()) out += "?" + query_all;
  return out;
}

core::Result<std::string> Responders(const BuildInput& in, const Renderer& r) {
  Fields f(in.integration.fields);
  std::string out;
  auto add = [&](const std::string& id, const std::string& name, const std::string& username,
                 const std::string& type) {
    out += out.empty() ? "[" : ",";
    out += '{';
    std::string fields;
    AppendOptional(&fields, "id", id);
    AppendOptional(&fields, "name", name);
    AppendOptional(&fields, "username", username);
    fields += ",\"type\":";
    core::AppendJsonString(&fields, type);
    out += fields.substr(1);  // without the first comma
    out += '}';
  };
  for (size_t i = 0; i < f.ListSize("responders"); ++i) {
    std::string p = "responders." + std::to_string(i);
    ASSIGN_OR_RETURN(std::string id, r.Text(p + ".id", f.Get(p + ".id")));
    ASSIGN_OR_RETURN(std::string name, r.Text(p + ".name", f.Get(p + ".name")));
    ASSIGN_OR_RETURN(std::string username, r.Text(p + ".username", f.Get(p + ".username")));
    ASSIGN_OR_RETURN(std::string type, r.Text(p + ".type", f.Get(p + ".type")));
    if (id.empty() && name.empty() && username.empty() && type.empty()) continue;
    if (type == "teams") {
      for (const std::string& team : SafeSplit(name, ',')) {
        ASSIGN_OR_RETURN(std::string t, r.Text(p + ".name", team));
        add("", t, "", "team");
      }
      continue;
    }
    add(id, name, username, type);
  }
  return out.empty() ? out : out + "]";
}

// The create request's body (opsGenieCreateMessage as encoding/json writes it).
core::Result<std::string> CreateJson(const BuildInput& in, const Renderer& r,
                                     const std::string& alias, std::string* message,
                                     std::string* description) {
  Fields f(in.integration.fields);
  ASSIGN_OR_RETURN(
      std::string m,
      r.Text("message", f.Get("message", DefaultTemplate("opsgenie.default.message"))));
  *message = TruncateRunes(m, kMaxMessageRunes);
  ASSIGN_OR_RETURN(
      *description,
      r.Text("description", f.Get("description", DefaultTemplate("opsgenie.default.description"))));
  ASSIGN_OR_RETURN(std::string source,
                   r.Text("source", f.Get("source", DefaultTemplate("opsgenie.default.source"))));
  // details: the common labels, nines' budget numbers, then the configured details.
  std::map<std::string, std::string> details = in.data.common_labels;
  SloFacts facts = GetSloFacts(in.data);
  const std::pair<std::string_view, const std::string*> budget[] = {
      {"region", &facts.region},
      {"slo", &facts.slo},
      {"budget_remaining", &facts.budget_remaining},
      {"budget_total", &facts.budget_total},
      {"budget_unit", &facts.budget_unit},
      {"budget_remaining_ratio", &facts.budget_remaining_ratio},
      {"long_burn_rate", &facts.long_burn_rate},
      {"short_burn_rate", &facts.short_burn_rate},
      {"window_pair", &facts.window_pair},
      {"exhaustion_at_1h_burn", &facts.exhaustion_at_1h_burn}};
  for (const auto& [key, value] : budget) {
    if (!value->empty()) details.emplace(key, *value);
  }
  for (const auto& [key, text] : f.Map("details")) {
    ASSIGN_OR_RETURN(details[key], r.Text("details." + key, text));
  }
  ASSIGN_OR_RETURN(std::string responders, Responders(in, r));
  ASSIGN_OR_RETURN(std::string tags, r.Text("tags", f.Get("tags")));
  ASSIGN_OR_RETURN(std::string note, r.Text("note", f.Get("note")));
  ASSIGN_OR_RETURN(std::string priority, r.Text("priority", f.Get("priority")));
  ASSIGN_OR_RETURN(std::string entity, r.Text("entity", f.Get("entity")));
  ASSIGN_OR_RETURN(std::string actions, r.Text("actions", f.Get("actions")));

  std::string out = "{\"alias\":";
  core::AppendJsonString(&out, alias);
  out += ",\"message\":";
  core::AppendJsonString(&out, *message);
  AppendOptional(&out, "description", *description);
  out += ",\"details\":";
  core::AppendJsonStringMap(&out, details);
  out += ",\"source\":";
  core::AppendJsonString(&out, source);
  if (!responders.empty()) out += ",\"responders\":" + responders;
  AppendStringList(&out, "tags", SafeSplit(tags, ','));
  AppendOptional(&out, "note", note);
  AppendOptional(&out, "priority", priority);
  AppendOptional(&out, "entity", entity);
  AppendStringList(&out, "actions", SafeSplit(actions, ','));
  return out + "}\n";
}

}  // namespace

core::Result<std::vector<OutgoingRequest>> BuildOpsgenie(const BuildInput& in) {
  Fields f(in.integration.fields);
  Fields g(in.global.fields);
  Renderer r(in);
  std::string api_url = f.Get("api_url", g.Get("opsgenie_api_url", kDefaultApiUrl));
  if (api_url.empty()) api_url = kDefaultApiUrl;
  if (core::Status s = CheckHttpUrl(api_url); !s.ok()) return r.Error("api_url", s.message());
  {
    size_t q = api_url.find('?');
    if (api_url[(q == std::string::npos ? api_url.size() : q) - 1] != '/') {
      api_url.insert(q == std::string::npos ? api_url.size() : q, "/");
    }
  }
  std::string key_text = f.Has("api_key") ? f.Get("api_key") : g.Get("opsgenie_api_key");
  if (key_text.empty()) {
    return r.Error("api_key_file",
                   "keys in files are read when the configuration is loaded; "
                   "the integration has no api_key");
  }
  const std::string alias = Sha256Hex(in.n.group_key);
  struct Planned {
    std::string method, url, body;
  };
  std::vector<Planned> planned;
  if (in.data.status == "resolved") {
    ASSIGN_OR_RETURN(std::string source,
                     r.Text("source", f.Get("source", DefaultTemplate("opsgenie.default.source"))));
    std::string body = "{\"source\":";
    core::AppendJsonString(&body, source);
    planned.push_back({"POST",
                       Endpoint(api_url, "v2/alerts/" + alias + "/close", "identifierType=alias"),
                       body + "}\n"});
  } else {
    std::string message, description;
    ASSIGN_OR_RETURN(std::string create, CreateJson(in, r, alias, &message, &description));
    planned.push_back({"POST", Endpoint(api_url, "v2/alerts", ""), std::move(create)});
    if (f.Bool("update_alerts", false)) {
      std::string m = "{";
      if (!message.empty()) {
        m += "\"message\":";
        core::AppendJsonString(&m, message);
      }
      planned.push_back(
          {"PUT", Endpoint(api_url, "v2/alerts/" + alias + "/message", "identifierType=alias"),
           m + "}\n"});
      std::string d = "{";
      if (!description.empty()) {
        d += "\"description\":";
        core::AppendJsonString(&d, description);
      }
      planned.push_back(
          {"PUT", Endpoint(api_url, "v2/alerts/" + alias + "/description", "identifierType=alias"),
           d + "}\n"});
    }
  }
  ASSIGN_OR_RETURN(std::string key, r.Text("api_key", key_text));
  std::vector<OutgoingRequest> out;
  for (Planned& p : planned) {
    std::string target = MaskUrl(p.url, /*keep_path=*/true);
    ASSIGN_OR_RETURN(OutgoingRequest req,
                     JsonPost(in, r, std::move(p.url), std::move(p.body), std::move(target)));
    req.http.method = p.method;
    // Set on the request itself, so it wins over an http_config authorization (as in Go, where
    // the client's round tripper leaves a request's own Authorization alone).
    req.http.headers.Set("Authorization", "GenieKey " + key);
    req.secrets.push_back(key);
    req.dedup_key = alias;
    out.push_back(std::move(req));
  }
  return out;
}

}  // namespace nines::alerting::notify_internal

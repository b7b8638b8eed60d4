// Alertmanager's configuration format (see alerting_config.h): `receivers`, with each
// integration kind's fields and the checks Alertmanager makes of them, and `time_intervals`.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <set>
#include <string>
#include <utility>

#include "app/alerting_config_internal.h"

namespace nines::app::alerting_config_internal {

namespace {

constexpr std::string_view kSupportedKinds =
    "nines sends to webhook_configs, pagerduty_configs, slack_configs, opsgenie_configs and "
    "email_configs";

// Receiver kinds Alertmanager has and nines does not.
constexpr std::string_view kUnsupportedKinds[] = {
    "discord_configs",   "incidentio_configs", "wechat_configs",   "pushover_configs",
    "victorops_configs", "sns_configs",        "telegram_configs", "webex_configs",
    "msteams_configs",   "msteamsv2_configs",  "jira_configs",     "rocketchat_configs",
    "mattermost_configs"};

}  // namespace

const std::vector<KindSpec>& KindSpecs() {
  static const std::vector<KindSpec> specs = {
      {"webhook_configs", IntegrationKind::kWebhook, true,
       {"http_config", "url", "url_file", "max_alerts", "timeout", "payload"}},
      {"pagerduty_configs", IntegrationKind::kPagerDuty, true,
       {"http_config", "service_key", "service_key_file", "routing_key", "routing_key_file", "url",
        "client", "client_url", "description", "details", "images", "links", "source",
        "severity", "class", "component", "group", "timeout"}},
      {"slack_configs", IntegrationKind::kSlack, false,
       {"http_config", "api_url", "api_url_file", "app_token", "app_token_file", "app_url",
        "channel", "username", "color", "title", "title_link", "pretext", "text", "message_text",
        "fields", "short_fields", "footer", "fallback", "callback_id", "icon_emoji", "icon_url",
        "image_url", "thumb_url", "link_names", "mrkdwn_in", "actions", "update_message",
        "timeout"}},
      {"opsgenie_configs", IntegrationKind::kOpsgenie, true,
       {"http_config", "api_key", "api_key_file", "api_url", "message", "description", "source",
        "details", "entity", "responders", "actions", "tags", "note", "priority",
        "update_alerts"}},
      {"email_configs", IntegrationKind::kEmail, false,
       {"to", "from", "hello", "smarthost", "auth_username", "auth_password",
        "auth_password_file", "auth_secret", "auth_secret_file", "auth_identity", "headers",
        "html", "text", "require_tls", "tls_config", "force_implicit_tls", "threading"}},
  };
  return specs;
}
void AlertmanagerParser::Receivers(const YAML::Node& v, const YAML::Mark& at,
                                   const std::string& path, std::vector<alerting::Receiver>* out) {
  std::map<std::string, YAML::Mark, std::less<>> names;
  r_.WalkList(v, at, path, [&](auto& item, auto& item_at, auto& item_path, size_t) {
    alerting::Receiver rcv;
    bool has_name = false;
    std::vector<YamlReader::Field> fields = {
        {"name", [&](auto& val, auto& a, auto& p) {
           if (auto s = r_.String(val, a, p)) {
             has_name = true;
             rcv.name = *s;
             r_.CheckUnique(&names, *s, a, p, "receiver");
           }
         }}};
    for (const KindSpec& spec : KindSpecs()) {
      const KindSpec* s = &spec;
      fields.push_back({spec.key, [&, s](auto& val, auto& a, auto& p) {
                          r_.WalkList(val, a, p, [&](auto& i, auto& i_at, auto& i_path, size_t) {
                            alerting::Integration integration;
                            Integration(*s, i, i_at, i_path, &integration);
                            rcv.integrations.push_back(std::move(integration));
                          });
                        }});
    }
    for (std::string_view kind : kUnsupportedKinds) {
      fields.push_back(UnsupportedField(kind, kSupportedKinds));
    }
    fields.push_back(UnsupportedField("labels", "receiver labels"));
    if (!r_.WalkItemMap(item, item_at, item_path, fields)) return;
    if (!has_name) r_.Required(item_at, item_path, "name", "");
    out->push_back(std::move(rcv));
  });
}

void AlertmanagerParser::Integration(const KindSpec& spec, const YAML::Node& item,
                                     const YAML::Mark& at, const std::string& path,
                                     alerting::Integration* out) {
  out->kind = spec.kind;
  out->send_resolved = spec.send_resolved;
  std::vector<YamlReader::Field> fields = {
      {"send_resolved", [&](auto& val, auto& a, auto& p) {
         if (auto b = r_.Bool(val, a, p)) out->send_resolved = *b;
       }}};
  std::set<std::string> headers;
  for (std::string_view name : spec.fields) {
    fields.push_back({name, [&, name](auto& val, auto& a, auto& p) {
                        CheckField(spec.kind, name, val, a, p, &headers);
                        Flatten(val, std::string(name), &out->fields);
                        CollectTemplated(spec.kind, val, a, p, std::string(name));
                      }});
  }
  if (!r_.WalkItemMap(item, at, path, fields)) return;
  CheckIntegration(spec, *out, at, path);
  ReadSecretFiles(at, path, &out->fields);
}

void AlertmanagerParser::CheckUrl(const YAML::Node& v, const YAML::Mark& at,
                                  const std::string& path, bool may_be_template) {
  if (!v.IsScalar()) return;  // reported as a raw field's type below, if at all
  std::string_view url = v.Scalar();
  if (url.empty() || (may_be_template && url.find("{{") != std::string_view::npos)) return;
  // The URL itself may hold a secret (a Slack webhook's path): it is not repeated in errors.
  size_t scheme_end = url.find("://");
  std::string scheme(url.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https") {
    r_.Error(at, fmt::format("{}: unsupported scheme {} for URL (want http or https)", path,
                             Quote(scheme)));
    return;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t userinfo = authority.rfind('@'); userinfo != std::string_view::npos) {
    authority.remove_prefix(userinfo + 1);
  }
  if (authority.empty()) r_.Error(at, fmt::format("{}: missing host for URL", path));
}

// Longer than most: the checks Alertmanager makes of single fields, kind by kind, in one place.
void AlertmanagerParser::CheckField(IntegrationKind kind, std::string_view name,
                                    const YAML::Node& v, const YAML::Mark& at,
                                    const std::string& path, std::set<std::string>* headers) {
  if (name == "url" || name == "api_url" || name == "app_url") {
    CheckUrl(v, at, path, /*may_be_template=*/kind == IntegrationKind::kWebhook);
  }
  if (name == "smarthost" && v.IsScalar() && !v.Scalar().empty() && !IsHostPort(v.Scalar())) {
    r_.Error(at, fmt::format("{}: {} is not host:port", path, Quote(v.Scalar())));
  }
  if (name == "headers" && v.IsMap()) {
    // Mail headers are case-insensitive: "subject" and "Subject" clash.
    for (auto it = v.begin(); it != v.end(); ++it) {
      std::string h = it->first.as<std::string>();
      std::transform(h.begin(), h.end(), h.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!headers->insert(h).second) {
        r_.Error(it->first.Mark(),
                 fmt::format("{}: duplicate header {}", path, Quote(it->first.Scalar())));
      }
    }
  }
  if (!v.IsSequence()) return;
  // List entries that Alertmanager requires some fields of.
  auto has = [](const YAML::Node& item, std::string_view key) {
    YAML::Node n = item[std::string(key)];
    return n && n.IsScalar() && !n.Scalar().empty();
  };
  for (size_t i = 0; i < v.size(); ++i) {
    YAML::Node item = v[i];
    if (!item.IsMap()) continue;
    std::string item_path = fmt::format("{}[{}]", path, i);
    YAML::Mark item_at = item.Mark();
    auto need = [&](bool ok, std::string_view what) {
      if (!ok) r_.Error(item_at, fmt::format("{}: missing {}", item_path, what));
    };
    if (kind == IntegrationKind::kOpsgenie && name == "responders") {
      need(has(item, "id") || has(item, "username") || has(item, "name"),
           "one of id, username or name");
      if (has(item, "type")) {
        std::string type = item["type"].Scalar();
        std::transform(type.begin(), type.end(), type.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (type.find("{{") == std::string::npos && type != "team" && type != "teams" &&
            type != "user" && type != "escalation" && type != "schedule") {
          r_.Error(item_at, fmt::format("{}.type: invalid responder type {} (want team, teams, "
                                        "user, escalation or schedule)",
                                        item_path, Quote(item["type"].Scalar())));
        }
      }
    } else if (kind == IntegrationKind::kSlack && name == "fields") {
      need(has(item, "title"), "title");
      need(has(item, "value"), "value");
    } else if (kind == IntegrationKind::kSlack && name == "actions") {
      need(has(item, "type"), "type");
      need(has(item, "text"), "text");
      need(has(item, "url") || has(item, "name"), "url or name");
    }
  }
}

void AlertmanagerParser::CheckIntegration(const KindSpec& spec, const alerting::Integration& i,
                                          const YAML::Mark& at, const std::string& path) {
  const auto& f = i.fields;
  const auto& g = global_->fields;
  auto error = [&](std::string message) { r_.Error(at, fmt::format("{}: {}", path, message)); };
  auto at_most_one = [&](std::string_view a, std::string_view b) {
    if (Has(f, a) && Has(f, b)) error(fmt::format("at most one of {} & {} must be configured", a, b));
  };
  switch (spec.kind) {
    case IntegrationKind::kWebhook:
      if (!Has(f, "url") && !Has(f, "url_file")) error("one of url or url_file must be configured");
      at_most_one("url", "url_file");
      break;
    case IntegrationKind::kPagerDuty:
      if (!Has(f, "routing_key") && !Has(f, "routing_key_file") && !Has(f, "service_key") &&
          !Has(f, "service_key_file")) {
        error("missing service_key or routing_key (or their _file forms)");
      }
      at_most_one("routing_key", "routing_key_file");
      at_most_one("service_key", "service_key_file");
      break;
    case IntegrationKind::kSlack: {
      at_most_one("api_url", "api_url_file");
      at_most_one("app_token", "app_token_file");
      const bool url = Has(f, "api_url") || Has(f, "api_url_file");
      const bool token = Has(f, "app_token") || Has(f, "app_token_file");
      if (url && token) {
        error("at most one of api_url/api_url_file & app_token/app_token_file must be configured");
      }
      if (!url && !token && !Has(g, "slack_api_url") && !Has(g, "slack_api_url_file") &&
          !Has(g, "slack_app_token") && !Has(g, "slack_app_token_file")) {
        error("no Slack API URL nor app token set, here or in global (slack_api_url, "
              "slack_app_token or their _file forms)");
      }
      break;
    }
    case IntegrationKind::kOpsgenie:
      at_most_one("api_key", "api_key_file");
      if (!Has(f, "api_key") && !Has(f, "api_key_file") && !Has(g, "opsgenie_api_key") &&
          !Has(g, "opsgenie_api_key_file")) {
        error("no Opsgenie API key set, here or in global (opsgenie_api_key or "
              "opsgenie_api_key_file)");
      }
      break;
    case IntegrationKind::kEmail:
      if (!Has(f, "to")) error("missing required field \"to\" (the recipients' addresses)");
      if (!Has(f, "smarthost") && !Has(g, "smtp_smarthost")) {
        error("no SMTP smarthost set, here (smarthost) or in global (smtp_smarthost)");
      }
      if (!Has(f, "from") && !Has(g, "smtp_from")) {
        error("no SMTP sender set, here (from) or in global (smtp_from)");
      }
      at_most_one("auth_password", "auth_password_file");
      at_most_one("auth_secret", "auth_secret_file");
      break;
  }
}
void AlertmanagerParser::TimeIntervals(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path,
                                       alerting::AlertmanagerConfig* out) {
  r_.WalkList(v, at, path, [&](auto& item, auto& item_at, auto& item_path, size_t) {
    std::string name;
    std::vector<TimeInterval> intervals;
    bool ok = r_.WalkItemMap(
        item, item_at, item_path,
        {
            {"name",
             [&](auto& val, auto& a, auto& p) {
               auto s = r_.String(val, a, p);
               if (s && r_.CheckUnique(&interval_names_, *s, a, p, "time interval")) name = *s;
             }},
            {"time_intervals",
             [&](auto& val, auto& a, auto& p) {
               r_.WalkList(val, a, p, [&](auto& spec, auto& spec_at, auto& spec_path, size_t) {
                 TimeInterval ti;
                 TimeIntervalSpec(spec, spec_at, spec_path, &ti);
                 intervals.push_back(std::move(ti));
               });
             }},
        });
    if (!ok) return;
    if (!YamlReader::Peek(item, "name")) {
      r_.Required(item_at, item_path, "name", "routes refer to the interval by it");
      return;
    }
    if (!name.empty()) out->time_intervals[name] = std::move(intervals);
  });
}

template <typename F>
void AlertmanagerParser::Ranges(const YAML::Node& v, const YAML::Mark& at,
                                const std::string& path, F parse,
                                std::vector<alerting::InclusiveRange>* out) {
  r_.WalkList(v, at, path, [&](auto& item, auto& item_at, auto& item_path, size_t) {
    auto s = r_.String(item, item_at, item_path);
    if (!s) return;
    core::Result<alerting::InclusiveRange> range = parse(*s);
    if (!range.ok()) {
      r_.Error(item_at, fmt::format("{}: {}", item_path, range.status().message()));
      return;
    }
    out->push_back(*range);
  });
}

void AlertmanagerParser::TimeIntervalSpec(const YAML::Node& v, const YAML::Mark& at,
                                          const std::string& path, TimeInterval* out) {
  r_.WalkItemMap(
      v, at, path,
      {
          {"times",
           [&](auto& val, auto& a, auto& p) {
             r_.WalkList(val, a, p, [&](auto& t, auto& t_at, auto& t_path, size_t) {
               std::string start, end;
               bool ok = r_.WalkItemMap(
                   t, t_at, t_path,
                   {
                       {"start_time",
                        [&](auto& x, auto& xa, auto& xp) {
                          if (auto s = r_.Scalar(x, xa, xp, "a time (HH:MM)")) start = *s;
                        }},
                       {"end_time",
                        [&](auto& x, auto& xa, auto& xp) {
                          if (auto s = r_.Scalar(x, xa, xp, "a time (HH:MM)")) end = *s;
                        }},
                   });
               if (!ok) return;
               core::Result<alerting::TimeOfDayRange> range =
                   alerting::ParseTimeOfDayRange(start, end);
               if (!range.ok()) {
                 r_.Error(t_at, fmt::format("{}: {}", t_path, range.status().message()));
                 return;
               }
               out->times.push_back(*range);
             });
           }},
          {"weekdays",
           [&](auto& val, auto& a, auto& p) {
             Ranges(val, a, p, alerting::ParseWeekdayRange, &out->weekdays);
           }},
          {"days_of_month",
           [&](auto& val, auto& a, auto& p) {
             Ranges(val, a, p, alerting::ParseDayOfMonthRange, &out->days_of_month);
           }},
          {"months",
           [&](auto& val, auto& a, auto& p) {
             Ranges(val, a, p, alerting::ParseMonthRange, &out->months);
           }},
          {"years",
           [&](auto& val, auto& a, auto& p) {
             Ranges(val, a, p, alerting::ParseYearRange, &out->years);
           }},
          {"location",
           [&](auto& val, auto& a, auto& p) {
             auto s = r_.String(val, a, p);
             if (!s) return;
             core::Status st = out->SetLocation(*s);
             if (!st.ok()) {
               r_.Error(a, fmt::format("{}: {} (want an IANA zone such as \"Europe/Berlin\")", p,
                                       st.message()));
             }
           }},
      });
}
void AlertmanagerParser::ReadSecretFiles(const YAML::Mark& at, const std::string& path,
                                         std::map<std::string, std::string>* fields) {
  constexpr std::string_view kSuffix = "_file";
  std::vector<std::pair<std::string, std::string>> read;
  for (auto it = fields->begin(); it != fields->end();) {
    const std::string& key = it->first;
    if (!key.ends_with(kSuffix) || it->second.empty()) {
      ++it;
      continue;
    }
    const std::string file = r_.Resolve(it->second);
    std::ifstream in(file, std::ios::binary);
    std::ostringstream contents;
    if (in) contents << in.rdbuf();
    if (!in || in.bad()) {
      // The error names the field and the file, never the secret.
      r_.Error(at, fmt::format("{}.{}: cannot read {}: {}", path, key, file,
                               std::strerror(errno)));
      ++it;
      continue;
    }
    std::string value = contents.str();
    const auto not_space = [](unsigned char c) { return !std::isspace(c); };
    value.erase(std::find_if(value.rbegin(), value.rend(), not_space).base(), value.end());
    value.erase(value.begin(), std::find_if(value.begin(), value.end(), not_space));
    read.emplace_back(key.substr(0, key.size() - kSuffix.size()), std::move(value));
    it = fields->erase(it);
  }
  for (auto& [name, value] : read) (*fields)[name] = std::move(value);
}

}  // namespace nines::app::alerting_config_internal

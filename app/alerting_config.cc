// Alertmanager's configuration format (see alerting_config.h): the entry points, the top level,
// `global`, `route` and `inhibit_rules`. The sections are read in one pass with YamlReader;
// references (a route's receiver and time intervals) are recorded with their positions and
// checked once every section has been read, since YAML puts no order on them.
#include "app/alerting_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "app/alerting_config_internal.h"

namespace nines::app {
namespace alerting_config_internal {

namespace {

// Global settings of the receiver kinds Alertmanager has and nines does not.
constexpr std::string_view kUnsupportedGlobals[] = {
    "jira_api_url",         "wechat_api_url",           "wechat_api_secret",
    "wechat_api_secret_file", "wechat_api_corp_id",     "victorops_api_url",
    "victorops_api_key",    "victorops_api_key_file",   "telegram_api_url",
    "telegram_bot_token",   "telegram_bot_token_file",  "webex_api_url",
    "rocketchat_api_url",   "rocketchat_token",         "rocketchat_token_file",
    "rocketchat_token_id",  "rocketchat_token_id_file", "mattermost_webhook_url",
    "mattermost_webhook_url_file"};

// Global settings nines keeps for its receivers, as written.
constexpr std::string_view kRawGlobals[] = {
    "http_config",        "smtp_from",          "smtp_hello",
    "smtp_smarthost",     "smtp_auth_username", "smtp_auth_password",
    "smtp_auth_password_file", "smtp_auth_secret", "smtp_auth_secret_file",
    "smtp_auth_identity", "smtp_require_tls",   "smtp_tls_config",
    "smtp_force_implicit_tls", "slack_api_url", "slack_api_url_file",
    "slack_app_token",    "slack_app_token_file", "slack_app_url",
    "pagerduty_url",      "opsgenie_api_url",   "opsgenie_api_key",
    "opsgenie_api_key_file"};

}  // namespace

void Flatten(const YAML::Node& v, const std::string& prefix,
             std::map<std::string, std::string>* out) {
  if (v.IsMap()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      YAML::Node key = it->first;
      Flatten(it->second, prefix + "." + key.as<std::string>(), out);
    }
  } else if (v.IsSequence()) {
    for (size_t i = 0; i < v.size(); ++i) Flatten(v[i], fmt::format("{}.{}", prefix, i), out);
  } else {
    (*out)[prefix] = v.IsScalar() ? v.Scalar() : std::string();
  }
}

bool Has(const std::map<std::string, std::string>& fields, std::string_view key) {
  auto it = fields.find(std::string(key));
  return it != fields.end() && !it->second.empty();
}

bool IsHostPort(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == s.size()) return false;
  std::string_view host = s.substr(0, colon);
  if (host.starts_with('[')) return host.ends_with(']');
  return host.find(':') == std::string_view::npos;
}

void AlertmanagerParser::Top(const YAML::Node& node, const YAML::Mark& at,
                             const std::string& path, alerting::AlertmanagerConfig* out) {
  bool has_route = false;
  // Receivers are checked against the global defaults, wherever `global` is in the file.
  global_ = &out->global;
  if (auto g = YamlReader::Peek(node, "global")) {
    Global(g->first, g->second, YamlReader::Join(path, "global"), &out->global);
  }
  r_.WalkMap(
      node, at, path,
      {
          {"global", [](auto&, auto&, auto&) {}},  // read above
          {"route",
           [&](auto& v, auto& a, auto& p) {
             has_route = true;
             if (v.IsNull()) {
               r_.Error(a, fmt::format("{}: expected a mapping, got an empty value", p));
               return;
             }
             Route(v, a, p, /*root=*/true, &out->route);
           }},
          {"receivers", [&](auto& v, auto& a, auto& p) { Receivers(v, a, p, &out->receivers); }},
          {"inhibit_rules",
           [&](auto& v, auto& a, auto& p) { InhibitRules(v, a, p, &out->inhibit_rules); }},
          {"time_intervals", [&](auto& v, auto& a, auto& p) { TimeIntervals(v, a, p, out); }},
          {"mute_time_intervals", [&](auto& v, auto& a, auto& p) { TimeIntervals(v, a, p, out); }},
          {"templates", [&](auto& v, auto& a, auto& p) { Templates(v, a, p); }},
          UnsupportedField("tracing", "nines does not export traces"),
          UnsupportedField("event_recorder", "an experimental Alertmanager feature"),
      });
  CheckTemplatedFields();  // once every template file is read, wherever `templates` is
  if (!has_route && node.IsMap()) {
    r_.Required(at, path.empty() ? "top level" : path, "route",
                "the root route, with the default receiver");
  }
  if (node.IsNull() && path.empty()) {
    r_.Error(at, "an Alertmanager config needs at least a route and its receiver");
  }
  std::set<std::string, std::less<>> receivers;
  for (const alerting::Receiver& rcv : out->receivers) receivers.insert(rcv.name);
  for (const Reference& ref : receiver_refs_) {
    if (!receivers.contains(ref.name)) {
      std::vector<std::string_view> names(receivers.begin(), receivers.end());
      r_.Error(ref.at, fmt::format("{}: undefined receiver {} used in route ({})", ref.path,
                                   Quote(ref.name),
                                   SuggestOr(ref.name, names,
                                             names.empty() ? "no receivers are defined"
                                                           : "want " + JoinOr(names))));
    }
  }
  for (const Reference& ref : interval_refs_) {
    if (!interval_names_.contains(ref.name)) {
      std::vector<std::string_view> names;
      for (const auto& [name, unused] : interval_names_) names.push_back(name);
      r_.Error(ref.at, fmt::format("{}: undefined time interval {} used in route ({})", ref.path,
                                   Quote(ref.name),
                                   SuggestOr(ref.name, names,
                                             names.empty() ? "no time_intervals are defined"
                                                           : "want " + JoinOr(names))));
    }
  }
}

void AlertmanagerParser::Global(const YAML::Node& v, const YAML::Mark& at,
                                const std::string& path, alerting::GlobalConfig* out) {
  std::vector<YamlReader::Field> fields = {
      {"resolve_timeout", [&](auto& val, auto& a, auto& p) {
         if (auto d = r_.DurationAtLeast(val, a, p, core::Duration::Zero())) {
           out->resolve_timeout = *d;
         }
       }}};
  for (std::string_view name : kRawGlobals) {
    fields.push_back({name, [&, name](auto& val, auto& a, auto& p) {
                        if (name == "smtp_smarthost" && val.IsScalar() && !val.Scalar().empty() &&
                            !IsHostPort(val.Scalar())) {
                          r_.Error(a, fmt::format("{}: {} is not host:port", p,
                                                  Quote(val.Scalar())));
                        }
                        if (name.ends_with("_url")) {
                          CheckUrl(val, a, p, /*may_be_template=*/false);
                        }
                        Flatten(val, std::string(name), &out->fields);
                      }});
  }
  for (std::string_view name : kUnsupportedGlobals) {
    fields.push_back(UnsupportedField(name, "a setting of a receiver kind nines does not have"));
  }
  if (!r_.WalkMap(v, at, path, fields)) return;
  const auto& f = out->fields;
  auto at_most_one = [&](std::string_view a, std::string_view b) {
    if (Has(f, a) && Has(f, b)) {
      r_.Error(at, fmt::format("{}: at most one of {} & {} must be configured", path, a, b));
    }
  };
  at_most_one("slack_api_url", "slack_api_url_file");
  at_most_one("slack_app_token", "slack_app_token_file");
  at_most_one("opsgenie_api_key", "opsgenie_api_key_file");
  at_most_one("smtp_auth_password", "smtp_auth_password_file");
  at_most_one("smtp_auth_secret", "smtp_auth_secret_file");
  const bool app_token = Has(f, "slack_app_token") || Has(f, "slack_app_token_file");
  const bool api_url = Has(f, "slack_api_url") || Has(f, "slack_api_url_file");
  // Alertmanager lets both be set only when the API URL is the app URL (a migration aid).
  if (app_token && api_url) {
    auto url = f.find("slack_api_url");
    auto app_url = f.find("slack_app_url");
    std::string want = app_url != f.end() ? app_url->second
                                          : "https://slack.com/api/chat.postMessage";
    if (url == f.end() || url->second != want) {
      r_.Error(at, fmt::format("{}: at most one of slack_app_token/slack_app_token_file & "
                               "slack_api_url/slack_api_url_file must be configured",
                               path));
    }
  }
  ReadSecretFiles(at, path, &out->fields);
}

// Longer than most: it is the table of a route's fields, one handler each, and reads best whole.
void AlertmanagerParser::Route(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                               bool root, RouteConfig* out) {
  bool has_receiver = false;
  YAML::Mark matchers_at = at;
  bool has_matchers = false;
  auto matchers_field = [&](std::string_view name, auto read) -> YamlReader::Field {
    return {name, [&, read](auto& val, auto& a, auto& p) {
              if (!val.IsNull() && val.size() > 0 && !has_matchers) {
                has_matchers = true;
                matchers_at = a;
              }
              read(val, a, p);
            }};
  };
  auto intervals_field = [&](std::string_view name, std::vector<std::string>* list) {
    return YamlReader::Field{name, [&, list, name](auto& val, auto& a, auto& p) {
                               NameList(val, a, p, list);
                               if (root && !list->empty()) {
                                 r_.Error(a, fmt::format("{}: the root route must not have {}", p,
                                                         name));
                               }
                             }};
  };
  bool is_map = r_.WalkItemMap(
      v, at, path,
      {
          {"receiver",
           [&](auto& val, auto& a, auto& p) {
             if (auto s = r_.String(val, a, p)) {
               has_receiver = true;
               out->receiver = *s;
               receiver_refs_.push_back({*s, a, p});
             }
           }},
          {"group_by", [&](auto& val, auto& a, auto& p) { GroupBy(val, a, p, out); }},
          matchers_field("match",
                         [&](auto& val, auto& a, auto& p) {
                           MatchMap(val, a, p, /*regex=*/false, &out->matchers);
                         }),
          matchers_field("match_re",
                         [&](auto& val, auto& a, auto& p) {
                           MatchMap(val, a, p, /*regex=*/true, &out->matchers);
                         }),
          matchers_field("matchers",
                         [&](auto& val, auto& a, auto& p) {
                           MatcherList(val, a, p, &out->matchers);
                         }),
          {"continue",
           [&](auto& val, auto& a, auto& p) {
             if (auto b = r_.Bool(val, a, p)) out->continue_matching = *b;
           }},
          {"group_wait",
           [&](auto& val, auto& a, auto& p) {
             out->group_wait = r_.DurationAtLeast(val, a, p, core::Duration::Zero());
           }},
          {"group_interval",
           [&](auto& val, auto& a, auto& p) {
             out->group_interval = r_.PositiveDuration(val, a, p);
           }},
          {"repeat_interval",
           [&](auto& val, auto& a, auto& p) {
             out->repeat_interval = r_.PositiveDuration(val, a, p);
           }},
          intervals_field("mute_time_intervals", &out->mute_time_intervals),
          intervals_field("active_time_intervals", &out->active_time_intervals),
          {"routes",
           [&](auto& val, auto& a, auto& p) {
             r_.WalkList(val, a, p, [&](auto& item, auto& item_at, auto& item_path, size_t) {
               RouteConfig child;
               Route(item, item_at, item_path, /*root=*/false, &child);
               out->routes.push_back(std::move(child));
             });
           }},
          UnsupportedField("labels", "labels added by a route"),
      });
  if (!is_map) return;
  alerting::SortMatchers(&out->matchers);
  if (root) {
    if (!has_receiver) {
      r_.Required(at, path, "receiver", "the root route must name a default receiver");
    }
    if (has_matchers) {
      r_.Error(matchers_at, fmt::format("{}: the root route must not have any matchers "
                                        "(every alert enters it)",
                                        path));
    }
  }
}

void AlertmanagerParser::GroupBy(const YAML::Node& v, const YAML::Mark& at,
                                 const std::string& path, RouteConfig* out) {
  std::vector<std::string> labels;
  bool all = false;
  YAML::Mark all_at = at;
  r_.WalkList(v, at, path, [&](auto& item, auto& item_at, auto& item_path, size_t) {
    std::optional<std::string> s = r_.String(item, item_at, item_path);
    if (!s) return;
    if (*s == "...") {
      all = true;
      all_at = item_at;
      return;
    }
    if (!core::IsValidLabelName(*s)) {
      r_.Error(item_at, fmt::format("{}: invalid label name {} in group_by", item_path, Quote(*s)));
      return;
    }
    if (std::find(labels.begin(), labels.end(), *s) != labels.end()) {
      r_.Error(item_at, fmt::format("{}: duplicated label {} in group_by", item_path, Quote(*s)));
      return;
    }
    labels.push_back(*s);
  });
  if (all && !labels.empty()) {
    r_.Error(all_at, fmt::format("{}: cannot have wildcard group_by (`...`) and other labels at "
                                 "the same time",
                                 path));
  }
  if (all) {
    out->group_by_all = true;
  } else if (!v.IsNull() && v.IsSequence()) {
    out->group_by = std::move(labels);
  }
}

void AlertmanagerParser::MatchMap(const YAML::Node& v, const YAML::Mark& at,
                                  const std::string& path, bool regex, Matchers* out) {
  if (v.IsNull()) return;
  if (!v.IsMap()) {
    r_.Error(at, fmt::format("{}: expected a mapping of label names to {}, got {}", path,
                             regex ? "regular expressions" : "values", Describe(v)));
    return;
  }
  std::set<std::string> seen;
  for (auto it = v.begin(); it != v.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    YAML::Mark value_at = YamlReader::PositionOf(key, value);
    if (!key.IsScalar()) {
      r_.Error(key.Mark(), fmt::format("{}: keys must be label names, got {}", path,
                                       Describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    std::string item_path = YamlReader::Join(path, name);
    if (!seen.insert(name).second) {
      r_.Error(key.Mark(), fmt::format("{}: duplicate label {}", path, Quote(name)));
      continue;
    }
    if (!core::IsValidLabelName(name)) {
      r_.Error(key.Mark(), fmt::format("{}: invalid label name {}", path, Quote(name)));
      continue;
    }
    std::optional<std::string> s = r_.Scalar(value, value_at, item_path, "a string");
    if (!s) continue;
    core::Result<alerting::Matcher> m =
        alerting::Matcher::Make(regex ? MatchType::kRegexp : MatchType::kEqual, name, *s);
    if (!m.ok()) {
      r_.Error(value_at, fmt::format("{}: {}", item_path, m.status().message()));
      continue;
    }
    out->push_back(*std::move(m));
  }
}

void AlertmanagerParser::MatcherList(const YAML::Node& v, const YAML::Mark& at,
                                     const std::string& path, Matchers* out) {
  r_.WalkList(v, at, path, [&](auto& item, auto& item_at, auto& item_path, size_t) {
    std::optional<std::string> s = r_.Scalar(item, item_at, item_path, "a matcher string");
    if (!s) return;
    core::Result<Matchers> m = alerting::ParseMatchers(*s);
    if (!m.ok()) {
      r_.Error(item_at, fmt::format("{}: {}", item_path, m.status().message()));
      return;
    }
    out->insert(out->end(), m->begin(), m->end());
  });
}

void AlertmanagerParser::NameList(const YAML::Node& v, const YAML::Mark& at,
                                  const std::string& path, std::vector<std::string>* out) {
  r_.WalkList(v, at, path, [&](auto& item, auto& item_at, auto& item_path, size_t) {
    if (auto s = r_.String(item, item_at, item_path)) {
      out->push_back(*s);
      interval_refs_.push_back({*s, item_at, item_path});
    }
  });
}
void AlertmanagerParser::InhibitRules(const YAML::Node& v, const YAML::Mark& at,
                                      const std::string& path,
                                      std::vector<alerting::InhibitRule>* out) {
  r_.WalkList(v, at, path, [&](auto& item, auto& item_at, auto& item_path, size_t) {
    alerting::InhibitRule rule;
    auto map_field = [&](std::string_view name, bool regex, Matchers* m) {
      return YamlReader::Field{
          name, [&, regex, m](auto& val, auto& a, auto& p) { MatchMap(val, a, p, regex, m); }};
    };
    auto list_field = [&](std::string_view name, Matchers* m) {
      return YamlReader::Field{name,
                               [&, m](auto& val, auto& a, auto& p) { MatcherList(val, a, p, m); }};
    };
    bool ok = r_.WalkItemMap(
        item, item_at, item_path,
        {
            {"name",
             [&](auto& val, auto& a, auto& p) {
               if (auto s = r_.Scalar(val, a, p, "a string")) rule.name = *s;
             }},
            map_field("source_match", false, &rule.source_matchers),
            map_field("source_match_re", true, &rule.source_matchers),
            list_field("source_matchers", &rule.source_matchers),
            map_field("target_match", false, &rule.target_matchers),
            map_field("target_match_re", true, &rule.target_matchers),
            list_field("target_matchers", &rule.target_matchers),
            {"equal",
             [&](auto& val, auto& a, auto& p) {
               r_.WalkList(val, a, p, [&](auto& e, auto& e_at, auto& e_path, size_t) {
                 auto s = r_.String(e, e_at, e_path);
                 if (!s) return;
                 if (!core::IsValidLabelName(*s)) {
                   r_.Error(e_at, fmt::format("{}: invalid label name {} in equal list", e_path,
                                              Quote(*s)));
                   return;
                 }
                 rule.equal.push_back(*s);
               });
             }},
        });
    if (!ok) return;
    alerting::SortMatchers(&rule.source_matchers);
    alerting::SortMatchers(&rule.target_matchers);
    out->push_back(std::move(rule));
  });
}
}  // namespace alerting_config_internal

bool ParseAlertmanagerNode(YamlReader* reader, const YAML::Node& node, const YAML::Mark& at,
                           const std::string& path, alerting::AlertmanagerConfig* out,
                           std::shared_ptr<const alerting::TemplateSet>* templates) {
  size_t before = reader->ErrorCount();
  alerting_config_internal::AlertmanagerParser parser(reader);
  reader->Guard([&] { parser.Top(node, at, path, out); });
  bool ok = reader->ErrorCount() == before;
  if (ok && templates != nullptr) *templates = parser.TakeTemplates();
  return ok;
}

std::vector<ConfigError> ParseAlertmanagerConfig(
    std::string_view text, const std::string& file_name, alerting::AlertmanagerConfig* out,
    std::shared_ptr<const alerting::TemplateSet>* templates) {
  YamlReader reader(file_name, fs::path(file_name).parent_path());
  alerting::AlertmanagerConfig config;
  std::shared_ptr<const alerting::TemplateSet> set;
  reader.ParseDocument(text, "an Alertmanager config file", [&](const YAML::Node& root) {
    ParseAlertmanagerNode(&reader, root, root.Mark(), "", &config, &set);
  });
  std::vector<ConfigError> errors = reader.TakeErrors();
  if (errors.empty() && text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    errors.push_back({file_name, 1, 1, "an Alertmanager config needs at least a route and its "
                                       "receiver"});
  }
  if (errors.empty() && out != nullptr) *out = std::move(config);
  if (errors.empty() && templates != nullptr) *templates = std::move(set);
  return errors;
}

}  // namespace nines::app


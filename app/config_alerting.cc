#include "app/config_alerting.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

#include "app/alerting_config.h"

namespace nines::app {
namespace {

// Alertmanager's top-level keys, all handed to ParseAlertmanagerNode (which
// names the ones nines does not support).
constexpr std::array<std::string_view, 9> kAlertmanagerKeys = {
    "global",        "route",          "receivers",
    "inhibit_rules", "time_intervals", "mute_time_intervals",
    "templates",     "tracing",        "event_recorder"};
// nines' own keys.
constexpr std::array<std::string_view, 3> kOwnKeys = {"config_file", "external_url",
                                                      "alertmanagers"};

bool IsOneOf(std::string_view key, const auto &keys) {
  for (std::string_view k : keys) {
    if (k == key) return true;
  }
  return false;
}

// Whether the value of `key` is a secret Alertmanager would not show: keys, tokens, passwords,
// and URLs (a webhook's or Slack's URL path is its credential). Paths to such files are not.
bool IsSecretKey(std::string_view key) {
  if (key.ends_with("_file")) return false;
  for (std::string_view part : {"password", "secret", "token", "credentials", "key"}) {
    if (key.find(part) != std::string_view::npos) return true;
  }
  return key == "url" || key.ends_with("_url");
}

void MaskSecrets(YAML::Node node) {
  if (node.IsMap()) {
    for (auto kv : node) {
      if (kv.first.IsScalar() && kv.second.IsScalar() && IsSecretKey(kv.first.Scalar())) {
        kv.second = "<secret>";
      } else {
        MaskSecrets(kv.second);
      }
    }
  } else if (node.IsSequence()) {
    for (auto item : node) MaskSecrets(item);
  }
}

// `node` as YAML text with its secrets masked (MaskSecrets); `node` is left as it is.
std::string MaskedYaml(const YAML::Node &node) {
  try {
    YAML::Node copy = YAML::Clone(node);
    MaskSecrets(copy);
    YAML::Emitter out;
    out << copy;
    return std::string(out.c_str()) + "\n";
  } catch (const YAML::Exception &) {
    return "";
  }
}

void ParsePushTargets(YamlReader *r, const YAML::Node &node, const YAML::Mark &at,
                      const std::string &path, std::vector<AlertmanagerPushConfig> *out) {
  r->WalkList(
      node, at, path,
      [&](const YAML::Node &item, const YAML::Mark &item_at, const std::string &item_path, size_t) {
        AlertmanagerPushConfig target;
        bool has_url = false;
        bool is_map =
            r->WalkItemMap(item, item_at, item_path,
                           {
                               {"url",
                                [&](auto &v, auto &a, auto &p) {
                                  has_url = true;
                                  std::optional<std::string> url = r->HttpUrl(v, a, p);
                                  if (!url) return;
                                  while (url->ends_with('/')) url->pop_back();
                                  target.url = *url;
                                }},
                               {"bearer_token_file",
                                [&](auto &v, auto &a, auto &p) {
                                  YamlReader::Set(r->TokenFile(v, a, p, &target.bearer_token_file),
                                                  &target.bearer_token);
                                }},
                               {"timeout",
                                [&](auto &v, auto &a, auto &p) {
                                  YamlReader::Set(r->PositiveDuration(v, a, p), &target.timeout);
                                }},
                           });
        if (!is_map) return;
        if (!has_url) {
          r->Required(item_at, item_path, "url",
                      "the Alertmanager's base URL, as http://alertmanager:9093");
          return;
        }
        out->push_back(std::move(target));
      });
}

}  // namespace

void ParseAlertingSection(YamlReader *r, const YAML::Node &node, const YAML::Mark &at,
                          const std::string &path, AlertingConfig *out,
                          std::vector<ConfigError> *other_errors) {
  if (node.IsNull()) {
    r->Error(at, fmt::format("{}: expected a mapping: an Alertmanager config (route, receivers, "
                             "...), config_file or alertmanagers",
                             path));
    return;
  }
  if (!node.IsMap()) {
    r->Error(at, fmt::format("{}: expected a mapping, got {}", path, Describe(node)));
    return;
  }
  // Split the mapping: nines' keys here, Alertmanager's to its parser. The
  // nodes are shared, so every position stays that of nines.yaml.
  YAML::Node own(YAML::NodeType::Map);
  YAML::Node am(YAML::NodeType::Map);
  std::vector<std::string_view> all(kOwnKeys.begin(), kOwnKeys.end());
  all.insert(all.end(), kAlertmanagerKeys.begin(), kAlertmanagerKeys.end());
  YAML::Mark am_at = at;
  bool has_am = false;
  for (const auto &kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (IsOneOf(key, kAlertmanagerKeys)) {
      if (!has_am) am_at = kv.first.Mark();
      has_am = true;
      am.force_insert(kv.first, kv.second);
    } else if (IsOneOf(key, kOwnKeys) || !kv.first.IsScalar()) {
      own.force_insert(kv.first, kv.second);  // WalkMap reports a non-string key
    } else {
      r->Error(kv.first.Mark(),
               fmt::format("{}: unknown field {} ({})", path, Quote(key),
                           SuggestOr(key, all,
                                     "want an Alertmanager config's keys (route, "
                                     "receivers, ...), config_file, external_url or "
                                     "alertmanagers")));
    }
  }
  r->WalkMap(
      own, at, path,
      {
          {"config_file",
           [&](auto &v, auto &a, auto &p) {
             std::string text;
             std::optional<std::string> file = r->ReadableFile(v, a, p, &text);
             if (!file) return;
             out->config_file = *file;
             std::vector<ConfigError> errors =
                 ParseAlertmanagerConfig(text, *file, &out->alertmanager, &out->templates);
             if (errors.empty()) {
               out->routing = true;
               try {
                 out->original_yaml = MaskedYaml(YAML::Load(std::string(text)));
               } catch (const YAML::Exception &) {  // parsed above: cannot happen
               }
             }
             other_errors->insert(other_errors->end(), errors.begin(), errors.end());
           }},
          {"external_url",
           [&](auto &v, auto &a, auto &p) {
             std::optional<std::string> url = r->HttpUrl(v, a, p);
             if (!url) return;
             while (url->ends_with('/')) url->pop_back();
             out->external_url = *url;
           }},
          {"alertmanagers",
           [&](auto &v, auto &a, auto &p) { ParsePushTargets(r, v, a, p, &out->alertmanagers); }},
      });
  if (has_am && YamlReader::Peek(node, "config_file")) {
    r->Error(am_at, fmt::format("{}: an Alertmanager config is given both inline and as "
                                "config_file; keep one",
                                path));
    return;
  }
  if (has_am) {
    if (ParseAlertmanagerNode(r, am, at, path, &out->alertmanager, &out->templates)) {
      out->routing = true;
      out->original_yaml = MaskedYaml(am);
    }
  } else if (out->config_file.empty() && out->alertmanagers.empty() &&
             !YamlReader::Peek(node, "config_file")) {
    r->Error(at, fmt::format("{}: no Alertmanager config (route, receivers, "
                             "...), config_file or "
                             "alertmanagers: nothing would be notified",
                             path));
  }
}

}  // namespace nines::app

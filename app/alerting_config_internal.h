// Private to app/alerting_config*.cc: the parser of Alertmanager's configuration format, shared
// by the files that implement it.
//
//   alerting_config.cc           the entry points, the top level, `global`, `route` (matchers,
//                                group_by) and `inhibit_rules`, and the checks of references
//   alerting_config_sections.cc  `receivers` (each integration kind's fields and checks) and
//                                `time_intervals`
//   alerting_config_templates.cc `templates` (the files, into an alerting::TemplateSet) and the
//                                check of every templated field against them
//
// Thread-compatible: one AlertmanagerParser per parse; it holds a reference to the YamlReader
// that collects the errors, which outlives it.
#ifndef NINES_APP_ALERTING_CONFIG_INTERNAL_H_
#define NINES_APP_ALERTING_CONFIG_INTERNAL_H_

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/routing.h"
#include "alerting/template_set.h"
#include "app/yaml_reader.h"

namespace nines::app::alerting_config_internal {

using alerting::IntegrationKind;
using alerting::Matchers;
using alerting::MatchType;
using alerting::RouteConfig;
using alerting::TimeInterval;

// A receiver kind: its key in a receiver, its fields (as in Alertmanager's HEAD), its default.
struct KindSpec {
  std::string_view key;  // "webhook_configs"
  IntegrationKind kind;
  bool send_resolved;  // Alertmanager's default
  std::vector<std::string_view> fields;  // besides send_resolved
};

// The receiver kinds nines supports, in Alertmanager's field order.
const std::vector<KindSpec>& KindSpecs();

// Every scalar under `v`, at its dotted path below `prefix` ("http_config.authorization.type",
// "fields.0.title"); an empty value is "".
void Flatten(const YAML::Node& v, const std::string& prefix,
             std::map<std::string, std::string>* out);

// Whether `fields` has `key` with a non-empty value.
bool Has(const std::map<std::string, std::string>& fields, std::string_view key);

// Go's net.SplitHostPort as Alertmanager uses it for smarthosts: "host:port" with a port.
bool IsHostPort(std::string_view s);

// A reference to a receiver or a time interval, checked once all sections are read.
struct Reference {
  std::string name;
  YAML::Mark at;
  std::string path;
};

// A templated field of an integration (alerting::IsTemplatedField), checked once every template
// file is read.
struct TemplatedField {
  std::string text;
  YAML::Mark at;
  std::string path;
};

// At most this many template files per config (all `templates:` globs together), each a
// regular file of at most kMaxTemplateFileBytes.
constexpr size_t kMaxTemplateFiles = 1000;
constexpr uintmax_t kMaxTemplateFileBytes = 4 << 20;

// Reads an Alertmanager config (or the same sections inside another file) into the model; every
// problem goes to the YamlReader. Each method reads one section or field at `path`.
class AlertmanagerParser {
 public:
  explicit AlertmanagerParser(YamlReader* r) : r_(*r) {}

  void Top(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
           alerting::AlertmanagerConfig* out);

  // The built-in templates plus the `templates:` files read by Top.
  std::shared_ptr<const alerting::TemplateSet> TakeTemplates() {
    return std::make_shared<const alerting::TemplateSet>(std::move(templates_));
  }

 private:
  void Unsupported(const YAML::Mark& at, const std::string& path, std::string_view why) {
    r_.Error(at, fmt::format("{}: not supported by nines ({})", path, why));
  }
  YamlReader::Field UnsupportedField(std::string_view name, std::string_view why) {
    return {name, [this, why](auto&, auto& a, auto& p) { Unsupported(a, p, why); }};
  }

  void Global(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
              alerting::GlobalConfig* out);
  void Route(const YAML::Node& v, const YAML::Mark& at, const std::string& path, bool root,
             RouteConfig* out);
  void GroupBy(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
               RouteConfig* out);
  // `match:`/`source_match:` (regex false) and `match_re:` maps, and `matchers:` lists.
  void MatchMap(const YAML::Node& v, const YAML::Mark& at, const std::string& path, bool regex,
                Matchers* out);
  void MatcherList(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                   Matchers* out);
  void NameList(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                std::vector<std::string>* out);
  // Replaces each `<name>_file` field of `fields` (at any depth: `routing_key_file`,
  // `http_config.authorization.credentials_file`, `smtp_auth_password_file`, ...) by `<name>`
  // holding the file's contents, white space trimmed, as Alertmanager reads them; the path is
  // relative to the config file's directory. An unreadable file is an error at `at`. The file is
  // read when the config is loaded (and on reload), not at every send as Alertmanager does.
  void ReadSecretFiles(const YAML::Mark& at, const std::string& path,
                       std::map<std::string, std::string>* fields);
  void Receivers(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                 std::vector<alerting::Receiver>* out);
  void Integration(const KindSpec& spec, const YAML::Node& item, const YAML::Mark& at,
                   const std::string& path, alerting::Integration* out);
  // Reports a URL that is not http(s)://host...; a templated one passes when `may_be_template`.
  void CheckUrl(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                bool may_be_template);
  // The checks of one field `name` of an integration of `kind` (URLs, smarthost, mail headers,
  // Opsgenie responders, Slack fields and actions); `headers` collects the mail headers seen.
  void CheckField(IntegrationKind kind, std::string_view name, const YAML::Node& v,
                  const YAML::Mark& at, const std::string& path, std::set<std::string>* headers);
  void CheckIntegration(const KindSpec& spec, const alerting::Integration& i,
                        const YAML::Mark& at, const std::string& path);
  // `templates:`: a list of globs (relative to the config file's directory), each file read into
  // templates_; a glob that matches nothing is fine, as in Alertmanager.
  void Templates(const YAML::Node& v, const YAML::Mark& at, const std::string& path);
  // Records the scalars under `v` (an integration's field `dotted`, at `path`) that are templates
  // for `kind`.
  void CollectTemplated(IntegrationKind kind, const YAML::Node& v, const YAML::Mark& at,
                        const std::string& path, const std::string& dotted);
  // Checks every recorded templated field against templates_, and the default templates the
  // notifiers use for unset fields when template files may have redefined them.
  void CheckTemplatedFields();
  void InhibitRules(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                    std::vector<alerting::InhibitRule>* out);
  void TimeIntervals(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                     alerting::AlertmanagerConfig* out);
  void TimeIntervalSpec(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                        TimeInterval* out);
  // A list of range strings read with `parse` (ParseWeekdayRange, ...).
  template <typename F>
  void Ranges(const YAML::Node& v, const YAML::Mark& at, const std::string& path, F parse,
              std::vector<alerting::InclusiveRange>* out);

  YamlReader& r_;
  const alerting::GlobalConfig* global_ = nullptr;
  std::vector<Reference> receiver_refs_;
  std::vector<Reference> interval_refs_;
  std::map<std::string, YAML::Mark, std::less<>> interval_names_;
  alerting::TemplateSet templates_;
  std::vector<TemplatedField> templated_;
  std::optional<std::pair<YAML::Mark, std::string>> templates_at_;  // where `templates` is
};

}  // namespace nines::app::alerting_config_internal

#endif  // NINES_APP_ALERTING_CONFIG_INTERNAL_H_

// Alertmanager's configuration format (see alerting_config.h): `templates:` (template files,
// found by glob relative to the config file's directory, read into an alerting::TemplateSet) and
// the check of every templated integration field against the set, so a template error shows at
// config time, at its file:line:col, rather than when a page is due.
#include <fmt/format.h>
#include <glob.h>

#include <charconv>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "app/alerting_config_internal.h"

namespace nines::app::alerting_config_internal {

namespace {

// The default templates the notifiers use for fields left unset (alerting/notify_*.cc): a
// template file that redefines one must not make it call an undefined template.
constexpr std::string_view kDefaultTemplates[] = {
    "slack.default.title",          "slack.default.username",
    "slack.default.fallback",       "slack.default.callbackid",
    "slack.default.pretext",        "slack.default.titlelink",
    "slack.default.iconemoji",      "slack.default.iconurl",
    "slack.default.text",           "slack.default.footer",
    "slack.default.color",          "pagerduty.default.description",
    "pagerduty.default.client",     "pagerduty.default.clientURL",
    "pagerduty.default.instances",  "opsgenie.default.message",
    "opsgenie.default.description", "opsgenie.default.source",
    "email.default.subject",        "email.default.html"};

// The files `pattern` matches (glob(3), sorted), or an error message.
std::vector<std::string> Glob(const std::string& pattern, std::string* error) {
  std::vector<std::string> files;
  glob_t g{};
  int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
  } else if (rc != GLOB_NOMATCH) {
    *error = rc == GLOB_NOSPACE ? "out of memory" : "read error";
  }
  ::globfree(&g);
  return files;
}

// Splits "LINE:COL: message" (a template error) into its parts; false when it is not that.
bool SplitPosition(std::string_view s, int* line, int* col, std::string_view* rest) {
  auto number = [&](int* out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    if (ec != std::errc() || p == s.data() || p == s.data() + s.size() || *p != ':') return false;
    s.remove_prefix(p - s.data() + 1);
    return true;
  };
  if (!number(line) || !number(col)) return false;
  if (s.starts_with(' ')) s.remove_prefix(1);
  *rest = s;
  return true;
}

}  // namespace

void AlertmanagerParser::Templates(const YAML::Node& v, const YAML::Mark& at,
                                   const std::string& path) {
  templates_at_.emplace(at, path);
  size_t files = 0;
  r_.WalkList(v, at, path, [&](auto& item, auto& item_at, auto& item_path, size_t) {
    std::optional<std::string> pattern = r_.String(item, item_at, item_path);
    if (!pattern) return;
    if (pattern->empty()) {
      r_.Error(item_at, fmt::format("{}: empty template file pattern", item_path));
      return;
    }
    std::string error;
    std::vector<std::string> matched = Glob(r_.Resolve(*pattern), &error);
    if (!error.empty()) {
      r_.Error(item_at, fmt::format("{}: cannot expand {}: {}", item_path, Quote(*pattern), error));
      return;
    }
    for (const std::string& file : matched) {
      if (++files > kMaxTemplateFiles) {
        r_.Error(item_at,
                 fmt::format("{}: more than {} template files", item_path, kMaxTemplateFiles));
        return;
      }
      // Only regular files of a sane size: a glob may match a FIFO or /dev/zero.
      std::error_code ec;
      if (!std::filesystem::is_regular_file(file, ec)) {
        r_.Error(item_at,
                 fmt::format("{}: template file {} is not a regular file", item_path, Quote(file)));
        continue;
      }
      if (std::filesystem::file_size(file, ec) > kMaxTemplateFileBytes) {
        r_.Error(item_at, fmt::format("{}: template file {} is larger than {} bytes", item_path,
                                      Quote(file), kMaxTemplateFileBytes));
        continue;
      }
      std::string text;
      if (!ReadWholeFile(file, &text, &error)) {
        r_.Error(item_at, fmt::format("{}: cannot read template file {}: {}", item_path,
                                      Quote(file), error));
        continue;
      }
      core::Status added = templates_.AddFile(text, file);
      if (added.ok()) continue;
      // "FILE:LINE:COL: what": reported at the template file's own position.
      std::string_view message = added.message();
      int line = 1, col = 1;
      std::string_view what = message;
      if (message.starts_with(file) && message.size() > file.size() &&
          message[file.size()] == ':' &&
          SplitPosition(message.substr(file.size() + 1), &line, &col, &what)) {
        r_.AddError(ConfigError{file, line, col, std::string(what)});
      } else {
        r_.Error(item_at, fmt::format("{}: {}", item_path, message));
      }
    }
  });
}

void AlertmanagerParser::CollectTemplated(IntegrationKind kind, const YAML::Node& v,
                                          const YAML::Mark& at, const std::string& path,
                                          const std::string& dotted) {
  if (v.IsMap()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      YAML::Node key = it->first;
      YAML::Node value = it->second;
      if (!key.IsScalar()) continue;
      CollectTemplated(kind, value, YamlReader::PositionOf(key, value),
                       YamlReader::Join(path, key.Scalar()), dotted + "." + key.Scalar());
    }
  } else if (v.IsSequence()) {
    for (size_t i = 0; i < v.size(); ++i) {
      YAML::Node item = v[i];
      CollectTemplated(kind, item, item.Mark().is_null() ? at : item.Mark(),
                       fmt::format("{}[{}]", path, i), fmt::format("{}.{}", dotted, i));
    }
  } else if (v.IsScalar() && alerting::IsTemplatedField(kind, dotted)) {
    templated_.push_back(TemplatedField{v.Scalar(), at, path});
  }
}

void AlertmanagerParser::CheckTemplatedFields() {
  for (const TemplatedField& f : templated_) {
    if (f.text.find("{{") == std::string::npos) continue;  // no action: nothing to parse
    core::Status s = templates_.Check(f.text);
    if (s.ok()) continue;
    int line = 1, col = 1;
    std::string_view what = s.message();
    if (SplitPosition(s.message(), &line, &col, &what)) {
      r_.Error(f.at,
               fmt::format("{}: template error at {}:{} of the text: {}", f.path, line, col, what));
    } else {
      r_.Error(f.at, fmt::format("{}: template error: {}", f.path, what));
    }
  }
  templated_.clear();
  if (!templates_at_) return;
  for (std::string_view name : kDefaultTemplates) {
    core::Status s = templates_.Check(fmt::format("{{{{ template {:?} . }}}}", name));
    if (s.ok()) continue;
    int line = 1, col = 1;
    std::string_view what = s.message();
    SplitPosition(s.message(), &line, &col, &what);
    r_.Error(templates_at_->first,
             fmt::format("{}: the default template {:?}, as the template files define it: {}",
                         templates_at_->second, name, what));
  }
}

}  // namespace nines::app::alerting_config_internal

// Rule files: the entry points of rule_files.h, the two phases of parsing, and the value readers
// that nines' format (rule_files_nines.cc) and OpenSLO (rule_files_openslo*.cc) share. The
// formats themselves are described at the top of those files and in examples/rules/README.md.
#include "app/rule_files.h"

#include <fmt/ranges.h>
#include <glob.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>

#include "app/rule_files_internal.h"

namespace nines::app::internal {

bool IsValidSloName(std::string_view name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::optional<double> ParseNumber(std::string_view s) {
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

void FileParser::ParseAll() {
  Guard([&] {
    for (const YAML::Node& doc : LoadYamlDocuments(text_)) ParseDocumentRoot(doc);
  });
}

void FileParser::ParseDocumentRoot(const YAML::Node& root) {
  if (root.IsNull()) return;
  if (root.IsSequence()) {
    // OpenSLO objects as a YAML list, as OpenSLO's own examples have them.
    WalkList(root, root.Mark(), "",
             [&](const YAML::Node& item, const YAML::Mark& at, const std::string& path, size_t) {
               if (!Peek(item, "apiVersion")) {
                 Error(at,
                       fmt::format("{}: expected an OpenSLO object (with apiVersion: {}), got {}",
                                   path, kOpenSloVersion, Describe(item)));
                 return;
               }
               ParseOpenSlo(item, at, path);
             });
    return;
  }
  if (!root.IsMap()) {
    Error(root.Mark(),
          fmt::format("top level: expected a mapping with slos: and alerts:, or an OpenSLO "
                      "document, got {}",
                      Describe(root)));
    return;
  }
  if (Peek(root, "apiVersion")) {
    ParseOpenSlo(root, root.Mark(), "");
    return;
  }
  WalkMap(root, root.Mark(), "",
          {
              {"slos",
               [&](auto& v, auto& at, auto& p) {
                 WalkList(v, at, p,
                          [&](const YAML::Node& item, const YAML::Mark& item_at,
                              const std::string& item_path,
                              size_t) { ParseSlo(item, item_at, item_path); });
               }},
              {"alerts",
               [&](auto& v, auto& at, auto& p) {
                 WalkList(v, at, p,
                          [&](const YAML::Node& item, const YAML::Mark& item_at,
                              const std::string& item_path,
                              size_t) { ParseAlert(item, item_at, item_path); });
               }},
          });
}

std::optional<double> FileParser::Seconds(const YAML::Node& v, const YAML::Mark& at,
                                          const std::string& path) {
  std::optional<std::string> s = Scalar(v, at, path, "a number or a duration");
  if (!s) return std::nullopt;
  if (std::optional<double> d = ParseNumber(*s)) return d;
  core::Result<Duration> d = core::ParseDuration(*s);
  if (!d.ok()) {
    Error(at, fmt::format("{}: expected a number (seconds) or a duration (as in \"300ms\"), "
                          "got {}",
                          path, Quote(*s)));
    return std::nullopt;
  }
  return d->SecondsDouble();
}

std::optional<double> FileParser::Objective(const YAML::Node& v, const YAML::Mark& at,
                                            const std::string& path) {
  std::optional<double> d = Number(v, at, path);
  if (!d) return std::nullopt;
  if (!(*d > 0 && *d < 100)) {
    Error(at, fmt::format("{}: {} is out of range: the objective is a percentage greater than "
                          "0 and less than 100, as in 99.9",
                          path, v.Scalar()));
    return std::nullopt;
  }
  return d;
}

std::optional<double> FileParser::Ratio(const YAML::Node& v, const YAML::Mark& at,
                                        const std::string& path) {
  std::optional<double> d = Number(v, at, path);
  if (!d) return std::nullopt;
  if (!(*d >= 0 && *d <= 1)) {
    Error(at, fmt::format("{}: {} is out of range (a ratio from 0 to 1, as in 0.95)", path,
                          v.Scalar()));
    return std::nullopt;
  }
  return d;
}

std::optional<Duration> FileParser::WholeMinutes(const YAML::Node& v, const YAML::Mark& at,
                                                 const std::string& path, Duration min) {
  std::optional<Duration> d = DurationAtLeast(v, at, path, min);
  if (d && *d % Duration::Minutes(1) != Duration::Zero()) {
    Error(at, fmt::format("{}: {} is not a whole number of minutes", path, v.Scalar()));
    return std::nullopt;
  }
  return d;
}

YAML::Mark FileParser::ColumnIn(const YAML::Mark& at, int col) const {
  if (at.is_null() || at.pos < 0 || static_cast<size_t>(at.pos) >= text_.size() || col < 1) {
    return at;
  }
  size_t p = static_cast<size_t>(at.pos);
  char quote = text_[p];
  if (quote == '|' || quote == '>') return at;
  size_t q = (quote == '\'' || quote == '"') ? p + 1 : p;
  for (int i = 1; i < col; ++i) {
    if (q >= text_.size() || text_[q] == '\n') return at;
    if (quote == '\'' && text_[q] == '\'' && q + 1 < text_.size() && text_[q + 1] == '\'') {
      q += 2;
    } else if (quote == '"' && text_[q] == '\\') {
      q += 2;
    } else {
      ++q;
    }
  }
  YAML::Mark m = at;
  m.column = at.column + static_cast<int>(q - p);
  m.pos = static_cast<int>(q);
  return m;
}

std::optional<std::vector<Matcher>> FileParser::Selector(const YAML::Node& v, const YAML::Mark& at,
                                                         const std::string& path, bool need_name) {
  std::optional<std::string> s = String(v, at, path);
  if (!s) return std::nullopt;
  core::Result<std::vector<Matcher>> m = store::ParseSelector(*s);
  if (!m.ok()) {
    // "invalid selector <text>: col N: what": report `what` at column N of the value.
    std::string msg = m.status().message();
    size_t c = msg.find(": col ");
    int col = 0;
    std::string what = msg;
    if (c != std::string::npos) {
      size_t num = c + 6;
      size_t end = msg.find(": ", num);
      if (end != std::string::npos &&
          std::from_chars(msg.data() + num, msg.data() + end, col).ec == std::errc()) {
        what = msg.substr(end + 2);
      }
    }
    Error(col > 0 ? ColumnIn(at, col) : at,
          fmt::format("{}: invalid selector {}: {}", path, Quote(*s), what));
    return std::nullopt;
  }
  if (need_name && std::none_of(m->begin(), m->end(), [](const Matcher& x) {
        return x.name() == core::kMetricNameLabel;
      })) {
    Error(at, fmt::format("{}: selector {} names no metric (write it as name{{...}})", path,
                          Quote(*s)));
    return std::nullopt;
  }
  return *m;
}

std::vector<std::pair<std::string, std::string>> FileParser::StringMap(
    const YAML::Node& v, const YAML::Mark& at, const std::string& path,
    const std::function<bool(const std::string& key, const YAML::Mark& key_at)>& check_key) {
  std::vector<std::pair<std::string, std::string>> out;
  if (v.IsNull()) return out;
  if (!v.IsMap()) {
    Error(at, fmt::format("{}: expected a mapping, got {}", path, Describe(v)));
    return out;
  }
  std::set<std::string> seen;
  for (auto it = v.begin(); it != v.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    if (!key.IsScalar()) {
      Error(key.Mark(), fmt::format("{}: keys must be strings, got {}", path, Describe(key)));
      continue;
    }
    std::string item_path = Join(path, key.Scalar());
    if (!seen.insert(key.Scalar()).second) {
      Error(key.Mark(), fmt::format("{}: duplicate key {}", path, Quote(key.Scalar())));
      continue;
    }
    if (!check_key(key.Scalar(), key.Mark())) continue;
    std::optional<std::string> s = Scalar(value, PositionOf(key, value), item_path, "a string");
    if (s) out.emplace_back(key.Scalar(), *s);
  }
  return out;
}

std::optional<core::Labels> FileParser::LabelMap(const YAML::Node& v, const YAML::Mark& at,
                                                 const std::string& path,
                                                 const std::vector<std::string_view>& reserved,
                                                 std::string_view reserved_why, bool allow_lists) {
  if (v.IsNull()) return core::Labels();
  if (!v.IsMap()) {
    Error(at, fmt::format("{}: expected a mapping, got {}", path, Describe(v)));
    return std::nullopt;
  }
  const size_t before = ErrorCount();
  std::vector<core::Label> labels;
  std::set<std::string> seen;
  for (auto it = v.begin(); it != v.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    if (!key.IsScalar()) {
      Error(key.Mark(), fmt::format("{}: keys must be strings, got {}", path, Describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) {
      Error(key.Mark(), fmt::format("{}: duplicate label {}", path, Quote(name)));
      continue;
    }
    if (!core::IsValidLabelName(name) || name.starts_with("__")) {
      Error(key.Mark(), fmt::format("{}: invalid label name {} (want [a-zA-Z_][a-zA-Z0-9_]*, "
                                    "not starting with \"__\")",
                                    path, Quote(name)));
      continue;
    }
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
      Error(key.Mark(), fmt::format("{}: label {} is {}", path, Quote(name), reserved_why));
      continue;
    }
    std::string item_path = Join(path, name);
    YAML::Node scalar = value;
    if (allow_lists && value.IsSequence()) {
      if (value.size() != 1) {
        Error(PositionOf(key, value),
              fmt::format("{}: {} values; nines supports one value per label", item_path,
                          value.size()));
        continue;
      }
      scalar = value[0];
    }
    if (auto s = Scalar(scalar, PositionOf(key, scalar), item_path, "a string")) {
      labels.push_back({name, *s});
    }
  }
  if (ErrorCount() != before) return std::nullopt;
  core::Result<core::Labels> l = core::Labels::FromPairs(std::move(labels));
  if (!l.ok()) {
    Error(at, fmt::format("{}: {}", path, l.status().message()));
    return std::nullopt;
  }
  return *l;
}

std::optional<core::Labels> FileParser::SloLabels(const YAML::Node& v, const YAML::Mark& at,
                                                  const std::string& path, bool allow_lists) {
  return LabelMap(v, at, path, {"alertname", "slo", "region", "severity", "service"},
                  "set by nines on the SLO's alerts", allow_lists);
}

bool FileParser::CheckTimeZone(const std::string& tz, const YAML::Mark& at,
                               const std::string& path) {
  auto period = slo::CalendarPeriod(slo::CalendarUnit::kWeek, tz, core::Timestamp());
  if (!period.ok()) {
    Error(at, fmt::format("{}: unknown time zone {} (want an IANA name, as in "
                          "\"Europe/Berlin\")",
                          path, Quote(tz)));
    return false;
  }
  return true;
}

void FileParser::AddSlo(SloRule rule, const YAML::Mark& at, const YAML::Mark& name_at,
                        const std::string& path, size_t errors_before) {
  if (ErrorCount() != errors_before) return;
  if (core::Status s = slo::ValidateSlo(rule.spec); !s.ok()) {
    Error(at, fmt::format("{}: {}", path, s.message()));
    return;
  }
  shared_.slos.push_back({std::move(rule), this, name_at, path, index_});
}

std::optional<slo::Severity> FileParser::Severity(const YAML::Node& v, const YAML::Mark& at,
                                                  const std::string& path) {
  return Enum<slo::Severity>(v, at, path, "severity",
                             {{"page", slo::Severity::kPage}, {"ticket", slo::Severity::kTicket}});
}

}  // namespace nines::app::internal

namespace nines::app {
namespace {

using internal::FileParser;
using internal::OsloObject;
using internal::Shared;
using rules::RuleSet;

std::string FormatFileLine(const std::string& file, int line) {
  return fmt::format("{}:{}", file, line);
}

}  // namespace

RuleFileDefaults RuleFileDefaultsFrom(const Config& config, std::string origin) {
  RuleFileDefaults d;
  d.objective = config.slo.default_objective;
  d.window = config.slo.default_window;
  for (const RegionConfig& r : config.regions) d.regions.push_back(r.name);
  d.origin = std::move(origin);
  return d;
}

std::vector<std::string> ExpandRuleGlobs(const std::vector<std::string>& globs,
                                         std::string_view base_dir,
                                         const RuleFileDefaults& defaults,
                                         std::vector<ConfigError>* errors) {
  std::vector<std::string> files;
  std::set<std::string> seen;
  for (const std::string& pattern : globs) {
    fs::path p(pattern);
    if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
    std::string full = p.lexically_normal().string();
    glob_t g{};
    int rc = glob(full.c_str(), 0, nullptr, &g);
    std::string origin = defaults.origin.empty() ? pattern : defaults.origin;
    if (rc == GLOB_NOMATCH) {
      errors->push_back({origin, 1, 1,
                         fmt::format("rule_files: {} matches no files{}", Quote(pattern),
                                     full == pattern ? "" : " (looked for " + Quote(full) + ")")});
    } else if (rc != 0) {
      errors->push_back({origin, 1, 1,
                         fmt::format("rule_files: cannot expand {}: {}", Quote(pattern),
                                     rc == GLOB_NOSPACE ? "out of memory" : "read error")});
    } else {
      std::vector<std::string> matched(g.gl_pathv, g.gl_pathv + g.gl_pathc);
      std::sort(matched.begin(), matched.end());
      for (std::string& m : matched) {
        if (seen.insert(m).second) files.push_back(std::move(m));
      }
    }
    globfree(&g);
  }
  return files;
}

namespace {

// Phase 2: the OpenSLO objects that SLOs reference, by kind (names are unique per kind across
// files), converted in dependency order; then the SLOs.
void ConvertOpenSlo(Shared* shared) {
  auto index = [&](std::string_view kind, internal::OsloObjects* into) {
    for (const Shared::Doc& doc : shared->docs) {
      if (doc.kind != kind) continue;
      auto [it, inserted] = into->try_emplace(doc.name);
      if (!inserted) {
        doc.parser->Error(doc.at, fmt::format("metadata.name: duplicate {} name {} (first "
                                              "defined at {})",
                                              kind, Quote(doc.name),
                                              FormatFileLine(it->second.file, it->second.line)));
        continue;
      }
      it->second.file = doc.parser->file();
      it->second.line = doc.at.line + 1;
    }
  };
  index("AlertCondition", &shared->conditions);
  index("AlertPolicy", &shared->policies);
  index("SLI", &shared->slis);
  auto convert = [&](std::string_view kind, internal::OsloObjects* objects,
                     void (FileParser::*fn)(const Shared::Doc&, OsloObject*)) {
    for (const Shared::Doc& doc : shared->docs) {
      if (doc.kind != kind) continue;
      OsloObject& o = (*objects)[doc.name];
      // Only the first definition of a name (the duplicate was reported above).
      if (o.file != doc.parser->file() || o.line != doc.at.line + 1) continue;
      doc.parser->Guard([&] { (doc.parser->*fn)(doc, &o); });
    }
  };
  convert("AlertCondition", &shared->conditions, &FileParser::ConvertCondition);
  convert("AlertPolicy", &shared->policies, &FileParser::ConvertPolicy);
  convert("SLI", &shared->slis, &FileParser::ConvertSli);
  for (const Shared::Doc& doc : shared->docs) {
    if (doc.kind == "SLO") doc.parser->Guard([&] { doc.parser->ConvertSlo(doc); });
  }
}

// The rules of every file, with SLO and alert names unique across files (in file order, then
// line order); a duplicate is reported at its name, naming the first definition.
RuleSet UniqueRules(Shared* shared) {
  auto by_place = [](const auto& a, const auto& b) {
    return std::tie(a.file_index, a.rule.line, a.name_at.column) <
           std::tie(b.file_index, b.rule.line, b.name_at.column);
  };
  std::stable_sort(shared->slos.begin(), shared->slos.end(), by_place);
  std::stable_sort(shared->alerts.begin(), shared->alerts.end(), by_place);
  RuleSet rules;
  std::map<std::string, std::string, std::less<>> first;
  for (auto& c : shared->slos) {
    auto [it, inserted] = first.emplace(c.rule.spec.name, FormatFileLine(c.rule.file, c.rule.line));
    if (!inserted) {
      c.parser->Error(c.name_at,
                      fmt::format("{}: duplicate SLO name {} (first defined at {})",
                                  c.path.find("metadata") == 0 ? c.path : c.path + ".name",
                                  Quote(c.rule.spec.name), it->second));
      continue;
    }
    rules.slos.push_back(c.rule);
    rules.slos.back().declared_regions = shared->defaults.regions;
  }
  first.clear();
  for (auto& c : shared->alerts) {
    auto [it, inserted] = first.emplace(c.rule.name, FormatFileLine(c.rule.file, c.rule.line));
    if (!inserted) {
      c.parser->Error(c.name_at, fmt::format("{}.name: duplicate alert name {} (first defined "
                                             "at {})",
                                             c.path, Quote(c.rule.name), it->second));
      continue;
    }
    rules.alerts.push_back(c.rule);
  }
  return rules;
}

// Parses `src` (file name, text) as one rule set; `errors` are those found before (reading).
std::vector<ConfigError> ParseSources(const std::vector<std::pair<std::string, std::string>>& src,
                                      std::vector<ConfigError> errors,
                                      const RuleFileDefaults& defaults, RuleSet* out) {
  Shared shared(defaults);
  std::vector<std::unique_ptr<FileParser>> parsers;
  for (size_t i = 0; i < src.size(); ++i) {
    parsers.push_back(std::make_unique<FileParser>(src[i].first, src[i].second, i, &shared));
    parsers.back()->ParseAll();
  }
  ConvertOpenSlo(&shared);
  RuleSet rules = UniqueRules(&shared);
  for (auto& p : parsers) {
    std::vector<ConfigError> e = p->TakeErrors();
    errors.insert(errors.end(), std::make_move_iterator(e.begin()),
                  std::make_move_iterator(e.end()));
  }
  if (errors.empty() && out != nullptr) *out = std::move(rules);
  return errors;
}

}  // namespace

std::vector<ConfigError> ParseRuleFiles(const std::vector<std::string>& files,
                                        const RuleFileDefaults& defaults, RuleSet* out) {
  std::vector<std::pair<std::string, std::string>> src;
  std::vector<ConfigError> errors;
  for (const std::string& f : files) {
    std::string text;
    if (ReadSourceFile(f, &text, &errors)) src.emplace_back(f, std::move(text));
  }
  return ParseSources(src, std::move(errors), defaults, out);
}

std::vector<ConfigError> LoadRuleFiles(const std::vector<std::string>& globs,
                                       std::string_view base_dir, const RuleFileDefaults& defaults,
                                       RuleSet* out) {
  std::vector<ConfigError> glob_errors;
  std::vector<std::string> files = ExpandRuleGlobs(globs, base_dir, defaults, &glob_errors);
  std::vector<ConfigError> errors =
      ParseRuleFiles(files, defaults, glob_errors.empty() ? out : nullptr);
  glob_errors.insert(glob_errors.end(), errors.begin(), errors.end());
  return glob_errors;
}

core::Result<RuleSet> LoadRuleSet(const std::vector<std::string>& globs, std::string_view base_dir,
                                  const RuleFileDefaults& defaults) {
  RuleSet rules;
  std::vector<ConfigError> errors = LoadRuleFiles(globs, base_dir, defaults, &rules);
  if (errors.empty()) return rules;
  return core::InvalidArgumentError(JoinErrors(errors));
}

std::vector<ConfigError> ParseRuleText(std::string_view yaml_text, std::string_view file_name,
                                       const RuleFileDefaults& defaults, RuleSet* out) {
  return ParseSources({{std::string(file_name), std::string(yaml_text)}}, {}, defaults, out);
}

bool LooksLikeRuleFile(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("- ")) line.remove_prefix(2);
    for (std::string_view key : {"slos:", "alerts:", "apiVersion:"}) {
      if (line.starts_with(key)) return true;
    }
  }
  return false;
}

}  // namespace nines::app

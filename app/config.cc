#include "app/config.h"

#include <glob.h>

#include "app/config_alerting.h"
#include "app/config_collector.h"
#include "app/config_oncall.h"
#include "app/yaml_reader.h"

namespace nines::app {
namespace {

// Walks the YAML tree, filling a Config and collecting every error.
class Parser : public YamlReader {
 public:
  using YamlReader::YamlReader;

  void Parse(std::string_view text, Config* cfg) {
    ParseDocument(text, "a config file", [&](const YAML::Node& root) { ParseTop(root, cfg); });
  }

 private:
  // A token file: one token per line; blank lines and lines starting with '#' are ignored.
  void TokenListFile(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                     std::string* file, std::vector<std::string>* tokens) {
    std::string contents;
    std::optional<std::string> resolved = ReadableFile(v, at, path, &contents);
    if (!resolved) return;
    *file = *resolved;
    std::vector<std::string> found;
    size_t line_number = 0;
    size_t start = 0;
    while (start < contents.size()) {
      size_t end = contents.find('\n', start);
      if (end == std::string::npos) end = contents.size();
      std::string_view line = Trim(std::string_view(contents).substr(start, end - start));
      start = end + 1;
      ++line_number;
      if (line.empty() || line.front() == '#') continue;
      if (line.find_first_of(" \t") != std::string_view::npos) {
        Error(at, fmt::format("{}: {} line {}: a token must not contain spaces", path,
                              Quote(v.Scalar()), line_number));
        return;
      }
      found.emplace_back(line);
    }
    if (found.empty()) {
      Error(at, fmt::format("{}: {} contains no tokens", path, Quote(v.Scalar())));
      return;
    }
    file_tokens_[tokens] = std::move(found);
  }

  void ParseTop(const YAML::Node& root, Config* cfg) {
    if (!root.IsNull() && !root.IsMap()) {
      Error(root.Mark(), fmt::format("top level: expected a mapping, got {}", Describe(root)));
      return;
    }
    CollectorSections collector(*this, cfg);
    OncallSection oncall(this, &cfg->oncall);
    WalkMap(
        root, root.Mark(), "",
        {
            {"server", [&](auto& v, auto& at, auto& p) { ParseServer(v, at, p, &cfg->server); }},
            {"storage", [&](auto& v, auto& at, auto& p) { ParseStorage(v, at, p, &cfg->storage); }},
            {"slo", [&](auto& v, auto& at, auto& p) { ParseSlo(v, at, p, &cfg->slo); }},
            {"regions", [&](auto& v, auto& at, auto& p) { ParseRegions(v, at, p, &cfg->regions); }},
            {"log", [&](auto& v, auto& at, auto& p) { ParseLog(v, at, p, &cfg->log); }},
            {"collector", [&](auto& v, auto& at, auto& p) { collector.ParseCollector(v, at, p); }},
            {"agent", [&](auto& v, auto& at, auto& p) { collector.ParseAgent(v, at, p); }},
            {"services", [&](auto& v, auto& at, auto& p) { collector.ParseServices(v, at, p); }},
            {"rule_files",
             [&](auto& v, auto& at, auto& p) { ParseRuleFiles(v, at, p, &cfg->rule_files); }},
            {"alerting",
             [&](auto& v, auto& at, auto& p) {
               ParseAlertingSection(this, v, at, p, &cfg->alerting, &other_file_errors_);
             }},
            {"oncall", [&](auto& v, auto& at, auto& p) { oncall.Parse(v, at, p); }},
        });
    oncall.Finish(cfg->alerting);
    cfg->rule_files_dir = base_dir_.string();
    collector.Finish();
    // Tokens from files follow the inline ones, whatever order the keys came in.
    for (auto& [list, tokens] : file_tokens_) {
      list->insert(list->end(), tokens.begin(), tokens.end());
    }
  }

  void ParseServer(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                   ServerConfig* s) {
    WalkMap(
        node, at, path,
        {
            {"listen", [&](auto& v, auto& a, auto& p) { Set(ListenAddress(v, a, p), &s->listen); }},
            {"threads", [&](auto& v, auto& a, auto& p) { Set(Int(v, a, p, 1, 256), &s->threads); }},
            {"max_connections",
             [&](auto& v, auto& a, auto& p) {
               Set(Int(v, a, p, 1, 1'000'000), &s->max_connections);
             }},
            {"max_body_bytes",
             [&](auto& v, auto& a, auto& p) {
               Set(Size(v, a, p, kKiB, kGiB), &s->max_body_bytes);
             }},
            {"max_header_bytes",
             [&](auto& v, auto& a, auto& p) {
               Set(Size(v, a, p, kKiB, kMiB), &s->max_header_bytes);
             }},
            {"header_timeout",
             [&](auto& v, auto& a, auto& p) {
               Set(PositiveDuration(v, a, p), &s->header_timeout);
             }},
            {"body_timeout",
             [&](auto& v, auto& a, auto& p) { Set(PositiveDuration(v, a, p), &s->body_timeout); }},
            {"idle_timeout",
             [&](auto& v, auto& a, auto& p) { Set(PositiveDuration(v, a, p), &s->idle_timeout); }},
            {"shutdown_timeout",
             [&](auto& v, auto& a, auto& p) {
               Set(PositiveDuration(v, a, p), &s->shutdown_timeout);
             }},
            {"access_log", [&](auto& v, auto& a, auto& p) { Set(Bool(v, a, p), &s->access_log); }},
            {"tls", [&](auto& v, auto& a, auto& p) { ParseTls(v, a, p, &s->tls); }},
            {"auth", [&](auto& v, auto& a, auto& p) { ParseAuth(v, a, p, &s->auth); }},
        });
  }

  void ParseTls(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                TlsConfig* tls) {
    // Whether each key is present (even if its file is unreadable), for the both-or-neither rule.
    bool has_cert = false, has_key = false;
    bool ok = WalkMap(node, at, path,
                      {
                          {"cert_file",
                           [&](auto& v, auto& a, auto& p) {
                             has_cert = true;
                             Set(ReadableFile(v, a, p, nullptr), &tls->cert_file);
                           }},
                          {"key_file",
                           [&](auto& v, auto& a, auto& p) {
                             has_key = true;
                             Set(ReadableFile(v, a, p, nullptr), &tls->key_file);
                           }},
                      });
    if (ok) BothOrNeither(at, path, "cert_file", has_cert, "key_file", has_key);
  }

  void ParseAuth(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                 AuthConfig* auth) {
    WalkMap(node, at, path,
            {
                {"write_tokens",
                 [&](auto& v, auto& a, auto& p) { StringList(v, a, p, &auth->write_tokens, ""); }},
                {"write_token_file",
                 [&](auto& v, auto& a, auto& p) {
                   TokenListFile(v, a, p, &auth->write_token_file, &auth->write_tokens);
                 }},
                {"admin_tokens",
                 [&](auto& v, auto& a, auto& p) { StringList(v, a, p, &auth->admin_tokens, ""); }},
                {"admin_token_file",
                 [&](auto& v, auto& a, auto& p) {
                   TokenListFile(v, a, p, &auth->admin_token_file, &auth->admin_tokens);
                 }},
            });
  }

  void ParseStorage(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                    StorageConfig* storage) {
    WalkMap(node, at, path,
            {
                {"data_dir",
                 [&](auto& v, auto& a, auto& p) { Set(String(v, a, p), &storage->data_dir); }},
                {"out_of_order_window",
                 [&](auto& v, auto& a, auto& p) {
                   std::optional<Duration> d = DurationAtLeast(v, a, p, Duration::Minutes(1));
                   if (d && *d > Duration::Days(7)) {
                     Error(a, fmt::format("{}: {} is too long (at most 7d: late samples are held "
                                          "in memory until they settle)",
                                          p, v.Scalar()));
                     return;
                   }
                   Set(d, &storage->out_of_order_window);
                 }},
                {"future_tolerance",
                 [&](auto& v, auto& a, auto& p) {
                   std::optional<Duration> d = DurationAtLeast(v, a, p, Duration::Zero());
                   if (d && *d > Duration::Days(1)) {
                     Error(a, fmt::format("{}: {} is too long (at most 1d: a sample further "
                                          "ahead comes from a wrong clock, not from skew)",
                                          p, v.Scalar()));
                     return;
                   }
                   Set(d, &storage->future_tolerance);
                 }},
                {"sync", [&](auto& v, auto& a, auto& p) { Set(Bool(v, a, p), &storage->sync); }},
                {"self_scrape_interval",
                 [&](auto& v, auto& a, auto& p) {
                   Set(IntervalOrOff(v, a, p), &storage->self_scrape_interval);
                 }},
                {"retention",
                 [&](auto& v, auto& a, auto& p) {
                   WalkMap(v, a, p,
                           {
                               {"raw",
                                [&](auto& v2, auto& a2, auto& p2) {
                                  Set(DurationAtLeast(v2, a2, p2, Duration::Hours(1)),
                                      &storage->raw_retention);
                                }},
                               {"rollup_1m",
                                [&](auto& v2, auto& a2, auto& p2) {
                                  Set(DurationAtLeast(v2, a2, p2, Duration::Hours(1)),
                                      &storage->rollup_1m_retention);
                                }},
                               {"rollup_1h",
                                [&](auto& v2, auto& a2, auto& p2) {
                                  Set(DurationAtLeast(v2, a2, p2, Duration::Hours(1)),
                                      &storage->rollup_1h_retention);
                                }},
                           });
                 }},
            });
  }

  void ParseSlo(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                SloConfig* slo) {
    WalkMap(node, at, path,
            {
                {"default_objective",
                 [&](auto& v, auto& a, auto& p) {
                   std::optional<double> d = Number(v, a, p);
                   if (!d) return;
                   const std::string& text = v.Scalar();
                   constexpr std::string_view kRule =
                       "the objective is a percentage greater than 0 and less than 100, as in "
                       "99.9";
                   if (*d == 100) {
                     Error(a, fmt::format("{}: 100 leaves no error budget; {}", p, kRule));
                   } else if (*d == 0) {
                     Error(a, fmt::format("{}: 0 allows every request to fail; {}", p, kRule));
                   } else if (*d < 0 || *d > 100) {
                     Error(a, fmt::format("{}: {} is out of range; {}", p, text, kRule));
                   } else {
                     slo->default_objective = *d;
                   }
                 }},
                {"default_window",
                 [&](auto& v, auto& a, auto& p) {
                   Set(DurationAtLeast(v, a, p, Duration::Hours(1)), &slo->default_window);
                 }},
                {"evaluation_interval",
                 [&](auto& v, auto& a, auto& p) {
                   auto d = DurationAtLeast(v, a, p, Duration::Seconds(1));
                   if (d && *d > Duration::Minutes(10)) {
                     Error(a, fmt::format("{}: {} is too long (at most 10m)", p, d->ToString()));
                     return;
                   }
                   Set(d, &slo->evaluation_interval);
                 }},
                {"agent_down_after",
                 [&](auto& v, auto& a, auto& p) {
                   Set(DurationAtLeast(v, a, p, Duration::Seconds(10)), &slo->agent_down_after);
                 }},
                {"no_data_resolve_after",
                 [&](auto& v, auto& a, auto& p) {
                   Set(DurationAtLeast(v, a, p, Duration::Minutes(1)), &slo->no_data_resolve_after);
                 }},
            });
  }

  void ParseRegions(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                    std::vector<RegionConfig>* regions) {
    std::map<std::string, YAML::Mark, std::less<>> names;
    WalkList(
        node, at, path,
        [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path,
            size_t) {
          RegionConfig region;
          bool has_name = false;
          bool is_map = WalkItemMap(
              item, item_at, item_path,
              {
                  {"name",
                   [&](auto& v, auto& a, auto& p) {
                     has_name = true;
                     std::optional<std::string> name = String(v, a, p);
                     if (!name) return;
                     if (!CheckRegionName(*name, a, p)) return;
                     if (!CheckUnique(&names, *name, a, p, "region")) return;
                     region.name = *name;
                   }},
                  {"display_name",
                   [&](auto& v, auto& a, auto& p) { Set(String(v, a, p), &region.display_name); }},
                  {"locations",
                   [&](auto& v, auto& a, auto& p) {
                     StringList(v, a, p, &region.locations, "location");
                   }},
              });
          if (!is_map) return;
          if (!has_name) Required(item_at, item_path, "name", "");
          if (region.display_name.empty()) region.display_name = region.name;
          regions->push_back(std::move(region));
        });
  }

  // Globs of rule files: each must match at least one file now (a reload reports it again).
  void ParseRuleFiles(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                      std::vector<std::string>* globs) {
    StringList(
        node, at, path, globs, "glob",
        [&](const std::string& glob_text, const YAML::Mark& item_at, const std::string& item_path) {
          std::string pattern = Resolve(glob_text);
          glob_t g{};
          int rc = glob(pattern.c_str(), 0, nullptr, &g);
          globfree(&g);
          if (rc == GLOB_NOMATCH) {
            Error(item_at,
                  fmt::format("{}: {} matches no files{}", item_path, Quote(glob_text),
                              pattern == glob_text ? "" : " (looked for " + Quote(pattern) + ")"));
          } else if (rc != 0) {
            Error(item_at, fmt::format("{}: cannot expand {}", item_path, Quote(glob_text)));
          }
        });
  }

  void ParseLog(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                LogConfig* log) {
    WalkMap(node, at, path,
            {
                {"level",
                 [&](auto& v, auto& a, auto& p) {
                   std::optional<std::string> text = String(v, a, p);
                   if (!text) return;
                   if (!core::ParseLogLevel(*text, &log->level)) {
                     Error(a, fmt::format("{}: invalid level {} (want debug, info, warning or "
                                          "error)",
                                          p, Quote(*text)));
                   }
                 }},
            });
  }

  // Tokens read from token files, by the list they are appended to once parsing is done.
  std::map<std::vector<std::string>*, std::vector<std::string>> file_tokens_;

 public:
  // Errors of other files the config names (alerting.config_file); they name those files.
  std::vector<ConfigError> other_file_errors_;
};

}  // namespace

Config DefaultConfig() { return Config(); }

std::string ConfigError::ToString() const {
  return fmt::format("{}:{}:{}: {}", file, line, col, message);
}

std::string JoinErrors(const std::vector<ConfigError>& errors) {
  std::string message;
  for (const ConfigError& e : errors) {
    if (!message.empty()) message += '\n';
    message += e.ToString();
  }
  return message;
}

std::vector<ConfigError> ParseConfig(std::string_view yaml_text, std::string_view file_name,
                                     Config* out, std::string_view base_dir) {
  fs::path base = base_dir.empty() ? fs::path(file_name).parent_path() : fs::path(base_dir);
  Parser parser{std::string(file_name), base};
  Config cfg = DefaultConfig();
  parser.Parse(yaml_text, &cfg);
  std::vector<ConfigError> errors = parser.TakeErrors();
  errors.insert(errors.end(), parser.other_file_errors_.begin(), parser.other_file_errors_.end());
  if (errors.empty() && out != nullptr) *out = std::move(cfg);
  return errors;
}

std::vector<ConfigError> LoadConfigFile(const std::string& path, Config* out) {
  std::string text;
  std::vector<ConfigError> errors;
  if (!ReadSourceFile(path, &text, &errors)) return errors;
  return ParseConfig(text, path, out);
}

core::Result<Config> LoadConfig(const std::string& path) {
  Config cfg;
  std::vector<ConfigError> errors = LoadConfigFile(path, &cfg);
  if (errors.empty()) return cfg;
  return core::InvalidArgumentError(JoinErrors(errors));
}

}  // namespace nines::app

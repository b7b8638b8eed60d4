// The collector's sections of the config file: collector, agent and services (checks).
//
//   services:
//     - name: api
//       checks:
//         - name: api-eu              # the probe label; unique across services
//           region: eu-west-1         # the deployment measured (declared under regions)
//           locations: [eu-west-1a]   # who probes it; default: the region's locations
//           interval: 15s             # default 15s
//           timeout: 5s               # default 5s, less than interval
//           labels: {tier: "1"}
//           http: {url: "https://eu.example.com/health", ...}   # or tcp, dns, tls, icmp
//       scrapes:                      # Prometheus text-format endpoints (request counters)
//         - url: http://eu.example.com:9100/metrics
//           region: eu-west-1         # the deployment it belongs to
//           job: api                  # default: the service's name
//           locations: [eu-west-1a]   # who scrapes it; default: the region's locations
//           interval: 15s             # default 15s; timeout default min(5s, interval)
//           labels: {tier: "1"}
//           sample_limit: 10000       # 0: none; body_size_limit: 10MiB (0: none)
//           honor_labels: false
//           bearer_token: ...         # or bearer_token_file
//
// Option names follow blackbox_exporter's modules where they exist (valid_status_codes,
// fail_if_body_matches_regexp, preferred_ip_protocol, query_response, validate_answer_rrs, ...).
#include "app/config_collector.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/regex.h"

namespace nines::app {
namespace {

using collector::CheckKind;
using collector::CheckSpec;
using collector::IpPreference;

bool IsValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Labels a check may not set: they identify the probe.
bool IsReservedLabel(std::string_view name) {
  static const std::set<std::string_view> kReserved = {
      "__name__", "probe", "target", "region", "location", "service", "phase", "job", "instance"};
  return kReserved.count(name) > 0 || name.substr(0, 2) == "__";
}

}  // namespace

namespace internal {

class CollectorParser {
 public:
  CollectorParser(YamlReader& r, Config* cfg) : r_(r), cfg_(cfg) {}

  void ParseCollector(const YAML::Node& node, const YAML::Mark& at, const std::string& path) {
    CollectorConfig& c = cfg_->collector;
    r_.WalkMap(node, at, path,
               {
                   {"location",
                    [&](auto& v, auto& a, auto& p) {
                      if (auto s = r_.String(v, a, p)) {
                        c.location = *s;
                        location_mark_ = a;
                      }
                    }},
                   {"max_concurrency",
                    [&](auto& v, auto& a, auto& p) {
                      if (auto n = r_.Int(v, a, p, 1, 100000)) c.max_concurrency = static_cast<int>(*n);
                    }},
                   {"threads",
                    [&](auto& v, auto& a, auto& p) {
                      if (auto n = r_.Int(v, a, p, 1, 64)) c.threads = static_cast<int>(*n);
                    }},
               });
  }

  void ParseAgent(const YAML::Node& node, const YAML::Mark& at, const std::string& path) {
    AgentConfig& g = cfg_->agent;
    r_.WalkMap(
        node, at, path,
        {
            {"engine_url",
             [&](auto& v, auto& a, auto& p) {
               if (auto s = r_.HttpUrl(v, a, p)) g.engine_url = *s;
             }},
            {"bearer_token",
             [&](auto& v, auto& a, auto& p) {
               if (auto s = r_.String(v, a, p)) g.bearer_token = *s;
             }},
            {"token_file",
             [&](auto& v, auto& a, auto& p) {
               if (auto token = r_.TokenFile(v, a, p, &g.token_file)) g.bearer_token = *token;
             }},
            {"tls_config",
             [&](auto& v, auto& a, auto& p) {
               std::string server_name;
               ParseTlsOptions(v, a, p, &g.tls_verify, &g.ca_file, &server_name, &g.cert_file,
                               &g.key_file);
               if (!server_name.empty()) {
                 r_.Error(a, fmt::format("{}: server_name is not supported here: the agent "
                                         "verifies the host of engine_url",
                                         p));
               }
             }},
            {"queue_dir",
             [&](auto& v, auto& a, auto& p) {
               if (auto s = r_.String(v, a, p)) g.queue_dir = *s;
             }},
            {"queue_max_bytes",
             [&](auto& v, auto& a, auto& p) {
               if (auto n = r_.Size(v, a, p, kMiB, 1024 * kGiB)) g.queue_max_bytes = *n;
             }},
            {"flush_interval",
             [&](auto& v, auto& a, auto& p) {
               if (auto d = r_.DurationAtLeast(v, a, p, Duration::Milliseconds(10))) {
                 g.flush_interval = *d;
               }
             }},
            {"max_send_bytes",
             [&](auto& v, auto& a, auto& p) {
               if (auto n = r_.Size(v, a, p, 64 * kKiB, 64 * kMiB)) g.max_send_bytes = *n;
             }},
            {"send_timeout",
             [&](auto& v, auto& a, auto& p) {
               if (auto d = r_.PositiveDuration(v, a, p)) g.send_timeout = *d;
             }},
            {"heartbeat_interval",
             [&](auto& v, auto& a, auto& p) {
               if (auto d = r_.IntervalOrOff(v, a, p)) g.heartbeat_interval = *d;
             }},
            {"listen",
             [&](auto& v, auto& a, auto& p) {
               if (auto s = r_.ListenAddress(v, a, p)) g.listen = *s;
             }},
        });
  }

  void ParseServices(const YAML::Node& node, const YAML::Mark& at, const std::string& path) {
    std::map<std::string, YAML::Mark, std::less<>> service_names;
    r_.WalkList(node, at, path, [&](const YAML::Node& item, const YAML::Mark& item_at,
                                    const std::string& item_path, size_t) {
      ServiceConfig service;
      bool has_name = false;
      bool is_map = r_.WalkItemMap(
          item, item_at, item_path,
          {
              {"name",
               [&](auto& v, auto& a, auto& p) {
                 has_name = true;
                 auto s = r_.String(v, a, p);
                 if (!s) return;
                 if (!IsValidName(*s)) {
                   r_.Error(a, fmt::format("{}: invalid service name {}: use lower-case letters, "
                                           "digits, '-' and '_'",
                                           p, Quote(*s)));
                   return;
                 }
                 if (!r_.CheckUnique(&service_names, *s, a, p, "service")) return;
                 service.name = *s;
               }},
              {"description",
               [&](auto& v, auto& a, auto& p) {
                 if (auto s = r_.Scalar(v, a, p, "a string")) service.description = *s;
               }},
              {"checks",
               [&](auto& v, auto& a, auto& p) {
                 r_.WalkList(v, a, p, [&](const YAML::Node& c, const YAML::Mark& c_at,
                                          const std::string& c_path, size_t) {
                   ParseCheck(c, c_at, c_path, &service);
                 });
               }},
              {"scrapes",
               [&](auto& v, auto& a, auto& p) {
                 r_.WalkList(v, a, p, [&](const YAML::Node& c, const YAML::Mark& c_at,
                                          const std::string& c_path, size_t) {
                   ParseScrape(c, c_at, c_path, &service);
                 });
               }},
          });
      if (!is_map) return;
      if (!has_name) r_.Required(item_at, item_path, "name", "");
      for (CheckConfig& c : service.checks) c.spec.service = service.name;
      for (const PendingCheck& pc : pending_) {
        if (!pc.scrape || pc.service != cfg_->services.size()) continue;
        ScrapeConfig& c = service.scrapes[pc.index];
        if (c.spec.job.empty()) c.spec.job = service.name;
        if (c.spec.url.empty()) continue;
        const std::string key = c.spec.job + " " + c.spec.url;
        if (auto [prev, inserted] = scrape_keys_.emplace(key, c.line); !inserted) {
          r_.Error(pc.at, fmt::format("{}: job {} already scrapes {} (line {})", pc.path,
                                      Quote(c.spec.job), Quote(c.spec.url), prev->second));
        }
      }
      cfg_->services.push_back(std::move(service));
    });
  }

  // Checks that need every section: regions and locations exist, the collector's location is
  // known.
  void Finish() {
    std::set<std::string> known_locations;
    for (const RegionConfig& region : cfg_->regions) {
      known_locations.insert(region.locations.begin(), region.locations.end());
    }
    const bool regions_declared = !cfg_->regions.empty();
    if (regions_declared && !cfg_->collector.location.empty() &&
        !known_locations.count(cfg_->collector.location)) {
      r_.Error(location_mark_,
               fmt::format("collector.location: unknown location {} (not listed under any "
                           "region's locations)",
                           Quote(cfg_->collector.location)));
    }
    for (PendingCheck& pc : pending_) {
      ServiceConfig& service = cfg_->services[pc.service];
      const std::string& region_name = pc.scrape ? service.scrapes[pc.index].spec.region
                                                 : service.checks[pc.index].spec.region;
      std::vector<std::string>& locations = pc.scrape ? service.scrapes[pc.index].locations
                                                      : service.checks[pc.index].locations;
      const RegionConfig* region = nullptr;
      for (const RegionConfig& rc : cfg_->regions) {
        if (rc.name == region_name) region = &rc;
      }
      if (regions_declared && !region_name.empty() && region == nullptr) {
        r_.Error(pc.region_at, fmt::format("{}.region: unknown region {} (want one of the "
                                           "regions section's names)",
                                           pc.path, Quote(region_name)));
        continue;
      }
      if (locations.empty()) {
        if (region != nullptr) locations = region->locations;
        if (locations.empty() && !pc.has_locations && !region_name.empty()) {
          r_.Error(pc.at, fmt::format("{}: no locations: list them in locations, or declare the "
                                      "region {} with locations",
                                      pc.path, Quote(region_name)));
        }
        continue;
      }
      if (!regions_declared) continue;
      for (const std::string& l : locations) {
        if (!known_locations.count(l)) {
          r_.Error(pc.locations_at,
                   fmt::format("{}.locations: unknown location {} (not listed under any region's "
                               "locations)",
                               pc.path, Quote(l)));
        }
      }
    }
  }

 private:
  // A check or scrape whose region and locations Finish() checks. It is found by index, as
  // services move into cfg_->services only after their items are parsed.
  struct PendingCheck {
    size_t service = 0;  // index in cfg_->services
    bool scrape = false;
    size_t index = 0;    // in the service's checks or scrapes
    std::string path;
    YAML::Mark at, region_at, locations_at;
    bool has_locations = false;
  };

  // The fields checks and scrapes share: the region measured, the locations it runs from, and
  // how often and how long. `has_timeout` (may be null) records that a timeout was given.
  void AppendPlacementFields(std::string* region, std::vector<std::string>* locations,
                             Duration* interval, Duration* timeout, PendingCheck* pending,
                             bool* has_timeout, std::vector<YamlReader::Field>* fields) {
    fields->insert(fields->end(),
                   {
                       {"region",
                        [=, this](auto& v, auto& a, auto& p) {
                          pending->region_at = a;
                          if (auto s = r_.String(v, a, p)) *region = *s;
                        }},
                       {"locations",
                        [=, this](auto& v, auto& a, auto& p) {
                          pending->locations_at = a;
                          pending->has_locations = true;
                          r_.StringList(v, a, p, locations, "location");
                          if (locations->empty() && !v.IsNull() && v.IsSequence()) {
                            r_.Error(a, fmt::format("{}: must not be empty", p));
                          }
                        }},
                       {"interval",
                        [=, this](auto& v, auto& a, auto& p) {
                          if (auto d = r_.DurationAtLeast(v, a, p, Duration::Seconds(1)))
                            *interval = *d;
                        }},
                       {"timeout",
                        [=, this](auto& v, auto& a, auto& p) {
                          if (auto d = r_.DurationAtLeast(v, a, p, Duration::Milliseconds(10))) {
                            *timeout = *d;
                            if (has_timeout != nullptr) *has_timeout = true;
                          }
                        }},
                   });
  }

  void ParseCheck(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                  ServiceConfig* service) {
    CheckConfig c;
    c.line = at.line + 1;
    PendingCheck pending{
        cfg_->services.size(), false, service->checks.size(), path, at, at, at, false};
    bool has_name = false;
    int kinds = 0;
    auto kind = [&](CheckKind k, auto parse) {
      return [&, k, parse](auto& v, auto& a, auto& p) {
        if (++kinds > 1) {
          r_.Error(a, fmt::format("{}: a check has exactly one of http, tcp, dns, tls or icmp", p));
          return;
        }
        c.spec.kind = k;
        (this->*parse)(v, a, p, &c.spec);
      };
    };
    std::vector<YamlReader::Field> fields = {
        {"name",
         [&](auto& v, auto& a, auto& p) {
           has_name = true;
           auto s = r_.String(v, a, p);
           if (!s) return;
           if (!IsValidName(*s)) {
             r_.Error(a, fmt::format("{}: invalid check name {}: use lower-case letters, "
                                     "digits, '-' and '_'",
                                     p, Quote(*s)));
             return;
           }
           if (!r_.CheckUnique(&check_names_, *s, a, p, "check")) return;
           c.spec.name = *s;
         }},
    };
    AppendPlacementFields(&c.spec.region, &c.locations, &c.spec.interval, &c.spec.timeout, &pending,
                          nullptr, &fields);
    fields.insert(fields.end(),
                  {
                      {"labels", [&](auto& v, auto& a, auto& p) { ParseLabels(v, a, p, &c.spec); }},
                      {"http", kind(CheckKind::kHttp, &CollectorParser::ParseHttp)},
                      {"tcp", kind(CheckKind::kTcp, &CollectorParser::ParseTcp)},
                      {"dns", kind(CheckKind::kDns, &CollectorParser::ParseDns)},
                      {"tls", kind(CheckKind::kTls, &CollectorParser::ParseTlsCheck)},
                      {"icmp", kind(CheckKind::kIcmp, &CollectorParser::ParseIcmp)},
                  });
    if (!r_.WalkItemMap(node, at, path, fields)) return;
    if (!has_name) r_.Required(at, path, "name", "");
    if (c.spec.region.empty()) r_.Required(at, path, "region", "the deployment it measures");
    if (kinds == 0) {
      r_.Error(at, fmt::format("{}: missing the check itself: add one of http, tcp, dns, tls or "
                               "icmp",
                               path));
    }
    if (c.spec.timeout >= c.spec.interval) {
      r_.Error(at, fmt::format("{}: timeout {} must be less than interval {}", path,
                               c.spec.timeout.ToString(), c.spec.interval.ToString()));
    }
    service->checks.push_back(std::move(c));
    pending_.push_back(pending);
  }

  void ParseScrape(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                   ServiceConfig* service) {
    ScrapeConfig c;
    c.line = at.line + 1;
    PendingCheck pending{
        cfg_->services.size(), true, service->scrapes.size(), path, at, at, at, false};
    bool has_timeout = false;
    bool has_token = false;
    std::vector<YamlReader::Field> fields = {
        {"url",
         [&](auto& v, auto& a, auto& p) {
           if (auto s = r_.HttpUrl(v, a, p)) c.spec.url = *s;
         }},
        {"job",
         [&](auto& v, auto& a, auto& p) {
           auto s = r_.String(v, a, p);
           if (!s) return;
           if (!IsValidName(*s)) {
             r_.Error(a, fmt::format("{}: invalid job name {}: use lower-case letters, "
                                     "digits, '-' and '_'",
                                     p, Quote(*s)));
             return;
           }
           c.spec.job = *s;
         }},
    };
    AppendPlacementFields(&c.spec.region, &c.locations, &c.spec.interval, &c.spec.timeout, &pending,
                          &has_timeout, &fields);
    fields.insert(
        fields.end(),
        {
            {"labels",
             [&](auto& v, auto& a, auto& p) {
               CheckSpec holder;
               ParseLabels(v, a, p, &holder);
               c.spec.extra_labels = holder.extra_labels;
             }},
            {"sample_limit",
             [&](auto& v, auto& a, auto& p) {
               if (auto n = r_.Int(v, a, p, 0, int64_t{1} << 40)) c.spec.sample_limit = *n;
             }},
            {"body_size_limit",
             [&](auto& v, auto& a, auto& p) {
               if (v.IsScalar() && v.Scalar() == "0") {
                 c.spec.body_size_limit = 0;
               } else if (auto n = r_.Size(v, a, p, kKiB, kGiB)) {
                 c.spec.body_size_limit = *n;
               }
             }},
            {"honor_labels",
             [&](auto& v, auto& a, auto& p) {
               if (auto b = r_.Bool(v, a, p)) c.spec.honor_labels = *b;
             }},
            {"bearer_token",
             [&](auto& v, auto& a, auto& p) {
               if (has_token) {
                 r_.Error(a, fmt::format("{}: set bearer_token or bearer_token_file, not both", p));
               }
               has_token = true;
               if (auto s = r_.String(v, a, p))
                 c.spec.bearer_token = *s;
             }},
            {"bearer_token_file",
             [&](auto& v, auto& a, auto& p) {
               if (has_token) {
                 r_.Error(
                     a,
                     fmt::format(
                         "{}: set bearer_token or bearer_token_file, not both",
                         p));
               }
               has_token = true;
               if (auto token = r_.TokenFile(v, a, p, nullptr)) c.spec.bearer_token = *token;
             }},
        });
    if (!r_.WalkItemMap(node, at, path, fields)) return;
    if (c.spec.url.empty()) r_.Required(at, path, "url", "");
    if (c.spec.region.empty()) r_.Required(at, path, "region", "the deployment it belongs to");
    if (!has_timeout) c.spec.timeout = std::min(Duration::Seconds(5), c.spec.interval);
    if (c.spec.timeout > c.spec.interval) {
      r_.Error(at, fmt::format("{}: timeout {} must not exceed interval {}", path,
                               c.spec.timeout.ToString(), c.spec.interval.ToString()));
    }
    service->scrapes.push_back(std::move(c));
    pending_.push_back(pending);
  }

  void ParseLabels(const YAML::Node& v, const YAML::Mark& a, const std::string& p, CheckSpec* spec) {
    if (v.IsNull()) return;
    if (!v.IsMap()) {
      r_.Error(a, fmt::format("{}: expected a mapping of label names to values, got {}", p,
                              Describe(v)));
      return;
    }
    core::Labels::Builder b;
    for (auto it = v.begin(); it != v.end(); ++it) {
      YAML::Node key = it->first;
      YAML::Node value = it->second;
      const std::string name = key.IsScalar() ? key.Scalar() : "";
      if (!core::IsValidLabelName(name)) {
        r_.Error(key.Mark(), fmt::format("{}: invalid label name {}", p, Quote(name)));
        continue;
      }
      if (IsReservedLabel(name)) {
        r_.Error(key.Mark(), fmt::format("{}: label {} is set by nines and cannot be overridden",
                                         p, Quote(name)));
        continue;
      }
      auto s = r_.Scalar(value, value.Mark(), p + "." + name, "a string");
      if (s) b.Set(name, *s);
    }
    auto labels = b.Build();
    if (labels.ok()) spec->extra_labels = *labels;
  }

  // A regular expression: checked to compile as the probes compile it (RE2, Go's syntax, as
  // blackbox_exporter's), so a probe never meets an invalid one.
  std::optional<std::string> Regex(const YAML::Node& v, const YAML::Mark& a, const std::string& p) {
    auto s = r_.String(v, a, p);
    if (!s) return std::nullopt;
    if (core::Result<core::Regex> re = core::Regex::Compile(*s); !re.ok()) {
      r_.Error(a, fmt::format("{}: invalid regular expression {}: {}", p, Quote(*s),
                              re.status().message()));
      return std::nullopt;
    }
    return s;
  }

  void RegexList(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                 std::vector<std::string>* out) {
    r_.WalkList(v, a, p, [&](const YAML::Node& item, const YAML::Mark& item_at,
                             const std::string& item_path, size_t) {
      if (auto re = Regex(item, item_at, item_path)) out->push_back(*re);
    });
  }

  void IpPref(const YAML::Node& v, const YAML::Mark& a, const std::string& p, IpPreference* out) {
    auto s = r_.String(v, a, p);
    if (!s) return;
    if (*s == "ip4") {
      *out = IpPreference::kIp4;
    } else if (*s == "ip6") {
      *out = IpPreference::kIp6;
    } else {
      r_.Error(a, fmt::format("{}: invalid value {} (want ip4 or ip6)", p, Quote(*s)));
    }
  }

  // host:port with a non-empty host and a port from 1 to 65535.
  std::optional<std::string> HostPort(const YAML::Node& v, const YAML::Mark& a,
                                      const std::string& p, bool port_required) {
    auto s = r_.String(v, a, p);
    if (!s) return std::nullopt;
    size_t colon = s->rfind(':');
    bool bracketed = s->front() == '[';
    bool has_port = colon != std::string::npos && (!bracketed || colon > s->find(']'));
    if (!has_port && !port_required && (bracketed ? s->back() == ']' : s->find(':') == std::string::npos)) {
      return s;
    }
    if (!has_port || colon == 0 || (bracketed && s->at(colon - 1) != ']')) {
      r_.Error(a, fmt::format("{}: invalid address {}: expected host:port, as in "
                              "\"example.com:443\" or \"[::1]:53\"",
                              p, Quote(*s)));
      return std::nullopt;
    }
    int port = 0;
    std::string_view ps = std::string_view(*s).substr(colon + 1);
    auto [ptr, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
    if (ps.empty() || ec != std::errc() || ptr != ps.data() + ps.size() || port < 1 || port > 65535) {
      r_.Error(a, fmt::format("{}: invalid address {}: port must be a number from 1 to 65535", p,
                              Quote(*s)));
      return std::nullopt;
    }
    return s;
  }

  // tls_config: {insecure_skip_verify, ca_file, cert_file, key_file, server_name}
  void ParseTlsOptions(const YAML::Node& v, const YAML::Mark& a, const std::string& p, bool* verify,
                 std::string* ca_file, std::string* server_name, std::string* cert_file,
                 std::string* key_file) {
    bool has_cert = false, has_key = false;
    std::vector<YamlReader::Field> fields = {
        {"insecure_skip_verify",
         [&](auto& v2, auto& a2, auto& p2) {
           if (auto b = r_.Bool(v2, a2, p2)) *verify = !*b;
         }},
        {"ca_file",
         [&](auto& v2, auto& a2, auto& p2) {
           if (auto f = r_.ReadableFile(v2, a2, p2, nullptr)) *ca_file = *f;
         }},
        {"server_name",
         [&](auto& v2, auto& a2, auto& p2) {
           if (auto s = r_.String(v2, a2, p2)) *server_name = *s;
         }},
    };
    if (cert_file != nullptr) {
      fields.push_back({"cert_file", [&](auto& v2, auto& a2, auto& p2) {
                          has_cert = true;
                          if (auto f = r_.ReadableFile(v2, a2, p2, nullptr)) *cert_file = *f;
                        }});
      fields.push_back({"key_file", [&](auto& v2, auto& a2, auto& p2) {
                          has_key = true;
                          if (auto f = r_.ReadableFile(v2, a2, p2, nullptr)) *key_file = *f;
                        }});
    }
    if (r_.WalkMap(v, a, p, fields)) r_.BothOrNeither(a, p, "cert_file", has_cert, "key_file", has_key);
  }

  void ParseHttp(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                 CheckSpec* spec) {
    collector::HttpCheckOptions& h = spec->http;
    bool has_url = false;
    auto header_regexes = [&](std::vector<collector::HeaderRegex>* out) {
      return [&, out](auto& v, auto& a, auto& p) {
        r_.WalkList(v, a, p, [&](const YAML::Node& item, const YAML::Mark& item_at,
                                 const std::string& item_path, size_t) {
          collector::HeaderRegex hr;
          bool ok = r_.WalkMap(
              item, item_at, item_path,
              {
                  {"header",
                   [&](auto& v2, auto& a2, auto& p2) {
                     if (auto s = r_.String(v2, a2, p2)) hr.header = *s;
                   }},
                  {"regexp",
                   [&](auto& v2, auto& a2, auto& p2) {
                     if (auto s = Regex(v2, a2, p2)) hr.regex = *s;
                   }},
                  {"allow_missing",
                   [&](auto& v2, auto& a2, auto& p2) {
                     if (auto b = r_.Bool(v2, a2, p2)) hr.allow_missing = *b;
                   }},
              });
          if (!ok) return;
          if (hr.header.empty() || hr.regex.empty()) {
            r_.Error(item_at, fmt::format("{}: needs both header and regexp", item_path));
            return;
          }
          out->push_back(std::move(hr));
        });
      };
    };
    r_.WalkMap(
        node, at, path,
        {
            {"url",
             [&](auto& v, auto& a, auto& p) {
               has_url = true;
               if (auto s = r_.HttpUrl(v, a, p)) spec->target = *s;
             }},
            {"method",
             [&](auto& v, auto& a, auto& p) {
               auto s = r_.String(v, a, p);
               if (!s) return;
               if (!std::all_of(s->begin(), s->end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
                 r_.Error(a, fmt::format("{}: invalid method {} (upper-case letters, as in GET)", p,
                                         Quote(*s)));
                 return;
               }
               h.method = *s;
             }},
            {"headers",
             [&](auto& v, auto& a, auto& p) {
               if (v.IsNull()) return;
               if (!v.IsMap()) {
                 r_.Error(a, fmt::format("{}: expected a mapping of header names to values, got {}",
                                         p, Describe(v)));
                 return;
               }
               for (auto it = v.begin(); it != v.end(); ++it) {
                 YAML::Node key = it->first;
                 YAML::Node value = it->second;
                 auto name = r_.String(key, key.Mark(), p);
                 auto val = r_.Scalar(value, value.Mark(), p, "a string");
                 if (name && val) h.headers.emplace_back(*name, *val);
               }
             }},
            {"body",
             [&](auto& v, auto& a, auto& p) {
               if (auto s = r_.Scalar(v, a, p, "a string")) h.body = *s;
             }},
            {"valid_status_codes",
             [&](auto& v, auto& a, auto& p) {
               r_.WalkList(v, a, p, [&](const YAML::Node& item, const YAML::Mark& item_at,
                                        const std::string& item_path, size_t) {
                 auto s = r_.Scalar(item, item_at, item_path, "a status code or range");
                 if (!s) return;
                 int lo = 0, hi = 0;
                 std::string_view t = *s;
                 size_t dash = t.find('-');
                 auto num = [](std::string_view x, int* out) {
                   auto [ptr, ec] = std::from_chars(x.data(), x.data() + x.size(), *out);
                   return !x.empty() && ec == std::errc() && ptr == x.data() + x.size();
                 };
                 bool ok = dash == std::string_view::npos
                               ? num(t, &lo) && (hi = lo, true)
                               : num(t.substr(0, dash), &lo) && num(t.substr(dash + 1), &hi);
                 if (!ok || lo < 100 || hi > 599 || lo > hi) {
                   r_.Error(item_at, fmt::format("{}: invalid status {} (want a code from 100 to "
                                                 "599, or a range as in \"200-299\")",
                                                 item_path, Quote(*s)));
                   return;
                 }
                 h.valid_status_codes.emplace_back(lo, hi);
               });
             }},
            {"fail_if_body_matches_regexp",
             [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &h.fail_if_body_matches); }},
            {"fail_if_body_not_matches_regexp",
             [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &h.fail_if_body_not_matches); }},
            {"fail_if_header_matches", header_regexes(&h.fail_if_header_matches)},
            {"fail_if_header_not_matches", header_regexes(&h.fail_if_header_not_matches)},
            {"json",
             [&](auto& v, auto& a, auto& p) {
               r_.WalkList(v, a, p, [&](const YAML::Node& item, const YAML::Mark& item_at,
                                        const std::string& item_path, size_t) {
                 collector::JsonFieldCheck jc;
                 bool ok = r_.WalkMap(item, item_at, item_path,
                                      {
                                          {"pointer",
                                           [&](auto& v2, auto& a2, auto& p2) {
                                             auto s = r_.Scalar(v2, a2, p2, "a JSON pointer");
                                             if (!s) return;
                                             if (!s->empty() && s->front() != '/') {
                                               r_.Error(a2, fmt::format(
                                                                "{}: {} is not a JSON pointer "
                                                                "(it starts with '/', as in "
                                                                "\"/status\")",
                                                                p2, Quote(*s)));
                                               return;
                                             }
                                             jc.pointer = *s;
                                           }},
                                          {"equals",
                                           [&](auto& v2, auto& a2, auto& p2) {
                                             if (auto s = r_.Scalar(v2, a2, p2, "a value")) {
                                               jc.equals = *s;
                                             }
                                           }},
                                      });
                 if (ok) h.json_checks.push_back(std::move(jc));
               });
             }},
            {"max_redirects",
             [&](auto& v, auto& a, auto& p) {
               if (auto n = r_.Int(v, a, p, 0, 100)) h.max_redirects = static_cast<int>(*n);
             }},
            {"tls_config",
             [&](auto& v, auto& a, auto& p) {
               ParseTlsOptions(v, a, p, &h.tls_verify, &h.ca_file, &h.server_name, &h.cert_file,
                         &h.key_file);
             }},
            {"preferred_ip_protocol",
             [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &h.ip_preference); }},
            {"degraded_above",
             [&](auto& v, auto& a, auto& p) {
               if (auto d = r_.PositiveDuration(v, a, p)) h.degraded_above = *d;
             }},
            {"max_body_bytes",
             [&](auto& v, auto& a, auto& p) {
               if (auto n = r_.Size(v, a, p, 1, kGiB)) h.max_body_bytes = *n;
             }},
        });
    if (!has_url) r_.Required(at, path, "url", "");
  }

  void ParseTcp(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                CheckSpec* spec) {
    collector::TcpCheckOptions& t = spec->tcp;
    bool has_address = false;
    r_.WalkMap(
        node, at, path,
        {
            {"address",
             [&](auto& v, auto& a, auto& p) {
               has_address = true;
               if (auto s = HostPort(v, a, p, true)) spec->target = *s;
             }},
            {"tls", [&](auto& v, auto& a, auto& p) {
               if (auto b = r_.Bool(v, a, p)) t.tls = *b;
             }},
            {"tls_config",
             [&](auto& v, auto& a, auto& p) {
               ParseTlsOptions(v, a, p, &t.tls_verify, &t.ca_file, &t.server_name, nullptr, nullptr);
             }},
            {"query_response",
             [&](auto& v, auto& a, auto& p) {
               r_.WalkList(v, a, p, [&](const YAML::Node& item, const YAML::Mark& item_at,
                                        const std::string& item_path, size_t) {
                 collector::TcpStep step;
                 bool ok = r_.WalkMap(item, item_at, item_path,
                                      {
                                          {"send",
                                           [&](auto& v2, auto& a2, auto& p2) {
                                             if (auto s = r_.Scalar(v2, a2, p2, "a string")) {
                                               step.send = *s;
                                             }
                                           }},
                                          {"expect",
                                           [&](auto& v2, auto& a2, auto& p2) {
                                             if (auto s = Regex(v2, a2, p2)) step.expect = *s;
                                           }},
                                      });
                 if (ok) t.steps.push_back(std::move(step));
               });
             }},
            {"preferred_ip_protocol",
             [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &t.ip_preference); }},
        });
    if (!has_address) r_.Required(at, path, "address", "");
  }

  void Validation(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                  collector::DnsRecordValidation* out) {
    r_.WalkMap(node, at, path,
               {
                   {"fail_if_matches_regexp",
                    [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &out->fail_if_matches); }},
                   {"fail_if_not_matches_regexp",
                    [&](auto& v, auto& a, auto& p) {
                      RegexList(v, a, p, &out->fail_if_not_matches);
                    }},
                   {"fail_if_all_match_regexp",
                    [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &out->fail_if_all_match); }},
                   {"fail_if_none_matches_regexp",
                    [&](auto& v, auto& a, auto& p) {
                      RegexList(v, a, p, &out->fail_if_none_matches);
                    }},
               });
  }

  void ParseDns(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                CheckSpec* spec) {
    collector::DnsCheckOptions& d = spec->dns;
    bool has_server = false, has_name = false;
    static const std::vector<std::string_view> kTypes = {"A", "AAAA", "CNAME", "MX",
                                                         "TXT", "NS", "SOA"};
    static const std::vector<std::string_view> kRcodes = {
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
    r_.WalkMap(
        node, at, path,
        {
            {"server",
             [&](auto& v, auto& a, auto& p) {
               has_server = true;
               if (auto s = HostPort(v, a, p, false)) spec->target = *s;
             }},
            {"query_name",
             [&](auto& v, auto& a, auto& p) {
               has_name = true;
               if (auto s = r_.String(v, a, p)) d.query_name = *s;
             }},
            {"query_type",
             [&](auto& v, auto& a, auto& p) {
               auto s = r_.String(v, a, p);
               if (!s) return;
               if (std::find(kTypes.begin(), kTypes.end(), *s) == kTypes.end()) {
                 r_.Error(a, fmt::format("{}: unsupported query type {} (want {})", p, Quote(*s),
                                         JoinOr(kTypes)));
                 return;
               }
               d.query_type = *s;
             }},
            {"transport",
             [&](auto& v, auto& a, auto& p) {
               auto s = r_.String(v, a, p);
               if (!s) return;
               if (*s != "udp" && *s != "tcp") {
                 r_.Error(a, fmt::format("{}: invalid transport {} (want udp or tcp)", p, Quote(*s)));
                 return;
               }
               d.use_tcp = *s == "tcp";
             }},
            {"recursion_desired",
             [&](auto& v, auto& a, auto& p) {
               if (auto b = r_.Bool(v, a, p)) d.recursion_desired = *b;
             }},
            {"valid_rcodes",
             [&](auto& v, auto& a, auto& p) {
               std::vector<std::string> rcodes;
               r_.StringList(v, a, p, &rcodes, "rcode");
               for (const std::string& rc : rcodes) {
                 if (std::find(kRcodes.begin(), kRcodes.end(), rc) == kRcodes.end()) {
                   r_.Error(a, fmt::format("{}: unknown rcode {} (want {})", p, Quote(rc),
                                           JoinOr(kRcodes)));
                   return;
                 }
               }
               d.valid_rcodes = std::move(rcodes);
             }},
            {"validate_answer_rrs",
             [&](auto& v, auto& a, auto& p) { Validation(v, a, p, &d.answer); }},
            {"validate_authority_rrs",
             [&](auto& v, auto& a, auto& p) { Validation(v, a, p, &d.authority); }},
            {"validate_additional_rrs",
             [&](auto& v, auto& a, auto& p) { Validation(v, a, p, &d.additional); }},
            {"preferred_ip_protocol",
             [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &d.ip_preference); }},
        });
    if (!has_server) r_.Required(at, path, "server", "");
    if (!has_name) r_.Required(at, path, "query_name", "");
  }

  void ParseTlsCheck(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                     CheckSpec* spec) {
    collector::TlsCheckOptions& t = spec->tls;
    bool has_address = false;
    r_.WalkMap(node, at, path,
               {
                   {"address",
                    [&](auto& v, auto& a, auto& p) {
                      has_address = true;
                      if (auto s = HostPort(v, a, p, true)) spec->target = *s;
                    }},
                   {"warn_before",
                    [&](auto& v, auto& a, auto& p) {
                      if (auto d = r_.PositiveDuration(v, a, p)) t.warn_before = *d;
                    }},
                   {"tls_config",
                    [&](auto& v, auto& a, auto& p) {
                      ParseTlsOptions(v, a, p, &t.tls_verify, &t.ca_file, &t.server_name, nullptr,
                                nullptr);
                    }},
                   {"preferred_ip_protocol",
                    [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &t.ip_preference); }},
               });
    if (!has_address) r_.Required(at, path, "address", "");
  }

  void ParseIcmp(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                 CheckSpec* spec) {
    collector::IcmpCheckOptions& i = spec->icmp;
    bool has_host = false;
    r_.WalkMap(node, at, path,
               {
                   {"host",
                    [&](auto& v, auto& a, auto& p) {
                      has_host = true;
                      if (auto s = r_.String(v, a, p)) spec->target = *s;
                    }},
                   {"payload_bytes",
                    [&](auto& v, auto& a, auto& p) {
                      if (auto n = r_.Int(v, a, p, 0, 65000)) i.payload_bytes = static_cast<int>(*n);
                    }},
                   {"preferred_ip_protocol",
                    [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &i.ip_preference); }},
               });
    if (!has_host) r_.Required(at, path, "host", "");
  }

  YamlReader& r_;
  Config* cfg_;
  YAML::Mark location_mark_;
  std::map<std::string, YAML::Mark, std::less<>> check_names_;
  std::map<std::string, int> scrape_keys_;  // "job url" -> line
  std::vector<PendingCheck> pending_;

};

}  // namespace internal

CollectorSections::CollectorSections(YamlReader& reader, Config* cfg)
    : parser_(std::make_unique<internal::CollectorParser>(reader, cfg)) {}
CollectorSections::~CollectorSections() = default;

void CollectorSections::ParseCollector(const YAML::Node& n, const YAML::Mark& at,
                                       const std::string& path) {
  parser_->ParseCollector(n, at, path);
}
void CollectorSections::ParseAgent(const YAML::Node& n, const YAML::Mark& at,
                                   const std::string& path) {
  parser_->ParseAgent(n, at, path);
}
void CollectorSections::ParseServices(const YAML::Node& n, const YAML::Mark& at,
                                      const std::string& path) {
  parser_->ParseServices(n, at, path);
}
void CollectorSections::Finish() {
  parser_->Finish();
}

namespace {

// The specs (checks or scrapes, picked by `items`) that list `location`, with it set.
template <typename Spec, typename Item>
std::vector<Spec> ForLocation(const Config& config, std::string_view location,
                              std::vector<Item> ServiceConfig::*items) {
  std::vector<Spec> out;
  for (const ServiceConfig& s : config.services) {
    for (const Item& c : s.*items) {
      if (std::find(c.locations.begin(), c.locations.end(), location) == c.locations.end()) {
        continue;
      }
      Spec spec = c.spec;
      spec.location = std::string(location);
      out.push_back(std::move(spec));
    }
  }
  return out;
}

}  // namespace

std::vector<collector::CheckSpec> ChecksForLocation(const Config& config,
                                                    std::string_view location) {
  return ForLocation<collector::CheckSpec>(config, location, &ServiceConfig::checks);
}

std::vector<collector::ScrapeSpec> ScrapesForLocation(const Config& config,
                                                      std::string_view location) {
  return ForLocation<collector::ScrapeSpec>(config, location, &ServiceConfig::scrapes);
}

std::vector<std::string> ConfiguredLocations(const Config& config) {
  std::set<std::string> out;
  for (const RegionConfig& r : config.regions) out.insert(r.locations.begin(), r.locations.end());
  for (const ServiceConfig& s : config.services) {
    for (const CheckConfig& c : s.checks) out.insert(c.locations.begin(), c.locations.end());
    for (const ScrapeConfig& c : s.scrapes) out.insert(c.locations.begin(), c.locations.end());
  }
  return {out.begin(), out.end()};
}

}  // namespace nines::app

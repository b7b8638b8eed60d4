// The collector's sections of the config file: collector, agent and services, and what their
// checks and scrapes share (the check kinds are in config_checks.cc, scrapes in config_scrapes.cc).
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
#include <set>

#include "app/config_collector_internal.h"

namespace nines::app::internal {

namespace {

bool IsValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Labels a check may not set: they identify the probe.
bool IsReservedLabel(std::string_view name) {
  static const std::set<std::string_view> kReserved = {
      "__name__", "probe", "target", "region", "location", "service", "phase", "job", "instance"};
  return kReserved.count(name) > 0 || name.substr(0, 2) == "__";
}

}  // namespace

void CollectorParser::ParseCollector(const YAML::Node& node, const YAML::Mark& at,
                                     const std::string& path) {
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
                    if (auto n = r_.Int(v, a, p, 1, 100000))
                      c.max_concurrency = static_cast<int>(*n);
                  }},
                 {"threads",
                  [&](auto& v, auto& a, auto& p) {
                    if (auto n = r_.Int(v, a, p, 1, 64)) c.threads = static_cast<int>(*n);
                  }},
             });
}

void CollectorParser::ParseAgent(const YAML::Node& node, const YAML::Mark& at,
                                 const std::string& path) {
  AgentConfig& g = cfg_->agent;
  r_.WalkMap(node, at, path,
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

void CollectorParser::ParseServices(const YAML::Node& node, const YAML::Mark& at,
                                    const std::string& path) {
  std::map<std::string, YAML::Mark, std::less<>> service_names;
  r_.WalkList(node, at, path,
              [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path,
                  size_t) { ParseService(item, item_at, item_path, &service_names); });
}

void CollectorParser::ParseService(const YAML::Node& item, const YAML::Mark& item_at,
                                   const std::string& item_path,
                                   std::map<std::string, YAML::Mark, std::less<>>* service_names) {
  ServiceConfig service;
  bool has_name = false;
  bool is_map = r_.WalkItemMap(
      item, item_at, item_path,
      {
          {"name",
           [&](auto& v, auto& a, auto& p) {
             has_name = true;
             auto s = LowerName(v, a, p, "service");
             if (!s || !r_.CheckUnique(service_names, *s, a, p, "service")) return;
             service.name = *s;
           }},
          {"description",
           [&](auto& v, auto& a, auto& p) {
             r_.Set(r_.Scalar(v, a, p, "a string"), &service.description);
           }},
          {"checks",
           [&](auto& v, auto& a, auto& p) {
             r_.WalkList(v, a, p,
                         [&](const YAML::Node& c, const YAML::Mark& c_at, const std::string& c_path,
                             size_t) { ParseCheck(c, c_at, c_path, &service); });
           }},
          {"scrapes",
           [&](auto& v, auto& a, auto& p) {
             r_.WalkList(v, a, p,
                         [&](const YAML::Node& c, const YAML::Mark& c_at, const std::string& c_path,
                             size_t) { ParseScrape(c, c_at, c_path, &service); });
           }},
      });
  if (!is_map) return;
  if (!has_name) r_.Required(item_at, item_path, "name", "");
  for (CheckConfig& c : service.checks) c.spec.service = service.name;
  CheckScrapeKeys(&service);
  cfg_->services.push_back(std::move(service));
}

void CollectorParser::CheckScrapeKeys(ServiceConfig* service) {
  for (const PendingCheck& pc : pending_) {
    if (!pc.scrape || pc.service != cfg_->services.size()) continue;
    ScrapeConfig& c = service->scrapes[pc.index];
    if (c.spec.job.empty()) c.spec.job = service->name;
    if (c.spec.url.empty()) continue;
    const std::string key = c.spec.job + " " + c.spec.url;
    if (auto [prev, inserted] = scrape_keys_.emplace(key, c.line); !inserted) {
      r_.Error(pc.at, fmt::format("{}: job {} already scrapes {} (line {})", pc.path,
                                  Quote(c.spec.job), Quote(c.spec.url), prev->second));
    }
  }
}

void CollectorParser::Finish() {
  std::set<std::string> known_locations;
  for (const RegionConfig& region : cfg_->regions) {
    known_locations.insert(region.locations.begin(), region.locations.end());
  }
  if (!cfg_->regions.empty() && !cfg_->collector.location.empty() &&
      !known_locations.count(cfg_->collector.location)) {
    r_.Error(location_mark_,
             fmt::format("collector.location: unknown location {} (not listed under any "
                         "region's locations)",
                         Quote(cfg_->collector.location)));
  }
  for (const PendingCheck& pc : pending_) FinishPending(pc, known_locations);
}

void CollectorParser::FinishPending(const PendingCheck& pc,
                                    const std::set<std::string>& known_locations) {
  const bool regions_declared = !cfg_->regions.empty();
  ServiceConfig& service = cfg_->services[pc.service];
  const std::string& region_name =
      pc.scrape ? service.scrapes[pc.index].spec.region : service.checks[pc.index].spec.region;
  std::vector<std::string>& locations =
      pc.scrape ? service.scrapes[pc.index].locations : service.checks[pc.index].locations;
  const RegionConfig* region = nullptr;
  for (const RegionConfig& rc : cfg_->regions) {
    if (rc.name == region_name) region = &rc;
  }
  if (regions_declared && !region_name.empty() && region == nullptr) {
    r_.Error(pc.region_at, fmt::format("{}.region: unknown region {} (want one of the "
                                       "regions section's names)",
                                       pc.path, Quote(region_name)));
    return;
  }
  if (locations.empty()) {
    if (region != nullptr) locations = region->locations;
    if (locations.empty() && !pc.has_locations && !region_name.empty()) {
      r_.Error(pc.at, fmt::format("{}: no locations: list them in locations, or declare the "
                                  "region {} with locations",
                                  pc.path, Quote(region_name)));
    }
    return;
  }
  if (!regions_declared) return;
  for (const std::string& l : locations) {
    if (!known_locations.count(l)) {
      r_.Error(pc.locations_at,
               fmt::format("{}.locations: unknown location {} (not listed under any region's "
                           "locations)",
                           pc.path, Quote(l)));
    }
  }
}

std::optional<std::string> CollectorParser::LowerName(const YAML::Node& v, const YAML::Mark& a,
                                                      const std::string& p, std::string_view noun) {
  auto s = r_.String(v, a, p);
  if (!s) return std::nullopt;
  if (!IsValidName(*s)) {
    r_.Error(a, fmt::format("{}: invalid {} name {}: use lower-case letters, digits, '-' and '_'",
                            p, noun, Quote(*s)));
    return std::nullopt;
  }
  return s;
}

void CollectorParser::AppendPlacementFields(std::string* region,
                                            std::vector<std::string>* locations, Duration* interval,
                                            Duration* timeout, PendingCheck* pending,
                                            bool* has_timeout,
                                            std::vector<YamlReader::Field>* fields) {
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

void CollectorParser::ParseLabels(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                  core::Labels* out) {
  if (v.IsNull()) return;
  if (!v.IsMap()) {
    r_.Error(
        a, fmt::format("{}: expected a mapping of label names to values, got {}", p, Describe(v)));
    return;
  }
  core::Labels::Builder b;
  for (auto it = v.begin(); it != v.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    const std::string name = key.IsScalar() ? key.Scalar() : "";
    if (!IsValidLabelName(name)) {
      r_.Error(key.Mark(), fmt::format("{}: invalid label name {}", p, Quote(name)));
      continue;
    }
    if (IsReservedLabel(name)) {
      r_.Error(key.Mark(), fmt::format("{}: label {} is set by nines and cannot be overridden", p,
                                       Quote(name)));
      continue;
    }
    auto s = r_.Scalar(value, value.Mark(), p + "." + name, "a string");
    if (s) b.Set(name, *s);
  }
  auto labels = b.Build();
  if (labels.ok()) *out = *labels;
}

void CollectorParser::ParseTlsOptions(const YAML::Node& v, const YAML::Mark& a,
                                      const std::string& p, bool* verify, std::string* ca_file,
                                      std::string* server_name, std::string* cert_file,
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
  if (r_.WalkMap(v, a, p, fields))
    r_.BothOrNeither(a, p, "cert_file", has_cert, "key_file", has_key);
}
}  // namespace nines::app::internal

namespace nines::app {

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
void CollectorSections::Finish() { parser_->Finish(); }

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

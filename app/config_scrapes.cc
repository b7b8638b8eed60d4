// A scrape of the services section: a Prometheus text-format endpoint and how to fetch it.
#include <algorithm>

#include "app/config_collector_internal.h"

namespace nines::app::internal {

void CollectorParser::ParseScrape(const YAML::Node& node, const YAML::Mark& at,
                                  const std::string& path, ServiceConfig* service) {
  ScrapeConfig c;
  c.line = at.line + 1;
  PendingCheck pending{
      cfg_->services.size(), true, service->scrapes.size(), path, at, at, at, false};
  bool has_timeout = false;
  bool has_token = false;
  // Reports the second of bearer_token and bearer_token_file; it is read anyway, so that its own
  // errors are reported too.
  auto one_token = [&](const YAML::Mark& a, const std::string& p) {
    if (has_token)
      r_.Error(a, fmt::format("{}: set bearer_token or bearer_token_file, not both", p));
    has_token = true;
  };
  std::vector<YamlReader::Field> fields = {
      {"url",
       [&](auto& v, auto& a, auto& p) {
         if (auto s = r_.HttpUrl(v, a, p)) c.spec.url = *s;
       }},
      {"job", [&](auto& v, auto& a, auto& p) { r_.Set(LowerName(v, a, p, "job"), &c.spec.job); }},
  };
  AppendPlacementFields(&c.spec.region, &c.locations, &c.spec.interval, &c.spec.timeout, &pending,
                        &has_timeout, &fields);
  fields.insert(fields.end(),
                {
                    {"labels", [&](auto& v, auto& a,
                                   auto& p) { ParseLabels(v, a, p, &c.spec.extra_labels); }},
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
                       one_token(a, p);
                       r_.Set(r_.String(v, a, p), &c.spec.bearer_token);
                     }},
                    {"bearer_token_file",
                     [&](auto& v, auto& a, auto& p) {
                       one_token(a, p);
                       r_.Set(r_.TokenFile(v, a, p, nullptr), &c.spec.bearer_token);
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

}  // namespace nines::app::internal

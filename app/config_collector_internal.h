// Private to app/config_collector*.cc and app/config_checks.cc: the parser of the collector's
// config sections, shared by the files that implement it.
//
//   config_collector.cc  the sections (collector, agent, services), the checks that need every
//                        section (Finish), what checks and scrapes share (placement, labels,
//                        names), and the per-location queries of config.h
//   config_checks.cc     a check and its kind (http, tcp, dns, tls, icmp) with their options
//   config_scrapes.cc    a scrape of a Prometheus text-format endpoint
//
// Thread-compatible: one CollectorParser per config file being parsed; it reports through the
// YamlReader and fills the Config it is given, both of which outlive it.
#ifndef NINES_APP_CONFIG_COLLECTOR_INTERNAL_H_
#define NINES_APP_CONFIG_COLLECTOR_INTERNAL_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"
#include "app/yaml_reader.h"

namespace nines::app::internal {

class CollectorParser {
 public:
  CollectorParser(YamlReader& r, Config* cfg) : r_(r), cfg_(cfg) {}

  // ---- config_collector.cc ----
  void ParseCollector(const YAML::Node& node, const YAML::Mark& at, const std::string& path);
  void ParseAgent(const YAML::Node& node, const YAML::Mark& at, const std::string& path);
  void ParseServices(const YAML::Node& node, const YAML::Mark& at, const std::string& path);
  // Checks that need every section: regions and locations exist, the collector's location is
  // known.
  void Finish();

 private:
  // A check or scrape whose region and locations Finish() checks. It is found by index, as
  // services move into cfg_->services only after their items are parsed.
  struct PendingCheck {
    size_t service = 0;  // index in cfg_->services
    bool scrape = false;
    size_t index = 0;  // in the service's checks or scrapes
    std::string path;
    YAML::Mark at, region_at, locations_at;
    bool has_locations = false;
  };

  // ---- config_collector.cc: what the sections, checks and scrapes share ----

  // One element of services: its name, checks and scrapes.
  void ParseService(const YAML::Node& item, const YAML::Mark& at, const std::string& path,
                    std::map<std::string, YAML::Mark, std::less<>>* service_names);
  // Defaults the jobs of the service about to be appended (`service`) and reports a job that
  // already scrapes a URL.
  void CheckScrapeKeys(ServiceConfig* service);
  // Finish() for one check or scrape.
  void FinishPending(const PendingCheck& pc, const std::set<std::string>& known_locations);
  // A service, check or job name: lower-case letters, digits, '-' and '_'. `noun` names it in
  // the error ("check").
  std::optional<std::string> LowerName(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path, std::string_view noun);
  // The fields checks and scrapes share: the region measured, the locations it runs from, and
  // how often and how long. `has_timeout` (may be null) records that a timeout was given.
  void AppendPlacementFields(std::string* region, std::vector<std::string>* locations,
                             Duration* interval, Duration* timeout, PendingCheck* pending,
                             bool* has_timeout, std::vector<YamlReader::Field>* fields);
  // A check's or scrape's own labels: valid names, none that identify the probe.
  void ParseLabels(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                   core::Labels* out);
  // tls_config: {insecure_skip_verify, ca_file, cert_file, key_file, server_name}; cert_file and
  // key_file only when `cert_file` is not null.
  void ParseTlsOptions(const YAML::Node& v, const YAML::Mark& a, const std::string& p, bool* verify,
                       std::string* ca_file, std::string* server_name, std::string* cert_file,
                       std::string* key_file);

  // ---- config_checks.cc ----
  void ParseCheck(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                  ServiceConfig* service);
  // A regular expression: checked to compile as the probes compile it (RE2, Go's syntax, as
  // blackbox_exporter's), so a probe never meets an invalid one.
  std::optional<std::string> Regex(const YAML::Node& v, const YAML::Mark& a, const std::string& p);
  void RegexList(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                 std::vector<std::string>* out);
  void IpPref(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
              collector::IpPreference* out);
  // host:port with a non-empty host and a port from 1 to 65535.
  std::optional<std::string> HostPort(const YAML::Node& v, const YAML::Mark& a,
                                      const std::string& p, bool port_required);
  void ParseHttp(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                 collector::CheckSpec* spec);
  // headers: a mapping of names to values, in order.
  void HttpHeaders(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                   std::vector<std::pair<std::string, std::string>>* out);
  // valid_status_codes: codes and ranges ("200-299").
  void StatusCodes(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                   std::vector<std::pair<int, int>>* out);
  // fail_if_header_matches and fail_if_header_not_matches: {header, regexp, allow_missing}.
  void HeaderRegexes(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                     std::vector<collector::HeaderRegex>* out);
  // json: {pointer, equals} checks of the body.
  void JsonChecks(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                  std::vector<collector::JsonFieldCheck>* out);
  void ParseTcp(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                collector::CheckSpec* spec);
  void Validation(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                  collector::DnsRecordValidation* out);
  void ParseDns(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                collector::CheckSpec* spec);
  void ParseTlsCheck(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                     collector::CheckSpec* spec);
  void ParseIcmp(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                 collector::CheckSpec* spec);

  // ---- config_scrapes.cc ----
  void ParseScrape(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                   ServiceConfig* service);

  YamlReader& r_;
  Config* cfg_;
  YAML::Mark location_mark_;
  std::map<std::string, YAML::Mark, std::less<>> check_names_;
  std::map<std::string, int> scrape_keys_;  // "job url" -> line
  std::vector<PendingCheck> pending_;
};

}  // namespace nines::app::internal

#endif  // NINES_APP_CONFIG_COLLECTOR_INTERNAL_H_

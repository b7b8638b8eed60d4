#include "app/check.h"

#include <algorithm>
#include <map>

#include "app/config.h"

namespace nines::app {
namespace {

// One warning line per icmp check that this process would run but cannot, for lack of an ICMP
// socket. The permission is asked once per address family.
void WarnUnrunnableIcmpChecks(const std::string& file, const Config& cfg,
                              const CheckOptions& options, std::ostream& err) {
  const std::string& location = cfg.collector.location;
  std::map<collector::IpPreference, core::Status> permitted;
  for (const ServiceConfig& service : cfg.services) {
    for (const CheckConfig& c : service.checks) {
      if (c.spec.kind != collector::CheckKind::kIcmp) continue;
      // With a location, only its checks run here; without one, any of them may (an agent takes
      // its location from the command line).
      if (!location.empty() &&
          std::find(c.locations.begin(), c.locations.end(), location) == c.locations.end()) {
        continue;
      }
      const collector::IpPreference ip = c.spec.icmp.ip_preference;
      auto it = permitted.find(ip);
      if (it == permitted.end()) it = permitted.emplace(ip, options.icmp_permitted(ip)).first;
      if (it->second.ok()) continue;
      err << file << ':' << c.line << ": warning: icmp check \"" << c.spec.name
          << "\" cannot run in this process: " << it->second.message() << '\n';
    }
  }
}

}  // namespace

int RunCheck(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
             const CheckOptions& options) {
  if (files.empty()) {
    err << "usage: nines check FILE...\n";
    return kCheckUsage;
  }
  int rc = kCheckOk;
  for (const std::string& file : files) {
    Config cfg;
    std::vector<ConfigError> errors = LoadConfigFile(file, &cfg);
    for (const ConfigError& e : errors) err << e.ToString() << '\n';
    if (errors.empty()) {
      WarnUnrunnableIcmpChecks(file, cfg, options, err);
      out << file << ": ok\n";
    } else {
      rc = kCheckFailed;
    }
  }
  out.flush();
  err.flush();
  return rc;
}

}  // namespace nines::app

#include "app/check.h"

#include "app/config.h"

namespace nines::app {

int RunCheck(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
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

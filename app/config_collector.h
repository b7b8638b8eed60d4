// Private to app/: parsing of the collector's config sections (collector, agent, services) on
// top of YamlReader. Parse* are called as the top-level keys are met; Finish() runs the checks
// that need every section (regions and locations exist), so it is called once at the end.
#ifndef NINES_APP_CONFIG_COLLECTOR_H_
#define NINES_APP_CONFIG_COLLECTOR_H_

#include <memory>
#include <string>

#include "app/config.h"
#include "app/yaml_reader.h"

namespace nines::app {

namespace internal {
class CollectorParser;
}  // namespace internal

class CollectorSections {
 public:
  // `reader` collects the errors; `cfg` receives the sections. Both outlive this object.
  CollectorSections(YamlReader& reader, Config* cfg);
  ~CollectorSections();

  void ParseCollector(const YAML::Node& node, const YAML::Mark& at, const std::string& path);
  void ParseAgent(const YAML::Node& node, const YAML::Mark& at, const std::string& path);
  void ParseServices(const YAML::Node& node, const YAML::Mark& at, const std::string& path);
  void Finish();

 private:
  std::unique_ptr<internal::CollectorParser> parser_;
};

}  // namespace nines::app

#endif  // NINES_APP_CONFIG_COLLECTOR_H_

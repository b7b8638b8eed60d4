// Fuzzes the config parser (app::ParseConfig: YAML, then validation into app::Config), which
// reads the operator's nines.yaml at start and on every reload. Relative paths in the config
// resolve against an empty temporary directory. The config names files the operator trusts
// (token and TLS files are read whole, rule_files globbed), so inputs that would read a device
// or walk the whole file system are skipped: that is the file system's cost, not the parser's.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "app/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string base_dir = [] {
    char dir[] = "/tmp/nines-fuzz-config-XXXXXX";
    return std::string(mkdtemp(dir) != nullptr ? dir : "/nonexistent");
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::string_view outside : {"/dev", "/proc", "/sys", "/*", "**"}) {
    if (text.find(outside) != std::string_view::npos) return 0;
  }
  nines::app::Config config;
  for (const nines::app::ConfigError& e :
       nines::app::ParseConfig(text, "fuzz.yaml", &config, base_dir)) {
    (void)e.ToString();
  }
  return 0;
}

// Fuzzes the Prometheus text exposition parser (collector::ParseExposition), which reads every
// scraped /metrics body, and the sample-value parser it uses (ParsePrometheusFloat).
#include <cstdint>
#include <string_view>

#include "collector/exposition.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nines::core::Result<nines::collector::Exposition> parsed =
      nines::collector::ParseExposition(text);
  if (parsed.ok()) {
    for (const nines::collector::ExpositionSample& s : parsed->samples) {
      FUZZ_CHECK(s.family < parsed->families.size(), "sample's family index out of range");
      FUZZ_CHECK(!s.labels.MetricName().empty(), "sample without a metric name");
      FUZZ_CHECK(s.line >= 1, "sample line is not 1-based");
    }
  }
  (void)nines::collector::ParsePrometheusFloat(text.substr(0, 64));
  return 0;
}

// Fuzzes the series-selector parser (store::ParseSelector), which reads every match[] of the
// read API and every SLO's selectors, and runs the matchers it builds: what parses must print
// (Matcher::ToString) to a selector that parses back to the same matchers.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "store/store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nines::core::Result<std::vector<nines::store::Matcher>> matchers =
      nines::store::ParseSelector(text);
  if (!matchers.ok()) return 0;
  std::string printed = "{";
  for (const nines::store::Matcher& m : *matchers) {
    if (printed.size() > 1) printed += ",";
    printed += m.ToString();
    // Values a series could have: empty, the matcher's own value, a piece of the input.
    (void)m.Matches("");
    (void)m.Matches(m.value());
    (void)m.Matches(text.substr(0, 16));
  }
  printed += "}";
  nines::core::Result<std::vector<nines::store::Matcher>> again =
      nines::store::ParseSelector(printed);
  FUZZ_CHECK(again.ok(), printed.c_str());
  FUZZ_CHECK(again->size() == matchers->size(), printed.c_str());
  for (size_t i = 0; i < again->size(); ++i) {
    const nines::store::Matcher& a = (*again)[i];
    const nines::store::Matcher& b = (*matchers)[i];
    FUZZ_CHECK(a.op() == b.op() && a.name() == b.name() && a.value() == b.value(),
               printed.c_str());
  }
  return 0;
}

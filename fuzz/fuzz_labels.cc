// Fuzzes the label-set text parser (core::ParseLabels): what parses must print (ToString) to
// text that parses back to the same labels.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/labels.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nines::core::Result<nines::core::Labels> labels = nines::core::ParseLabels(text);
  if (!labels.ok()) return 0;
  std::string printed = labels->ToString();
  nines::core::Result<nines::core::Labels> again = nines::core::ParseLabels(printed);
  FUZZ_CHECK(again.ok(), printed.c_str());
  FUZZ_CHECK(*again == *labels, printed.c_str());
  return 0;
}

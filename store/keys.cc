#include "store/keys.h"

#include <utility>
#include <vector>

namespace nines::store::internal {

std::string EncodeLabels(const core::Labels& labels) {
  std::string out;
  for (const core::Label& l : labels) {
    enc::PutVarint(&out, l.name.size());
    out += l.name;
    enc::PutVarint(&out, l.value.size());
    out += l.value;
  }
  return out;
}

core::Result<core::Labels> DecodeLabels(std::string_view data) {
  enc::Decoder d(data);
  std::vector<core::Label> pairs;
  while (!d.empty()) {
    std::string_view name, value;
    if (!d.LengthPrefixed(&name) || !d.LengthPrefixed(&value)) {
      return core::DataLossError("corrupt series labels");
    }
    pairs.push_back({std::string(name), std::string(value)});
  }
  return core::Labels::FromPairs(std::move(pairs));
}

}  // namespace nines::store::internal

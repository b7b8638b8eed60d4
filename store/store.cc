// What store.h defines outside any implementation: Reader's defaults for the incremental reads,
// and FormatTimestampMs.
#include "store/store.h"

#include <fmt/format.h>

#include <limits>

namespace nines::store {

core::Result<StoreChanges> Reader::ChangesSince(uint64_t*) {
  return core::UnimplementedError("this reader does not track changes");
}
core::Result<std::vector<SeriesRef>> Reader::ResolveSeries(const std::vector<Matcher>&) {
  return core::UnimplementedError("this reader does not resolve series ids");
}
core::Result<std::vector<std::vector<core::Sample>>> Reader::SamplesOf(
    const std::vector<uint64_t>&, int64_t, int64_t) {
  return core::UnimplementedError("this reader does not read by series id");
}

core::Result<std::vector<WindowAggregate>> Reader::MinuteAggregates(const core::Labels& series,
                                                                    int64_t start_ms,
                                                                    int64_t end_ms) {
  std::vector<WindowAggregate> out;
  for (int64_t m = start_ms; m < end_ms; m += 60'000) {
    ASSIGN_OR_RETURN(WindowAggregate a, Aggregate(series, m, m + 60'000, Fields::kCounts));
    out.push_back(a);
  }
  return out;
}

std::string FormatTimestampMs(int64_t ms) {
  // Timestamp holds nanoseconds in an int64: about the years 1677 to 2262.
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1'000'000;
  if (ms <= -kLimit || ms >= kLimit) return fmt::format("{}ms", ms);
  return core::Timestamp::FromUnixMillis(ms).ToRfc3339();
}

}  // namespace nines::store

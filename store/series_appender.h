// SeriesAppender: a store interface for appending a series' samples given its labels as views
// into the caller's buffer, so that a receiver of many series per request (remote/'s
// remote-write receiver) need not build a core::Labels (a heap allocation per long label value)
// for every series of every request. One of store/'s public headers.
//
// The RocksDB store's appenders implement it; a caller uses it when the Appender it is given
// does (dynamic_cast) and falls back to Appender::Append otherwise.
//
// Thread-safety: as Appender (one appender per thread). HashLabelViews is thread-safe.
#ifndef NINES_STORE_SERIES_APPENDER_H_
#define NINES_STORE_SERIES_APPENDER_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "core/labels.h"
#include "core/status.h"
#include "store/store.h"

namespace nines::store {

// One label as views into the caller's buffer.
struct LabelView {
  std::string_view name;
  std::string_view value;
};

// What core::Labels::Hash() returns for labels holding exactly `labels` (in this order).
uint64_t HashLabelViews(std::span<const LabelView> labels);

class SeriesAppender : public Appender {
 public:
  // Stages `samples` of the series with `labels`, as Append would for each of them.
  // REQUIRES: `labels` satisfy core::Labels' invariants (sorted by name, valid unique names, a
  // valid metric name present, no empty value) and `hash` == HashLabelViews(labels). The views
  // need only live for the call.
  virtual core::Status AppendSeries(std::span<const LabelView> labels, uint64_t hash,
                                    std::span<const core::Sample> samples) = 0;
  // Stages `samples` and returns true when the store already holds a series whose labels are
  // exactly `labels` (byte for byte, in this order) and whose values are valid UTF-8
  // (core::IsValidUtf8); otherwise stages nothing and returns false. Since the store only holds
  // series with valid labels, `labels` need not be checked first: a receiver validates only the
  // labels of series this does not find.
  // REQUIRES: `hash` == HashLabelViews(labels).
  virtual bool AppendKnownSeries(std::span<const LabelView> labels, uint64_t hash,
                                 std::span<const core::Sample> samples) = 0;
};

}  // namespace nines::store

#endif  // NINES_STORE_SERIES_APPENDER_H_

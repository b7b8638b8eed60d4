// Labels: a series' identity, a sorted set of (name, value) pairs with a stable 64-bit hash.
//
// The metric name is the label "__name__". Labels are immutable values (thread-compatible),
// always sorted by name, with valid names, no duplicate names and no empty values (an empty
// value means "absent", as in Prometheus). Build them with Labels::Builder, Labels::FromPairs or
// ParseLabels; each validates.
//
// Text form (Prometheus' series notation): `up{job="api",region="eu-west-1"}`, `{a="b"}` when
// there is no metric name. Values escape backslash, double quote and newline: `c="d\"e"`.
//
// Hash() is XXH64 (seed 0) over every "name\xffvalue\xff", so it is the same across runs,
// builds and machines and may be persisted.
#ifndef NINES_CORE_LABELS_H_
#define NINES_CORE_LABELS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace nines::core {

inline constexpr std::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string name;
  std::string value;
  auto operator<=>(const Label&) const = default;
};

// [a-zA-Z_][a-zA-Z0-9_]*
bool IsValidLabelName(std::string_view name);
// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);

// XXH64 of `data` with `seed`; stable across runs and platforms.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

class Labels {
 public:
  class Builder;

  // The empty set.
  Labels() = default;

  // Sorts and validates `pairs`; pairs with an empty value are dropped.
  // Errors: INVALID_ARGUMENT for an invalid or duplicate name, or an invalid metric name.
  static Result<Labels> FromPairs(std::vector<Label> pairs);
  // Like FromPairs for pairs that are already sorted by name (as remote write sends them):
  // skips the sort. Empty values are dropped. Errors: INVALID_ARGUMENT for unsorted or duplicate
  // names, and as FromPairs.
  static Result<Labels> FromSortedPairs(std::vector<Label> pairs);
  // Example: Labels::From({{"__name__", "up"}, {"job", "api"}}).value()
  static Result<Labels> From(std::initializer_list<Label> pairs) {
    return FromPairs(std::vector<Label>(pairs));
  }

  // The value of `name`, or "" when absent. The view lives as long as this object.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return !Get(name).empty(); }
  std::string_view MetricName() const { return Get(kMetricNameLabel); }

  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  std::vector<Label>::const_iterator begin() const { return labels_.begin(); }
  std::vector<Label>::const_iterator end() const { return labels_.end(); }
  const Label& operator[](size_t i) const { return labels_[i]; }

  uint64_t Hash() const { return hash_; }
  // `name{a="b",c="d"}`; see the file comment.
  std::string ToString() const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.hash_ == b.hash_ && a.labels_ == b.labels_;
  }
  friend auto operator<=>(const Labels& a, const Labels& b) { return a.labels_ <=> b.labels_; }

 private:
  explicit Labels(std::vector<Label> sorted);
  std::vector<Label> labels_;
  uint64_t hash_ = kEmptyHash;
  static const uint64_t kEmptyHash;
};

// Accumulates changes on top of a base set; the last Set of a name wins.
class Labels::Builder {
 public:
  Builder() = default;
  explicit Builder(const Labels& base);
  // An empty value deletes the label.
  Builder& Set(std::string_view name, std::string_view value);
  Builder& Del(std::string_view name);
  // Errors: as Labels::FromPairs.
  Result<Labels> Build() const;

 private:
  std::vector<Label> pairs_;
};

// Parses the text form: `name{a="b",c="d\"e"}`, `name`, `{a="b"}` (whitespace around tokens and
// a trailing comma are allowed).
// Errors: INVALID_ARGUMENT with the 1-based column: "col 7: expected '=' after label name".
Result<Labels> ParseLabels(std::string_view text);

// Appends `value` with backslash, double quote and newline escaped (no surrounding quotes).
void AppendEscapedLabelValue(std::string* out, std::string_view value);

// One sample of a series: milliseconds since the Unix epoch (Prometheus' resolution) and a value.
struct Sample {
  int64_t timestamp_ms = 0;
  double value = 0;
};

}  // namespace nines::core

#endif  // NINES_CORE_LABELS_H_

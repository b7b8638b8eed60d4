// The Prometheus text exposition format, version 0.0.4 (what /metrics endpoints serve as
// "text/plain; version=0.0.4"): a one-pass parser into samples plus per-family metadata.
//
// Input accepted (the format's spec, matched to prometheus/common's expfmt TextParser, which is
// what `promtool check metrics` and client libraries use; differences are listed below):
//   # HELP <name> <text>          text escapes \\ and \n (and \", as expfmt accepts)
//   # TYPE <name> <type>          counter, gauge, histogram, summary or untyped (any case)
//   # anything else               a comment, ignored ('#' may be followed directly by HELP/TYPE;
//                                 "# HELP" or "# TYPE" with nothing after is a comment too)
//   <name>[{l="v",...}] <value> [<timestamp ms>]
// Names are [a-zA-Z_:][a-zA-Z0-9_:]* (metrics) and [a-zA-Z_][a-zA-Z0-9_]* (labels); label values
// escape \\, \" and \n (any other escape is an error) and must be UTF-8. Values are Go
// ParseFloat syntax as Prometheus restricts it: decimal with an optional exponent, Inf, +Inf,
// -Inf, Infinity and NaN in any case; 'p', 'P' and '_' are rejected, so hexadecimal floats
// (which Go requires to have a 'p' exponent) are not accepted, exactly as Prometheus' parsers
// reject them. Timestamps are int64 milliseconds. Blanks and tabs separate tokens; leading and
// trailing blanks, blank lines and a trailing comma in the label set are fine.
//
// Families: samples named <f>_bucket, <f>_sum, <f>_count belong to histogram <f>, and <f>_sum,
// <f>_count to summary <f>, when <f>'s TYPE line came first; otherwise a sample's family is its
// own name (untyped unless a TYPE line said otherwise). A family split by other families is
// merged, as expfmt does (the spec asks for one group, but expfmt and Prometheus accept it).
//
// Errors (INVALID_ARGUMENT, the first one found; parsing stops there) start with the 1-based
// line and, where it points at a token, the column: "line 12 col 9: invalid escape \"\\q\" in
// label value". Rejected:
//   - syntax: invalid metric or label names, a missing or malformed value or timestamp, text
//     after the timestamp, an unterminated label value, invalid UTF-8 in a label value;
//   - a label named __name__, the same label name twice in one sample;
//   - a second HELP or TYPE line for a family, a TYPE line after samples of its family, an
//     unknown type, a TYPE line with a name but no type (expfmt ignores that line; "# HELP name"
//     with no text is an empty help, where expfmt ignores it);
//   - in a histogram family an `le`, in a summary a `quantile`, that is not a float (expfmt);
//     a histogram _bucket sample without `le` (stricter than expfmt, which drops it silently);
//   - the same series (name and labels) twice, whatever the timestamps (the spec calls it
//     undefined; expfmt keeps both, the Prometheus server drops the second);
//   - line endings: CRLF is rejected everywhere (expfmt would take the '\r' into a value, a
//     timestamp or a HELP text and fail or corrupt it; rejecting it says what is wrong);
//   - a last line that does not end with '\n' (the spec requires it; so does expfmt).
// Not supported: the quoted UTF-8 names of later format versions ({"name",...}), OpenMetrics.
//
// Thread-safety: ParseExposition is thread-safe (no shared state); results are plain values.
#ifndef NINES_COLLECTOR_EXPOSITION_H_
#define NINES_COLLECTOR_EXPOSITION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"

namespace nines::collector {

enum class MetricType { kUntyped, kCounter, kGauge, kHistogram, kSummary };

// "untyped", "counter", "gauge", "histogram" or "summary".
std::string_view MetricTypeName(MetricType type);

// One metric family: from its HELP and TYPE lines, or created by its first sample.
struct MetricFamily {
  std::string name;
  MetricType type = MetricType::kUntyped;
  bool has_type = false;  // a TYPE line was seen
  bool has_help = false;  // a HELP line was seen
  std::string help;       // unescaped
};

struct ExpositionSample {
  core::Labels labels;                    // with __name__; empty label values dropped
  double value = 0;
  std::optional<int64_t> timestamp_ms;    // as exposed, when it was
  uint32_t family = 0;                    // index into Exposition::families
  uint32_t line = 0;                      // 1-based line of the sample
};

struct Exposition {
  // In order of first mention, including families that only had HELP/TYPE lines.
  std::vector<MetricFamily> families;
  // In input order.
  std::vector<ExpositionSample> samples;

  const MetricFamily& FamilyOf(const ExpositionSample& s) const { return families[s.family]; }
};

// Parses `text` (a whole /metrics body). Never crashes or loops on any input; the work is
// linear in the input size (plus the sort of each sample's labels).
// Errors: INVALID_ARGUMENT as described in the file comment.
core::Result<Exposition> ParseExposition(std::string_view text);

// Parses a sample value the way Prometheus does (see the file comment): Go's ParseFloat syntax
// without 'p', 'P' or '_'. A value too large for a double is an error (Go's ErrRange); one too
// small becomes 0 (or -0), as in Go. Returns nullopt when `text` is not a valid value.
std::optional<double> ParsePrometheusFloat(std::string_view text);

}  // namespace nines::collector

#endif  // NINES_COLLECTOR_EXPOSITION_H_

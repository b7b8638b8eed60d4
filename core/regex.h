// core/regex.h: regular expressions in RE2 syntax, which is Go's regexp syntax: the one
// Prometheus label matchers and blackbox_exporter's regex options are written in. Matching takes
// time linear in the input and never recurses on it, so no input (an 8 MiB body, a pattern that
// makes backtracking engines explode) can exhaust a stack or stall a thread.
// RE2 itself stays in core/regex.cc: this header is cheap to include.
//
// Thread-safety: a Regex is immutable once compiled; copies share one compiled program, and
// any number of threads may match with it (or its copies) at once.
#ifndef NINES_CORE_REGEX_H_
#define NINES_CORE_REGEX_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace nines::core {

class Regex {
 public:
  struct Options {
    // Whether `.` matches '\n' too. Prometheus' label matchers: yes (it compiles them as
    // "^(?s:...)$"); blackbox_exporter's options use Go's default: no.
    bool dot_matches_newline = false;
    // Whether capturing groups are kept, for ReplaceAll's $1 and ${name}. Matching is cheaper
    // without them.
    bool submatches = false;
  };

  // Compiles `pattern` (UTF-8). `^` and `$` match at the ends of the text unless the pattern
  // says (?m); matching is leftmost-first, as Go's. Text is read as UTF-8 and, as Go reads it,
  // each byte that does not start a valid sequence is one U+FFFD character (so `.` matches it).
  // Errors: INVALID_ARGUMENT with RE2's complaint, e.g. `missing ): (unclosed` (the caller names
  // the pattern and where it came from).
  static Result<Regex> Compile(std::string_view pattern, Options options);
  static Result<Regex> Compile(std::string_view pattern) { return Compile(pattern, Options{}); }

  // Whether the pattern matches all of `text` (Prometheus' matchers are fully anchored).
  bool FullMatch(std::string_view text) const;
  // Whether it matches anywhere in `text` (blackbox's regex options search).
  bool PartialMatch(std::string_view text) const;
  // The end offset in `text` of the leftmost match, or nullopt when there is none.
  std::optional<size_t> FindEnd(std::string_view text) const;

  // Go's Regexp.ReplaceAllString: `text` with every non-overlapping match (leftmost-first; an
  // empty match right after a previous match is skipped, as Go skips it) replaced by
  // `replacement`, in which $1 and ${1} name groups by number, $name and ${name} by name (the
  // longest run of letters, digits and '_'), and $$ is a '$'; a group that does not exist or did
  // not take part expands to nothing (Go's Regexp.Expand). Bytes that are not valid UTF-8 match
  // as U+FFFD and are copied as they were.
  // REQUIRES: compiled with Options::submatches (otherwise every group expands to nothing).
  // Errors: RESOURCE_EXHAUSTED once the result would exceed `max_bytes`.
  Result<std::string> ReplaceAll(std::string_view text, std::string_view replacement,
                                 size_t max_bytes) const;

  // The pattern as compiled.
  const std::string& pattern() const;

 private:
  explicit Regex(std::shared_ptr<const re2::RE2> re) : re_(std::move(re)) {}
  std::shared_ptr<const re2::RE2> re_;  // never null
};

}  // namespace nines::core

#endif  // NINES_CORE_REGEX_H_

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

  // The pattern as compiled.
  const std::string& pattern() const;

 private:
  explicit Regex(std::shared_ptr<const re2::RE2> re) : re_(std::move(re)) {}
  std::shared_ptr<const re2::RE2> re_;  // never null
};

}  // namespace nines::core

#endif  // NINES_CORE_REGEX_H_

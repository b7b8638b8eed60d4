#include "core/regex.h"

#include <re2/re2.h>

#include <vector>

#include "core/utf8.h"

namespace nines::core {
namespace {

// The length of the valid UTF-8 sequence at the start of `s` (1 to 4), or 0 when it is not one:
// a stray continuation byte, a truncated or overlong sequence, a surrogate, or past U+10FFFF
// (what Go's utf8.DecodeRune calls RuneError with width 1).
size_t Utf8SequenceLength(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;
  if (c < 0xE0) return cont(1) ? 2 : 0;
  if (c < 0xF0) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (c < 0xF5) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// Go's regexp reads each byte that does not start a valid UTF-8 sequence as U+FFFD (so `.`
// matches it); RE2 would match no character there. The text RE2 is given instead: each such
// byte replaced by U+FFFD's encoding. `origin`, when given, receives for each byte of the result
// (and one past its end) the offset in `s` it came from.
std::string GoDecoded(std::string_view s, std::vector<size_t>* origin) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) {
      out += kReplacement;
      if (origin != nullptr) origin->insert(origin->end(), kReplacement.size(), i);
      ++i;
      continue;
    }
    out.append(s.data() + i, n);
    if (origin != nullptr) {
      for (size_t k = 0; k < n; ++k) origin->push_back(i + k);
    }
    i += n;
  }
  if (origin != nullptr) origin->push_back(s.size());
  return out;
}

re2::StringPiece Piece(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

Result<Regex> Regex::Compile(std::string_view pattern, Options options) {
  RE2::Options o;
  o.set_log_errors(false);  // the error is returned, not printed to stderr
  o.set_dot_nl(options.dot_matches_newline);
  // Only whether and where a match ends is ever asked: no submatches to keep.
  o.set_never_capture(true);
  auto re = std::make_shared<const RE2>(Piece(pattern), o);
  if (!re->ok()) return InvalidArgumentError("{}", re->error());
  return Regex(std::move(re));
}

bool Regex::FullMatch(std::string_view text) const {
  if (!IsValidUtf8(text)) return RE2::FullMatch(GoDecoded(text, nullptr), *re_);
  return RE2::FullMatch(Piece(text), *re_);
}

bool Regex::PartialMatch(std::string_view text) const {
  if (!IsValidUtf8(text)) return RE2::PartialMatch(GoDecoded(text, nullptr), *re_);
  return RE2::PartialMatch(Piece(text), *re_);
}

std::optional<size_t> Regex::FindEnd(std::string_view text) const {
  std::vector<size_t> origin;
  std::string decoded;
  std::string_view input = text;
  if (!IsValidUtf8(text)) {
    decoded = GoDecoded(text, &origin);
    input = decoded;
  }
  re2::StringPiece match;
  if (!re_->Match(Piece(input), 0, input.size(), RE2::UNANCHORED, &match, 1)) {
    return std::nullopt;
  }
  const size_t end = static_cast<size_t>(match.data() - input.data()) + match.size();
  if (origin.empty()) return end;
  // A match ending inside a replacement character ends after the byte it replaced.
  return end > 0 ? origin[end - 1] + 1 : 0;
}

const std::string& Regex::pattern() const { return re_->pattern(); }

}  // namespace nines::core

#include "core/regex.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
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
  // Without ReplaceAll, only whether and where a match ends is ever asked: no submatches to keep.
  o.set_never_capture(!options.submatches);
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

namespace {

// Appends `replacement` to `out` with Go's Regexp.Expand (see ReplaceAll). `group(i)` gives the
// i-th submatch, or nullopt when it did not take part.
template <typename Group>
void Expand(const RE2& re, std::string_view replacement, int groups, const Group& group,
            std::string* out) {
  const auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  for (size_t i = 0; i < replacement.size(); ++i) {
    if (replacement[i] != '$' || i + 1 == replacement.size()) {
      out->push_back(replacement[i]);
      continue;
    }
    if (replacement[i + 1] == '$') {
      out->push_back('$');
      ++i;
      continue;
    }
    std::string_view name;
    size_t next = i + 1;
    if (replacement[next] == '{') {
      const size_t close = replacement.find('}', next);
      if (close == std::string_view::npos) {
        out->push_back('$');  // not a reference: copied as it is
        continue;
      }
      name = replacement.substr(next + 1, close - next - 1);
      next = close + 1;
    } else {
      while (next < replacement.size() && is_name_char(replacement[next])) ++next;
      name = replacement.substr(i + 1, next - i - 1);
    }
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
      out->push_back('$');
      continue;
    }
    // A number (no leading zero, under 10^8) or else a group's name, as Go reads it.
    int index = -1;
    const bool number =
        std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        name.size() < 9 && (name[0] != '0' || name.size() == 1);
    if (number) {
      index = std::stoi(std::string(name));
    } else if (auto it = re.NamedCapturingGroups().find(std::string(name));
               it != re.NamedCapturingGroups().end()) {
      index = it->second;
    }
    if (index >= 0 && index < groups) {
      if (std::optional<std::string_view> g = group(index)) out->append(*g);
    }
    i = next - 1;
  }
}

}  // namespace

Result<std::string> Regex::ReplaceAll(std::string_view text, std::string_view replacement,
                                      size_t max_bytes) const {
  std::vector<size_t> origin;  // empty: `input` is `text`
  std::string decoded;
  std::string_view input = text;
  if (!IsValidUtf8(text)) {
    decoded = GoDecoded(text, &origin);
    input = decoded;
  }
  // Offsets in `input` to offsets in `text` (a position inside a replacement character is the
  // byte it replaced).
  const auto start_in_text = [&](size_t p) { return origin.empty() ? p : origin[p]; };
  const auto end_in_text = [&](size_t p) {
    return origin.empty() || p == 0 ? p : origin[p - 1] + 1;
  };
  const int groups = re_->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> match(static_cast<size_t>(groups));
  std::string out;
  size_t search = 0;      // where the next match may start, in `input`
  size_t copied = 0;      // how much of `text` is in `out` (or replaced)
  size_t last_end = 0;    // where the previous match ended, in `input`
  bool matched_before = false;
  while (search <= input.size()) {
    if (!re_->Match(Piece(input), search, input.size(), RE2::UNANCHORED, match.data(), groups)) {
      break;
    }
    const size_t start = static_cast<size_t>(match[0].data() - input.data());
    const size_t end = start + match[0].size();
    // Go skips an empty match right where the previous match ended.
    if (!(matched_before && start == end && start == last_end)) {
      out.append(text.substr(copied, start_in_text(start) - copied));
      Expand(
          *re_, replacement, groups,
          [&](int g) -> std::optional<std::string_view> {
            const re2::StringPiece& m = match[static_cast<size_t>(g)];
            if (m.data() == nullptr) return std::nullopt;
            const size_t s = static_cast<size_t>(m.data() - input.data());
            const size_t from = start_in_text(s);
            return text.substr(from, end_in_text(s + m.size()) - from);
          },
          &out);
      copied = end_in_text(end);
      if (out.size() > max_bytes) {
        return ResourceExhaustedError("the replaced text exceeds {} bytes", max_bytes);
      }
    }
    matched_before = true;
    last_end = end;
    // The next match starts after this one; after an empty one, one character further.
    if (end > search) {
      search = end;
    } else {
      const size_t n = search < input.size() ? Utf8SequenceLength(input.substr(search)) : 1;
      search += n == 0 ? 1 : n;
    }
  }
  out.append(text.substr(copied));
  if (out.size() > max_bytes) {
    return ResourceExhaustedError("the replaced text exceeds {} bytes", max_bytes);
  }
  return out;
}

const std::string& Regex::pattern() const { return re_->pattern(); }

}  // namespace nines::core

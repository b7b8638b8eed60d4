#include "collector/exposition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "core/utf8.h"

namespace nines::collector {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLabelStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsLabelChar(char c) { return IsLabelStart(c) || IsDigit(c); }
bool IsMetricStart(char c) { return IsLabelStart(c) || c == ':'; }
bool IsMetricChar(char c) { return IsLabelChar(c) || c == ':'; }

// ASCII case-insensitive equality with a lower-case `lower`.
bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Go's strconv.ParseInt(s, 10, 64).
std::optional<int64_t> ParseInt64(std::string_view s) {
  size_t i = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return std::nullopt;
  // Accumulate as a negative number so that INT64_MIN fits.
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return std::nullopt;
    int d = s[i] - '0';
    if (v < (std::numeric_limits<int64_t>::min() + d) / 10) return std::nullopt;
    v = v * 10 - d;
  }
  if (!neg) {
    if (v == std::numeric_limits<int64_t>::min()) return std::nullopt;
    v = -v;
  }
  return v;
}

constexpr uint32_t kNoLine = 0;

// What the parser keeps per family beyond the public MetricFamily.
struct FamilyState {
  uint32_t help_line = kNoLine;
  uint32_t type_line = kNoLine;
  uint32_t first_sample_line = kNoLine;
};

// Which member of its family a sample is.
enum class Suffix { kNone, kBucket, kSum, kCount };

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {
    // A typical line is 40-100 bytes; reserving avoids most regrowth of the sample vector.
    out_.samples.reserve(text.size() / 64);
  }

  core::Result<Exposition> Parse() {
    size_t pos = 0;
    // Each iteration consumes at least one byte (a line plus its '\n'), so this ends.
    while (pos < text_.size()) {
      ++line_no_;
      const char* nl =
          static_cast<const char*>(std::memchr(text_.data() + pos, '\n', text_.size() - pos));
      size_t end = nl == nullptr ? text_.size() : static_cast<size_t>(nl - text_.data());
      line_ = text_.substr(pos, end - pos);
      pos = end + 1;
      if (!line_.empty() && line_.back() == '\r') {
        return Error(line_.size(), "carriage return at the end of the line: CRLF line endings "
                                   "are not accepted (the format separates lines with \"\\n\")");
      }
      size_t i = SkipBlanks(0);
      if (i == line_.size()) continue;  // blank line (or trailing blanks at the end of input)
      if (nl == nullptr) {
        return Error(0, "the last line does not end with a newline (\"\\n\"), as the format "
                        "requires");
      }
      RETURN_IF_ERROR(line_[i] == '#' ? ParseComment(i + 1) : ParseSample(i));
    }
    return std::move(out_);
  }

 private:
  size_t SkipBlanks(size_t i) const {
    while (i < line_.size() && IsBlank(line_[i])) ++i;
    return i;
  }
  // The end of the token starting at i: the next blank or the end of the line.
  size_t TokenEnd(size_t i) const {
    while (i < line_.size() && !IsBlank(line_[i])) ++i;
    return i;
  }

  // `col` is a 0-based offset into the line, or npos for none.
  template <typename... Args>
  core::Status Error(size_t col, fmt::format_string<Args...> format, Args&&... args) const {
    std::string msg = fmt::format(format, std::forward<Args>(args)...);
    if (col == std::string_view::npos) {
      return core::InvalidArgumentError("line {}: {}", line_no_, msg);
    }
    return core::InvalidArgumentError("line {} col {}: {}", line_no_, col + 1, msg);
  }

  // An escape sequence as written, for error messages: \q, or a description when the byte after
  // the backslash is not printable.
  static std::string EscapeText(char e) {
    unsigned char c = static_cast<unsigned char>(e);
    if (c > 0x20 && c < 0x7F) return std::string("\\") + e;
    return fmt::format("'\\' followed by byte 0x{:02x}", c);
  }

  // A printable rendering of a token for error messages (bounded, escaped).
  static std::string Quote(std::string_view s) {
    std::string out = "\"";
    size_t n = std::min<size_t>(s.size(), 64);
    for (size_t i = 0; i < n; ++i) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20 || c >= 0x7F) {
        out += fmt::format("\\x{:02x}", c);
      } else {
        out += static_cast<char>(c);
      }
    }
    if (n < s.size()) out += "...";
    out += '"';
    return out;
  }

  // The family a sample or a HELP/TYPE line named `name` belongs to, created when new; matches
  // expfmt's setOrCreateCurrentMF: the exact name first, then <base>_sum/_count of a summary,
  // then <base>_bucket/_sum/_count of a histogram.
  uint32_t FamilyFor(std::string_view name, Suffix* suffix) {
    *suffix = Suffix::kNone;
    if (auto it = family_index_.find(name); it != family_index_.end()) return it->second;
    auto base_of = [&](std::string_view sfx) -> std::string_view {
      if (name.size() > sfx.size() && name.substr(name.size() - sfx.size()) == sfx) {
        return name.substr(0, name.size() - sfx.size());
      }
      return {};
    };
    struct Candidate {
      std::string_view suffix;
      Suffix kind;
    };
    for (const Candidate& c : {Candidate{"_count", Suffix::kCount}, Candidate{"_sum", Suffix::kSum},
                               Candidate{"_bucket", Suffix::kBucket}}) {
      std::string_view base = base_of(c.suffix);
      if (base.empty()) continue;
      auto it = family_index_.find(base);
      if (it == family_index_.end()) continue;
      MetricType type = out_.families[it->second].type;
      if (type == MetricType::kHistogram ||
          (type == MetricType::kSummary && c.kind != Suffix::kBucket)) {
        *suffix = c.kind;
        return it->second;
      }
    }
    uint32_t index = static_cast<uint32_t>(out_.families.size());
    MetricFamily family;
    family.name = std::string(name);
    out_.families.push_back(std::move(family));
    states_.emplace_back();
    family_index_.emplace(std::string(name), index);
    return index;
  }

  // After '#': "# HELP name text", "# TYPE name type", or a comment.
  core::Status ParseComment(size_t i) {
    i = SkipBlanks(i);
    size_t kw_end = TokenEnd(i);
    std::string_view keyword = line_.substr(i, kw_end - i);
    const bool help = keyword == "HELP";
    if (!help && keyword != "TYPE") return core::Status::Ok();  // a comment
    i = SkipBlanks(kw_end);
    size_t name_start = i;
    if (i < line_.size() && IsMetricStart(line_[i])) {
      ++i;
      while (i < line_.size() && IsMetricChar(line_[i])) ++i;
    }
    std::string_view name = line_.substr(name_start, i - name_start);
    // "# HELP" or "# TYPE" and nothing else is a comment, as expfmt reads it.
    if (name_start == line_.size()) return core::Status::Ok();
    if (name.empty() || (i < line_.size() && !IsBlank(line_[i]))) {
      return Error(name_start, "invalid metric name {} in the {} line",
                   Quote(line_.substr(name_start, TokenEnd(name_start) - name_start)), keyword);
    }
    Suffix suffix;
    uint32_t f = FamilyFor(name, &suffix);
    MetricFamily& family = out_.families[f];
    FamilyState& state = states_[f];
    // "h_bucket" may resolve to histogram "h": then say so.
    const std::string via =
        family.name == name ? "" : fmt::format(" (\"{}\" belongs to it)", name);
    if (help) return ParseHelp(i, name_start, via, &family, &state);
    return ParseType(i, name_start, name, via, &family, &state);
  }

  // The rest of a HELP line for `family`, from `i` just after the name at `name_start`; `via`
  // tells, for errors, the name written when it differs from the family's.
  core::Status ParseHelp(size_t i, size_t name_start, std::string_view via, MetricFamily* family,
                         FamilyState* state) {
    if (state->help_line != kNoLine) {
      return Error(name_start, "second HELP line for \"{}\"{} (the first is line {})",
                   family->name, via, state->help_line);
    }
    // The text is the rest of the line after the blanks that follow the name, as expfmt
    // keeps it (inner and trailing blanks included).
    const size_t text_start = SkipBlanks(i);
    std::string text;
    for (size_t k = text_start; k < line_.size(); ++k) {
      char c = line_[k];
      if (c != '\\') {
        text += c;
        continue;
      }
      char e = k + 1 < line_.size() ? line_[k + 1] : '\0';
      if (e == '\\' || e == '"') {
        text += e;
      } else if (e == 'n') {
        text += '\n';
      } else {
        if (k + 1 >= line_.size()) {
          return Error(k, "'\\' at the end of the HELP text (want \\\\ or \\n)");
        }
        return Error(k, "invalid escape {} in the HELP text (want \\\\ or \\n)", EscapeText(e));
      }
      ++k;
    }
    family->help = std::move(text);
    family->has_help = true;
    state->help_line = line_no_;
    return core::Status::Ok();
  }

  // The rest of a TYPE line for `family`, written as `name` at `name_start`, from `i` just after
  // the name; `via` as for ParseHelp.
  core::Status ParseType(size_t i, size_t name_start, std::string_view name,
                         std::string_view via, MetricFamily* family, FamilyState* state) {
    if (state->type_line != kNoLine) {
      return Error(name_start, "second TYPE line for \"{}\"{} (the first is line {})",
                   family->name, via, state->type_line);
    }
    if (state->first_sample_line != kNoLine) {
      return Error(name_start,
                   "TYPE line for \"{}\" after its samples (the first is line {}); the TYPE "
                   "line must come first",
                   family->name, state->first_sample_line);
    }
    size_t type_start = SkipBlanks(i);
    size_t type_end = TokenEnd(type_start);
    std::string_view type = line_.substr(type_start, type_end - type_start);
    if (type.empty()) return Error(type_start, "TYPE line for \"{}\" without a type", name);
    if (EqualsLower(type, "counter")) {
      family->type = MetricType::kCounter;
    } else if (EqualsLower(type, "gauge")) {
      family->type = MetricType::kGauge;
    } else if (EqualsLower(type, "histogram")) {
      family->type = MetricType::kHistogram;
    } else if (EqualsLower(type, "summary")) {
      family->type = MetricType::kSummary;
    } else if (EqualsLower(type, "untyped")) {
      family->type = MetricType::kUntyped;
    } else {
      return Error(type_start,
                   "unknown metric type {} (want counter, gauge, histogram, summary or untyped)",
                   Quote(type));
    }
    if (size_t rest = SkipBlanks(type_end); rest < line_.size()) {
      return Error(rest, "unexpected text {} after the type", Quote(line_.substr(rest)));
    }
    family->has_type = true;
    state->type_line = line_no_;
    return core::Status::Ok();
  }

  // Parses a quoted label value starting at the opening quote line_[*i]; leaves *i after the
  // closing quote.
  core::Status ParseLabelValue(size_t* i, std::string_view label, std::string* out) {
    const size_t open = *i;
    size_t k = open + 1;
    size_t run = k;  // start of the current run of plain bytes
    while (true) {
      // Find the next quote or backslash; memchr-like scan bounded by the line.
      while (k < line_.size() && line_[k] != '"' && line_[k] != '\\') ++k;
      if (k >= line_.size()) {
        return Error(open, "unterminated value of label \"{}\" (missing closing '\"')", label);
      }
      out->append(line_.data() + run, k - run);
      if (line_[k] == '"') break;
      char e = k + 1 < line_.size() ? line_[k + 1] : '\0';
      if (e == '\\' || e == '"') {
        out->push_back(e);
      } else if (e == 'n') {
        out->push_back('\n');
      } else if (k + 1 >= line_.size()) {
        return Error(open, "unterminated value of label \"{}\" (missing closing '\"')", label);
      } else {
        return Error(k, "invalid escape {} in the value of label \"{}\" (want \\\\, \\\" or \\n)",
                     EscapeText(e), label);
      }
      k += 2;
      run = k;
    }
    if (!core::IsValidUtf8(std::string_view(line_.data() + open + 1, k - open - 1))) {
      return Error(open, "the value of label \"{}\" is not valid UTF-8", label);
    }
    *i = k + 1;
    return core::Status::Ok();
  }

  // The slot holding the sample with `labels`: an earlier sample's index when there is one,
  // else `index`, inserted. REQUIRES: out_.samples.size() == index (not yet appended).
  const uint32_t* FindOrInsertSeries(const core::Labels& labels, uint32_t index) {
    if ((static_cast<size_t>(index) + 1) * 2 > series_slots_.size()) {
      std::vector<uint32_t> old = std::move(series_slots_);
      series_slots_.assign(std::max<size_t>(64, old.size() * 2), kEmptySlot);
      const size_t mask = series_slots_.size() - 1;
      for (uint32_t i : old) {
        if (i == kEmptySlot) continue;
        size_t k = out_.samples[i].labels.Hash() & mask;
        while (series_slots_[k] != kEmptySlot) k = (k + 1) & mask;
        series_slots_[k] = i;
      }
    }
    const size_t mask = series_slots_.size() - 1;
    // Terminates: the table is at most half full, so an empty slot is reached.
    for (size_t k = labels.Hash() & mask;; k = (k + 1) & mask) {
      uint32_t& slot = series_slots_[k];
      if (slot == kEmptySlot) {
        slot = index;
        return &slot;
      }
      if (out_.samples[slot].labels == labels) return &slot;
    }
  }

  // Where a sample's le and quantile labels are: their indexes into its pairs (not views: the
  // vector may grow; index 0 is __name__, so 0 means none) and the columns of their values.
  struct SpecialLabels {
    size_t le_index = 0, quantile_index = 0;
    size_t le_col = 0, quantile_col = 0;
  };

  core::Status ParseSample(size_t i) {
    const size_t name_start = i;
    if (!IsMetricStart(line_[i])) {
      if (line_[i] == '{') {
        return Error(i, "expected a metric name before '{{' (the quoted names of later format "
                        "versions are not supported)");
      }
      return Error(i, "expected a metric name, a comment or a blank line, found {}",
                   Quote(line_.substr(i, 1)));
    }
    ++i;
    while (i < line_.size() && IsMetricChar(line_[i])) ++i;
    const std::string_view name = line_.substr(name_start, i - name_start);
    const size_t after_name = i;
    i = SkipBlanks(i);

    std::vector<core::Label> pairs;
    pairs.reserve(8);
    pairs.push_back({std::string(core::kMetricNameLabel), std::string(name)});
    SpecialLabels special;
    bool had_labels = false;
    if (i < line_.size() && line_[i] == '{') {
      had_labels = true;
      RETURN_IF_ERROR(ParseLabelSet(&i, &pairs, &special));
      i = SkipBlanks(i);
    } else if (i == after_name && i < line_.size()) {
      return Error(i, "unexpected character {} after the metric name \"{}\"",
                   Quote(line_.substr(i, 1)), name);
    }
    double value = 0;
    std::optional<int64_t> timestamp;
    RETURN_IF_ERROR(ParseValueAndTimestamp(i, had_labels, &value, &timestamp));

    Suffix suffix;
    const uint32_t f = SampleFamily(name, &suffix);
    RETURN_IF_ERROR(CheckTypedLabels(out_.families[f], suffix, name, name_start, pairs, special));

    // Labels: sorted, no name twice.
    std::sort(pairs.begin(), pairs.end(),
              [](const core::Label& a, const core::Label& b) { return a.name < b.name; });
    for (size_t k = 1; k < pairs.size(); ++k) {
      if (pairs[k].name == pairs[k - 1].name) {
        return Error(std::string_view::npos, "label name \"{}\" appears twice in one sample of "
                     "\"{}\"", pairs[k].name, name);
      }
    }
    core::Result<core::Labels> labels = core::Labels::FromSortedPairs(std::move(pairs));
    if (!labels.ok()) {
      // Names were checked above; this is a safety net that keeps the line in the message.
      return Error(std::string_view::npos, "{}", labels.status().message());
    }

    // The same series twice.
    const uint32_t index = static_cast<uint32_t>(out_.samples.size());
    if (const uint32_t* slot = FindOrInsertSeries(*labels, index); *slot != index) {
      return Error(std::string_view::npos, "duplicate series {} (first at line {})",
                   labels->ToString(), out_.samples[*slot].line);
    }
    FamilyState& state = states_[f];
    if (state.first_sample_line == kNoLine) state.first_sample_line = line_no_;
    out_.samples.push_back(ExpositionSample{.labels = std::move(labels).value(),
                                            .value = value,
                                            .timestamp_ms = timestamp,
                                            .family = f,
                                            .line = line_no_});
    return core::Status::Ok();
  }

  // A sample's label set, from its '{' at line_[*i]; leaves *i just after the closing '}'.
  // Appends the labels to `pairs` and notes where le and quantile are in `special`.
  core::Status ParseLabelSet(size_t* pos, std::vector<core::Label>* pairs,
                             SpecialLabels* special) {
    size_t i = *pos;
    const size_t open = i;
    ++i;
    while (true) {
      i = SkipBlanks(i);
      if (i >= line_.size()) {
        return Error(open, "unterminated label set (missing '}}')");
      }
      if (line_[i] == '}') {
        ++i;
        break;
      }
      const size_t label_start = i;
      if (!IsLabelStart(line_[i])) {
        return Error(i, "expected a label name or '}}', found {}", Quote(line_.substr(i, 1)));
      }
      ++i;
      while (i < line_.size() && IsLabelChar(line_[i])) ++i;
      std::string_view label = line_.substr(label_start, i - label_start);
      i = SkipBlanks(i);
      if (i >= line_.size() || line_[i] != '=') {
        return Error(i, "expected '=' after label name \"{}\"", label);
      }
      i = SkipBlanks(i + 1);
      if (i >= line_.size() || line_[i] != '"') {
        return Error(i, "expected '\"' to open the value of label \"{}\"", label);
      }
      if (label == core::kMetricNameLabel) {
        return Error(label_start, "label name \"__name__\" is reserved");
      }
      const size_t value_start = i;
      std::string value;
      RETURN_IF_ERROR(ParseLabelValue(&i, label, &value));
      if (label == "le") {
        special->le_index = pairs->size();
        special->le_col = value_start;
      } else if (label == "quantile") {
        special->quantile_index = pairs->size();
        special->quantile_col = value_start;
      }
      pairs->push_back({std::string(label), std::move(value)});
      i = SkipBlanks(i);
      if (i < line_.size() && line_[i] == ',') {
        ++i;
      } else if (i >= line_.size() || line_[i] != '}') {
        return Error(i, "expected ',' or '}}' after the value of label \"{}\"", label);
      }
    }
    *pos = i;
    return core::Status::Ok();
  }

  // The value and the optional timestamp that end a sample line, from `i` (past the blanks
  // after the name or the labels, as `had_labels` says).
  core::Status ParseValueAndTimestamp(size_t i, bool had_labels, double* value,
                                      std::optional<int64_t>* timestamp) {
    if (i >= line_.size()) {
      return Error(i, "expected a value after the {}", had_labels ? "labels" : "metric name");
    }
    const size_t value_start = i;
    i = TokenEnd(i);
    std::string_view value_text = line_.substr(value_start, i - value_start);
    std::optional<double> parsed = ParsePrometheusFloat(value_text);
    if (!parsed) {
      if (value_text.find_first_of("pP_") != std::string_view::npos) {
        return Error(value_start,
                     "invalid value {}: Prometheus rejects 'p', 'P' and '_' in values (so "
                     "hexadecimal floats too)",
                     Quote(value_text));
      }
      return Error(value_start, "invalid value {} (want a float, +Inf, -Inf or NaN)",
                   Quote(value_text));
    }
    *value = *parsed;
    i = SkipBlanks(i);
    if (i < line_.size()) {
      const size_t ts_start = i;
      i = TokenEnd(i);
      std::string_view ts_text = line_.substr(ts_start, i - ts_start);
      *timestamp = ParseInt64(ts_text);
      if (!*timestamp) {
        return Error(ts_start, "invalid timestamp {} (want integer milliseconds since the epoch)",
                     Quote(ts_text));
      }
      i = SkipBlanks(i);
      if (i < line_.size()) {
        return Error(i, "unexpected text {} after the timestamp", Quote(line_.substr(i)));
      }
    }
    return core::Status::Ok();
  }

  // The family of a sample named `name`: FamilyFor, remembered for the next line, since a
  // family's samples usually come together.
  uint32_t SampleFamily(std::string_view name, Suffix* suffix) {
    if (last_family_name_ == name) {
      *suffix = last_suffix_;
      return last_family_;
    }
    const uint32_t f = FamilyFor(name, suffix);
    last_family_name_.assign(name);
    last_family_ = f;
    last_suffix_ = *suffix;
    return f;
  }

  // The checks on a sample that depend on its family's type: a histogram's le and a summary's
  // quantile are floats, and a histogram bucket has an le.
  core::Status CheckTypedLabels(const MetricFamily& family, Suffix suffix, std::string_view name,
                                size_t name_start, const std::vector<core::Label>& pairs,
                                const SpecialLabels& special) const {
    if (family.type == MetricType::kHistogram) {
      if (special.le_index != 0 && !ParsePrometheusFloat(pairs[special.le_index].value)) {
        return Error(special.le_col, "label \"le\" of histogram \"{}\" is not a float: {}",
                     family.name, Quote(pairs[special.le_index].value));
      }
      if (suffix == Suffix::kBucket && special.le_index == 0) {
        return Error(name_start, "histogram bucket \"{}\" without an \"le\" label", name);
      }
    } else if (family.type == MetricType::kSummary && special.quantile_index != 0 &&
               !ParsePrometheusFloat(pairs[special.quantile_index].value)) {
      return Error(special.quantile_col, "label \"quantile\" of summary \"{}\" is not a float: {}",
                   family.name, Quote(pairs[special.quantile_index].value));
    }
    return core::Status::Ok();
  }

  std::string_view text_;
  std::string_view line_;
  uint32_t line_no_ = 0;
  Exposition out_;
  std::vector<FamilyState> states_;  // parallel to out_.families
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> family_index_;
  // Open addressing (linear probing, at most half full) over sample indexes, by labels hash:
  // a node-based map cost a tenth of the parse time.
  static constexpr uint32_t kEmptySlot = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> series_slots_;
  // Consecutive samples mostly share a name: the last lookup, to skip the hash map.
  std::string last_family_name_;
  uint32_t last_family_ = 0;
  Suffix last_suffix_ = Suffix::kNone;
};

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kUntyped:
      return "untyped";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
  }
  return "unknown";
}

std::optional<double> ParsePrometheusFloat(std::string_view s) {
  if (s.empty() || s.find_first_of("pP_") != std::string_view::npos) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  std::string_view rest = s.substr(i);
  // Go's special(): [+-]inf, [+-]infinity, nan (no sign), in any case.
  if (EqualsLower(rest, "inf") || EqualsLower(rest, "infinity")) {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (i == 0 && EqualsLower(rest, "nan")) return std::numeric_limits<double>::quiet_NaN();

  // Decimal: digits [. digits] or . digits, then an optional exponent.
  size_t j = i;
  size_t digits = 0;
  // Decimal exponent of the first significant digit, for telling overflow from underflow.
  int64_t magnitude = 0;
  bool seen_nonzero = false;
  while (j < s.size() && IsDigit(s[j])) {
    if (s[j] != '0') seen_nonzero = true;
    if (seen_nonzero) ++magnitude;
    ++digits;
    ++j;
  }
  if (j < s.size() && s[j] == '.') {
    ++j;
    while (j < s.size() && IsDigit(s[j])) {
      if (!seen_nonzero) {
        if (s[j] != '0') {
          seen_nonzero = true;
        } else {
          --magnitude;
        }
      }
      ++digits;
      ++j;
    }
  }
  if (digits == 0) return std::nullopt;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    bool exp_neg = false;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) {
      exp_neg = s[j] == '-';
      ++j;
    }
    size_t exp_digits = 0;
    int64_t exp = 0;
    while (j < s.size() && IsDigit(s[j])) {
      if (exp < 1'000'000'000) exp = exp * 10 + (s[j] - '0');
      ++exp_digits;
      ++j;
    }
    if (exp_digits == 0) return std::nullopt;
    magnitude += exp_neg ? -exp : exp;
  }
  if (j != s.size()) return std::nullopt;

  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v, std::chars_format::general);
  if (ec == std::errc() && ptr == s.data() + s.size()) return neg ? -v : v;
  if (ec == std::errc::result_out_of_range) {
    // Too large is Go's ErrRange, which Prometheus rejects; too small rounds to zero.
    if (magnitude > 0) return std::nullopt;
    return neg ? -0.0 : 0.0;
  }
  return std::nullopt;
}

core::Result<Exposition> ParseExposition(std::string_view text) { return Parser(text).Parse(); }

}  // namespace nines::collector

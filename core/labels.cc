#include "core/labels.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace nines::core {
namespace {

// XXH64, written from the published algorithm description.
constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ULL;

uint64_t Read64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}
uint32_t Read32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}
uint64_t Round(uint64_t acc, uint64_t input) {
  acc += input * kP2;
  acc = std::rotl(acc, 31);
  return acc * kP1;
}
uint64_t MergeRound(uint64_t acc, uint64_t val) {
  acc ^= Round(0, val);
  return acc * kP1 + kP4;
}

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

uint64_t HashPairs(const std::vector<Label>& labels) {
  thread_local std::string buf;  // reused: hashing is on every ingested series
  buf.clear();
  for (const Label& l : labels) {
    buf += l.name;
    buf += '\xff';
    buf += l.value;
    buf += '\xff';
  }
  return Hash64(buf);
}

class LabelParser {
 public:
  explicit LabelParser(std::string_view text) : text_(text) {}

  Result<Labels> Parse() {
    std::vector<Label> pairs;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] != '{') {
      size_t start = pos_;
      while (pos_ < text_.size() && (IsNameChar(text_[pos_]) || text_[pos_] == ':')) ++pos_;
      if (pos_ == start || !IsValidMetricName(text_.substr(start, pos_ - start))) {
        return Error(start, "expected a metric name or '{'");
      }
      pairs.push_back({std::string(kMetricNameLabel), std::string(text_.substr(start, pos_ - start))});
      SkipSpace();
    }
    if (pos_ < text_.size() && text_[pos_] == '{') {
      ++pos_;
      SkipSpace();
      while (pos_ < text_.size() && text_[pos_] != '}') {
        size_t start = pos_;
        while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
        std::string_view name = text_.substr(start, pos_ - start);
        if (!IsValidLabelName(name)) return Error(start, "expected a label name");
        SkipSpace();
        if (pos_ >= text_.size() || text_[pos_] != '=') {
          return Error(pos_, "expected '=' after label name");
        }
        ++pos_;
        SkipSpace();
        std::string value;
        RETURN_IF_ERROR(ParseQuoted(&value));
        for (const Label& l : pairs) {
          if (l.name == name) return Error(start, fmt::format("duplicate label name \"{}\"", name));
        }
        pairs.push_back({std::string(name), std::move(value)});
        SkipSpace();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          SkipSpace();
        } else if (pos_ < text_.size() && text_[pos_] != '}') {
          return Error(pos_, "expected ',' or '}' after label value");
        }
      }
      if (pos_ >= text_.size()) return Error(pos_, "missing closing '}'");
      ++pos_;
      SkipSpace();
    }
    if (pos_ != text_.size()) return Error(pos_, "unexpected text after the series");
    if (pairs.empty()) return Error(0, "empty series: expected a metric name or '{'");
    ASSIGN_OR_RETURN(Labels labels, Labels::FromPairs(std::move(pairs)));
    // Empty values mean absent, so `{a=""}` names no series either (and prints as `{}`).
    if (labels.empty()) return Error(0, "empty series: every label value is empty");
    return labels;
  }

 private:
  Status ParseQuoted(std::string* out) {
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      return Error(pos_, "expected '\"' to open the label value");
    }
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_];
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) break;
        char e = text_[pos_ + 1];
        if (e == '\\') out->push_back('\\');
        else if (e == '"') out->push_back('"');
        else if (e == 'n') out->push_back('\n');
        else return Error(pos_, fmt::format("unknown escape \"\\{}\" (want \\\\, \\\" or \\n)", e));
        pos_ += 2;
      } else {
        out->push_back(c);
        ++pos_;
      }
    }
    if (pos_ >= text_.size()) return Error(pos_, "unterminated label value");
    ++pos_;
    return Status::Ok();
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  Status Error(size_t pos, std::string_view what) const {
    return InvalidArgumentError("col {}: {} in {}", pos + 1, what, text_);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

uint64_t Hash64(std::string_view data, uint64_t seed) {
  const char* p = data.data();
  const size_t len = data.size();
  const char* end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = seed + kP1 + kP2;
    uint64_t v2 = seed + kP2;
    uint64_t v3 = seed;
    uint64_t v4 = seed - kP1;
    const char* limit = end - 32;
    do {
      v1 = Round(v1, Read64(p));
      v2 = Round(v2, Read64(p + 8));
      v3 = Round(v3, Read64(p + 16));
      v4 = Round(v4, Read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = std::rotl(v1, 1) + std::rotl(v2, 7) + std::rotl(v3, 12) + std::rotl(v4, 18);
    h = MergeRound(h, v1);
    h = MergeRound(h, v2);
    h = MergeRound(h, v3);
    h = MergeRound(h, v4);
  } else {
    h = seed + kP5;
  }
  h += static_cast<uint64_t>(len);
  while (p + 8 <= end) {
    h ^= Round(0, Read64(p));
    h = std::rotl(h, 27) * kP1 + kP4;
    p += 8;
  }
  if (p + 4 <= end) {
    h ^= static_cast<uint64_t>(Read32(p)) * kP1;
    h = std::rotl(h, 23) * kP2 + kP3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(static_cast<unsigned char>(*p)) * kP5;
    h = std::rotl(h, 11) * kP1;
    ++p;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameChar(c) || c == ':'; });
}

const uint64_t Labels::kEmptyHash = Hash64("");

Labels::Labels(std::vector<Label> sorted) : labels_(std::move(sorted)), hash_(HashPairs(labels_)) {}

Result<Labels> Labels::FromPairs(std::vector<Label> pairs) {
  std::sort(pairs.begin(), pairs.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  return FromSortedPairs(std::move(pairs));
}

Result<Labels> Labels::FromSortedPairs(std::vector<Label> pairs) {
  std::erase_if(pairs, [](const Label& l) { return l.value.empty(); });
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Label& l = pairs[i];
    if (!IsValidLabelName(l.name)) {
      return InvalidArgumentError("invalid label name \"{}\"", l.name);
    }
    if (i > 0 && pairs[i - 1].name >= l.name) {
      if (pairs[i - 1].name == l.name) {
        return InvalidArgumentError("duplicate label name \"{}\"", l.name);
      }
      return InvalidArgumentError("labels are not sorted: \"{}\" after \"{}\"", l.name,
                                  pairs[i - 1].name);
    }
    if (l.name == kMetricNameLabel && !IsValidMetricName(l.value)) {
      return InvalidArgumentError("invalid metric name \"{}\"", l.value);
    }
  }
  return Labels(std::move(pairs));
}

std::string_view Labels::Get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) return it->value;
  return {};
}

void AppendEscapedLabelValue(std::string* out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '"': *out += "\\\""; break;
      case '\n': *out += "\\n"; break;
      default: out->push_back(c);
    }
  }
}

std::string Labels::ToString() const {
  std::string out(MetricName());
  if (!out.empty() && labels_.size() == 1) return out;  // `up`, not `up{}`
  out.push_back('{');
  bool first = true;
  for (const Label& l : labels_) {
    if (l.name == kMetricNameLabel) continue;
    if (!first) out.push_back(',');
    first = false;
    out += l.name;
    out += "=\"";
    AppendEscapedLabelValue(&out, l.value);
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

Labels::Builder::Builder(const Labels& base) : pairs_(base.begin(), base.end()) {}

Labels::Builder& Labels::Builder::Set(std::string_view name, std::string_view value) {
  for (Label& l : pairs_) {
    if (l.name == name) {
      l.value = std::string(value);
      return *this;
    }
  }
  pairs_.push_back({std::string(name), std::string(value)});
  return *this;
}

Labels::Builder& Labels::Builder::Del(std::string_view name) {
  std::erase_if(pairs_, [&](const Label& l) { return l.name == name; });
  return *this;
}

Result<Labels> Labels::Builder::Build() const { return Labels::FromPairs(pairs_); }

Result<Labels> ParseLabels(std::string_view text) { return LabelParser(text).Parse(); }

}  // namespace nines::core

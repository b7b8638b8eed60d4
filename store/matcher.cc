#include "store/store.h"

namespace nines::store {

core::Result<Matcher> Matcher::Create(Op op, std::string name, std::string value) {
  if (!core::IsValidLabelName(name)) {
    return core::InvalidArgumentError("invalid label name \"{}\" in matcher", name);
  }
  Matcher m;
  m.op_ = op;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (op == Op::kRegexMatch || op == Op::kRegexNoMatch) {
    // Matched whole (FullMatch), with `.` matching newlines: Prometheus' "^(?s:" + v + ")$". The
    // value compiles on its own, so "a)|(b" is refused rather than accepted through a wrapper.
    core::Result<core::Regex> re =
        core::Regex::Compile(m.value_, {.dot_matches_newline = true});
    if (!re.ok()) {
      return core::InvalidArgumentError("invalid regex \"{}\" for label \"{}\": {}", m.value_,
                                        m.name_, re.status().message());
    }
    m.regex_ = std::move(re).value();
  }
  m.matches_empty_ = m.Matches("");
  return m;
}

bool Matcher::Matches(std::string_view value) const {
  switch (op_) {
    case Op::kEqual:
      return value == value_;
    case Op::kNotEqual:
      return value != value_;
    case Op::kRegexMatch:
      return regex_->FullMatch(value);
    case Op::kRegexNoMatch:
      return !regex_->FullMatch(value);
  }
  return false;
}

std::string Matcher::ToString() const {
  static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
  std::string out = name_;
  out += kOps[static_cast<int>(op_)];
  out += '"';
  core::AppendEscapedLabelValue(&out, value_);
  out += '"';
  return out;
}

namespace {

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : text_(text) {}

  core::Result<std::vector<Matcher>> Parse() {
    std::vector<Matcher> out;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] != '{') {
      size_t start = pos_;
      while (pos_ < text_.size() && (IsNameChar(text_[pos_]) || text_[pos_] == ':')) ++pos_;
      std::string name(text_.substr(start, pos_ - start));
      if (!core::IsValidMetricName(name)) return Error(start, "expected a metric name or '{'");
      ASSIGN_OR_RETURN(Matcher m, Matcher::Create(Matcher::Op::kEqual,
                                                  std::string(core::kMetricNameLabel), name));
      out.push_back(std::move(m));
      SkipSpace();
    }
    if (pos_ < text_.size() && text_[pos_] == '{') {
      ++pos_;
      SkipSpace();
      while (pos_ < text_.size() && text_[pos_] != '}') {
        size_t start = pos_;
        while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
        std::string name(text_.substr(start, pos_ - start));
        if (!core::IsValidLabelName(name)) return Error(start, "expected a label name");
        SkipSpace();
        Matcher::Op op;
        if (Consume("=~")) op = Matcher::Op::kRegexMatch;
        else if (Consume("!~")) op = Matcher::Op::kRegexNoMatch;
        else if (Consume("!=")) op = Matcher::Op::kNotEqual;
        else if (Consume("=")) op = Matcher::Op::kEqual;
        else return Error(pos_, "expected one of =, !=, =~, !~ after the label name");
        SkipSpace();
        size_t value_pos = pos_;
        std::string value;
        RETURN_IF_ERROR(ParseQuoted(&value));
        auto m = Matcher::Create(op, std::move(name), std::move(value));
        if (!m.ok()) return Error(value_pos, m.status().message());
        out.push_back(std::move(*m));
        SkipSpace();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          SkipSpace();
        } else if (pos_ < text_.size() && text_[pos_] != '}') {
          return Error(pos_, "expected ',' or '}' after a matcher");
        }
      }
      if (pos_ >= text_.size()) return Error(pos_, "missing closing '}'");
      ++pos_;
      SkipSpace();
    }
    if (pos_ != text_.size()) return Error(pos_, "unexpected text after the selector");
    if (out.empty()) return Error(0, "empty selector");
    bool all_empty = true;
    for (const Matcher& m : out) all_empty = all_empty && m.MatchesEmpty();
    if (all_empty) {
      return Error(0, "the selector needs at least one matcher that does not match the empty "
                      "string (it would select every series)");
    }
    return out;
  }

 private:
  static bool IsNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
  }

  bool Consume(std::string_view token) {
    if (text_.substr(pos_).starts_with(token)) {
      pos_ += token.size();
      return true;
    }
    return false;
  }

  core::Status ParseQuoted(std::string* out) {
    if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) {
      return Error(pos_, "expected a quoted value");
    }
    char quote = text_[pos_++];
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_];
      if (c == '\\' && pos_ + 1 < text_.size()) {
        char e = text_[pos_ + 1];
        switch (e) {
          case '\\': out->push_back('\\'); break;
          case '"': out->push_back('"'); break;
          case '\'': out->push_back('\''); break;
          case 'n': out->push_back('\n'); break;
          case 't': out->push_back('\t'); break;
          // Regex escapes such as \. and \d pass through to the regex.
          default: out->push_back('\\'); out->push_back(e); break;
        }
        pos_ += 2;
      } else {
        out->push_back(c);
        ++pos_;
      }
    }
    if (pos_ >= text_.size()) return Error(pos_, "unterminated quoted value");
    ++pos_;
    return core::Status::Ok();
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  core::Status Error(size_t pos, std::string_view what) const {
    return core::InvalidArgumentError("invalid selector {}: col {}: {}", text_, pos + 1, what);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

core::Result<std::vector<Matcher>> ParseSelector(std::string_view text) {
  return SelectorParser(text).Parse();
}

}  // namespace nines::store

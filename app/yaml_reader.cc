#include "app/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <tuple>

namespace nines::app {

std::vector<YAML::Node> LoadYamlDocuments(std::string_view text) {
  auto is_marker = [](std::string_view line) {
    return line.starts_with("---") &&
           (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
  };
  // Byte offsets where each part starts: the text's start, then every marker line.
  std::vector<size_t> starts{0};
  size_t newlines_before = 0;
  std::vector<size_t> lines_before{0};
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (pos > 0 && is_marker(text.substr(pos, end - pos))) {
      starts.push_back(pos);
      lines_before.push_back(newlines_before);
    }
    if (end < text.size()) ++newlines_before;
    pos = end + 1;
  }
  std::vector<YAML::Node> docs;
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t end = i + 1 < starts.size() ? starts[i + 1] : text.size();
    std::string part(lines_before[i], '\n');
    part.append(text.substr(starts[i], end - starts[i]));
    YAML::Node doc = YAML::Load(part);
    if (doc.IsNull()) {
      if (i == 0 && !is_marker(text.substr(0, text.find('\n')))) continue;  // comments only
      break;
    }
    docs.push_back(std::move(doc));
  }
  return docs;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return Quote(node.Scalar());
    default:
      return "an empty value";
  }
}

std::string JoinOr(const std::vector<std::string_view>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string_view Suggest(std::string_view key, const std::vector<std::string_view>& names) {
  // Short keys tolerate fewer edits, so that "foo" does not suggest "log".
  size_t limit = key.size() <= 3 ? 1 : key.size() <= 8 ? 2 : 3;
  std::string_view best;
  size_t best_distance = limit + 1;
  for (std::string_view name : names) {
    size_t d = EditDistance(key, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

std::string SuggestOr(std::string_view key, const std::vector<std::string_view>& names,
                      std::string otherwise) {
  std::string_view suggestion = Suggest(key, names);
  if (suggestion.empty()) return otherwise;
  return fmt::format("did you mean {}?", Quote(suggestion));
}

bool ReadWholeFile(const std::string& path, std::string* contents, std::string* error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    *error = std::strerror(EISDIR);
    return false;
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = std::strerror(errno);
    return false;
  }
  contents->clear();
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) contents->append(buf, n);
  bool failed = std::ferror(f) != 0;
  int saved_errno = errno;
  std::fclose(f);
  if (failed) {
    *error = std::strerror(saved_errno);
    return false;
  }
  return true;
}

bool ReadSourceFile(const std::string& path, std::string* contents,
                    std::vector<ConfigError>* errors) {
  std::string error;
  if (ReadWholeFile(path, contents, &error)) return true;
  errors->push_back(ConfigError{path, 1, 1, "cannot read: " + error});
  return false;
}

std::string_view Trim(std::string_view s) {
  const char* kSpace = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

std::string_view FirstToken(std::string_view contents) {
  std::string_view token = Trim(contents);
  return Trim(token.substr(0, token.find('\n')));
}

std::string ParseSize(std::string_view text, int64_t* bytes) {
  std::string_view t = Trim(text);
  size_t digits = 0;
  while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
  if (digits == 0) {
    return fmt::format(
        "invalid size {}: expected a whole number of bytes, "
        "optionally with a unit, as in "
        "\"16MiB\"",
        Quote(text));
  }
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + digits, n);
  if (ec != std::errc() || ptr != t.data() + digits) {
    return fmt::format("invalid size {}: too large", Quote(text));
  }
  std::string_view unit = Trim(t.substr(digits));
  static const std::pair<std::string_view, int64_t> kUnits[] = {
      {"", 1},       {"B", 1},        {"KB", 1000},
      {"kB", 1000},  {"MB", 1000000}, {"GB", 1000000000},
      {"KiB", kKiB}, {"MiB", kMiB},   {"GiB", kGiB},
  };
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    if (__builtin_mul_overflow(n, scale, bytes)) {
      return fmt::format("invalid size {}: too large", Quote(text));
    }
    return "";
  }
  if (unit.find_first_of(".,") == 0) {
    return fmt::format("invalid size {}: fractions are not allowed; use a smaller unit",
                       Quote(text));
  }
  return fmt::format("invalid size {}: unknown unit {} (want B, KB, MB, GB, KiB, MiB or GiB)",
                     Quote(text), Quote(unit));
}

std::string FormatSize(int64_t bytes) {
  if (bytes >= kGiB && bytes % kGiB == 0) return fmt::format("{}GiB", bytes / kGiB);
  if (bytes >= kMiB && bytes % kMiB == 0) return fmt::format("{}MiB", bytes / kMiB);
  if (bytes >= kKiB && bytes % kKiB == 0) return fmt::format("{}KiB", bytes / kKiB);
  return fmt::format("{}", bytes);
}

std::string CheckListenAddress(std::string_view text) {
  size_t colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? text : text.substr(0, colon);
  bool bracketed = !host.empty() && host.front() == '[';
  if (colon == std::string_view::npos ||
      (bracketed ? host.size() < 3 || host.back() != ']'
                 : host.find_first_of(":[]") != std::string_view::npos)) {
    return fmt::format(
        "invalid address {}: expected host:port, as in "
        "\"127.0.0.1:9099\", \":9099\" or "
        "\"[::1]:9099\"",
        Quote(text));
  }
  std::string_view port = text.substr(colon + 1);
  int value = -1;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value < 0 ||
      value > 65535) {
    return fmt::format("invalid address {}: port {} is not a number from 0 to 65535", Quote(text),
                       Quote(port));
  }
  return "";
}

bool IsValidRegionName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// ---- YamlReader: documents and errors ----

void YamlReader::ParseDocument(std::string_view text, std::string_view what,
                               const std::function<void(const YAML::Node& root)>& top) {
  Guard([&] {
    std::vector<YAML::Node> docs = LoadYamlDocuments(text);
    if (docs.size() > 1) {
      Error(docs[1].Mark(), fmt::format("more than one YAML document; {} holds exactly one", what));
    }
    if (!docs.empty()) top(docs[0]);
  });
}

void YamlReader::Guard(const std::function<void()>& f) {
  try {
    f();
  } catch (const YAML::ParserException& e) {
    Error(e.mark, "syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    Error(e.mark, "internal error while reading YAML: " + e.msg);
  } catch (const std::exception& e) {
    Error(YAML::Mark::null_mark(), std::string("internal error: ") + e.what());
  }
}

std::vector<ConfigError> YamlReader::TakeErrors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.col) < std::tie(b.line, b.col);
  });
  return std::move(errors_);
}

void YamlReader::Error(const YAML::Mark& mark, std::string message) {
  ConfigError e;
  e.file = file_;
  e.line = mark.line >= 0 ? mark.line + 1 : 1;
  e.col = mark.column >= 0 ? mark.column + 1 : 1;
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

void YamlReader::Required(const YAML::Mark& at, const std::string& path, std::string_view field,
                          std::string_view hint) {
  Error(at, hint.empty()
                ? fmt::format("{}: missing required field {}", path, Quote(field))
                : fmt::format("{}: missing required field {} ({})", path, Quote(field), hint));
}

void YamlReader::BothOrNeither(const YAML::Mark& at, const std::string& path, std::string_view a,
                               bool has_a, std::string_view b, bool has_b) {
  if (has_a == has_b) return;
  Error(at, fmt::format("{}: {} is set but {} is not; set both or neither", path, has_a ? a : b,
                        has_a ? b : a));
}

// ---- YamlReader: structure ----

YAML::Mark YamlReader::PositionOf(const YAML::Node& key, const YAML::Node& value) {
  if (value.IsNull() || value.Mark().is_null()) return key.Mark();
  return value.Mark();
}

std::string YamlReader::Join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::optional<std::pair<YAML::Node, YAML::Mark>> YamlReader::Peek(const YAML::Node& node,
                                                                  std::string_view key) {
  if (!node.IsMap()) return std::nullopt;
  for (auto it = node.begin(); it != node.end(); ++it) {
    YAML::Node k = it->first;
    YAML::Node v = it->second;
    if (k.IsScalar() && k.Scalar() == key) return std::make_pair(v, PositionOf(k, v));
  }
  return std::nullopt;
}

bool YamlReader::WalkMap(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                         const std::vector<Field>& fields) {
  if (node.IsNull()) return true;
  std::string where = path.empty() ? "top level" : path;
  if (!node.IsMap()) {
    Error(at, fmt::format("{}: expected a mapping, got {}", where, Describe(node)));
    return false;
  }
  std::vector<std::string_view> names;
  for (const Field& f : fields) names.push_back(f.name);
  std::map<std::string, YAML::Mark, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: the iterator yields a temporary pair, so references would dangle.
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    if (!key.IsScalar()) {
      Error(key.Mark(), fmt::format("{}: keys must be strings, got {}", where, Describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    if (auto [prev, inserted] = seen.emplace(name, key.Mark()); !inserted) {
      Error(key.Mark(),
            path.empty() ? fmt::format("duplicate top-level section {} (first defined at line {})",
                                       Quote(name), prev->second.line + 1)
                         : fmt::format("duplicate key {} in {} (first defined at line {})",
                                       Quote(name), path, prev->second.line + 1));
      continue;
    }
    auto field =
        std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.name == name; });
    if (field == fields.end()) {
      std::string what = path.empty() ? fmt::format("unknown top-level section {}", Quote(name))
                                      : fmt::format("unknown field {} in {}", Quote(name), path);
      Error(key.Mark(), fmt::format("{} ({})", what,
                                    SuggestOr(name, names, fmt::format("want {}", JoinOr(names)))));
      continue;
    }
    field->handle(value, PositionOf(key, value), Join(path, name));
  }
  return true;
}

bool YamlReader::WalkItemMap(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                             const std::vector<Field>& fields) {
  if (!WalkMap(node, at, path, fields)) return false;
  if (node.IsNull()) {
    Error(at, fmt::format("{}: expected a mapping, got an empty value", path));
    return false;
  }
  return true;
}

void YamlReader::WalkList(
    const YAML::Node& node, const YAML::Mark& at, const std::string& path,
    const std::function<void(const YAML::Node& item, const YAML::Mark& item_at,
                             const std::string& item_path, size_t index)>& item) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    Error(at, fmt::format("{}: expected a list, got {}", path, Describe(node)));
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    YAML::Node element = node[i];
    YAML::Mark element_at = element.Mark().is_null() ? at : element.Mark();
    item(element, element_at, fmt::format("{}[{}]", path, i), i);
  }
}

// ---- YamlReader: scalars ----

std::optional<std::string> YamlReader::Scalar(const YAML::Node& v, const YAML::Mark& at,
                                              const std::string& path, std::string_view expected) {
  if (!v.IsScalar()) {
    Error(at, fmt::format("{}: expected {}, got {}", path, expected, Describe(v)));
    return std::nullopt;
  }
  return v.Scalar();
}

std::optional<std::string> YamlReader::String(const YAML::Node& v, const YAML::Mark& at,
                                              const std::string& path) {
  std::optional<std::string> s = Scalar(v, at, path, "a string");
  if (s && s->empty()) {
    Error(at, fmt::format("{}: must not be empty", path));
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> YamlReader::Int(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path, int64_t min, int64_t max) {
  std::optional<std::string> s = Scalar(v, at, path, "an integer");
  if (!s) return std::nullopt;
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
  if (s->empty() || ptr != s->data() + s->size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    Error(at, fmt::format("{}: expected an integer, got {}", path, Quote(*s)));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || n < min || n > max) {
    Error(at,
          fmt::format("{}: {} is out of range (must be between {} and {})", path, *s, min, max));
    return std::nullopt;
  }
  return n;
}

std::optional<double> YamlReader::Number(const YAML::Node& v, const YAML::Mark& at,
                                         const std::string& path) {
  std::optional<std::string> s = Scalar(v, at, path, "a number");
  if (!s) return std::nullopt;
  double d = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), d);
  if (s->empty() || ec != std::errc() || ptr != s->data() + s->size() || !std::isfinite(d)) {
    Error(at, fmt::format("{}: expected a number, got {}", path, Quote(*s)));
    return std::nullopt;
  }
  return d;
}

std::optional<bool> YamlReader::Bool(const YAML::Node& v, const YAML::Mark& at,
                                     const std::string& path) {
  std::optional<std::string> s = Scalar(v, at, path, "true or false");
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "True" || *s == "TRUE") return true;
  if (*s == "false" || *s == "False" || *s == "FALSE") return false;
  Error(at, fmt::format("{}: expected true or false, got {}", path, Quote(*s)));
  return std::nullopt;
}

std::optional<Duration> YamlReader::DurationAtLeast(const YAML::Node& v, const YAML::Mark& at,
                                                    const std::string& path, Duration min) {
  std::optional<std::string> s = Scalar(v, at, path, "a duration (as in \"30s\")");
  if (!s) return std::nullopt;
  core::Result<Duration> d = core::ParseDuration(*s);
  if (!d.ok()) {
    Error(at, fmt::format("{}: {}", path, d.status().message()));
    return std::nullopt;
  }
  if (*d < min) {
    if (min == Duration::Nanoseconds(1)) {
      Error(at, fmt::format("{}: must be greater than 0", path));
    } else {
      Error(at, fmt::format("{}: {} is too short (must be at least {})", path, *s, min.ToString()));
    }
    return std::nullopt;
  }
  return *d;
}

std::optional<Duration> YamlReader::PositiveDuration(const YAML::Node& v, const YAML::Mark& at,
                                                     const std::string& path) {
  return DurationAtLeast(v, at, path, Duration::Nanoseconds(1));
}

std::optional<Duration> YamlReader::IntervalOrOff(const YAML::Node& v, const YAML::Mark& at,
                                                  const std::string& path) {
  std::optional<Duration> d = DurationAtLeast(v, at, path, Duration::Zero());
  if (d && *d > Duration::Zero() && *d < Duration::Seconds(1)) {
    Error(at,
          fmt::format("{}: {} is too short (at least 1s, or 0 to turn it off)", path, v.Scalar()));
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> YamlReader::Size(const YAML::Node& v, const YAML::Mark& at,
                                        const std::string& path, int64_t min, int64_t max) {
  std::optional<std::string> s = Scalar(v, at, path, "a size (as in \"16MiB\")");
  if (!s) return std::nullopt;
  int64_t bytes = 0;
  if (std::string error = ParseSize(*s, &bytes); !error.empty()) {
    Error(at, fmt::format("{}: {}", path, error));
    return std::nullopt;
  }
  if (bytes < min || bytes > max) {
    Error(at, fmt::format("{}: {} is out of range (must be between {} and {})", path, *s,
                          FormatSize(min), FormatSize(max)));
    return std::nullopt;
  }
  return bytes;
}

std::optional<std::string> YamlReader::HttpUrl(const YAML::Node& v, const YAML::Mark& at,
                                               const std::string& path) {
  std::optional<std::string> s = String(v, at, path);
  if (!s) return std::nullopt;
  if (!s->starts_with("http://") && !s->starts_with("https://")) {
    Error(at, fmt::format("{}: {} is not an http:// or https:// URL", path, Quote(*s)));
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> YamlReader::ListenAddress(const YAML::Node& v, const YAML::Mark& at,
                                                     const std::string& path) {
  std::optional<std::string> s = String(v, at, path);
  if (!s) return std::nullopt;
  if (std::string error = CheckListenAddress(*s); !error.empty()) {
    Error(at, fmt::format("{}: {}", path, error));
    return std::nullopt;
  }
  return s;
}

bool YamlReader::CheckRegionName(const std::string& name, const YAML::Mark& at,
                                 const std::string& path) {
  if (IsValidRegionName(name)) return true;
  Error(at, fmt::format("{}: invalid region name {}: use lower-case letters, "
                        "digits and '-', as "
                        "in \"eu-west-1\"",
                        path, Quote(name)));
  return false;
}

bool YamlReader::CheckUnique(std::map<std::string, YAML::Mark, std::less<>>* seen,
                             const std::string& name, const YAML::Mark& at, const std::string& path,
                             std::string_view noun) {
  auto [prev, inserted] = seen->emplace(name, at);
  if (inserted) return true;
  Error(at, fmt::format("{}: duplicate {} name {} (first defined at line {})", path, noun,
                        Quote(name), prev->second.line + 1));
  return false;
}

// ---- YamlReader: files ----

std::string YamlReader::Resolve(const std::string& path) const {
  fs::path p(path);
  if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
  return p.lexically_normal().string();
}

std::optional<std::string> YamlReader::ReadableFile(const YAML::Node& v, const YAML::Mark& at,
                                                    const std::string& path,
                                                    std::string* contents) {
  std::optional<std::string> s = String(v, at, path);
  if (!s) return std::nullopt;
  std::string resolved = Resolve(*s);
  std::string ignored, error;
  if (!ReadWholeFile(resolved, contents ? contents : &ignored, &error)) {
    Error(at, fmt::format("{}: cannot read {}: {}", path, Quote(*s), error));
    return std::nullopt;
  }
  return resolved;
}

std::optional<std::string> YamlReader::TokenFile(const YAML::Node& v, const YAML::Mark& at,
                                                 const std::string& path, std::string* file) {
  std::string contents;
  std::optional<std::string> resolved = ReadableFile(v, at, path, &contents);
  if (!resolved) return std::nullopt;
  std::string_view token = FirstToken(contents);
  if (token.empty()) {
    Error(at, fmt::format("{}: {} contains no token", path, Quote(v.Scalar())));
    return std::nullopt;
  }
  if (file != nullptr) *file = *resolved;
  return std::string(token);
}

void YamlReader::StringList(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                            std::vector<std::string>* out, std::string_view unique_noun) {
  std::vector<std::string> list;
  WalkList(
      v, at, path,
      [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path, size_t) {
        std::optional<std::string> s = String(item, item_at, item_path);
        if (!s) return;
        if (!unique_noun.empty() && std::find(list.begin(), list.end(), *s) != list.end()) {
          Error(item_at, fmt::format("{}: duplicate {} {}", item_path, unique_noun, Quote(*s)));
          return;
        }
        list.push_back(std::move(*s));
      });
  *out = std::move(list);
}

void YamlReader::StringList(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                            std::vector<std::string>* out, std::string_view unique_noun,
                            const ItemCheck& check) {
  StringList(v, at, path, out, unique_noun);
  if (!v.IsSequence()) return;
  WalkList(
      v, at, path,
      [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path, size_t) {
        if (item.IsScalar() && !item.Scalar().empty()) check(item.Scalar(), item_at, item_path);
      });
}

}  // namespace nines::app

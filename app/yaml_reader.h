// Private to app/: reading YAML with complete, positioned errors. YamlReader walks a yaml-cpp tree,
// converts scalars (integers, numbers, durations, sizes, booleans, files, enums) and collects every
// problem as a ConfigError at its file:line:col, with did-you-mean suggestions for unknown keys and
// values. The config parser (config.cc), the collector's sections (config_collector*.cc) and the
// rule files (rule_files*.cc) build on it, so that a field that means the same thing in two files
// is read, and its errors worded, in one place. Nothing here throws: yaml-cpp's exceptions are
// caught in ParseDocument and Guard.
//
// Thread-compatible: one YamlReader per file being parsed. The free functions are pure.
#ifndef NINES_APP_YAML_READER_H_
#define NINES_APP_YAML_READER_H_

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/config.h"

namespace nines::app {

namespace fs = std::filesystem;
using core::Duration;

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
constexpr int64_t kGiB = 1024 * kMiB;

// Every YAML document of `text`, as YAML::LoadAll returns them (up to the first empty one).
// yaml-cpp 0.7's LoadAll loops forever, allocating, on some malformed streams (",api" at the top
// level; found by fuzz/fuzz_rule_file), while YAML::Load stops after one document. So each document
// is loaded on its own: the text from its "---" line to the next, with the lines before it left
// empty so that marks keep their line and column. A "---" at column 0 always starts a document
// (YAML allows it nowhere else). Throws what YAML::Load throws.
std::vector<YAML::Node> LoadYamlDocuments(std::string_view text);

// `s` in double quotes, with quotes, backslashes and control characters escaped.
std::string Quote(std::string_view s);

// What a node is, for "expected X, got <this>".
std::string Describe(const YAML::Node& node);

// "a, b or c".
std::string JoinOr(const std::vector<std::string_view>& names);

// Levenshtein distance, case-insensitive.
size_t EditDistance(std::string_view a, std::string_view b);

// The name closest to `key` if it is close enough to be a likely typo, else "".
std::string_view Suggest(std::string_view key, const std::vector<std::string_view>& names);

// `did you mean "<name>"?` for the name Suggest() finds, else `otherwise`. For messages that end in
// a parenthesis with either a suggestion or the list of valid names.
std::string SuggestOr(std::string_view key, const std::vector<std::string_view>& names,
                      std::string otherwise);

// Reads the file at `path` into `*contents`. On failure returns false with strerror's text in
// `*error` (a directory is EISDIR).
bool ReadWholeFile(const std::string& path, std::string* contents, std::string* error);

// Reads a config or rule file as a whole: on failure appends "<path>:1:1: cannot read: <why>" to
// `*errors` and returns false.
bool ReadSourceFile(const std::string& path, std::string* contents,
                    std::vector<ConfigError>* errors);

// `s` without leading and trailing white space.
std::string_view Trim(std::string_view s);

// The token of a token file's `contents`: its first line, trimmed, after leading blank lines. ""
// when there is none.
std::string_view FirstToken(std::string_view contents);

// Parses a byte count: an integer, optionally followed by a unit ("16MiB", "512 KiB", "10MB").
// Returns an error message (without the field path) or "".
std::string ParseSize(std::string_view text, int64_t* bytes);

// "1KiB" for 1024 and so on; plain bytes otherwise.
std::string FormatSize(int64_t bytes);

// Checks "host:port" (host may be empty, a name, an IPv4 address or a bracketed IPv6 address).
// Returns an error message (without the field path) or "".
std::string CheckListenAddress(std::string_view text);

// Lower-case letters, digits and '-', not empty: a region's name in the config and rule files.
bool IsValidRegionName(std::string_view name);

class YamlReader {
 public:
  YamlReader(std::string file, fs::path base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  const std::string& file() const { return file_; }

  // Parses `text` as one YAML document and calls `top` with its root; syntax errors (and any
  // exception from yaml-cpp) become errors. `what` names the file's kind in messages ("a config
  // file").
  void ParseDocument(std::string_view text, std::string_view what,
                     const std::function<void(const YAML::Node& root)>& top);

  // Runs `f`, turning any exception (yaml-cpp's, on a malformed tree) into an error.
  void Guard(const std::function<void()>& f);

  // The errors so far, sorted by line then column (stable); the reader keeps none.
  std::vector<ConfigError> TakeErrors();

  // A known field of a mapping: called with the value, the best position to report it at, and its
  // full path ("server.threads").
  using Handler =
      std::function<void(const YAML::Node& value, const YAML::Mark& at, const std::string& path)>;
  struct Field {
    std::string_view name;
    Handler handle;
  };

  // Assigns `*v` to `*out` when `v` holds a value: how a field's handler stores what it read
  // (`Set(PositiveDuration(v, at, p), &cfg->timeout)`), leaving the default otherwise.
  template <typename T, typename U>
  static void Set(const std::optional<U>& v, T* out) {
    if (v) *out = static_cast<T>(*v);
  }

  void Error(const YAML::Mark& mark, std::string message);
  // An error of another file the config names (a template file), at its own position.
  void AddError(ConfigError error) { errors_.push_back(std::move(error)); }
  size_t ErrorCount() const { return errors_.size(); }

  // "<path>: missing required field "<field>"", with " (<hint>)" when `hint` is not empty.
  void Required(const YAML::Mark& at, const std::string& path, std::string_view field,
                std::string_view hint);

  // "<path>: <a> is set but <b> is not; set both or neither" when exactly one is set.
  void BothOrNeither(const YAML::Mark& at, const std::string& path, std::string_view a, bool has_a,
                     std::string_view b, bool has_b);

  // yaml-cpp marks an implicit null (`key:` with nothing after it) at the next token, so such a
  // value is reported at its key.
  static YAML::Mark PositionOf(const YAML::Node& key, const YAML::Node& value);

  // "path.name", or "name" at the top level.
  static std::string Join(const std::string& path, std::string_view name);

  // The value of `key` in mapping `node` and where it is, if present; reports nothing.
  static std::optional<std::pair<YAML::Node, YAML::Mark>> Peek(const YAML::Node& node,
                                                               std::string_view key);

  // Walks a mapping at `path` ("" for the top level): reports a non-mapping, non-string keys,
  // duplicate keys and unknown keys, and calls each known field's handler once (for its first
  // occurrence). A null node is an empty mapping. Returns false when `node` is not a mapping.
  bool WalkMap(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
               const std::vector<Field>& fields);

  // WalkMap for an element of a list, which must not be empty: a null node is reported ("expected a
  // mapping, got an empty value") and, like a non-mapping, returns false.
  bool WalkItemMap(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                   const std::vector<Field>& fields);

  // Calls `item` for each element of a list; a null node is an empty list.
  void WalkList(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                const std::function<void(const YAML::Node& item, const YAML::Mark& item_at,
                                         const std::string& item_path, size_t index)>& item);

  // A scalar, as text; `expected` names what was wanted ("a string") for anything else.
  std::optional<std::string> Scalar(const YAML::Node& v, const YAML::Mark& at,
                                    const std::string& path, std::string_view expected);

  // A non-empty string.
  std::optional<std::string> String(const YAML::Node& v, const YAML::Mark& at,
                                    const std::string& path);

  // An integer in [min, max].
  std::optional<int64_t> Int(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                             int64_t min, int64_t max);

  // A finite number.
  std::optional<double> Number(const YAML::Node& v, const YAML::Mark& at, const std::string& path);

  std::optional<bool> Bool(const YAML::Node& v, const YAML::Mark& at, const std::string& path);

  // A duration of at least `min`.
  std::optional<Duration> DurationAtLeast(const YAML::Node& v, const YAML::Mark& at,
                                          const std::string& path, Duration min);

  std::optional<Duration> PositiveDuration(const YAML::Node& v, const YAML::Mark& at,
                                           const std::string& path);

  // A duration of 0 (off) or at least 1s: the interval of something periodic that may be turned
  // off.
  std::optional<Duration> IntervalOrOff(const YAML::Node& v, const YAML::Mark& at,
                                        const std::string& path);

  // A byte count: an integer or a size string, between min and max.
  std::optional<int64_t> Size(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                              int64_t min, int64_t max);

  // One of `values`, by name; an unknown name is reported as an invalid `noun`, with a suggestion
  // when one is close.
  template <typename E>
  std::optional<E> Enum(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                        std::string_view noun,
                        const std::vector<std::pair<std::string_view, E>>& values) {
    std::optional<std::string> s = String(v, at, path);
    if (!s) return std::nullopt;
    std::vector<std::string_view> names;
    for (const auto& [name, value] : values) {
      if (name == *s) return value;
      names.push_back(name);
    }
    Error(at, fmt::format("{}: invalid {} {} ({})", path, noun, Quote(*s),
                          SuggestOr(*s, names, fmt::format("want {}", JoinOr(names)))));
    return std::nullopt;
  }

  // An http:// or https:// URL.
  std::optional<std::string> HttpUrl(const YAML::Node& v, const YAML::Mark& at,
                                     const std::string& path);

  // A listen address ("host:port", see CheckListenAddress).
  std::optional<std::string> ListenAddress(const YAML::Node& v, const YAML::Mark& at,
                                           const std::string& path);

  // Reports `name` unless IsValidRegionName; returns whether it is valid.
  bool CheckRegionName(const std::string& name, const YAML::Mark& at, const std::string& path);

  // Records `name` (of a `noun`: "region", "service", ...) in `*seen`; a name seen before is
  // reported with the line of its first definition, and false returned.
  bool CheckUnique(std::map<std::string, YAML::Mark, std::less<>>* seen, const std::string& name,
                   const YAML::Mark& at, const std::string& path, std::string_view noun);

  // `path` resolved against the config file's directory.
  std::string Resolve(const std::string& path) const;

  // A path to a readable file; returns it resolved against the config file's directory, and its
  // contents in `*contents` when not null.
  std::optional<std::string> ReadableFile(const YAML::Node& v, const YAML::Mark& at,
                                          const std::string& path, std::string* contents);

  // A file holding one token (see FirstToken): returns the token, and the resolved file in `*file`
  // when not null.
  std::optional<std::string> TokenFile(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path, std::string* file);

  // A list of non-empty strings; when `unique_noun` is not empty, a repeated string is an error
  // that names it ("duplicate location ...").
  void StringList(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                  std::vector<std::string>* out, std::string_view unique_noun);

  // StringList, then `check` on every non-empty string of the list (a repeated one too), at its
  // position and path, to report what is wrong with it.
  using ItemCheck = std::function<void(const std::string& item, const YAML::Mark& item_at,
                                       const std::string& item_path)>;
  void StringList(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                  std::vector<std::string>* out, std::string_view unique_noun,
                  const ItemCheck& check);

 protected:
  std::string file_;
  fs::path base_dir_;
  std::vector<ConfigError> errors_;
};

}  // namespace nines::app

#endif  // NINES_APP_YAML_READER_H_

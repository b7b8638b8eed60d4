// The helpers that the config, the collector's sections and the rule files share: each reads a
// value and words its error the same way wherever the field appears.
#include "app/yaml_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nines::app {
namespace {

// Runs `read` on the value of key "v" in `yaml` and returns the errors, as "line:col: message".
template <typename F>
std::string ErrorsOf(const std::string& yaml, F read) {
  YamlReader r("t.yaml", "");
  r.ParseDocument(yaml, "a test file", [&](const YAML::Node& root) {
    auto v = YamlReader::Peek(root, "v");
    ASSERT_TRUE(v.has_value());
    read(r, v->first, v->second);
  });
  std::string out;
  for (const ConfigError& e : r.TakeErrors()) {
    out += std::to_string(e.line) + ":" + std::to_string(e.col) + ": " + e.message + "\n";
  }
  return out;
}

struct Case {
  std::string name;
  std::string yaml;
  std::string errors;  // "" when the value is accepted
};

TEST(YamlReaderTest, IntervalOrOffAcceptsZeroAndAtLeastOneSecond) {
  const std::vector<Case> cases = {
      {"zero turns it off", "v: 0s", ""},
      {"one second", "v: 1s", ""},
      {"sub-second", "v: 500ms", "1:4: v: 500ms is too short (at least 1s, or 0 to turn it off)\n"},
      {"not a duration", "v: soon", "1:4: v: "},  // the rest is core::ParseDuration's
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::optional<Duration> got;
    std::string errors = ErrorsOf(
        c.yaml, [&](YamlReader& r, auto& v, auto& at) { got = r.IntervalOrOff(v, at, "v"); });
    if (c.errors.ends_with("\n") || c.errors.empty()) {
      EXPECT_EQ(errors, c.errors);
    } else {
      EXPECT_TRUE(errors.starts_with(c.errors)) << errors;
    }
    EXPECT_EQ(got.has_value(), c.errors.empty());
  }
}

TEST(YamlReaderTest, HttpUrlWantsAnHttpOrHttpsScheme) {
  const std::vector<Case> cases = {
      {"http", "v: http://a/metrics", ""},
      {"https", "v: https://a", ""},
      {"no scheme", "v: a.example.com",
       "1:4: v: \"a.example.com\" is not an http:// or https:// URL\n"},
      {"ftp", "v: ftp://a", "1:4: v: \"ftp://a\" is not an http:// or https:// URL\n"},
      {"empty", "v: ''", "1:4: v: must not be empty\n"},
      {"list", "v: [a]", "1:4: v: expected a string, got a list\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::optional<std::string> got;
    EXPECT_EQ(
        ErrorsOf(c.yaml, [&](YamlReader& r, auto& v, auto& at) { got = r.HttpUrl(v, at, "v"); }),
        c.errors);
    EXPECT_EQ(got.has_value(), c.errors.empty());
  }
}

TEST(YamlReaderTest, WalkItemMapReportsAnEmptyListElement) {
  const std::vector<Case> cases = {
      {"mapping", "v: {a: 1}", ""},
      {"empty value", "v:\n", "1:1: v: expected a mapping, got an empty value\n"},
      {"scalar", "v: x", "1:4: v: expected a mapping, got \"x\"\n"},
      {"unknown key", "v: {zzz: 1}", "1:5: unknown field \"zzz\" in v (want a)\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    bool walked = false;
    std::string errors = ErrorsOf(c.yaml, [&](YamlReader& r, auto& v, auto& at) {
      walked = r.WalkItemMap(v, at, "v", {{"a", [](auto&, auto&, auto&) {}}});
    });
    EXPECT_EQ(errors, c.errors);
    EXPECT_EQ(walked, c.name == "mapping" || c.name == "unknown key");
  }
}

TEST(YamlReaderTest, CheckUniqueNamesTheFirstDefinitionsLine) {
  std::string errors = ErrorsOf("v: [a, b, a]", [](YamlReader& r, auto& v, auto& at) {
    std::map<std::string, YAML::Mark, std::less<>> seen;
    std::vector<bool> unique;
    r.WalkList(v, at, "v",
               [&](const YAML::Node& item, const YAML::Mark& a, const std::string& p, size_t) {
                 unique.push_back(r.CheckUnique(&seen, item.Scalar(), a, p, "thing"));
               });
    EXPECT_EQ(unique, (std::vector<bool>{true, true, false}));
  });
  EXPECT_EQ(errors, "1:11: v[2]: duplicate thing name \"a\" (first defined at line 1)\n");
}

TEST(YamlReaderTest, BothOrNeitherReportsTheMissingHalf) {
  const std::vector<std::tuple<bool, bool, std::string>> cases = {
      {false, false, ""},
      {true, true, ""},
      {true, false, "1:4: v: cert_file is set but key_file is not; set both or neither\n"},
      {false, true, "1:4: v: key_file is set but cert_file is not; set both or neither\n"},
  };
  for (const auto& [cert, key, want] : cases) {
    SCOPED_TRACE(std::to_string(cert) + std::to_string(key));
    EXPECT_EQ(ErrorsOf("v: {}",
                       [&, cert = cert, key = key](YamlReader& r, auto&, auto& at) {
                         r.BothOrNeither(at, "v", "cert_file", cert, "key_file", key);
                       }),
              want);
  }
}

TEST(YamlReaderTest, StringListChecksEveryNonEmptyStringItem) {
  struct ListCase {
    std::string name;
    std::string yaml;
    std::vector<std::string> list;     // what the list holds afterwards
    std::vector<std::string> checked;  // "path=item" for each call of the check
    std::string errors;
  };
  const std::vector<ListCase> cases = {
      {"all valid", "v: [a, b]", {"a", "b"}, {"v[0]=a", "v[1]=b"}, ""},
      {"a repeat is reported and checked too",
       "v: [a, a]",
       {"a"},
       {"v[0]=a", "v[1]=a"},
       "1:8: v[1]: duplicate thing \"a\"\n"},
      {"empty and non-string items are not checked",
       "v: ['', [x], b]",
       {"b"},
       {"v[2]=b"},
       "1:5: v[0]: must not be empty\n1:9: v[1]: expected a string, got a list\n"},
      {"not a list", "v: a", {}, {}, "1:4: v: expected a list, got \"a\"\n"},
  };
  for (const ListCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> list, checked;
    std::string errors = ErrorsOf(c.yaml, [&](YamlReader& r, auto& v, auto& at) {
      r.StringList(v, at, "v", &list, "thing",
                   [&](const std::string& item, const YAML::Mark&, const std::string& path) {
                     checked.push_back(path + "=" + item);
                   });
    });
    EXPECT_EQ(errors, c.errors);
    EXPECT_EQ(list, c.list);
    EXPECT_EQ(checked, c.checked);
  }
}

TEST(YamlReaderTest, FirstTokenIsTheFirstNonBlankLineTrimmed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abc\n", "abc"}, {"\n\n  abc  \ndef\n", "abc"}, {"abc def\r\n", "abc def"}, {"  \n\t\n", ""},
      {"", ""},
  };
  for (const auto& [contents, want] : cases) {
    SCOPED_TRACE(contents);
    EXPECT_EQ(FirstToken(contents), want);
  }
}

TEST(YamlReaderTest, SuggestOrFallsBackWhenNothingIsClose) {
  EXPECT_EQ(SuggestOr("montly", {"week", "month"}, "want week or month"),
            "did you mean \"month\"?");
  EXPECT_EQ(SuggestOr("year", {"week", "month"}, "want week or month"), "want week or month");
}

}  // namespace
}  // namespace nines::app

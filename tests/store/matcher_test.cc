#include <gtest/gtest.h>

#include "store/store.h"

namespace nines::store {
namespace {

using Op = Matcher::Op;

TEST(MatcherTest, MatchesByOperator) {
  struct Case {
    Op op;
    const char* pattern;
    const char* value;
    bool want;
  } cases[] = {
      {Op::kEqual, "eu-west-1", "eu-west-1", true},
      {Op::kEqual, "eu-west-1", "eu-west-2", false},
      {Op::kNotEqual, "eu-west-1", "us-east-1", true},
      {Op::kRegexMatch, "eu-.*", "eu-west-1", true},
      {Op::kRegexMatch, "eu-.*", "xeu-west-1", false},  // anchored at the start
      {Op::kRegexMatch, "eu", "eu-west-1", false},      // and at the end
      {Op::kRegexMatch, "us-east-1|eu-west-1", "eu-west-1", true},
      {Op::kRegexNoMatch, "ap-.*", "eu-west-1", true},
      {Op::kRegexNoMatch, "ap-.*", "ap-southeast-2", false},
      {Op::kRegexMatch, ".*", "", true},
      // RE2 = Go syntax and Prometheus' semantics: (?i), Unicode classes, `.` matches newline.
      {Op::kRegexMatch, "(?i)EU-WEST-1", "eu-west-1", true},
      {Op::kRegexMatch, R"(\pL+-\d)", "\xc3\xa9u-1", true},
      {Op::kRegexMatch, "a.b", "a\nb", true},
      {Op::kRegexNoMatch, "line.*", "line one\nline two", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " vs " + c.value);
    auto m = Matcher::Create(c.op, "region", c.pattern);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->Matches(c.value), c.want);
  }
}

TEST(MatcherTest, RejectsBadRegexAndName) {
  auto bad_re = Matcher::Create(Op::kRegexMatch, "job", "(unclosed");
  ASSERT_FALSE(bad_re.ok());
  EXPECT_NE(bad_re.status().message().find("invalid regex \"(unclosed\" for label \"job\""),
            std::string::npos);
  EXPECT_FALSE(Matcher::Create(Op::kEqual, "bad-name", "x").ok());
  // RE2's complaint, and a value that only compiles inside an anchoring wrapper is refused.
  EXPECT_EQ(bad_re.status().message(),
            "invalid regex \"(unclosed\" for label \"job\": missing ): (unclosed");
  auto wrapped = Matcher::Create(Op::kRegexMatch, "job", "a)|(b");
  ASSERT_FALSE(wrapped.ok());
  EXPECT_EQ(wrapped.status().message(),
            "invalid regex \"a)|(b\" for label \"job\": unexpected ): a)|(b");
}

TEST(SelectorTest, ParsesNameAndMatchers) {
  auto sel = ParseSelector(R"(probe_success{region=~"eu-.*", location!='a', job="x\"y"})");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  ASSERT_EQ(sel->size(), 4u);
  EXPECT_EQ((*sel)[0].ToString(), R"(__name__="probe_success")");
  EXPECT_EQ((*sel)[1].ToString(), R"(region=~"eu-.*")");
  EXPECT_EQ((*sel)[2].ToString(), R"(location!="a")");
  EXPECT_EQ((*sel)[3].ToString(), R"(job="x\"y")");
  auto regex_escape = ParseSelector(R"({target=~"https://api\\.example\\.com/.*"})");
  ASSERT_TRUE(regex_escape.ok()) << regex_escape.status().ToString();
  EXPECT_TRUE((*regex_escape)[0].Matches("https://api.example.com/healthz"));
  EXPECT_FALSE((*regex_escape)[0].Matches("https://apixexample.com/healthz"));
}

TEST(SelectorTest, ErrorsNameTheColumn) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"", "empty selector"},
      {R"({job=~".*"})", "at least one matcher"},
      {R"(up{job})", "col 7: expected one of ="},
      {R"(up{job="x")", "col 11: missing closing '}'"},
      {R"(up{job="x)", "col 10: unterminated"},
      {R"(up{job=~"("})", "col 9: invalid regex"},
      {R"(up{job="a" x="b"})", "col 12: expected ',' or '}'"},
      {R"(up extra)", "col 4: unexpected text"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto sel = ParseSelector(c.text);
    ASSERT_FALSE(sel.ok());
    EXPECT_NE(sel.status().message().find(c.want), std::string::npos) << sel.status().message();
  }
}

}  // namespace
}  // namespace nines::store

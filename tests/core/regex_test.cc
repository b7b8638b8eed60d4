#include "core/regex.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace nines::core {
namespace {

Regex Must(std::string_view pattern, Regex::Options options = {}) {
  Result<Regex> re = Regex::Compile(pattern, options);
  EXPECT_TRUE(re.ok()) << pattern << ": " << re.status().ToString();
  return std::move(re).value();
}

TEST(RegexTest, FullMatchIsAnchoredAtBothEndsPartialMatchSearches) {
  Regex re = Must("us-.*|eu-west-1");
  EXPECT_TRUE(re.FullMatch("us-east-1"));
  EXPECT_TRUE(re.FullMatch("eu-west-1"));
  EXPECT_FALSE(re.FullMatch("eu-west-12"));  // the alternation is anchored as a whole
  EXPECT_FALSE(re.FullMatch("xus-east-1"));
  EXPECT_TRUE(re.PartialMatch("xus-east-1"));
  EXPECT_TRUE(Must("").FullMatch(""));
  EXPECT_FALSE(Must("").FullMatch("a"));
  EXPECT_TRUE(Must("").PartialMatch("a"));
}

TEST(RegexTest, GoSyntaxAndSemantics) {
  // Perl classes, non-greedy repeats, (?i), \A \z; ^ and $ at the text's ends unless (?m).
  EXPECT_TRUE(Must(R"(^v\d+\.\d+$)").PartialMatch("v2.1"));
  EXPECT_TRUE(Must("(?i)HELLO").PartialMatch("say hello"));
  EXPECT_FALSE(Must("^world").PartialMatch("hello\nworld"));
  EXPECT_TRUE(Must("(?m)^world$").PartialMatch("hello\nworld\n"));
  EXPECT_TRUE(Must(R"(\Aab\z)").FullMatch("ab"));
  EXPECT_TRUE(Must(R"(\pL+)").FullMatch("\xc3\xa9t\xc3\xa9"));  // Unicode classes, UTF-8
  // `.` and newlines: Go's default (blackbox) does not match one; Prometheus' matchers do.
  EXPECT_FALSE(Must("a.b").PartialMatch("a\nb"));
  EXPECT_TRUE(Must("a.b", {.dot_matches_newline = true}).FullMatch("a\nb"));
}

TEST(RegexTest, InvalidUtf8IsReadAsGoReadsIt) {
  // Each byte that starts no valid sequence is one U+FFFD: `.` matches it, counts it once.
  EXPECT_TRUE(Must(".+").FullMatch("K\xf6ln"));
  EXPECT_TRUE(Must("^K.ln$").PartialMatch("K\xf6ln"));
  EXPECT_TRUE(Must("^a..b$").PartialMatch("a\xe2\x82" "b"));  // a truncated sequence: two
  EXPECT_TRUE(Must("^a.b$").PartialMatch("a\xc0" "b"));        // an overlong lead byte
  EXPECT_TRUE(Must(R"(\x{FFFD})").PartialMatch("\xff"));
  EXPECT_FALSE(Must("^a.b$").PartialMatch("a\xf6\xf6" "b"));
  // Offsets are the input's.
  EXPECT_EQ(Must("l").FindEnd("K\xf6ln"), std::optional<size_t>(3));
  EXPECT_EQ(Must("K.").FindEnd("K\xf6ln"), std::optional<size_t>(2));
  EXPECT_EQ(Must(R"(\x{e9})").FindEnd("\xff\xc3\xa9!"), std::optional<size_t>(3));
}

TEST(RegexTest, FindEndIsTheLeftmostFirstMatchsEnd) {
  EXPECT_EQ(Must("b+").FindEnd("aabbbcbb"), std::optional<size_t>(5));
  EXPECT_EQ(Must("a|ab").FindEnd("xab"), std::optional<size_t>(2));  // leftmost-first, as Go
  EXPECT_EQ(Must("(x)(y)").FindEnd("..xy"), std::optional<size_t>(4));
  EXPECT_EQ(Must("^$").FindEnd(""), std::optional<size_t>(0));
  EXPECT_EQ(Must("z").FindEnd("abc"), std::nullopt);
}

TEST(RegexTest, InvalidPatternsSayWhy) {
  struct Case {
    const char* pattern;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {"(unclosed", "missing ): (unclosed"},
           {"a)|(b", "unexpected ): a)|(b"},  // not accepted through an anchoring wrapper
           {"[z-a]", "invalid character class range: z-a"},
           {"a**", "bad repetition operator: **"},
           {R"(\8)", R"(invalid escape sequence: \8)"},
           {"a{1001}", "invalid repetition size: {1001}"},
           {"(?=lookahead)", "invalid perl operator: (?="},  // no backtracking-only features
           {"\xff", "invalid UTF-8"},
       }) {
    SCOPED_TRACE(c.pattern);
    Result<Regex> re = Regex::Compile(c.pattern);
    ASSERT_FALSE(re.ok());
    EXPECT_EQ(re.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(re.status().message(), c.error);
  }
}

TEST(RegexTest, PathologicalPatternsOverLongInputsRunInLinearTime) {
  // Each of these takes exponential time (or one stack frame per character) in a backtracking
  // engine; 8 MiB of input answers at once here.
  const std::string a(8 << 20, 'a');
  EXPECT_FALSE(Must("(a|aa)*b").PartialMatch(a));
  EXPECT_FALSE(Must("(a+)+b").FullMatch(a));
  EXPECT_TRUE(Must("^(a|aa)*$").PartialMatch(a));
  EXPECT_TRUE(Must("(a*)*").FullMatch(a));
  EXPECT_EQ(Must("(a|aa)*").FindEnd(a), std::optional<size_t>(a.size()));
}

// Go's Regexp.ReplaceAllString (its documented examples and the empty-match rules of replaceAll).
TEST(RegexTest, ReplaceAllIsGosReplaceAllString) {
  struct Case {
    const char* pattern;
    std::string text;
    const char* replacement;
    std::string want;
  };
  const Case cases[] = {
      {"a(x*)b", "-ab-axxb-", "T", "-T-T-"},
      {"a(x*)b", "-ab-axxb-", "$1", "--xx-"},
      {"a(x*)b", "-ab-axxb-", "$1W", "---"},  // the group named "1W": none, so nothing
      {"a(x*)b", "-ab-axxb-", "${1}W", "-W-xxW-"},
      {"a(?P<x>x*)b", "-ab-axxb-", "${x}!", "-!-xx!-"},
      {"(a)", "a", "$01", ""},     // a leading zero is no number; no group is named "01"
      {"b", "abc", "$$", "a$c"},   // $$ is a '$'
      {"b", "abc", "x$", "ax$c"},  // a '$' at the end is itself
      {"b", "abc", "${1", "a${1c"},
      {"x*", "abc", "-", "-a-b-c-"},
      {"a*", "baaac", "X", "XbXcX"},  // no empty match right after "aaa"
      {".", std::string("a\xff") + "b", "<$0>", std::string("<a><\xff><b>")},
      {"z", "abc", "$0", "abc"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " on " + c.text + " with " + c.replacement);
    Result<Regex> re = Regex::Compile(c.pattern, Regex::Options{.submatches = true});
    ASSERT_TRUE(re.ok()) << re.status().ToString();
    Result<std::string> got = re->ReplaceAll(c.text, c.replacement, 1 << 20);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c.want);
  }
  Result<std::string> big = Must("a").ReplaceAll("aaaa", "xxxx", 10);
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
}

TEST(RegexTest, CopiesShareOneProgramAcrossThreads) {
  const Regex re = Must(R"(check-\d+)");
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([re, t, &hits] {  // a copy per thread
      for (int i = 0; i < 10000; ++i) hits[t] += re.FullMatch("check-" + std::to_string(i));
    });
  }
  for (std::thread& t : threads) t.join();
  for (int h : hits) EXPECT_EQ(h, 10000);
  EXPECT_EQ(re.pattern(), R"(check-\d+)");
}

}  // namespace
}  // namespace nines::core

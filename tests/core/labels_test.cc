#include "core/labels.h"

#include <gtest/gtest.h>

#include <string_view>

#include "core/utf8.h"

namespace nines::core {
namespace {

TEST(Hash64Test, MatchesPublishedXxh64Vectors) {
  EXPECT_EQ(Hash64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(Hash64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(Hash64("abc"), 0x44BC2CF5AD770999ULL);
}

TEST(LabelsTest, SortsAndDropsEmptyValues) {
  Result<Labels> l = Labels::From({{"region", "eu-west-1"}, {"__name__", "up"}, {"empty", ""},
                                   {"job", "api"}});
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0].name, "__name__");
  EXPECT_EQ((*l)[1].name, "job");
  EXPECT_EQ((*l)[2].name, "region");
  EXPECT_EQ(l->MetricName(), "up");
  EXPECT_EQ(l->Get("job"), "api");
  EXPECT_EQ(l->Get("missing"), "");
  EXPECT_FALSE(l->Has("empty"));
}

TEST(LabelsTest, RejectsInvalidAndDuplicateNames) {
  EXPECT_FALSE(Labels::From({{"1abc", "x"}}).ok());
  EXPECT_FALSE(Labels::From({{"a-b", "x"}}).ok());
  EXPECT_FALSE(Labels::From({{"a", "x"}, {"a", "y"}}).ok());
  EXPECT_FALSE(Labels::From({{"__name__", "bad-name"}}).ok());
  EXPECT_TRUE(Labels::From({{"__name__", "job:rate5m"}}).ok());
}

TEST(LabelsTest, FromSortedPairsRejectsUnsortedInput) {
  auto ok = Labels::FromSortedPairs({{"__name__", "up"}, {"job", "api"}, {"zone", ""}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, *Labels::From({{"job", "api"}, {"__name__", "up"}}));
  auto unsorted = Labels::FromSortedPairs({{"job", "api"}, {"__name__", "up"}});
  ASSERT_FALSE(unsorted.ok());
  EXPECT_EQ(unsorted.status().message(), "labels are not sorted: \"__name__\" after \"job\"");
  EXPECT_FALSE(Labels::FromSortedPairs({{"a", "1"}, {"a", "2"}}).ok());
}

TEST(LabelsTest, HashIsStableAndOrderIndependent) {
  Labels a = *Labels::From({{"__name__", "up"}, {"job", "api"}, {"region", "us-east-1"}});
  Labels b = *Labels::From({{"region", "us-east-1"}, {"job", "api"}, {"__name__", "up"}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Hash(), b.Hash());
  // Pinned: the hash may be persisted, so it must never change between builds.
  EXPECT_EQ(a.Hash(), Hash64(std::string("__name__\xffup\xffjob\xff" "api\xffregion\xffus-east-1\xff")));
  Labels c = *Labels::From({{"__name__", "up"}, {"job", "apI"}, {"region", "us-east-1"}});
  EXPECT_NE(a.Hash(), c.Hash());
  // The separator keeps ("ab","c") and ("a","bc") apart.
  EXPECT_NE(Labels::From({{"ab", "c"}})->Hash(), Labels::From({{"a", "bc"}})->Hash());
  EXPECT_EQ(Labels().Hash(), Hash64(""));
}

TEST(LabelsTest, PrintsSeriesNotationWithEscapes) {
  Labels l = *Labels::From({{"__name__", "up"}, {"c", "d\"e"}, {"a", "b\\\n"}});
  EXPECT_EQ(l.ToString(), R"(up{a="b\\\n",c="d\"e"})");
  EXPECT_EQ(Labels::From({{"a", "b"}})->ToString(), R"({a="b"})");
  EXPECT_EQ(Labels::From({{"__name__", "up"}})->ToString(), "up");
  EXPECT_EQ(Labels().ToString(), "{}");
}

TEST(LabelsTest, ParsesSeriesNotation) {
  struct Case {
    const char* text;
    std::vector<Label> want;
  } cases[] = {
      {R"(name{a="b",c="d\"e"})", {{"__name__", "name"}, {"a", "b"}, {"c", "d\"e"}}},
      {"up", {{"__name__", "up"}}},
      {R"({a="b"})", {{"a", "b"}}},
      {R"( up { job = "x" , } )", {{"__name__", "up"}, {"job", "x"}}},
      {R"(x{v="line\nnext\\"})", {{"__name__", "x"}, {"v", "line\nnext\\"}}},
      {R"(x{a=""})", {{"__name__", "x"}}},
      {R"(ns:rule{z="1",a="2"})", {{"__name__", "ns:rule"}, {"a", "2"}, {"z", "1"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Result<Labels> l = ParseLabels(c.text);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    EXPECT_EQ(std::vector<Label>(l->begin(), l->end()), c.want);
  }
}

TEST(LabelsTest, ParseErrorsNameTheColumn) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"", "col 1: empty series"},
      {"{}", "col 1: empty series"},
      // Found by fuzz/fuzz_labels: empty values are dropped, which left an empty set that
      // printed as `{}`, which does not parse.
      {R"({a=""})", "col 1: empty series: every label value is empty"},
      {R"({a="",b=""})", "col 1: empty series: every label value is empty"},
      {R"(up{job})", "col 7: expected '=' after label name"},
      {R"(up{job="x")", "col 11: missing closing '}'"},
      {R"(up{job="x)", "col 10: unterminated label value"},
      {R"(up{job=x})", "col 8: expected '\"' to open the label value"},
      {R"(up{1a="x"})", "col 4: expected a label name"},
      {R"(up{a="x" b="y"})", "col 10: expected ',' or '}' after label value"},
      {R"(up{a="\t"})", "col 7: unknown escape"},
      {R"(up{a="1",a="2"})", "col 10: duplicate label name \"a\""},
      {R"(up{} extra)", "col 6: unexpected text"},
      {R"(-up)", "col 1: expected a metric name"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Result<Labels> l = ParseLabels(c.text);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(l.status().message().find(c.want), std::string::npos) << l.status().message();
  }
}

TEST(LabelsTest, PrintThenParseRoundTrips) {
  Labels l = *Labels::From({{"__name__", "probe_success"}, {"probe", "api \"main\""},
                            {"target", "https://x/?a=b\\c"}, {"region", "ap-southeast-2"}});
  Result<Labels> back = ParseLabels(l.ToString());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, l);
}

TEST(LabelsTest, BuilderSetsAndDeletes) {
  Labels base = *Labels::From({{"__name__", "up"}, {"job", "api"}});
  Result<Labels> l = Labels::Builder(base).Set("region", "eu-west-1").Set("job", "web").Del(
      "__name__").Build();
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->ToString(), R"({job="web",region="eu-west-1"})");
  EXPECT_FALSE(Labels::Builder(base).Set("bad name", "x").Build().ok());
}

// The one label-name validator: every module (store selectors, remote write, rule files, the
// collector's config) calls it, so its exact language is pinned here.
TEST(IsValidLabelNameTest, AcceptsPrometheusLabelNamesOnly) {
  const struct {
    const char* name;
    std::string_view text;
    bool valid;
  } cases[] = {
      {"letters", "job", true},
      {"upper and lower", "HttpCode", true},
      {"leading underscore", "_x", true},
      {"reserved prefix is still a name", "__name__", true},
      {"digits after the first", "a1_2", true},
      {"single underscore", "_", true},
      {"empty", "", false},
      {"leading digit", "1x", false},
      {"colon (metric names only)", "a:b", false},
      {"dash", "a-b", false},
      {"dot", "a.b", false},
      {"space", "a b", false},
      {"non-ASCII letter", "zürich", false},
      {"NUL byte", std::string_view("a\0b", 3), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(IsValidLabelName(c.text), c.valid);
  }
}

// Go's utf8.ValidString, which remote write, the text format and regex matching agree on.
TEST(IsValidUtf8Test, AcceptsWhatGoAcceptsAndNothingElse) {
  const struct {
    const char* name;
    std::string_view text;
    bool valid;
  } cases[] = {
      {"empty", "", true},
      {"ASCII longer than a word", "eu-west-1a/probe", true},
      {"two bytes", "\xc3\xbc", true},
      {"three bytes", "\xe6\x9d\xb1", true},
      {"four bytes", "\xf0\x9f\x99\x82", true},
      {"U+10FFFF", "\xf4\x8f\xbf\xbf", true},
      {"non-ASCII after 8 ASCII bytes", "abcdefgh\xc3\xbc", true},
      {"stray continuation byte", "\x80", false},
      {"overlong two bytes", "\xc0\xaf", false},
      {"overlong three bytes", "\xe0\x80\xaf", false},
      {"overlong four bytes", "\xf0\x80\x80\xaf", false},
      {"surrogate", "\xed\xa0\x80", false},
      {"past U+10FFFF", "\xf4\x90\x80\x80", false},
      {"F5 lead byte", "\xf5\x80\x80\x80", false},
      {"truncated", "\xe6\x9d", false},
      {"truncated after 8 ASCII bytes", "abcdefgh\xf0\x9f\x99", false},
      {"bad second continuation byte", "\xe6\x9d\x41", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(IsValidUtf8(c.text), c.valid);
  }
}

}  // namespace
}  // namespace nines::core

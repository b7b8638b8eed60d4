#include "core/json.h"

#include <gtest/gtest.h>

#include <string>

namespace nines::core {
namespace {

std::string Json(std::string_view s) {
  std::string out = "x";  // appends, never overwrites
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Json(""), "x\"\"");
  EXPECT_EQ(Json("a\"b\\c"), R"(x"a\"b\\c")");
  EXPECT_EQ(Json("\n\r\t\b\f"), R"(x"\n\r\t\b\f")");
  EXPECT_EQ(Json(std::string_view("\x00\x1f\x7f", 3)), R"(x"\u0000\u001f\u007f")");
  EXPECT_EQ(Json("\xc3\xa9 \xe2\x82\xac"), "x\"\xc3\xa9 \xe2\x82\xac\"");  // valid UTF-8 as is
}

// Go's encoding/json: every byte that does not start a valid sequence is one U+FFFD.
TEST(JsonTest, InvalidUtf8BecomesReplacementCharactersAsGoWritesIt) {
  EXPECT_EQ(Json("a\xff"
                 "b"),
            R"(x"a\ufffdb")");
  EXPECT_EQ(Json("\xc3"), R"(x"\ufffd")");                                  // truncated at the end
  EXPECT_EQ(Json("\xe2\x82x"), R"(x"\ufffd\ufffdx")");                      // truncated inside
  EXPECT_EQ(Json("\xc0\xaf"), R"(x"\ufffd\ufffd")");                        // overlong '/'
  EXPECT_EQ(Json("\xed\xa0\x80"), R"(x"\ufffd\ufffd\ufffd")");              // a surrogate
  EXPECT_EQ(Json("\xf4\x90\x80\x80"), R"(x"\ufffd\ufffd\ufffd\ufffd")");    // past U+10FFFF
  EXPECT_EQ(Json("\xf0\x9f\x98\x80\x80"), "x\"\xf0\x9f\x98\x80\\ufffd\"");  // valid, then a stray
}

TEST(JsonTest, LabelsAndStringMapsAreObjectsOfEscapedStrings) {
  std::string out;
  AppendJsonLabels(&out, Labels::From({{"b", "x\"y"}, {"a", "1"}}).value());
  EXPECT_EQ(out, R"({"a":"1","b":"x\"y"})");  // sorted, escaped
  out.clear();
  AppendJsonLabels(&out, Labels());
  EXPECT_EQ(out, "{}");
  out.clear();
  AppendJsonStringMap(&out, {{"summary", "line\nbreak"}, {"b", ""}});
  EXPECT_EQ(out, R"({"b":"","summary":"line\nbreak"})");
}

}  // namespace
}  // namespace nines::core

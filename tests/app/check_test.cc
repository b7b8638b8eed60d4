#include "app/check.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace nines::app {
namespace {

const std::string kTestdata = NINES_APP_TESTDATA;

TEST(RunCheckTest, CleanFilesPrintOkAndReturnZero) {
  std::ostringstream out, err;
  std::string a = kTestdata + "/valid/full.yaml";
  std::string b = kTestdata + "/valid/empty.yaml";
  EXPECT_EQ(RunCheck({a, b}, out, err), 0);
  EXPECT_EQ(out.str(), a + ": ok\n" + b + ": ok\n");
  EXPECT_EQ(err.str(), "");
}

TEST(RunCheckTest, AnyErrorReturnsOneAndPrintsEveryError) {
  std::ostringstream out, err;
  std::string good = kTestdata + "/valid/full.yaml";
  std::string bad = kTestdata + "/invalid/bad_duration.yaml";
  EXPECT_EQ(RunCheck({bad, good}, out, err), 1);
  EXPECT_EQ(out.str(), good + ": ok\n");
  EXPECT_EQ(err.str(), bad +
                           ":3:17: server.idle_timeout: invalid duration \"5x\": unknown unit "
                           "\"x\" (want y, w, d, h, m, s or ms)\n");
}

TEST(RunCheckTest, MissingFileIsAnError) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCheck({"/nonexistent.yaml"}, out, err), 1);
  EXPECT_EQ(err.str(), "/nonexistent.yaml:1:1: cannot read: No such file or directory\n");
}

TEST(RunCheckTest, NoFilesIsAUsageError) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCheck({}, out, err), 2);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("usage"), std::string::npos);
}

TEST(RunCheckTest, ExampleConfigPasses) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCheck({std::string(NINES_EXAMPLES_DIR) + "/nines.yaml"}, out, err), 0) << err.str();
}

}  // namespace
}  // namespace nines::app

#include "rules/rules.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nines::rules {
namespace {

TEST(CompareTest, EachOperatorAgreesWithItsName) {
  struct Case {
    Comparison op;
    std::string_view name;
    bool below, equal, above;  // 1 op 2, 2 op 2, 3 op 2
  };
  const Case cases[] = {
      {Comparison::kLess, "<", true, false, false},
      {Comparison::kLessEqual, "<=", true, true, false},
      {Comparison::kEqual, "==", false, true, false},
      {Comparison::kNotEqual, "!=", true, false, true},
      {Comparison::kGreaterEqual, ">=", false, true, true},
      {Comparison::kGreater, ">", false, false, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    EXPECT_EQ(ComparisonName(c.op), c.name);
    EXPECT_EQ(Compare(1, c.op, 2), c.below);
    EXPECT_EQ(Compare(2, c.op, 2), c.equal);
    EXPECT_EQ(Compare(3, c.op, 2), c.above);
  }
}

TEST(CompareTest, NanMeetsOnlyNotEqual) {
  const double nan = std::nan("");
  EXPECT_FALSE(Compare(nan, Comparison::kLess, 0));
  EXPECT_FALSE(Compare(nan, Comparison::kEqual, 0));
  EXPECT_FALSE(Compare(nan, Comparison::kGreaterEqual, 0));
  EXPECT_TRUE(Compare(nan, Comparison::kNotEqual, 0));
}

TEST(AlertTest, FingerprintIsTheLabelsHash) {
  Alert a;
  a.labels = core::Labels::From({{"alertname", "X"}, {"region", "eu-west-1"}}).value();
  Alert b = a;
  b.state = AlertState::kFiring;
  EXPECT_EQ(a.Fingerprint(), b.Fingerprint());
  b.labels = core::Labels::From({{"alertname", "X"}, {"region", "us-east-1"}}).value();
  EXPECT_NE(a.Fingerprint(), b.Fingerprint());
  EXPECT_EQ(AlertStateName(AlertState::kPending), "pending");
}

}  // namespace
}  // namespace nines::rules

#include "app/check.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "collector/collector.h"
#include "core/status.h"

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


// The ICMP warning. Tests run as root here, so the real IcmpPermitted says yes; CheckOptions'
// injectable permission function is the seam that reaches the "not permitted" path honestly
// (the config walk and the output are the real ones; only the kernel's answer is replaced).
const std::string kIcmpConfig = kTestdata + "/check/icmp.yaml";

TEST(RunCheckTest, IcmpChecksOfThisLocationAreNamedWhenIcmpIsNotPermitted) {
  std::ostringstream out, err;
  std::vector<collector::IpPreference> asked;
  CheckOptions options;
  options.icmp_permitted = [&](collector::IpPreference ip) {
    asked.push_back(ip);
    return core::PermissionDeniedError("neither a ping socket nor a raw socket can be opened");
  };
  EXPECT_EQ(RunCheck({kIcmpConfig}, out, err, options), 0);  // a warning, not an error
  EXPECT_EQ(out.str(), kIcmpConfig + ": ok\n");
  // ping-eu runs only at eu-west-1a, not at this process's us-east-1a.
  EXPECT_EQ(err.str(),
            kIcmpConfig + ":16: warning: icmp check \"ping-us\" cannot run in this process: "
                          "neither a ping socket nor a raw socket can be opened\n" +
                kIcmpConfig + ":22: warning: icmp check \"ping-us-v6\" cannot run in this "
                              "process: neither a ping socket nor a raw socket can be opened\n");
  // Asked once per address family.
  EXPECT_EQ(asked, (std::vector<collector::IpPreference>{collector::IpPreference::kIp4,
                                                         collector::IpPreference::kIp6}));
}

TEST(RunCheckTest, OnlyTheFamilyThatCannotBeOpenedIsWarnedAbout) {
  std::ostringstream out, err;
  CheckOptions options;
  options.icmp_permitted = [](collector::IpPreference ip) {
    return ip == collector::IpPreference::kIp6
               ? core::UnavailableError("cannot open an IPv6 ICMP socket")
               : core::Status::Ok();
  };
  EXPECT_EQ(RunCheck({kIcmpConfig}, out, err, options), 0);
  EXPECT_EQ(err.str(), kIcmpConfig +
                           ":22: warning: icmp check \"ping-us-v6\" cannot run in this process: "
                           "cannot open an IPv6 ICMP socket\n");
}

TEST(RunCheckTest, NoWarningWhenIcmpIsPermittedOrThereAreNoIcmpChecks) {
  {
    std::ostringstream out, err;
    CheckOptions options;
    options.icmp_permitted = [](collector::IpPreference) { return core::Status::Ok(); };
    EXPECT_EQ(RunCheck({kIcmpConfig}, out, err, options), 0);
    EXPECT_EQ(err.str(), "");
  }
  {
    std::ostringstream out, err;
    int asked = 0;
    CheckOptions options;
    options.icmp_permitted = [&](collector::IpPreference) {
      ++asked;
      return core::PermissionDeniedError("no");
    };
    EXPECT_EQ(RunCheck({kTestdata + "/valid/full.yaml"}, out, err, options), 0);
    EXPECT_EQ(err.str(), "");
    EXPECT_EQ(asked, 0);  // no icmp check, no socket opened
  }
}

TEST(RunCheckTest, DefaultPermissionCheckAgreesWithIcmpPermitted) {
  // The real seam's default: the warning appears exactly when IcmpPermitted refuses.
  std::ostringstream out, err;
  EXPECT_EQ(RunCheck({kIcmpConfig}, out, err), 0);
  const bool v4 = collector::IcmpPermitted(collector::IpPreference::kIp4).ok();
  const bool v6 = collector::IcmpPermitted(collector::IpPreference::kIp6).ok();
  EXPECT_EQ(err.str().find("\"ping-us-v6\"") != std::string::npos, !v6);
  EXPECT_EQ(err.str().find("\"ping-us\" cannot") != std::string::npos, !v4);
}

}  // namespace
}  // namespace nines::app

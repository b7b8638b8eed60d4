#include "collector/collector.h"

#include <gtest/gtest.h>

#include <string>

#include "store/store.h"
#include "tests/testutil/recording_appender.h"

namespace nines::collector {
namespace {

using testutil::RecordingAppender;

TEST(ProbeLabelsTest, CarriesCheckIdentityAndExtraLabels) {
  CheckSpec check;
  check.name = "api-eu";
  check.target = "https://eu.example.com/health";
  check.region = "eu-west-1";
  check.location = "eu-west-1a";
  check.service = "api";
  check.extra_labels = core::Labels::From({{"team", "core"}}).value();
  core::Labels labels =
      ProbeLabels(check, "probe_http_duration_seconds", {{"phase", "connect"}}).value();
  EXPECT_EQ(labels.ToString(),
            "probe_http_duration_seconds{location=\"eu-west-1a\",phase=\"connect\",probe=\"api-eu\","
            "region=\"eu-west-1\",service=\"api\",target=\"https://eu.example.com/health\","
            "team=\"core\"}");
}

TEST(ProbeLabelsTest, RejectsInvalidExtraLabelName) {
  CheckSpec check;
  check.name = "x";
  check.target = "t";
  EXPECT_FALSE(ProbeLabels(check, "probe_success", {{"bad-name", "v"}}).ok());
}

TEST(AppendProbeResultTest, WritesSuccessDurationAndMetricsAtOneTimestamp) {
  CheckSpec check;
  check.name = "tcp-us";
  check.target = "127.0.0.1:1";
  check.region = "us-east-1";
  ProbeResult result;
  result.success = false;
  result.duration = core::Duration::Milliseconds(250);
  result.reason = "connect: connection refused";
  result.metrics.push_back({"probe_ip_protocol", {}, 4});
  RecordingAppender appender;
  ASSERT_TRUE(
      AppendProbeResult(check, result, core::Timestamp::FromUnixSeconds(1000), appender).ok());
  ASSERT_EQ(appender.staged().size(), 4u);
  const std::string suffix = "{probe=\"tcp-us\",region=\"us-east-1\",target=\"127.0.0.1:1\"}";
  EXPECT_EQ(appender.Find("probe_success" + suffix)->value, 0);
  EXPECT_EQ(appender.Find("probe_success" + suffix)->timestamp_ms, 1'000'000);
  EXPECT_DOUBLE_EQ(appender.Find("probe_duration_seconds" + suffix)->value, 0.25);
  EXPECT_EQ(appender.Find("probe_ip_protocol" + suffix)->value, 4);
  // A failure carries its reason.
  EXPECT_EQ(appender
                .Find("nines_probe_failure_reason{probe=\"tcp-us\",reason=\"connect: connection "
                      "refused\",region=\"us-east-1\",target=\"127.0.0.1:1\"}")
                ->value,
            1);
}

TEST(CheckKindNameTest, NamesEveryKind) {
  EXPECT_EQ(CheckKindName(CheckKind::kHttp), "http");
  EXPECT_EQ(CheckKindName(CheckKind::kTcp), "tcp");
  EXPECT_EQ(CheckKindName(CheckKind::kDns), "dns");
  EXPECT_EQ(CheckKindName(CheckKind::kTls), "tls");
  EXPECT_EQ(CheckKindName(CheckKind::kIcmp), "icmp");
}

}  // namespace
}  // namespace nines::collector

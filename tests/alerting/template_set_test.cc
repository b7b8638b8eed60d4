#include "alerting/template_set.h"

#include <gtest/gtest.h>

#include <string>

namespace nines::alerting {
namespace {

using core::StatusCode;

TemplateData Data() {
  TemplateData d;
  d.receiver = "pager";
  d.status = "firing";
  d.external_url = "http://nines:9090";
  d.group_labels = {{"alertname", "SLOBurn"}};
  d.common_labels = {{"alertname", "SLOBurn"}, {"slo", "api"}};
  TemplateAlert a;
  a.status = "firing";
  a.labels = {
      {"alertname", "SLOBurn"}, {"slo", "api"}, {"region", "eu-west-1"}};
  a.annotations = {{"summary", "api burns 14.4x"}};
  d.alerts.push_back(a);
  return d;
}

TEST(TemplateSetTest, ExecutesAPlainText) {
  TemplateSet set;
  auto out = set.Execute("{{ .Status }} {{ .CommonLabels.slo }}", Data());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "firing api");
}

TEST(TemplateSetTest, CheckReportsLineAndColumn) {
  TemplateSet set;
  core::Status s = set.Check("ok\n{{ .Status ");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().substr(0, 4), "2:1:") << s.message();
}

} // namespace
} // namespace nines::alerting

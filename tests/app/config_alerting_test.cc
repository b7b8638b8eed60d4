// nines.yaml's `alerting:` section: an Alertmanager config inline or in
// config_file, nines' own keys beside it, every mistake at its file:line:col
// (in nines.yaml, or in the file config_file names), and `nines check`
// reporting them.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "app/check.h"
#include "app/config.h"
#include "tests/testutil/testutil.h"

namespace nines::app {
namespace {

using core::Duration;
using testutil::TempDir;

std::vector<std::string> Strings(const std::vector<ConfigError> &errors) {
  std::vector<std::string> out;
  for (const ConfigError &e : errors) out.push_back(e.ToString());
  return out;
}

constexpr char kInline[] = R"(storage:
  data_dir: /tmp/x
alerting:
  external_url: https://nines.example.com/
  route:
    receiver: pager
    group_by: [alertname, slo, region]
    routes:
      - matchers: ['severity="page"']
        group_wait: 0s
  receivers:
    - name: pager
      webhook_configs:
        - url: http://127.0.0.1:9/hook
)";

TEST(AlertingConfigSectionTest, InlineAlertmanagerConfigAndNinesKeys) {
  Config cfg;
  std::vector<ConfigError> errors = ParseConfig(kInline, "nines.yaml", &cfg);
  ASSERT_TRUE(errors.empty()) << JoinErrors(errors);
  const AlertingConfig &a = cfg.alerting;
  EXPECT_TRUE(a.routing);
  EXPECT_TRUE(a.enabled());
  EXPECT_EQ(a.external_url, "https://nines.example.com");
  EXPECT_EQ(a.config_file, "");
  EXPECT_EQ(a.alertmanager.route.receiver, "pager");
  ASSERT_TRUE(a.alertmanager.route.group_by.has_value());
  EXPECT_EQ(*a.alertmanager.route.group_by,
            (std::vector<std::string>{"alertname", "slo", "region"}));
  ASSERT_EQ(a.alertmanager.route.routes.size(), 1u);
  EXPECT_EQ(a.alertmanager.route.routes[0].group_wait, Duration::Zero());
  ASSERT_NE(a.alertmanager.FindReceiver("pager"), nullptr);
  EXPECT_EQ(a.alertmanager.FindReceiver("pager")->integrations.size(), 1u);
  // The original, for /api/v2/status: nines' keys left out, the webhook URL (a secret) masked.
  EXPECT_NE(a.original_yaml.find("receiver: pager"), std::string::npos) << a.original_yaml;
  EXPECT_NE(a.original_yaml.find("url: <secret>"), std::string::npos) << a.original_yaml;
  EXPECT_EQ(a.original_yaml.find("127.0.0.1:9"), std::string::npos) << a.original_yaml;
  EXPECT_EQ(a.original_yaml.find("external_url"), std::string::npos) << a.original_yaml;
}

TEST(AlertingConfigSectionTest, NoSectionMeansNoAlerting) {
  Config cfg;
  ASSERT_TRUE(ParseConfig("storage:\n  data_dir: /tmp/x\n", "nines.yaml", &cfg).empty());
  EXPECT_FALSE(cfg.alerting.enabled());
  EXPECT_FALSE(cfg.alerting.routing);
}

TEST(AlertingConfigSectionTest, ErrorsInsideTheInlineConfigAreAtTheirPositionInNinesYaml) {
  const std::string text =
      "alerting:\n"
      "  route:\n"
      "    receiver: pagr\n"  // 3: unknown receiver
      "    group_wait: 5x\n"  // 4:17: bad duration
      "  receivers:\n"
      "    - name: pager\n"
      "      webhook_configs:\n"
      "        - url: ftp://x\n";  // 8: not http
  std::vector<std::string> errors = Strings(ParseConfig(text, "nines.yaml", nullptr));
  ASSERT_GE(errors.size(), 3u) << ::testing::PrintToString(errors);
  std::string all;
  for (const std::string &e : errors) all += e + "\n";
  EXPECT_NE(all.find("nines.yaml:3:"), std::string::npos) << all;
  EXPECT_NE(all.find("nines.yaml:4:17: alerting.route.group_wait"), std::string::npos) << all;
  EXPECT_NE(all.find("nines.yaml:8:"), std::string::npos) << all;
  EXPECT_NE(all.find("pagr"), std::string::npos) << all;
}

TEST(AlertingConfigSectionTest, NinesKeysAreCheckedWithTheirPositions) {
  const std::string text =
      "alerting:\n"
      "  external_url: nines.example.com\n"  // 2:17
      "  alertmanagers:\n"
      "    - url: http://am:9093\n"
      "      timeout: -1s\n"          // 5:16
      "    - bearer_token_file: x\n"  // 6:7 missing url; 6:28 unreadable file
      "  extrnal_url: http://x\n"     // 7:3 unknown, did you mean
      "  route: {receiver: r}\n"
      "  receivers: [{name: r}]\n";
  std::vector<std::string> errors = Strings(ParseConfig(text, "nines.yaml", nullptr));
  std::string all;
  for (const std::string &e : errors) all += e + "\n";
  EXPECT_NE(all.find("nines.yaml:2:17: alerting.external_url: "
                     "\"nines.example.com\" is not an "
                     "http:// or https:// URL"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("nines.yaml:5:16: alerting.alertmanagers[0].timeout"), std::string::npos)
      << all;
  EXPECT_NE(all.find("nines.yaml:6:7: alerting.alertmanagers[1]: missing "
                     "required field \"url\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("nines.yaml:6:"), std::string::npos) << all;
  EXPECT_NE(all.find("nines.yaml:7:3: alerting: unknown field \"extrnal_url\" "
                     "(did you mean "
                     "\"external_url\"?)"),
            std::string::npos)
      << all;
}

TEST(AlertingConfigSectionTest, AnEmptyOrUselessSectionIsAnError) {
  std::vector<std::string> empty = Strings(ParseConfig("alerting:\n", "nines.yaml", nullptr));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].rfind("nines.yaml:1:", 0), 0u) << empty[0];
  std::vector<std::string> only_url =
      Strings(ParseConfig("alerting:\n  external_url: http://x\n", "nines.yaml", nullptr));
  ASSERT_EQ(only_url.size(), 1u);
  EXPECT_NE(only_url[0].find("nothing would be notified"), std::string::npos) << only_url[0];
  std::vector<std::string> list = Strings(ParseConfig("alerting: [a]\n", "nines.yaml", nullptr));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(list[0].find("expected a mapping"), std::string::npos) << list[0];
}

TEST(AlertingConfigSectionTest, PushOnlyNeedsNoRoute) {
  TempDir dir;
  dir.Write("am.token", "\n  s3cret  \n");
  Config cfg;
  std::vector<ConfigError> errors = ParseConfig(
      "alerting:\n  alertmanagers:\n    - url: http://127.0.0.1:9093/\n"
      "      bearer_token_file: am.token\n      timeout: 3s\n",
      dir.File("nines.yaml"), &cfg);
  ASSERT_TRUE(errors.empty()) << JoinErrors(errors);
  EXPECT_FALSE(cfg.alerting.routing);
  EXPECT_TRUE(cfg.alerting.enabled());
  ASSERT_EQ(cfg.alerting.alertmanagers.size(), 1u);
  const AlertmanagerPushConfig &am = cfg.alerting.alertmanagers[0];
  EXPECT_EQ(am.url, "http://127.0.0.1:9093");
  EXPECT_EQ(am.bearer_token, "s3cret");
  EXPECT_EQ(am.bearer_token_file, dir.File("am.token"));
  EXPECT_EQ(am.timeout, Duration::Seconds(3));
}

TEST(AlertingConfigSectionTest, ConfigFileIsReadAndItsErrorsNameThatFile) {
  TempDir dir;
  dir.Write("alertmanager.yml",
            "route:\n  receiver: team\nreceivers:\n  - name: team\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:9/x'}]\n");
  Config cfg;
  std::vector<ConfigError> errors =
      ParseConfig("alerting:\n  config_file: alertmanager.yml\n", dir.File("nines.yaml"), &cfg);
  ASSERT_TRUE(errors.empty()) << JoinErrors(errors);
  EXPECT_TRUE(cfg.alerting.routing);
  EXPECT_EQ(cfg.alerting.config_file, dir.File("alertmanager.yml"));
  EXPECT_EQ(cfg.alerting.alertmanager.route.receiver, "team");

  const std::string bad = dir.Write("bad.yml",
                                    "route:\n  receiver: team\n  group_interval: 0s\n"
                                    "receivers:\n  - name: team\n");
  std::vector<std::string> bad_errors =
      Strings(ParseConfig("server:\n  threads: 0\nalerting:\n  config_file: bad.yml\n",
                          dir.File("nines.yaml"), nullptr));
  ASSERT_EQ(bad_errors.size(), 2u) << ::testing::PrintToString(bad_errors);
  EXPECT_EQ(bad_errors[0].rfind(dir.File("nines.yaml") + ":2:", 0), 0u) << bad_errors[0];
  EXPECT_EQ(bad_errors[1].rfind(bad + ":3:", 0), 0u) << bad_errors[1];

  std::vector<std::string> missing =
      Strings(ParseConfig("alerting:\n  config_file: nope.yml\n", dir.File("nines.yaml"), nullptr));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].rfind(dir.File("nines.yaml") + ":2:16:", 0), 0u) << missing[0];

  std::vector<std::string> both =
      Strings(ParseConfig("alerting:\n  config_file: alertmanager.yml\n  route: {receiver: x}\n",
                          dir.File("nines.yaml"), nullptr));
  ASSERT_EQ(both.size(), 1u) << ::testing::PrintToString(both);
  EXPECT_NE(both[0].find("both inline and as config_file"), std::string::npos) << both[0];
  EXPECT_EQ(both[0].rfind(dir.File("nines.yaml") + ":3:3:", 0), 0u) << both[0];
}

TEST(AlertingConfigSectionTest, NinesCheckReportsAlertingErrors) {
  TempDir dir;
  const std::string bad =
      dir.Write("nines.yaml", "alerting:\n  route:\n    receiver: nobody\n  receivers: []\n");
  std::ostringstream out, err;
  EXPECT_EQ(RunCheck({bad}, out, err), kCheckFailed);
  EXPECT_NE(err.str().find(bad + ":3:"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("nobody"), std::string::npos) << err.str();
  const std::string good = dir.Write("good.yaml", kInline);
  std::ostringstream out2, err2;
  EXPECT_EQ(RunCheck({good}, out2, err2), kCheckOk) << err2.str();
  EXPECT_EQ(out2.str(), good + ": ok (alerting: 1 receiver)\n");
}

}  // namespace
}  // namespace nines::app

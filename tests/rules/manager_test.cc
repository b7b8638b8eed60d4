// RuleManager in process: a real store in a temp dir, a FakeClock's times, a recording sink.
#include "rules/manager.h"

#include <gtest/gtest.h>

#include <mutex>

#include "alerting/alerting.h"
#include "rules/alerts.h"
#include "rules/evaluator.h"
#include "tests/rules/test_util.h"

namespace nines::rules {
namespace {

using core::Duration;
using core::Timestamp;
using testing::AtMinute;
using testing::kBaseMinute;
using testing::L;
using testing::MinuteMs;
using testing::ProbeRule;
using testing::Sel;
using testing::TestStore;

constexpr int64_t S = kBaseMinute;

// An AlertSink that keeps every batch. Thread-safe.
class RecordingSink final : public alerting::AlertSink {
 public:
  void Send(const std::vector<alerting::Alert>& alerts) override {
    std::lock_guard lock(mu_);
    batches_.push_back(alerts);
  }
  std::vector<alerting::Alert> Last() {
    std::lock_guard lock(mu_);
    return batches_.empty() ? std::vector<alerting::Alert>{} : batches_.back();
  }
  size_t batches() {
    std::lock_guard lock(mu_);
    return batches_.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<alerting::Alert>> batches_;
};

ThresholdRule Failing(std::string name) {
  ThresholdRule r;
  r.name = std::move(name);
  r.selector = Sel(R"(probe_success{probe="api"})");
  r.op = Comparison::kEqual;
  r.threshold = 0;
  r.group_by = {"probe"};
  r.annotations["summary"] = "api is failing";
  return r;
}

class RuleManagerTest : public ::testing::Test {
 protected:
  RuleManagerTest() {
    SloEvaluatorOptions eo;
    eo.write_back = false;
    slos_ = std::make_unique<SloEvaluator>(*store_, nullptr, eo);
    RuleManagerOptions mo;
    mo.interval = Duration::Seconds(10);
    mo.resend_delay = Duration::Minutes(1);
    manager_ = std::make_unique<RuleManager>(*store_, *slos_, tracker_, sink_, clock_.Now(), mo);
  }

  // probe_success{probe="api",region="eu-west-1",location=L} at second 30 of each minute in
  // [from, to), `value` from every location.
  void Probe(int64_t from, int64_t to, double value) {
    std::vector<std::pair<core::Labels, core::Sample>> batch;
    for (int64_t m = from; m < to; ++m) {
      for (const char* loc : {"a", "b", "c"}) {
        batch.push_back({L({{"__name__", "probe_success"}, {"probe", "api"},
                            {"region", "eu-west-1"}, {"location", loc}}),
                         {MinuteMs(m) + 30'000, value}});
      }
    }
    store_.Write(batch);
  }

  core::FakeClock clock_{AtMinute(S)};
  TestStore store_{clock_};
  AlertTracker tracker_;
  RecordingSink sink_;
  std::unique_ptr<SloEvaluator> slos_;
  std::unique_ptr<RuleManager> manager_;
};

TEST(RuleKeyTest, KeysKeepTheStateFilesFormat) {
  // These strings are persisted in alerts.state: changing them would forget alerts on upgrade.
  EXPECT_EQ(SloRuleKey("api-availability"), "slo:api-availability");
  EXPECT_EQ(ThresholdRuleKey("CertificateExpiresSoon"), "alert:CertificateExpiresSoon");
  EXPECT_EQ(kAgentsRuleKey, "nines:agents");
}

TEST_F(RuleManagerTest, FiringAlertsCarryAnEndsAtThatEachResendExtends) {
  RuleSet rules;
  rules.alerts.push_back(Failing("ApiDown"));
  manager_->SetRules(std::move(rules), AtMinute(S));
  Probe(S, S + 1, 0);
  const Timestamp t1 = AtMinute(S + 1);
  RuleEvaluation r1 = manager_->EvaluateOnce(t1);
  EXPECT_TRUE(r1.ok());
  std::vector<alerting::Alert> sent = sink_.Last();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].labels, L({{"alertname", "ApiDown"}, {"probe", "api"}}));
  EXPECT_EQ(sent[0].status, alerting::AlertStatus::kFiring);
  EXPECT_EQ(sent[0].starts_at, t1);
  EXPECT_EQ(sent[0].ends_at, t1 + Duration::Minutes(4));  // 4 x max(1m, 10s)
  EXPECT_EQ(sent[0].generator_url, "/api/v1/alerts");
  EXPECT_EQ(sent[0].annotations.at("summary"), "api is failing");
  EXPECT_EQ(r1.sent, 1u);

  // A resend: the same alert, the same starts_at, a later ends_at.
  const Timestamp t2 = t1 + Duration::Seconds(10);
  EXPECT_TRUE(manager_->EvaluateOnce(t2).ok());
  sent = sink_.Last();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].starts_at, t1);
  EXPECT_EQ(sent[0].ends_at, t2 + Duration::Minutes(4));
  EXPECT_EQ(sent[0].Fingerprint(), alerting::Fingerprint::Of(sent[0].labels));

  // Recovery: resolved once, ends_at = the resolve time; then nothing more is sent.
  Probe(S + 1, S + 2, 1);
  const Timestamp t3 = AtMinute(S + 2);
  EXPECT_TRUE(manager_->EvaluateOnce(t3).ok());
  sent = sink_.Last();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, alerting::AlertStatus::kResolved);
  EXPECT_EQ(sent[0].starts_at, t1);
  EXPECT_EQ(sent[0].ends_at, t3);
  EXPECT_EQ(manager_->EvaluateOnce(t3 + Duration::Seconds(10)).sent, 0u);
  EXPECT_TRUE(sink_.Last().empty());
}

TEST_F(RuleManagerTest, AFailingRuleIsReportedAndTheOthersStillEvaluate) {
  RuleSet rules;
  ThresholdRule broken = Failing("Broken");
  broken.min_count = 0;  // refused by EvaluateThresholdRule
  rules.alerts.push_back(broken);
  rules.alerts.push_back(Failing("ApiDown"));
  manager_->SetRules(std::move(rules), AtMinute(S));
  Probe(S, S + 1, 0);
  RuleEvaluation r = manager_->EvaluateOnce(AtMinute(S + 1));
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rule, "alert:Broken");
  EXPECT_EQ(r.errors[0].status.code(), core::StatusCode::kInvalidArgument);
  std::vector<alerting::Alert> sent = sink_.Last();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].labels.Get("alertname"), "ApiDown");
}

// A Reader that fails every data read while `fail` is set.
class FlakyReader final : public testing::WrappingReader {
 public:
  explicit FlakyReader(store::Reader& r) : WrappingReader(r, /*tracked=*/true) {}
  core::Status OnRead() override {
    return fail ? core::UnavailableError("disk on fire") : core::Status::Ok();
  }
  bool fail = false;
};

TEST_F(RuleManagerTest, AReadErrorNeitherResolvesNorFiresAndIsReportedPerRule) {
  FlakyReader reader(*store_);
  SloEvaluatorOptions eo;
  eo.write_back = false;
  SloEvaluator slos(reader, nullptr, eo);
  RuleManager manager(reader, slos, tracker_, sink_, AtMinute(S));
  RuleSet rules;
  rules.alerts.push_back(Failing("ApiDown"));
  rules.slos.push_back(ProbeRule("api-availability", R"({probe="api"})"));
  manager.SetRules(std::move(rules), AtMinute(S));
  Probe(S, S + 120, 1);
  Probe(S + 120, S + 130, 0);
  RuleEvaluation ok = manager.EvaluateOnce(AtMinute(S + 130, 10));
  EXPECT_TRUE(ok.ok()) << (ok.errors.empty() ? "" : ok.errors[0].status.ToString());
  std::set<std::string> firing;
  for (const alerting::Alert& a : sink_.Last()) {
    firing.insert(std::string(a.labels.Get("alertname")) + "/" +
                  std::string(a.labels.Get("severity")));
    if (a.labels.Get("alertname") == "SloBurnRate") {
      EXPECT_EQ(a.generator_url, "/api/v1/slos/api-availability");
    }
  }
  EXPECT_TRUE(firing.contains("ApiDown/")) << firing.size();
  EXPECT_TRUE(firing.contains("SloBurnRate/page")) << firing.size();

  // The store fails; then the data says all is well. Neither resolves anything until it can be
  // read, and each failed rule is named.
  reader.fail = true;
  RuleEvaluation failed = manager.EvaluateOnce(AtMinute(S + 131, 20));  // a new minute to read
  std::set<std::string> failed_rules;
  std::set<std::pair<RuleKind, std::string>> failed_names;  // what the engine logs by
  for (const RuleError& e : failed.errors) {
    failed_rules.insert(e.rule);
    failed_names.insert({e.kind, e.name});
    EXPECT_EQ(e.status.code(), core::StatusCode::kUnavailable) << e.rule;
  }
  EXPECT_EQ(failed_rules, (std::set<std::string>{"alert:ApiDown", "nines:agents",
                                                 "slo:api-availability"}));
  EXPECT_EQ(failed_names, (std::set<std::pair<RuleKind, std::string>>{
                              {RuleKind::kAlert, "ApiDown"},
                              {RuleKind::kAgents, ""},
                              {RuleKind::kSlo, "api-availability"}}));
  EXPECT_EQ(sink_.Last().size(), firing.size());
  for (const alerting::Alert& a : sink_.Last()) {
    EXPECT_EQ(a.status, alerting::AlertStatus::kFiring) << a.labels.ToString();
  }
}

TEST_F(RuleManagerTest, NinesAgentDownFiresWhateverTheRuleFilesSay) {
  manager_->SetRules(RuleSet{}, AtMinute(S));
  std::vector<std::pair<core::Labels, core::Sample>> beats;
  for (int64_t m = S; m < S + 5; ++m) {
    beats.push_back({L({{"__name__", "nines_agent_heartbeat"}, {"location", "dublin"},
                        {"region", "eu-west-1"}}),
                     {MinuteMs(m), 1}});
  }
  store_.Write(beats);
  EXPECT_TRUE(manager_->EvaluateOnce(AtMinute(S + 5)).ok());
  EXPECT_TRUE(sink_.Last().empty());
  EXPECT_TRUE(manager_->EvaluateOnce(AtMinute(S + 7)).ok());
  std::vector<alerting::Alert> sent = sink_.Last();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].labels.Get("alertname"), "NinesAgentDown");
  EXPECT_EQ(sent[0].labels.Get("location"), "dublin");
}

TEST_F(RuleManagerTest, SetRulesResolvesTheAlertsOfARemovedRuleOnce) {
  RuleSet rules;
  rules.alerts.push_back(Failing("ApiDown"));
  manager_->SetRules(std::move(rules), AtMinute(S));
  Probe(S, S + 1, 0);
  ASSERT_EQ(manager_->EvaluateOnce(AtMinute(S + 1)).sent, 1u);
  manager_->SetRules(RuleSet{}, AtMinute(S + 1, 5));
  std::vector<alerting::Alert> sent;
  EXPECT_TRUE(manager_->EvaluateOnce(AtMinute(S + 1, 10)).ok());
  sent = sink_.Last();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, alerting::AlertStatus::kResolved);
  EXPECT_EQ(sent[0].ends_at, AtMinute(S + 1, 5));
  EXPECT_EQ(manager_->EvaluateOnce(AtMinute(S + 1, 20)).sent, 0u);
  EXPECT_EQ(sink_.batches(), 3u);  // the sink is called every evaluation, empty or not
}

}  // namespace
}  // namespace nines::rules

// NinesAgentDown from the heartbeats agents write into a real store (issue 12: one alert per lost
// agent location, with every region it measured; it resolves when heartbeats return).
#include "rules/heartbeat.h"

#include <gtest/gtest.h>

#include "rules/alerts.h"
#include "tests/rules/test_util.h"

namespace nines::rules {
namespace {

using core::Duration;
using testing::AtMinute;
using testing::kBaseMinute;
using testing::L;
using testing::MinuteMs;
using testing::TestStore;

constexpr int64_t S = kBaseMinute;

class HeartbeatTest : public ::testing::Test {
 protected:
  // Heartbeats every 15 s in [from, to) minutes from `location`, one series per region.
  void Beat(std::string location, std::vector<std::string> regions, int64_t from, int64_t to) {
    std::vector<std::pair<core::Labels, core::Sample>> batch;
    for (int64_t m = from; m < to; ++m) {
      for (int64_t sec : {0, 15, 30, 45}) {
        for (const std::string& region : regions) {
          batch.push_back({L({{"__name__", "nines_agent_heartbeat"}, {"location", location},
                              {"region", region}}),
                           {MinuteMs(m) + sec * 1000, 1}});
        }
      }
    }
    store_.Write(batch);
  }
  std::vector<ActiveCondition> Down(core::Timestamp now, core::Timestamp watching_since) {
    auto hb = ReadAgentHeartbeats(*store_, now, kDownAfter);
    EXPECT_TRUE(hb.ok()) << hb.status().ToString();
    if (!hb.ok()) return {};
    return AgentDownConditions(AgentStatuses(*hb, now, kDownAfter, watching_since), now,
                               kDownAfter);
  }
  static constexpr Duration kDownAfter = Duration::Minutes(2);
  core::FakeClock clock_{AtMinute(S)};
  TestStore store_{clock_};
};

TEST_F(HeartbeatTest, OneAlertPerLostAgentWithEveryRegionItMeasured) {
  Beat("ashburn", {"us-east-1", "eu-west-1"}, S, S + 10);  // last heartbeat 9:45
  Beat("dublin", {"eu-west-1"}, S, S + 30);
  const core::Timestamp since = AtMinute(S);
  EXPECT_TRUE(Down(AtMinute(S + 11, 44), since).empty());  // 1 min 59 s
  std::vector<ActiveCondition> down = Down(AtMinute(S + 11, 45), since);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].labels, L({{"alertname", "NinesAgentDown"}, {"location", "ashburn"},
                               {"regions", "eu-west-1,us-east-1"}, {"severity", "ticket"}}));
  EXPECT_EQ(down[0].value, 120);
  EXPECT_EQ(down[0].annotations.at("last_heartbeat"), AtMinute(S + 9, 45).ToRfc3339());
  EXPECT_NE(down[0].annotations.at("summary").find("ashburn"), std::string::npos);
  // Through the tracker: firing while down, resolved once heartbeats return.
  AlertTracker tracker;
  tracker.Update("nines:agents", Duration::Zero(), Duration::Zero(), down, AtMinute(S + 12));
  ASSERT_EQ(tracker.Alerts().size(), 1u);
  EXPECT_EQ(tracker.Alerts()[0].state, AlertState::kFiring);
  Beat("ashburn", {"us-east-1", "eu-west-1"}, S + 13, S + 14);
  down = Down(AtMinute(S + 14), since);
  EXPECT_TRUE(down.empty());
  tracker.Update("nines:agents", Duration::Zero(), Duration::Zero(), down, AtMinute(S + 14));
  EXPECT_EQ(tracker.Alerts()[0].state, AlertState::kResolved);
  // An agent whose regions changed (a reload) is named by its newest heartbeat's regions.
  Beat("ashburn", {"us-east-1"}, S + 14, S + 15);
  down = Down(AtMinute(S + 20), since);
  ASSERT_EQ(down.size(), 1u);  // dublin still beats
  EXPECT_EQ(down[0].labels.Get("regions"), "us-east-1");
}

// After the engine itself was down, agents get agent_down_after to deliver what they queued
// before any counts as lost.
TEST_F(HeartbeatTest, AgentsAreNotDownBeforeTheEngineWatchedForDownAfter) {
  Beat("dublin", {"eu-west-1"}, S, S + 10);
  EXPECT_TRUE(Down(AtMinute(S + 60), AtMinute(S + 59)).empty());
  EXPECT_EQ(Down(AtMinute(S + 61), AtMinute(S + 59)).size(), 1u);
}

// A week after its last heartbeat an agent is forgotten (its alert resolves); deleting its
// series forgets it at once.
TEST_F(HeartbeatTest, AnAgentIsForgottenAWeekAfterItsLastHeartbeat) {
  Beat("dublin", {"eu-west-1"}, S, S + 1);
  EXPECT_EQ(Down(AtMinute(S + 7 * 1440 - 1), AtMinute(S)).size(), 1u);
  EXPECT_TRUE(Down(AtMinute(S + 7 * 1440 + 1), AtMinute(S)).empty());
}

}  // namespace
}  // namespace nines::rules

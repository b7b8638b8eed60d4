// Escalation policies (alerting/escalation.h) driven by a FakeClock: an acknowledgement in time
// stops it, no acknowledgement walks every step, repeats stop after K, a restart resumes at the
// right step and time, unacknowledge re-arms and resolve closes.
#include "alerting/escalation.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::FakeClock;
using core::Timestamp;
using Kind = EscalationTarget::Kind;

const Timestamp kT0 = *core::ParseTimestamp("2026-03-02T10:00:00Z");

// Hourly shifts: alice until 10:20, then bob until 11:20, ...
Schedule Primary() {
  RotationLayer hourly;
  hourly.name = "hourly";
  hourly.participants = {"alice", "bob"};
  hourly.shift_length = Duration::Hours(1);
  hourly.handoff = kT0 - Duration::Minutes(40);
  return *Schedule::Build({"primary", {hourly}, {}});
}

EscalationPolicy Policy(int repeat) {
  EscalationPolicy p;
  p.name = "sre";
  p.steps = {
      {{{Kind::kSchedule, "primary"}}, Duration::Minutes(10)},
      {{{Kind::kPerson, "manager"}, {Kind::kSchedule, "nobody-here"}}, Duration::Minutes(15)}};
  p.repeat = repeat;
  return p;
}

class EscalationTest : public ::testing::Test {
 protected:
  ScheduleLookup Lookup() {
    return [this](std::string_view name) -> const Schedule* {
      return name == "primary" ? &primary_ : nullptr;
    };
  }
  // Every notice until the escalation has nothing more to do, moving the clock to each deadline.
  std::vector<std::string> RunToTheEnd(Escalation* e) {
    std::vector<std::string> got;
    for (int i = 0; i < 100; ++i) {
      for (const EscalationNotice& n : e->Advance(clock_.Now(), Lookup())) got.push_back(Str(n));
      std::optional<Timestamp> next = e->NextDeadline();
      if (!next) break;
      EXPECT_GT(*next, clock_.Now());
      clock_.Set(*next);
    }
    return got;
  }
  static std::string Str(const EscalationNotice& n) {
    return "+" + (n.due - kT0).ToString() + " step " + std::to_string(n.step + 1) + " pass " +
           std::to_string(n.pass + 1) + " " + n.target.name + " -> " +
           (n.person.empty() ? "(nobody)" : n.person);
  }

  FakeClock clock_{kT0};
  Schedule primary_ = Primary();
};

TEST_F(EscalationTest, AnAcknowledgementInTimeStopsIt) {
  Escalation e = Escalation::Start(Policy(2), clock_.Now());
  std::vector<EscalationNotice> first = e.Advance(clock_.Now(), Lookup());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(Str(first[0]), "+0s step 1 pass 1 primary -> alice");
  clock_.Advance(Duration::Minutes(9) + Duration::Seconds(59));
  EXPECT_TRUE(e.Advance(clock_.Now(), Lookup()).empty());
  EXPECT_EQ(e.NextDeadline(), kT0 + Duration::Minutes(10));
  ASSERT_TRUE(e.Acknowledge("alice", clock_.Now()).ok());
  EXPECT_EQ(e.state().status, Escalation::Status::kAcknowledged);
  EXPECT_EQ(e.state().acknowledged_by, "alice");
  EXPECT_FALSE(e.NextDeadline());
  clock_.Advance(Duration::Hours(5));
  EXPECT_TRUE(e.Advance(clock_.Now(), Lookup()).empty());
}

TEST_F(EscalationTest, NoAcknowledgementWalksEveryStepAndRepeatsStopAfterK) {
  Escalation e = Escalation::Start(Policy(1), clock_.Now());
  EXPECT_EQ(RunToTheEnd(&e), (std::vector<std::string>{
                                 "+0s step 1 pass 1 primary -> alice",
                                 "+10m step 2 pass 1 manager -> manager",
                                 "+10m step 2 pass 1 nobody-here -> (nobody)",
                                 // The schedule is asked at the step's time: bob since 10:20.
                                 "+25m step 1 pass 2 primary -> bob",
                                 "+35m step 2 pass 2 manager -> manager",
                                 "+35m step 2 pass 2 nobody-here -> (nobody)",
                             }));
  EXPECT_EQ(e.state().status, Escalation::Status::kExhausted);
  EXPECT_EQ(e.state().changed_at, kT0 + Duration::Minutes(50));
  EXPECT_EQ(clock_.Now(), kT0 + Duration::Minutes(50));
  // With no repeat, one pass.
  clock_.Set(kT0);
  Escalation once = Escalation::Start(Policy(0), clock_.Now());
  EXPECT_EQ(RunToTheEnd(&once).size(), 3u);
  // A late acknowledgement of an exhausted escalation is still recorded.
  EXPECT_TRUE(once.Acknowledge("bob", clock_.Now()).ok());
}

TEST_F(EscalationTest, ARestartResumesAtTheRightStepAndTime) {
  Escalation e = Escalation::Start(Policy(1), clock_.Now());
  EXPECT_EQ(e.Advance(clock_.Now(), Lookup()).size(), 1u);
  clock_.Advance(Duration::Minutes(10));
  EXPECT_EQ(e.Advance(clock_.Now(), Lookup()).size(), 2u);  // step 2
  const Escalation::State saved = e.state();                // what the caller persists
  // The process stops at +12m and comes back at +12m: nothing is sent twice, the deadline holds.
  clock_.Advance(Duration::Minutes(2));
  Escalation resumed = Escalation::Resume(Policy(1), saved);
  EXPECT_TRUE(resumed.Advance(clock_.Now(), Lookup()).empty());
  EXPECT_EQ(resumed.NextDeadline(), kT0 + Duration::Minutes(25));
  // Or it comes back only at +40m: the steps that came due meanwhile, each with its due time.
  clock_.Set(kT0 + Duration::Minutes(40));
  Escalation late = Escalation::Resume(Policy(1), saved);
  std::vector<std::string> got;
  for (const EscalationNotice& n : late.Advance(clock_.Now(), Lookup())) got.push_back(Str(n));
  EXPECT_EQ(got, (std::vector<std::string>{"+25m step 1 pass 2 primary -> bob",
                                           "+35m step 2 pass 2 manager -> manager",
                                           "+35m step 2 pass 2 nobody-here -> (nobody)"}));
  EXPECT_EQ(late.NextDeadline(), kT0 + Duration::Minutes(50));
}

TEST_F(EscalationTest, UnacknowledgeReArmsTheCurrentStepAndResolveCloses) {
  Escalation e = Escalation::Start(Policy(0), clock_.Now());
  e.Advance(clock_.Now(), Lookup());
  clock_.Advance(Duration::Minutes(11));
  EXPECT_EQ(e.Advance(clock_.Now(), Lookup()).size(), 2u);  // step 2
  EXPECT_EQ(e.Unacknowledge(clock_.Now()).code(), core::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(e.Acknowledge("manager", clock_.Now()).ok());
  clock_.Advance(Duration::Minutes(30));
  EXPECT_TRUE(e.Advance(clock_.Now(), Lookup()).empty());
  ASSERT_TRUE(e.Unacknowledge(clock_.Now()).ok());  // at +41m
  std::vector<EscalationNotice> again = e.Advance(clock_.Now(), Lookup());
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(Str(again[0]), "+41m step 2 pass 1 manager -> manager");
  EXPECT_EQ(e.NextDeadline(), kT0 + Duration::Minutes(56));
  e.Resolve(clock_.Now());
  EXPECT_EQ(e.state().status, Escalation::Status::kResolved);
  EXPECT_FALSE(e.NextDeadline());
  clock_.Advance(Duration::Hours(1));
  EXPECT_TRUE(e.Advance(clock_.Now(), Lookup()).empty());
  EXPECT_EQ(e.Acknowledge("bob", clock_.Now()).code(), core::StatusCode::kFailedPrecondition);
}

TEST(EscalationPolicyTest, ValidationNamesTheProblem) {
  EXPECT_TRUE(ValidateEscalationPolicy(Policy(9)).ok());
  struct Case {
    std::string want;
    std::function<void(EscalationPolicy&)> change;
  };
  std::vector<Case> cases = {
      {"needs a name", [](EscalationPolicy& p) { p.name.clear(); }},
      {"\"sre\": no steps", [](EscalationPolicy& p) { p.steps.clear(); }},
      {"repeat 10 is out of range", [](EscalationPolicy& p) { p.repeat = 10; }},
      {"step 2: no targets", [](EscalationPolicy& p) { p.steps[1].targets.clear(); }},
      {"step 1: a target without a name",
       [](EscalationPolicy& p) { p.steps[0].targets[0].name = ""; }},
      {"step 2: escalate_after 30s is shorter than 1m",
       [](EscalationPolicy& p) { p.steps[1].escalate_after = Duration::Seconds(30); }},
  };
  for (const Case& c : cases) {
    EscalationPolicy p = Policy(0);
    c.change(p);
    core::Status s = ValidateEscalationPolicy(p);
    EXPECT_NE(s.message().find(c.want), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace nines::alerting

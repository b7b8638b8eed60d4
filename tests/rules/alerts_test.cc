#include "rules/alerts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "tests/testutil/testutil.h"

namespace nines::rules {
namespace {

using core::Duration;
using core::Timestamp;

constexpr Timestamp kT0 = core::FakeClock::kDefaultStart;  // 2023-11-14T22:13:20Z

core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return l.ok() ? *l : core::Labels();
}

ActiveCondition Cond(std::string_view labels, double value = 1,
                     std::map<std::string, std::string> annotations = {}) {
  return ActiveCondition{L(labels), std::move(annotations), value};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Keeps every batch of notifications it is sent (what the engine would hand its sink, before
// the RuleManager turns them into alerting::Alerts; see manager_test.cc). Thread-safe.
class RecordingAlertSink final {
 public:
  void Send(const std::vector<Alert>& alerts) {
    std::lock_guard lock(mu_);
    batches_.push_back(alerts);
  }
  std::vector<std::vector<Alert>> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<Alert>> batches_;
};

// One evaluation of one rule as the engine runs it: Update, Finish (persist), then the
// notifications, which go to `sink` when given.
std::vector<Alert> Eval(AlertTracker& t, std::string_view key, Duration for_duration,
                        Duration keep_firing_for, const std::vector<ActiveCondition>& active,
                        Timestamp now, RecordingAlertSink* sink = nullptr) {
  t.Update(key, for_duration, keep_firing_for, active, now);
  core::Status s = t.Finish(now);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<Alert> notes = t.TakeNotifications();
  if (sink != nullptr) sink->Send(notes);
  return notes;
}

// Everything that identifies an alert's state, for comparing runs and files.
std::string Describe(const Alert& a) {
  std::string annotations;
  for (const auto& [k, v] : a.annotations) annotations += k + "=" + v + ";";
  return fmt::format("{} {} since={} fired={} resolved={} last={} value={} [{}]",
                     a.labels.ToString(), AlertStateName(a.state), a.active_since.UnixNanos(),
                     a.fired_at.UnixNanos(), a.resolved_at.UnixNanos(),
                     a.last_active.UnixNanos(), a.value, annotations);
}

std::vector<std::string> DescribeAll(const std::vector<Alert>& alerts) {
  std::vector<std::string> out;
  for (const Alert& a : alerts) out.push_back(Describe(a));
  return out;
}

// The alerts in the state file on disk, in Alerts() order; none when there is no file.
std::vector<std::string> DescribeFile(const std::string& path) {
  if (!Exists(path)) return {};
  auto decoded = DecodeAlertState(ReadFile(path), path);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  if (!decoded.ok()) return {};
  std::vector<Alert> all;
  for (auto& [key, alerts] : *decoded) all.insert(all.end(), alerts.begin(), alerts.end());
  std::sort(all.begin(), all.end(), [](const Alert& a, const Alert& b) {
    return std::tuple(a.labels, static_cast<int>(a.state), a.active_since) <
           std::tuple(b.labels, static_cast<int>(b.state), b.active_since);
  });
  return DescribeAll(all);
}

// ---- the lifecycle, step by step -----------------------------------------------------------

TEST(AlertTrackerTest, LifecycleFollowsForAndKeepFiringFor) {
  constexpr AlertState kGone = AlertState::kInactive;  // not in Alerts() at all
  struct Step {
    int64_t at_s;
    bool active;
    AlertState want;
    std::string_view sent;  // "", "firing" or "resolved"
  };
  struct Case {
    std::string name;
    Duration for_duration, keep_firing_for;
    std::vector<Step> steps;
  };
  using S = AlertState;
  const Case cases[] = {
      {"for 0 fires at once; keep_firing_for 0 resolves at the first clear evaluation",
       Duration::Zero(),
       Duration::Zero(),
       {{0, true, S::kFiring, "firing"},
        {10, true, S::kFiring, "firing"},
        {20, false, S::kResolved, "resolved"},
        {30, false, S::kResolved, ""},
        {919, false, S::kResolved, ""},  // kept 15m for the API
        {920, false, kGone, ""}}},
      {"pending becomes firing once active for at least `for`",
       Duration::Minutes(1),
       Duration::Zero(),
       {{0, true, S::kPending, ""},
        {30, true, S::kPending, ""},
        {59, true, S::kPending, ""},
        {60, true, S::kFiring, "firing"},
        {70, true, S::kFiring, "firing"},
        {80, false, S::kResolved, "resolved"}}},
      {"a pending alert that clears is dropped, never sent, and `for` starts over",
       Duration::Minutes(1),
       Duration::Minutes(5),
       {{0, true, S::kPending, ""},
        {30, true, S::kPending, ""},
        {40, false, kGone, ""},
        {50, true, S::kPending, ""},
        {100, true, S::kPending, ""},
        {110, true, S::kFiring, "firing"}}},
      {"keep_firing_for counts from the last evaluation at which the condition held",
       Duration::Zero(),
       Duration::Minutes(1),
       {{0, true, S::kFiring, "firing"},
        {10, false, S::kFiring, "firing"},
        {59, false, S::kFiring, "firing"},
        {60, false, S::kResolved, "resolved"},
        {70, false, S::kResolved, ""}}},
      {"a flap shorter than keep_firing_for stays one firing alert",
       Duration::Zero(),
       Duration::Minutes(1),
       {{0, true, S::kFiring, "firing"},
        {30, false, S::kFiring, "firing"},
        {60, true, S::kFiring, "firing"},
        {100, false, S::kFiring, "firing"},
        {119, false, S::kFiring, "firing"},
        {120, false, S::kResolved, "resolved"}}},
      {"a resolved alert whose condition holds again starts over as pending",
       Duration::Seconds(30),
       Duration::Zero(),
       {{0, true, S::kPending, ""},
        {30, true, S::kFiring, "firing"},
        {40, false, S::kResolved, "resolved"},
        {50, true, S::kPending, ""},
        {79, true, S::kPending, ""},
        {80, true, S::kFiring, "firing"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AlertTracker t;
    for (const Step& step : c.steps) {
      SCOPED_TRACE(fmt::format("t={}s", step.at_s));
      std::vector<ActiveCondition> active;
      if (step.active) active.push_back(Cond(R"({alertname="Down",region="eu-west-1"})"));
      std::vector<Alert> notes = Eval(t, "alert:Down", c.for_duration, c.keep_firing_for, active,
                                      kT0 + Duration::Seconds(step.at_s));
      std::vector<Alert> all = t.Alerts();
      if (step.want == kGone) {
        EXPECT_TRUE(all.empty());
      } else {
        ASSERT_EQ(all.size(), 1u);
        EXPECT_EQ(AlertStateName(all[0].state), AlertStateName(step.want));
      }
      if (step.sent.empty()) {
        EXPECT_TRUE(notes.empty()) << DescribeAll(notes).front();
      } else {
        ASSERT_EQ(notes.size(), 1u);
        EXPECT_EQ(AlertStateName(notes[0].state), step.sent);
      }
    }
  }
}

TEST(AlertTrackerTest, TimestampsAnnotationsAndValueFollowTheEvaluations) {
  AlertTracker t;
  const Duration kFor = Duration::Minutes(2), kKeep = Duration::Minutes(1);
  const Timestamp t1 = kT0, t2 = kT0 + Duration::Minutes(2), t3 = kT0 + Duration::Seconds(150);
  Eval(t, "r", kFor, kKeep, {Cond(R"({alertname="A"})", 1, {{"summary", "one"}})}, t1);
  Eval(t, "r", kFor, kKeep, {Cond(R"({alertname="A"})", 2, {{"summary", "two"}})}, t2);
  std::vector<Alert> notes = Eval(t, "r", kFor, kKeep, {}, t3);
  ASSERT_EQ(notes.size(), 1u);
  const Alert& a = notes[0];
  EXPECT_EQ(a.state, AlertState::kFiring);  // within keep_firing_for
  EXPECT_EQ(a.active_since, t1);
  EXPECT_EQ(a.fired_at, t2);
  EXPECT_EQ(a.last_active, t2);
  EXPECT_EQ(a.resolved_at, Timestamp());
  EXPECT_EQ(a.value, 2);  // the last evaluation at which it held
  EXPECT_EQ(a.annotations.at("summary"), "two");
  notes = Eval(t, "r", kFor, kKeep, {}, kT0 + Duration::Minutes(3));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].state, AlertState::kResolved);
  EXPECT_EQ(notes[0].resolved_at, kT0 + Duration::Minutes(3));
  EXPECT_EQ(notes[0].fired_at, t2);
}

TEST(AlertTrackerTest, RulesAndLabelSetsAreIndependent) {
  AlertTracker t;
  const Timestamp now = kT0;
  t.Update("alert:Down", Duration::Zero(), Duration::Zero(),
           {Cond(R"({alertname="Down",region="a"})"), Cond(R"({alertname="Down",region="b"})")},
           now);
  t.Update("alert:Slow", Duration::Minutes(5), Duration::Zero(),
           {Cond(R"({alertname="Slow",region="a"})")}, now);
  ASSERT_TRUE(t.Finish(now).ok());
  EXPECT_EQ(t.TakeNotifications().size(), 2u);  // the pending Slow is not sent
  // Region b clears; Slow's rule is not evaluated this time and keeps its alert.
  const Timestamp later = now + Duration::Seconds(10);
  t.Update("alert:Down", Duration::Zero(), Duration::Zero(),
           {Cond(R"({alertname="Down",region="a"})")}, later);
  ASSERT_TRUE(t.Finish(later).ok());
  std::vector<Alert> notes = t.TakeNotifications();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].labels, L(R"({alertname="Down",region="a"})"));
  EXPECT_EQ(notes[0].state, AlertState::kFiring);
  EXPECT_EQ(notes[1].labels, L(R"({alertname="Down",region="b"})"));
  EXPECT_EQ(notes[1].state, AlertState::kResolved);
  std::vector<Alert> all = t.Alerts();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].labels, L(R"({alertname="Slow",region="a"})"));
  EXPECT_EQ(all[2].state, AlertState::kPending);
  // Nothing new resolved: the next notifications are the firing alert only.
  ASSERT_TRUE(t.Finish(later).ok());
  EXPECT_EQ(t.TakeNotifications().size(), 1u);
}

// ---- a week of flapping ---------------------------------------------------------------------

// The condition's shape in every hour (seconds into the hour): a 1-minute blip (pending, then
// dropped), a 10-minute outage, and a 10-minute outage with a 2-minute gap in it (shorter than
// keep_firing_for, so one alert).
bool WeekCondition(int64_t second_of_hour) {
  const int64_t s = second_of_hour;
  return s < 60 || (s >= 600 && s < 1200) || (s >= 1800 && s < 2400) || (s >= 2520 && s < 3000);
}

struct WeekLog {
  std::vector<std::string> notifications;  // every notification, described, with the time
  int64_t firing_notes = 0, resolved_notes = 0, fired = 0, pending_started = 0,
          pending_dropped = 0;
};

// Runs a week of 30-second evaluations. `restart(i)` says whether to restart (a new tracker
// loading the state file) before evaluation i; `crash(i)` whether evaluation i is lost: the
// process dies between Update and Finish, and the new process runs that evaluation again.
WeekLog RunWeek(const std::string& state_file, const std::function<bool(int64_t)>& restart,
                const std::function<bool(int64_t)>& crash) {
  AlertTrackerOptions options;
  options.state_file = state_file;
  options.sync = false;  // a week of fsyncs would take minutes; atomicity comes from rename
  auto tracker = std::make_unique<AlertTracker>(options);
  EXPECT_TRUE(tracker->Load().ok());
  const Duration kFor = Duration::Minutes(2), kKeep = Duration::Minutes(5);
  const Duration kStep = Duration::Seconds(30);
  const int64_t evals = Duration::Weeks(1) / kStep;
  core::FakeClock clock(kT0);
  WeekLog log;
  Alert previous;  // the alert as Alerts() showed it after the previous evaluation
  bool had_previous = false;
  for (int64_t i = 0; i < evals; ++i, clock.Advance(kStep)) {
    const Timestamp now = clock.Now();
    const int64_t s = (now - kT0).seconds() % 3600;
    std::vector<ActiveCondition> active;
    if (WeekCondition(s)) {
      active.push_back(Cond(R"({alertname="Flappy",region="eu-west-1"})", s,
                            {{"summary", fmt::format("second {}", s)}}));
    }
    if (crash && crash(i)) {
      tracker->Update("alert:Flappy", kFor, kKeep, active, now);
      tracker.reset();  // kill -9: nothing after Update happened
      tracker = std::make_unique<AlertTracker>(options);
      EXPECT_TRUE(tracker->Load().ok());
    } else if (restart && restart(i)) {
      tracker = std::make_unique<AlertTracker>(options);
      EXPECT_TRUE(tracker->Load().ok());
    }
    for (const Alert& a : Eval(*tracker, "alert:Flappy", kFor, kKeep, active, now)) {
      log.notifications.push_back(fmt::format("{} {}", (now - kT0).seconds(), Describe(a)));
      if (a.state == AlertState::kFiring) ++log.firing_notes;
      if (a.state == AlertState::kResolved) ++log.resolved_notes;
      EXPECT_NE(a.state, AlertState::kPending);
    }
    std::vector<Alert> all = tracker->Alerts();
    EXPECT_LE(all.size(), 1u);
    if (all.empty()) {
      if (had_previous && previous.state == AlertState::kPending) ++log.pending_dropped;
      had_previous = false;
      continue;
    }
    const Alert& a = all[0];
    const bool new_alert = !had_previous || previous.active_since != a.active_since;
    if (new_alert && a.state == AlertState::kPending) ++log.pending_started;
    if (a.state == AlertState::kFiring &&
        (new_alert || previous.state != AlertState::kFiring)) {
      ++log.fired;
      // Fires exactly `for` after the outage began: minute 12 or 32 of the hour.
      EXPECT_TRUE(s == 720 || s == 1920) << "fired at second " << s;
      EXPECT_EQ(a.fired_at, now);
    }
    previous = a;
    had_previous = true;
  }
  return log;
}

TEST(AlertTrackerTest, AWeekOfFlappingCountsEveryTransitionExactly) {
  WeekLog log = RunWeek("", nullptr, nullptr);
  constexpr int64_t kHours = 7 * 24;
  // Per hour: 3 pending starts (the blip and two outages), the blip dropped, 2 alerts fired
  // and resolved, firing notifications from minute 12:00 to 24:00 (25 evaluations; it resolves
  // at 24:30, 5 minutes after the last active evaluation at 19:30) and 32:00 to 54:00 (45).
  EXPECT_EQ(log.pending_started, 3 * kHours);
  EXPECT_EQ(log.pending_dropped, 1 * kHours);
  EXPECT_EQ(log.fired, 2 * kHours);
  EXPECT_EQ(log.resolved_notes, 2 * kHours);
  EXPECT_EQ(log.firing_notes, 70 * kHours);
}

TEST(AlertTrackerTest, AWeekWithRestartsAndCrashesSendsExactlyWhatAnUninterruptedWeekSends) {
  const WeekLog reference = RunWeek("", nullptr, nullptr);
  testutil::TempDir dir;
  // 157 and 173 are 37 and 53 mod the 120 evaluations of an hour (both prime to 120), so over
  // the week the 128 restarts land in every one of the hour's 120 phases and the 116 crashes in
  // as many distinct ones: pending, firing, keeping firing, just resolved, resolved and kept.
  WeekLog log = RunWeek(
      dir.File("alerts.state"), [](int64_t i) { return i % 157 == 17; },
      [](int64_t i) { return i % 173 == 5; });
  EXPECT_EQ(log.fired, reference.fired);
  EXPECT_EQ(log.resolved_notes, reference.resolved_notes);
  EXPECT_EQ(log.firing_notes, reference.firing_notes);
  EXPECT_EQ(log.pending_started, reference.pending_started);
  ASSERT_EQ(log.notifications.size(), reference.notifications.size());
  for (size_t i = 0; i < log.notifications.size(); ++i) {
    ASSERT_EQ(log.notifications[i], reference.notifications[i]) << "notification " << i;
  }
}

// ---- restarts --------------------------------------------------------------------------------

TEST(AlertTrackerTest, RestartKeepsFiringPendingAndResolvedAlertsAsTheyWere) {
  testutil::TempDir dir;
  AlertTrackerOptions options;
  options.state_file = dir.File("alerts.state");
  const Duration kZero = Duration::Zero();
  const auto A = [] { return Cond(R"({alertname="A"})", 1, {{"summary", "a\tb\nc\\d"}}); };
  const auto B = [] { return Cond(R"({alertname="B"})", 0.1); };
  const auto C = [] { return Cond(R"({alertname="C"})"); };
  const auto D = [] { return Cond(R"({alertname="D"})", -std::numeric_limits<double>::infinity()); };
  auto run = [&](AlertTracker& t, bool a, bool b, bool c, bool d, Timestamp now) {
    auto only = [](bool on, ActiveCondition cond) {
      return on ? std::vector<ActiveCondition>{std::move(cond)} : std::vector<ActiveCondition>{};
    };
    t.Update("alert:A", kZero, Duration::Minutes(2), only(a, A()), now);
    t.Update("alert:B", Duration::Minutes(10), kZero, only(b, B()), now);
    t.Update("alert:C", kZero, kZero, only(c, C()), now);
    t.Update("alert:D", kZero, Duration::Minutes(2), only(d, D()), now);
    EXPECT_TRUE(t.Finish(now).ok());
    return t.TakeNotifications();
  };
  std::vector<std::string> before;
  {
    AlertTracker t(options);
    ASSERT_TRUE(t.Load().ok());
    run(t, true, true, true, true, kT0);
    std::vector<Alert> notes = run(t, true, true, false, true, kT0 + Duration::Minutes(1));
    ASSERT_EQ(notes.size(), 3u);  // A, D firing; C resolved
    EXPECT_EQ(notes[1].labels, L(R"({alertname="C"})"));
    EXPECT_EQ(notes[1].state, AlertState::kResolved);
    before = DescribeAll(t.Alerts());
    // What is on disk is exactly what the tracker holds.
    EXPECT_EQ(DescribeFile(options.state_file), before);
  }  // the process dies; it is down for 5 minutes
  AlertTracker t(options);
  ASSERT_TRUE(t.Load().ok());
  EXPECT_EQ(DescribeAll(t.Alerts()), before);
  EXPECT_TRUE(t.TakeNotifications().size() == 2) << "only A and D, firing; C is not re-sent";

  // First evaluation after the restart: A's condition is gone (its keep_firing_for ran out
  // while nines was down), B and D still hold.
  const Timestamp t6 = kT0 + Duration::Minutes(6);
  std::vector<Alert> notes = run(t, false, true, false, true, t6);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].labels, L(R"({alertname="A"})"));
  EXPECT_EQ(notes[0].state, AlertState::kResolved);
  EXPECT_EQ(notes[0].fired_at, kT0);  // not re-pended: it kept its fired_at
  EXPECT_EQ(notes[0].annotations.at("summary"), "a\tb\nc\\d");
  EXPECT_EQ(notes[1].labels, L(R"({alertname="D"})"));
  EXPECT_EQ(notes[1].state, AlertState::kFiring);  // still active: not resolved
  EXPECT_EQ(notes[1].fired_at, kT0);
  EXPECT_EQ(notes[1].value, -std::numeric_limits<double>::infinity());
  // B's `for` was not restarted: it fires 10 minutes after it began, before the restart.
  notes = run(t, false, true, false, true, kT0 + Duration::Seconds(9 * 60 + 59));
  EXPECT_EQ(notes.size(), 1u);  // D only
  notes = run(t, false, true, false, true, kT0 + Duration::Minutes(10));
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].labels, L(R"({alertname="B"})"));
  EXPECT_EQ(notes[0].state, AlertState::kFiring);
  EXPECT_EQ(notes[0].active_since, kT0);
  EXPECT_EQ(notes[0].value, 0.1);
  EXPECT_EQ(DescribeFile(options.state_file), DescribeAll(t.Alerts()));
}

TEST(AlertTrackerTest, TheFileOnDiskIsTheStateAfterEveryEvaluation) {
  testutil::TempDir dir;
  AlertTrackerOptions options;
  options.state_file = dir.File("alerts.state");
  options.resolved_retention = Duration::Minutes(3);
  AlertTracker t(options);
  ASSERT_TRUE(t.Load().ok());
  for (int i = 0; i < 40; ++i) {
    SCOPED_TRACE(i);
    const Timestamp now = kT0 + Duration::Seconds(15 * i);
    std::vector<ActiveCondition> active;
    for (int r = 0; r < 4; ++r) {
      // Region r is down in evaluations where bit r of i/3 is set.
      if ((i / 3) >> r & 1) {
        active.push_back(Cond(fmt::format(R"({{alertname="Down",region="r{}"}})", r), i));
      }
    }
    Eval(t, "alert:Down", Duration::Seconds(30), Duration::Seconds(15), active, now);
    EXPECT_EQ(DescribeFile(options.state_file), DescribeAll(t.Alerts()));
    EXPECT_FALSE(Exists(options.state_file + ".tmp"));
  }
}

TEST(AlertTrackerTest, AnUnchangedStateIsNotRewritten) {
  testutil::TempDir dir;
  AlertTrackerOptions options;
  options.state_file = dir.File("alerts.state");
  AlertTracker t(options);
  ASSERT_TRUE(t.Load().ok());
  ASSERT_TRUE(t.Finish(kT0).ok());
  EXPECT_FALSE(Exists(options.state_file)) << "nothing changed, nothing written";
  Eval(t, "r", Duration::Zero(), Duration::Zero(), {Cond(R"({alertname="A"})")}, kT0);
  ASSERT_TRUE(Exists(options.state_file));
  ASSERT_EQ(::unlink(options.state_file.c_str()), 0);
  ASSERT_TRUE(t.Finish(kT0).ok());
  EXPECT_FALSE(Exists(options.state_file));
}

TEST(AlertTrackerTest, AFailedWriteIsRetriedByTheNextFinish) {
  testutil::TempDir dir;
  AlertTrackerOptions options;
  options.state_file = dir.File("missing/alerts.state");
  AlertTracker t(options);
  ASSERT_TRUE(t.Load().ok());
  t.Update("r", Duration::Zero(), Duration::Zero(), {Cond(R"({alertname="A"})")}, kT0);
  core::Status s = t.Finish(kT0);
  EXPECT_EQ(s.code(), core::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("missing/alerts.state"), std::string::npos) << s.message();
  EXPECT_EQ(t.Alerts().size(), 1u);  // memory is unaffected
  ASSERT_EQ(::mkdir(dir.File("missing").c_str(), 0755), 0);
  ASSERT_TRUE(t.Finish(kT0).ok());
  EXPECT_EQ(DescribeFile(options.state_file), DescribeAll(t.Alerts()));
}

// ---- corrupt files ---------------------------------------------------------------------------

std::string ValidStateFile(const std::string& path) {
  AlertTrackerOptions options;
  options.state_file = path;
  AlertTracker t(options);
  EXPECT_TRUE(t.Load().ok());
  Eval(t, "alert:A", Duration::Zero(), Duration::Zero(),
       {Cond(R"({alertname="A",region="x"})", 3, {{"summary", "s"}})}, kT0);
  Eval(t, "alert:B", Duration::Minutes(1), Duration::Zero(), {Cond(R"({alertname="B"})")}, kT0);
  return ReadFile(path);
}

TEST(AlertStateFileTest, EveryTruncationIsAClearError) {
  testutil::TempDir dir;
  const std::string data = ValidStateFile(dir.File("alerts.state"));
  ASSERT_TRUE(DecodeAlertState(data, "f").ok());
  ASSERT_GT(data.size(), 50u);
  for (size_t n = 0; n < data.size(); ++n) {
    SCOPED_TRACE(fmt::format("first {} bytes", n));
    auto r = DecodeAlertState(data.substr(0, n), "alerts.state");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), core::StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("alerts.state"), std::string::npos);
  }
}

// `body` (header and alert lines) with a correct end record, as a buggy or hostile writer
// would produce it: only the parser stands between it and the tracker.
std::string Sealed(const std::string& body, int count) {
  return body + fmt::format("end\t{}\t{:016x}\n", count, core::Hash64(body));
}

TEST(AlertStateFileTest, BadFilesAreRefusedWithTheirReason) {
  testutil::TempDir dir;
  const std::string good = ValidStateFile(dir.File("alerts.state"));
  std::string flipped = good;
  flipped[good.find("region") + 1] ^= 0x20;  // "rEgion": still parses, fails the checksum
  std::string future = good;
  future.replace(0, good.find('\n'), "nines-alerts\t2");
  struct Case {
    std::string name, data;
    core::StatusCode code;
    std::string_view message;
  };
  const Case cases[] = {
      {"bit flip", flipped, core::StatusCode::kDataLoss, "checksum"},
      {"future version", future, core::StatusCode::kFailedPrecondition,
       "version 2 is newer than this build's 1"},
      {"not ours", "hello\nworld\n", core::StatusCode::kDataLoss, "not a nines alert state"},
      {"empty", "", core::StatusCode::kDataLoss, "empty"},
      {"label count beyond the line",
       Sealed("nines-alerts\t1\nalert\tr\tfiring\t0\t0\t0\t0\t0\t18446744073709551615\t0\n", 1),
       core::StatusCode::kDataLoss, "alerts.state:2: bad label count"},
      {"unknown state",
       Sealed("nines-alerts\t1\nalert\tr\tinactive\t0\t0\t0\t0\t0\t0\t0\n", 1),
       core::StatusCode::kDataLoss, "alerts.state:2: bad state"},
      {"invalid label name",
       Sealed("nines-alerts\t1\nalert\tr\tfiring\t0\t0\t0\t0\t0\t1\ta-b\tc\t0\n", 1),
       core::StatusCode::kDataLoss, "alerts.state:2:"},
      {"count mismatch",
       Sealed("nines-alerts\t1\nalert\tr\tfiring\t0\t0\t0\t0\t0\t1\talertname\tA\t0\n", 2),
       core::StatusCode::kDataLoss, "counts 2 alerts, the file has 1"},
      {"no end record", good.substr(0, good.rfind("end\t")), core::StatusCode::kDataLoss,
       "no end record"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = DecodeAlertState(c.data, "alerts.state");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
}

TEST(AlertStateFileTest, ABadFileIsSetAsideAndTheTrackerStartsEmpty) {
  testutil::TempDir dir;
  const std::string path = dir.File("alerts.state");
  const std::string good = ValidStateFile(path);
  const std::string truncated = good.substr(0, good.size() / 2);
  dir.Write("alerts.state", truncated);
  AlertTrackerOptions options;
  options.state_file = path;
  AlertTracker t(options);
  core::Status s = t.Load();
  EXPECT_EQ(s.code(), core::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(".corrupt"), std::string::npos) << s.message();
  EXPECT_TRUE(t.Alerts().empty());
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(ReadFile(path + ".corrupt"), truncated);
  // It carries on: the next evaluation writes a fresh, loadable state.
  Eval(t, "r", Duration::Zero(), Duration::Zero(), {Cond(R"({alertname="New"})")}, kT0);
  AlertTracker again(options);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_EQ(again.Alerts().size(), 1u);
  EXPECT_EQ(again.Alerts()[0].labels, L(R"({alertname="New"})"));

  // A file from a newer nines is set aside the same way, with its own code.
  std::string future = good;
  future.replace(0, good.find('\n'), "nines-alerts\t9");
  dir.Write("alerts.state", future);
  AlertTracker newer(options);
  EXPECT_EQ(newer.Load().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(path + ".corrupt"), future);
  EXPECT_TRUE(newer.Alerts().empty());
}

TEST(AlertStateFileTest, AMissingFileIsAFirstStartAndALeftoverTempFileIsIgnored) {
  testutil::TempDir dir;
  const std::string path = dir.File("alerts.state");
  AlertTrackerOptions options;
  options.state_file = path;
  {
    AlertTracker t(options);
    EXPECT_TRUE(t.Load().ok());
    EXPECT_TRUE(t.Alerts().empty());
  }
  ValidStateFile(path);
  // A crash in the middle of a write leaves a partial temp file; the state is the old one.
  dir.Write("alerts.state.tmp", "nines-alerts\t1\nalert\tpartial");
  AlertTracker t(options);
  ASSERT_TRUE(t.Load().ok());
  EXPECT_EQ(t.Alerts().size(), 2u);
}

// ---- reload ----------------------------------------------------------------------------------

TEST(AlertTrackerTest, ARuleRemovedOnReloadResolvesItsFiringAlertsOnce) {
  AlertTrackerOptions options;
  options.resolved_retention = Duration::Minutes(15);
  AlertTracker t(options);
  const Timestamp now = kT0;
  t.Update("alert:Gone", Duration::Zero(), Duration::Hours(1),
           {Cond(R"({alertname="Gone",region="a"})")}, now);
  t.Update("alert:GonePending", Duration::Hours(1), Duration::Zero(),
           {Cond(R"({alertname="GonePending"})")}, now);
  t.Update("alert:Kept", Duration::Zero(), Duration::Zero(), {Cond(R"({alertname="Kept"})")}, now);
  ASSERT_TRUE(t.Finish(now).ok());
  ASSERT_EQ(t.TakeNotifications().size(), 2u);

  const Timestamp reload = now + Duration::Minutes(1);
  t.RetainRules({"alert:Kept"}, reload);
  ASSERT_TRUE(t.Finish(reload).ok());
  std::vector<Alert> notes = t.TakeNotifications();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].labels, L(R"({alertname="Gone",region="a"})"));
  EXPECT_EQ(notes[0].state, AlertState::kResolved);  // despite its hour of keep_firing_for
  EXPECT_EQ(notes[0].resolved_at, reload);
  EXPECT_EQ(notes[1].labels, L(R"({alertname="Kept"})"));
  EXPECT_EQ(notes[1].state, AlertState::kFiring);
  std::vector<Alert> all = t.Alerts();
  ASSERT_EQ(all.size(), 2u) << "the pending alert is dropped, the resolved one kept";
  EXPECT_EQ(all[0].state, AlertState::kResolved);
  // Retaining again sends nothing new, and the resolved alert is forgotten after retention.
  t.RetainRules({"alert:Kept"}, reload + Duration::Minutes(1));
  ASSERT_TRUE(t.Finish(reload + Duration::Minutes(1)).ok());
  EXPECT_EQ(t.TakeNotifications().size(), 1u);
  ASSERT_TRUE(t.Finish(reload + Duration::Minutes(15)).ok());
  ASSERT_EQ(t.Alerts().size(), 1u);
  EXPECT_EQ(t.Alerts()[0].labels, L(R"({alertname="Kept"})"));
}

// Issue 12: silence is not recovery. An undecidable condition keeps a firing alert firing,
// marked, across a restart, until data decides again or no_data_resolve_after passes; it starts
// nothing and keeps a pending alert pending.
TEST(AlertTrackerTest, AnAlertWhoseDataStoppedStaysActiveMarkedNoData) {
  testutil::TempDir dir;
  AlertTrackerOptions options;
  options.state_file = dir.File("alerts.state");
  options.no_data_resolve_after = Duration::Hours(1);
  options.sync = false;
  auto undecided = [](std::string_view labels) {
    ActiveCondition c = Cond(labels);
    c.no_data = true;
    return c;
  };
  const std::string down = R"({alertname="Down"})";
  const std::string slow = R"({alertname="Slow"})";
  auto t = std::make_unique<AlertTracker>(options);
  Eval(*t, "alert:Down", Duration::Zero(), Duration::Minutes(1), {Cond(down, 1, {{"summary", "s"}})},
       kT0);
  Eval(*t, "alert:Slow", Duration::Minutes(5), Duration::Zero(), {Cond(slow)}, kT0);
  // Data stops: both stay as they were, marked.
  Eval(*t, "alert:Down", Duration::Zero(), Duration::Minutes(1), {undecided(down)},
       kT0 + Duration::Minutes(5));
  Eval(*t, "alert:Slow", Duration::Minutes(5), Duration::Zero(), {undecided(slow)},
       kT0 + Duration::Minutes(10));
  // Nothing new starts from an undecidable condition.
  Eval(*t, "alert:Other", Duration::Zero(), Duration::Zero(), {undecided(R"({alertname="Other"})")},
       kT0 + Duration::Minutes(10));
  // A restart keeps the marks.
  t = std::make_unique<AlertTracker>(options);
  ASSERT_TRUE(t->Load().ok());
  std::vector<Alert> all = t->Alerts();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state, AlertState::kFiring);
  EXPECT_EQ(all[0].annotations.at("no_data"), "true");
  EXPECT_EQ(all[0].annotations.at("no_data_since"), kT0.ToRfc3339());
  EXPECT_EQ(all[0].annotations.at("summary"), "s");
  EXPECT_EQ(all[1].state, AlertState::kPending);  // not fired without evidence
  EXPECT_EQ(all[1].annotations.at("no_data"), "true");
  // Data returns for Down and says it still holds: the marks go.
  Eval(*t, "alert:Down", Duration::Zero(), Duration::Minutes(1), {Cond(down, 1, {{"summary", "s"}})},
       kT0 + Duration::Minutes(20));
  all = t->Alerts();
  EXPECT_EQ(all[0].state, AlertState::kFiring);
  EXPECT_FALSE(all[0].annotations.contains("no_data"));
  // Data returns for Slow and clears it: back to inactive at once.
  Eval(*t, "alert:Slow", Duration::Minutes(5), Duration::Zero(), {}, kT0 + Duration::Minutes(20));
  ASSERT_EQ(t->Alerts().size(), 1u);
  // No data again for Down, this time beyond no_data_resolve_after: resolved, once, saying why.
  std::vector<Alert> sent;
  for (int m = 21; m <= 81; ++m) {
    for (const Alert& a : Eval(*t, "alert:Down", Duration::Zero(), Duration::Minutes(1),
                               {undecided(down)}, kT0 + Duration::Minutes(m))) {
      if (a.state == AlertState::kResolved) sent.push_back(a);
    }
  }
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].resolved_at, kT0 + Duration::Minutes(80));  // an hour after 20
  EXPECT_EQ(sent[0].annotations.at("resolved_by"), "no_data_timeout");
}

TEST(AlertTrackerTest, ReadersSeeConsistentStateWhileTheLoopUpdates) {
  AlertTracker t;
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      for (const Alert& a : t.Alerts()) EXPECT_NE(a.state, AlertState::kInactive);
      reads.fetch_add(1);
    }
  });
  for (int i = 0; i < 2000; ++i) {
    std::vector<ActiveCondition> active;
    for (int r = 0; r < 10; ++r) {
      if ((i + r) % 7 < 4) {
        active.push_back(Cond(fmt::format(R"({{alertname="X",r="{}"}})", r)));
      }
    }
    Eval(t, "x", Duration::Seconds(20), Duration::Seconds(10), active,
         kT0 + Duration::Seconds(10 * i));
  }
  done.store(true);
  reader.join();
  EXPECT_GT(reads.load(), 0);
}

// (LogAlertSink's test is in tests/alerting; the tracker-to-sink path in manager_test.cc.)

TEST(RecordingAlertSinkTest, TheEngineSendsFiringEveryEvaluationAndResolvedOnce) {
  RecordingAlertSink sink;
  AlertTracker t;
  for (int i = 0; i < 6; ++i) {
    std::vector<ActiveCondition> active;
    if (i < 3) active.push_back(Cond(R"({alertname="A"})"));
    Eval(t, "r", Duration::Zero(), Duration::Zero(), active, kT0 + Duration::Seconds(10 * i),
         &sink);
  }
  auto batches = sink.batches();
  ASSERT_EQ(batches.size(), 6u);
  const size_t want_sizes[] = {1, 1, 1, 1, 0, 0};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(batches[i].size(), want_sizes[i]) << i;
  EXPECT_EQ(batches[3][0].state, AlertState::kResolved);
}

}  // namespace
}  // namespace nines::rules

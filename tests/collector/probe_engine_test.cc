// The probe engine's schedule, concurrency cap and skips, driven by a FakeClock and fake probes:
// an hour of scheduling runs in milliseconds.
#include "collector/probe_engine.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "tests/testutil/testutil.h"

namespace nines::collector {
namespace {

using core::Duration;
using core::Timestamp;

CheckSpec Check(const std::string& name, Duration interval = Duration::Seconds(15)) {
  CheckSpec c;
  c.name = name;
  c.target = "fake://" + name;
  c.interval = interval;
  c.timeout = Duration::Seconds(1);
  return c;
}

TEST(ScheduleTest, OffsetIsStableAndInsideTheInterval) {
  for (const char* name : {"a", "api-eu", "dns-us", "some-much-longer-check-name"}) {
    Duration off = ScheduleOffset(name, Duration::Seconds(15));
    EXPECT_GE(off, Duration::Zero()) << name;
    EXPECT_LT(off, Duration::Seconds(15)) << name;
    EXPECT_EQ(off, ScheduleOffset(name, Duration::Seconds(15))) << name;
  }
  // Different names spread out.
  std::set<int64_t> offsets;
  for (int i = 0; i < 100; ++i) {
    offsets.insert(ScheduleOffset("check-" + std::to_string(i), Duration::Seconds(15)).millis());
  }
  EXPECT_GT(offsets.size(), 90u);
}

TEST(ScheduleTest, NextDueIsTheFirstGridPointStrictlyAfter) {
  const Duration step = Duration::Seconds(15);
  const Duration off = Duration::Milliseconds(4200);
  for (int64_t ms : std::vector<int64_t>{0, 4199, 4200, 4201, 19200, 1'700'000'000'123, -5}) {
    Timestamp after = Timestamp::FromUnixMillis(ms);
    Timestamp due = NextDue(after, step, off);
    SCOPED_TRACE(ms);
    EXPECT_GT(due, after);
    EXPECT_LE(due - after, step);
    EXPECT_EQ(((due.UnixNanos() - off.nanos()) % step.nanos() + step.nanos()) % step.nanos(), 0);
  }
}

// One scheduler step, then waits for the probes it started: the fake probes finish on the
// engine's io thread, and the test must not run ahead of them (that would be an overlap skip).
void Step(ProbeEngine& engine, Timestamp now) {
  engine.RunDue(now);
  ASSERT_TRUE(engine.WaitIdle(Duration::Seconds(30)));
}

// Records what the sink received.
struct Recorder {
  std::mutex mu;
  std::condition_variable received;  // a result arrived
  std::map<std::string, std::vector<Timestamp>> dues;  // guarded by mu
  void operator()(const CheckSpec& c, const ProbeResult&, Timestamp due) {
    {
      std::lock_guard<std::mutex> lock(mu);
      dues[c.name].push_back(due);
    }
    received.notify_all();
  }
  // Waits (bounded) until check `name` has reported at least `n` results.
  bool WaitForResults(const std::string& name, size_t n,
                      Duration timeout = Duration::Seconds(10)) {
    std::unique_lock<std::mutex> lock(mu);
    return received.wait_for(lock, timeout.ToChrono(), [&] { return dues[name].size() >= n; });
  }
};

TEST(ProbeEngineTest, RunsEveryCheckOnItsGridForAnHourWithoutDrift) {
  core::FakeClock clock;
  Recorder rec;
  ProbeEngineOptions options;
  options.probe_function = [](std::shared_ptr<const CheckSpec>, std::function<void(ProbeResult)> done) {
    ProbeResult r;
    r.success = true;
    done(r);
  };
  ProbeEngine engine(options, clock, [&](auto& c, auto& r, auto due) { rec(c, r, due); });
  engine.SetChecks({Check("a"), Check("b"), Check("c", Duration::Seconds(60))});
  engine.Start(/*schedule=*/false);
  const Timestamp start = clock.Now();
  // Step the clock by an awkward 700 ms so that due times never coincide with steps.
  while (clock.Now() < start + Duration::Hours(1)) {
    clock.Advance(Duration::Milliseconds(700));
    Step(engine, clock.Now());
  }
  ASSERT_TRUE(engine.WaitIdle(Duration::Seconds(30)));
  for (const auto& [name, interval] : std::map<std::string, Duration>{
           {"a", Duration::Seconds(15)}, {"b", Duration::Seconds(15)}, {"c", Duration::Seconds(60)}}) {
    SCOPED_TRACE(name);
    const std::vector<Timestamp>& d = rec.dues[name];
    ASSERT_EQ(static_cast<int64_t>(d.size()), Duration::Hours(1) / interval);
    const Duration off = ScheduleOffset(name, interval);
    for (size_t i = 0; i < d.size(); ++i) {
      // Every due time is on the check's grid, one interval after the previous.
      EXPECT_EQ(d[i], NextDue(d[i] - Duration::Nanoseconds(1), interval, off));
      if (i > 0) {
        EXPECT_EQ(d[i] - d[i - 1], interval);
      }
    }
  }
  auto statuses = engine.Statuses();
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0].check->name, "a");
  EXPECT_EQ(statuses[0].runs, 240u);
  EXPECT_EQ(statuses[0].failures, 0u);
  EXPECT_EQ(statuses[0].skipped, 0u);
}

// Fake probes that finish only when the test says so.
class HeldProbes {
 public:
  ProbeFunction Function() {
    return [this](std::shared_ptr<const CheckSpec> c, std::function<void(ProbeResult)> done) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        held_.push_back({c->name, std::move(done)});
        max_held_ = std::max(max_held_, held_.size());
      }
      changed_.notify_all();
    };
  }
  size_t held() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }
  // Waits (bounded) until exactly `n` probes are held; returns whether they were.
  bool WaitForHeld(size_t n, Duration timeout = Duration::Seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout.ToChrono(), [&] { return held_.size() == n; });
  }
  size_t max_held() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_held_;
  }
  // Finishes the oldest held probe with `reason` (success when empty); returns its check name.
  std::string FinishOldest(const std::string& reason = "") {
    std::pair<std::string, std::function<void(ProbeResult)>> p;
    {
      std::lock_guard<std::mutex> lock(mu_);
      p = std::move(held_.front());
      held_.erase(held_.begin());
    }
    changed_.notify_all();
    ProbeResult r;
    r.success = reason.empty();
    r.reason = reason;
    p.second(r);
    return p.first;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;  // held_ changed
  std::vector<std::pair<std::string, std::function<void(ProbeResult)>>> held_;  // guarded by mu_
  size_t max_held_ = 0;                                                         // guarded by mu_
};

TEST(ProbeEngineTest, ConcurrencyCapQueuesInOrderAndSkipsStaleWaiters) {
  core::FakeClock clock;
  HeldProbes probes;
  prometheus::Registry registry;
  ProbeEngineOptions options;
  options.max_concurrency = 2;
  options.probe_function = probes.Function();
  options.registry = &registry;
  Recorder rec;
  ProbeEngine engine(options, clock, [&](auto& c, auto& r, auto due) { rec(c, r, due); });
  std::vector<CheckSpec> checks;
  for (int i = 0; i < 5; ++i) checks.push_back(Check("c" + std::to_string(i)));
  engine.SetChecks(checks);
  engine.Start(false);
  clock.Advance(Duration::Seconds(15));  // every check is due once
  engine.RunDue(clock.Now());
  ASSERT_TRUE(probes.WaitForHeld(2));
  // Finishing one frees a slot for the longest waiter.
  probes.FinishOldest();
  ASSERT_TRUE(probes.WaitForHeld(2));
  probes.FinishOldest();
  ASSERT_TRUE(probes.WaitForHeld(2));
  // The last waiter's next due time passes while it waits: it is skipped, not run late.
  clock.Advance(Duration::Seconds(15));
  probes.FinishOldest();
  probes.FinishOldest();
  ASSERT_TRUE(probes.WaitForHeld(0));
  EXPECT_EQ(probes.max_held(), 2u);
  EXPECT_EQ(testutil::MetricValue(registry, "nines_probe_skipped_total", {{"reason", "concurrency"}}),
            1);
  EXPECT_EQ(testutil::MetricValue(registry, "nines_probes_total", {{"result", "success"}}), 4);
  ASSERT_TRUE(engine.WaitIdle(Duration::Seconds(30)));
}

TEST(ProbeEngineTest, ACheckStillRunningAtItsNextDueTimeIsSkipped) {
  core::FakeClock clock;
  HeldProbes probes;
  ProbeEngineOptions options;
  options.probe_function = probes.Function();
  Recorder rec;
  ProbeEngine engine(options, clock, [&](auto& c, auto& r, auto due) { rec(c, r, due); });
  engine.SetChecks({Check("slow")});
  engine.Start(false);
  clock.Advance(Duration::Seconds(15));
  engine.RunDue(clock.Now());
  ASSERT_TRUE(probes.WaitForHeld(1));
  clock.Advance(Duration::Seconds(15));
  engine.RunDue(clock.Now());  // still running: skipped
  EXPECT_EQ(probes.FinishOldest("timeout after 1s while connecting"), "slow");
  ASSERT_TRUE(engine.WaitIdle(Duration::Seconds(30)));
  auto s = engine.Statuses();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].runs, 1u);
  EXPECT_EQ(s[0].skipped, 1u);
  EXPECT_EQ(s[0].failures, 1u);
  EXPECT_EQ(s[0].last.reason, "timeout after 1s while connecting");
  EXPECT_FALSE(s[0].last.success);
  EXPECT_EQ(probes.held(), 0u);
}

TEST(ProbeEngineTest, SetChecksKeepsTheScheduleOfUnchangedChecksAndDropsRemovedOnes) {
  core::FakeClock clock;
  Recorder rec;
  ProbeEngineOptions options;
  options.probe_function = [](std::shared_ptr<const CheckSpec>, std::function<void(ProbeResult)> done) {
    done(ProbeResult{});
  };
  ProbeEngine engine(options, clock, [&](auto& c, auto& r, auto due) { rec(c, r, due); });
  engine.SetChecks({Check("keep"), Check("drop")});
  engine.Start(false);
  for (int i = 0; i < 30; ++i) {
    clock.Advance(Duration::Seconds(1));
    Step(engine, clock.Now());
  }
  CheckSpec changed = Check("keep");
  changed.target = "fake://new-target";
  engine.SetChecks({changed, Check("new")});
  for (int i = 0; i < 30; ++i) {
    clock.Advance(Duration::Seconds(1));
    Step(engine, clock.Now());
  }
  ASSERT_TRUE(engine.WaitIdle(Duration::Seconds(30)));
  EXPECT_EQ(rec.dues["keep"].size(), 4u);
  EXPECT_EQ(rec.dues["drop"].size(), 2u);
  EXPECT_EQ(rec.dues["new"].size(), 2u);
  for (size_t i = 1; i < rec.dues["keep"].size(); ++i) {
    EXPECT_EQ(rec.dues["keep"][i] - rec.dues["keep"][i - 1], Duration::Seconds(15));
  }
  auto s = engine.Statuses();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].check->name, "keep");
  EXPECT_EQ(s[0].check->target, "fake://new-target");
  EXPECT_EQ(s[0].runs, 4u);
}

TEST(ProbeEngineTest, RealSchedulerThreadRunsDueChecks) {
  // The scheduler thread with the real clock: a 100 ms interval check runs a few times.
  Recorder rec;
  ProbeEngineOptions options;
  options.probe_function = [](std::shared_ptr<const CheckSpec>, std::function<void(ProbeResult)> done) {
    done(ProbeResult{});
  };
  ProbeEngine engine(options, core::RealClock(), [&](auto& c, auto& r, auto due) { rec(c, r, due); });
  engine.SetChecks({Check("fast", Duration::Milliseconds(100))});
  engine.Start();
  ASSERT_TRUE(rec.WaitForResults("fast", 3));
  engine.Stop();
}

}  // namespace
}  // namespace nines::collector

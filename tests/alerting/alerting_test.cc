#include "alerting/alerting.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/log.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;

constexpr Timestamp kT0 = core::FakeClock::kDefaultStart;

core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return l.ok() ? *l : core::Labels();
}

Alert Firing(std::string_view labels, Timestamp starts_at, std::string summary = "") {
  Alert a;
  a.labels = L(labels);
  if (!summary.empty()) a.annotations["summary"] = std::move(summary);
  a.status = AlertStatus::kFiring;
  a.starts_at = starts_at;
  a.ends_at = starts_at + Duration::Minutes(4);
  return a;
}

// ---- Fingerprint ---------------------------------------------------------------------------

TEST(FingerprintTest, IsAGoldenValueOfTheSortedLabels) {
  // Persisted fingerprints (state files, a receiver's records) must stay valid: this value may
  // only change with a deliberate, versioned format change.
  const core::Labels labels =
      L(R"({alertname="SloBurnRate",region="eu-west-1",severity="page",slo="api"})");
  EXPECT_EQ(Fingerprint::Of(labels).ToString(), "ba723064cb0e55cd");
  // The order the labels were given in does not matter; any label's value does.
  auto shuffled = core::Labels::FromPairs({{"slo", "api"},
                                           {"severity", "page"},
                                           {"alertname", "SloBurnRate"},
                                           {"region", "eu-west-1"}});
  ASSERT_TRUE(shuffled.ok());
  EXPECT_EQ(Fingerprint::Of(*shuffled), Fingerprint::Of(labels));
  EXPECT_NE(Fingerprint::Of(L(R"({alertname="SloBurnRate",region="eu-west-1",severity="ticket",)"
                              R"(slo="api"})")),
            Fingerprint::Of(labels));
}

TEST(FingerprintTest, IgnoresAnnotationsTimesAndStatus) {
  Alert a = Firing(R"({alertname="Down"})", kT0, "one");
  Alert b = a;
  b.annotations["summary"] = "two";
  b.status = AlertStatus::kResolved;
  b.starts_at = kT0 + Duration::Hours(1);
  b.value = 42;
  EXPECT_EQ(a.Fingerprint(), b.Fingerprint());
}

TEST(FingerprintTest, RoundTripsThroughItsTextForm) {
  const Fingerprint fp = Fingerprint::Of(L(R"({alertname="Down",region="us-east-1"})"));
  auto parsed = Fingerprint::Parse(fp.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, fp);
  EXPECT_EQ(Fingerprint::Parse("00000000000000ff")->value(), 255u);
  EXPECT_FALSE(Fingerprint::Parse("ff").ok());
  EXPECT_FALSE(Fingerprint::Parse("000000000000000g").ok());
  EXPECT_FALSE(Fingerprint::Parse("+00000000000000f").ok());
}

// ---- ends_at -------------------------------------------------------------------------------

TEST(FiringEndsAtTest, IsFourTimesTheLongerOfResendDelayAndInterval) {
  EXPECT_EQ(FiringEndsAt(kT0, Duration::Minutes(1), Duration::Seconds(10)),
            kT0 + Duration::Minutes(4));
  EXPECT_EQ(FiringEndsAt(kT0, Duration::Seconds(10), Duration::Minutes(2)),
            kT0 + Duration::Minutes(8));
  // Each resend at a later now extends it by as much.
  EXPECT_EQ(FiringEndsAt(kT0 + Duration::Seconds(10), Duration::Minutes(1), Duration::Seconds(10)),
            kT0 + Duration::Minutes(4) + Duration::Seconds(10));
}

// ---- QueueingAlertSink ---------------------------------------------------------------------

// A notifier that blocks in Notify until released, recording what it was given.
class GatedNotifier final : public Notifier {
 public:
  void Notify(const std::vector<Alert>& alerts) override {
    std::unique_lock lock(mu_);
    ++calls_;
    for (const Alert& a : alerts) got_.push_back(a.annotations.at("summary"));
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits (bounded) until Notify has been entered `n` times.
  bool WaitCalls(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return calls_ >= n; });
  }
  std::vector<std::string> got() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int calls_ = 0;
  std::vector<std::string> got_;
};

TEST(QueueingAlertSinkTest, SendDoesNotBlockWhenTheNotifierBlocksAndTheQueueIsFull) {
  GatedNotifier notifier;
  QueueingAlertSinkOptions o;
  o.capacity = 4;
  o.max_batch = 2;
  QueueingAlertSink sink(notifier, o);
  sink.Send({Firing(R"({alertname="A"})", kT0, "0")});
  ASSERT_TRUE(notifier.WaitCalls(1));  // the notifier now holds "0" and blocks
  // Ten more batches while the notifier is stuck: each Send returns (this test would hang
  // otherwise), the queue keeps the newest 4 and counts the rest dropped.
  for (int i = 1; i <= 10; ++i) {
    sink.Send({Firing(R"({alertname="A"})", kT0 + Duration::Seconds(i), std::to_string(i))});
  }
  EXPECT_EQ(sink.queued(), 4u);
  EXPECT_EQ(sink.dropped(), 6u);
  EXPECT_EQ(sink.delivered(), 0u);
  notifier.Open();
  ASSERT_TRUE(sink.WaitIdle(Duration::Seconds(10)));
  EXPECT_EQ(notifier.got(), (std::vector<std::string>{"0", "7", "8", "9", "10"}));
  EXPECT_EQ(sink.delivered(), 5u);
}

TEST(QueueingAlertSinkTest, StopDeliversWhatIsQueuedThenDropsLaterSends) {
  GatedNotifier notifier;
  notifier.Open();
  QueueingAlertSink sink(notifier);
  std::vector<Alert> batch;
  for (int i = 0; i < 100; ++i) {
    batch.push_back(Firing(R"({alertname="A"})", kT0, std::to_string(i)));
  }
  sink.Send(batch);
  sink.Stop();
  EXPECT_EQ(notifier.got().size(), 100u);
  EXPECT_EQ(sink.delivered(), 100u);
  sink.Send({Firing(R"({alertname="B"})", kT0, "late")});
  EXPECT_EQ(sink.dropped(), 1u);
  EXPECT_EQ(notifier.got().size(), 100u);
}

// ---- LogAlertSink --------------------------------------------------------------------------

TEST(LogAlertSinkTest, LogsEachFiringOnceAndEachResolution) {
  std::vector<std::string> lines;
  std::mutex mu;
  core::SetLogSink([&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  });
  LogAlertSink sink;
  const Alert down = Firing(R"({alertname="Down",region="eu-west-1"})", kT0, "eu is down");
  Alert later = down;
  later.ends_at = down.ends_at + Duration::Seconds(10);  // a resend: not logged again
  Alert resolved = down;
  resolved.status = AlertStatus::kResolved;
  resolved.ends_at = kT0 + Duration::Seconds(20);
  const Alert again = Firing(R"({alertname="Down",region="eu-west-1"})",
                             kT0 + Duration::Seconds(30), "eu is down");
  sink.Send({down});
  sink.Send({later});
  sink.Send({resolved});
  sink.Send({again});
  core::SetLogSink(nullptr);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("alert firing: {alertname=\"Down\",region=\"eu-west-1\"}"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("eu is down"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("alert resolved: {alertname=\"Down\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("after 20s"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("alert firing"), std::string::npos) << lines[2];
}

}  // namespace
}  // namespace nines::alerting

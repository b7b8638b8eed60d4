#include "alerting/notification_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "alerting/dispatcher.h"
#include "alerting/silence.h"
#include "core/state_file.h"
#include "tests/alerting/test_helpers.h"
#include "tests/testutil/testutil.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;
using testing::Firing;
using testing::L;
using testing::M;
using testing::Resolved;
using testing::Root;

constexpr Timestamp kT0 = Timestamp::FromUnixSeconds(1'700'000'000);

NotificationLogEntry Entry(std::vector<uint64_t> firing, Timestamp at, Duration ttl) {
  NotificationLogEntry e;
  for (uint64_t f : firing) e.firing.insert(Fingerprint(f));
  e.resolved.insert(Fingerprint(0xabc));
  e.at = at;
  e.expires_at = at + ttl;
  return e;
}

std::string ReadAll(const std::string& path) {
  auto data = core::ReadFile(path);
  return data.ok() && *data ? **data : "";
}

// ---- FileNotificationLog -------------------------------------------------------------------

TEST(FileNotificationLogTest, AnEntryPutSurvivesReopeningAndTheLatestWins) {
  testutil::TempDir dir;
  const std::string path = dir.File("nflog");
  const NotificationLogKey a{R"({}:{region="eu-west-1"})", "pager", 0};
  const NotificationLogKey b{"tab\there\nnewline\\", "slack", 1};
  {
    auto log = FileNotificationLog::Open(path, false, kT0);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Put(a, Entry({1, 2}, kT0, Duration::Hours(8))).ok());
    ASSERT_TRUE((*log)->Put(b, Entry({3}, kT0, Duration::Hours(8))).ok());
    ASSERT_TRUE(
        (*log)->Put(a, Entry({1, 2, 4}, kT0 + Duration::Minutes(5), Duration::Hours(8))).ok());
  }
  auto log = FileNotificationLog::Open(path, true, kT0 + Duration::Minutes(6));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->size(), 2u);
  EXPECT_EQ((*log)->Get(a), Entry({1, 2, 4}, kT0 + Duration::Minutes(5), Duration::Hours(8)));
  EXPECT_EQ((*log)->Get(b), Entry({3}, kT0, Duration::Hours(8)));
  EXPECT_FALSE((*log)->Get({"other", "pager", 0}).has_value());
  EXPECT_FALSE(std::filesystem::exists(path + ".corrupt"));
}

TEST(FileNotificationLogTest, ExpiredEntriesAreDroppedOnOpenAndCollect) {
  testutil::TempDir dir;
  const std::string path = dir.File("nflog");
  {
    auto log = FileNotificationLog::Open(path, false, kT0);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Put({"short", "r", 0}, Entry({1}, kT0, Duration::Hours(1))).ok());
    ASSERT_TRUE((*log)->Put({"long", "r", 0}, Entry({1}, kT0, Duration::Hours(8))).ok());
    ASSERT_TRUE((*log)->Collect(kT0 + Duration::Minutes(59)).ok());
    EXPECT_EQ((*log)->size(), 2u);
    ASSERT_TRUE((*log)->Collect(kT0 + Duration::Hours(1)).ok());
    EXPECT_EQ((*log)->size(), 1u);
  }
  {
    // The file still has the expired line; opening drops it and compacts.
    auto log = FileNotificationLog::Open(path, false, kT0 + Duration::Hours(2));
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->size(), 1u);
    EXPECT_TRUE((*log)->Get({"long", "r", 0}).has_value());
  }
  const std::string data = ReadAll(path);
  EXPECT_EQ(std::count(data.begin(), data.end(), '\n'), 2);  // the header and one entry
  auto log = FileNotificationLog::Open(path, false, kT0 + Duration::Hours(8));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->size(), 0u);
}

TEST(FileNotificationLogTest, ATornLastLineIsSkippedAndTheFileSetAside) {
  testutil::TempDir dir;
  const std::string path = dir.File("nflog");
  {
    auto log = FileNotificationLog::Open(path, false, kT0);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Put({"a", "r", 0}, Entry({1}, kT0, Duration::Hours(8))).ok());
  }
  const std::string good = ReadAll(path);
  const std::string torn =
      EncodeNotificationLogLine({"b", "r", 0}, Entry({2}, kT0, Duration::Hours(8)));
  std::ofstream(path, std::ios::app) << torn.substr(0, torn.size() / 2);
  auto log = FileNotificationLog::Open(path, false, kT0);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->size(), 1u);
  EXPECT_TRUE((*log)->Get({"a", "r", 0}).has_value());
  EXPECT_FALSE((*log)->Get({"b", "r", 0}).has_value());
  ASSERT_TRUE(std::filesystem::exists(path + ".corrupt"));
  EXPECT_EQ(ReadAll(path + ".corrupt").size(), good.size() + torn.size() / 2);
  // The new file is whole again.
  EXPECT_EQ(ReadAll(path), good);
}

TEST(FileNotificationLogTest, ACorruptLineIsSkippedTheOthersKept) {
  testutil::TempDir dir;
  const std::string path = dir.File("nflog");
  {
    auto log = FileNotificationLog::Open(path, false, kT0);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(
          (*log)->Put({"g" + std::to_string(i), "r", 0}, Entry({1}, kT0, Duration::Hours(8))).ok());
    }
  }
  std::string data = ReadAll(path);
  const size_t at = data.find("g1");
  ASSERT_NE(at, std::string::npos);
  data[at] = 'h';  // one flipped byte: its checksum no longer matches
  ASSERT_TRUE(core::WriteFileAtomic(path, data, false).ok());
  auto log = FileNotificationLog::Open(path, false, kT0);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->size(), 2u);
  EXPECT_FALSE((*log)->Get({"g1", "r", 0}).has_value());
  EXPECT_FALSE((*log)->Get({"h1", "r", 0}).has_value());
  EXPECT_TRUE((*log)->Get({"g2", "r", 0}).has_value());
  EXPECT_TRUE(std::filesystem::exists(path + ".corrupt"));
}

TEST(FileNotificationLogTest, GarbageIsSetAsideAndTheLogStartsEmpty) {
  testutil::TempDir dir;
  const std::string path = dir.Write("nflog", "this is not a notification log\n\x01\x02");
  auto log = FileNotificationLog::Open(path, false, kT0);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->size(), 0u);
  EXPECT_TRUE(std::filesystem::exists(path + ".corrupt"));
  ASSERT_TRUE((*log)->Put({"a", "r", 0}, Entry({1}, kT0, Duration::Hours(8))).ok());
  auto again = FileNotificationLog::Open(path, false, kT0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->size(), 1u);
}

TEST(FileNotificationLogTest, ANewerVersionIsRefusedAndLeftAlone) {
  testutil::TempDir dir;
  const std::string path = dir.Write("nflog", core::SealRecord("nines-nflog\t99"));
  auto log = FileNotificationLog::Open(path, false, kT0);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(path + ".corrupt"));
}

TEST(FileNotificationLogTest, WithSyncPutsAreBatchedBehindTheCallersAndSyncFlushes) {
  testutil::TempDir dir;
  const std::string path = dir.File("nflog");
  auto log = FileNotificationLog::Open(path, /*sync=*/true, kT0);
  ASSERT_TRUE(log.ok());
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i) {
        const std::string key = "g" + std::to_string(w) + "-" + std::to_string(i);
        EXPECT_TRUE((*log)->Put({key, "r", 0}, Entry({1}, kT0, Duration::Hours(8))).ok());
      }
    });
  }
  for (std::thread& t : writers) t.join();
  ASSERT_TRUE((*log)->Sync().ok());
  auto reopened = FileNotificationLog::Open(path, false, kT0);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->size(), 200u);
  EXPECT_TRUE((*reopened)->Get({"g3-49", "r", 0}).has_value());
}

TEST(FileNotificationLogTest, RepeatedPutsOfFewKeysAreCompacted) {
  testutil::TempDir dir;
  const std::string path = dir.File("nflog");
  auto log = FileNotificationLog::Open(path, false, kT0);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE((*log)
                    ->Put({"g" + std::to_string(i % 3), "r", 0},
                          Entry({static_cast<uint64_t>(i)}, kT0, Duration::Hours(8)))
                    .ok());
  }
  // A Put (a delivery thread) never rewrites the file: every line is still there.
  std::string data = ReadAll(path);
  EXPECT_EQ(std::count(data.begin(), data.end(), '\n'), 3001);
  // Collect (the service's maintenance) compacts: the header and the three live entries.
  ASSERT_TRUE((*log)->Collect(kT0).ok());
  data = ReadAll(path);
  EXPECT_EQ(std::count(data.begin(), data.end(), '\n'), 4);
  auto reopened = FileNotificationLog::Open(path, false, kT0);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Get({"g2", "r", 0}), Entry({2999}, kT0, Duration::Hours(8)));
}

// Puts that land while Collect compacts (the rewrite runs without the log's locks) are neither
// lost nor reordered: each key's last Put is what a reopened log holds.
TEST(FileNotificationLogTest, PutsDuringACompactionAreKept) {
  testutil::TempDir dir;
  const std::string path = dir.File("nflog");
  auto log = FileNotificationLog::Open(path, /*sync=*/true, kT0);
  ASSERT_TRUE(log.ok());
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 3000; ++i) {
        const std::string key = "g" + std::to_string(w) + "-" + std::to_string(i % 7);
        EXPECT_TRUE((*log)->Put({key, "r", 0}, Entry({static_cast<uint64_t>(i)}, kT0,
                                                     Duration::Hours(8))).ok());
      }
    });
  }
  std::thread collector([&] {
    for (int i = 0; i < 100'000'000 && !done; ++i) EXPECT_TRUE((*log)->Collect(kT0).ok());
  });
  for (std::thread& t : writers) t.join();
  done = true;
  collector.join();
  ASSERT_TRUE((*log)->Sync().ok());
  const std::string data = ReadAll(path);
  EXPECT_LT(std::count(data.begin(), data.end(), '\n'), 6001);  // compacted meanwhile
  auto reopened = FileNotificationLog::Open(path, false, kT0);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->size(), 14u);
  for (int w = 0; w < 2; ++w) {
    for (int k = 0; k < 7; ++k) {
      const int last = 2999 - ((2999 - k) % 7);  // the last i with i % 7 == k
      EXPECT_EQ((*reopened)->Get({"g" + std::to_string(w) + "-" + std::to_string(k), "r", 0}),
                Entry({static_cast<uint64_t>(last)}, kT0, Duration::Hours(8)))
          << w << "-" << k;
    }
  }
}

// ---- the Dispatcher records nothing it notifies: delivery does -----------------------------

AlertmanagerConfig OneWebhook(bool send_resolved = true) {
  AlertmanagerConfig c;
  c.route = Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5), Duration::Hours(4));
  c.receivers.push_back(
      Receiver{"default", {testing::WebhookIntegration("http://x/", send_resolved)}});
  return c;
}

TEST(DispatcherLogTest, AnUndeliveredNotificationIsMadeAgainAtEachGroupInterval) {
  MemoryNotificationLog log;
  Dispatcher d(OneWebhook(), nullptr, &log);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, kT0)}, kT0);
  ASSERT_EQ(d.Flush(kT0 + Duration::Seconds(30)).size(), 1u);
  EXPECT_EQ(log.size(), 0u);  // nothing delivered, nothing recorded
  const Timestamp tick = kT0 + Duration::Minutes(5) + Duration::Seconds(30);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, tick)}, tick);
  auto again = d.Flush(tick);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].reason, NotifyReason::kFirstNotification);
  ASSERT_TRUE(log.Record(again[0], tick + Duration::Seconds(1)).ok());
  const Timestamp next = tick + Duration::Minutes(5);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, next)}, next);
  EXPECT_TRUE(d.Flush(next).empty());
}

TEST(DispatcherLogTest, AResolutionStaysHeldUntilItsDeliveryIsRecorded) {
  MemoryNotificationLog log;
  Dispatcher d(OneWebhook(), nullptr, &log);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, kT0)}, kT0);
  auto first = d.Flush(kT0 + Duration::Seconds(30));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(log.Record(first[0], kT0 + Duration::Seconds(30)).ok());
  const Timestamp resolves = kT0 + Duration::Minutes(2);
  d.Receive({Resolved(R"({alertname="Burn"})", kT0, resolves)}, resolves);
  Timestamp tick = kT0 + Duration::Minutes(5) + Duration::Seconds(30);
  for (int i = 0; i < 3; ++i, tick = tick + Duration::Minutes(5)) {
    SCOPED_TRACE(i);
    auto sent = d.Flush(tick);  // the receiver is down: never recorded
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].reason, NotifyReason::kAllAlertsResolved);
    ASSERT_EQ(d.Held(tick).size(), 1u);
    EXPECT_EQ(d.Held(tick)[0].status, AlertStatus::kResolved);
    if (i == 2) {
      ASSERT_TRUE(log.Record(sent[0], tick).ok());
    }
  }
  EXPECT_TRUE(d.Flush(tick).empty());
  EXPECT_TRUE(d.Held(tick).empty());
  EXPECT_EQ(d.group_count(), 0u);
}

TEST(DispatcherLogTest, AResolutionWhileTheFiringNotificationIsInFlightIsNotLost) {
  MemoryNotificationLog log;
  Dispatcher d(OneWebhook(), nullptr, &log);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, kT0)}, kT0);
  auto first = d.Flush(kT0 + Duration::Seconds(30));
  ASSERT_EQ(first.size(), 1u);
  const Timestamp resolves = kT0 + Duration::Minutes(1);
  d.Receive({Resolved(R"({alertname="Burn"})", kT0, resolves)}, resolves);
  Timestamp tick = kT0 + Duration::Minutes(5) + Duration::Seconds(30);
  EXPECT_TRUE(d.Flush(tick).empty());  // the log knows of no firing notification yet
  ASSERT_EQ(d.Held(tick).size(), 1u);  // but the resolution is kept
  ASSERT_TRUE(log.Record(first[0], tick + Duration::Seconds(1)).ok());  // delivered, late
  tick = tick + Duration::Minutes(5);
  auto sent = d.Flush(tick);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].reason, NotifyReason::kAllAlertsResolved);
}

// The firing page is handed out while the receiver is down; its delivery retries for up to an
// hour (the give-up time), longer than 2 x repeat_interval. When it finally gets through and is
// recorded, the resolution must still be sent: the resolved alert waited in its group.
TEST(DispatcherLogTest, AResolutionWaitsForAFiringPageThatRetriesUntilItsGiveUp) {
  AlertmanagerConfig c = OneWebhook();
  c.route.repeat_interval = Duration::Minutes(15);
  Dispatcher d(c, nullptr, nullptr, /*delivery_give_up=*/Duration::Hours(1));
  d.Receive({Firing(R"({alertname="Burn"})", kT0, kT0)}, kT0);
  std::vector<Notification> page = d.Flush(kT0 + Duration::Seconds(30));  // not recorded: down
  ASSERT_EQ(page.size(), 1u);
  const Timestamp resolved_at = kT0 + Duration::Minutes(1);
  d.Receive({Resolved(R"({alertname="Burn"})", kT0, resolved_at)}, resolved_at);
  Timestamp now = kT0 + Duration::Seconds(30);
  for (int i = 0; i < 10; ++i) {  // 50 minutes of ticks: nothing to send, nothing dropped
    now = now + Duration::Minutes(5);
    EXPECT_TRUE(d.Flush(now).empty()) << (now - kT0).ToString();
  }
  ASSERT_EQ(d.group_count(), 1u);
  ASSERT_TRUE(d.log().Record(page[0], now).ok());  // the late firing delivery is recorded
  now = now + Duration::Minutes(5);
  std::vector<Notification> sent = d.Flush(now);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].reason, NotifyReason::kAllAlertsResolved);
  ASSERT_EQ(sent[0].alerts.size(), 1u);
  EXPECT_EQ(sent[0].alerts[0].status, AlertStatus::kResolved);
  ASSERT_TRUE(d.log().Record(sent[0], now).ok());
  d.Flush(now + Duration::Minutes(5));
  EXPECT_EQ(d.group_count(), 0u);
}

TEST(DispatcherLogTest, WithoutSendResolvedTheDispatcherRecordsTheResolutionItself) {
  MemoryNotificationLog log;
  Dispatcher d(OneWebhook(/*send_resolved=*/false), nullptr, &log);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, kT0)}, kT0);
  auto first = d.Flush(kT0 + Duration::Seconds(30));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(log.Record(first[0], kT0 + Duration::Seconds(30)).ok());
  const Timestamp resolves = kT0 + Duration::Minutes(2);
  d.Receive({Resolved(R"({alertname="Burn"})", kT0, resolves)}, resolves);
  const Timestamp tick = kT0 + Duration::Minutes(5) + Duration::Seconds(30);
  EXPECT_TRUE(d.Flush(tick).empty());
  auto entry = log.Get({first[0].group_key, "default", 0});
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(entry->firing.empty());
  EXPECT_EQ(entry->resolved.size(), 1u);
  EXPECT_EQ(entry->at, tick);
}

TEST(DispatcherLogTest, RestoreGivesFiringAlertsAGracePeriodAndDedupsAgainstTheLog) {
  MemoryNotificationLog log;
  std::vector<Alert> held;
  const Timestamp crash = kT0 + Duration::Minutes(3);
  {
    Dispatcher d(OneWebhook(), nullptr, &log);
    d.Receive(
        {Firing(R"({alertname="Burn"})", kT0, kT0), Firing(R"({alertname="Down"})", kT0, kT0)},
        kT0);
    for (const Notification& n : d.Flush(kT0 + Duration::Seconds(30))) {
      if (n.alerts[0].labels.Get("alertname") == "Burn") {
        ASSERT_TRUE(log.Record(n, kT0 + Duration::Seconds(31)).ok());  // Down's receiver failed
      }
    }
    d.Receive({Resolved(R"({alertname="Gone"})", kT0, crash)}, crash);  // no group had it
    held = d.Held(crash);
  }
  ASSERT_EQ(held.size(), 3u);
  // Down for an hour: every ends_at passed, but the engine will resend what still fires.
  const Timestamp restart = crash + Duration::Hours(1);
  Dispatcher d(OneWebhook(), nullptr, &log);
  d.Restore(held, restart, Duration::Minutes(5));
  auto sent = d.Flush(restart);  // the restored groups flush at once
  ASSERT_EQ(sent.size(), 1u);    // Down, never delivered; Burn delivered, not repeated
  EXPECT_EQ(sent[0].alerts[0].labels, L(R"({alertname="Down"})"));
  EXPECT_EQ(sent[0].alerts[0].status, AlertStatus::kFiring);
  // Within the grace period nothing resolves.
  ASSERT_EQ(d.NextWakeup(), restart + Duration::Minutes(5));
  EXPECT_TRUE(d.Flush(restart + Duration::Minutes(5) - Duration::Seconds(1)).empty());
  EXPECT_EQ(d.Alerts().size(), 2u);
}

TEST(DispatcherLogTest, ChangesCountWhatHeldShowsNotResends) {
  Dispatcher d(OneWebhook(), nullptr);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, kT0)}, kT0);
  const uint64_t added = d.changes();
  EXPECT_GT(added, 0u);
  // A resend extends ends_at and may change the value: nothing to persist.
  Alert resend = Firing(R"({alertname="Burn"})", kT0, kT0 + Duration::Minutes(1));
  resend.value = 2;
  d.Receive({resend}, kT0 + Duration::Minutes(1));
  EXPECT_EQ(d.changes(), added);
  // New annotations, a new alert, a resolution: each is.
  resend.annotations["summary"] = "worse";
  d.Receive({resend}, kT0 + Duration::Minutes(2));
  EXPECT_GT(d.changes(), added);
  uint64_t before = d.changes();
  d.Receive({Resolved(R"({alertname="Burn"})", kT0, kT0 + Duration::Minutes(3))},
            kT0 + Duration::Minutes(3));
  EXPECT_GT(d.changes(), before);
  ASSERT_EQ(d.Held(kT0 + Duration::Minutes(3)).size(), 1u);
  EXPECT_EQ(d.Held(kT0 + Duration::Minutes(3))[0].status, AlertStatus::kResolved);
}

TEST(DispatcherLogTest, AlertViewsNameReceiversSilencesAndInhibitingAlerts) {
  AlertmanagerConfig c = OneWebhook();
  RouteConfig pages;
  pages.receiver = "pager";
  pages.matchers = M(R"(severity="page")");
  pages.continue_matching = true;
  RouteConfig eu;
  eu.receiver = "default";
  eu.matchers = M(R"(region="eu")");
  c.route.routes = {pages, eu};
  c.receivers.push_back(Receiver{"pager", {testing::WebhookIntegration("http://p/")}});
  c.inhibit_rules.push_back(
      InhibitRule{"", M(R"(severity="page")"), M(R"(severity="ticket")"), {"region"}});
  int next_id = 0;
  SilenceStore silences([&] { return "s" + std::to_string(++next_id); });
  Silence s;
  s.matchers = M(R"(alertname="Quiet")");
  s.ends_at = kT0 + Duration::Hours(1);
  ASSERT_TRUE(silences.Add(s, kT0).ok());
  Dispatcher d(c, &silences);
  const Alert page = Firing(R"({alertname="Burn",region="eu",severity="page"})", kT0, kT0);
  d.Receive({page, Firing(R"({alertname="Ticket",region="eu",severity="ticket"})", kT0, kT0),
             Firing(R"({alertname="Quiet",region="us",severity="ticket"})", kT0, kT0)},
            kT0);
  auto views = d.AlertViews(kT0 + Duration::Minutes(1));
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(views[0].alert.labels.Get("alertname"), "Burn");
  EXPECT_EQ(views[0].receivers, (std::vector<std::string>{"pager", "default"}));
  EXPECT_EQ(views[0].State(), "active");
  EXPECT_EQ(views[1].alert.labels.Get("alertname"), "Quiet");
  EXPECT_EQ(views[1].silenced_by, (std::vector<std::string>{"s1"}));
  EXPECT_TRUE(views[1].inhibited_by.empty());
  EXPECT_EQ(views[1].State(), "suppressed");
  EXPECT_EQ(views[2].alert.labels.Get("alertname"), "Ticket");
  EXPECT_EQ(views[2].receivers, (std::vector<std::string>{"default"}));
  EXPECT_EQ(views[2].inhibited_by, (std::vector<std::string>{page.Fingerprint().ToString()}));
  EXPECT_EQ(views[2].State(), "suppressed");
}

}  // namespace
}  // namespace nines::alerting

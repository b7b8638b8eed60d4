#include "alerting/dispatcher.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "alerting/silence.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;

constexpr Timestamp kT0 = Timestamp::FromUnixSeconds(1'700'000'000);

core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text << ": " << l.status().ToString();
  return l.ok() ? *l : core::Labels();
}

Matchers M(std::string_view text) {
  auto m = ParseMatchers(text);
  EXPECT_TRUE(m.ok()) << text << ": " << m.status().ToString();
  if (!m.ok()) return {};
  SortMatchers(&*m);
  return *m;
}

Timestamp At(std::string_view rfc3339) {
  auto t = core::ParseTimestamp(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : Timestamp();
}

Receiver Webhook(std::string name, bool send_resolved = true) {
  Integration i;
  i.kind = IntegrationKind::kWebhook;
  i.send_resolved = send_resolved;
  return Receiver{std::move(name), {i}};
}

RouteConfig Root(std::vector<std::string> group_by, Duration wait, Duration interval,
                 Duration repeat) {
  RouteConfig r;
  r.receiver = "default";
  r.group_by = std::move(group_by);
  r.group_wait = wait;
  r.group_interval = interval;
  r.repeat_interval = repeat;
  return r;
}

AlertmanagerConfig Config(RouteConfig route, std::vector<Receiver> receivers = {}) {
  AlertmanagerConfig c;
  c.route = std::move(route);
  c.receivers = std::move(receivers);
  if (c.receivers.empty()) c.receivers.push_back(Webhook("default"));
  return c;
}

// A firing alert as the engine sends it at `now`: valid for four evaluations of one minute.
Alert Firing(std::string_view labels, Timestamp starts_at, Timestamp now) {
  Alert a;
  a.labels = L(labels);
  a.status = AlertStatus::kFiring;
  a.starts_at = starts_at;
  a.ends_at = now + Duration::Minutes(4);
  return a;
}

Alert Resolved(std::string_view labels, Timestamp starts_at, Timestamp now) {
  Alert a = Firing(labels, starts_at, now);
  a.status = AlertStatus::kResolved;
  a.ends_at = now;
  return a;
}

// Flushes and records every notification as delivered at once (what the service does once a
// receiver accepted it).
std::vector<Notification> FlushAndRecord(Dispatcher& d, Timestamp now) {
  std::vector<Notification> out = d.Flush(now);
  for (const Notification& n : out) EXPECT_TRUE(d.log().Record(n, now).ok());
  return out;
}

// Drives a dispatcher as the engine and the scheduler would together: `engine(t)` is called
// every `eval` from `start` and what it returns is received; Flush runs at each NextWakeup. At
// one instant the engine's alerts are received before the flush.
struct Sent {
  Timestamp at;
  Notification n;
};
std::vector<Sent> Drive(Dispatcher& d, Timestamp start, Timestamp end,
                      const std::function<std::vector<Alert>(Timestamp)>& engine,
                      Duration eval = Duration::Minutes(1)) {
  std::vector<Sent> out;
  Timestamp next_eval = start;
  while (true) {
    std::optional<Timestamp> wake = d.NextWakeup();
    Timestamp now = next_eval;
    if (wake && *wake < now) now = *wake;
    if (now > end) break;
    if (now == next_eval) {
      d.Receive(engine(now), now);
      next_eval = next_eval + eval;
    }
    if (std::optional<Timestamp> w = d.NextWakeup(); w && *w <= now) {
      for (Notification& n : FlushAndRecord(d, now)) out.push_back({now, std::move(n)});
    }
  }
  return out;
}

std::vector<Duration> Offsets(const std::vector<Sent>& sent, Timestamp from) {
  std::vector<Duration> out;
  for (const Sent& s : sent) out.push_back(s.at - from);
  return out;
}

std::vector<std::string> AlertNames(const Notification& n) {
  std::vector<std::string> out;
  for (const Alert& a : n.alerts) {
    const bool firing = a.status == AlertStatus::kFiring;
    out.push_back(a.labels.ToString() + (firing ? " firing" : " resolved"));
  }
  return out;
}

// ---- Timing --------------------------------------------------------------------------------

TEST(DispatcherTest, GroupWaitThenGroupIntervalThenRepeatIntervalToTheSecond) {
  struct Case {
    std::string name;
    Duration wait, interval, repeat, run_for;
    std::vector<Duration> want;  // notification times after the alert starts firing
  };
  using D = Duration;
  const std::vector<Case> cases = {
      // Alertmanager's defaults: a repeat needs strictly more than 4h, seen at a 5m tick.
      {"defaults", D::Seconds(30), D::Minutes(5), D::Hours(4), D::Hours(9),
       {D::Seconds(30), D::Hours(4) + D::Minutes(5) + D::Seconds(30),
        D::Hours(8) + D::Minutes(10) + D::Seconds(30)}},
      // repeat_interval is rounded up to the group_interval ticks (20m with 15m: every 30m).
      {"repeat rounded up to ticks", D::Seconds(10), D::Minutes(15), D::Minutes(20),
       D::Minutes(70), {D::Seconds(10), D::Minutes(30) + D::Seconds(10),
                        D::Minutes(60) + D::Seconds(10)}},
      {"no group wait", D::Zero(), D::Minutes(1), D::Minutes(3), D::Minutes(9),
       {D::Zero(), D::Minutes(4), D::Minutes(8)}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Dispatcher d(Config(Root({"alertname"}, c.wait, c.interval, c.repeat)), nullptr);
    auto sent = Drive(d, kT0, kT0 + c.run_for, [](Timestamp now) {
      return std::vector<Alert>{Firing(R"({alertname="Burn"})", kT0, now)};
    });
    EXPECT_EQ(Offsets(sent, kT0), c.want);
    ASSERT_FALSE(sent.empty());
    EXPECT_EQ(sent[0].n.reason, NotifyReason::kFirstNotification);
    for (size_t i = 1; i < sent.size(); ++i) {
      EXPECT_EQ(sent[i].n.reason, NotifyReason::kRepeatIntervalElapsed);
    }
    // Firing alerts carry no end, as Alertmanager sends them.
    EXPECT_EQ(sent[0].n.alerts.at(0).ends_at, Timestamp());
  }
}

TEST(DispatcherTest, ChangesWithinAGroupIntervalAreBatchedIntoOneNotification) {
  Dispatcher d(Config(Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                           Duration::Hours(4))),
               nullptr);
  // a fires at T0; b at +1m, c at +3m: both join the group after its first flush and wait for
  // the next group_interval tick (+5m30s), not for a group_wait of their own.
  auto sent = Drive(d, kT0, kT0 + Duration::Minutes(12), [](Timestamp now) {
    std::vector<Alert> alerts = {Firing(R"({alertname="Burn",region="a"})", kT0, now)};
    if (now >= kT0 + Duration::Minutes(1)) {
      alerts.push_back(Firing(R"({alertname="Burn",region="b"})", kT0 + Duration::Minutes(1), now));
    }
    if (now >= kT0 + Duration::Minutes(3)) {
      alerts.push_back(Firing(R"({alertname="Burn",region="c"})", kT0 + Duration::Minutes(3), now));
    }
    return alerts;
  });
  ASSERT_EQ(Offsets(sent, kT0),
            (std::vector<Duration>{Duration::Seconds(30),
                                   Duration::Minutes(5) + Duration::Seconds(30)}));
  EXPECT_EQ(AlertNames(sent[0].n), (std::vector<std::string>{
                                        R"({alertname="Burn",region="a"} firing)"}));
  EXPECT_EQ(sent[1].n.reason, NotifyReason::kNewAlertsInGroup);
  EXPECT_EQ(AlertNames(sent[1].n), (std::vector<std::string>{
                                        R"({alertname="Burn",region="a"} firing)",
                                        R"({alertname="Burn",region="b"} firing)",
                                        R"({alertname="Burn",region="c"} firing)"}));
}

TEST(DispatcherTest, AnAlertOlderThanGroupWaitFlushesANewGroupAtOnce) {
  Dispatcher d(Config(Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                           Duration::Hours(4))),
               nullptr);
  const Timestamp now = kT0 + Duration::Minutes(10);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, now)}, now);
  EXPECT_EQ(d.NextWakeup(), now);
  EXPECT_EQ(FlushAndRecord(d, now).size(), 1u);
  EXPECT_EQ(d.NextWakeup(), now + Duration::Minutes(5));
  // A scheduler that wakes late does not shift the cadence: the next tick stays on the grid.
  const Timestamp late = now + Duration::Minutes(12);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, late)}, late);
  EXPECT_TRUE(FlushAndRecord(d, late).empty());
  EXPECT_EQ(d.NextWakeup(), now + Duration::Minutes(15));
}

// Alertmanager (aggrGroup.insert while !hasFlushed): not only the alert that creates a group,
// any alert that joins it before its first flush and started more than group_wait ago flushes
// it at once. After the first flush, group_interval rules.
TEST(DispatcherTest, AnOldAlertJoiningBeforeTheFirstFlushFlushesAtOnce) {
  Dispatcher d(Config(Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                           Duration::Hours(4))),
               nullptr);
  d.Receive({Firing(R"({alertname="Burn",region="a"})", kT0, kT0)}, kT0);  // fresh: waits
  EXPECT_EQ(d.NextWakeup(), kT0 + Duration::Seconds(30));
  const Timestamp joined = kT0 + Duration::Seconds(10);
  d.Receive({Firing(R"({alertname="Burn",region="b"})", kT0 - Duration::Minutes(1), joined)},
            joined);
  EXPECT_EQ(d.NextWakeup(), joined);
  auto sent = FlushAndRecord(d, joined);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].alerts.size(), 2u);
  EXPECT_EQ(d.NextWakeup(), joined + Duration::Minutes(5));
  // Flushed once: another old alert waits for the group_interval tick.
  const Timestamp later = joined + Duration::Minutes(1);
  d.Receive({Firing(R"({alertname="Burn",region="c"})", kT0 - Duration::Hours(1), later)}, later);
  EXPECT_EQ(d.NextWakeup(), joined + Duration::Minutes(5));
}

// ---- Grouping and routing ------------------------------------------------------------------

TEST(DispatcherTest, GroupByDecidesOneGroupOrTwo) {
  struct Case {
    std::string name;
    std::vector<std::string> group_by;
    bool group_by_all;
    std::vector<std::string> want_keys;
    std::vector<size_t> want_sizes;
  };
  const std::vector<Case> cases = {
      {"by alertname: one group", {"alertname"}, false, {R"({}:{alertname="Burn"})"}, {2}},
      {"by alertname and region: two groups",
       {"alertname", "region"},
       false,
       {R"({}:{alertname="Burn", region="eu-west-1"})",
        R"({}:{alertname="Burn", region="us-east-1"})"},
       {1, 1}},
      {"by a label no alert has: one group keyed {}", {"team"}, false, {"{}:{}"}, {2}},
      {"by ...: each alert its own group",
       {},
       true,
       {R"({}:{alertname="Burn", region="eu-west-1", slo="api"})",
        R"({}:{alertname="Burn", region="us-east-1", slo="api"})"},
       {1, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RouteConfig root = Root(c.group_by, Duration::Seconds(30), Duration::Minutes(5),
                            Duration::Hours(4));
    if (c.group_by_all) {
      root.group_by.reset();  // as the parser writes `group_by: ['...']`
      root.group_by_all = true;
    }
    Dispatcher d(Config(root), nullptr);
    d.Receive({Firing(R"({alertname="Burn",region="eu-west-1",slo="api"})", kT0, kT0),
               Firing(R"({alertname="Burn",region="us-east-1",slo="api"})", kT0, kT0)},
              kT0);
    EXPECT_EQ(d.group_count(), c.want_keys.size());
    EXPECT_TRUE(FlushAndRecord(d, kT0 + Duration::Seconds(29)).empty());
    auto sent = FlushAndRecord(d, kT0 + Duration::Seconds(30));
    std::vector<std::string> keys;
    std::vector<size_t> sizes;
    for (const Notification& n : sent) {
      keys.push_back(n.group_key);
      sizes.push_back(n.alerts.size());
      EXPECT_EQ(n.receiver, "default");
    }
    EXPECT_EQ(keys, c.want_keys);
    EXPECT_EQ(sizes, c.want_sizes);
  }
}

TEST(DispatcherTest, ContinueSendsToTwoReceivers) {
  RouteConfig root = Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                          Duration::Hours(4));
  RouteConfig pager;
  pager.receiver = "pager";
  pager.matchers = M(R"(severity="page")");
  pager.continue_matching = true;
  pager.group_wait = Duration::Zero();
  RouteConfig slack;
  slack.receiver = "slack";
  slack.matchers = M(R"(severity=~"page|ticket")");
  root.routes = {pager, slack};
  Dispatcher d(Config(root, {Webhook("default"), Webhook("pager"), Webhook("slack")}), nullptr);

  d.Receive({Firing(R"({alertname="Burn",severity="page"})", kT0, kT0)}, kT0);
  auto at_once = FlushAndRecord(d, kT0);  // the pager route has no group wait
  ASSERT_EQ(at_once.size(), 1u);
  EXPECT_EQ(at_once[0].receiver, "pager");
  EXPECT_EQ(at_once[0].group_key, R"({}/{severity="page"}:{alertname="Burn"})");
  auto later = FlushAndRecord(d, kT0 + Duration::Seconds(30));  // slack inherits the root's 30s
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].receiver, "slack");
  EXPECT_EQ(later[0].group_key, R"({}/{severity=~"page|ticket"}:{alertname="Burn"})");

  // Without `continue` the first match wins.
  root.routes[0].continue_matching = false;
  Dispatcher first_only(Config(root, {Webhook("default"), Webhook("pager"), Webhook("slack")}),
                        nullptr);
  first_only.Receive({Firing(R"({alertname="Burn",severity="page"})", kT0, kT0)}, kT0);
  EXPECT_EQ(first_only.group_count(), 1u);
}

TEST(DispatcherTest, EachIntegrationOfAReceiverIsNotified) {
  Receiver two = Webhook("default");
  two.integrations.push_back(Integration{IntegrationKind::kPagerDuty, true, {}});
  Dispatcher d(Config(Root({"alertname"}, Duration::Zero(), Duration::Minutes(5),
                           Duration::Hours(4)),
                      {two}),
               nullptr);
  d.Receive({Firing(R"({alertname="Burn"})", kT0, kT0)}, kT0);
  auto sent = FlushAndRecord(d, kT0);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].integration_kind, IntegrationKind::kWebhook);
  EXPECT_EQ(sent[1].integration_kind, IntegrationKind::kPagerDuty);
  EXPECT_EQ(sent[1].integration_index, 1u);
}

TEST(DispatcherTest, GroupsAndAlertsShowWhatIsHeld) {
  RouteConfig root = Root({"region"}, Duration::Seconds(30), Duration::Minutes(5),
                          Duration::Hours(4));
  Dispatcher d(Config(root), nullptr);
  d.Receive({Firing(R"({alertname="B",region="us"})", kT0, kT0),
             Firing(R"({alertname="A",region="us"})", kT0, kT0),
             Firing(R"({alertname="A",region="eu"})", kT0, kT0)},
            kT0);
  auto groups = d.Groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].receiver, "default");
  EXPECT_EQ(groups[0].group_key, R"({}:{region="eu"})");
  EXPECT_EQ(groups[1].group_labels, L(R"({region="us"})"));
  ASSERT_EQ(groups[1].alerts.size(), 2u);
  EXPECT_EQ(groups[1].alerts[0].labels, L(R"({alertname="A",region="us"})"));
  EXPECT_EQ(d.Alerts().size(), 3u);
  // Once expired (+4m) and flushed, no alert fires; the groups keep the resolved alerts until
  // the flush after their resolution was recorded as delivered.
  FlushAndRecord(d, kT0 + Duration::Seconds(30));
  FlushAndRecord(d, kT0 + Duration::Minutes(5) + Duration::Seconds(30));
  EXPECT_TRUE(d.Alerts().empty());
  EXPECT_EQ(d.Held(kT0 + Duration::Minutes(6)).size(), 3u);
  FlushAndRecord(d, kT0 + Duration::Minutes(10) + Duration::Seconds(30));
  EXPECT_TRUE(d.Groups().empty());
  EXPECT_TRUE(d.Held(kT0 + Duration::Minutes(11)).empty());
}

// ---- Resolution ----------------------------------------------------------------------------

TEST(DispatcherTest, ResolvedNotificationThenTheGroupIsGone) {
  for (bool send_resolved : {true, false}) {
    SCOPED_TRACE(send_resolved ? "send_resolved" : "no send_resolved");
    Dispatcher d(Config(Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                             Duration::Hours(4)),
                        {Webhook("default", send_resolved)}),
                 nullptr);
    const Timestamp resolved_at = kT0 + Duration::Minutes(2);
    auto sent = Drive(d, kT0, kT0 + Duration::Minutes(20), [&](Timestamp now) {
      if (now < resolved_at) return std::vector<Alert>{Firing(R"({alertname="Burn"})", kT0, now)};
      if (now == resolved_at) {
        return std::vector<Alert>{Resolved(R"({alertname="Burn"})", kT0, now)};
      }
      return std::vector<Alert>{};
    });
    if (send_resolved) {
      ASSERT_EQ(Offsets(sent, kT0), (std::vector<Duration>{
                                        Duration::Seconds(30),
                                        Duration::Minutes(5) + Duration::Seconds(30)}));
      const Notification& n = sent[1].n;
      EXPECT_EQ(n.reason, NotifyReason::kAllAlertsResolved);
      EXPECT_EQ(n.Status(), AlertStatus::kResolved);
      ASSERT_EQ(n.alerts.size(), 1u);
      EXPECT_EQ(n.alerts[0].status, AlertStatus::kResolved);
      EXPECT_EQ(n.alerts[0].ends_at, resolved_at);
    } else {
      EXPECT_EQ(Offsets(sent, kT0), (std::vector<Duration>{Duration::Seconds(30)}));
    }
    EXPECT_EQ(d.group_count(), 0u);
    EXPECT_EQ(d.NextWakeup(), std::nullopt);
  }
}

TEST(DispatcherTest, SomeResolvedIsSentOnlyWithSendResolved) {
  for (bool send_resolved : {true, false}) {
    SCOPED_TRACE(send_resolved ? "send_resolved" : "no send_resolved");
    Dispatcher d(Config(Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                             Duration::Hours(4)),
                        {Webhook("default", send_resolved)}),
                 nullptr);
    auto sent = Drive(d, kT0, kT0 + Duration::Minutes(8), [](Timestamp now) {
      std::vector<Alert> alerts = {Firing(R"({alertname="Burn",region="a"})", kT0, now)};
      if (now < kT0 + Duration::Minutes(2)) {
        alerts.push_back(Firing(R"({alertname="Burn",region="b"})", kT0, now));
      } else if (now == kT0 + Duration::Minutes(2)) {
        alerts.push_back(Resolved(R"({alertname="Burn",region="b"})", kT0, now));
      }
      return alerts;
    });
    if (send_resolved) {
      ASSERT_EQ(sent.size(), 2u);
      EXPECT_EQ(sent[1].n.reason, NotifyReason::kNewResolvedAlerts);
      EXPECT_EQ(AlertNames(sent[1].n), (std::vector<std::string>{
                                           R"({alertname="Burn",region="a"} firing)",
                                           R"({alertname="Burn",region="b"} resolved)"}));
    } else {
      EXPECT_EQ(sent.size(), 1u);
    }
    EXPECT_EQ(d.group_count(), 1u);  // a still fires
  }
}

TEST(DispatcherTest, AFiringAlertWhoseEndsAtPassedIsResolved) {
  Dispatcher d(Config(Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                           Duration::Hours(4))),
               nullptr);
  // The engine sends the alert for two evaluations, then dies: its last ends_at is +1m+4m.
  auto sent = Drive(d, kT0, kT0 + Duration::Minutes(30), [](Timestamp now) {
    if (now > kT0 + Duration::Minutes(1)) return std::vector<Alert>{};
    return std::vector<Alert>{Firing(R"({alertname="Burn"})", kT0, now)};
  });
  ASSERT_EQ(Offsets(sent, kT0),
            (std::vector<Duration>{Duration::Seconds(30),
                                   Duration::Minutes(5) + Duration::Seconds(30)}));
  // By the +5m30s tick its ends_at (+5m) has passed: it is sent as resolved, at that end.
  const Notification& n = sent[1].n;
  EXPECT_EQ(n.reason, NotifyReason::kAllAlertsResolved);
  ASSERT_EQ(n.alerts.size(), 1u);
  EXPECT_EQ(n.alerts[0].status, AlertStatus::kResolved);
  EXPECT_EQ(n.alerts[0].ends_at, kT0 + Duration::Minutes(5));
  EXPECT_EQ(d.group_count(), 0u);
}

TEST(DispatcherTest, AFiringAlertWithoutEndsAtLastsResolveTimeout) {
  AlertmanagerConfig config = Config(Root({"alertname"}, Duration::Zero(), Duration::Minutes(1),
                                          Duration::Hours(4)));
  config.global.resolve_timeout = Duration::Minutes(3);
  Dispatcher d(config, nullptr);
  Alert a = Firing(R"({alertname="Burn"})", kT0, kT0);
  a.ends_at = Timestamp();
  d.Receive({a}, kT0);
  ASSERT_EQ(FlushAndRecord(d, kT0).size(), 1u);
  EXPECT_TRUE(FlushAndRecord(d, kT0 + Duration::Minutes(2)).empty());  // still firing
  auto sent = FlushAndRecord(d, kT0 + Duration::Minutes(3));            // kT0 + 3m: resolved
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].Status(), AlertStatus::kResolved);
}

// ---- Inhibition ----------------------------------------------------------------------------

TEST(DispatcherTest, InhibitionMutesTargetsWithEqualLabelsWhileTheSourceFires) {
  struct Case {
    std::string name;
    std::vector<std::string> source;  // the page alerts' labels (firing)
    bool source_resolved;
    std::vector<std::string> want;  // notified ticket alerts at the first flush
  };
  const std::vector<Case> cases = {
      {"no source: both tickets", {}, false,
       {R"({alertname="Ticket",region="eu",severity="ticket"} firing)",
        R"({alertname="Ticket",region="us",severity="ticket"} firing)"}},
      {"page in eu mutes eu only", {R"({alertname="Page",region="eu",severity="page"})"}, false,
       {R"({alertname="Ticket",region="us",severity="ticket"} firing)"}},
      {"page in ap mutes neither", {R"({alertname="Page",region="ap",severity="page"})"}, false,
       {R"({alertname="Ticket",region="eu",severity="ticket"} firing)",
        R"({alertname="Ticket",region="us",severity="ticket"} firing)"}},
      {"resolved page mutes nothing", {R"({alertname="Page",region="eu",severity="page"})"}, true,
       {R"({alertname="Ticket",region="eu",severity="ticket"} firing)",
        R"({alertname="Ticket",region="us",severity="ticket"} firing)"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RouteConfig root = Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                            Duration::Hours(4));
    RouteConfig tickets;  // pages go nowhere but still inhibit
    tickets.receiver = "default";
    tickets.matchers = M(R"(severity="ticket")");
    RouteConfig pages;
    pages.receiver = "nobody";
    pages.matchers = M(R"(severity="page")");
    root.routes = {tickets, pages};
    AlertmanagerConfig config = Config(root, {Webhook("default"), Receiver{"nobody", {}}});
    config.inhibit_rules.push_back(
        InhibitRule{"", M(R"(severity="page")"), M(R"(severity="ticket")"), {"region"}});
    Dispatcher d(config, nullptr);
    std::vector<Alert> alerts = {
        Firing(R"({alertname="Ticket",region="eu",severity="ticket"})", kT0, kT0),
        Firing(R"({alertname="Ticket",region="us",severity="ticket"})", kT0, kT0)};
    for (const std::string& s : c.source) {
      alerts.push_back(c.source_resolved ? Resolved(s, kT0, kT0) : Firing(s, kT0, kT0));
    }
    d.Receive(alerts, kT0);
    auto sent = FlushAndRecord(d, kT0 + Duration::Seconds(30));
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(AlertNames(sent[0]), c.want);
  }
}

TEST(DispatcherTest, AnInhibitedAlertIsNotifiedOnceItsSourceResolves) {
  RouteConfig root = Root({"region"}, Duration::Seconds(30), Duration::Minutes(5),
                          Duration::Hours(4));
  AlertmanagerConfig config = Config(root);
  config.inhibit_rules.push_back(
      InhibitRule{"", M(R"(severity="page")"), M(R"(severity="ticket")"), {"region"}});
  Dispatcher d(config, nullptr);
  const Timestamp page_resolves = kT0 + Duration::Minutes(7);
  auto sent = Drive(d, kT0, kT0 + Duration::Minutes(12), [&](Timestamp now) {
    std::vector<Alert> alerts = {
        Firing(R"({alertname="Ticket",region="eu",severity="ticket"})", kT0, now)};
    if (now < page_resolves) {
      alerts.push_back(Firing(R"({alertname="Page",region="eu",severity="page"})", kT0, now));
    } else if (now == page_resolves) {
      alerts.push_back(Resolved(R"({alertname="Page",region="eu",severity="page"})", kT0, now));
    }
    return alerts;
  });
  // +30s: the page alone; +10m30s: the page resolved and the ticket, now uninhibited, new.
  ASSERT_EQ(Offsets(sent, kT0),
            (std::vector<Duration>{Duration::Seconds(30),
                                   Duration::Minutes(10) + Duration::Seconds(30)}));
  EXPECT_EQ(AlertNames(sent[0].n),
            (std::vector<std::string>{R"({alertname="Page",region="eu",severity="page"} firing)"}));
  EXPECT_EQ(sent[1].n.reason, NotifyReason::kNewAlertsInGroup);
  EXPECT_EQ(AlertNames(sent[1].n),
            (std::vector<std::string>{
                R"({alertname="Page",region="eu",severity="page"} resolved)",
                R"({alertname="Ticket",region="eu",severity="ticket"} firing)"}));
}

// ---- Silences ------------------------------------------------------------------------------

TEST(DispatcherTest, ASilenceMutesUntilItEndsOrIsExpired) {
  struct Case {
    std::string name;
    Duration silence_ends;              // after kT0
    std::optional<Duration> expire_at;  // Expire called then
    Duration want_first;
  };
  const std::vector<Case> cases = {
      // The silence's end is inclusive: at +10m it still mutes; the tick at +10m30s is free.
      {"ends by itself", Duration::Minutes(10), std::nullopt,
       Duration::Minutes(10) + Duration::Seconds(30)},
      {"expired early", Duration::Hours(2), Duration::Minutes(3),
       Duration::Minutes(5) + Duration::Seconds(30)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    int next_id = 0;
    SilenceStore silences([&] { return "s" + std::to_string(++next_id); });
    Silence s;
    s.matchers = M(R"(region="eu")");
    s.starts_at = kT0;
    s.ends_at = kT0 + c.silence_ends;
    s.created_by = "oncall";
    s.comment = "maintenance";
    auto id = silences.Add(s, kT0);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    Dispatcher d(Config(Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                             Duration::Hours(4))),
                 &silences);
    auto sent = Drive(d, kT0, kT0 + Duration::Minutes(12), [&](Timestamp now) {
      if (c.expire_at && now == kT0 + *c.expire_at) {
        EXPECT_TRUE(silences.Expire(*id, now).ok());
      }
      return std::vector<Alert>{Firing(R"({alertname="Burn",region="eu"})", kT0, now)};
    });
    ASSERT_FALSE(sent.empty());
    EXPECT_EQ(sent[0].at - kT0, c.want_first);
    // Nothing was recorded while muted: the first notification is a first notification.
    EXPECT_EQ(sent[0].n.reason, NotifyReason::kFirstNotification);
  }
}

TEST(DispatcherTest, MutedAlertsAreLeftOutAndAreNoChange) {
  int next_id = 0;
  SilenceStore silences([&] { return "s" + std::to_string(++next_id); });
  Silence s;
  s.matchers = M(R"(region="us")");
  s.starts_at = kT0;
  s.ends_at = kT0 + Duration::Minutes(20);
  s.created_by = "oncall";
  s.comment = "us is known broken";
  ASSERT_TRUE(silences.Add(s, kT0).ok());
  Dispatcher d(Config(Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                           Duration::Hours(4))),
               &silences);
  auto sent = Drive(d, kT0, kT0 + Duration::Minutes(25), [](Timestamp now) {
    std::vector<Alert> alerts = {Firing(R"({alertname="Burn",region="eu"})", kT0, now)};
    if (now >= kT0 + Duration::Minutes(1)) {
      const Timestamp us_starts = kT0 + Duration::Minutes(1);
      alerts.push_back(Firing(R"({alertname="Burn",region="us"})", us_starts, now));
    }
    return alerts;
  });
  // us joins at +1m but is silenced: the ticks at +5m30s ... +15m30s see nothing new. The
  // silence ends at +20m; the +20m30s tick adds us.
  ASSERT_EQ(Offsets(sent, kT0),
            (std::vector<Duration>{Duration::Seconds(30),
                                   Duration::Minutes(20) + Duration::Seconds(30)}));
  EXPECT_EQ(AlertNames(sent[0].n),
            (std::vector<std::string>{R"({alertname="Burn",region="eu"} firing)"}));
  EXPECT_EQ(sent[1].n.reason, NotifyReason::kNewAlertsInGroup);
  EXPECT_EQ(AlertNames(sent[1].n),
            (std::vector<std::string>{R"({alertname="Burn",region="eu"} firing)",
                                      R"({alertname="Burn",region="us"} firing)"}));
}

TEST(SilenceStoreTest, StatesAddUpdateAndExpire) {
  int next_id = 0;
  SilenceStore store([&] { return "s" + std::to_string(++next_id); });
  Silence s;
  s.matchers = M(R"(region="eu")");
  s.starts_at = kT0 + Duration::Minutes(10);
  s.ends_at = kT0 + Duration::Minutes(20);
  s.created_by = "a";
  s.comment = "c";
  auto id = store.Add(s, kT0);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "s1");
  const core::Labels eu = L(R"({region="eu"})");
  // Alertmanager: the API's state (CurrentState) is expired from ends_at on; muting's
  // (getState) is active up to ends_at included.
  struct Probe {
    Duration at;
    SilenceState state;
    bool mutes;
  };
  const Duration ns = Duration::Nanoseconds(1);
  for (const Probe& p : std::vector<Probe>{
           {Duration::Minutes(10) - ns, SilenceState::kPending, false},
           {Duration::Minutes(10), SilenceState::kActive, true},
           {Duration::Minutes(20) - ns, SilenceState::kActive, true},
           {Duration::Minutes(20), SilenceState::kExpired, true},
           {Duration::Minutes(20) + ns, SilenceState::kExpired, false}}) {
    SCOPED_TRACE(p.at.ToString());
    EXPECT_EQ(store.Get("s1")->State(kT0 + p.at), p.state);
    EXPECT_EQ(store.Mutes(eu, kT0 + p.at), p.mutes);
  }
  EXPECT_FALSE(store.Mutes(L(R"({region="us"})"), kT0 + Duration::Minutes(15)));

  // A pending silence may move its end in place; changing its matchers makes a new one.
  s.id = "s1";
  s.ends_at = kT0 + Duration::Minutes(30);
  EXPECT_EQ(store.Add(s, kT0).value(), "s1");
  s.matchers = M(R"(region="us")");
  EXPECT_EQ(store.Add(s, kT0).value(), "s2");
  EXPECT_EQ(store.Get("s1")->State(kT0 + Duration::Seconds(1)), SilenceState::kExpired);
  EXPECT_EQ(store.List().size(), 2u);

  // Expiring an active silence ends it now; expiring again is no error.
  ASSERT_TRUE(store.Expire("s2", kT0 + Duration::Minutes(15)).ok());
  EXPECT_EQ(store.Get("s2")->ends_at, kT0 + Duration::Minutes(15));
  // At that instant the API shows it expired while it still mutes (as Alertmanager: expire sets
  // endsAt = now, and getState is expired only after endsAt); a nanosecond later it does not.
  const core::Labels us = L(R"({region="us"})");
  EXPECT_EQ(store.Get("s2")->State(kT0 + Duration::Minutes(15)), SilenceState::kExpired);
  EXPECT_TRUE(store.Mutes(us, kT0 + Duration::Minutes(15)));
  EXPECT_FALSE(store.Mutes(us, kT0 + Duration::Minutes(15) + ns));
  EXPECT_TRUE(store.Expire("s2", kT0 + Duration::Minutes(16)).ok());
  EXPECT_EQ(store.Expire("nope", kT0).code(), core::StatusCode::kNotFound);

  // A start in the past becomes now.
  Silence past = s;
  past.id.clear();
  past.starts_at = kT0 - Duration::Hours(1);
  ASSERT_TRUE(store.Add(past, kT0).ok());
  EXPECT_EQ(store.Get("s3")->starts_at, kT0);
}

TEST(SilenceStoreTest, RejectsBadSilences) {
  SilenceStore store;
  Silence s;
  s.starts_at = kT0;
  s.ends_at = kT0 + Duration::Hours(1);
  EXPECT_EQ(store.Add(s, kT0).status().code(), core::StatusCode::kInvalidArgument);  // none
  s.matchers = M(R"(region=~".*")");  // matches every alert
  EXPECT_EQ(store.Add(s, kT0).status().code(), core::StatusCode::kInvalidArgument);
  s.matchers = M(R"(region="eu")");
  s.ends_at = kT0 - Duration::Seconds(1);
  EXPECT_EQ(store.Add(s, kT0).status().code(), core::StatusCode::kInvalidArgument);
  s.ends_at = kT0 + Duration::Hours(1);
  s.id = "unknown";
  EXPECT_EQ(store.Add(s, kT0).status().code(), core::StatusCode::kNotFound);
  s.id.clear();
  auto id = store.Add(s, kT0);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->size(), 36u);  // a UUID
  EXPECT_EQ((*id)[14], '4');
}

// ---- Time intervals ------------------------------------------------------------------------

TEST(DispatcherTest, MuteTimeIntervalAcrossBerlinsDstChange) {
  // "night" is 00:00-06:00 in Berlin. Berlin moves from CET (+01) to CEST (+02) at
  // 2026-03-29T01:00Z, so the night that ends on the 28th ends at 05:00Z, the one that ends
  // on the 29th at 04:00Z. An alert firing at night is first notified at the first tick after.
  struct Case {
    std::string name;
    std::string fires;
    std::string want_first;
  };
  const std::vector<Case> cases = {
      {"winter time", "2026-03-28T01:30:00Z", "2026-03-28T05:00:30Z"},
      {"summer time, the night of the change", "2026-03-29T01:30:00Z", "2026-03-29T04:00:30Z"},
      {"summer time", "2026-03-30T01:30:00Z", "2026-03-30T04:00:30Z"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TimeInterval night;
    ASSERT_TRUE(night.SetLocation("Europe/Berlin").ok());
    night.times = {{0, 6 * 60}};
    RouteConfig root = Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                            Duration::Hours(4));
    root.mute_time_intervals = {"night"};
    AlertmanagerConfig config = Config(root);
    config.time_intervals["night"] = {night};
    Dispatcher d(config, nullptr);
    const Timestamp fires = At(c.fires);
    auto sent = Drive(d, fires, fires + Duration::Hours(5), [&](Timestamp now) {
      return std::vector<Alert>{Firing(R"({alertname="Burn"})", fires, now)};
    });
    ASSERT_FALSE(sent.empty());
    EXPECT_EQ(sent[0].at, At(c.want_first)) << sent[0].at.ToRfc3339();
  }
}

TEST(DispatcherTest, ActiveTimeIntervalNotifiesOnlyInsideIt) {
  TimeInterval office;
  ASSERT_TRUE(office.SetLocation("Europe/Berlin").ok());
  office.times = {{9 * 60, 17 * 60}};
  RouteConfig root = Root({"alertname"}, Duration::Seconds(30), Duration::Minutes(5),
                          Duration::Hours(4));
  root.active_time_intervals = {"office"};
  AlertmanagerConfig config = Config(root);
  config.time_intervals["office"] = {office};
  Dispatcher d(config, nullptr);
  // 06:30Z is 08:30 in Berlin in summer; the office opens at 07:00Z.
  const Timestamp fires = At("2026-06-10T06:30:00Z");
  auto sent = Drive(d, fires, fires + Duration::Hours(1), [&](Timestamp now) {
    return std::vector<Alert>{Firing(R"({alertname="Burn"})", fires, now)};
  });
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].at, At("2026-06-10T07:00:30Z"));
}

// ---- Group keys ----------------------------------------------------------------------------

TEST(GroupKeyTest, QuotesValuesAsGo) {
  core::Labels labels = L("{a=\"x\\\"y\", b=\"line\\nbreak\", c=\"caf\xc3\xa9\", d=\"tab\\\\t\"}");
  EXPECT_EQ(GroupKey("{}/{severity=\"page\"}", labels),
            "{}/{severity=\"page\"}:{a=\"x\\\"y\", b=\"line\\nbreak\", c=\"caf\xc3\xa9\", "
            "d=\"tab\\\\t\"}");
  EXPECT_EQ(GroupKey("{}", core::Labels()), "{}:{}");
}

}  // namespace
}  // namespace nines::alerting

// Notification throughput: 10,000 firing alerts in 1,000 aggregation groups through an
// Alertmanager-like config (a route tree with matchers, regexes, `continue` and an inhibit rule,
// parsed from YAML by app/'s ParseAlertmanagerConfig), as nines' alerting does it:
//  - BM_Dispatch: alerting::Dispatcher::Receive of the 10,000 alerts, then the Flush that turns
//    them into 1,000 notifications (routing, grouping, inhibition checks, dedup against the
//    notification log);
//  - BM_DispatchAndPayloads: the same, plus each notification's webhook payload (Alertmanager's
//    version 4 JSON, alerting::BuildRequests with the built-in templates) and its record in a
//    notification log (alerting::FileNotificationLog, in a temp dir, sync off as nines' default).
// Reported per iteration (1,000 notifications); items_per_second counts notifications, so the
// time per notification is 1 / items_per_second.
//
// The alerts: alertname SloBurnRate, 100 SLOs x 10 regions (the group_by [alertname, slo,
// region] groups), 10 probes each. Even SLOs are pages, odd ones tickets (team api or web), so
// they take different routes; the inhibit rule (a page mutes tickets of its SLO and region) is
// checked for every group and never matches, so every group notifies.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "alerting/dispatcher.h"
#include "alerting/notification_log.h"
#include "alerting/notifiers.h"
#include "alerting/template_set.h"
#include "app/alerting_config.h"
#include "core/labels.h"
#include "core/time.h"

namespace nines::bench {
namespace {

using core::Duration;
using core::Timestamp;

constexpr int kSlos = 100;
constexpr int kRegions = 10;
constexpr int kProbes = 10;
constexpr int kGroups = kSlos * kRegions;
constexpr int kAlerts = kGroups * kProbes;
constexpr Timestamp kT0 = Timestamp::FromUnixSeconds(1'800'000'000);

// An Alertmanager config in its own format, with webhook receivers at `base` (http://host:port).
std::string ConfigYaml(const std::string& base) {
  return fmt::format(R"(route:
  receiver: default
  group_by: [alertname, slo, region]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['region=~"eu-.*"']
      receiver: eu-audit
      continue: true
    - matchers: ['severity="page"']
      receiver: pager
      group_wait: 0s
    - matchers: ['severity="ticket"', 'team=~"api|web"']
      receiver: tickets
      routes:
        - matchers: ['team="web"']
          receiver: web-tickets
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="ticket"']
    equal: [slo, region]
receivers:
  - name: default
    webhook_configs: [{{url: '{0}/default'}}]
  - name: eu-audit
  - name: pager
    webhook_configs: [{{url: '{0}/pager', send_resolved: true}}]
  - name: tickets
    webhook_configs: [{{url: '{0}/tickets'}}]
  - name: web-tickets
    webhook_configs: [{{url: '{0}/web-tickets'}}]
)",
                     base);
}

alerting::AlertmanagerConfig ParseConfig(const std::string& base) {
  alerting::AlertmanagerConfig config;
  std::vector<app::ConfigError> errors =
      app::ParseAlertmanagerConfig(ConfigYaml(base), "bench-alertmanager.yml", &config);
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    std::abort();
  }
  return config;
}

// The 10,000 alerts as the rule engine sends them at `now`.
std::vector<alerting::Alert> MakeAlerts(Timestamp now) {
  std::vector<alerting::Alert> alerts;
  alerts.reserve(kAlerts);
  for (int s = 0; s < kSlos; ++s) {
    for (int r = 0; r < kRegions; ++r) {
      for (int p = 0; p < kProbes; ++p) {
        core::Labels::Builder b;
        b.Set("alertname", "SloBurnRate");
        b.Set("slo", fmt::format("slo-{:03}", s));
        b.Set("region", r < 3 ? fmt::format("eu-west-{}", r + 1) : fmt::format("us-east-{}", r));
        b.Set("probe", fmt::format("probe-{}", p));
        b.Set("severity", s % 2 == 0 ? "page" : "ticket");
        b.Set("team", s % 4 < 2 ? "api" : "web");
        auto labels = b.Build();
        if (!labels.ok()) std::abort();
        alerting::Alert a;
        a.labels = *std::move(labels);
        a.annotations = {{"summary", fmt::format("slo-{:03} burns its budget", s)},
                         {"budget_remaining", "0.42"},
                         {"burn_rate_1h", "15.2"},
                         {"burn_rate_5m", "31.0"}};
        a.starts_at = now - Duration::Minutes(2);
        a.ends_at = alerting::FiringEndsAt(now, Duration::Minutes(1), Duration::Seconds(10));
        a.generator_url = fmt::format("http://127.0.0.1:9099/api/v1/slos/slo-{:03}", s);
        a.value = 15.2;
        alerts.push_back(std::move(a));
      }
    }
  }
  return alerts;
}

void BM_Dispatch(benchmark::State& state) {
  const alerting::AlertmanagerConfig config = ParseConfig("http://127.0.0.1:9");
  const std::vector<alerting::Alert> alerts = MakeAlerts(kT0);
  size_t notifications = 0;
  for (auto _ : state) {
    alerting::Dispatcher dispatcher(config, nullptr);
    dispatcher.Receive(alerts, kT0);
    std::vector<alerting::Notification> out = dispatcher.Flush(kT0 + Duration::Seconds(30));
    notifications = out.size();
    benchmark::DoNotOptimize(out);
  }
  // 1,000 groups; the eu-audit receiver has no integrations, so it notifies nobody.
  if (notifications != kGroups) {
    state.SkipWithError(fmt::format("{} notifications, want {}", notifications, kGroups).c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kGroups);
  state.counters["alerts"] = kAlerts;
  state.counters["notifications"] = static_cast<double>(notifications);
}
BENCHMARK(BM_Dispatch)->Unit(benchmark::kMillisecond);

void BM_DispatchAndPayloads(benchmark::State& state) {
  const alerting::AlertmanagerConfig config = ParseConfig("http://127.0.0.1:9");
  const std::vector<alerting::Alert> alerts = MakeAlerts(kT0);
  const alerting::TemplateSet templates;
  const alerting::NotifyContext context{.external_url = "http://127.0.0.1:9099",
                                        .templates = &templates};
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    fmt::format("nines_alerting_bench.{}", ::getpid());
  std::filesystem::create_directories(dir);
  size_t notifications = 0, bytes = 0;
  const Timestamp flush_at = kT0 + Duration::Seconds(30);
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove(dir / "nflog");
    auto log = alerting::FileNotificationLog::Open((dir / "nflog").string(), false, kT0);
    if (!log.ok()) {
      state.SkipWithError(log.status().ToString().c_str());
      break;
    }
    state.ResumeTiming();
    alerting::Dispatcher dispatcher(config, nullptr, log->get());
    dispatcher.Receive(alerts, kT0);
    std::vector<alerting::Notification> out = dispatcher.Flush(flush_at);
    notifications = out.size();
    bytes = 0;
    for (const alerting::Notification& n : out) {
      const alerting::Receiver* r = config.FindReceiver(n.receiver);
      auto requests =
          alerting::BuildRequests(n, r->integrations[n.integration_index], config.global, context);
      if (!requests.ok()) {
        state.SkipWithError(requests.status().ToString().c_str());
        break;
      }
      for (const alerting::OutgoingRequest& req : *requests) bytes += req.http.body.size();
      if (core::Status s = (*log)->Record(n, flush_at); !s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        break;
      }
    }
  }
  std::filesystem::remove_all(dir);
  if (notifications != kGroups) {
    state.SkipWithError(fmt::format("{} notifications, want {}", notifications, kGroups).c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kGroups);
  state.counters["payload_bytes"] = static_cast<double>(bytes) / kGroups;
}
BENCHMARK(BM_DispatchAndPayloads)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nines::bench

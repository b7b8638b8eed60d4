// Notification throughput: 10,000 firing alerts in 1,000 aggregation groups
// through an Alertmanager-like config (a route tree with matchers, regexes,
// `continue` and an inhibit rule, parsed from YAML by app/'s
// ParseAlertmanagerConfig), as nines' alerting does it:
//  - BM_Dispatch: alerting::Dispatcher::Receive of the 10,000 alerts, then the
//  Flush that turns
//    them into 1,000 notifications (routing, grouping, inhibition checks, dedup
//    against the notification log);
//  - BM_DispatchAndPayloads: the same, plus each notification's webhook payload
//  (Alertmanager's
//    version 4 JSON, alerting::BuildRequests with the built-in templates) and
//    its record in a notification log (alerting::FileNotificationLog, in a temp
//    dir, sync off as nines' default);
//  - BM_Deliver: the whole path: dispatch, payloads, one
//  alerting::DeliveryQueue per receiver
//    integration (its own thread, the default HTTP transport: net::HttpClient,
//    keep-alive) POSTing to a loopback webhook receiver in this process (a
//    net::Server, one I/O thread, that counts the requests), and the
//    notification log's record when each delivery is done. Wall time, and the
//    CPU of the whole process (MeasureProcessCPUTime), which includes the
//    receiver's.
// Reported per iteration (1,000 notifications); items_per_second counts
// notifications, so the time per notification is 1 / items_per_second.
//
// The alerts: alertname SloBurnRate, 100 SLOs x 10 regions (the group_by
// [alertname, slo, region] groups), 10 probes each. Even SLOs are pages, odd
// ones tickets (team api or web), so they take different routes; the inhibit
// rule (a page mutes tickets of its SLO and region) is checked for every group
// and never matches, so every group notifies.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerting/delivery.h"
#include "alerting/dispatcher.h"
#include "alerting/notification_log.h"
#include "alerting/notifiers.h"
#include "alerting/template_set.h"
#include "app/alerting_config.h"
#include "core/clock.h"
#include "core/labels.h"
#include "core/time.h"
#include "net/net.h"

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

// An Alertmanager config in its own format, with webhook receivers at `base`
// (http://host:port).
std::string ConfigYaml(const std::string &base) {
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

alerting::AlertmanagerConfig ParseConfig(const std::string &base) {
  alerting::AlertmanagerConfig config;
  std::vector<app::ConfigError> errors =
      app::ParseAlertmanagerConfig(ConfigYaml(base), "bench-alertmanager.yml", &config);
  if (!errors.empty()) {
    for (const auto &e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
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

void BM_Dispatch(benchmark::State &state) {
  const alerting::AlertmanagerConfig config = ParseConfig("http://127.0.0.1:9");
  const std::vector<alerting::Alert> alerts = MakeAlerts(kT0);
  size_t notifications = 0;
  std::unique_ptr<alerting::Dispatcher> dispatcher;
  std::vector<alerting::Notification> out;
  for (auto _ : state) {
    state.PauseTiming();  // the previous round's groups and notifications are freed untimed
    out.clear();
    dispatcher.reset();
    state.ResumeTiming();
    dispatcher = std::make_unique<alerting::Dispatcher>(config, nullptr);
    dispatcher->Receive(alerts, kT0);
    out = dispatcher->Flush(kT0 + Duration::Seconds(30));
    notifications = out.size();
    benchmark::DoNotOptimize(out);
  }
  // 1,000 groups; the eu-audit receiver has no integrations, so it notifies
  // nobody.
  if (notifications != kGroups) {
    state.SkipWithError(fmt::format("{} notifications, want {}", notifications, kGroups).c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kGroups);
  state.counters["alerts"] = kAlerts;
  state.counters["notifications"] = static_cast<double>(notifications);
}
BENCHMARK(BM_Dispatch)->Unit(benchmark::kMillisecond);

void BM_DispatchAndPayloads(benchmark::State &state) {
  const alerting::AlertmanagerConfig config = ParseConfig("http://127.0.0.1:9");
  const std::vector<alerting::Alert> alerts = MakeAlerts(kT0);
  const alerting::TemplateSet templates;
  const alerting::NotifyContext context{.external_url = "http://127.0.0.1:9099",
                                        .templates = &templates};
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("nines_alerting_bench.{}", ::getpid());
  std::filesystem::create_directories(dir);
  size_t notifications = 0, bytes = 0;
  const Timestamp flush_at = kT0 + Duration::Seconds(30);
  std::unique_ptr<alerting::Dispatcher> dispatcher;
  std::unique_ptr<alerting::FileNotificationLog> log;
  std::vector<alerting::Notification> out;
  for (auto _ : state) {
    state.PauseTiming();  // the previous round freed untimed, and a fresh log
    out.clear();
    dispatcher.reset();
    log.reset();
    std::filesystem::remove(dir / "nflog");
    auto opened = alerting::FileNotificationLog::Open((dir / "nflog").string(), false, kT0);
    if (!opened.ok()) {
      state.SkipWithError(opened.status().ToString().c_str());
      break;
    }
    log = *std::move(opened);
    state.ResumeTiming();
    dispatcher = std::make_unique<alerting::Dispatcher>(config, nullptr, log.get());
    dispatcher->Receive(alerts, kT0);
    out = dispatcher->Flush(flush_at);
    notifications = out.size();
    bytes = 0;
    for (const alerting::Notification &n : out) {
      const alerting::Receiver *r = config.FindReceiver(n.receiver);
      auto requests =
          alerting::BuildRequests(n, r->integrations[n.integration_index], config.global, context);
      if (!requests.ok()) {
        state.SkipWithError(requests.status().ToString().c_str());
        break;
      }
      for (const alerting::OutgoingRequest &req : *requests) bytes += req.http.body.size();
      if (core::Status s = log->Record(n, flush_at); !s.ok()) {
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

// The loopback webhook receiver: answers 200 to POST /{receiver} and counts
// requests and bytes.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    net::Router router;
    router.Handle("POST", "/{receiver}", net::Access::kPublic, [this](const net::Request &req) {
      requests_.fetch_add(1, std::memory_order_relaxed);
      bytes_.fetch_add(req.body.size(), std::memory_order_relaxed);
      return net::Response::Text(200, "");
    });
    net::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    auto server = net::Server::Start(options, std::move(router), core::RealClock(), nullptr);
    if (!server.ok()) {
      std::fprintf(stderr, "receiver: %s\n", server.status().ToString().c_str());
      std::abort();
    }
    server_ = *std::move(server);
  }
  std::string base() const { return "http://" + server_->address(); }
  int64_t requests() const { return requests_.load(); }
  int64_t bytes() const { return bytes_.load(); }

 private:
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> bytes_{0};
  std::unique_ptr<net::Server> server_;
};

// Counts the deliveries that are done; Wait returns when `want` are, or after a
// minute.
class DoneCounter {
 public:
  void Add(bool delivered) {
    std::lock_guard lock(mu_);
    ++done_;
    if (!delivered) ++failed_;
    cv_.notify_all();
  }
  bool Wait(int want) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::minutes(1), [&] { return done_ >= want; });
  }
  void Reset() {
    std::lock_guard lock(mu_);
    done_ = failed_ = 0;
  }
  int failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;
  int failed_ = 0;
};

void BM_Deliver(benchmark::State &state) {
  WebhookReceiver receiver;
  const alerting::AlertmanagerConfig config = ParseConfig(receiver.base());
  const std::vector<alerting::Alert> alerts = MakeAlerts(kT0);
  const alerting::TemplateSet templates;
  const alerting::NotifyContext context{.external_url = "http://127.0.0.1:9099",
                                        .templates = &templates};
  std::unique_ptr<alerting::Transport> transport =
      alerting::MakeDefaultTransport(Duration::Seconds(10));
  std::map<std::string, std::unique_ptr<alerting::DeliveryQueue>> queues;  // one per integration
  alerting::DeliveryOptions options;
  options.max_queue = 2 * kGroups;
  for (const alerting::Receiver &r : config.receivers) {
    for (size_t i = 0; i < r.integrations.size(); ++i) {
      queues[fmt::format("{}/{}", r.name, i)] = std::make_unique<alerting::DeliveryQueue>(
          r.name, fmt::format("webhook[{}]", i), *transport, options);
    }
  }
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("nines_alerting_bench.{}", ::getpid());
  std::filesystem::create_directories(dir);
  const Timestamp flush_at = kT0 + Duration::Seconds(30);
  DoneCounter done;
  const int64_t requests_before = receiver.requests();
  std::unique_ptr<alerting::Dispatcher> dispatcher;
  std::vector<alerting::Notification> out;
  for (auto _ : state) {
    state.PauseTiming();  // the previous round freed untimed, and a fresh log
    out.clear();
    dispatcher.reset();
    done.Reset();
    std::filesystem::remove(dir / "nflog");
    auto opened = alerting::FileNotificationLog::Open((dir / "nflog").string(), false, kT0);
    if (!opened.ok()) {
      state.SkipWithError(opened.status().ToString().c_str());
      break;
    }
    std::shared_ptr<alerting::NotificationLog> log = *std::move(opened);
    state.ResumeTiming();
    dispatcher = std::make_unique<alerting::Dispatcher>(config, nullptr, log.get());
    dispatcher->Receive(alerts, kT0);
    out = dispatcher->Flush(flush_at);
    int sent = 0;
    for (alerting::Notification &n : out) {
      const alerting::Receiver *r = config.FindReceiver(n.receiver);
      auto requests =
          alerting::BuildRequests(n, r->integrations[n.integration_index], config.global, context);
      if (!requests.ok()) {
        state.SkipWithError(requests.status().ToString().c_str());
        break;
      }
      alerting::DeliveryQueue &queue =
          *queues[fmt::format("{}/{}", n.receiver, n.integration_index)];
      std::string key = n.group_key;
      auto note = std::make_shared<alerting::Notification>(std::move(n));
      queue.Enqueue(std::move(key), *std::move(requests),
                    [note, log, &done](const alerting::DeliveryResult &result) {
                      bool ok = result.outcome == alerting::DeliveryResult::Outcome::kDelivered;
                      if (ok) ok = log->Record(*note, result.delivered_at).ok();
                      done.Add(ok);
                    });
      ++sent;
    }
    if (!done.Wait(sent)) {
      state.SkipWithError("deliveries not done within a minute");
      break;
    }
    if (sent != kGroups || done.failed() != 0) {
      state.SkipWithError(fmt::format("{} sent, {} failed", sent, done.failed()).c_str());
      break;
    }
  }
  for (auto &[name, queue] : queues) queue->Stop(Duration::Seconds(5));
  std::filesystem::remove_all(dir);
  const int64_t received = receiver.requests() - requests_before;
  if (received != static_cast<int64_t>(state.iterations()) * kGroups) {
    state.SkipWithError(fmt::format("the receiver got {} requests", received).c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kGroups);
  state.counters["received_bytes"] =
      static_cast<double>(receiver.bytes()) / std::max<int64_t>(received, 1);
}
BENCHMARK(BM_Deliver)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(5);

}  // namespace
}  // namespace nines::bench

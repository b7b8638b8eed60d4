// alerting/alertmanager_push.h: pushing nines' alerts to existing
// Alertmanagers, as Prometheus' notifier does, so a team can keep its
// Alertmanager cluster (routing, receivers, silences) while nines evaluates the
// rules.
//
//  - AlertmanagerNotifier: a Notifier (alerting.h) that POSTs each batch of alerts to
//    `<url>/api/v2/alerts` of every configured Alertmanager (Prometheus sends
//    to every one, with no load balancing: an Alertmanager cluster dedups).
//    Each alert is a postableAlert: labels, annotations, startsAt, endsAt,
//    generatorURL. Firing alerts carry the ends_at the rule engine gives them
//    (FiringEndsAt: the engine resends every firing alert each evaluation with
//    a later one, so the Alertmanager resolves the alerts of a dead engine by
//    itself); resolved ones carry their resolve time. At most `max_batch`
//    alerts per request.
//  - As in Prometheus, a failed request (refused, timeout, non-2xx) is not retried: it is
//    logged and counted, and the next evaluation's resend carries the same
//    state.
//  - Put it behind a QueueingAlertSink: Notify blocks for the requests (each bounded by
//    `timeout`; the Alertmanagers are posted to concurrently).
//  - Metrics per Alertmanager (label `alertmanager`: the URL without credentials or query):
//    nines_alertmanager_notifications_total (alerts sent),
//    nines_alertmanager_notification_errors_total (alerts in failed requests),
//    nines_alertmanager_notification_latency_seconds (histogram, per request).
//  - Secrets (the bearer token, the basic-auth password) never reach logs or metrics.
//
// Thread-safety: Notify may be called from several threads (the
// QueueingAlertSink calls it from one); the notifier's HTTP client pools
// connections per Alertmanager.
#ifndef NINES_ALERTING_ALERTMANAGER_PUSH_H_
#define NINES_ALERTING_ALERTMANAGER_PUSH_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "alerting/alerting.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/time.h"
#include "net/http_client.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::alerting {

struct AlertmanagerPushOptions {
  // The Alertmanagers, each as its base URL ("http://alertmanager:9093", or
  // with a path prefix when it serves under one:
  // "https://am.example.com/alertmanager"). REQUIRED: at least one.
  std::vector<std::string> urls{};
  // Per request (Prometheus' default per Alertmanager: 10s). REQUIRES: > 0.
  core::Duration timeout = core::Duration::Seconds(10);
  // At most this many alerts per request (Prometheus sends up to 256; nines'
  // queue hands out 64). REQUIRES: > 0.
  size_t max_batch = 64;
  // "Authorization: Bearer <token>" when set.
  std::string bearer_token{};
  // "Authorization: Basic ..." when basic_auth_username is set (not with
  // bearer_token).
  std::string basic_auth_username{};
  std::string basic_auth_password{};
  // TLS and connection settings (request_timeout is replaced by `timeout`).
  net::ClientOptions client{};
  // For the latency histogram; null: core::RealClock().
  core::Clock* clock = nullptr;
  // Where the metrics go; null: none are kept.
  prometheus::Registry* registry = nullptr;
};

class AlertmanagerNotifier final : public Notifier {
 public:
  // Errors: INVALID_ARGUMENT for no URL, a URL that is not absolute http(s)
  // (named, without credentials), a bad timeout or max_batch, both a bearer
  // token and basic auth, or unusable TLS files.
  static core::Result<std::unique_ptr<AlertmanagerNotifier>> Create(
      AlertmanagerPushOptions options);
  ~AlertmanagerNotifier() override;
  AlertmanagerNotifier(const AlertmanagerNotifier&) = delete;
  AlertmanagerNotifier& operator=(const AlertmanagerNotifier&) = delete;

  // POSTs `alerts` to every Alertmanager in batches of at most max_batch;
  // returns when every request finished or timed out. Failures are logged
  // (rate-limited) and counted.
  void Notify(const std::vector<Alert>& alerts) override;

  // Totals over all Alertmanagers since creation (also without a registry). For
  // tests.
  uint64_t alerts_sent() const;
  uint64_t alerts_failed() const;

 private:
  class Impl;
  explicit AlertmanagerNotifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The postableAlerts body (a JSON array) for `alerts`: per alert "labels",
// "annotations", "startsAt" and "endsAt" (RFC 3339, left out when zero) and
// "generatorURL" (left out when empty), in that order.
std::string PostableAlertsJson(const std::vector<Alert>& alerts);

}  // namespace nines::alerting

#endif  // NINES_ALERTING_ALERTMANAGER_PUSH_H_

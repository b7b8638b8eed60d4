// alerting/notifiers.h: what each receiver integration sends for one Notification, as its service
// documents it. Pure functions: no network, no clock, no files.
//
//  - webhook: Alertmanager's webhook payload, version 4 (one POST per notification; alerts
//    truncated to max_alerts, truncatedAlerts counting the rest).
//  - pagerduty: Events API v2 (one event per notification: "trigger" while any alert fires,
//    "resolve" when all resolved; dedup_key as Alertmanager makes it, the SHA-256 hex of the
//    group key, so it is stable per aggregation group, i.e. per alertname, slo and region with
//    nines' example route; severity from the `severity` field (default "error" as Alertmanager,
//    nines' example maps page -> critical); custom_details carry the budget annotations).
//  - slack: incoming webhook JSON: Alertmanager's attachment fields (title, text, color, fields,
//    actions) when written in the config, plus nines' blocks (region, SLO, budget left, burn
//    rates, the firing window pair, exhaustion ETA, links to nines).
//  - opsgenie: Alert API v2: create (POST /v2/alerts, alias = the dedup key) while firing, close
//    (POST /v2/alerts/{alias}/close?identifierType=alias) when all resolved.
//  - email: a message (subject, text and HTML bodies, headers) for the SMTP transport.
// Templated fields are rendered with a TemplateSet (alerting/template_set.h) over
// MakeTemplateData(notification); an unset field takes Alertmanager's default text.
//
// Thread-safety: stateless functions; safe from any thread.
#ifndef NINES_ALERTING_NOTIFIERS_H_
#define NINES_ALERTING_NOTIFIERS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/dispatcher.h"
#include "alerting/routing.h"
#include "alerting/template.h"
#include "core/status.h"
#include "net/http_client.h"

namespace nines::alerting {

class TemplateSet;

// One email, ready for the SMTP transport.
struct EmailMessage {
  std::string smarthost;  // "host:port"
  bool require_tls = true;  // STARTTLS required (Alertmanager's require_tls default: true)
  std::string hello;        // EHLO name
  std::string auth_username;
  std::string auth_password;  // a secret: never logged
  std::string auth_identity;
  std::string from;
  std::vector<std::string> to;  // envelope recipients
  std::map<std::string, std::string> headers;  // Subject, To, From, and the config's headers
  std::string text;  // text/plain body ("" for none)
  std::string html;  // text/html body ("" for none)
};

// One request an integration sends for a notification.
struct OutgoingRequest {
  enum class Kind { kHttp, kEmail };
  Kind kind = Kind::kHttp;
  net::ClientRequest http;  // kHttp: method, url, headers, body
  EmailMessage email;       // kEmail
  // Where it goes, safe for logs and metrics: secrets masked (a Slack or webhook URL's path,
  // keys in the query: "https://hooks.slack.com/<secret>").
  std::string target;
  // The key the receiving service folds repeats by (PagerDuty's dedup_key, Opsgenie's alias);
  // "" when the service has none.
  std::string dedup_key;
  // How a 2xx answer is judged (delivery.cc applies it).
  enum class ResponseCheck {
    kStatus,  // any 2xx is delivered
    // Slack's Web API (chat.postMessage with an app token) answers errors with 200 and
    // {"ok":false,"error":"channel_not_found"}: delivered only when the body's "ok" is true.
    // "ratelimited" and a body that is not such JSON are retried (as Alertmanager), any other
    // error is dropped without retry (logged, counted as dropped).
    kSlackApiOk,
  };
  ResponseCheck response_check = ResponseCheck::kStatus;
  // Secrets the request carries outside its URL and credential headers, or in a form those do
  // not show (PagerDuty's routing or service key in the body, API keys, tokens, passwords):
  // masked in every logged text, e.g. a receiver's error answer that echoes the request body.
  std::vector<std::string> secrets;
};

// Nines-wide settings the payloads need.
struct NotifyContext {
  // nines' external URL ("http://nines.example.com:9099"): the webhook's externalURL and the base
  // of links in pages. "" when unknown.
  std::string external_url;
  const TemplateSet* templates = nullptr;  // REQUIRED
};

// The data templates see for `n` (Alertmanager's template.Data): receiver, status, alerts with
// their fingerprints, group labels, common labels and annotations, external URL.
TemplateData MakeTemplateData(const Notification& n, std::string_view external_url);

// What `integration` (of the receiver n.receiver) sends for `n`: usually one request; none when
// there is nothing to send (e.g. a resolved-only notification for an integration that does not
// send_resolved). `global` gives the defaults the integration falls back to (slack_api_url,
// smtp_*, pagerduty_url, opsgenie_api_url/key).
// Errors: INVALID_ARGUMENT when a template fails to render or a rendered URL is invalid (the
// message names the receiver, the integration and the field); such a notification cannot be
// delivered and is dropped (counted) by the caller.
core::Result<std::vector<OutgoingRequest>> BuildRequests(const Notification& n,
                                                         const Integration& integration,
                                                         const GlobalConfig& global,
                                                         const NotifyContext& context);

}  // namespace nines::alerting

#endif  // NINES_ALERTING_NOTIFIERS_H_

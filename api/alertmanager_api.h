// api/alertmanager_api.h: Alertmanager's HTTP API v2, served by nines, so that amtool, Grafana's
// Alertmanager data source and anything else written against Alertmanager work unchanged.
//
//   GET    /api/v2/status         alertmanagerStatus (cluster "disabled", versionInfo, config,
//                                 uptime)
//   GET    /api/v2/receivers      [receiver]
//   GET    /api/v2/alerts         [gettableAlert]   filter, active, silenced, inhibited,
//                                                   unprocessed, receiver
//   POST   /api/v2/alerts         [postableAlert]   (write)
//   GET    /api/v2/alerts/groups  [alertGroup]      the same filters, and muted
//   GET    /api/v2/silences       [gettableSilence] filter
//   POST   /api/v2/silences       postableSilence -> {"silenceID": ...} (write)
//   GET    /api/v2/silence/{id}   gettableSilence
//   DELETE /api/v2/silence/{id}   expires it (write)
// The JSON shapes are Alertmanager 0.25's (api/v2/openapi.yaml), which its later versions still
// read: times as RFC 3339 with milliseconds in UTC, every required field present. As in
// Alertmanager, an error answer's body is a JSON string (the reason), not an object, so that
// amtool prints the reason; every reason names the field or parameter at fault.
//
// Auth: the three write routes are net::Access::kWrite, so once nines has tokens they need a
// write (or admin) bearer token, as every other write endpoint of nines. amtool (0.25 and later)
// sends one with `--http.config.file=FILE` where FILE holds `authorization: {credentials:
// TOKEN}` (Prometheus' http_config); reads are public, as in Alertmanager.
//
// What serves the data is an AlertmanagerBackend: app/ adapts the running alerting service to
// it. Handlers call the backend on the server's threads, concurrently:
// every method must be thread-safe, and the backend must outlive the server.
#ifndef NINES_API_ALERTMANAGER_API_H_
#define NINES_API_ALERTMANAGER_API_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alerting.h"
#include "alerting/dispatcher.h"
#include "alerting/service.h"
#include "alerting/silence.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/time.h"
#include "net/net.h"

namespace nines::api {

// What GET /api/v2/status shows besides the cluster (always "disabled": nines has no gossip).
struct AlertmanagerStatusInfo {
  std::string config_original{};  // the alerting configuration, YAML, secrets masked
  core::Timestamp started_at{};   // "uptime": when the process started
  std::string version{};          // versionInfo.version; "" = nines' own version
};

// The state the Alertmanager API reads and changes. Implementations are
// thread-safe.
class AlertmanagerBackend {
 public:
  virtual ~AlertmanagerBackend() = default;

  // Every alert held (firing, and resolved ones not yet collected), each with
  // the receivers its routes name and the silences and alerts that mute it.
  virtual std::vector<alerting::AlertView> Alerts() const = 0;
  // The aggregation groups as they stand (the alerts' state is looked up in
  // Alerts()).
  virtual std::vector<alerting::Dispatcher::GroupView> Groups() const = 0;
  // Every silence, expired ones included.
  virtual std::vector<alerting::Silence> Silences() const = 0;
  // Creates or updates a silence (alerting::SilenceStore::Add's contract and
  // errors).
  virtual core::Result<std::string> AddSilence(alerting::Silence silence) = 0;
  // Expires silence `id`. Errors: NOT_FOUND.
  virtual core::Status ExpireSilence(const std::string& id) = 0;
  // The configured receivers' names, in config order.
  virtual std::vector<std::string> ReceiverNames() const = 0;
  virtual AlertmanagerStatusInfo StatusInfo() const = 0;
  // Takes alerts POSTed by a client (a Prometheus, another nines). An alert
  // without endsAt has a zero ends_at (the dispatcher then applies
  // resolve_timeout); status is kResolved when its ends_at is not after the
  // time of the request. Must not block on I/O.
  // Errors: UNAVAILABLE when nothing runs to take them (they are not kept; the
  // route answers 503, so that the client sends them again).
  virtual core::Status Receive(std::vector<alerting::Alert> alerts) = 0;
  // OK when the state behind the API exists; UNAVAILABLE before it starts or
  // after it stopped. Every route but GET /api/v2/status then answers 503
  // with the message (an empty list would claim "no alerts, no silences").
  virtual core::Status Ready() const { return core::Status::Ok(); }
};

// Registers the routes above on `router`. `clock` gives "now" (silence states,
// which alerts have ended, POSTed alerts without startsAt); both must outlive
// the server.
void RegisterAlertmanagerRoutes(net::Router& router, AlertmanagerBackend& backend,
                                core::Clock& clock);

// ---- The documents and the parsers behind the routes (pure, for tests) --------------------------

// One gettableAlert. State: "suppressed" when silenced or inhibited, else
// "active".
std::string GettableAlertJson(const alerting::AlertView& view);
// [gettableAlert, ...] in the given order.
std::string GettableAlertsJson(const std::vector<alerting::AlertView>& views);
// One gettableSilence with its state at `now`.
std::string GettableSilenceJson(const alerting::Silence& silence, core::Timestamp now);
// [gettableSilence, ...] sorted as Alertmanager sorts them: active (ending
// first), pending (starting first), expired (ended last first).
std::string GettableSilencesJson(std::vector<alerting::Silence> silences, core::Timestamp now);
// [{"name": ...}, ...].
std::string ReceiversJson(const std::vector<std::string>& names);
// alertmanagerStatus.
std::string AlertmanagerStatusJson(const AlertmanagerStatusInfo& info);
// One alertGroup: {"alerts": [...], "labels": {...}, "receiver": {"name": ...}}.
std::string AlertGroupJson(const alerting::Dispatcher::GroupView& group,
                           const std::vector<alerting::AlertView>& alerts);

// Which alerts GET /api/v2/alerts and /api/v2/alerts/groups list
// (Alertmanager's parameters).
struct AlertmanagerAlertFilter {
  alerting::Matchers matchers;          // `filter`, repeated; all must match
  bool active = true;                   // include alerts neither silenced nor inhibited
  bool silenced = true;                 // include silenced alerts
  bool inhibited = true;                // include inhibited alerts
  bool unprocessed = true;              // include unprocessed alerts (nines lists none)
  bool muted = true;                    // groups only: include groups whose alerts are all muted
  std::optional<core::Regex> receiver;  // `receiver`, fully anchored

  // Whether `view` passes at `now` (ended alerts never do).
  bool Passes(const alerting::AlertView& view, core::Timestamp now) const;
};

// Parses the query parameters above from `query` (the raw query string).
// Errors: INVALID_ARGUMENT naming the parameter: a bad matcher in `filter`, a
// bad regex in `receiver`, a boolean other than true/false/1/0/t/f (any case).
core::Result<AlertmanagerAlertFilter> ParseAlertmanagerAlertFilter(std::string_view query);

// What POST /api/v2/alerts made of its body.
struct PostedAlerts {
  std::vector<alerting::Alert> valid;  // to be received
  std::vector<std::string> errors;     // "alerts[3].labels: ...", one per invalid alert
};

// Parses a postableAlerts body (a JSON array) at `now`, as Alertmanager does:
// empty label values dropped; startsAt defaults to now (or to endsAt when only
// that is given); an alert whose endsAt is not after `now` is resolved; Go's
// zero time ("0001-01-01T00:00:00Z") counts as absent. An alert that fails
// validation (no labels, a bad label name, endsAt before startsAt) is left out
// and named in `errors`; the others are kept.
// Errors: INVALID_ARGUMENT naming the offset or field when the body is not
// JSON, not an array, or a field has the wrong type (then nothing is kept).
core::Result<PostedAlerts> ParsePostableAlerts(std::string_view body, core::Timestamp now);

// Parses a postableSilence body (its optional "id" updates that silence).
// Errors: INVALID_ARGUMENT naming the field: bad JSON, a missing required field
// (matchers, startsAt, endsAt, createdBy, comment), a wrong type, an invalid
// matcher.
core::Result<alerting::Silence> ParsePostableSilence(std::string_view body);

}  // namespace nines::api

#endif  // NINES_API_ALERTMANAGER_API_H_

// alerting/notify_internal.h: what the notifiers of each integration kind share (private to
// alerting/notify_*.cc): reading an Integration's flattened fields, rendering templated fields
// with errors that name receiver, integration and field, Go's JSON time form, Alertmanager's
// hash and truncation, HTTP authentication from http_config, and masking secrets in targets.
// Thread-safety: stateless functions, and a Renderer that is used by one thread at a time.
#ifndef NINES_ALERTING_NOTIFY_INTERNAL_H_
#define NINES_ALERTING_NOTIFY_INTERNAL_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/notifiers.h"
#include "alerting/template.h"
#include "core/status.h"
#include "core/time.h"
#include "net/net.h"

namespace nines::alerting::notify_internal {

// Everything a kind's builder gets.
struct BuildInput {
  const Notification& n;
  const Integration& integration;
  const GlobalConfig& global;
  const NotifyContext& context;
  const TemplateData& data;
};

// The fields of one integration as app/alerting_config stores them (dotted paths).
class Fields {
 public:
  explicit Fields(const std::map<std::string, std::string>& fields) : fields_(fields) {}

  // The value of `key`, or `fallback` when absent (an empty value counts as set).
  std::string Get(std::string_view key, std::string_view fallback = "") const;
  // Whether `key` is present with a non-empty value.
  bool Has(std::string_view key) const;
  // Whether `key` is "true" (YAML's true; case-insensitive).
  bool Bool(std::string_view key, bool fallback) const;
  // Whether any key starts with "`prefix`." (a map or list was written there).
  bool HasPrefix(std::string_view prefix) const;
  // The number of entries of the list at `prefix` (keys "prefix.0...", "prefix.1...").
  size_t ListSize(std::string_view prefix) const;
  // The entries of the map at `prefix`: key "prefix.a" gives "a" (nested keys keep their dots).
  std::map<std::string, std::string> Map(std::string_view prefix) const;

 private:
  const std::map<std::string, std::string>& fields_;
};

// Renders templated config fields for one integration of one notification.
class Renderer {
 public:
  explicit Renderer(const BuildInput& in);

  // `text` executed against the template set when `field` (a dotted path) is one Alertmanager
  // templates (IsTemplatedField), else `text` as written. Errors: INVALID_ARGUMENT "receiver R,
  // K[i], field F: ..." (the template's message; the text itself is not repeated since a field
  // may hold a secret).
  core::Result<std::string> Text(std::string_view field, std::string_view text) const;
  // The same for a text/html body: values HTML-escaped (TemplateSet::ExecuteHtml).
  core::Result<std::string> Html(std::string_view field, std::string_view text) const;
  // An error naming the receiver, integration and `field`.
  core::Status Error(std::string_view field, std::string_view what) const;

 private:
  const BuildInput& in_;
  std::string where_;  // "receiver R, kind[i]"
};

// Alertmanager's default templates by name: `{{ template "NAME" . }}`.
std::string DefaultTemplate(std::string_view name);

// Go's time.Time as encoding/json writes it (RFC 3339 with trailing zeros of the nanoseconds
// trimmed, "Z" for UTC); the zero Timestamp is Go's zero time "0001-01-01T00:00:00Z".
std::string GoJsonTime(core::Timestamp t);

// Alertmanager's notify.Key.Hash: the SHA-256 of `key`, 64 lower-case hex digits.
std::string Sha256Hex(std::string_view key);

// Alertmanager's notify.TruncateInRunes: at most `n` code points; when cut, the last kept one
// is replaced by "…" (n > 3). Invalid UTF-8 bytes count as one rune each.
std::string TruncateRunes(std::string_view s, size_t n);

// RFC 4648 base64 with padding.
std::string Base64(std::string_view data);

// Go's regexp.QuoteMeta: `\.+*?()|[]{}^$` escaped with a backslash.
std::string QuoteMeta(std::string_view s);

// `url` safe for logs: no user info; with `keep_path` the path is kept and the query values are
// masked ("?identifierType=<secret>"), else the path and query are replaced by "/<secret>"
// ("https://hooks.slack.com/<secret>").
std::string MaskUrl(std::string_view url, bool keep_path);

// Checks `url` (after templating) is an absolute http(s) URL with a host.
core::Status CheckHttpUrl(std::string_view url);

// Adds the Authorization header the integration's http_config asks for (basic_auth,
// authorization, bearer_token), or the global http_config's when the integration has none, as
// Alertmanager inherits it. Errors: INVALID_ARGUMENT for a *_file form (read by whoever loads the
// configuration, not here) or both basic auth and authorization.
// The credentials it sets are appended to `secrets` (when not null), for OutgoingRequest::secrets.
core::Status AddHttpAuth(const BuildInput& in, const Renderer& r, net::Headers* headers,
                         std::vector<std::string>* secrets = nullptr);

// A POST of a JSON `body` to `url` with Alertmanager's headers (Content-Type application/json,
// User-Agent "nines/VERSION"), the http_config's Authorization, the integration's `timeout`, and
// `target`. Errors: as AddHttpAuth; a `timeout` that is not a duration.
core::Result<OutgoingRequest> JsonPost(const BuildInput& in, const Renderer& r, std::string url,
                                       std::string body, std::string target);

// One alert as Alertmanager's template.Alert marshals (status, labels, annotations, startsAt,
// endsAt, generatorURL, fingerprint).
void AppendAlertJson(std::string* out, const TemplateAlert& a);
// A list of alerts, "[...]".
void AppendAlertsJson(std::string* out, const std::vector<const TemplateAlert*>& alerts);
// The alerts of `data` with `status` ("firing"/"resolved").
std::vector<const TemplateAlert*> AlertsWithStatus(const TemplateData& data,
                                                   std::string_view status);

// Appends `value` as Alertmanager's DeepCopyWithTemplate leaves a rendered detail: a number,
// bool, null, list or map when the text is one in JSON form ("3", "true", "[1,2]"), else a
// JSON string.
void AppendDetailValue(std::string* out, std::string_view value);

// nines' SLO facts of a notification, for the pages: from the first firing alert (the first
// alert when none fires). Each is "" when the alerts do not carry it.
struct SloFacts {
  std::string region, slo, severity, alertname;
  std::string budget_remaining, budget_total, budget_unit, budget_remaining_ratio;
  std::string long_burn_rate, short_burn_rate, window_pair, exhaustion_at_1h_burn;
  std::string summary, generator_url;
};
SloFacts GetSloFacts(const TemplateData& data);
// The facts of one alert.
SloFacts SloFactsOf(const TemplateAlert& a);
// The annotation names of the budget numbers SloFacts carries, in the order pages list them.
inline constexpr std::string_view kBudgetAnnotations[] = {
    "budget_remaining", "budget_total",    "budget_unit", "budget_remaining_ratio",
    "long_burn_rate",   "short_burn_rate", "window_pair", "exhaustion_at_1h_burn"};

// nines' page about `slo`: external_url + "/api/v1/slos/" + slo; "" when either is unknown.
std::string SloUrl(std::string_view external_url, std::string_view slo);

// The kinds' builders (notify_<kind>.cc).
core::Result<std::vector<OutgoingRequest>> BuildWebhook(const BuildInput& in);
core::Result<std::vector<OutgoingRequest>> BuildPagerDuty(const BuildInput& in);
core::Result<std::vector<OutgoingRequest>> BuildSlack(const BuildInput& in);
core::Result<std::vector<OutgoingRequest>> BuildOpsgenie(const BuildInput& in);
core::Result<std::vector<OutgoingRequest>> BuildEmail(const BuildInput& in);

}  // namespace nines::alerting::notify_internal

#endif  // NINES_ALERTING_NOTIFY_INTERNAL_H_

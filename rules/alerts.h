// AlertTracker: the alert lifecycle (inactive -> pending -> firing -> resolved) of every rule,
// durable across restarts. (Where alerts go once decided is alerting/alerting.h.)
//
// Each evaluation the rule engine reports, per rule, the label sets whose condition holds
// (rules/rules.h: ActiveCondition) and the tracker turns them into alerts:
//  - a new label set starts pending at `now` (active_since), or fires at once when for == 0;
//  - a pending alert fires once its condition has held for at least `for` (now - active_since);
//  - a pending alert whose condition clears is dropped (inactive): it was never sent;
//  - a firing alert whose condition clears keeps firing until `keep_firing_for` has passed since
//    the last evaluation at which it held (last_active), then resolves (resolved_at = now), is
//    reported resolved exactly once, and is kept `resolved_retention` for the API;
//  - a resolved alert whose condition holds again starts over as a new pending alert;
//  - no data is not recovery: when the rule reports a label set as undecidable (ActiveCondition::
//    no_data: the data behind it stopped), its pending or firing alert stays as it is (a pending
//    one does not fire, a firing one ignores keep_firing_for), with the annotations no_data="true"
//    and no_data_since (RFC 3339: its last evaluation with data, last_active), until the rule
//    decides again (the marks go) or `no_data_resolve_after` has passed since last_active (it
//    resolves, annotated resolved_by="no_data_timeout"). An undecidable label set without an
//    active alert starts nothing;
//  - annotations and value follow the latest evaluation at which the condition held.
// A rule removed on reload (RetainRules) resolves its firing alerts and drops its pending ones.
//
// Durability: after each evaluation that changed anything, Finish() writes the whole state to
// `state_file` atomically (temp file, fsync, rename, fsync of the directory), so the file on
// disk is always either the previous or the new state, even after kill -9. Load() reads it
// back on start: a firing alert keeps firing (and its fired_at), a pending one keeps
// active_since (its `for` is not restarted), a resolved one is not reported again.
//
// File format (text, one record per line, fields separated by tabs; in each field backslash,
// tab and newline are written as \\, \t, \n):
//   nines-alerts<TAB>1
//   alert<TAB>RULE_KEY<TAB>STATE<TAB>ACTIVE_SINCE<TAB>FIRED_AT<TAB>RESOLVED_AT<TAB>LAST_ACTIVE
//        <TAB>VALUE<TAB>N<TAB>(NAME<TAB>VALUE)*N<TAB>M<TAB>(KEY<TAB>VALUE)*M
//   end<TAB>ALERT_COUNT<TAB>CHECKSUM
// STATE is pending|firing|resolved; times are Unix nanoseconds; VALUE is the IEEE-754 bits of
// the double in hex (exact, NaN included); N labels then M annotations; CHECKSUM is
// core::Hash64 (hex) of every byte before the "end" line. The version in the first line is
// bumped on any incompatible change; a newer version is refused, never guessed at.
//
// Thread-safety: AlertTracker is thread-safe: the evaluation loop calls Update/RetainRules/
// Finish/TakeNotifications while the HTTP API calls Alerts. Disk writes happen
// outside the lock that readers take.
#ifndef NINES_RULES_ALERTS_H_
#define NINES_RULES_ALERTS_H_

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"
#include "rules/rules.h"

namespace nines::rules {

struct AlertTrackerOptions {
  // Where the state is kept (a file in the data dir). Empty: nothing is persisted (tests, or a
  // stateless setup).
  std::string state_file;
  // How long a resolved alert stays visible in Alerts() before it is forgotten.
  core::Duration resolved_retention = core::Duration::Minutes(15);
  // How long an alert whose data stopped stays active (marked no_data) before it resolves. A day
  // by default: an on-call who was paged about a closed port must not see it resolve because a
  // prober died at night; a day later the NinesAgentDown/SloNoData tickets have been seen.
  core::Duration no_data_resolve_after = core::Duration::Hours(24);
  // true: fsync the file and its directory on every write (the state survives power loss).
  // false: skip the fsyncs; the rename still makes each write atomic, so the state survives
  // kill -9 of the process but a power loss may bring back an older state. For tests, where a
  // week of evaluations must run in milliseconds.
  bool sync = true;
};

// The format version this build writes and reads.
inline constexpr int kAlertStateVersion = 1;

class AlertTracker {
 public:
  explicit AlertTracker(AlertTrackerOptions options = {});
  AlertTracker(const AlertTracker&) = delete;
  AlertTracker& operator=(const AlertTracker&) = delete;

  // Loads the state file, replacing whatever the tracker holds. Call once on start, before the
  // first Update. A missing file is not an error (first start: the tracker is empty).
  // Errors (the tracker is left empty, and the caller logs and carries on):
  //  - DATA_LOSS: the file is truncated, fails its checksum or cannot be parsed (the message
  //    names the file and line); FAILED_PRECONDITION: it was written by a newer version.
  //    In both cases the file is renamed to `state_file + ".corrupt"` (replacing an older one)
  //    so that it is kept for inspection and the next Finish() can write a fresh state.
  //  - UNAVAILABLE: the file exists but cannot be read (permissions, I/O error); it is left.
  core::Status Load();

  // Reports one rule's evaluation at `now`: `active` are the label sets whose condition holds
  // (labels include alertname; duplicates: the last wins). `rule_key` names the rule across
  // evaluations and restarts ("slo:api-availability", "alert:CertificateExpiresSoon").
  // `for_duration` and `keep_firing_for` are the rule's current settings (a reload may change
  // them; they apply from this evaluation on). Alerts of other rules are not touched.
  // REQUIRES: now is not before the previous evaluation's now; for_duration, keep_firing_for
  // >= 0.
  void Update(std::string_view rule_key, core::Duration for_duration,
              core::Duration keep_firing_for, const std::vector<ActiveCondition>& active,
              core::Timestamp now);

  // After a reload: every rule not in `rule_keys` is gone, so its firing alerts resolve at
  // `now` (reported once, kept for the API) and its pending alerts are dropped. Also call it
  // once after Load() with the rules then loaded, for rules removed while nines was down.
  void RetainRules(const std::set<std::string>& rule_keys, core::Timestamp now);

  // Ends an evaluation at `now`: forgets resolved alerts older than resolved_retention, then,
  // if anything changed since the last successful write, writes the state file atomically.
  // Call it before TakeNotifications(), so that what is sent has been recorded: a crash before
  // it re-evaluates from the previous state (nothing is lost; a resolution is decided again);
  // a crash after it never re-sends a resolved alert. So firing alerts are sent at least once
  // (every evaluation), resolutions at most once: one lost between Finish and the sink is
  // covered by the receiver's own expiry (Alertmanager's endsAt).
  // Errors: UNAVAILABLE / INTERNAL naming the path when the file cannot be written; the
  // in-memory state is unaffected and the next Finish() retries the write.
  core::Status Finish(core::Timestamp now);

  // The alerts to send for this evaluation: every alert that is firing now (so that receivers
  // keep seeing them, as Alertmanager expects) and every alert that resolved since the last
  // call (each exactly once), sorted by labels. Pending alerts are never sent.
  std::vector<Alert> TakeNotifications();

  // Every alert the tracker holds: pending, firing and recently resolved, sorted by labels
  // (then by state and active_since).
  std::vector<Alert> Alerts() const;

  const AlertTrackerOptions& options() const { return options_; }

 private:
  // rule key -> (labels -> alert).
  using RuleAlerts = std::map<core::Labels, Alert>;

  void ResolveLocked(Alert& alert, core::Timestamp now);
  // Update's second half: the alerts of one rule whose label sets did not hold at `now` (not
  // in `held`) stay (no data), resolve, or are dropped.
  void SettleLocked(RuleAlerts& ra, const std::set<uint64_t>& held,
                    const std::set<uint64_t>& no_data, core::Duration keep_firing_for,
                    core::Timestamp now);
  std::string EncodeLocked() const;
  core::Status WriteFile(const std::string& contents) const;

  const AlertTrackerOptions options_;
  std::mutex write_mu_;  // serialises Finish()'s writes; taken before mu_
  mutable std::mutex mu_;
  std::map<std::string, RuleAlerts, std::less<>> rules_;  // guarded by mu_
  std::vector<Alert> unsent_resolved_;                     // guarded by mu_
  bool dirty_ = false;                                     // guarded by mu_
};

// Parses the state file's contents (see the file comment) into rule key -> alerts. Exposed for
// tests and tools. `origin` names the source in errors ("/data/alerts.state").
// Errors: as AlertTracker::Load (DATA_LOSS, FAILED_PRECONDITION), with the line.
core::Result<std::map<std::string, std::vector<Alert>>> DecodeAlertState(std::string_view data,
                                                                        std::string_view origin);


}  // namespace nines::rules

#endif  // NINES_RULES_ALERTS_H_

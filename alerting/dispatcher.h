// alerting/dispatcher.h: Alertmanager's dispatch, as a pure state machine.
//
// A Dispatcher takes the alerts the rule engine sends (every firing alert at every evaluation
// with an ends_at that the resends push forward; each resolved alert once) and turns them into
// Notifications, as Alertmanager's dispatcher and notification pipeline do:
//  - each alert goes to the routes Route::Match picks; per route it joins the aggregation group
//    of its group_by label values (`...`: all labels);
//  - a new group flushes after group_wait (at once when an alert inserted before that first
//    flush started more than group_wait ago), then every group_interval; a flush notifies only when something changed since the
//    last notification (a new firing alert; a new resolved one if the integration sends
//    resolved; all resolved) or repeat_interval has passed (strictly more, checked at the
//    group_interval ticks, so 4h with 5m repeats after 4h05m, as in Alertmanager);
//  - a firing alert whose ends_at passed without a resend counts as resolved (a dead engine's
//    alerts expire); resolved alerts are notified once, then dropped, and an emptied group
//    is gone;
//  - before the dedup step, alerts are taken out that are inhibited (a firing source alert
//    under an inhibit rule, `equal` labels), silenced (SilenceStore), or whose route is in a
//    mute time interval or outside its active time intervals. Muted alerts are not notified
//    and do not count as changes; when all are muted, nothing is recorded.
// One Notification per receiver integration, since each integration has its own send_resolved
// and its own dedup record, as in Alertmanager's notification log.
//
// Dedup reads a NotificationLog (alerting/notification_log.h) and the Dispatcher never writes
// what it notifies there: whoever delivers a Notification records it (NotificationLog::Record)
// once it was delivered, as Alertmanager's SetNotifiesStage does after the send. Until then a
// group keeps notifying at each group_interval tick (the delivery queue keeps only the newest
// per group key), and a resolved alert stays in its group until its resolution is recorded for
// every integration that sends resolved ones (or their records expire), so a resolution whose
// delivery failed or was lost in a crash is sent again; one whose firing notification was
// handed out but not yet recorded stays too (for at most the larger of 2 x repeat_interval and
// the delivery's give-up time plus a group_interval), so a delivery still in flight or retrying
// when the alert resolves does not lose the resolution. The only record the Dispatcher writes is
// the one for an integration without send_resolved when its group all resolved (nothing is
// sent, as in Alertmanager's RetryStage, but the record must say so).
//
// Restarts: Held() is every alert to persist (firing, and resolved ones not yet notified);
// Restore() takes them back, a firing one with a grace period.
//
// Time is injected: Receive and Flush take `now`; NextWakeup tells a scheduler when the next
// flush is due. There are no threads, timers or clock reads here.
// Not here: delivery and its retries (the receivers' queues), persistence (the service), HA
// gossip.
//
// Thread-safety: Dispatcher is thread-compatible: one thread (the scheduler) calls Receive,
// Flush and NextWakeup, or callers serialize them. The SilenceStore and NotificationLog it reads
// are thread-safe and must outlive it.
#ifndef NINES_ALERTING_DISPATCHER_H_
#define NINES_ALERTING_DISPATCHER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "alerting/alerting.h"
#include "alerting/notification_log.h"
#include "alerting/routing.h"
#include "alerting/silence.h"
#include "core/labels.h"
#include "core/time.h"

namespace nines::alerting {

// Why a notification is sent (Alertmanager's notification_reason).
enum class NotifyReason {
  kFirstNotification,
  kNewAlertsInGroup,
  kNewResolvedAlerts,
  kAllAlertsResolved,
  kRepeatIntervalElapsed,
};
// "first notification", "new alerts added", "some alerts resolved", "all alerts resolved",
// "repeat interval elapsed": the words of Alertmanager's webhook.
std::string_view NotifyReasonName(NotifyReason r);

// One notification for one integration of one receiver.
struct Notification {
  std::string receiver;
  size_t integration_index = 0;  // into the receiver's integrations, in config order
  IntegrationKind integration_kind = IntegrationKind::kWebhook;
  // Alertmanager's group key: the route's key, ":" and the group labels as Go prints a label
  // set: `{}/{severity="page"}:{alertname="Burn", region="eu-west-1"}`. Downstream dedup keys
  // (PagerDuty's, Opsgenie's) are made from it.
  std::string group_key;
  core::Labels group_labels;
  // The group's unmuted alerts, sorted by labels: firing ones (status kFiring, ends_at cleared
  // to the zero Timestamp as Alertmanager clears it) and resolved ones (kResolved, with the time
  // they resolved), the resolved ones left out when the integration does not send_resolved.
  std::vector<Alert> alerts;
  NotifyReason reason = NotifyReason::kFirstNotification;
  core::Timestamp at;  // the flush that made it
  core::Duration repeat_interval;

  // "firing" when any alert fires, else "resolved".
  AlertStatus Status() const;
};

// One alert as the API shows it (Alertmanager's gettableAlert).
struct AlertView {
  Alert alert;                            // as last received
  std::vector<std::string> receivers;     // the receivers its routes name, in route order
  std::vector<std::string> silenced_by;   // ids of the active silences that mute it, sorted
  std::vector<std::string> inhibited_by;  // fingerprints of the alerts that inhibit it, sorted
  // "active" when neither silenced nor inhibited, else "suppressed".
  std::string State() const;
};

class Dispatcher {
 public:
  // Builds the route tree of `config` and copies its receivers, inhibit rules, time intervals
  // and resolve_timeout. `silences` may be null (nothing silenced); else it must outlive this.
  // `log` is the notification log dedup reads; null: a MemoryNotificationLog of its own (log()).
  // `delivery_give_up` is how long a handed-out notification may still be delivered and
  // recorded (DeliveryOptions::give_up_after): a resolution waits that long (plus a
  // group_interval) for the record of its firing notification.
  Dispatcher(const AlertmanagerConfig& config, const SilenceStore* silences,
             NotificationLog* log = nullptr,
             core::Duration delivery_give_up = core::Duration::Zero());
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;
  ~Dispatcher();

  // Takes alerts received at `now`. A firing alert without ends_at (the zero Timestamp) is
  // valid until now + resolve_timeout. A later alert with the same labels replaces the earlier.
  // A resolved alert no group holds makes a group that flushes without notifying (unless the
  // last notification of its group key had firing alerts), as in Alertmanager.
  // REQUIRES: `now` does not go backwards between calls.
  void Receive(const std::vector<Alert>& alerts, core::Timestamp now);

  // Flushes every group whose time has come (NextWakeup() <= now) and returns the notifications
  // due, ordered by route (depth-first) and group key. A group's next flush keeps its cadence:
  // the first group_interval tick after `now`, counted from when it was due.
  std::vector<Notification> Flush(core::Timestamp now);

  // When the next group is due, or nullopt when there are no groups.
  std::optional<core::Timestamp> NextWakeup() const;

  // The number of aggregation groups (for tests and a gauge).
  size_t group_count() const { return groups_.size(); }

  // The aggregation groups as they stand, in Flush's order, each alert as last received (for
  // Alertmanager's /api/v2/alerts/groups).
  struct GroupView {
    std::string receiver;
    std::string group_key;
    core::Labels group_labels;
    std::vector<Alert> alerts;  // sorted by labels
  };
  std::vector<GroupView> Groups() const;
  // Every alert received that has not resolved and been collected since, sorted by labels
  // (for /api/v2/alerts).
  std::vector<Alert> Alerts() const;
  // Alerts() with, for each, its receivers, the silences and the alerts muting it at `now`.
  std::vector<AlertView> AlertViews(core::Timestamp now) const;

  // Every alert the dispatcher holds at `now`, to persist across a restart: the firing ones and
  // the resolved ones not yet collected (an alert whose ends_at passed is given status
  // kResolved), sorted by labels.
  std::vector<Alert> Held(core::Timestamp now) const;
  // Counts the changes that Held() would show beyond ends_at extensions and values (an alert
  // added, resolved, dropped, or its annotations or start changed): persist when it moved.
  uint64_t changes() const { return changes_; }
  // Takes back what Held() returned before a restart (or a reload): as Receive at `now`, except
  // that a firing alert is valid at least until now + grace, so that the time nines was down
  // does not resolve what still fires (the rule engine resends it meanwhile).
  void Restore(const std::vector<Alert>& alerts, core::Timestamp now, core::Duration grace);

  // The notification log dedup reads (the one given, or the dispatcher's own).
  NotificationLog& log() { return *log_; }

 private:
  struct Group;
  class Muting;

  void Insert(const Route& route, size_t route_index, const Alert& alert, core::Timestamp now);
  void FlushGroup(Group& group, const Muting& muting, core::Timestamp now,
                  std::vector<Notification>* out);
  // Whether the resolution of `fp` in `group` is still to be recorded for some integration.
  bool ResolutionPending(const Group& group, const Receiver* receiver, const Alert& resolved,
                         core::Timestamp now) const;
  std::optional<NotificationLogEntry> LiveEntry(const NotificationLogKey& key,
                                                core::Timestamp now) const;
  const Receiver* FindReceiver(const std::string& name) const;
  bool RouteMuted(const Route& route, core::Timestamp now) const;

  std::unique_ptr<Route> root_;
  std::map<const Route*, size_t> route_index_;  // depth-first order
  std::vector<std::string> route_keys_;         // Route::Key() by route index
  std::vector<Receiver> receivers_;
  std::vector<InhibitRule> inhibit_rules_;
  std::map<std::string, std::vector<TimeInterval>, std::less<>> time_intervals_;
  core::Duration resolve_timeout_;
  core::Duration delivery_give_up_;
  const SilenceStore* silences_;

  // Every alert received and not yet resolved-and-collected, by fingerprint: the sources
  // inhibition looks at (a silenced or unrouted alert still inhibits, as in Alertmanager).
  std::map<Fingerprint, Alert> alerts_;
  // (route index, group key) -> group.
  std::map<std::pair<size_t, std::string>, Group> groups_;
  std::unique_ptr<NotificationLog> own_log_;  // when none was given
  NotificationLog* log_;
  uint64_t changes_ = 0;
};

// The group key of `labels` under route key `route_key`, as Alertmanager builds it: the route
// key, ":", and the labels as Go's LabelSet.String prints them (`{a="1", b="2"}`, values
// quoted as Go's strconv.Quote does).
std::string GroupKey(std::string_view route_key, const core::Labels& labels);

}  // namespace nines::alerting

#endif  // NINES_ALERTING_DISPATCHER_H_

// alerting: the alert as it leaves the rule engine, and the sink it goes to.
//
//  - Alert: one firing or resolved alert instance (labels, annotations, starts_at, ends_at,
//    generator URL), the shape receivers such as Alertmanager take. Where it came from (an SLO,
//    a threshold rule, a lost agent) and its lifecycle (pending, `for`, `keep_firing_for`) are
//    the rule engine's business (rules/alerts.h); what arrives here has been decided.
//  - Fingerprint: an alert's identity, a hash of its sorted label set, stable across runs,
//    builds and machines, so it may be persisted and compared with one written by another run.
//  - AlertSink: where the rule engine hands its alerts after each evaluation. Its contract is
//    that Send does not block (no network, no disk waits): a sink that delivers somewhere slow
//    puts a QueueingAlertSink in front of a Notifier.
//  - LogAlertSink: a sink that writes alerts to nines' log.
//
// `alerting/` depends on core only; `rules/` depends on it, never the reverse.
//
// Thread-safety: Alert and Fingerprint are values (thread-compatible). LogAlertSink and
// QueueingAlertSink are thread-safe; other sinks and notifiers say their own.
#ifndef NINES_ALERTING_ALERTING_H_
#define NINES_ALERTING_ALERTING_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::alerting {

// An alert's identity: XXH64 of its sorted label set (core::Labels::Hash()). Two alerts with
// the same labels have the same fingerprint in every run and on every machine, so a receiver or
// a state file may keep it. Annotations, times and values do not change it.
class Fingerprint {
 public:
  Fingerprint() = default;
  explicit constexpr Fingerprint(uint64_t value) : value_(value) {}
  static Fingerprint Of(const core::Labels& labels) { return Fingerprint(labels.Hash()); }

  uint64_t value() const { return value_; }
  // 16 lower-case hex digits, as Alertmanager prints fingerprints: "1b9e3c6a2f0d4e57".
  std::string ToString() const;
  // Parses ToString()'s form. Errors: INVALID_ARGUMENT unless `text` is 16 hex digits.
  static core::Result<Fingerprint> Parse(std::string_view text);

  friend auto operator<=>(const Fingerprint&, const Fingerprint&) = default;

 private:
  uint64_t value_ = 0;
};

enum class AlertStatus { kFiring, kResolved };
// "firing", "resolved".
std::string_view AlertStatusName(AlertStatus s);

// One alert as the rule engine sends it: firing, or resolved (sent once).
//  - starts_at: when it started firing.
//  - ends_at: when resolved, the resolve time; when firing, a time after which a receiver may
//    take it as resolved if no resend extended it (FiringEndsAt): the engine resends every
//    firing alert each evaluation with a later ends_at, so an alert whose engine died expires
//    at the receiver instead of firing forever.
//  - generator_url: where the rule that produced it can be seen (may be a path when nines does
//    not know its external URL).
//  - value: the rule's value at its last evaluation (a burn rate, a count, ...).
struct Alert {
  core::Labels labels;
  std::map<std::string, std::string> annotations;
  AlertStatus status = AlertStatus::kFiring;
  core::Timestamp starts_at;
  core::Timestamp ends_at;
  std::string generator_url;
  double value = 0;

  alerting::Fingerprint Fingerprint() const { return Fingerprint::Of(labels); }
};

// How long a firing alert sent at `now` stays valid at a receiver that hears nothing more:
// now + 4 x max(resend_delay, eval_interval), as Prometheus does, so three lost or late resends
// in a row do not resolve it but a dead engine's alerts expire within a few intervals.
// REQUIRES: resend_delay, eval_interval >= 0.
core::Timestamp FiringEndsAt(core::Timestamp now, core::Duration resend_delay,
                             core::Duration eval_interval);

// Where the rule engine hands its alerts. After each evaluation the engine calls Send with every
// alert that is firing and every alert that resolved in that evaluation (each resolution once).
// CONTRACT: Send must not block: it returns promptly whatever the receiver behind it does (no
// network or disk waits, no unbounded locks). A sink that must deliver somewhere slow queues
// (QueueingAlertSink) and delivers from its own thread.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void Send(const std::vector<Alert>& alerts) = 0;
};

// Delivers alerts to a receiver (a webhook, Alertmanager, ...). Unlike a sink, a notifier may
// block (it does network I/O), so the engine never calls one directly: it sits behind a
// QueueingAlertSink, which calls Notify from one thread, one batch at a time.
class Notifier {
 public:
  virtual ~Notifier() = default;
  // Delivers `alerts`. Errors are the notifier's to log or retry; the queue moves on.
  virtual void Notify(const std::vector<Alert>& alerts) = 0;
};

struct QueueingAlertSinkOptions {
  // At most this many alerts wait; when a Send would exceed it, the oldest waiting alerts are
  // dropped (counted in dropped()): a receiver catches up with the newest state, and a firing
  // alert is sent again at the next evaluation anyway.
  size_t capacity = 10000;
  // At most this many alerts per Notify call.
  size_t max_batch = 64;
};

// An AlertSink in front of a Notifier: Send appends to a bounded queue and returns; a thread of
// its own delivers the queue to the notifier in order, in batches. The notifier must outlive the
// sink. Destruction (or Stop) delivers what is queued, then joins the thread.
class QueueingAlertSink final : public AlertSink {
 public:
  QueueingAlertSink(Notifier& notifier, QueueingAlertSinkOptions options = {});
  ~QueueingAlertSink() override;  // Stop()
  QueueingAlertSink(const QueueingAlertSink&) = delete;
  QueueingAlertSink& operator=(const QueueingAlertSink&) = delete;

  // Queues `alerts` (see the options for a full queue). Never waits for the notifier.
  // After Stop, alerts are dropped (counted).
  void Send(const std::vector<Alert>& alerts) override;

  // Delivers what is queued, then stops the thread. Idempotent.
  void Stop();

  // Waits until the queue is empty and no Notify is running, or `timeout` passed (real time).
  // Returns whether it is idle. For tests and shutdown.
  bool WaitIdle(core::Duration timeout);

  size_t queued() const;
  uint64_t dropped() const;
  uint64_t delivered() const;

 private:
  void Run();

  Notifier& notifier_;
  const QueueingAlertSinkOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // the queue has alerts, or stopping_
  std::condition_variable idle_cv_;  // the queue drained and no Notify runs
  std::deque<Alert> queue_;          // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  bool notifying_ = false;           // guarded by mu_
  uint64_t dropped_ = 0;             // guarded by mu_
  uint64_t delivered_ = 0;           // guarded by mu_
  std::thread thread_;
};

// An AlertSink that writes alerts to core's logger: a warning line when an alert starts firing
// (or fires again after resolving) and an info line when it resolves, each with its labels and
// its "summary" annotation. Repeats of an alert that is still firing (the engine sends every
// firing alert each evaluation) are not logged again. Logging does not block, so it needs no
// queue.
class LogAlertSink final : public AlertSink {
 public:
  void Send(const std::vector<Alert>& alerts) override;

 private:
  std::mutex mu_;
  // fingerprint -> starts_at of the firing alerts already logged.
  std::map<alerting::Fingerprint, core::Timestamp> logged_;  // guarded by mu_
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_ALERTING_H_

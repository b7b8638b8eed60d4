// alerting/service.h: the alerting pipeline of a running nines, from the rule engine's alerts to
// the receivers, durable across restarts.
//
//   rule engine --Send--> inbox --RunOnce--> Dispatcher (routes, groups, inhibition, silences,
//   time intervals, dedup against the notification log) --> BuildRequests (notifiers.h) -->
//   DeliveryQueue per receiver integration (delivery.h) --done--> notification log
//
// Durability (state_dir):
//  - the notification log: what was delivered to each (group key, receiver, integration), the
//    firing and resolved fingerprints and when, written (fsync) only after a delivery succeeded,
//    so a restart neither re-sends what was delivered nor forgets what was not: a crash between a
//    send and its record gives at most one repeat, with the same dedup key;
//  - the alerts the dispatcher holds (firing, and resolved ones not yet notified), so a
//    resolution that was due is still sent after a restart, and a firing alert restored from
//    disk gets a grace period (it is not resolved before the rule engine has had time to resend
//    it);
//  - silences (created, updated, expired), kept until they have been expired for
//    `silence_retention`.
//
// Time: every decision reads `clock`; RunOnce runs one cycle at clock.Now(), which is what the
// service's own thread does when something is due or an alert arrives (tests with a FakeClock
// set run_thread = false and call RunOnce).
// Thread-safety: thread-safe. Send never blocks on the network or the disk.
#ifndef NINES_ALERTING_SERVICE_H_
#define NINES_ALERTING_SERVICE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerting/alerting.h"
#include "alerting/delivery.h"
#include "alerting/dispatcher.h"
#include "alerting/routing.h"
#include "alerting/silence.h"
#include "alerting/template_set.h"
#include "core/clock.h"
#include "core/status.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::alerting {

struct AlertingServiceOptions {
  AlertmanagerConfig config;
  std::shared_ptr<const TemplateSet> templates;  // null: the built-in definitions only
  std::string external_url;                      // see NotifyContext
  // Where the notification log, the alerts and the silences are kept; "" keeps them in memory
  // only (tests, a stateless setup).
  std::string state_dir;
  // false: skip fsyncs (tests); writes stay atomic against kill -9, not power loss.
  bool sync = true;
  core::Duration silence_retention = core::Duration::Hours(120);  // Alertmanager's default
  // Delivery settings for every queue; clock defaults to the service's clock.
  DeliveryOptions delivery;
  // Sends the requests; null: MakeDefaultTransport. Must outlive the service.
  Transport* transport = nullptr;
  prometheus::Registry* registry = nullptr;
  // true: a thread runs RunOnce when an alert arrives or a group is due.
  bool run_thread = true;
  // At most this many alerts wait for the dispatcher. Past it, repeats of one alert are
  // coalesced (the latest kept), then the oldest firing ones are dropped (the engine resends
  // them at its next evaluation) before any resolved one (sent once).
  size_t inbox_capacity = 200'000;
};

// AlertView (one alert as the API shows it) is declared in alerting/dispatcher.h.

class AlertingService final : public AlertSink {
 public:
  // Opens (or creates) the state in options.state_dir (files "nflog", "alerts", "silences")
  // and starts the dispatch thread when options.run_thread (delivery queues start with their
  // first notification). Restored firing alerts are valid at least resolve_timeout from now.
  // Errors: UNAVAILABLE naming the file when the state cannot be read or written;
  // FAILED_PRECONDITION when a newer nines wrote it. A corrupt file is not an error: it is set
  // aside as "<file>.corrupt" with a logged error and that part of the state starts empty (the
  // notification log keeps its lines that pass their checksums).
  static core::Result<std::unique_ptr<AlertingService>> Start(AlertingServiceOptions options,
                                                              core::Clock& clock);
  ~AlertingService() override;  // Stop(5 s)

  // Queues alerts for the next cycle and wakes the thread. Never blocks on I/O.
  void Send(const std::vector<Alert>& alerts) override;

  // Replaces the routing configuration and templates; alerts, silences and the notification log
  // are kept (groups are rebuilt, as Alertmanager does on reload).
  void Reload(AlertmanagerConfig config, std::shared_ptr<const TemplateSet> templates);

  // One cycle at clock.Now(): takes the queued alerts, flushes the groups that are due and hands
  // their notifications to the delivery queues.
  void RunOnce();

  // The silences, for reading; a change made here directly is persisted at the next cycle,
  // one through AddSilence/ExpireSilence before it returns.
  SilenceStore& silences();
  // Creates or updates a silence and persists it (SilenceStore::Add's contract).
  core::Result<std::string> AddSilence(Silence silence);
  core::Status ExpireSilence(const std::string& id);

  std::vector<Dispatcher::GroupView> Groups() const;
  std::vector<AlertView> Alerts() const;
  std::vector<std::string> ReceiverNames() const;
  AlertmanagerConfig config() const;

  // Waits (real time) until the inbox is empty, no group is due and every queue is idle.
  bool WaitIdle(core::Duration timeout);
  // Stops the thread; the queues, stopped together, get one `deadline` (real time) in all to
  // finish in-flight sends (a send under way ends first). The API stays answered meanwhile.
  // Idempotent.
  void Stop(core::Duration deadline);

 private:
  class Impl;
  explicit AlertingService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_SERVICE_H_

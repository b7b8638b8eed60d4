#include "alerting/service.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "alerting/notification_log.h"
#include "alerting/notifiers.h"
#include "alerting/state_files.h"
#include "core/log.h"
#include "core/state_file.h"

namespace nines::alerting {
namespace {

// The longest the thread waits (real time) before looking at the clock again, so that a clock
// that jumps (or a FakeClock moved by a test) is noticed.
constexpr core::Duration kMaxWait = core::Duration::Seconds(1);
// How often (clock time) the thread collects expired silences and log entries when nothing
// else wakes it.
constexpr core::Duration kMaintenanceInterval = core::Duration::Minutes(1);

using QueueKey = std::pair<std::string, size_t>;  // (receiver, integration index)

// Brings `inbox` (in arrival order) down to `capacity` and returns how many it dropped: first
// every alert a later one of the same fingerprint supersedes (the dispatcher would replace it
// anyway), then the oldest firing alerts (resent at every evaluation), and only then the
// oldest resolved ones (sent once).
size_t TrimInbox(std::vector<Alert>* inbox, size_t capacity) {
  if (inbox->size() <= capacity) return 0;
  std::map<Fingerprint, size_t> last;  // fingerprint -> index of its latest alert
  for (size_t i = 0; i < inbox->size(); ++i) last[(*inbox)[i].Fingerprint()] = i;
  std::vector<bool> keep(inbox->size(), false);
  for (const auto& [fp, i] : last) keep[i] = true;
  size_t kept = last.size();
  for (AlertStatus drop : {AlertStatus::kFiring, AlertStatus::kResolved}) {
    for (size_t i = 0; i < inbox->size() && kept > capacity; ++i) {
      if (keep[i] && (*inbox)[i].status == drop) {
        keep[i] = false;
        --kept;
      }
    }
  }
  const size_t before = inbox->size();
  size_t out = 0;
  for (size_t i = 0; i < before; ++i) {
    if (!keep[i]) continue;
    if (out != i) (*inbox)[out] = std::move((*inbox)[i]);
    ++out;
  }
  inbox->resize(out);
  return before - out;
}

}  // namespace

class AlertingService::Impl {
 public:
  Impl(AlertingServiceOptions options, core::Clock& clock)
      : options_(std::move(options)), clock_(clock) {}
  ~Impl() { Stop(core::Duration::Seconds(5)); }

  core::Status Open();
  void StartThread();
  void Send(const std::vector<Alert>& alerts);
  void Reload(AlertmanagerConfig config, std::shared_ptr<const TemplateSet> templates);
  void RunOnce();
  core::Result<std::string> AddSilence(Silence silence);
  core::Status ExpireSilence(const std::string& id);
  std::vector<Dispatcher::GroupView> Groups() const;
  std::vector<AlertView> Alerts() const;
  std::vector<std::string> ReceiverNames() const;
  AlertmanagerConfig config() const;
  bool WaitIdle(core::Duration timeout);
  void Stop(core::Duration deadline);

  SilenceStore& silences() { return silences_; }

 private:
  std::string StatePath(std::string_view name) const {
    return options_.state_dir + "/" + std::string(name);
  }
  void Deliver(std::vector<Notification> notifications, core::Timestamp now);
  DeliveryQueue& QueueLocked(const std::string& receiver, size_t index, IntegrationKind kind);
  void Done(const Notification& n, const DeliveryResult& r, NotificationLog* log);
  void Persist(core::Timestamp now);
  core::Status SaveSilences();
  void Loop();
  bool DueLocked(core::Timestamp now) const;

  const AlertingServiceOptions options_;
  core::Clock& clock_;
  std::unique_ptr<Transport> own_transport_;
  Transport* transport_ = nullptr;
  SilenceStore silences_;
  std::unique_ptr<NotificationLog> log_;
  // nines_notification_build_errors_total{receiver, integration}; null without a registry.
  prometheus::Family<prometheus::Counter>* build_errors_ = nullptr;

  // Notifications handed to a queue whose `done` has not finished yet (WaitIdle waits for them:
  // a queue is idle before its callbacks have run). Declared before the queues, whose callbacks
  // use them (and log_) until the queues are gone.
  std::mutex outstanding_mu_;
  std::condition_variable outstanding_cv_;
  size_t outstanding_ = 0;  // guarded by outstanding_mu_

  std::mutex run_mu_;          // serialises RunOnce, Reload and the state files' writes
  mutable std::mutex mu_;      // the dispatch state below
  AlertmanagerConfig config_;  // guarded by mu_
  std::shared_ptr<const TemplateSet> templates_;               // guarded by mu_
  std::unique_ptr<Dispatcher> dispatcher_;                     // guarded by mu_
  // Shared: WaitIdle uses them without mu_ while Reload or Stop may take them out.
  std::map<QueueKey, std::shared_ptr<DeliveryQueue>> queues_;  // guarded by mu_
  uint64_t persisted_changes_ = 0;                             // guarded by run_mu_
  bool alerts_written_ = false;                                // guarded by run_mu_

  std::mutex silence_file_mu_;   // serialises the silences file's writes
  uint64_t saved_silences_ = 0;  // guarded by silence_file_mu_

  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::vector<Alert> inbox_;                    // guarded by inbox_mu_
  std::optional<core::Timestamp> next_wakeup_;  // guarded by inbox_mu_
  core::Timestamp next_maintenance_;            // guarded by inbox_mu_
  bool running_ = false;                        // guarded by inbox_mu_: RunOnce in progress
  bool stopping_ = false;                       // guarded by inbox_mu_
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

core::Status AlertingService::Impl::Open() {
  if (options_.transport != nullptr) {
    transport_ = options_.transport;
  } else {
    own_transport_ = MakeDefaultTransport(core::Duration::Seconds(10));
    transport_ = own_transport_.get();
  }
  templates_ = options_.templates ? options_.templates : std::make_shared<const TemplateSet>();
  if (options_.registry != nullptr) {
    build_errors_ = &prometheus::BuildCounter()
                         .Name("nines_notification_build_errors_total")
                         .Help(
                             "Notifications that could not be built (a template or URL error) "
                             "and were dropped, by receiver and integration.")
                         .Register(*options_.registry);
  }
  config_ = options_.config;
  const core::Timestamp now = clock_.Now();
  std::vector<Alert> held;
  if (options_.state_dir.empty()) {
    log_ = std::make_unique<MemoryNotificationLog>();
  } else {
    std::error_code ec;
    std::filesystem::create_directories(options_.state_dir, ec);
    if (ec) {
      return core::UnavailableError("creating state directory {}: {}", options_.state_dir,
                                    ec.message());
    }
    ASSIGN_OR_RETURN(log_, FileNotificationLog::Open(StatePath("nflog"), options_.sync, now));
    ASSIGN_OR_RETURN(std::vector<Silence> silences,
                     LoadStateFile<Silence>(StatePath("silences"), DecodeSilencesFile));
    silences_.Restore(std::move(silences));
    ASSIGN_OR_RETURN(held, LoadStateFile<Alert>(StatePath("alerts"), DecodeAlertsFile));
  }
  saved_silences_ = silences_.version();
  dispatcher_ = std::make_unique<Dispatcher>(config_, &silences_, log_.get(),
                                             options_.delivery.give_up_after);
  // What fired before the restart keeps firing at least resolve_timeout: the rule engine resends
  // it meanwhile, so the time nines was down never resolves an alert.
  dispatcher_->Restore(held, now, config_.global.resolve_timeout);
  persisted_changes_ = dispatcher_->changes();
  alerts_written_ = true;
  next_wakeup_ = dispatcher_->NextWakeup();
  next_maintenance_ = now;
  if (!held.empty()) {
    LOG_INFO("alerting: restored {} alerts, {} silences, {} notification log entries", held.size(),
             silences_.List().size(), log_->size());
  }
  return core::Status::Ok();
}

void AlertingService::Impl::StartThread() {
  thread_ = std::thread([this] { Loop(); });
}

void AlertingService::Impl::Send(const std::vector<Alert>& alerts) {
  if (alerts.empty()) return;
  size_t dropped = 0;
  {
    std::lock_guard lock(inbox_mu_);
    inbox_.insert(inbox_.end(), alerts.begin(), alerts.end());
    dropped = TrimInbox(&inbox_, std::max<size_t>(options_.inbox_capacity, 1));
  }
  inbox_cv_.notify_all();
  if (dropped > 0) {
    LOG_WARNING("alerting: the dispatcher is behind; dropped {} queued alerts (superseded "
                "repeats first, then the oldest firing ones)",
                dropped);
  }
}

bool AlertingService::Impl::DueLocked(core::Timestamp now) const {
  return !inbox_.empty() || (next_wakeup_ && *next_wakeup_ <= now) || next_maintenance_ <= now;
}

void AlertingService::Impl::Loop() {
  std::unique_lock lock(inbox_mu_);
  while (!stopping_) {
    const core::Timestamp now = clock_.Now();
    if (DueLocked(now)) {
      lock.unlock();
      RunOnce();
      lock.lock();
      continue;
    }
    core::Timestamp next = next_maintenance_;
    if (next_wakeup_ && *next_wakeup_ < next) next = *next_wakeup_;
    core::Duration wait = std::clamp(next - now, core::Duration::Milliseconds(1), kMaxWait);
    inbox_cv_.wait_for(lock, wait.ToChrono());
  }
}

void AlertingService::Impl::RunOnce() {
  std::lock_guard run_lock(run_mu_);
  const core::Timestamp now = clock_.Now();
  std::vector<Alert> alerts;
  {
    std::lock_guard lock(inbox_mu_);
    alerts.swap(inbox_);
    running_ = true;
  }
  std::vector<Notification> notifications;
  std::optional<core::Timestamp> next;
  {
    std::lock_guard lock(mu_);
    dispatcher_->Receive(alerts, now);
    notifications = dispatcher_->Flush(now);
    next = dispatcher_->NextWakeup();
  }
  Deliver(std::move(notifications), now);
  Persist(now);
  {
    std::lock_guard lock(inbox_mu_);
    next_wakeup_ = next;
    if (next_maintenance_ <= now) next_maintenance_ = now + kMaintenanceInterval;
    running_ = false;
  }
  inbox_cv_.notify_all();
}

namespace {

// Stops `queues` together, each in a thread of its own, so that the whole takes one `deadline`
// (plus a send in flight), not one per queue.
void StopAll(const std::vector<std::shared_ptr<DeliveryQueue>>& queues, core::Duration deadline) {
  if (queues.size() == 1) return queues[0]->Stop(deadline);
  std::vector<std::thread> stoppers;
  stoppers.reserve(queues.size());
  for (const std::shared_ptr<DeliveryQueue>& q : queues) {
    stoppers.emplace_back([q, deadline] { q->Stop(deadline); });
  }
  for (std::thread& t : stoppers) t.join();
}

}  // namespace

DeliveryQueue& AlertingService::Impl::QueueLocked(const std::string& receiver, size_t index,
                                                  IntegrationKind kind) {
  std::shared_ptr<DeliveryQueue>& q = queues_[{receiver, index}];
  if (!q) {
    DeliveryOptions o = options_.delivery;
    if (o.clock == nullptr) o.clock = &clock_;
    if (o.registry == nullptr) o.registry = options_.registry;
    q = std::make_shared<DeliveryQueue>(receiver,
                                        fmt::format("{}[{}]", IntegrationKindName(kind), index),
                                        *transport_, std::move(o));
  }
  return *q;
}

void AlertingService::Impl::Deliver(std::vector<Notification> notifications, core::Timestamp now) {
  // After Stop nothing is sent: the log still has these as due for the next start.
  if (notifications.empty() || stopped_.load()) return;
  std::lock_guard lock(mu_);
  const NotifyContext context{options_.external_url, templates_.get()};
  NotificationLog* log = log_.get();
  for (Notification& n : notifications) {
    const Receiver* receiver = config_.FindReceiver(n.receiver);
    if (receiver == nullptr || n.integration_index >= receiver->integrations.size()) continue;
    const Integration& integration = receiver->integrations[n.integration_index];
    core::Result<std::vector<OutgoingRequest>> requests =
        BuildRequests(n, integration, config_.global, context);
    if (!requests.ok()) {
      const std::string integration_name =
          fmt::format("{}[{}]", IntegrationKindName(n.integration_kind), n.integration_index);
      LOG_ERROR("alerting: cannot notify {}/{} of group {}: {}", n.receiver, integration_name,
                n.group_key, requests.status().ToString());
      if (build_errors_ != nullptr) {
        build_errors_->Add({{"receiver", n.receiver}, {"integration", integration_name}})
            .Increment();
      }
      continue;
    }
    if (requests->empty()) {
      // Nothing to send is a notification done, as in Alertmanager.
      if (core::Status st = log->Record(n, now); !st.ok()) {
        LOG_ERROR("alerting: notification log: {}", st.ToString());
      }
      continue;
    }
    DeliveryQueue& q = QueueLocked(n.receiver, n.integration_index, n.integration_kind);
    std::string key = n.group_key;
    {
      std::lock_guard outstanding_lock(outstanding_mu_);
      ++outstanding_;
    }
    q.Enqueue(std::move(key), *std::move(requests),
              [log, n = std::move(n), this](const DeliveryResult& r) { Done(n, r, log); });
  }
}

void AlertingService::Impl::Done(const Notification& n, const DeliveryResult& r,
                                 NotificationLog* log) {
  if (r.outcome == DeliveryResult::Outcome::kDelivered) {
    // The service's clock, not the queue's: the log's times are the dispatcher's.
    if (core::Status st = log->Record(n, clock_.Now()); !st.ok()) {
      LOG_ERROR("alerting: notification log: {}", st.ToString());
    }
  }
  {
    std::lock_guard lock(outstanding_mu_);
    --outstanding_;
  }
  outstanding_cv_.notify_all();
}

void AlertingService::Impl::Persist(core::Timestamp now) {
  if (core::Status st = log_->Collect(now); !st.ok()) {
    LOG_ERROR("alerting: notification log: {}", st.ToString());
  }
  // Also saves what was changed through silences() directly rather than AddSilence.
  silences_.Collect(now, options_.silence_retention);
  if (core::Status st = SaveSilences(); !st.ok()) LOG_ERROR("alerting: {}", st.ToString());
  if (options_.state_dir.empty()) return;
  std::string contents;
  uint64_t changes = 0;
  {
    std::lock_guard lock(mu_);
    changes = dispatcher_->changes();
    if (alerts_written_ && changes == persisted_changes_) return;
    contents = EncodeAlertsFile(dispatcher_->Held(now));
  }
  core::Status st = core::WriteFileAtomic(StatePath("alerts"), contents, options_.sync);
  alerts_written_ = st.ok();
  if (st.ok()) {
    persisted_changes_ = changes;
  } else {
    LOG_ERROR("alerting: saving alerts: {}", st.ToString());
  }
}

core::Status AlertingService::Impl::SaveSilences() {
  if (options_.state_dir.empty()) return core::Status::Ok();
  std::lock_guard lock(silence_file_mu_);
  const uint64_t version = silences_.version();
  if (version == saved_silences_) return core::Status::Ok();
  RETURN_IF_ERROR(core::WriteFileAtomic(StatePath("silences"), EncodeSilencesFile(silences_.List()),
                                        options_.sync));
  saved_silences_ = version;
  return core::Status::Ok();
}

core::Result<std::string> AlertingService::Impl::AddSilence(Silence silence) {
  ASSIGN_OR_RETURN(std::string id, silences_.Add(std::move(silence), clock_.Now()));
  RETURN_IF_ERROR(SaveSilences());
  return id;
}

core::Status AlertingService::Impl::ExpireSilence(const std::string& id) {
  RETURN_IF_ERROR(silences_.Expire(id, clock_.Now()));
  return SaveSilences();
}

void AlertingService::Impl::Reload(AlertmanagerConfig config,
                                   std::shared_ptr<const TemplateSet> templates) {
  std::lock_guard run_lock(run_mu_);
  const core::Timestamp now = clock_.Now();
  std::vector<std::shared_ptr<DeliveryQueue>> gone;
  {
    std::lock_guard lock(mu_);
    std::vector<Alert> held = dispatcher_->Held(now);
    config_ = std::move(config);
    templates_ = templates ? std::move(templates) : std::make_shared<const TemplateSet>();
    dispatcher_ = std::make_unique<Dispatcher>(config_, &silences_, log_.get(),
                                               options_.delivery.give_up_after);
    dispatcher_->Restore(held, now, core::Duration::Zero());
    persisted_changes_ = dispatcher_->changes();
    for (auto it = queues_.begin(); it != queues_.end();) {
      const Receiver* r = config_.FindReceiver(it->first.first);
      if (r != nullptr && it->first.second < r->integrations.size()) {
        ++it;
        continue;
      }
      gone.push_back(std::move(it->second));
      it = queues_.erase(it);
    }
    std::lock_guard inbox_lock(inbox_mu_);
    next_wakeup_ = dispatcher_->NextWakeup();
  }
  inbox_cv_.notify_all();
  // Outside the lock: what the removed receivers still had in flight gets a few seconds.
  StopAll(gone, core::Duration::Seconds(5));
}

std::vector<Dispatcher::GroupView> AlertingService::Impl::Groups() const {
  std::lock_guard lock(mu_);
  return dispatcher_->Groups();
}

std::vector<AlertView> AlertingService::Impl::Alerts() const {
  std::lock_guard lock(mu_);
  return dispatcher_->AlertViews(clock_.Now());
}

std::vector<std::string> AlertingService::Impl::ReceiverNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const Receiver& r : config_.receivers) out.push_back(r.name);
  return out;
}

AlertmanagerConfig AlertingService::Impl::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

bool AlertingService::Impl::WaitIdle(core::Duration timeout) {
  core::Clock& real = core::RealClock();
  const core::Duration deadline = real.Monotonic() + timeout;
  while (true) {
    bool idle = false;
    {
      std::unique_lock lock(inbox_mu_);
      idle = !running_ && inbox_.empty() && !(next_wakeup_ && *next_wakeup_ <= clock_.Now());
      if (!idle) {
        const core::Duration left = deadline - real.Monotonic();
        if (left <= core::Duration::Zero()) return false;
        inbox_cv_.wait_for(lock, std::min(left, core::Duration::Milliseconds(10)).ToChrono());
        continue;
      }
    }
    std::vector<std::shared_ptr<DeliveryQueue>> queues;  // alive even if Reload drops them
    {
      std::lock_guard lock(mu_);
      for (auto& [key, q] : queues_) queues.push_back(q);
    }
    for (const std::shared_ptr<DeliveryQueue>& q : queues) {
      const core::Duration left = deadline - real.Monotonic();
      if (left <= core::Duration::Zero() || !q->WaitIdle(left)) return false;
    }
    std::unique_lock lock(outstanding_mu_);
    const core::Duration left = std::max(deadline - real.Monotonic(), core::Duration::Zero());
    return outstanding_cv_.wait_for(lock, left.ToChrono(), [this] { return outstanding_ == 0; });
  }
}

void AlertingService::Impl::Stop(core::Duration deadline) {
  if (stopped_.exchange(true)) return;
  {
    std::lock_guard lock(inbox_mu_);
    stopping_ = true;
  }
  inbox_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard run_lock(run_mu_);  // no RunOnce or Reload meanwhile; the API goes on
  std::vector<std::shared_ptr<DeliveryQueue>> queues;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, q] : queues_) queues.push_back(std::move(q));
    queues_.clear();
  }
  StopAll(queues, deadline);
}

// ---- AlertingService -----------------------------------------------------------------------

core::Result<std::unique_ptr<AlertingService>> AlertingService::Start(
    AlertingServiceOptions options, core::Clock& clock) {
  const bool run_thread = options.run_thread;
  auto impl = std::make_unique<Impl>(std::move(options), clock);
  RETURN_IF_ERROR(impl->Open());
  if (run_thread) impl->StartThread();
  return std::unique_ptr<AlertingService>(new AlertingService(std::move(impl)));
}

AlertingService::AlertingService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AlertingService::~AlertingService() { impl_->Stop(core::Duration::Seconds(5)); }

void AlertingService::Send(const std::vector<Alert>& alerts) { impl_->Send(alerts); }
void AlertingService::Reload(AlertmanagerConfig config,
                             std::shared_ptr<const TemplateSet> templates) {
  impl_->Reload(std::move(config), std::move(templates));
}
void AlertingService::RunOnce() { impl_->RunOnce(); }
SilenceStore& AlertingService::silences() { return impl_->silences(); }
core::Result<std::string> AlertingService::AddSilence(Silence silence) {
  return impl_->AddSilence(std::move(silence));
}
core::Status AlertingService::ExpireSilence(const std::string& id) {
  return impl_->ExpireSilence(id);
}
std::vector<Dispatcher::GroupView> AlertingService::Groups() const { return impl_->Groups(); }
std::vector<AlertView> AlertingService::Alerts() const { return impl_->Alerts(); }
std::vector<std::string> AlertingService::ReceiverNames() const { return impl_->ReceiverNames(); }
AlertmanagerConfig AlertingService::config() const { return impl_->config(); }
bool AlertingService::WaitIdle(core::Duration timeout) { return impl_->WaitIdle(timeout); }
void AlertingService::Stop(core::Duration deadline) { impl_->Stop(deadline); }

}  // namespace nines::alerting

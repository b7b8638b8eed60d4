// DeliveryQueue: one thread per receiver integration sending queued notifications with retries (see
// delivery.h for the policy).
#include "alerting/delivery.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <condition_variable>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "alerting/delivery_internal.h"
#include "core/log.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;
using Outcome = DeliveryResult::Outcome;

struct Item {
  std::string key{};
  std::vector<OutgoingRequest> requests{};
  std::function<void(const DeliveryResult&)> done{};
  size_t next_request = 0;  // requests before it were accepted
  Timestamp enqueued_at{};
  Timestamp next_attempt{};
  Duration backoff{};  // the wait that set next_attempt (to undo a backward wall-clock step)
  int attempts = 0;    // Send calls
  int failures = 0;    // consecutive failed attempts, for the backoff
  int last_status = 0;
  std::string last_error{};
  bool in_flight = false;
  bool superseded = false;  // a newer item with the same key came while in flight
};

struct Callback {
  std::function<void(const DeliveryResult&)> done;
  DeliveryResult result;
};

DeliveryResult ResultOf(const Item& item, Outcome outcome) {
  DeliveryResult r;
  r.outcome = outcome;
  r.attempts = item.attempts;
  r.last_status = item.last_status;
  r.last_error = item.last_error;
  return r;
}

bool Retryable(core::StatusCode code) {
  switch (code) {
    case core::StatusCode::kUnavailable:
    case core::StatusCode::kDeadlineExceeded:
    case core::StatusCode::kResourceExhausted:
    case core::StatusCode::kUnknown:
    case core::StatusCode::kInternal:
    case core::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

struct Metrics {
  prometheus::Counter* delivered = nullptr;
  prometheus::Counter* dropped = nullptr;
  prometheus::Counter* failed_attempt = nullptr;
  prometheus::Counter* superseded = nullptr;
  prometheus::Counter* gave_up = nullptr;
  prometheus::Counter* queue_full = nullptr;
  prometheus::Counter* stopped = nullptr;
  prometheus::Histogram* latency = nullptr;
  prometheus::Gauge* queue_length = nullptr;

  Metrics(prometheus::Registry* registry, const std::string& receiver,
          const std::string& integration) {
    if (registry == nullptr) return;
    auto& total = prometheus::BuildCounter()
                      .Name("nines_notifications_total")
                      .Help(
                          "Notifications by receiver, integration and "
                          "outcome (failed_attempt "
                          "counts sends that failed and were retried).")
                      .Register(*registry);
    auto add = [&](const char* outcome) {
      return &total.Add(
          {{"receiver", receiver}, {"integration", integration}, {"outcome", outcome}});
    };
    delivered = add("delivered");
    dropped = add("dropped");
    failed_attempt = add("failed_attempt");
    superseded = add("superseded");
    gave_up = add("gave_up");
    queue_full = add("queue_full");
    stopped = add("stopped");
    latency = &prometheus::BuildHistogram()
                   .Name("nines_notification_latency_seconds")
                   .Help("Seconds from a notification's enqueueing to its delivery.")
                   .Register(*registry)
                   .Add({{"receiver", receiver}, {"integration", integration}},
                        prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                                5, 10, 30, 60, 300, 900, 3600});
    queue_length = &prometheus::BuildGauge()
                        .Name("nines_notification_queue_length")
                        .Help("Notifications waiting or in flight.")
                        .Register(*registry)
                        .Add({{"receiver", receiver}, {"integration", integration}});
  }
};

void Inc(prometheus::Counter* c) {
  if (c != nullptr) c->Increment();
}

}  // namespace

class DeliveryQueue::Impl {
 public:
  Impl(std::string receiver, std::string integration, Transport& transport, DeliveryOptions options)
      : name_(receiver + "/" + integration),
        transport_(transport),
        options_(std::move(options)),
        clock_(options_.clock != nullptr ? *options_.clock : core::RealClock()),
        metrics_(options_.registry, receiver, integration),
        retry_log_(clock_, Duration::Minutes(1)),
        rng_(std::random_device{}()) {
    if (options_.max_queue == 0) options_.max_queue = 1;
    if (metrics_.queue_length != nullptr) metrics_.queue_length->Set(0);
    thread_ = std::thread([this] { Run(); });
  }

  void Enqueue(std::string key, std::vector<OutgoingRequest> requests,
               std::function<void(const DeliveryResult&)> done);
  void Stop(Duration deadline);
  size_t queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }
  bool WaitIdle(Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return idle_cv_.wait_for(lock, timeout.ToChrono(), [this] { return items_.empty(); });
  }

 private:
  using ItemList = std::list<Item>;

  void Run();
  // Sends the next request of `item` (in flight, mu_ not held) and settles the answer.
  void Attempt(std::unique_lock<std::mutex>& lock, ItemList::iterator item);
  // Settles a failed attempt: schedules a retry or gives up.
  void Retry(ItemList::iterator item, const OutgoingRequest& request, Timestamp now,
             const std::string& retry_after, std::vector<Callback>& calls);
  // Removes `item`, recording `outcome`.
  void Finish(ItemList::iterator item, Outcome outcome, std::vector<Callback>& calls);
  // Undoes a backward step of the wall clock (NTP): no wait ends later than it was meant to
  // from `now`, and no item counts as enqueued in the future.
  void Rebase(Timestamp now) {
    for (Item& item : items_) {
      if (item.next_attempt - now > item.backoff) item.next_attempt = now + item.backoff;
      if (item.enqueued_at > now) item.enqueued_at = now;
    }
    if (hold_until_ - now > hold_length_) hold_until_ = now + hold_length_;
  }
  // Waits until `deadline` on the clock (or a wake-up). mu_ held on entry and exit.
  void WaitUntil(std::unique_lock<std::mutex>& lock, Timestamp deadline);
  void UpdateGauge() {
    if (metrics_.queue_length != nullptr) {
      metrics_.queue_length->Set(static_cast<double>(items_.size()));
    }
    idle_cv_.notify_all();
  }
  static void RunCallbacks(std::vector<Callback>& calls) {
    for (Callback& c : calls) {
      if (c.done) c.done(c.result);
    }
    calls.clear();
  }

  const std::string name_;  // "receiver/integration", for logs
  Transport& transport_;
  DeliveryOptions options_;
  core::Clock& clock_;
  Metrics metrics_;
  core::LogLimiter retry_log_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the worker: Enqueue, Stop
  std::condition_variable idle_cv_;  // items_ changed; the worker exited
  ItemList items_;                   // in order; at most one in flight
  Timestamp hold_until_;             // a 429's Retry-After holds every item
  Duration hold_length_;             // ... for this long from when it came
  bool stopping_ = false;
  bool abort_ = false;
  bool exited_ = false;
  std::mt19937_64 rng_;  // guarded by mu_
  std::mutex stop_mu_;   // serializes Stop
  std::thread thread_;
};

void DeliveryQueue::Impl::Enqueue(std::string key, std::vector<OutgoingRequest> requests,
                                  std::function<void(const DeliveryResult&)> done) {
  std::vector<Callback> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Timestamp now = clock_.Now();
    Item fresh{.key = std::move(key),
               .requests = std::move(requests),
               .done = std::move(done),
               .enqueued_at = now,
               .next_attempt = now};
    if (stopping_) {
      Inc(metrics_.stopped);
      calls.push_back({std::move(fresh.done), ResultOf(fresh, Outcome::kStopped)});
    } else {
      // The newest item with this key (an in-flight one may have a waiting successor).
      auto old = std::find_if(items_.rbegin(), items_.rend(),
                              [&](const Item& i) { return i.key == fresh.key && !i.superseded; });
      if (old != items_.rend() && !old->in_flight) {
        Inc(metrics_.superseded);
        LOG_DEBUG(
            "notify {}: a newer notification supersedes one waiting ({} "
            "attempts)",
            name_, old->attempts);
        calls.push_back({std::move(old->done), ResultOf(*old, Outcome::kSuperseded)});
        *old = std::move(fresh);
      } else {
        if (old != items_.rend()) old->superseded = true;
        size_t waiting = static_cast<size_t>(std::count_if(
            items_.begin(), items_.end(), [](const Item& i) { return !i.in_flight; }));
        if (waiting >= options_.max_queue) {
          auto oldest = std::find_if(items_.begin(), items_.end(),
                                     [](const Item& i) { return !i.in_flight; });
          Inc(metrics_.queue_full);
          if (int64_t n = retry_log_.Admit("queue_full")) {
            LOG_WARNING(
                "notify {}: queue full ({} items); dropped the oldest "
                "({} so far)",
                name_, options_.max_queue, n);
          }
          oldest->last_error = "queue full";
          calls.push_back({std::move(oldest->done), ResultOf(*oldest, Outcome::kDropped)});
          items_.erase(oldest);
        }
        items_.push_back(std::move(fresh));
      }
      UpdateGauge();
    }
  }
  cv_.notify_all();
  RunCallbacks(calls);
}

void DeliveryQueue::Impl::WaitUntil(std::unique_lock<std::mutex>& lock, Timestamp deadline) {
  if (options_.wait) {
    lock.unlock();
    options_.wait(deadline);
    lock.lock();
    return;
  }
  Duration left = deadline - clock_.Now();
  if (left > Duration::Zero()) cv_.wait_for(lock, left.ToChrono());
}

void DeliveryQueue::Impl::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!abort_) {
    if (items_.empty()) {
      if (stopping_) break;
      cv_.wait(lock, [this] { return abort_ || stopping_ || !items_.empty(); });
      continue;
    }
    Timestamp now = clock_.Now();
    Rebase(now);
    auto ready = items_.end();
    Timestamp earliest = Timestamp::FromUnixNanos(INT64_MAX);
    for (auto it = items_.begin(); it != items_.end(); ++it) {
      Timestamp due = std::max(it->next_attempt, hold_until_);
      if (due <= now) {
        ready = it;
        break;
      }
      earliest = std::min(earliest, due);
    }
    if (ready == items_.end()) {
      WaitUntil(lock, earliest);
      continue;
    }
    Attempt(lock, ready);
  }
  // Stopped: what is left is not sent (the notification log still has it as due).
  std::vector<Callback> calls;
  while (!items_.empty()) Finish(items_.begin(), Outcome::kStopped, calls);
  exited_ = true;
  idle_cv_.notify_all();
  lock.unlock();
  RunCallbacks(calls);
}

void DeliveryQueue::Impl::Attempt(std::unique_lock<std::mutex>& lock, ItemList::iterator item) {
  if (item->next_request >= item->requests.size()) {  // nothing to send
    std::vector<Callback> calls;
    Finish(item, Outcome::kDelivered, calls);
    lock.unlock();
    RunCallbacks(calls);
    lock.lock();
    return;
  }
  item->in_flight = true;
  ++item->attempts;
  // Items are erased only by this thread or, when not in flight, by Enqueue: `item` and its
  // requests stay valid while the lock is released.
  const OutgoingRequest& request = item->requests[item->next_request];
  lock.unlock();
  core::Result<TransportResponse> answer = transport_.Send(request);
  lock.lock();
  item->in_flight = false;
  std::vector<Callback> calls;
  Timestamp now = clock_.Now();
  if (!answer.ok()) {
    item->last_status = 0;
    item->last_error = delivery_internal::Scrub(answer.status().ToString(), request);
    if (Retryable(answer.status().code())) {
      Retry(item, request, now, "", calls);
    } else {
      LOG_WARNING("notify {}: {}: {}; dropped without retry", name_, request.target,
                  item->last_error);
      Finish(item, Outcome::kDropped, calls);
    }
  } else if (core::Status refused = answer->status >= 200 && answer->status < 300
                                        ? delivery_internal::CheckResponse(request, *answer)
                                        : core::Status::Ok();
             !refused.ok()) {
    // A 2xx that says it failed (Slack's Web API: {"ok":false,...}).
    item->last_status = answer->status;
    item->last_error = delivery_internal::Scrub(refused.message(), request);
    if (Retryable(refused.code())) {
      Retry(item, request, now, answer->retry_after, calls);
    } else {
      LOG_WARNING("notify {}: {} answered {} but refused it: {}; dropped without retry", name_,
                  request.target, answer->status, item->last_error);
      Finish(item, Outcome::kDropped, calls);
    }
  } else if (answer->status >= 200 && answer->status < 300) {
    item->last_status = answer->status;
    item->last_error.clear();
    item->failures = 0;
    if (++item->next_request < item->requests.size() && !item->superseded) {
      item->next_attempt = now;
    } else if (item->next_request < item->requests.size()) {
      Finish(item, Outcome::kSuperseded, calls);
    } else {
      if (metrics_.latency != nullptr) {
        metrics_.latency->Observe(std::max(0.0, (now - item->enqueued_at).SecondsDouble()));
      }
      Finish(item, Outcome::kDelivered, calls);
    }
  } else {
    item->last_status = answer->status;
    item->last_error = delivery_internal::Scrub(answer->body, request);
    if (answer->status >= 500 || answer->status == 429) {
      bool honour = answer->status == 429 || answer->status == 503;
      Retry(item, request, now, honour ? answer->retry_after : "", calls);
    } else {
      LOG_WARNING("notify {}: {} answered {}; dropped without retry; body: {}", name_,
                  request.target, answer->status, item->last_error);
      Finish(item, Outcome::kDropped, calls);
    }
  }
  lock.unlock();
  RunCallbacks(calls);
  lock.lock();
}

void DeliveryQueue::Impl::Retry(ItemList::iterator item, const OutgoingRequest& request,
                                Timestamp now, const std::string& retry_after,
                                std::vector<Callback>& calls) {
  if (item->superseded) {
    Finish(item, Outcome::kSuperseded, calls);
    return;
  }
  ++item->failures;
  Timestamp give_up_at = item->enqueued_at + options_.give_up_after;
  std::optional<Duration> wait;
  if (!retry_after.empty()) wait = delivery_internal::ParseRetryAfter(retry_after, now);
  bool honoured = wait.has_value() && *wait > Duration::Zero();
  if (!honoured) {
    Duration cap = delivery_internal::BackoffCap(options_.initial_backoff, options_.max_backoff,
                                                 item->failures);
    std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(0, cap.nanos()));
    wait = Duration::Nanoseconds(jitter(rng_));
  }
  if (now >= give_up_at || (honoured && now + *wait > give_up_at)) {
    LOG_ERROR("notify {}: {}: gave up after {} attempts over {}: {}{}", name_, request.target,
              item->attempts, (now - item->enqueued_at).ToRoundedString(),
              item->last_status != 0 ? fmt::format("status {}: ", item->last_status) : "",
              item->last_error);
    Finish(item, Outcome::kGaveUp, calls);
    return;
  }
  Inc(metrics_.failed_attempt);
  item->next_attempt = std::min(now + *wait, give_up_at);
  item->backoff = item->next_attempt - now;
  if (honoured && item->next_attempt > hold_until_) {
    hold_until_ = item->next_attempt;
    hold_length_ = item->backoff;
  }
  if (int64_t n = retry_log_.Admit("retry")) {
    LOG_WARNING(
        "notify {}: {} failed attempts since the last line; last: {}: "
        "{}{}; retrying in {}",
        name_, n, request.target,
        item->last_status != 0 ? fmt::format("status {}: ", item->last_status) : "",
        item->last_error, (item->next_attempt - now).ToRoundedString());
  }
}

void DeliveryQueue::Impl::Finish(ItemList::iterator item, Outcome outcome,
                                 std::vector<Callback>& calls) {
  DeliveryResult result = ResultOf(*item, outcome);
  switch (outcome) {
    case Outcome::kDelivered:
      result.delivered_at = clock_.Now();
      Inc(metrics_.delivered);
      break;
    case Outcome::kDropped:
      Inc(metrics_.dropped);
      break;
    case Outcome::kSuperseded:
      Inc(metrics_.superseded);
      break;
    case Outcome::kGaveUp:
      Inc(metrics_.gave_up);
      break;
    case Outcome::kStopped:
      Inc(metrics_.stopped);
      break;
  }
  calls.push_back({std::move(item->done), std::move(result)});
  items_.erase(item);
  UpdateGauge();
}

void DeliveryQueue::Impl::Stop(Duration deadline) {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (!thread_.joinable()) return;
  {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    idle_cv_.wait_for(lock, deadline.ToChrono(), [this] { return exited_; });
    abort_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

DeliveryQueue::DeliveryQueue(std::string receiver, std::string integration, Transport& transport,
                             DeliveryOptions options)
    : impl_(std::make_unique<Impl>(std::move(receiver), std::move(integration), transport,
                                   std::move(options))) {}

DeliveryQueue::~DeliveryQueue() { Stop(Duration::Seconds(5)); }

void DeliveryQueue::Enqueue(std::string key, std::vector<OutgoingRequest> requests,
                            std::function<void(const DeliveryResult&)> done) {
  impl_->Enqueue(std::move(key), std::move(requests), std::move(done));
}

void DeliveryQueue::Stop(Duration deadline) { impl_->Stop(deadline); }

size_t DeliveryQueue::queued() const { return impl_->queued(); }

bool DeliveryQueue::WaitIdle(Duration timeout) { return impl_->WaitIdle(timeout); }

}  // namespace nines::alerting

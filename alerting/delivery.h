// alerting/delivery.h: getting a notification's requests to its receiver, in the real world.
//
//  - Transport: sends one OutgoingRequest and reports what the other side said. HttpTransport
//    (net::HttpClient) and SmtpTransport (libcurl's SMTP: STARTTLS, AUTH, a multipart text and
//    HTML body) are the real ones; tests may put a fake in.
//  - DeliveryQueue: one per receiver integration, with a thread of its own. Enqueue never
//    blocks. Each queued item (a notification's requests under a key, usually its group key) is
//    sent in order; a newer item for the same key replaces an older one still waiting or being
//    retried (the newer state is what the receiver must see). Retries with exponential backoff
//    and full jitter on 5xx, timeouts and refused connections; a 429 waits its Retry-After
//    (seconds or an HTTP date) when it has one; any other 4xx is dropped at once, logged with the
//    response body, counted. `done` is called once per item with the outcome: the caller records
//    a delivered notification in the notification log there (so the log never claims a send
//    that did not happen).
//  - Secrets never reach logs or metrics: requests are named by OutgoingRequest::target.
//  - Metrics (when a registry is given), labels receiver, integration (kind[index]):
//    nines_notifications_total{outcome="delivered|dropped|failed_attempt|superseded|gave_up"},
//    nines_notification_latency_seconds (histogram: enqueue to delivered),
//    nines_notification_queue_length.
//
// Time: backoff waits and the clock used for latency and Retry-After come from DeliveryOptions
// (clock and wait), so tests run a day of retries in milliseconds.
// Thread-safety: DeliveryQueue is thread-safe; Transports are thread-safe.
#ifndef NINES_ALERTING_DELIVERY_H_
#define NINES_ALERTING_DELIVERY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "alerting/notifiers.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/time.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::alerting {

// What the other side answered: for HTTP its status, headers and body; for SMTP the reply code
// mapped onto HTTP's classes (2xx accepted, 4xx transient -> 503, 5xx permanent -> 400) with the
// server's text as body.
struct TransportResponse {
  int status = 0;
  std::string retry_after;  // the Retry-After header, "" when absent
  std::string body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `request`. A transport-level failure (refused, timeout, TLS) is an error Status
  // (UNAVAILABLE, DEADLINE_EXCEEDED) and is retried; an answer, whatever its status, is a value.
  virtual core::Result<TransportResponse> Send(const OutgoingRequest& request) = 0;
};

// Sends kHttp requests with a net::HttpClient and kEmail requests over SMTP (libcurl).
std::unique_ptr<Transport> MakeDefaultTransport(core::Duration timeout);

struct DeliveryOptions {
  core::Duration initial_backoff = core::Duration::Seconds(1);
  core::Duration max_backoff = core::Duration::Minutes(1);
  // An item still failing after this long is given up (logged, counted).
  core::Duration give_up_after = core::Duration::Hours(1);
  size_t max_queue = 1000;  // items; past it the oldest is dropped (counted)
  core::Clock* clock = nullptr;  // null: core::RealClock()
  // Waits until `deadline` on `clock` or until woken (Enqueue, Stop); null: a real wait on a
  // condition variable. Tests inject one that advances a FakeClock.
  std::function<void(core::Timestamp deadline)> wait;
  prometheus::Registry* registry = nullptr;
};

struct DeliveryResult {
  enum class Outcome { kDelivered, kDropped, kSuperseded, kGaveUp, kStopped };
  Outcome outcome = Outcome::kDelivered;
  int attempts = 0;
  int last_status = 0;     // the last HTTP (or mapped SMTP) status, 0 when none
  std::string last_error;  // the last transport error or dropped response body (secrets masked)
  core::Timestamp delivered_at;
};

class DeliveryQueue {
 public:
  // `name` is "receiver/kind[index]" for logs; `transport` must outlive the queue.
  DeliveryQueue(std::string receiver, std::string integration, Transport& transport,
                DeliveryOptions options);
  ~DeliveryQueue();  // Stop(core::Duration::Seconds(5))
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  // Queues `requests` (all must succeed for the item to count delivered) under `key`; replaces
  // an older item with the same key (its done gets kSuperseded). Never blocks on the network.
  void Enqueue(std::string key, std::vector<OutgoingRequest> requests,
               std::function<void(const DeliveryResult&)> done);

  // Stops taking items, keeps sending for at most `deadline` (real time), then calls done with
  // kStopped for what is left and joins the thread. Idempotent.
  void Stop(core::Duration deadline);

  size_t queued() const;
  // Waits (real time, at most `timeout`) until nothing is queued or in flight. For tests.
  bool WaitIdle(core::Duration timeout);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_DELIVERY_H_

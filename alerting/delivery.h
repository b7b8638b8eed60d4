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
//    nines_notifications_total{outcome="delivered|dropped|failed_attempt|superseded|gave_up|
//    queue_full|stopped"} (items, except failed_attempt: Send calls that failed and were
//    retried), nines_notification_latency_seconds (histogram: enqueue to delivered),
//    nines_notification_queue_length (items waiting or in flight).
//
// Retry policy, decided here:
//  - Backoff after the n-th consecutive failure of an item: a uniform random wait in
//    [0, min(max_backoff, initial_backoff * 2^(n-1))] ("full jitter"). Items are independent:
//    while one waits, the others are sent.
//  - A 429 (or 503) with a Retry-After the clock can use (delta-seconds or an HTTP date) waits
//    exactly that long and holds the whole queue meanwhile (the receiver is rate limiting the
//    integration, not one item). It is NOT bounded by max_backoff (retrying sooner only earns
//    another 429) but by give_up_after: when the wait would end past the item's give-up time the
//    item is given up at once. Without a usable Retry-After a 429 backs off like a 5xx.
//  - give_up_after counts from Enqueue; the last retry is made at that time at the latest.
//  - Other answers (1xx, 3xx, 4xx) are dropped at once: one warning line with the status and the
//    start of the body (512 bytes, secrets masked). Transport errors UNAVAILABLE,
//    DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNKNOWN, INTERNAL and ABORTED are retried; others
//    (a bad URL: INVALID_ARGUMENT) are dropped.
//  - Logs: a dropped item and a given-up item one line each; failed attempts at most one line a
//    minute per queue (saying how many); requests named by target, bodies and errors scrubbed
//    of the URL, its token-like parts, credential headers and the SMTP password.
//
// Time: backoff waits and the clock used for latency and Retry-After come from DeliveryOptions
// (clock and wait), so tests run a day of retries in milliseconds. Schedules are on the wall
// clock (clock->Now()); when it steps back (NTP), waits are cut to the length they were given,
// so a retry is never held for the size of the step.
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

struct TransportOptions {
  // Bounds one HTTP request (connect included) and one whole SMTP session.
  core::Duration timeout = core::Duration::Seconds(30);
  // Trusted CAs (PEM) for HTTPS and for SMTP's TLS; "" uses the system's.
  std::string ca_file{};
  // Verify the server's certificate and name (HTTPS and SMTP TLS).
  bool verify_tls = true;
  // Stamps emails' Date and Message-Id; null: core::RealClock(). Must outlive the transport.
  core::Clock* clock = nullptr;
};

// Sends kHttp requests with a net::HttpClient and kEmail requests over SMTP (libcurl):
//  - smarthost port 465 is implicit TLS (smtps), as in Alertmanager; otherwise plain SMTP with
//    STARTTLS required when EmailMessage::require_tls (a server that does not offer it is an
//    UNAVAILABLE error, retried, as Alertmanager does) and no TLS at all when not (Alertmanager
//    does not try STARTTLS then either).
//  - AUTH (PLAIN, LOGIN, CRAM-MD5, whichever the server offers) when auth_username is set and
//    the server offers AUTH; auth_identity is the authorization identity. The EHLO name is
//    EmailMessage::hello ("localhost" when empty, Alertmanager's default).
//  - The message: the headers of EmailMessage::headers (values with non-ASCII RFC 2047
//    Q-encoded, CR and LF removed; Content-Type, MIME-Version and Content-Transfer-Encoding are
//    ours), Date (from the clock) and Message-Id unless given, MIME-Version, and a
//    multipart/alternative body: text/plain then text/html, each UTF-8 quoted-printable (a part
//    is left out when its text is ""). Envelope: MAIL FROM and RCPT TO take the addr-spec of
//    EmailMessage::from and ::to ("Name <a@b>" -> a@b).
//  - SMTP replies map onto HTTP classes (see TransportResponse): a rejected login (535) or a
//    refused recipient (550) is permanent (400, dropped); 4xx (421, 451, ...) are 503 (retried);
//    refused connections and timeouts are errors (retried). Alertmanager retries a failed login;
//    nines does not, as a wrong password does not heal by waiting.
std::unique_ptr<Transport> MakeDefaultTransport(TransportOptions options);
// MakeDefaultTransport({.timeout = timeout}).
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
  //  - The newer item takes the older one's place in the order, with a fresh retry schedule.
  //    An older item whose request is in flight finishes that request: delivered if it (and
  //    the item's other requests) succeeded, kSuperseded otherwise (never retried).
  //  - Requests already accepted by the receiver are not sent again on a retry.
  //  - With max_queue items waiting (the one in flight not counted), the oldest waiting one is
  //    dropped (kDropped with last_error "queue full", counted as queue_full).
  //  - After Stop: done(kStopped) at once.
  // `done` runs on the queue's thread, or on the caller's for the kSuperseded / kDropped /
  // kStopped results decided in Enqueue; never under the queue's lock (it may call Enqueue, not
  // Stop).
  void Enqueue(std::string key, std::vector<OutgoingRequest> requests,
               std::function<void(const DeliveryResult&)> done);

  // Stops taking items, keeps sending for at most `deadline` (real time), then calls done with
  // kStopped for what is left and joins the thread. Idempotent. Items waiting for a retry are
  // retried only if their time comes before the deadline. A request in flight at the deadline
  // cannot be interrupted: Stop returns when it ends (the transport's timeout bounds that), and
  // its item keeps its real outcome when it was the last request.
  void Stop(core::Duration deadline);

  // Items waiting or in flight.
  size_t queued() const;
  // Waits (real time, at most `timeout`) until nothing is queued or in flight. For tests.
  bool WaitIdle(core::Duration timeout);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_DELIVERY_H_

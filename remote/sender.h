// Sending Prometheus remote write 1.0 (protocol 0.1.0) to any compatible receiver: Prometheus
// (--web.enable-remote-write-receiver), Mimir, Thanos Receive, VictoriaMetrics, or another nines.
//
// RemoteWriteClient sends one batch synchronously, retrying what can be retried; the collector's
// durable agent queue uses it directly (pop a batch from disk, Send, delete it on OK).
// RemoteWriteQueue is the engine's asynchronous forwarder: a bounded in-memory queue that never
// blocks ingest, drained by one worker thread in batches through a RemoteWriteClient.
//
// Thread-safety: both classes are thread-safe. A RemoteWriteClient may be used by several threads
// at once (each Send runs independently); Cancel() may be called from any thread. The Clock passed
// to Create/Start must outlive the object.
#ifndef NINES_REMOTE_SENDER_H_
#define NINES_REMOTE_SENDER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"
#include "net/http_client.h"
#include "net/net.h"
#include "remote/remote.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace nines::remote {

struct RemoteWriteClientOptions {
  // REQUIRED: the receiver's endpoint, e.g. "http://127.0.0.1:9090/api/v1/write",
  // "https://mimir.example.com/api/v1/push".
  std::string url;
  // Sent as "Authorization: Bearer <token>" when not empty.
  std::string bearer_token;
  // Extra request headers, e.g. {"X-Scope-OrgID", "tenant-1"} for Mimir/Cortex.
  std::vector<net::HeaderField> headers;
  std::string user_agent = "nines/" NINES_VERSION;
  // Bounds one attempt (writing the request and reading the response).
  core::Duration timeout = core::Duration::Seconds(30);
  // Retry backoff: the first retry waits about min_backoff, each later one twice the previous,
  // up to max_backoff; each wait is jittered uniformly into [b/2, b].
  core::Duration min_backoff = core::Duration::Milliseconds(30);
  core::Duration max_backoff = core::Duration::Seconds(5);
  // No retry starts later than this after the first attempt started (so Send returns within
  // about max_retry_duration + timeout). Zero: one attempt only.
  core::Duration max_retry_duration = core::Duration::Minutes(5);
  // A Retry-After (delta-seconds) on a 429 or 503 replaces the backoff, capped at this.
  core::Duration max_retry_after = core::Duration::Seconds(60);
  // Connection settings (TLS files, connect timeout, pooling); request_timeout is replaced by
  // `timeout`.
  net::ClientOptions http;
  // The value of the `remote` label on this client's metrics.
  std::string name = "default";
  // Where nines_remote_write_retries_total{remote} is registered; null: a private registry.
  std::shared_ptr<prometheus::Registry> registry;
};

// What a receiver said about a batch it refused for good (a 4xx other than 429).
struct Refusal {
  int status = 0;  // the HTTP status
  // Samples refused, by reason, and samples stored, as a nines receiver reports them
  // (X-Nines-Refused-Samples, X-Nines-Stored-Samples: see RemoteWriteHandler). Empty and -1 when
  // the receiver did not say (another kind of receiver, or a refusal of the whole request such
  // as a malformed body): then the whole batch was refused.
  std::vector<std::pair<std::string, int64_t>> refused_samples;
  int64_t stored_samples = -1;
};

// Sends remote-write batches to one endpoint, with retries.
//
// Send's result is exact, so that a durable queue can act on it:
//   OK                 a 2xx answer: the receiver has the batch; delete it.
//   INVALID_ARGUMENT   a 4xx other than 429 (or another non-2xx, non-5xx status): the receiver
//                      refuses this batch and always will; drop it and count it. The message
//                      holds the status and the start of the response body.
//   CANCELLED          Cancel() was called; the batch may or may not have arrived. Keep it.
//   UNAVAILABLE        every attempt failed with a 5xx, a 429, a connection error or a timeout
//                      and max_retry_duration is used up; the batch may or may not have arrived
//                      (a timed-out attempt may have been stored). Keep it and send it again
//                      later: receivers treat a repeated (series, timestamp) as a duplicate.
// Nothing else is returned. Retried: 5xx, 429, and every transport error (connect, TLS, reset,
// timeout, oversized response).
class RemoteWriteClient {
 public:
  // Errors: INVALID_ARGUMENT for a bad url or bad options (negative durations, min_backoff >
  // max_backoff), or unusable TLS files.
  static core::Result<std::unique_ptr<RemoteWriteClient>> Create(
      RemoteWriteClientOptions options, core::Clock& clock = core::RealClock());

  RemoteWriteClient(const RemoteWriteClient&) = delete;
  RemoteWriteClient& operator=(const RemoteWriteClient&) = delete;
  ~RemoteWriteClient();

  // Encodes `request` and sends it; see the class comment for the result.
  core::Status Send(const WriteRequest& request);
  // Sends an already encoded body (EncodeWriteRequest's output, e.g. as a durable queue stored
  // it). Same results as Send. When the result is INVALID_ARGUMENT and `refusal` is not null,
  // it says what the receiver refused.
  core::Status SendEncoded(std::string body, Refusal* refusal = nullptr);

  // Makes every current and future Send return CANCELLED at its next decision point: a backoff
  // wait ends at once, no new attempt starts. An attempt in flight is not interrupted (it ends
  // within `timeout`). Permanent.
  void Cancel();
  bool cancelled() const;

  const RemoteWriteClientOptions& options() const { return options_; }

 private:
  RemoteWriteClient(RemoteWriteClientOptions options, core::Clock& clock,
                    std::unique_ptr<net::HttpClient> http);
  // The jittered wait for a backoff of `b`.
  core::Duration Jitter(core::Duration b);

  const RemoteWriteClientOptions options_;
  core::Clock& clock_;
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* retries_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cancel_cv_;
  bool cancelled_ = false;     // guarded by mu_
  std::mt19937_64 rng_;        // guarded by mu_
};

struct RemoteWriteQueueOptions {
  // The endpoint and retry policy. Its registry defaults to the queue's.
  RemoteWriteClientOptions client;
  // Samples held in memory waiting to be sent (the batch in flight not included). A series that
  // does not fit is dropped whole and counted as reason="queue_full".
  size_t capacity = 100'000;
  // A batch is sent when it has this many samples (a series with more is split) ...
  size_t max_samples_per_send = 2'000;
  // ... or when its oldest sample has waited this long.
  core::Duration batch_send_deadline = core::Duration::Seconds(5);
  // Which series to forward; null forwards every series. Called on the Enqueue caller's thread,
  // possibly concurrently. Series it rejects are not counted anywhere.
  std::function<bool(const core::Labels&)> filter;
  // Where the queue's metrics are registered; null: a private registry.
  std::shared_ptr<prometheus::Registry> registry;
};

// Forwards series to a remote-write endpoint in the background.
//
// Samples leave in the order they were enqueued (one worker, FIFO batches), so each series'
// samples arrive in order. A batch the receiver refuses (INVALID_ARGUMENT) is dropped; one that
// still fails after the client's retries (UNAVAILABLE) is counted as failed and dropped, so one
// bad outage cannot stall forwarding forever; durability across outages is the agent's durable
// queue's job, not this one's.
//
// Metrics, all with remote="<client.name>":
//   nines_remote_write_sent_samples_total             delivered (2xx)
//   nines_remote_write_failed_samples_total           given up after retries, or cancelled by
//                                                     Shutdown while in flight
//   nines_remote_write_dropped_samples_total{reason="queue_full|rejected|shutdown"}
//                                                     never queued (queue full, or Enqueue after
//                                                     Shutdown began), refused with a 4xx, or
//                                                     still queued when Shutdown's deadline passed
//   nines_remote_write_retries_total                  retried attempts (from the client)
//   nines_remote_write_pending_samples                queued plus in flight
class RemoteWriteQueue {
 public:
  // Creates the client and starts the worker thread.
  // Errors: as RemoteWriteClient::Create; INVALID_ARGUMENT when capacity or max_samples_per_send
  // is 0 or batch_send_deadline is not positive.
  static core::Result<std::unique_ptr<RemoteWriteQueue>> Start(
      RemoteWriteQueueOptions options, core::Clock& clock = core::RealClock());

  RemoteWriteQueue(const RemoteWriteQueue&) = delete;
  RemoteWriteQueue& operator=(const RemoteWriteQueue&) = delete;
  // Shutdown(Duration::Zero()): whatever is not yet sent is dropped (counted).
  ~RemoteWriteQueue();

  // Queues `series` unless the filter rejects it. Never blocks on the network. Returns false when
  // the series was dropped (queue full, or shutting down) and counted; true when it was queued,
  // had no samples, or was filtered out.
  bool Enqueue(TimeSeries series);

  // Stops accepting series and sends what is queued, batch by batch, without waiting for batch
  // deadlines, for up to `deadline`. Then it cancels the client (a backoff wait ends at once; an
  // attempt in flight ends within client.timeout), drops what is left (counted) and joins the
  // worker. Idempotent; later calls return at once. Blocks for at most about deadline +
  // client.timeout. REQUIRES: deadline >= 0.
  void Shutdown(core::Duration deadline);

  // Samples queued plus in flight.
  size_t pending() const;

 private:
  struct Metrics;
  struct Entry {
    TimeSeries series;
    size_t offset = 0;  // samples before this were already taken into a batch
  };

  RemoteWriteQueue(RemoteWriteQueueOptions options, core::Clock& clock,
                   std::unique_ptr<RemoteWriteClient> client);
  void Run();
  // Moves up to max_samples_per_send samples from the queue into a batch. REQUIRES: mu_ held.
  WriteRequest TakeBatchLocked(size_t* samples);
  void UpdatePendingLocked();

  const RemoteWriteQueueOptions options_;
  core::Clock& clock_;
  std::unique_ptr<RemoteWriteClient> client_;
  std::unique_ptr<Metrics> metrics_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // worker: data, a full batch, or stopping
  std::condition_variable done_cv_;  // Shutdown: the worker finished
  std::deque<Entry> queue_;                  // guarded by mu_
  size_t queued_samples_ = 0;                // guarded by mu_
  size_t in_flight_samples_ = 0;             // guarded by mu_
  core::Duration batch_start_;               // guarded by mu_: Monotonic() when the batch began
  bool stopping_ = false;                    // guarded by mu_
  bool abort_ = false;                       // guarded by mu_
  bool worker_done_ = false;                 // guarded by mu_

  std::mutex shutdown_mu_;  // serializes Shutdown callers
  std::thread worker_;
};

}  // namespace nines::remote

#endif  // NINES_REMOTE_SENDER_H_

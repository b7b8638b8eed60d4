#include "remote/sender.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "core/log.h"

namespace nines::remote {
namespace {

using core::Duration;
using core::Result;
using core::Status;

// At most this much of a response body goes into an error message.
constexpr size_t kMaxBodyInError = 256;

std::string BodySnippet(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  std::string out(body.substr(0, kMaxBodyInError));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (body.size() > kMaxBodyInError) out += "...";
  return out;
}

// Retry-After as delta-seconds ("120"); the HTTP-date form is not used by remote-write receivers
// and is ignored (the backoff applies).
bool ParseRetryAfter(std::string_view text, Duration* out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || seconds < 0) return false;
  *out = Duration::Seconds(std::min<int64_t>(seconds, 365LL * 86400));
  return true;
}

Status ValidateClientOptions(const RemoteWriteClientOptions& o) {
  RETURN_IF_ERROR(net::ParseUrl(o.url).status().WithContext("remote write url"));
  if (o.timeout <= Duration::Zero()) {
    return core::InvalidArgumentError("remote write timeout must be positive");
  }
  if (o.min_backoff <= Duration::Zero() || o.max_backoff < o.min_backoff) {
    return core::InvalidArgumentError(
        "remote write backoff: need 0 < min_backoff ({}) <= max_backoff ({})",
        o.min_backoff.ToString(), o.max_backoff.ToString());
  }
  if (o.max_retry_duration < Duration::Zero() || o.max_retry_after < Duration::Zero()) {
    return core::InvalidArgumentError(
        "remote write max_retry_duration and max_retry_after must not be negative");
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RemoteWriteClient

Result<std::unique_ptr<RemoteWriteClient>> RemoteWriteClient::Create(
    RemoteWriteClientOptions options, core::Clock& clock) {
  RETURN_IF_ERROR(ValidateClientOptions(options));
  net::ClientOptions http_options = options.http;
  http_options.request_timeout = options.timeout;
  http_options.user_agent = options.user_agent;
  ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> http,
                   net::HttpClient::Create(std::move(http_options)));
  return std::unique_ptr<RemoteWriteClient>(
      new RemoteWriteClient(std::move(options), clock, std::move(http)));
}

RemoteWriteClient::RemoteWriteClient(RemoteWriteClientOptions options, core::Clock& clock,
                                     std::unique_ptr<net::HttpClient> http)
    : options_(std::move(options)),
      clock_(clock),
      http_(std::move(http)),
      registry_(options_.registry ? options_.registry
                                  : std::make_shared<prometheus::Registry>()),
      rng_(std::random_device{}()) {
  retries_ = &prometheus::BuildCounter()
                  .Name("nines_remote_write_retries_total")
                  .Help("Remote-write send attempts that were retried after a retryable failure.")
                  .Register(*registry_)
                  .Add({{"remote", options_.name}});
}

RemoteWriteClient::~RemoteWriteClient() = default;

void RemoteWriteClient::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
  }
  cancel_cv_.notify_all();
}

bool RemoteWriteClient::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

Duration RemoteWriteClient::Jitter(Duration b) {
  const int64_t half = b.nanos() / 2;
  std::lock_guard<std::mutex> lock(mu_);
  std::uniform_int_distribution<int64_t> dist(0, b.nanos() - half);
  return Duration::Nanoseconds(half + dist(rng_));
}

Status RemoteWriteClient::Send(const WriteRequest& request) {
  return SendEncoded(EncodeWriteRequest(request));
}

Status RemoteWriteClient::SendEncoded(std::string body, Refusal* refusal) {
  net::ClientRequest req{.method = "POST",
                         .url = options_.url,
                         .headers = {},
                         .body = std::move(body),
                         .timeout = options_.timeout};
  for (const net::HeaderField& h : options_.headers) req.headers.Add(h.name, h.value);
  req.headers.Set("Content-Type", "application/x-protobuf");
  req.headers.Set("Content-Encoding", "snappy");
  req.headers.Set("X-Prometheus-Remote-Write-Version", "0.1.0");
  req.headers.Set("User-Agent", options_.user_agent);
  if (!options_.bearer_token.empty()) {
    req.headers.Set("Authorization", "Bearer " + options_.bearer_token);
  }

  const Duration start = clock_.Monotonic();
  Duration backoff = options_.min_backoff;
  int attempts = 0;
  std::string last_error;
  while (true) {
    if (cancelled()) {
      return core::CancelledError("remote write to {} cancelled after {} attempt(s){}{}",
                                  options_.url, attempts, last_error.empty() ? "" : ": ",
                                  last_error);
    }
    Result<net::ClientResponse> res = http_->Do(req);
    ++attempts;
    Duration wait = Jitter(backoff);
    if (res.ok()) {
      const int code = res->status;
      if (code >= 200 && code < 300) return Status::Ok();
      if (code != 429 && code < 500) {
        if (refusal != nullptr) {
          *refusal = Refusal{.status = code, .refused_samples = {}, .stored_samples = -1};
          if (res->headers.Has(kRefusedSamplesHeader)) {
            refusal->refused_samples = ParseRefusedSamples(res->headers.Get(kRefusedSamplesHeader));
          }
          int64_t stored = 0;
          const std::string text(res->headers.Get(kStoredSamplesHeader));
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), stored);
          if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
            refusal->stored_samples = stored;
          }
        }
        return core::InvalidArgumentError("remote write to {} rejected the batch: HTTP {}: {}",
                                          options_.url, code, BodySnippet(res->body));
      }
      last_error = fmt::format("HTTP {}: {}", code, BodySnippet(res->body));
      Duration retry_after;
      if ((code == 429 || code == 503) && res->headers.Has("Retry-After") &&
          ParseRetryAfter(res->headers.Get("Retry-After"), &retry_after)) {
        wait = std::min(retry_after, options_.max_retry_after);
      }
    } else {
      last_error = res.status().ToString();
    }

    const Duration elapsed = clock_.Monotonic() - start;
    if (elapsed + wait > options_.max_retry_duration) {
      return core::UnavailableError("remote write to {} failed after {} attempt(s) in {}: {}",
                                    options_.url, attempts, elapsed.ToString(), last_error);
    }
    LOG_DEBUG("remote write to {}: attempt {} failed ({}), retrying in {}", options_.url,
              attempts, last_error, wait.ToString());
    retries_->Increment();
    {
      std::unique_lock<std::mutex> lock(mu_);
      cancel_cv_.wait_for(lock, wait.ToChrono(), [this] { return cancelled_; });
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

// ---------------------------------------------------------------------------------------------
// RemoteWriteQueue

struct RemoteWriteQueue::Metrics {
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Counter* sent = nullptr;
  prometheus::Counter* failed = nullptr;
  prometheus::Counter* dropped_queue_full = nullptr;
  prometheus::Counter* dropped_rejected = nullptr;
  prometheus::Counter* dropped_shutdown = nullptr;
  prometheus::Gauge* pending = nullptr;

  Metrics(std::shared_ptr<prometheus::Registry> r, const std::string& remote)
      : registry(std::move(r)) {
    sent = &prometheus::BuildCounter()
                .Name("nines_remote_write_sent_samples_total")
                .Help("Samples delivered to the remote-write endpoint (2xx).")
                .Register(*registry)
                .Add({{"remote", remote}});
    failed = &prometheus::BuildCounter()
                  .Name("nines_remote_write_failed_samples_total")
                  .Help("Samples given up on after retries, or cancelled in flight by shutdown.")
                  .Register(*registry)
                  .Add({{"remote", remote}});
    auto& dropped = prometheus::BuildCounter()
                        .Name("nines_remote_write_dropped_samples_total")
                        .Help("Samples not sent: queue full, refused by the endpoint (4xx), or "
                              "left at shutdown.")
                        .Register(*registry);
    dropped_queue_full = &dropped.Add({{"remote", remote}, {"reason", "queue_full"}});
    dropped_rejected = &dropped.Add({{"remote", remote}, {"reason", "rejected"}});
    dropped_shutdown = &dropped.Add({{"remote", remote}, {"reason", "shutdown"}});
    pending = &prometheus::BuildGauge()
                   .Name("nines_remote_write_pending_samples")
                   .Help("Samples queued for remote write plus those in flight.")
                   .Register(*registry)
                   .Add({{"remote", remote}});
  }
};

Result<std::unique_ptr<RemoteWriteQueue>> RemoteWriteQueue::Start(RemoteWriteQueueOptions options,
                                                                  core::Clock& clock) {
  if (options.capacity == 0 || options.max_samples_per_send == 0) {
    return core::InvalidArgumentError(
        "remote write queue: capacity and max_samples_per_send must be positive");
  }
  if (options.batch_send_deadline <= Duration::Zero()) {
    return core::InvalidArgumentError("remote write queue: batch_send_deadline must be positive");
  }
  if (!options.registry) options.registry = std::make_shared<prometheus::Registry>();
  if (!options.client.registry) options.client.registry = options.registry;
  ASSIGN_OR_RETURN(std::unique_ptr<RemoteWriteClient> client,
                   RemoteWriteClient::Create(options.client, clock));
  std::unique_ptr<RemoteWriteQueue> queue(
      new RemoteWriteQueue(std::move(options), clock, std::move(client)));
  queue->worker_ = std::thread([q = queue.get()] { q->Run(); });
  return queue;
}

RemoteWriteQueue::RemoteWriteQueue(RemoteWriteQueueOptions options, core::Clock& clock,
                                   std::unique_ptr<RemoteWriteClient> client)
    : options_(std::move(options)),
      clock_(clock),
      client_(std::move(client)),
      metrics_(std::make_unique<Metrics>(options_.registry, options_.client.name)) {}

RemoteWriteQueue::~RemoteWriteQueue() { Shutdown(Duration::Zero()); }

bool RemoteWriteQueue::Enqueue(TimeSeries series) {
  if (series.samples.empty()) return true;
  if (options_.filter && !options_.filter(series.labels)) return true;
  const size_t n = series.samples.size();
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      metrics_->dropped_shutdown->Increment(static_cast<double>(n));
      return false;
    }
    if (queued_samples_ + n > options_.capacity) {
      metrics_->dropped_queue_full->Increment(static_cast<double>(n));
      return false;
    }
    if (queued_samples_ == 0) {
      batch_start_ = clock_.Monotonic();
      wake = true;  // The worker starts its batch deadline.
    }
    queued_samples_ += n;
    if (queued_samples_ >= options_.max_samples_per_send &&
        queued_samples_ - n < options_.max_samples_per_send) {
      wake = true;  // A full batch is ready.
    }
    queue_.push_back(Entry{.series = std::move(series), .offset = 0});
    UpdatePendingLocked();
  }
  if (wake) work_cv_.notify_one();
  return true;
}

size_t RemoteWriteQueue::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_samples_ + in_flight_samples_;
}

void RemoteWriteQueue::UpdatePendingLocked() {
  metrics_->pending->Set(static_cast<double>(queued_samples_ + in_flight_samples_));
}

WriteRequest RemoteWriteQueue::TakeBatchLocked(size_t* samples) {
  WriteRequest batch;
  size_t taken = 0;
  while (!queue_.empty() && taken < options_.max_samples_per_send) {
    Entry& e = queue_.front();
    const size_t left = e.series.samples.size() - e.offset;
    const size_t room = options_.max_samples_per_send - taken;
    if (e.offset == 0 && left <= room) {
      taken += left;
      batch.series.push_back(std::move(e.series));
      queue_.pop_front();
      continue;
    }
    const size_t k = std::min(left, room);
    TimeSeries part{.labels = e.series.labels, .samples = {}};
    auto first = e.series.samples.begin() + static_cast<std::ptrdiff_t>(e.offset);
    part.samples.assign(first, first + static_cast<std::ptrdiff_t>(k));
    batch.series.push_back(std::move(part));
    taken += k;
    e.offset += k;
    if (e.offset == e.series.samples.size()) queue_.pop_front();
  }
  queued_samples_ -= taken;
  *samples = taken;
  return batch;
}

void RemoteWriteQueue::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    // Wait for a full batch, the batch deadline, or shutdown.
    while (!abort_) {
      if (queued_samples_ >= options_.max_samples_per_send) break;
      if (stopping_) break;
      if (queued_samples_ == 0) {
        work_cv_.wait(lock, [this] { return queued_samples_ > 0 || stopping_ || abort_; });
        continue;
      }
      const Duration left = batch_start_ + options_.batch_send_deadline - clock_.Monotonic();
      if (left <= Duration::Zero()) break;
      work_cv_.wait_for(lock, left.ToChrono(), [this] {
        return queued_samples_ >= options_.max_samples_per_send || stopping_ || abort_;
      });
    }
    if (abort_ || queued_samples_ == 0) break;  // queue_ empty only when stopping_

    size_t n = 0;
    WriteRequest batch = TakeBatchLocked(&n);
    in_flight_samples_ = n;
    batch_start_ = clock_.Monotonic();
    lock.unlock();
    const Status status = client_->Send(batch);
    lock.lock();
    in_flight_samples_ = 0;
    UpdatePendingLocked();
    const double count = static_cast<double>(n);
    if (status.ok()) {
      metrics_->sent->Increment(count);
    } else if (status.code() == core::StatusCode::kInvalidArgument) {
      metrics_->dropped_rejected->Increment(count);
      LOG_WARNING("remote write: dropped {} samples: {}", n, status.message());
    } else {
      metrics_->failed->Increment(count);
      LOG_WARNING("remote write: failed to send {} samples: {}", n, status.ToString());
    }
  }
  if (queued_samples_ > 0) {
    metrics_->dropped_shutdown->Increment(static_cast<double>(queued_samples_));
    LOG_WARNING("remote write: dropped {} queued samples at shutdown", queued_samples_);
    queue_.clear();
    queued_samples_ = 0;
  }
  UpdatePendingLocked();
  worker_done_ = true;
  done_cv_.notify_all();
}

void RemoteWriteQueue::Shutdown(Duration deadline) {
  std::lock_guard<std::mutex> shutdown_lock(shutdown_mu_);
  if (!worker_.joinable()) return;
  {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    work_cv_.notify_all();
    const bool done = done_cv_.wait_for(lock, std::max(deadline, Duration::Zero()).ToChrono(),
                                        [this] { return worker_done_; });
    if (!done) {
      abort_ = true;
      work_cv_.notify_all();
    }
  }
  client_->Cancel();
  worker_.join();
}

}  // namespace nines::remote

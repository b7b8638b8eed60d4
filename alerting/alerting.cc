#include "alerting/alerting.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "core/log.h"

namespace nines::alerting {

// ---- Fingerprint ---------------------------------------------------------------------------

std::string Fingerprint::ToString() const { return fmt::format("{:016x}", value_); }

core::Result<Fingerprint> Fingerprint::Parse(std::string_view text) {
  uint64_t v = 0;
  const bool hex_only = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
  if (text.size() != 16 || !hex_only) {
    return core::InvalidArgumentError("fingerprint \"{}\": expected 16 hex digits", text);
  }
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return core::InvalidArgumentError("fingerprint \"{}\": expected 16 hex digits", text);
  }
  return Fingerprint(v);
}

std::string_view AlertStatusName(AlertStatus s) {
  switch (s) {
    case AlertStatus::kFiring:
      return "firing";
    case AlertStatus::kResolved:
      return "resolved";
  }
  return "?";
}

core::Timestamp FiringEndsAt(core::Timestamp now, core::Duration resend_delay,
                             core::Duration eval_interval) {
  const core::Duration longer = std::max(resend_delay, eval_interval);
  return now + longer * 4;
}

// ---- QueueingAlertSink ---------------------------------------------------------------------

namespace {

QueueingAlertSinkOptions Sanitized(QueueingAlertSinkOptions o) {
  o.max_batch = std::max<size_t>(o.max_batch, 1);
  return o;
}

}  // namespace

QueueingAlertSink::QueueingAlertSink(Notifier& notifier, QueueingAlertSinkOptions options)
    : notifier_(notifier), options_(Sanitized(options)) {
  thread_ = std::thread([this] { Run(); });
}

QueueingAlertSink::~QueueingAlertSink() { Stop(); }

void QueueingAlertSink::Send(const std::vector<Alert>& alerts) {
  if (alerts.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      dropped_ += alerts.size();
      return;
    }
    for (const Alert& a : alerts) queue_.push_back(a);
    // Oldest first out: the newest word on an alert is the one worth delivering.
    while (queue_.size() > options_.capacity) {
      queue_.pop_front();
      ++dropped_;
    }
  }
  cv_.notify_one();
}

void QueueingAlertSink::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) break;
      continue;
    }
    const size_t n = std::min(queue_.size(), options_.max_batch);
    std::vector<Alert> batch;
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    notifying_ = true;
    lock.unlock();
    notifier_.Notify(batch);
    lock.lock();
    notifying_ = false;
    delivered_ += batch.size();
    if (queue_.empty()) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

void QueueingAlertSink::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool QueueingAlertSink::WaitIdle(core::Duration timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout.ToChrono(),
                           [this] { return queue_.empty() && !notifying_; });
}

size_t QueueingAlertSink::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

uint64_t QueueingAlertSink::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

uint64_t QueueingAlertSink::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}

// ---- LogAlertSink --------------------------------------------------------------------------

void LogAlertSink::Send(const std::vector<Alert>& alerts) {
  std::lock_guard lock(mu_);
  for (const Alert& a : alerts) {
    auto summary_it = a.annotations.find("summary");
    std::string_view summary =
        summary_it == a.annotations.end() ? std::string_view() : summary_it->second;
    const alerting::Fingerprint fp = a.Fingerprint();
    if (a.status == AlertStatus::kFiring) {
      auto it = logged_.find(fp);
      if (it != logged_.end() && it->second == a.starts_at) continue;
      logged_[fp] = a.starts_at;
      LOG_WARNING("alert firing: {} since {} value {}: {}", a.labels.ToString(),
                  a.starts_at.ToRfc3339(), fmt::format("{:.4g}", a.value), summary);
    } else {
      logged_.erase(fp);
      LOG_INFO("alert resolved: {} at {} after {}: {}", a.labels.ToString(),
               a.ends_at.ToRfc3339(), (a.ends_at - a.starts_at).ToRoundedString(), summary);
    }
  }
}

}  // namespace nines::alerting

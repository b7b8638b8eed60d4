// AlertmanagerNotifier (alerting/alertmanager_push.h): postableAlerts to every
// Alertmanager.
#include "alerting/alertmanager_push.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <string_view>
#include <thread>
#include <utility>

#include "core/json.h"
#include "core/log.h"

namespace nines::alerting {
namespace {

std::string Base64(std::string_view in) {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kChars[(n >> shift) & 63]);
  }
  if (i + 1 == in.size()) {
    const uint32_t n = uint8_t(in[i]) << 16;
    out += {kChars[(n >> 18) & 63], kChars[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kChars[(n >> 18) & 63], kChars[(n >> 12) & 63], kChars[(n >> 6) & 63], '='};
  }
  return out;
}

// One Alertmanager: where to POST, its name for logs and metrics, and its
// metrics.
struct Target {
  std::string url;   // <base>/api/v2/alerts
  std::string name;  // scheme://host[:port]/path, no query
  prometheus::Counter* sent = nullptr;
  prometheus::Counter* errors = nullptr;
  prometheus::Histogram* latency = nullptr;
};

core::Result<Target> MakeTarget(std::string_view base, size_t index) {
  std::string url(base);
  while (!url.empty() && url.back() == '/') url.pop_back();
  const size_t query = url.find_first_of("?#");
  if (query != std::string::npos) {
    return core::InvalidArgumentError(
        "alertmanager url #{}: must not have a query or fragment (alerts go to "
        "<url>/api/v2/alerts)",
        index + 1);
  }
  // Credentials in the URL would end up in error messages; they belong in
  // basic_auth.
  const size_t authority = url.find("://");
  if (authority != std::string::npos &&
      url.substr(authority + 3, url.find('/', authority + 3) - authority - 3).find('@') !=
          std::string::npos) {
    return core::InvalidArgumentError(
        "alertmanager url #{}: credentials in the URL are not supported (use "
        "basic auth)",
        index + 1);
  }
  url += "/api/v2/alerts";
  auto parsed = net::ParseUrl(url);
  if (!parsed.ok())
    return parsed.status().WithContext(fmt::format("alertmanager url #{}", index + 1));
  Target t;
  t.url = url;
  t.name = parsed->scheme + "://" + parsed->HostHeader() + parsed->target;
  t.name.resize(t.name.size() - std::string_view("/api/v2/alerts").size());
  return t;
}

void AppendAlert(std::string* out, const Alert& a) {
  out->append(R"({"labels":)");
  core::AppendJsonLabels(out, a.labels);
  out->append(R"(,"annotations":)");
  core::AppendJsonStringMap(out, a.annotations);
  if (a.starts_at != core::Timestamp()) {
    out->append(R"(,"startsAt":)");
    core::AppendJsonString(out, a.starts_at.ToRfc3339());
  }
  if (a.ends_at != core::Timestamp()) {
    out->append(R"(,"endsAt":)");
    core::AppendJsonString(out, a.ends_at.ToRfc3339());
  }
  if (!a.generator_url.empty()) {
    out->append(R"(,"generatorURL":)");
    core::AppendJsonString(out, a.generator_url);
  }
  out->push_back('}');
}

// The first bytes of a response body for a log line, on one line.
std::string Excerpt(std::string_view body) {
  std::string out(body.substr(0, 256));
  std::replace(out.begin(), out.end(), '\n', ' ');
  if (body.size() > 256) out += "...";
  return out;
}

}  // namespace

std::string PostableAlertsJson(const std::vector<Alert>& alerts) {
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendAlert(&out, alerts[i]);
  }
  out.push_back(']');
  return out;
}

class AlertmanagerNotifier::Impl {
 public:
  Impl(AlertmanagerPushOptions options, std::unique_ptr<net::HttpClient> client,
       std::vector<Target> targets)
      : options_(std::move(options)),
        clock_(options_.clock ? *options_.clock : core::RealClock()),
        client_(std::move(client)),
        targets_(std::move(targets)),
        limiter_(clock_, core::Duration::Minutes(1)) {
    if (options_.bearer_token.size() > 0) {
      authorization_ = "Bearer " + options_.bearer_token;
    } else if (!options_.basic_auth_username.empty()) {
      authorization_ =
          "Basic " + Base64(options_.basic_auth_username + ":" + options_.basic_auth_password);
    }
    if (options_.registry) RegisterMetrics(*options_.registry);
  }

  void Notify(const std::vector<Alert>& alerts) {
    if (alerts.empty()) return;
    std::vector<std::pair<std::string, size_t>> batches;  // body, alerts in it
    for (size_t i = 0; i < alerts.size(); i += options_.max_batch) {
      const size_t end = std::min(alerts.size(), i + options_.max_batch);
      std::vector<Alert> batch(alerts.begin() + i, alerts.begin() + end);
      batches.emplace_back(PostableAlertsJson(batch), batch.size());
    }
    // Every Alertmanager at once, so a slow one does not delay the others.
    std::vector<std::thread> threads;
    for (size_t t = 1; t < targets_.size(); ++t) {
      threads.emplace_back([this, t, &batches] { SendAll(targets_[t], batches); });
    }
    SendAll(targets_[0], batches);
    for (auto& th : threads) th.join();
  }

  uint64_t sent() const { return sent_.load(); }
  uint64_t failed() const { return failed_.load(); }

 private:
  void RegisterMetrics(prometheus::Registry& registry) {
    auto& sent = prometheus::BuildCounter()
                     .Name("nines_alertmanager_notifications_total")
                     .Help("Alerts sent to an Alertmanager (in requests it answered 2xx).")
                     .Register(registry);
    auto& errors = prometheus::BuildCounter()
                       .Name("nines_alertmanager_notification_errors_total")
                       .Help(
                           "Alerts in requests to an Alertmanager that failed (refused, "
                           "timed out, or answered other than 2xx); not retried.")
                       .Register(registry);
    auto& latency = prometheus::BuildHistogram()
                        .Name("nines_alertmanager_notification_latency_seconds")
                        .Help("Duration of one POST /api/v2/alerts to an Alertmanager.")
                        .Register(registry);
    const prometheus::Histogram::BucketBoundaries buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                             0.5,   1,    2.5,   5,    10};
    for (Target& t : targets_) {
      t.sent = &sent.Add({{"alertmanager", t.name}});
      t.errors = &errors.Add({{"alertmanager", t.name}});
      t.latency = &latency.Add({{"alertmanager", t.name}}, buckets);
    }
  }

  void SendAll(Target& target, const std::vector<std::pair<std::string, size_t>>& batches) {
    for (const auto& [body, count] : batches) Send(target, body, count);
  }

  void Send(Target& target, const std::string& body, size_t count) {
    net::ClientRequest req{
        .method = "POST", .url = target.url, .body = body, .timeout = options_.timeout};
    req.headers.Set("Content-Type", "application/json");
    if (!authorization_.empty()) req.headers.Set("Authorization", authorization_);
    const core::Duration start = clock_.Monotonic();
    auto res = client_->Do(req);
    if (target.latency) target.latency->Observe((clock_.Monotonic() - start).SecondsDouble());
    std::string error;
    if (!res.ok()) {
      error = res.status().ToString();
    } else if (res->status < 200 || res->status > 299) {
      error = fmt::format("answered {}: {}", res->status, Excerpt(res->body));
    }
    if (error.empty()) {
      sent_ += count;
      if (target.sent) target.sent->Increment(static_cast<double>(count));
      return;
    }
    failed_ += count;
    if (target.errors) target.errors->Increment(static_cast<double>(count));
    if (int64_t n = limiter_.Admit(target.name)) {
      LOG_WARNING(
          "alertmanager {}: sending alerts failed ({} failed requests since "
          "the last "
          "line; they are not retried, the next evaluation resends): {}",
          target.name, n, error);
    }
  }

  const AlertmanagerPushOptions options_;
  core::Clock& clock_;
  std::unique_ptr<net::HttpClient> client_;
  std::vector<Target> targets_;
  core::LogLimiter limiter_;
  std::string authorization_;  // a secret: never logged
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
};

core::Result<std::unique_ptr<AlertmanagerNotifier>> AlertmanagerNotifier::Create(
    AlertmanagerPushOptions options) {
  if (options.urls.empty()) {
    return core::InvalidArgumentError("alertmanager push: at least one Alertmanager URL required");
  }
  if (options.timeout <= core::Duration::Zero()) {
    return core::InvalidArgumentError("alertmanager push: timeout must be positive");
  }
  if (options.max_batch == 0) {
    return core::InvalidArgumentError("alertmanager push: max_batch must be positive");
  }
  if (!options.bearer_token.empty() && !options.basic_auth_username.empty()) {
    return core::InvalidArgumentError(
        "alertmanager push: a bearer token and "
        "basic auth are mutually exclusive");
  }
  std::vector<Target> targets;
  for (size_t i = 0; i < options.urls.size(); ++i) {
    ASSIGN_OR_RETURN(Target t, MakeTarget(options.urls[i], i));
    targets.push_back(std::move(t));
  }
  net::ClientOptions client_options = options.client;
  client_options.request_timeout = options.timeout;
  client_options.connect_timeout = std::min(client_options.connect_timeout, options.timeout);
  ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> client,
                   net::HttpClient::Create(std::move(client_options)));
  return std::unique_ptr<AlertmanagerNotifier>(new AlertmanagerNotifier(
      std::make_unique<Impl>(std::move(options), std::move(client), std::move(targets))));
}

AlertmanagerNotifier::AlertmanagerNotifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AlertmanagerNotifier::~AlertmanagerNotifier() = default;

void AlertmanagerNotifier::Notify(const std::vector<Alert>& alerts) { impl_->Notify(alerts); }
uint64_t AlertmanagerNotifier::alerts_sent() const { return impl_->sent(); }
uint64_t AlertmanagerNotifier::alerts_failed() const { return impl_->failed(); }

}  // namespace nines::alerting

#include "collector/scraper.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "net/http_client.h"
#include "store/store.h"

namespace nines::collector {
namespace {

constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
constexpr std::string_view kExportedPrefix = "exported_";

// host:port as Prometheus' instance label has it: IPv6 literals in brackets.
std::string Instance(const net::Url& url) {
  if (url.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", url.host, url.port);
  return fmt::format("{}:{}", url.host, url.port);
}

bool HasName(const std::vector<core::Label>& labels, std::string_view name) {
  return std::any_of(labels.begin(), labels.end(),
                     [&](const core::Label& l) { return l.name == name; });
}

}  // namespace

double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

core::Result<std::unique_ptr<Scraper>> Scraper::Create(ScrapeSpec spec, core::Clock& clock) {
  if (spec.job.empty()) return core::InvalidArgumentError("scrape target {}: job is empty", spec.url);
  core::Result<net::Url> url = net::ParseUrl(spec.url);
  if (!url.ok()) {
    return core::InvalidArgumentError("scrape job {}: url: {}", spec.job, url.status().message());
  }
  if (spec.timeout <= core::Duration::Zero() || spec.timeout > spec.interval) {
    return core::InvalidArgumentError(
        "scrape job {} target {}: timeout {} must be positive and at most the interval {}",
        spec.job, spec.url, spec.timeout.ToString(), spec.interval.ToString());
  }
  if (spec.sample_limit < 0 || spec.body_size_limit < 0) {
    return core::InvalidArgumentError(
        "scrape job {} target {}: sample_limit and body_size_limit must not be negative",
        spec.job, spec.url);
  }
  // Extra labels first, so that the named fields win over an extra label of the same name.
  core::Labels::Builder b(spec.extra_labels);
  b.Set("job", spec.job);
  b.Set("instance", Instance(*url));
  if (!spec.region.empty()) b.Set("region", spec.region);
  if (!spec.location.empty()) b.Set("location", spec.location);
  b.Del(core::kMetricNameLabel);
  core::Result<core::Labels> target = b.Build();
  if (!target.ok()) {
    return core::InvalidArgumentError("scrape job {} target {}: labels: {}", spec.job, spec.url,
                                      target.status().message());
  }

  net::ClientOptions options;
  // The client bounds connecting by connect_timeout and the exchange by the request's timeout;
  // both get the scrape timeout, and Scrape() fails a scrape whose total exceeded it.
  options.connect_timeout = spec.timeout;
  options.request_timeout = spec.timeout;
  options.max_idle_per_host = 1;
  options.max_response_bytes = spec.body_size_limit > 0
                                   ? static_cast<size_t>(spec.body_size_limit)
                                   : std::numeric_limits<size_t>::max();
  ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> client, net::HttpClient::Create(options));
  return std::unique_ptr<Scraper>(
      new Scraper(std::move(spec), clock, std::move(target).value(), std::move(client)));
}

Scraper::Scraper(ScrapeSpec spec, core::Clock& clock, core::Labels target_labels,
                 std::unique_ptr<net::HttpClient> client)
    : spec_(std::move(spec)),
      clock_(clock),
      target_labels_(std::move(target_labels)),
      client_(std::move(client)) {}

Scraper::~Scraper() = default;

core::Result<core::Labels> Scraper::WithTargetLabels(const core::Labels& exposed) const {
  core::Labels::Builder b(exposed);
  if (spec_.honor_labels) {
    for (const core::Label& t : target_labels_) {
      if (!exposed.Has(t.name)) b.Set(t.name, t.value);
    }
    return b.Build();
  }
  // Prometheus: the target's value wins; a clashing exposed value moves to exported_<name>
  // (more prefixes while that name is taken by an exposed label, a target label or an earlier
  // rename; shorter names are renamed first).
  std::vector<core::Label> conflicts;
  for (const core::Label& t : target_labels_) {
    std::string_view v = exposed.Get(t.name);
    if (!v.empty()) conflicts.push_back({t.name, std::string(v)});
    b.Set(t.name, t.value);
  }
  if (conflicts.empty()) return b.Build();
  std::stable_sort(conflicts.begin(), conflicts.end(),
                   [](const core::Label& x, const core::Label& y) {
                     return x.name.size() < y.name.size();
                   });
  std::vector<core::Label> renamed;
  for (core::Label& c : conflicts) {
    std::string name = c.name;
    // Each round makes the name longer than every name it could collide with after at most
    // exposed.size() + target_labels_.size() + renamed.size() rounds; the bound is for show.
    const size_t max_rounds = exposed.size() + target_labels_.size() + renamed.size() + 1;
    for (size_t round = 0; round < max_rounds; ++round) {
      name.insert(0, kExportedPrefix);
      if (!exposed.Has(name) && !target_labels_.Has(name) && !HasName(renamed, name)) break;
    }
    renamed.push_back({std::move(name), std::move(c.value)});
  }
  for (const core::Label& r : renamed) b.Set(r.name, r.value);
  return b.Build();
}

core::Status Scraper::FetchAndParse(ScrapeResult* result) {
  const core::Duration mono_start = clock_.Monotonic();
  net::ClientRequest request;
  request.method = "GET";
  request.url = spec_.url;
  request.headers.Set("Accept", "text/plain;version=0.0.4");
  if (!spec_.bearer_token.empty()) {
    request.headers.Set("Authorization", "Bearer " + spec_.bearer_token);
  }
  request.timeout = spec_.timeout;
  core::Result<net::ClientResponse> response = client_->Do(request);
  if (!response.ok()) {
    const core::Status& s = response.status();
    switch (s.code()) {
      case core::StatusCode::kDeadlineExceeded:
        return core::DeadlineExceededError("timeout after {}: {}", spec_.timeout.ToString(),
                                           s.message());
      case core::StatusCode::kResourceExhausted:
        return core::ResourceExhaustedError("body larger than {} bytes", spec_.body_size_limit);
      default:
        return s;
    }
  }
  result->body_bytes = static_cast<int64_t>(response->body.size());
  if (response->status < 200 || response->status > 299) {
    return core::UnavailableError("status {}", response->status);
  }
  const core::Duration took = clock_.Monotonic() - mono_start;
  if (took > spec_.timeout) {
    return core::DeadlineExceededError("timeout after {}: the scrape took {}",
                                       spec_.timeout.ToString(), took.ToString());
  }

  ASSIGN_OR_RETURN(Exposition exposition, ParseExposition(response->body));
  result->samples_scraped = static_cast<int64_t>(exposition.samples.size());
  if (spec_.sample_limit > 0 && result->samples_scraped > spec_.sample_limit) {
    return core::ResourceExhaustedError("sample limit {} exceeded ({} samples)",
                                        spec_.sample_limit, result->samples_scraped);
  }
  const int64_t default_ts = result->start.UnixMillis();
  std::vector<bool> has_own_timestamp;
  has_own_timestamp.reserve(exposition.samples.size());
  result->samples.reserve(exposition.samples.size());
  for (const ExpositionSample& s : exposition.samples) {
    core::Result<core::Labels> labels = WithTargetLabels(s.labels);
    if (!labels.ok()) {
      return core::InvalidArgumentError("line {}: {}", s.line, labels.status().message());
    }
    result->samples.push_back(ScrapedSample{.labels = std::move(labels).value(),
                                            .timestamp_ms = s.timestamp_ms.value_or(default_ts),
                                            .value = s.value});
    has_own_timestamp.push_back(s.timestamp_ms.has_value());
  }
  // Target labels can make two exposed series one: without honor_labels a{job="x"} and
  // a{exported_job="x"} both become a{exported_job="x",job=<job>}; with it, a{job=<job>} and a
  // are the same. Prometheus drops the second as a duplicate sample; like the parser, the
  // scrape fails instead and says which.
  {
    std::unordered_map<uint64_t, size_t> seen;
    seen.reserve(result->samples.size());
    for (size_t i = 0; i < result->samples.size(); ++i) {
      auto [it, inserted] = seen.emplace(result->samples[i].labels.Hash(), i);
      if (!inserted && result->samples[it->second].labels == result->samples[i].labels) {
        return core::InvalidArgumentError(
            "line {}: series {} is a duplicate once the target labels are added",
            exposition.samples[i].line, result->samples[i].labels.ToString());
      }
    }
  }
  result->families = std::move(exposition.families);
  TrackSeries(result, has_own_timestamp);
  return core::Status::Ok();
}

void Scraper::TrackSeries(ScrapeResult* result, const std::vector<bool>& has_own_timestamp) {
  std::unordered_set<uint64_t> current;
  std::unordered_map<uint64_t, core::Labels> tracked;
  current.reserve(result->samples.size());
  for (size_t i = 0; i < result->samples.size(); ++i) {
    const core::Labels& labels = result->samples[i].labels;
    current.insert(labels.Hash());
    if (!previous_series_.contains(labels.Hash())) ++result->series_added;
    if (!has_own_timestamp[i]) tracked.emplace(labels.Hash(), labels);
  }
  for (auto& [hash, labels] : previous_tracked_) {
    if (!tracked.contains(hash)) result->stale.push_back(std::move(labels));
  }
  std::sort(result->stale.begin(), result->stale.end());
  previous_series_ = std::move(current);
  previous_tracked_ = std::move(tracked);
}

ScrapeResult Scraper::Scrape() {
  ScrapeResult result;
  result.target_labels = target_labels_;
  result.start = clock_.Now();
  const core::Duration mono_start = clock_.Monotonic();
  core::Status status = FetchAndParse(&result);
  result.duration = clock_.Monotonic() - mono_start;
  if (status.ok()) {
    result.up = true;
  } else {
    // Nothing of a failed scrape is kept; every series of the last good one goes stale (once:
    // the next successful scrape starts afresh).
    result.up = false;
    result.error = status.message();
    result.samples.clear();
    result.families.clear();
    result.series_added = 0;
    result.stale.clear();
    for (auto& [hash, labels] : previous_tracked_) result.stale.push_back(std::move(labels));
    std::sort(result.stale.begin(), result.stale.end());
    previous_tracked_.clear();
    previous_series_.clear();
  }
  result.samples_post_relabeling = static_cast<int64_t>(result.samples.size());
  return result;
}

core::Status AppendScrape(const ScrapeResult& result, store::Appender& appender) {
  for (const ScrapedSample& s : result.samples) {
    RETURN_IF_ERROR(appender.Append(s.labels, s.timestamp_ms, s.value));
  }
  const int64_t t = result.start.UnixMillis();
  for (const core::Labels& labels : result.stale) {
    RETURN_IF_ERROR(appender.Append(labels, t, StaleNaN()));
  }
  auto synthetic = [&](std::string_view name, double value) -> core::Status {
    core::Labels::Builder b(result.target_labels);
    b.Set(core::kMetricNameLabel, name);
    ASSIGN_OR_RETURN(core::Labels labels, b.Build());
    return appender.Append(labels, t, value);
  };
  RETURN_IF_ERROR(synthetic("up", result.up ? 1 : 0));
  RETURN_IF_ERROR(synthetic("scrape_duration_seconds", result.duration.SecondsDouble()));
  RETURN_IF_ERROR(synthetic("scrape_samples_scraped", static_cast<double>(result.samples_scraped)));
  RETURN_IF_ERROR(synthetic("scrape_samples_post_metric_relabeling",
                            static_cast<double>(result.samples_post_relabeling)));
  RETURN_IF_ERROR(synthetic("scrape_series_added", static_cast<double>(result.series_added)));
  return core::Status::Ok();
}

}  // namespace nines::collector

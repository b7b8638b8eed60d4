// Private to collector/: the scrape of one target (ScrapeSpec in collector.h), and how its
// result becomes samples. The agent schedules scrapes; this file does one at a time.
//
// A scrape, as Prometheus does it: GET the URL with "Accept: text/plain;version=0.0.4" (and the
// bearer token), bounded by the spec's timeout and body size limit; a non-2xx status, a
// transport error, a parse error (collector/exposition.h) or more samples than the sample limit
// fails the whole scrape (up 0, nothing of the body is kept) with a reason. Otherwise every
// sample gets the target labels (job, instance, region, location, extra labels; conflicts are
// resolved as Prometheus' honor_labels does) and, unless the body gave it a timestamp, the
// scrape's start time (clock.Now()).
//
// AppendScrape then writes the samples plus Prometheus' synthetic series for the target: up,
// scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling (equal
// to the samples kept: nines has no metric relabeling yet) and scrape_series_added; and a
// staleness marker (Prometheus' special NaN) for each series that the previous successful scrape
// had and this one has not (every such series when this scrape failed). As in Prometheus,
// series exposed with their own timestamps get no staleness markers.
//
// Thread-safety: a Scraper is thread-compatible: one Scrape() at a time. It owns its HTTP client
// (a keep-alive connection to the target) and remembers the previous scrape's series. `clock`
// must outlive it. ScrapeResult is a plain value.
#ifndef NINES_COLLECTOR_SCRAPER_H_
#define NINES_COLLECTOR_SCRAPER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collector/collector.h"
#include "collector/exposition.h"
#include "core/clock.h"
#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::net {
class HttpClient;
}  // namespace nines::net

namespace nines::store {
class Appender;
}  // namespace nines::store

namespace nines::collector {

struct ScrapedSample {
  core::Labels labels;  // the exposed labels plus the target labels
  int64_t timestamp_ms = 0;
  double value = 0;
};

// What one scrape found. A failed scrape is data: up is false and `error` says why.
struct ScrapeResult {
  core::Labels target_labels;  // job, instance, region, location, extra labels
  core::Timestamp start;       // clock.Now() when the scrape began
  core::Duration duration;     // measured with clock.Monotonic()
  bool up = false;
  // Why the scrape failed: "status 503", "line 7 col 3: expected a value after the metric
  // name", "sample limit 1000 exceeded (1204 samples)", "body larger than 10485760 bytes",
  // "timeout after 5s: ...", "connect to 127.0.0.1:9100: Connection refused". Empty when up.
  std::string error;
  int64_t body_bytes = 0;
  // Samples in the body: 0 when it could not be fetched or parsed; the count when the sample
  // limit rejected them.
  int64_t samples_scraped = 0;
  // Samples kept (samples.size()).
  int64_t samples_post_relabeling = 0;
  // Series in this scrape that the previous successful scrape did not have (all of them on the
  // first scrape, and on the first after a failure); 0 when the scrape failed.
  int64_t series_added = 0;
  std::vector<ScrapedSample> samples;  // empty unless up
  std::vector<MetricFamily> families;  // the body's metadata (types, help); empty unless up
  // Series that get a staleness marker at `start` (see the file comment).
  std::vector<core::Labels> stale;
};

// Prometheus' staleness marker value: a NaN with a payload no computation produces.
double StaleNaN();
bool IsStaleNaN(double v);

class Scraper {
 public:
  // Validates `spec` and builds the target labels and the HTTP client.
  // Errors: INVALID_ARGUMENT naming the field (empty job, bad URL, timeout not in
  // (0, interval], negative limits, invalid extra label names).
  static core::Result<std::unique_ptr<Scraper>> Create(ScrapeSpec spec, core::Clock& clock);

  ~Scraper();
  Scraper(const Scraper&) = delete;
  Scraper& operator=(const Scraper&) = delete;

  // Scrapes the target once, blocking. The timeout bounds name resolution, connecting and the
  // HTTP exchange each (net::HttpClient's deadlines), so a call returns within about twice the
  // timeout for an IP address (three times with a slow resolver); a scrape that took longer
  // than the timeout in total fails too. Never fails itself: errors are in the result.
  ScrapeResult Scrape();

  const ScrapeSpec& spec() const { return spec_; }
  const core::Labels& target_labels() const { return target_labels_; }

 private:
  Scraper(ScrapeSpec spec, core::Clock& clock, core::Labels target_labels,
          std::unique_ptr<net::HttpClient> client);

  // Fetches and parses; on error returns it (the caller fills the result).
  core::Status FetchAndParse(ScrapeResult* result);
  // The final labels of one exposed sample.
  core::Result<core::Labels> WithTargetLabels(const core::Labels& exposed) const;
  // Compares with the previous scrape: series_added and stale; then remembers this one.
  void TrackSeries(ScrapeResult* result, const std::vector<bool>& has_own_timestamp);

  ScrapeSpec spec_;
  core::Clock& clock_;
  core::Labels target_labels_;
  std::unique_ptr<net::HttpClient> client_;
  // The previous successful scrape: every series' hash (for series_added), and the series
  // without their own timestamps (for staleness markers), by hash.
  std::unordered_set<uint64_t> previous_series_;
  std::unordered_map<uint64_t, core::Labels> previous_tracked_;
};

// Appends everything `result` holds to `appender` (not committed): its samples, a staleness
// marker for each of result.stale, and the synthetic series (see the file comment), all
// stamped result.start unless a sample had its own timestamp.
// Errors: as Appender::Append (the first one; earlier samples stay staged).
core::Status AppendScrape(const ScrapeResult& result, store::Appender& appender);

}  // namespace nines::collector

#endif  // NINES_COLLECTOR_SCRAPER_H_

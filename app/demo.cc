#include "app/demo.h"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "collector/collector.h"
#include "net/net.h"
#include "store/store.h"

namespace nines::app {
namespace {

using core::Duration;

// What a region's service does at `elapsed` since the demo started.
struct Behavior {
  bool outage = false;        // every request 503
  double error_share = 0;     // share of requests answered 500
  Duration delay;             // added to /health
};

// The scripted eu-west-1 outage, at `since_start` from the demo's start (negative: before it):
// down for 10 minutes every hour, the first time from 2 minutes before the start. Those first 2
// minutes are in the history the demo writes on first start, so the outage has already burned
// two whole minutes when the engine's first evaluation runs: a 1h/5m page needs 14.4x the
// 99.8% budget rate over the last hour, i.e. at least 2 bad minutes of 60, and whole minutes are
// what the SLOs count. Without that history (--history 0s, or a restart on the same data
// directory) the page comes about two minutes into the outage instead.
bool EuOutage(Duration since_start) {
  const int64_t hour = Duration::Hours(1).seconds();
  const int64_t s = ((since_start + Duration::Minutes(2)).seconds() % hour + hour) % hour;
  return s < Duration::Minutes(10).seconds();
}

Behavior Script(std::string_view region, Duration elapsed) {
  const int64_t s = (elapsed % Duration::Hours(1)).seconds();
  Behavior b;
  if (region == "eu-west-1") {
    b.outage = EuOutage(elapsed);
  } else if (region == "ap-southeast-2") {
    if ((s / 60) % 3 == 2 && s % 60 < 20) b.error_share = 0.5;
  } else if (region == "us-east-1") {
    if ((s / 60) % 4 == 3 && s % 60 >= 30 && s % 60 < 45) b.delay = Duration::Milliseconds(1200);
  }
  return b;
}

class Service {
 public:
  Service(std::string region, core::Clock& clock, core::Timestamp start)
      : region_(std::move(region)), clock_(clock), start_(start) {}

  core::Status Start() {
    net::Router router;
    router.Handle("GET", "/health", net::Access::kPublic,
                  [this](const net::Request&) { return Handle(true); });
    router.Handle("GET", "/", net::Access::kPublic,
                  [this](const net::Request&) { return Handle(false); });
    router.Handle("GET", "/app-metrics", net::Access::kPublic,
                  [this](const net::Request&) { return Metrics(); });
    net::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 4;  // a slow /health must not hold up the other probes
    o.access_log = false;
    ASSIGN_OR_RETURN(server_, net::Server::Start(o, std::move(router), clock_, nullptr));
    server_->SetReady(true);
    return core::Status::Ok();
  }

  const std::string& region() const { return region_; }
  int port() const { return server_->port(); }
  void Shutdown() {
    if (server_) server_->Shutdown();
  }

 private:
  net::Response Handle(bool health) {
    Behavior b = Script(region_, clock_.Now() - start_);
    int code = 200;
    if (b.outage) {
      code = 503;
    } else if (b.error_share > 0 && (++requests_ % 100) < b.error_share * 100) {
      code = 500;
    }
    Count(code);
    if (code != 200) {
      return net::Response::Json(code, fmt::format(R"({{"status":"error","region":"{}"}})", region_));
    }
    if (health) {
      // A real service would be slow here; the demo's is slow on purpose, in real time.
      if (b.delay > Duration::Zero()) std::this_thread::sleep_for(b.delay.ToChrono());
      return net::Response::Json(200, fmt::format(R"({{"status":"ok","region":"{}"}})", region_));
    }
    net::Response r;
    r.status = 200;
    r.headers.Set("Content-Type", "text/html; charset=utf-8");
    r.body = fmt::format("<!doctype html><title>{0}</title><h1>Welcome to {0}</h1>", region_);
    return r;
  }

  void Count(int code) {
    std::lock_guard<std::mutex> lock(mu_);
    ++by_code_[code];
  }

  net::Response Metrics() {
    std::string body =
        "# HELP http_requests_total Requests served, by status code.\n"
        "# TYPE http_requests_total counter\n";
    std::lock_guard<std::mutex> lock(mu_);
    for (auto [code, n] : by_code_) {
      body += fmt::format("http_requests_total{{code=\"{}\"}} {}\n", code, n);
    }
    return net::Response::Text(200, body);
  }

  const std::string region_;
  core::Clock& clock_;
  const core::Timestamp start_;
  std::unique_ptr<net::Server> server_;
  std::atomic<uint64_t> requests_{0};
  std::mutex mu_;
  std::map<int, uint64_t> by_code_;
};

}  // namespace

class DemoServices::Impl {
 public:
  explicit Impl(core::Clock& clock) : clock_(clock) {}

  core::Status Start() {
    start_ = clock_.Now();
    for (const char* region : {"us-east-1", "eu-west-1", "ap-southeast-2"}) {
      services_.push_back(std::make_unique<Service>(region, clock_, start_));
      RETURN_IF_ERROR(services_.back()->Start());
    }
    return core::Status::Ok();
  }

  std::string ChecksYaml() const {
    // Each region is probed from its own location and from a second region's, so that one
    // prober's trouble is visible as such.
    const std::map<std::string, std::string> other = {{"us-east-1", "eu-west-1a"},
                                                      {"eu-west-1", "us-east-1a"},
                                                      {"ap-southeast-2", "us-east-1a"}};
    std::string api, web, scrapes;
    for (const auto& s : services_) {
      const std::string& r = s->region();
      const std::string locations = fmt::format("[{}a, {}]", r, other.at(r));
      api += fmt::format(
          "      - name: api-{0}\n"
          "        region: {0}\n"
          "        locations: {2}\n"
          "        interval: 5s\n"
          "        timeout: 3s\n"
          "        http:\n"
          "          url: http://127.0.0.1:{1}/health\n"
          "          json: [{{pointer: /status, equals: ok}}]\n"
          "          degraded_above: 1s\n",
          r, s->port(), locations);
      web += fmt::format(
          "      - name: web-{0}\n"
          "        region: {0}\n"
          "        locations: {2}\n"
          "        interval: 10s\n"
          "        timeout: 3s\n"
          "        http:\n"
          "          url: http://127.0.0.1:{1}/\n"
          "          fail_if_body_not_matches_regexp: [\"Welcome to {0}\"]\n"
          "      - name: tcp-{0}\n"
          "        region: {0}\n"
          "        locations: {2}\n"
          "        interval: 10s\n"
          "        timeout: 3s\n"
          "        tcp: {{address: \"127.0.0.1:{1}\"}}\n",
          r, s->port(), locations);
      // The region's own agent scrapes its request counters (a request-ratio SLI).
      scrapes += fmt::format(
          "      - url: http://127.0.0.1:{1}/app-metrics\n"
          "        region: {0}\n"
          "        locations: [{0}a]\n"
          "        interval: 5s\n",
          r, s->port());
    }
    return "services:\n"
           "  - name: api\n"
           "    description: The public API, per region\n"
           "    checks:\n" +
           api +
           "    scrapes:\n" +
           scrapes +
           "  - name: web\n"
           "    description: The web front end, per region\n"
           "    checks:\n" +
           web;
  }

  std::vector<std::string> Describe() const {
    std::vector<std::string> out;
    for (const auto& s : services_) {
      out.push_back(fmt::format("{}: http://127.0.0.1:{}", s->region(), s->port()));
    }
    return out;
  }

  void Shutdown() {
    for (auto& s : services_) s->Shutdown();
  }

  core::Timestamp start() const { return start_; }

 private:
  core::Clock& clock_;
  core::Timestamp start_;
  std::vector<std::unique_ptr<Service>> services_;
};

core::Result<std::unique_ptr<DemoServices>> DemoServices::Start(core::Clock& clock) {
  auto impl = std::make_unique<Impl>(clock);
  RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<DemoServices>(new DemoServices(std::move(impl)));
}

DemoServices::DemoServices(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DemoServices::~DemoServices() { Shutdown(); }
std::string DemoServices::ChecksYaml() const { return impl_->ChecksYaml(); }
std::vector<std::string> DemoServices::Describe() const { return impl_->Describe(); }
core::Timestamp DemoServices::started_at() const { return impl_->start(); }
void DemoServices::Shutdown() {
  if (impl_) impl_->Shutdown();
}

namespace {

// Whether `region`'s deployment was down (503) in the history minute that starts at
// `minute_start`, `minutes_ago` whole minutes before the minute of `now` (the demo's start): the
// past incidents, and the start of the live eu-west-1 outage (EuOutage) when it overlaps the
// minute (judged at the minute's last second, when its last probe ran).
bool HistoryOutage(std::string_view region, int64_t minutes_ago, core::Timestamp minute_start,
                   core::Timestamp now) {
  if (region == "eu-west-1") {
    const Duration before_start = minute_start + Duration::Seconds(59) - now;
    if (before_start > -Duration::Minutes(10) && EuOutage(before_start)) return true;
    return minutes_ago >= 12 * 1440 && minutes_ago < 12 * 1440 + 25;
  }
  if (region == "us-east-1") return minutes_ago >= 3 * 1440 + 200 && minutes_ago < 3 * 1440 + 206;
  return false;
}

// Requests answered 500 at that minute, of 600: a daily burst in ap-southeast-2, one now and
// then elsewhere.
double HistoryErrors(std::string_view region, int64_t minutes_ago) {
  if (region == "ap-southeast-2" && minutes_ago % 1440 == 700) return 180;
  return minutes_ago % 3 == 0 ? 1 : 0;
}

}  // namespace

core::Status SeedDemoHistory(const Config& config, const std::vector<std::string>& locations,
                             core::Timestamp now, core::Duration history) {
  namespace fs = std::filesystem;
  const fs::path marker = fs::path(config.storage.data_dir) / "demo-history";
  if (fs::exists(marker)) return core::Status::Ok();
  store::StoreOptions so;
  so.dir = (fs::path(config.storage.data_dir) / "tsdb").string();
  so.raw_retention = config.storage.raw_retention;
  so.rollup_1m_retention = config.storage.rollup_1m_retention;
  so.rollup_1h_retention = config.storage.rollup_1h_retention;
  // The store takes samples only near its clock's now, so the history is written as it would
  // have arrived: with a clock of its own that moves through the past, an hour per commit.
  core::FakeClock history_clock(now - history);
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(so, history_clock));

  std::vector<collector::CheckSpec> checks;
  for (const std::string& l : locations) {
    for (collector::CheckSpec& c : ChecksForLocation(config, l)) checks.push_back(std::move(c));
  }
  struct Counter {
    core::Labels labels;
    std::string region;
    bool errors;  // the 500s counter, else the 200s
    double value = 0;
  };
  std::vector<Counter> counters;
  for (const RegionConfig& r : config.regions) {
    for (const char* code : {"200", "500"}) {
      auto labels = core::Labels::From({{"__name__", "http_requests_total"},
                                        {"code", code},
                                        {"instance", "history"},
                                        {"job", "api"},
                                        {"location", r.name + "a"},
                                        {"region", r.name}});
      if (!labels.ok()) return labels.status();
      counters.push_back({*labels, r.name, std::string_view(code) == "500"});
    }
  }

  const int64_t minutes = history.seconds() / 60;
  const int64_t now_minute = now.UnixSeconds() / 60;
  // An hour per commit, oldest first: the store takes history in time order.
  for (int64_t start = minutes; start > 0; start -= 60) {
    // The commit arrives when its newest sample is taken.
    const int64_t newest_ago = std::max<int64_t>(start - 60, 0) + 1;
    history_clock.Set(core::Timestamp::FromUnixSeconds((now_minute - newest_ago) * 60));
    std::unique_ptr<store::Appender> app = store->NewAppender();
    for (int64_t ago = start; ago > std::max<int64_t>(start - 60, 0); --ago) {
      const core::Timestamp t = core::Timestamp::FromUnixSeconds((now_minute - ago) * 60);
      for (const collector::CheckSpec& c : checks) {
        collector::ProbeResult r;
        r.success = !HistoryOutage(c.region, ago, t, now);
        if (!r.success) r.reason = "status 503";
        // A stable, plausible latency: 40-80 ms, slower in the farther location.
        const int64_t ms = 40 + (ago * 7 + static_cast<int64_t>(c.name.size()) * 13) % 40 +
                           (c.location.substr(0, c.region.size()) == c.region ? 0 : 60);
        r.duration = Duration::Milliseconds(ms);
        RETURN_IF_ERROR(collector::AppendProbeResult(c, r, t, *app));
      }
      for (Counter& k : counters) {
        const double requests = 600;
        const double errors =
            HistoryOutage(k.region, ago, t, now) ? requests : HistoryErrors(k.region, ago);
        k.value += k.errors ? errors : requests - errors;
        RETURN_IF_ERROR(app->Append(k.labels, t.UnixMillis(), k.value));
      }
    }
    RETURN_IF_ERROR(app->Commit().status());
  }
  history_clock.Set(now);
  RETURN_IF_ERROR(store->Flush());
  store.reset();
  std::ofstream(marker) << history.ToString() << " of history written before " << now.ToRfc3339() << "\n";
  return core::Status::Ok();
}

}  // namespace nines::app

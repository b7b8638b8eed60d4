#include "collector/scraper.h"

#include "collector/probe_engine.h"
#include "collector/scrape_manager.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "net/net.h"
#include "store/store.h"
#include "tests/testutil/testutil.h"

namespace nines::collector {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// An Appender that records what it was given, in order.
class RecordingAppender : public store::Appender {
 public:
  struct Entry {
    std::string series;
    int64_t timestamp_ms;
    double value;
  };
  core::Status Append(const core::Labels& series, int64_t timestamp_ms, double value) override {
    entries.push_back({series.ToString(), timestamp_ms, value});
    return core::Status::Ok();
  }
  core::Result<store::CommitResult> Commit() override { return store::CommitResult{}; }
  void Rollback() override { entries.clear(); }

  // The entry for `series`; fails the test when there is not exactly one.
  const Entry* Find(const std::string& series) const {
    const Entry* found = nullptr;
    for (const Entry& e : entries) {
      if (e.series != series) continue;
      EXPECT_EQ(found, nullptr) << "twice: " << series;
      found = &e;
    }
    EXPECT_NE(found, nullptr) << "missing: " << series;
    return found;
  }

  std::vector<Entry> entries;
};

// A loopback metrics endpoint (/target/metrics: net::Server serves its own /metrics) whose
// answers the test scripts.
class MetricsServer {
 public:
  MetricsServer() {
    net::Router router;
    router.Handle("GET", "/target/metrics", net::Access::kPublic, [this](const net::Request& req) {
      std::unique_lock<std::mutex> lock(mu_);
      accept_ = std::string(req.headers.Get("Accept"));
      authorization_ = std::string(req.headers.Get("Authorization"));
      ++requests_;
      if (block_) {
        // Held until the test releases it (bounded so a broken test cannot hang the server).
        cv_.wait_for(lock, std::chrono::seconds(20), [this] { return !block_; });
      }
      net::Response res = net::Response::Text(status_, body_);
      res.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      return res;
    });
    net::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    auto server = net::Server::Start(options, std::move(router), core::RealClock(), nullptr);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = std::move(server).value();
  }
  ~MetricsServer() {
    Release();
    if (server_) server_->Shutdown();
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}/target/metrics", port()); }
  int port() const { return server_ ? server_->port() : 0; }

  void Serve(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  void Block() {
    std::lock_guard<std::mutex> lock(mu_);
    block_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    block_ = false;
    cv_.notify_all();
  }
  std::string accept() const {
    std::lock_guard<std::mutex> lock(mu_);
    return accept_;
  }
  std::string authorization() const {
    std::lock_guard<std::mutex> lock(mu_);
    return authorization_;
  }
  int requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int status_ = 200;
  std::string body_;
  bool block_ = false;
  int requests_ = 0;
  std::string accept_, authorization_;
  std::unique_ptr<net::Server> server_;
};

class ScraperTest : public ::testing::Test {
 protected:
  ScrapeSpec Spec() const {
    ScrapeSpec spec;
    spec.job = "node";
    spec.url = server_.url();
    spec.region = "eu-west-1";
    spec.location = "eu-west-1a";
    spec.extra_labels = core::Labels::From({{"team", "core"}}).value();
    spec.timeout = core::Duration::Seconds(5);
    return spec;
  }
  std::unique_ptr<Scraper> Make(const ScrapeSpec& spec) {
    auto scraper = Scraper::Create(spec, clock_);
    EXPECT_TRUE(scraper.ok()) << scraper.status().ToString();
    return scraper.ok() ? std::move(scraper).value() : nullptr;
  }
  // The target labels as text after the metric name, for expected series strings.
  std::string Target() const {
    return fmt::format("instance=\"127.0.0.1:{}\",job=\"node\",location=\"eu-west-1a\","
                       "region=\"eu-west-1\",team=\"core\"",
                       server_.port());
  }

  core::FakeClock clock_{core::Timestamp::FromUnixSeconds(1'700'000'000)};
  MetricsServer server_;
};

TEST_F(ScraperTest, GoodScrapeAddsTargetLabelsTimestampsAndSyntheticSeries) {
  server_.Serve(200,
                "# HELP http_requests_total Requests.\n"
                "# TYPE http_requests_total counter\n"
                "http_requests_total{code=\"200\"} 1027\n"
                "# TYPE temperature gauge\n"
                "temperature 21.5 1699999990000\n"
                "# TYPE lat histogram\n"
                "lat_bucket{le=\"1\"} 1\n"
                "lat_bucket{le=\"+Inf\"} 2\n"
                "lat_sum 1.5\n"
                "lat_count 2\n");
  ScrapeSpec spec = Spec();
  spec.bearer_token = "s3cret";
  auto scraper = Make(spec);
  ASSERT_NE(scraper, nullptr);
  ScrapeResult r = scraper->Scrape();
  ASSERT_TRUE(r.up) << r.error;
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(server_.accept(), "text/plain;version=0.0.4");
  EXPECT_EQ(server_.authorization(), "Bearer s3cret");
  EXPECT_EQ(r.samples_scraped, 6);
  EXPECT_EQ(r.samples_post_relabeling, 6);
  EXPECT_EQ(r.series_added, 6);
  EXPECT_GT(r.body_bytes, 100);
  ASSERT_EQ(r.families.size(), 3u);
  EXPECT_EQ(r.families[0].type, MetricType::kCounter);
  EXPECT_EQ(r.families[2].type, MetricType::kHistogram);

  RecordingAppender app;
  ASSERT_TRUE(AppendScrape(r, app).ok());
  const int64_t now_ms = 1'700'000'000'000;
  const std::string t = Target();
  const auto* counter = app.Find("http_requests_total{code=\"200\"," + t + "}");
  ASSERT_NE(counter, nullptr);
  EXPECT_EQ(counter->value, 1027);
  EXPECT_EQ(counter->timestamp_ms, now_ms) << "no timestamp in the body: the scrape's start";
  const auto* gauge = app.Find("temperature{" + t + "}");
  ASSERT_NE(gauge, nullptr);
  EXPECT_EQ(gauge->timestamp_ms, 1'699'999'990'000) << "the body's own timestamp is kept";
  const auto* bucket = app.Find(fmt::format(
      "lat_bucket{{instance=\"127.0.0.1:{}\",job=\"node\",le=\"+Inf\",location=\"eu-west-1a\","
      "region=\"eu-west-1\",team=\"core\"}}",
      server_.port()));
  ASSERT_NE(bucket, nullptr);
  EXPECT_EQ(bucket->value, 2);
  const std::map<std::string, double> synthetic = {{"up", 1},
                                                   {"scrape_samples_scraped", 6},
                                                   {"scrape_samples_post_metric_relabeling", 6},
                                                   {"scrape_series_added", 6},
                                                   {"scrape_duration_seconds", 0}};
  for (const auto& [name, want] : synthetic) {
    SCOPED_TRACE(name);
    const auto* e = app.Find(name + "{" + t + "}");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->value, want);
    EXPECT_EQ(e->timestamp_ms, now_ms);
  }
  EXPECT_EQ(app.entries.size(), 6u + 5u);
}

TEST_F(ScraperTest, ServerErrorStatusIsUpZeroWithTheStatusAsReason) {
  server_.Serve(503, "overloaded\n");
  auto scraper = Make(Spec());
  ASSERT_NE(scraper, nullptr);
  ScrapeResult r = scraper->Scrape();
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.error, "status 503");
  EXPECT_TRUE(r.samples.empty());
  RecordingAppender app;
  ASSERT_TRUE(AppendScrape(r, app).ok());
  ASSERT_EQ(app.entries.size(), 5u) << "only the synthetic series";
  EXPECT_EQ(app.Find("up{" + Target() + "}")->value, 0);
  EXPECT_EQ(app.Find("scrape_samples_scraped{" + Target() + "}")->value, 0);
}

TEST_F(ScraperTest, SlowTargetTimesOutAsUpZero) {
  server_.Serve(200, "a 1\n");
  server_.Block();
  ScrapeSpec spec = Spec();
  spec.timeout = core::Duration::Milliseconds(200);
  spec.interval = core::Duration::Seconds(1);
  auto scraper = Make(spec);
  ASSERT_NE(scraper, nullptr);
  core::Clock& real = core::RealClock();
  const core::Duration start = real.Monotonic();
  ScrapeResult r = scraper->Scrape();
  const core::Duration took = real.Monotonic() - start;
  server_.Release();
  EXPECT_FALSE(r.up);
  EXPECT_THAT(r.error, StartsWith("timeout after 200ms: "));
  EXPECT_GE(took, core::Duration::Milliseconds(200));
  EXPECT_LT(took, core::Duration::Seconds(5)) << "the timeout bounds the scrape";
}

TEST_F(ScraperTest, BodyOverTheSizeLimitFailsAndOneAtTheLimitPasses) {
  std::string body;
  for (int i = 0; i < 10; ++i) body += fmt::format("m{} {}\n", i, i);  // 10 lines of 5 bytes
  ASSERT_EQ(body.size(), 50u);
  ScrapeSpec spec = Spec();
  spec.body_size_limit = 50;
  auto scraper = Make(spec);
  ASSERT_NE(scraper, nullptr);

  server_.Serve(200, body);
  ScrapeResult at_limit = scraper->Scrape();
  EXPECT_TRUE(at_limit.up) << at_limit.error;
  EXPECT_EQ(at_limit.body_bytes, 50);
  EXPECT_EQ(at_limit.samples.size(), 10u);

  server_.Serve(200, body + "x 1\n");
  ScrapeResult over = scraper->Scrape();
  EXPECT_FALSE(over.up);
  EXPECT_EQ(over.error, "body larger than 50 bytes");
  EXPECT_TRUE(over.samples.empty());
}

TEST_F(ScraperTest, SampleLimitFailsTheWholeScrape) {
  server_.Serve(200, "a 1\nb 2\nc 3\nd 4\n");
  ScrapeSpec spec = Spec();
  spec.sample_limit = 3;
  auto scraper = Make(spec);
  ASSERT_NE(scraper, nullptr);
  ScrapeResult r = scraper->Scrape();
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.error, "sample limit 3 exceeded (4 samples)");
  EXPECT_EQ(r.samples_scraped, 4);
  EXPECT_EQ(r.samples_post_relabeling, 0);
  EXPECT_TRUE(r.samples.empty());

  spec.sample_limit = 4;
  auto enough = Make(spec);
  ASSERT_NE(enough, nullptr);
  ScrapeResult ok = enough->Scrape();
  EXPECT_TRUE(ok.up) << ok.error;
  EXPECT_EQ(ok.samples.size(), 4u);
}

TEST_F(ScraperTest, ParseErrorIsTheReasonWithItsLine) {
  server_.Serve(200, "a 1\nb\n");
  auto scraper = Make(Spec());
  ASSERT_NE(scraper, nullptr);
  ScrapeResult r = scraper->Scrape();
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.error, "line 2 col 2: expected a value after the metric name");
  EXPECT_EQ(r.samples_scraped, 0);
}

TEST_F(ScraperTest, ClashingLabelsAreExportedUnlessHonorLabels) {
  server_.Serve(200, "m{job=\"exp\",instance=\"i\",exported_job=\"already\",x=\"y\"} 1\n");
  ScrapeSpec spec = Spec();
  spec.region.clear();
  spec.location.clear();
  spec.extra_labels = core::Labels();
  auto scraper = Make(spec);
  ASSERT_NE(scraper, nullptr);
  ScrapeResult r = scraper->Scrape();
  ASSERT_TRUE(r.up) << r.error;
  ASSERT_EQ(r.samples.size(), 1u);
  // job's exported_job is taken by the exposed label, so it becomes exported_exported_job.
  EXPECT_EQ(r.samples[0].labels.ToString(),
            fmt::format("m{{exported_exported_job=\"exp\",exported_instance=\"i\","
                        "exported_job=\"already\",instance=\"127.0.0.1:{}\",job=\"node\","
                        "x=\"y\"}}",
                        server_.port()));

  spec.honor_labels = true;
  auto honoring = Make(spec);
  ASSERT_NE(honoring, nullptr);
  r = honoring->Scrape();
  ASSERT_TRUE(r.up) << r.error;
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].labels.ToString(),
            "m{exported_job=\"already\",instance=\"i\",job=\"exp\",x=\"y\"}");
  // The synthetic series keep the target's own labels.
  RecordingAppender app;
  ASSERT_TRUE(AppendScrape(r, app).ok());
  EXPECT_EQ(app.Find(fmt::format("up{{instance=\"127.0.0.1:{}\",job=\"node\"}}", server_.port()))
                ->value,
            1);
}

TEST_F(ScraperTest, SeriesThatCollideOnceTargetLabelsAreAddedFailTheScrape) {
  server_.Serve(200, "m{job=\"x\"} 1\nm{exported_job=\"x\"} 2\n");
  auto scraper = Make(Spec());
  ASSERT_NE(scraper, nullptr);
  ScrapeResult r = scraper->Scrape();
  EXPECT_FALSE(r.up);
  EXPECT_THAT(r.error, StartsWith("line 2: series m{exported_job=\"x\""));
  EXPECT_THAT(r.error, HasSubstr("is a duplicate once the target labels are added"));
}

TEST_F(ScraperTest, VanishedSeriesGetStalenessMarkersAndNewOnesCountAsAdded) {
  auto scraper = Make(Spec());
  ASSERT_NE(scraper, nullptr);
  const std::string t = Target();

  server_.Serve(200, "a 1\nb 1\nc 1 1699999999000\n");
  ScrapeResult first = scraper->Scrape();
  ASSERT_TRUE(first.up) << first.error;
  EXPECT_EQ(first.series_added, 3);
  EXPECT_TRUE(first.stale.empty());

  clock_.Advance(core::Duration::Seconds(15));
  server_.Serve(200, "a 2\nd 2\n");
  ScrapeResult second = scraper->Scrape();
  ASSERT_TRUE(second.up) << second.error;
  EXPECT_EQ(second.series_added, 1);  // d
  ASSERT_EQ(second.stale.size(), 1u) << "c had its own timestamp: no marker, as in Prometheus";
  EXPECT_EQ(second.stale[0].ToString(), "b{" + t + "}");
  RecordingAppender app;
  ASSERT_TRUE(AppendScrape(second, app).ok());
  const auto* marker = app.Find("b{" + t + "}");
  ASSERT_NE(marker, nullptr);
  EXPECT_TRUE(IsStaleNaN(marker->value));
  EXPECT_EQ(marker->timestamp_ms, 1'700'000'015'000);
  EXPECT_EQ(app.Find("a{" + t + "}")->timestamp_ms, 1'700'000'015'000);
  EXPECT_EQ(app.Find("scrape_series_added{" + t + "}")->value, 1);

  // A failed scrape marks everything stale once; the next good one counts its series as new.
  clock_.Advance(core::Duration::Seconds(15));
  server_.Serve(500, "");
  ScrapeResult failed = scraper->Scrape();
  ASSERT_FALSE(failed.up);
  ASSERT_EQ(failed.stale.size(), 2u);
  EXPECT_EQ(failed.stale[0].ToString(), "a{" + t + "}");
  EXPECT_EQ(failed.stale[1].ToString(), "d{" + t + "}");
  ScrapeResult failed_again = scraper->Scrape();
  EXPECT_TRUE(failed_again.stale.empty());

  server_.Serve(200, "a 3\n");
  ScrapeResult back = scraper->Scrape();
  ASSERT_TRUE(back.up) << back.error;
  EXPECT_EQ(back.series_added, 1);
  EXPECT_TRUE(back.stale.empty());
  EXPECT_EQ(server_.requests(), 5);
}

TEST_F(ScraperTest, AppendScrapeCommitsSamplesAndStalenessMarkersToTheStore) {
  testutil::TempDir dir;
  store::StoreOptions options;
  options.dir = dir.File("tsdb");
  auto db = store::OpenStore(options, clock_);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto scraper = Make(Spec());
  ASSERT_NE(scraper, nullptr);
  for (const char* body : {"a 1\nb 2\n", "a 3\n"}) {
    server_.Serve(200, body);
    ScrapeResult r = scraper->Scrape();
    ASSERT_TRUE(r.up) << r.error;
    std::unique_ptr<store::Appender> app = (*db)->NewAppender();
    ASSERT_TRUE(AppendScrape(r, *app).ok());
    auto committed = app->Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_EQ(committed->appended, static_cast<int64_t>(r.samples.size() + r.stale.size() + 5));
    clock_.Advance(core::Duration::Seconds(15));
  }
  auto read = [&](const std::string& selector) {
    auto matchers = store::ParseSelector(selector);
    EXPECT_TRUE(matchers.ok()) << matchers.status().ToString();
    auto series = (*db)->Select(*matchers, 0, INT64_MAX / 2);
    EXPECT_TRUE(series.ok()) << series.status().ToString();
    EXPECT_EQ(series->size(), 1u) << selector;
    return series->empty() ? std::vector<core::Sample>{} : (*series)[0].samples;
  };
  std::vector<core::Sample> a = read("a{job=\"node\"}");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].value, 3);
  EXPECT_EQ(a[1].timestamp_ms - a[0].timestamp_ms, 15'000);
  std::vector<core::Sample> b = read("b{job=\"node\"}");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].value, 2);
  EXPECT_TRUE(IsStaleNaN(b[1].value)) << "the marker is stored bit for bit";
  std::vector<core::Sample> up = read("up{job=\"node\"}");
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].value, 1);
}

TEST_F(ScraperTest, UnreachableTargetIsUpZeroWithTheConnectError) {
  // A port that was free a moment ago: bind port 0, read it, close.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  ScrapeSpec spec = Spec();
  spec.url = fmt::format("http://127.0.0.1:{}/metrics", ntohs(addr.sin_port));
  auto scraper = Make(spec);
  ASSERT_NE(scraper, nullptr);
  ScrapeResult r = scraper->Scrape();
  EXPECT_FALSE(r.up);
  EXPECT_THAT(r.error, HasSubstr("connect to 127.0.0.1:"));
  EXPECT_THAT(r.target_labels.ToString(), HasSubstr(fmt::format("127.0.0.1:{}", ntohs(addr.sin_port))));
}

TEST(ScraperCreateTest, RejectsBadSpecsNamingTheField) {
  core::FakeClock clock;
  auto error = [&](const ScrapeSpec& spec) {
    auto s = Scraper::Create(spec, clock);
    EXPECT_FALSE(s.ok());
    return s.ok() ? std::string() : s.status().message();
  };
  ScrapeSpec good;
  good.job = "j";
  good.url = "http://127.0.0.1:9100/metrics";
  EXPECT_TRUE(Scraper::Create(good, clock).ok());

  ScrapeSpec s = good;
  s.job.clear();
  EXPECT_THAT(error(s), HasSubstr("job is empty"));
  s = good;
  s.url = "ftp://x/metrics";
  EXPECT_THAT(error(s), HasSubstr("url"));
  s = good;
  s.timeout = core::Duration::Seconds(20);
  EXPECT_THAT(error(s), HasSubstr("at most the interval 15s"));
  s = good;
  s.timeout = core::Duration::Zero();
  EXPECT_THAT(error(s), HasSubstr("must be positive"));
  s = good;
  s.sample_limit = -1;
  EXPECT_THAT(error(s), HasSubstr("must not be negative"));
}

TEST(ScraperCreateTest, InstanceIsHostAndPortWithTheSchemesDefault) {
  core::FakeClock clock;
  ScrapeSpec spec;
  spec.job = "j";
  for (const auto& [url, instance] : std::vector<std::pair<std::string, std::string>>{
           {"http://example.com/metrics", "example.com:80"},
           {"https://example.com/metrics", "example.com:443"},
           {"http://10.0.0.5:9100/metrics", "10.0.0.5:9100"},
           {"http://[::1]:9100/metrics", "[::1]:9100"}}) {
    SCOPED_TRACE(url);
    spec.url = url;
    auto scraper = Scraper::Create(spec, clock);
    ASSERT_TRUE(scraper.ok()) << scraper.status().ToString();
    EXPECT_EQ((*scraper)->target_labels().Get("instance"), instance);
  }
}

// A real /metrics page from the server nines itself runs (prometheus-cpp's text output).
TEST(ScraperInteropTest, ScrapesTheNinesServersOwnMetrics) {
  net::ServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = net::Server::Start(options, net::Router(), core::RealClock(), nullptr);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  core::FakeClock clock;
  ScrapeSpec spec;
  spec.job = "nines";
  spec.url = fmt::format("http://127.0.0.1:{}/metrics", (*server)->port());
  auto scraper = Scraper::Create(spec, clock);
  ASSERT_TRUE(scraper.ok()) << scraper.status().ToString();
  (*scraper)->Scrape();  // so that the request metrics have a sample
  ScrapeResult r = (*scraper)->Scrape();
  ASSERT_TRUE(r.up) << r.error;
  bool found = false;
  for (const MetricFamily& f : r.families) {
    if (f.name == "nines_http_requests_total") {
      found = true;
      EXPECT_EQ(f.type, MetricType::kCounter);
    }
  }
  EXPECT_TRUE(found);
  (*server)->Shutdown();
}

// Debian's prometheus (2.42), which scripts/install-deps.sh installs: start it on loopback with
// its own data directory, scrape its /metrics, parse every line.
TEST(ScraperInteropTest, ScrapesARealPrometheus) {
  const char* env = std::getenv("NINES_PROMETHEUS");
  const std::string binary = env != nullptr && *env != '\0' ? env : "/usr/bin/prometheus";
  ASSERT_TRUE(std::filesystem::exists(binary))
      << binary << " is not installed: run scripts/install-deps.sh (Debian's prometheus)";
  testutil::TempDir dir;
  const std::string config = dir.Write("prometheus.yml", "global:\n  scrape_interval: 1m\n");
  std::filesystem::create_directories(dir.File("data"));
  // Port 0 is not allowed by Prometheus' flag parsing to be read back, so find a free one.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  close(fd);
  testutil::ChildProcess prometheus(
      {binary, "--config.file=" + config, "--storage.tsdb.path=" + dir.File("data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(prometheus.WaitForOutput("Server is ready to receive web requests",
                                       std::chrono::seconds(60)))
      << prometheus.output();

  core::FakeClock clock;
  ScrapeSpec spec;
  spec.job = "prometheus";
  spec.url = fmt::format("http://127.0.0.1:{}/metrics", port);
  auto scraper = Scraper::Create(spec, clock);
  ASSERT_TRUE(scraper.ok()) << scraper.status().ToString();
  ScrapeResult r = (*scraper)->Scrape();
  ASSERT_TRUE(r.up) << r.error;
  EXPECT_GE(r.families.size(), 100u);
  EXPECT_GE(r.samples.size(), 200u);  // 271 right after start-up, more later
  int histograms = 0, summaries = 0, counters = 0;
  for (const MetricFamily& f : r.families) {
    histograms += f.type == MetricType::kHistogram;
    summaries += f.type == MetricType::kSummary;
    counters += f.type == MetricType::kCounter;
  }
  EXPECT_GE(histograms, 3);
  EXPECT_GE(summaries, 1);
  EXPECT_GE(counters, 20);
  bool build_info = false;
  for (const ScrapedSample& s : r.samples) {
    if (s.labels.MetricName() == "prometheus_build_info") {
      build_info = true;
      EXPECT_THAT(std::string(s.labels.Get("version")), StartsWith("2.42"));  // "2.42.0+ds"
      EXPECT_EQ(s.labels.Get("job"), "prometheus");
    }
  }
  EXPECT_TRUE(build_info);
  prometheus.Signal(SIGTERM);
  EXPECT_TRUE(prometheus.Wait(std::chrono::seconds(20)).has_value());
}


// Appenders that all record into one RecordingAppender (for the ScrapeManager, which asks for a
// new appender per scrape from its worker threads).
class SharedRecorder {
 public:
  AppenderFactory Factory() {
    return [this] { return std::make_unique<Forwarder>(this); };
  }
  // Committed entries for series `name{...}` with value `value`.
  int Count(const std::string& series, double value) const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& e : committed_.entries) n += e.series == series && e.value == value;
    return n;
  }
  std::vector<int64_t> Timestamps(const std::string& series) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int64_t> out;
    for (const auto& e : committed_.entries) {
      if (e.series == series) out.push_back(e.timestamp_ms);
    }
    return out;
  }

 private:
  class Forwarder : public store::Appender {
   public:
    explicit Forwarder(SharedRecorder* owner) : owner_(owner) {}
    core::Status Append(const core::Labels& series, int64_t ts, double v) override {
      return staged_.Append(series, ts, v);
    }
    core::Result<store::CommitResult> Commit() override {
      std::lock_guard<std::mutex> lock(owner_->mu_);
      for (auto& e : staged_.entries) owner_->committed_.entries.push_back(e);
      staged_.entries.clear();
      return store::CommitResult{};
    }
    void Rollback() override { staged_.entries.clear(); }

   private:
    SharedRecorder* owner_;
    RecordingAppender staged_;
  };
  mutable std::mutex mu_;
  RecordingAppender committed_;
};

class ScrapeManagerTest : public ScraperTest {
 protected:
  // Runs one scheduler step at `t` and waits for the scrapes it started.
  void StepTo(core::Timestamp t) {
    clock_.Set(t);
    manager_.RunDue(t);
    ASSERT_TRUE(manager_.WaitIdle(core::Duration::Seconds(20)));
  }

  SharedRecorder recorder_;
  ScrapeManager manager_{ScrapeManagerOptions{}, clock_, recorder_.Factory()};
};

TEST_F(ScrapeManagerTest, EachTargetIsScrapedOncePerIntervalOnItsGridWithoutDrift) {
  server_.Serve(200, "a_total 1\n");
  MetricsServer down;
  down.Serve(503, "no\n");
  ScrapeSpec good = Spec();
  good.interval = core::Duration::Seconds(10);
  ScrapeSpec bad = Spec();
  bad.job = "other";
  bad.url = down.url();
  bad.interval = core::Duration::Seconds(10);
  ASSERT_TRUE(manager_.SetTargets({good, bad}).ok());
  manager_.Start(/*schedule=*/false);

  const core::Timestamp start = clock_.Now();
  // An hour in 1 s steps: 360 scrapes each, each due time on the target's own grid.
  for (int s = 1; s <= 3600; ++s) StepTo(start + core::Duration::Seconds(s));
  EXPECT_EQ(server_.requests(), 360);
  EXPECT_EQ(down.requests(), 360);
  const std::vector<int64_t> ts = recorder_.Timestamps("up{" + Target() + "}");
  ASSERT_EQ(ts.size(), 360u);
  const int64_t offset = ScheduleOffset("scrape node " + good.url, good.interval).millis();
  for (size_t i = 0; i < ts.size(); ++i) {
    // The scrape's start is the scheduler step that found it due: within 1 s after its grid point.
    const int64_t phase = ((ts[i] - offset) % 10'000 + 10'000) % 10'000;
    EXPECT_LT(phase, 1000) << i;
    if (i > 0) {
      EXPECT_EQ(ts[i] - ts[i - 1], 10'000) << "no drift, one per interval: " << i;
    }
  }
  EXPECT_EQ(recorder_.Count("up{" + Target() + "}", 1), 360);
  const std::string down_up = fmt::format(
      "up{{instance=\"127.0.0.1:{}\",job=\"other\",location=\"eu-west-1a\",region=\"eu-west-1\","
      "team=\"core\"}}",
      down.port());
  EXPECT_EQ(recorder_.Count(down_up, 0), 360);

  std::vector<ScrapeTargetStatus> targets = manager_.Targets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].spec.job, "node");
  EXPECT_TRUE(targets[0].up);
  EXPECT_EQ(targets[0].scrapes, 360u);
  EXPECT_EQ(targets[1].spec.job, "other");
  EXPECT_FALSE(targets[1].up);
  EXPECT_EQ(targets[1].last_error, "status 503");
  EXPECT_EQ(targets[1].failures, 360u);
  manager_.Stop();
}

TEST_F(ScrapeManagerTest, SlowTargetSkipsItsNextDueTimeAndDelaysNoOtherTarget) {
  server_.Serve(200, "a_total 1\n");
  MetricsServer slow;
  slow.Serve(200, "b_total 1\n");
  ScrapeSpec fast = Spec();
  fast.interval = core::Duration::Seconds(10);
  ScrapeSpec stuck = Spec();
  stuck.job = "slow";
  stuck.url = slow.url();
  stuck.interval = core::Duration::Seconds(10);
  stuck.timeout = core::Duration::Seconds(10);
  ASSERT_TRUE(manager_.SetTargets({fast, stuck}).ok());
  manager_.Start(/*schedule=*/false);
  slow.Block();
  const core::Timestamp start = clock_.Now();
  // Two intervals pass while the slow target's first scrape hangs; the fast one finishes each
  // of its scrapes.
  for (uint64_t interval = 1; interval <= 2; ++interval) {
    for (int s = 1; s <= 10; ++s) {
      clock_.Set(start + core::Duration::Seconds((interval - 1) * 10 + s));
      manager_.RunDue(clock_.Now());
    }
    ASSERT_TRUE(testutil::WaitFor([&] { return manager_.Targets()[0].scrapes == interval; }));
  }
  // The slow target's one scrape may still be on its way to the server (a worker thread sends
  // it): wait for it rather than read the count once.
  ASSERT_TRUE(testutil::WaitFor([&] { return slow.requests() == 1; }));
  slow.Release();
  ASSERT_TRUE(manager_.WaitIdle(core::Duration::Seconds(20)));
  std::vector<ScrapeTargetStatus> targets = manager_.Targets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].scrapes, 2u);
  EXPECT_EQ(targets[0].skipped, 0u);
  EXPECT_EQ(targets[1].spec.job, "slow");
  EXPECT_EQ(targets[1].scrapes, 1u);
  EXPECT_EQ(targets[1].skipped, 1u);
  manager_.Stop();
}

TEST_F(ScrapeManagerTest, BadOrDuplicateTargetsAreRefusedAndTheOldOnesStay) {
  server_.Serve(200, "a_total 1\n");
  ASSERT_TRUE(manager_.SetTargets({Spec()}).ok());
  ScrapeSpec bad = Spec();
  bad.job = "x";
  bad.url = "ftp://nope";
  core::Status s = manager_.SetTargets({Spec(), bad});
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("scrape job x"));
  s = manager_.SetTargets({Spec(), Spec()});
  EXPECT_EQ(s.code(), core::StatusCode::kAlreadyExists);
  std::vector<ScrapeTargetStatus> targets = manager_.Targets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].spec.job, "node");
  EXPECT_EQ(targets[0].spec.url, server_.url());
}

TEST_F(ScrapeManagerTest, PreparedTargetsChangeNothingUntilAppliedAndKeepCounters) {
  server_.Serve(200, "a_total 1\n");
  ASSERT_TRUE(manager_.SetTargets({Spec()}).ok());
  manager_.Start(/*schedule=*/false);
  StepTo(clock_.Now() + core::Duration::Seconds(15));
  ASSERT_EQ(manager_.Targets().at(0).scrapes, 1u);
  ScrapeSpec changed = Spec();
  changed.sample_limit = 1000;  // the same target, changed: rebuilt, counters kept
  ScrapeSpec other = Spec();
  other.job = "other";
  auto prepared = manager_.PrepareTargets({changed, other});
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  ASSERT_EQ(manager_.Targets().size(), 1u);  // prepared, not applied
  EXPECT_EQ(manager_.Targets()[0].spec.sample_limit, Spec().sample_limit);
  ScrapeSpec bad = Spec();
  bad.url = "ftp://nope";
  EXPECT_FALSE(manager_.PrepareTargets({bad}).ok());
  manager_.ApplyTargets(*std::move(prepared));
  std::vector<ScrapeTargetStatus> targets = manager_.Targets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].spec.job, "node");
  EXPECT_EQ(targets[0].spec.sample_limit, 1000);
  EXPECT_EQ(targets[0].scrapes, 1u);
  EXPECT_EQ(targets[1].spec.job, "other");
  manager_.Stop();
}

// The status GET /api/v1/targets shows (api/json.h turns it into Prometheus' shape).
TEST_F(ScrapeManagerTest, TargetsReportTheirLatestScrape) {
  server_.Serve(500, "oops\n");
  ASSERT_TRUE(manager_.SetTargets({Spec()}).ok());
  std::vector<ScrapeTargetStatus> before = manager_.Targets();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_FALSE(before[0].has_result);  // health "unknown", lastScrape null
  manager_.Start(/*schedule=*/false);
  StepTo(clock_.Now() + core::Duration::Seconds(15));
  std::vector<ScrapeTargetStatus> targets = manager_.Targets();
  ASSERT_EQ(targets.size(), 1u);
  const ScrapeTargetStatus& t = targets[0];
  EXPECT_EQ(t.target_labels.Get("instance"), fmt::format("127.0.0.1:{}", server_.port()));
  EXPECT_EQ(t.spec.job, "node");
  EXPECT_TRUE(t.has_result);
  EXPECT_FALSE(t.up);  // health "down"
  EXPECT_EQ(t.last_error, "status 500");
  EXPECT_EQ(t.spec.interval, core::Duration::Seconds(15));
  manager_.Stop();
}

}  // namespace
}  // namespace nines::collector

// RemoteWriteClient and RemoteWriteQueue against a real loopback receiver (net::Server) that can
// fail, throttle or block on purpose; and, when the binary is installed, interop with a real
// Prometheus in both directions.
#include "remote/sender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <csignal>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "core/clock.h"
#include "net/http_client.h"
#include "net/net.h"
#include "remote/remote.h"
#include "tests/remote/remote_write_test_util.h"
#include "tests/testutil/recording_appender.h"
#include "tests/testutil/testutil.h"

namespace nines::remote {
namespace {

using core::Duration;
using core::Labels;
using core::Sample;
using core::StatusCode;
using ::testing::HasSubstr;
using testing::MetricValue;
using testing::WaitFor;

Labels L(std::initializer_list<core::Label> pairs) { return Labels::From(pairs).value(); }

// A remote-write receiver on 127.0.0.1:<port>. Requests are answered from a script of responses
// (then from the default, 204), each accepted (2xx) body decoded and recorded. Thread-safe.
class Receiver {
 public:
  explicit Receiver(int port = 0) {
    net::Router router;
    router.Handle("POST", "/api/v1/write", net::Access::kPublic,
                  [this](const net::Request& req) { return Handle(req); });
    net::ServerOptions options;
    options.listen = "127.0.0.1:" + std::to_string(port);
    options.threads = 2;
    auto server = net::Server::Start(options, std::move(router), core::RealClock(), nullptr);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = std::move(server).value();
  }
  ~Receiver() {
    Release();
    server_.reset();
  }

  bool ok() const { return server_ != nullptr; }
  std::string url() const { return "http://" + server_->address() + "/api/v1/write"; }

  void Script(std::vector<net::Response> responses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(responses);
  }
  // Runs `hook` (under the receiver's lock) as each request arrives, before it is answered.
  void OnRequest(std::function<void(int request_number)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::move(hook);
  }

  void SetDefault(net::Response response) {
    std::lock_guard<std::mutex> lock(mu_);
    default_ = std::move(response);
  }
  // Requests wait in the handler until Release().
  void Block() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_ = false;
    cv_.notify_all();
  }

  // Waits (bounded) until `n` requests have arrived (counting those still blocked).
  bool WaitForRequests(int n, Duration timeout = Duration::Seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout.ToChrono(), [&] { return requests_ >= n; });
  }
  bool WaitForSamples(int64_t n, Duration timeout = Duration::Seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout.ToChrono(), [&] { return accepted_samples_ >= n; });
  }

  int requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<WriteRequest> accepted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }
  net::Headers last_headers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_headers_;
  }
  // Accepted samples per series (text form), in arrival order.
  std::map<std::string, std::vector<int64_t>> TimestampsBySeries() const {
    std::map<std::string, std::vector<int64_t>> out;
    for (const WriteRequest& r : accepted()) {
      for (const TimeSeries& ts : r.series) {
        for (const Sample& s : ts.samples) out[ts.labels.ToString()].push_back(s.timestamp_ms);
      }
    }
    return out;
  }

 private:
  net::Response Handle(const net::Request& req) {
    std::unique_lock<std::mutex> lock(mu_);
    ++requests_;
    if (hook_) hook_(requests_);
    last_headers_ = req.headers;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !blocked_; });
    net::Response res = default_;
    if (!script_.empty()) {
      res = script_.front();
      script_.erase(script_.begin());
    }
    if (res.status >= 200 && res.status < 300) {
      auto decoded = DecodeWriteRequest(req.body);
      if (!decoded.ok()) return net::Response::Error(400, decoded.status().message());
      accepted_samples_ += decoded->SampleCount();
      accepted_.push_back(std::move(decoded).value());
      cv_.notify_all();
    }
    return res;
  }

  std::function<void(int)> hook_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<net::Response> script_;
  net::Response default_{.status = 204, .headers = {}, .body = {}};
  bool blocked_ = false;
  int requests_ = 0;
  int64_t accepted_samples_ = 0;
  std::vector<WriteRequest> accepted_;
  net::Headers last_headers_;
  std::unique_ptr<net::Server> server_;
};

net::Response Reply(int code, std::string body = "nope") {
  return net::Response::Text(code, std::move(body));
}
net::Response TooMany(std::string retry_after) {
  net::Response r = net::Response::Text(429, "slow down");
  r.headers.Set("Retry-After", retry_after);
  return r;
}

RemoteWriteClientOptions FastOptions(const std::string& url,
                                     std::shared_ptr<prometheus::Registry> registry) {
  RemoteWriteClientOptions o;
  o.url = url;
  o.min_backoff = Duration::Milliseconds(1);
  o.max_backoff = Duration::Milliseconds(5);
  o.max_retry_duration = Duration::Seconds(20);
  o.timeout = Duration::Seconds(5);
  o.http.connect_timeout = Duration::Seconds(2);
  o.registry = std::move(registry);
  return o;
}

WriteRequest Batch(int series, int samples, int64_t t0 = 1000) {
  WriteRequest req;
  for (int i = 0; i < series; ++i) {
    TimeSeries ts{L({{"__name__", "probe_success"}, {"probe", "p" + std::to_string(i)}}), {}};
    for (int k = 0; k < samples; ++k) ts.samples.push_back({t0 + k, 1});
    req.series.push_back(std::move(ts));
  }
  return req;
}

class RemoteWriteClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<RemoteWriteClient> Client(RemoteWriteClientOptions options) {
    auto c = RemoteWriteClient::Create(std::move(options));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  double Retries() { return MetricValue(*registry_, "nines_remote_write_retries_total"); }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  Receiver receiver_;
};

TEST_F(RemoteWriteClientTest, SendsWithProtocolHeadersAndToken) {
  ASSERT_TRUE(receiver_.ok());
  RemoteWriteClientOptions o = FastOptions(receiver_.url(), registry_);
  o.bearer_token = "s3cret";
  o.headers = {{"X-Scope-OrgID", "tenant-1"}};
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Batch(2, 3)).ok());
  net::Headers h = receiver_.last_headers();
  EXPECT_EQ(h.Get("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(h.Get("Content-Encoding"), "snappy");
  EXPECT_EQ(h.Get("X-Prometheus-Remote-Write-Version"), "0.1.0");
  EXPECT_EQ(h.Get("User-Agent"), "nines/" NINES_VERSION);
  EXPECT_EQ(h.Get("Authorization"), "Bearer s3cret");
  EXPECT_EQ(h.Get("X-Scope-OrgID"), "tenant-1");
  ASSERT_EQ(receiver_.accepted().size(), 1u);
  EXPECT_EQ(receiver_.accepted()[0].SampleCount(), 6);
  EXPECT_EQ(Retries(), 0);
}

TEST_F(RemoteWriteClientTest, RetriesServerErrorsAndThrottlingThenDeliversExactlyOnce) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.Script({Reply(503), Reply(500), TooMany("0"), Reply(502)});
  auto client = Client(FastOptions(receiver_.url(), registry_));
  ASSERT_NE(client, nullptr);
  WriteRequest batch = Batch(3, 4);
  ASSERT_TRUE(client->Send(batch).ok());
  EXPECT_EQ(receiver_.requests(), 5);
  ASSERT_EQ(receiver_.accepted().size(), 1u);
  auto got = receiver_.TimestampsBySeries();
  ASSERT_EQ(got.size(), 3u);
  for (const auto& [series, ts] : got) EXPECT_EQ(ts, (std::vector<int64_t>{1000, 1001, 1002, 1003}));
  EXPECT_EQ(Retries(), 4);
}

TEST_F(RemoteWriteClientTest, ClientErrorIsNotRetried) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.SetDefault(Reply(400, "out of order sample\n"));
  auto client = Client(FastOptions(receiver_.url(), registry_));
  ASSERT_NE(client, nullptr);
  core::Status s = client->Send(Batch(1, 1));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "remote write to " + receiver_.url() +
                             " rejected the batch: HTTP 400: out of order sample");
  EXPECT_EQ(receiver_.requests(), 1);
  EXPECT_EQ(Retries(), 0);

  receiver_.SetDefault(Reply(404));
  EXPECT_EQ(client->Send(Batch(1, 1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(receiver_.requests(), 2);
}

TEST_F(RemoteWriteClientTest, GivesUpAfterMaxRetryDuration) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.SetDefault(Reply(503, "overloaded"));
  // The budget is measured on a fake clock that the receiver moves 20s per request, so the
  // client gives up after exactly three attempts however slow the machine is.
  core::FakeClock clock;
  receiver_.OnRequest([&clock](int) { clock.Advance(Duration::Seconds(20)); });
  RemoteWriteClientOptions o = FastOptions(receiver_.url(), registry_);
  o.max_retry_duration = Duration::Seconds(50);
  auto created = RemoteWriteClient::Create(o, clock);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  core::Status s = (*created)->Send(Batch(1, 1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("failed after 3 attempt(s)"));
  EXPECT_THAT(s.message(), HasSubstr("HTTP 503: overloaded"));
  EXPECT_EQ(receiver_.requests(), 3);
  EXPECT_EQ(Retries(), 2);
}

TEST_F(RemoteWriteClientTest, ZeroRetryDurationMeansOneAttempt) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.SetDefault(Reply(503));
  RemoteWriteClientOptions o = FastOptions(receiver_.url(), registry_);
  o.max_retry_duration = Duration::Zero();
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Send(Batch(1, 1)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(receiver_.requests(), 1);
}

TEST_F(RemoteWriteClientTest, RetryAfterIsHonoredAndCapped) {
  ASSERT_TRUE(receiver_.ok());
  core::Clock& clock = core::RealClock();
  {
    // Honored: the backoff alone would retry within 5ms.
    receiver_.Script({TooMany("1")});
    auto client = Client(FastOptions(receiver_.url(), registry_));
    ASSERT_NE(client, nullptr);
    const Duration start = clock.Monotonic();
    ASSERT_TRUE(client->Send(Batch(1, 1)).ok());
    EXPECT_GE(clock.Monotonic() - start, Duration::Seconds(1));
  }
  {
    // Capped: an hour is cut to max_retry_after.
    receiver_.Script({TooMany("3600")});
    RemoteWriteClientOptions o = FastOptions(receiver_.url(), registry_);
    o.max_retry_after = Duration::Milliseconds(20);
    auto client = Client(o);
    ASSERT_NE(client, nullptr);
    const Duration start = clock.Monotonic();
    ASSERT_TRUE(client->Send(Batch(1, 1)).ok());
    EXPECT_LT(clock.Monotonic() - start, Duration::Seconds(10));
  }
}

TEST_F(RemoteWriteClientTest, ConnectionErrorsAreRetriedUntilTheReceiverComesUp) {
  const int port = testing::UnusedPort();
  ASSERT_NE(port, 0);
  RemoteWriteClientOptions o =
      FastOptions("http://127.0.0.1:" + std::to_string(port) + "/api/v1/write", registry_);
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  auto sent = std::async(std::launch::async, [&] { return client->Send(Batch(2, 2)); });
  ASSERT_TRUE(WaitFor([&] { return Retries() >= 3; }));
  Receiver late(port);
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(sent.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(sent.get().ok());
  ASSERT_EQ(late.accepted().size(), 1u);
  EXPECT_EQ(late.accepted()[0].SampleCount(), 4);
}

TEST_F(RemoteWriteClientTest, CancelEndsABackoffWaitAtOnce) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.SetDefault(Reply(503));
  RemoteWriteClientOptions o = FastOptions(receiver_.url(), registry_);
  o.min_backoff = Duration::Seconds(60);
  o.max_backoff = Duration::Seconds(60);
  o.max_retry_duration = Duration::Hours(1);
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  auto sent = std::async(std::launch::async, [&] { return client->Send(Batch(1, 1)); });
  ASSERT_TRUE(WaitFor([&] { return Retries() >= 1; }));  // now waiting out a 30-60s backoff
  client->Cancel();
  ASSERT_EQ(sent.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  core::Status s = sent.get();
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_THAT(s.message(), HasSubstr("cancelled after 1 attempt(s): HTTP 503"));
  EXPECT_EQ(receiver_.requests(), 1);
  EXPECT_EQ(client->Send(Batch(1, 1)).code(), StatusCode::kCancelled);
  EXPECT_EQ(receiver_.requests(), 1);
}

TEST(RemoteWriteClientCreateTest, RejectsBadOptions) {
  RemoteWriteClientOptions o;
  o.url = "ftp://x/api/v1/write";
  EXPECT_EQ(RemoteWriteClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.url = "http://127.0.0.1:9/api/v1/write";
  o.min_backoff = Duration::Seconds(10);
  o.max_backoff = Duration::Seconds(1);
  EXPECT_EQ(RemoteWriteClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.max_backoff = Duration::Seconds(10);
  EXPECT_TRUE(RemoteWriteClient::Create(o).ok());
}

// ---------------------------------------------------------------------------------------------
// RemoteWriteQueue

class RemoteWriteQueueTest : public ::testing::Test {
 protected:
  RemoteWriteQueueOptions Options() {
    RemoteWriteQueueOptions o;
    o.client = FastOptions(receiver_.url(), nullptr);
    o.client.name = "test";
    o.registry = registry_;
    o.capacity = 1000;
    o.max_samples_per_send = 10;
    o.batch_send_deadline = Duration::Milliseconds(20);
    return o;
  }
  std::unique_ptr<RemoteWriteQueue> Start(RemoteWriteQueueOptions o) {
    auto q = RemoteWriteQueue::Start(std::move(o));
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }
  double Metric(std::string_view name, std::map<std::string, std::string> labels = {}) {
    labels["remote"] = "test";
    return MetricValue(*registry_, name, labels);
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  Receiver receiver_;
};

TEST_F(RemoteWriteQueueTest, BatchesInOrderAndDeliversExactlyOnceDespiteFailures) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.Script({Reply(503), TooMany("0"), Reply(500)});
  auto queue = Start(Options());
  ASSERT_NE(queue, nullptr);
  // 5 series x 7 samples, enqueued in pieces of one sample so series interleave; and one series
  // of 23 samples, more than a batch.
  std::map<std::string, std::vector<int64_t>> want;
  for (int k = 0; k < 7; ++k) {
    for (int i = 0; i < 5; ++i) {
      TimeSeries ts{L({{"__name__", "x"}, {"i", std::to_string(i)}}), {{100 + k, double(k)}}};
      want[ts.labels.ToString()].push_back(100 + k);
      EXPECT_TRUE(queue->Enqueue(std::move(ts)));
    }
  }
  TimeSeries big{L({{"__name__", "big"}}), {}};
  for (int k = 0; k < 23; ++k) {
    big.samples.push_back({k, 0});
    want["big"].push_back(k);
  }
  EXPECT_TRUE(queue->Enqueue(std::move(big)));
  ASSERT_TRUE(receiver_.WaitForSamples(58));
  queue->Shutdown(Duration::Seconds(10));

  EXPECT_EQ(receiver_.TimestampsBySeries(), want);
  for (const WriteRequest& r : receiver_.accepted()) EXPECT_LE(r.SampleCount(), 10);
  EXPECT_EQ(Metric("nines_remote_write_sent_samples_total"), 58);
  EXPECT_EQ(Metric("nines_remote_write_failed_samples_total"), 0);
  EXPECT_EQ(Metric("nines_remote_write_retries_total"), 3);
  EXPECT_EQ(Metric("nines_remote_write_pending_samples"), 0);
}

TEST_F(RemoteWriteQueueTest, SendsAPartialBatchAtTheDeadline) {
  ASSERT_TRUE(receiver_.ok());
  RemoteWriteQueueOptions o = Options();
  o.max_samples_per_send = 1000;
  auto queue = Start(o);
  ASSERT_NE(queue, nullptr);
  EXPECT_TRUE(queue->Enqueue({L({{"__name__", "x"}}), {{1, 1}, {2, 2}, {3, 3}}}));
  // Without Shutdown: only the 20ms deadline can send these three.
  ASSERT_TRUE(receiver_.WaitForSamples(3));
  EXPECT_EQ(receiver_.accepted().size(), 1u);
  EXPECT_TRUE(WaitFor([&] { return Metric("nines_remote_write_sent_samples_total") == 3; }));
}

TEST_F(RemoteWriteQueueTest, DropsWhenFullWithoutBlockingAndCountsIt) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.Block();
  RemoteWriteQueueOptions o = Options();
  o.capacity = 10;
  o.max_samples_per_send = 5;
  o.batch_send_deadline = Duration::Hours(1);
  auto queue = Start(o);
  ASSERT_NE(queue, nullptr);
  auto five = [](std::string name) {
    TimeSeries ts{L({{"__name__", name}}), {}};
    for (int k = 0; k < 5; ++k) ts.samples.push_back({k, 1});
    return ts;
  };
  EXPECT_TRUE(queue->Enqueue(five("a")));  // a full batch: taken and stuck in flight
  ASSERT_TRUE(receiver_.WaitForRequests(1));
  EXPECT_TRUE(queue->Enqueue(five("b")));
  EXPECT_TRUE(queue->Enqueue(five("c")));  // the queue now holds its capacity
  EXPECT_FALSE(queue->Enqueue(five("d")));
  EXPECT_FALSE(queue->Enqueue({L({{"__name__", "e"}}), {{1, 1}}}));
  EXPECT_EQ(Metric("nines_remote_write_dropped_samples_total", {{"reason", "queue_full"}}), 6);
  EXPECT_EQ(queue->pending(), 15u);
  EXPECT_EQ(Metric("nines_remote_write_pending_samples"), 15);

  receiver_.Release();
  queue->Shutdown(Duration::Seconds(10));
  EXPECT_EQ(Metric("nines_remote_write_sent_samples_total"), 15);
  auto got = receiver_.TimestampsBySeries();
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(got.count("d"), 0u);
}

TEST_F(RemoteWriteQueueTest, RejectedBatchesAreDroppedAndCounted) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.Script({Reply(400, "bad labels")});
  auto queue = Start(Options());
  ASSERT_NE(queue, nullptr);
  EXPECT_TRUE(queue->Enqueue({L({{"__name__", "x"}}), {{1, 1}, {2, 2}}}));
  ASSERT_TRUE(receiver_.WaitForRequests(1));
  EXPECT_TRUE(WaitFor([&] {
    return Metric("nines_remote_write_dropped_samples_total", {{"reason", "rejected"}}) == 2;
  }));
  EXPECT_TRUE(queue->Enqueue({L({{"__name__", "x"}}), {{3, 3}}}));
  queue->Shutdown(Duration::Seconds(10));
  EXPECT_EQ(Metric("nines_remote_write_sent_samples_total"), 1);
  EXPECT_EQ(Metric("nines_remote_write_retries_total"), 0);
}

TEST_F(RemoteWriteQueueTest, FilterSelectsSeries) {
  ASSERT_TRUE(receiver_.ok());
  RemoteWriteQueueOptions o = Options();
  o.filter = [](const Labels& l) { return l.Get("region") == "eu"; };
  auto queue = Start(o);
  ASSERT_NE(queue, nullptr);
  EXPECT_TRUE(queue->Enqueue({L({{"__name__", "x"}, {"region", "eu"}}), {{1, 1}}}));
  EXPECT_TRUE(queue->Enqueue({L({{"__name__", "x"}, {"region", "us"}}), {{1, 1}}}));
  queue->Shutdown(Duration::Seconds(10));
  auto got = receiver_.TimestampsBySeries();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.begin()->first, "x{region=\"eu\"}");
}

TEST_F(RemoteWriteQueueTest, ShutdownFlushesWithoutWaitingForTheDeadline) {
  ASSERT_TRUE(receiver_.ok());
  RemoteWriteQueueOptions o = Options();
  o.max_samples_per_send = 4;
  o.batch_send_deadline = Duration::Hours(1);
  auto queue = Start(o);
  ASSERT_NE(queue, nullptr);
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(queue->Enqueue({L({{"__name__", "x"}}), {{k, 1}}}));
  EXPECT_EQ(receiver_.requests(), 0);  // below a batch, an hour from the deadline
  core::Clock& clock = core::RealClock();
  const Duration start = clock.Monotonic();
  queue->Shutdown(Duration::Seconds(30));
  EXPECT_LT(clock.Monotonic() - start, Duration::Seconds(10));
  EXPECT_EQ(receiver_.TimestampsBySeries()["x"], (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(Metric("nines_remote_write_sent_samples_total"), 3);

  EXPECT_FALSE(queue->Enqueue({L({{"__name__", "x"}}), {{9, 1}}}));
  EXPECT_EQ(Metric("nines_remote_write_dropped_samples_total", {{"reason", "shutdown"}}), 1);
  queue->Shutdown(Duration::Seconds(1));  // idempotent
}

TEST_F(RemoteWriteQueueTest, ShutdownDeadlineCancelsRetriesAndCountsWhatIsLeft) {
  ASSERT_TRUE(receiver_.ok());
  receiver_.SetDefault(Reply(503));
  RemoteWriteQueueOptions o = Options();
  o.max_samples_per_send = 2;
  o.client.min_backoff = Duration::Seconds(60);
  o.client.max_backoff = Duration::Seconds(60);
  o.client.max_retry_duration = Duration::Hours(1);
  auto queue = Start(o);
  ASSERT_NE(queue, nullptr);
  EXPECT_TRUE(queue->Enqueue({L({{"__name__", "x"}}), {{1, 1}, {2, 2}, {3, 3}}}));
  ASSERT_TRUE(receiver_.WaitForRequests(1));
  core::Clock& clock = core::RealClock();
  const Duration start = clock.Monotonic();
  queue->Shutdown(Duration::Milliseconds(50));
  EXPECT_LT(clock.Monotonic() - start, Duration::Seconds(10));
  EXPECT_EQ(Metric("nines_remote_write_failed_samples_total"), 2);  // the batch in backoff
  EXPECT_EQ(Metric("nines_remote_write_dropped_samples_total", {{"reason", "shutdown"}}), 1);
  EXPECT_EQ(Metric("nines_remote_write_pending_samples"), 0);
}

// ---------------------------------------------------------------------------------------------
// Interop with a real Prometheus (Debian's package, 2.42), which scripts/install-deps.sh installs;
// CI installs it (apt-get install prometheus) so that these run there.

std::string PrometheusBinary() {
  if (const char* env = std::getenv("NINES_PROMETHEUS"); env != nullptr && *env != '\0') {
    return env;
  }
  return "/usr/bin/prometheus";
}

class PrometheusProcess {
 public:
  // Starts Prometheus with `config` (YAML) on a free port. Check ready() afterwards.
  PrometheusProcess(const ::nines::testutil::TempDir& dir, const std::string& config) {
    port_ = testing::UnusedPort();
    const std::string config_file = dir.Write("prometheus.yml", config);
    std::filesystem::create_directories(dir.File("tsdb"));
    process_ = std::make_unique<::nines::testutil::ChildProcess>(std::vector<std::string>{
        PrometheusBinary(), "--config.file=" + config_file, "--storage.tsdb.path=" + dir.File("tsdb"),
        "--web.listen-address=127.0.0.1:" + std::to_string(port_),
        "--web.enable-remote-write-receiver", "--log.level=info"});
    ready_ = process_->WaitForOutput("Server is ready to receive web requests",
                                     std::chrono::seconds(60));
  }
  ~PrometheusProcess() {
    process_->Signal(SIGTERM);
    if (!process_->Wait(std::chrono::seconds(20))) process_->Signal(SIGKILL);
  }
  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::string output() const { return process_->output(); }

 private:
  int port_ = 0;
  bool ready_ = false;
  std::unique_ptr<::nines::testutil::ChildProcess> process_;
};

// scripts/install-deps.sh installs Prometheus, so a missing binary is a broken setup: fail.
#define REQUIRE_PROMETHEUS()                                                               \
  ASSERT_TRUE(std::filesystem::exists(PrometheusBinary()))                                 \
      << PrometheusBinary() << " is not installed: run scripts/install-deps.sh (Debian's " \
      << "prometheus package)"

TEST(PrometheusInteropTest, SamplesSentByRemoteWriteClientAreQueryable) {
  REQUIRE_PROMETHEUS();
  if (::testing::Test::IsSkipped()) return;
  ::nines::testutil::TempDir dir;
  PrometheusProcess prom(dir, "global:\n  scrape_interval: 1m\n");
  ASSERT_TRUE(prom.ready()) << prom.output();

  RemoteWriteClientOptions o = FastOptions(prom.url("/api/v1/write"), nullptr);
  auto client = RemoteWriteClient::Create(o);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const int64_t now_ms = core::RealClock().Now().UnixMillis() / 1000 * 1000;
  WriteRequest req;
  req.series.push_back({L({{"__name__", "nines_interop_value"}, {"region", "eu-west-1"}}),
                        {{now_ms - 30'000, 1}, {now_ms - 15'000, 2}, {now_ms, 42.5}}});
  req.series.push_back({L({{"__name__", "nines_interop_value"}, {"region", "us-east-1"}}),
                        {{now_ms, 7}}});
  ASSERT_TRUE((*client)->Send(req).ok());

  net::HttpClient http;
  const std::string at = "&time=" + std::to_string(now_ms / 1000);
  auto res = http.Do({.method = "GET",
                      .url = prom.url("/api/v1/query?query=nines_interop_value" + at)});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->body, HasSubstr(R"("region":"eu-west-1"},"value":[)" +
                                   std::to_string(now_ms / 1000) + R"(,"42.5"])"));
  EXPECT_THAT(res->body, HasSubstr(R"("region":"us-east-1"},"value":[)" +
                                   std::to_string(now_ms / 1000) + R"(,"7"])"));
  res = http.Do({.method = "GET",
                 .url = prom.url("/api/v1/query?query=count_over_time(nines_interop_value%7Bregion"
                                 "%3D%22eu-west-1%22%7D%5B5m%5D)" + at)});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_THAT(res->body, HasSubstr(R"(,"3"])")) << res->body;

  // A series Prometheus refuses (out of order within its head) is a 400, not retried.
  WriteRequest old;
  old.series.push_back({L({{"__name__", "nines_interop_value"}, {"region", "eu-west-1"}}),
                        {{now_ms - 20'000, 5}}});
  core::Status s = (*client)->Send(old);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
}

TEST(PrometheusInteropTest, PrometheusRemoteWritesIntoTheHandler) {
  REQUIRE_PROMETHEUS();
  if (::testing::Test::IsSkipped()) return;
  testutil::RecordingStore stored;
  auto registry = std::make_shared<prometheus::Registry>();
  net::Router router;
  router.Handle("POST", "/api/v1/write", net::Access::kPublic,
                RemoteWriteHandler([&] { return stored.NewAppender(); }, registry));
  net::ServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = net::Server::Start(options, std::move(router), core::RealClock(), registry);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  ::nines::testutil::TempDir dir;
  const int prom_port = testing::UnusedPort();
  const std::string self = "127.0.0.1:" + std::to_string(prom_port);
  // Prometheus scrapes itself every second and remote-writes everything to our handler.
  const std::string config = fmt::format(
      "global:\n  scrape_interval: 1s\n"
      "scrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['{}']\n"
      "remote_write:\n  - url: http://{}/api/v1/write\n"
      "    queue_config: {{batch_send_deadline: 1s, min_backoff: 10ms, max_backoff: 100ms}}\n"
      "    metadata_config: {{send_interval: 1s}}\n",
      self, (*server)->address());
  const std::string config_file = dir.Write("prometheus.yml", config);
  std::filesystem::create_directories(dir.File("tsdb"));
  ::nines::testutil::ChildProcess prom({PrometheusBinary(), "--config.file=" + config_file,
                                        "--storage.tsdb.path=" + dir.File("tsdb"),
                                        "--web.listen-address=" + self});
  ASSERT_TRUE(prom.WaitForOutput("Server is ready to receive web requests",
                                 std::chrono::seconds(60)))
      << prom.output();

  const std::string up = "up{instance=\"" + self + "\",job=\"self\"}";
  // Its newest sample of `up` says 1.
  EXPECT_TRUE(stored.WaitFor(
      [&](const std::vector<testutil::RecordedSample>& committed) {
        auto it = std::find_if(committed.rbegin(), committed.rend(),
                               [&](const testutil::RecordedSample& s) { return s.series == up; });
        return it != committed.rend() && it->value == 1;
      },
      Duration::Seconds(60)))
      << prom.output();
  EXPECT_TRUE(WaitFor(
      [&] {
        return MetricValue(*registry, "nines_remote_write_ignored_total", {{"kind", "metadata"}}) >
               0;
      },
      Duration::Seconds(60)));
  EXPECT_GT(MetricValue(*registry, "nines_remote_write_requests_total", {{"code", "204"}}), 0);
  EXPECT_EQ(MetricValue(*registry, "nines_remote_write_requests_total", {{"code", "400"}}), 0);
  EXPECT_EQ(MetricValue(*registry, "nines_remote_write_requests_total", {{"code", "415"}}), 0);
  std::set<std::string> series;
  for (const testutil::RecordedSample& s : stored.committed()) series.insert(s.series);
  EXPECT_GT(series.size(), 50u);  // Prometheus' own metrics
  prom.Signal(SIGTERM);
  EXPECT_TRUE(prom.Wait(std::chrono::seconds(20)).has_value());
}

}  // namespace
}  // namespace nines::remote

// `nines serve` takes Prometheus remote write while the test kill -9s it at random moments;
// after every restart each acknowledged sample is there and nothing else is.
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "core/clock.h"
#include "net/http_client.h"
#include "remote/remote.h"
#include "store/store.h"
#include "tests/testutil/testutil.h"

namespace nines {
namespace {

using std::chrono::milliseconds;
using testutil::NinesProcess;
using testutil::TempDir;

// The server takes samples near its clock's now (behind it by at most its 2 h out-of-order
// window): the batches start 45 minutes ago, a second per sample, and stay in the past.
const int64_t kT0 = core::RealClock().Now().UnixMillis() / 1000 * 1000 - 45 * 60'000;
constexpr int kSeries = 30;
constexpr int kSamplesPerSeries = 5;

core::Labels Series(int s) {
  return *core::Labels::From({{"__name__", "probe_success"},
                              {"probe", "check-" + std::to_string(s)},
                              {"region", s % 3 == 0 ? "us-east-1" : s % 3 == 1 ? "eu-west-1"
                                                                                 : "ap-southeast-2"}});
}

// Batch b holds kSamplesPerSeries samples for every series at times that identify the batch.
std::string Body(int64_t b) {
  remote::WriteRequest req;
  for (int s = 0; s < kSeries; ++s) {
    remote::TimeSeries ts;
    ts.labels = Series(s);
    for (int k = 0; k < kSamplesPerSeries; ++k) {
      ts.samples.push_back({kT0 + (b * kSamplesPerSeries + k) * 1000, static_cast<double>(b)});
    }
    req.series.push_back(std::move(ts));
  }
  return remote::EncodeWriteRequest(req);
}

TEST(RemoteWriteE2eTest, AcknowledgedSamplesSurviveKill9OfTheServer) {
  TempDir dir;
  std::mt19937_64 rng(7);
  int64_t next_batch = 0;  // the first batch not yet acknowledged
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    NinesProcess server(
        {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--log-level", "warning"});
    std::string url = server.WaitForUrl();
    ASSERT_FALSE(url.empty());

    // A writer thread sends batches in order; the test kills the server after a random number
    // of acknowledgements, usually with a request in flight.
    std::atomic<int64_t> acked{next_batch - 1};
    std::atomic<int64_t> attempted{next_batch - 1};
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      net::ClientOptions options;
      options.request_timeout = core::Duration::Seconds(10);
      net::HttpClient client(options);
      for (int64_t b = next_batch; !stop.load(); ++b) {
        net::ClientRequest req;
        req.method = "POST";
        req.url = url + "/api/v1/write";
        req.headers.Set("Content-Type", "application/x-protobuf");
        req.headers.Set("Content-Encoding", "snappy");
        req.body = Body(b);
        attempted.store(b);
        auto resp = client.Do(req);
        if (!resp.ok() || resp->status != 204) return;  // the server died
        acked.store(b);
      }
    });
    int64_t kill_after = next_batch + 5 + static_cast<int64_t>(rng() % 60);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acked.load() < kill_after && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    server.Signal(SIGKILL);
    ASSERT_EQ(server.Wait(milliseconds(10000)), 128 + SIGKILL);
    stop.store(true);
    writer.join();
    ASSERT_GE(acked.load(), kill_after) << "the writer stalled";

    // Read the data directory directly: every acknowledged batch, at most the one in flight.
    store::StoreOptions options;
    options.dir = dir.File("tsdb");
    auto db = store::OpenStore(options, core::RealClock());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (int s = 0; s < kSeries; ++s) {
      auto agg = (*db)->Aggregate(Series(s), 0, INT64_MAX / 2);
      ASSERT_TRUE(agg.ok());
      int64_t batches = agg->count / kSamplesPerSeries;
      ASSERT_EQ(agg->count % kSamplesPerSeries, 0) << "a batch was half applied";
      ASSERT_GE(batches, acked.load() + 1) << "series " << s << " lost acknowledged samples";
      ASSERT_LE(batches, attempted.load() + 1) << "series " << s << " has samples never sent";
      // Batch b carries the value b: the samples are the batches 0..batches-1, in order.
      ASSERT_EQ(agg->last, static_cast<double>(batches - 1));
      ASSERT_EQ(agg->last_timestamp_ms, kT0 + (batches * kSamplesPerSeries - 1) * 1000);
      if (s == 0) next_batch = batches;
    }
  }
}

TEST(RemoteWriteE2eTest, MalformedRequestsGetReasonsAndTheServerKeepsServing) {
  TempDir dir;
  NinesProcess server(
      {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--log-level", "warning"});
  std::string url = server.WaitForUrl();
  ASSERT_FALSE(url.empty());
  net::HttpClient client;
  auto post = [&](const std::string& body) {
    net::ClientRequest req;
    req.method = "POST";
    req.url = url + "/api/v1/write";
    req.headers.Set("Content-Encoding", "snappy");
    req.body = body;
    auto resp = client.Do(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : net::ClientResponse{};
  };
  std::string good = Body(0);
  struct Case {
    std::string name;
    std::string body;
    int status;
  } cases[] = {
      {"garbage", "this is not snappy", 400},
      {"truncated", good.substr(0, good.size() / 2), 400},
      {"empty", "", 400},
      {"giant", std::string(20 << 20, 'x'), 413},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    net::ClientResponse resp = post(c.body);
    EXPECT_EQ(resp.status, c.status) << resp.body;
    if (c.status == 400) {
      EXPECT_NE(resp.body.find("\"error\""), std::string::npos) << resp.body;
    }
  }
  EXPECT_EQ(post(good).status, 204);
  net::ClientRequest get;
  get.url = url + "/api/v1/series?match[]=probe_success";
  auto series = client.Do(get);
  ASSERT_TRUE(series.ok());
  EXPECT_NE(series->body.find("check-29"), std::string::npos) << series->body;
}

}  // namespace
}  // namespace nines

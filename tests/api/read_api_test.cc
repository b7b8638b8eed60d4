// The read and admin API over a real store and a real server on loopback.
#include "api/read_api.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "net/http_client.h"
#include "tests/testutil/testutil.h"

namespace nines::api {
namespace {

using store::OpenStore;
using store::Store;
using store::StoreOptions;

constexpr int64_t kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z, a whole minute

class ReadApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.dir = dir_.File("db");
    auto store = OpenStore(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto app = store_->NewAppender();
    for (int i = 0; i < 8; ++i) {  // 2 minutes at 15 s
      ASSERT_TRUE(app->Append(L(R"(probe_success{region="eu-west-1"})"), kT0 + i * 15'000,
                              i == 3 ? 0 : 1).ok());
      ASSERT_TRUE(app->Append(L(R"(probe_success{region="us-east-1"})"), kT0 + i * 15'000, 1).ok());
      ASSERT_TRUE(app->Append(L(R"(requests_total{code="200"})"), kT0 + i * 15'000, i * 10.5).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
    net::Router router;
    RegisterReadApi(*store_, router, clock_);
    net::ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.admin_tokens = {"admin-token-for-tests"};
    auto server = net::Server::Start(server_options, std::move(router), clock_, nullptr);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    url_ = "http://" + server_->address();
  }

  static core::Labels L(const char* text) { return *core::ParseLabels(text); }

  net::ClientResponse Do(const std::string& method, const std::string& target,
                         const std::string& token = "", const std::string& form = "") {
    net::ClientRequest req;
    req.method = method;
    req.url = url_ + target;
    if (!token.empty()) req.headers.Set("Authorization", "Bearer " + token);
    if (!form.empty()) {
      req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
      req.body = form;
    }
    auto resp = client_.Do(req);
    EXPECT_TRUE(resp.ok()) << target << ": " << resp.status().ToString();
    return resp.ok() ? *resp : net::ClientResponse{};
  }

  testutil::TempDir dir_;
  core::FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<net::Server> server_;
  net::HttpClient client_;
  std::string url_;
};

TEST_F(ReadApiTest, LabelsAndValues) {
  EXPECT_EQ(Do("GET", "/api/v1/labels").body,
            R"({"status":"success","data":["__name__","code","region"]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/region/values").body,
            R"({"status":"success","data":["eu-west-1","us-east-1"]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/nope/values").body, R"({"status":"success","data":[]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/bad-name/values").status, 400);
}

TEST_F(ReadApiTest, SeriesBySelectorAndRange) {
  EXPECT_EQ(Do("GET", "/api/v1/series?match[]=probe_success%7Bregion%3D%22eu-west-1%22%7D").body,
            R"({"status":"success","data":[{"__name__":"probe_success","region":"eu-west-1"}]})");
  // Two selectors, one series each, sorted.
  auto both = Do("GET", "/api/v1/series?match[]=requests_total&match[]=probe_success%7Bregion%3D%22us-east-1%22%7D");
  EXPECT_EQ(both.body, R"({"status":"success","data":[{"__name__":"probe_success","region":"us-east-1"},)"
                       R"({"__name__":"requests_total","code":"200"}]})");
  // A range with no samples.
  EXPECT_EQ(Do("GET", "/api/v1/series?match[]=probe_success&start=2020-01-01T00:00:00Z&end=2020-01-02T00:00:00Z").body,
            R"({"status":"success","data":[]})");
}

TEST_F(ReadApiTest, RawSamplesInPrometheusMatrixShape) {
  auto r = Do("GET", "/api/v1/samples?match[]=requests_total&start=1700000000&end=1700000030");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":)"
            R"({"__name__":"requests_total","code":"200"},"values":[[1700000000,"0"],)"
            R"([1700000015,"10.5"],[1700000030,"21"]]}]}})");
}

TEST_F(ReadApiTest, RollupAggregatesPerStep) {
  // Minute 1: samples 0..3 (one failure); minute 2: samples 4..7.
  auto count = Do("GET", "/api/v1/rollup?match[]=probe_success%7Bregion%3D%22eu-west-1%22%7D"
                         "&start=1700000000&end=1700000120&step=1m&fn=sum");
  EXPECT_EQ(count.status, 200) << count.body;
  EXPECT_NE(count.body.find(R"("values":[[1700000060,"3"],[1700000120,"4"]])"), std::string::npos)
      << count.body;
  auto increase = Do("GET", "/api/v1/rollup?match[]=requests_total&start=1700000000"
                            "&end=1700000120&step=2m&fn=increase");
  EXPECT_NE(increase.body.find(R"([[1700000120,"73.5"]])"), std::string::npos) << increase.body;
}

TEST_F(ReadApiTest, BadParametersAre400WithTheReason) {
  struct Case {
    const char* target;
    const char* reason;
  } cases[] = {
      {"/api/v1/series", "no match[] parameter given"},
      {"/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D", "at least one matcher"},
      {"/api/v1/samples?match[]=up&start=yesterday", "parameter start: invalid timestamp"},
      {"/api/v1/samples?match[]=up&start=1700000100&end=1700000000", "end is before start"},
      {"/api/v1/rollup?match[]=up", "start and end are required"},
      {"/api/v1/rollup?match[]=up&start=1700000000&end=1700000120&step=5x", "parameter step"},
      {"/api/v1/rollup?match[]=up&start=1700000000&end=1700000120&fn=median", "unknown function"},
      {"/api/v1/rollup?match[]=up&start=0&end=1700000000&step=1s", "exceed the limit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    auto r = Do("GET", c.target);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find(c.reason), std::string::npos) << r.body;
  }
}

TEST_F(ReadApiTest, LabelsAndValuesOfTheMatchingSeriesOnly) {
  EXPECT_EQ(Do("GET", "/api/v1/labels?match[]=probe_success").body,
            R"({"status":"success","data":["__name__","region"]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/region/values?match[]=probe_success%7Bregion%3D~%22eu.*%22%7D").body,
            R"({"status":"success","data":["eu-west-1"]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/__name__/values?match[]=requests_total").body,
            R"({"status":"success","data":["requests_total"]})");
}

TEST_F(ReadApiTest, PostTakesAFormBodyAsPrometheusDoes) {
  // A selector too long for a URL goes in the body.
  auto series = Do("POST", "/api/v1/series", "",
                   "match[]=probe_success%7Bregion%3D%22eu-west-1%22%7D");
  EXPECT_EQ(series.status, 200) << series.body;
  EXPECT_EQ(series.body,
            R"({"status":"success","data":[{"__name__":"probe_success","region":"eu-west-1"}]})");
  auto labels = Do("POST", "/api/v1/labels", "", "match[]=requests_total");
  EXPECT_EQ(labels.body, R"({"status":"success","data":["__name__","code"]})");
  auto samples = Do("POST", "/api/v1/samples", "",
                    "match[]=requests_total&start=1700000000&end=1700000015");
  EXPECT_NE(samples.body.find(R"("values":[[1700000000,"0"],[1700000015,"10.5"]])"),
            std::string::npos)
      << samples.body;
  auto rollup = Do("POST", "/api/v1/rollup", "",
                   "match[]=requests_total&start=1700000000&end=1700000120&step=120&fn=increase");
  EXPECT_NE(rollup.body.find(R"([[1700000120,"73.5"]])"), std::string::npos) << rollup.body;
  // A bad form is still a 400 with the reason.
  EXPECT_EQ(Do("POST", "/api/v1/series", "", "start=1700000000").status, 400);
}

TEST_F(ReadApiTest, StepInPlainSecondsAsPrometheusAcceptsIt) {
  for (const char* step : {"60", "60.0", "1m", "6e1"}) {
    SCOPED_TRACE(step);
    auto r = Do("GET", std::string("/api/v1/rollup?match[]=probe_success%7Bregion%3D%22eu-west-1%22%7D"
                                   "&start=1700000000&end=1700000120&fn=sum&step=") + step);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find(R"("values":[[1700000060,"3"],[1700000120,"4"]])"), std::string::npos)
        << r.body;
  }
  EXPECT_EQ(Do("GET", "/api/v1/rollup?match[]=up&start=1700000000&end=1700000120&step=-60").status,
            400);
  EXPECT_EQ(Do("GET", "/api/v1/rollup?match[]=up&start=1700000000&end=1700000120&step=0").status,
            400);
}

TEST_F(ReadApiTest, SamplesWithoutARangeReadTheLastHourUpToTheClock) {
  // The clock stands an hour after the second sample: the default hour starts there, so it
  // holds every sample but the first.
  clock_.Set(core::Timestamp::FromUnixMillis(kT0 + 15'000 + 3'600'000));
  auto r = Do("GET", "/api/v1/samples?match[]=requests_total");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("values":[[1700000015,"10.5"],[1700000030,"21"],)"), std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("1700000000,"), std::string::npos) << r.body;
  // end alone: the hour before it.
  auto before = Do("GET", "/api/v1/samples?match[]=requests_total&end=1700000015");
  EXPECT_NE(before.body.find(R"("values":[[1700000000,"0"],[1700000015,"10.5"]])"),
            std::string::npos)
      << before.body;
  // A day later, nothing is in the default hour.
  clock_.Advance(core::Duration::Days(1));
  EXPECT_EQ(Do("GET", "/api/v1/samples?match[]=requests_total").body,
            R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
}

TEST_F(ReadApiTest, LimitTruncatesAndSaysSo) {
  const std::string range = "&start=1700000000&end=1700000120";
  auto series = Do("GET", "/api/v1/series?match[]=probe_success&limit=1");
  EXPECT_EQ(series.body, R"({"status":"success","data":[{"__name__":"probe_success","region":"eu-west-1"}],)"
                         R"("warnings":["results truncated due to limit"]})");
  auto samples = Do("GET", "/api/v1/samples?match[]=probe_success&limit=1" + range);
  EXPECT_NE(samples.body.find("eu-west-1"), std::string::npos) << samples.body;
  EXPECT_EQ(samples.body.find("us-east-1"), std::string::npos) << samples.body;
  EXPECT_NE(samples.body.find("results truncated due to limit"), std::string::npos);
  // 0 is no limit; a limit not reached says nothing.
  auto all = Do("GET", "/api/v1/samples?match[]=probe_success&limit=0" + range);
  EXPECT_NE(all.body.find("us-east-1"), std::string::npos);
  EXPECT_EQ(all.body.find("warnings"), std::string::npos);
  EXPECT_EQ(Do("GET", "/api/v1/label/region/values?limit=5").body,
            R"({"status":"success","data":["eu-west-1","us-east-1"]})");
  auto bad = Do("GET", "/api/v1/labels?limit=-1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("parameter limit"), std::string::npos) << bad.body;
}

TEST_F(ReadApiTest, DefaultSeriesLimitOfSamples) {
  net::Router router;
  ReadApiOptions options;
  options.default_series_limit = 1;
  RegisterReadApi(*store_, router, clock_, options);
  net::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  auto server = net::Server::Start(server_options, std::move(router), clock_, nullptr);
  ASSERT_TRUE(server.ok());
  net::ClientRequest req;
  req.url = "http://" + (*server)->address() +
            "/api/v1/samples?match[]=probe_success&start=1700000000&end=1700000120";
  auto r = client_.Do(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.find("us-east-1"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("results truncated due to limit"), std::string::npos) << r->body;
}

TEST_F(ReadApiTest, DeleteSeriesNeedsTheAdminTokenAndDeletes) {
  const std::string target = "/api/v1/admin/tsdb/delete_series?match[]=requests_total";
  EXPECT_EQ(Do("POST", target).status, 401);
  EXPECT_EQ(Do("POST", target, "wrong").status, 401);
  EXPECT_EQ(Do("POST", target, "admin-token-for-tests").status, 204);
  EXPECT_EQ(Do("GET", "/api/v1/series?match[]=requests_total").body,
            R"({"status":"success","data":[]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/code/values").body, R"({"status":"success","data":[]})");
}

}  // namespace
}  // namespace nines::api

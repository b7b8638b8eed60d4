// The read and admin API over a real store and a real server on loopback.
#include "store/http_api.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "net/http_client.h"
#include "tests/testutil/testutil.h"

namespace nines::store {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z, a whole minute

class HttpApiTest : public ::testing::Test {
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
    RegisterHttpApi(*store_, router);
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
                         const std::string& token = "") {
    net::ClientRequest req;
    req.method = method;
    req.url = url_ + target;
    if (!token.empty()) req.headers.Set("Authorization", "Bearer " + token);
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

TEST_F(HttpApiTest, LabelsAndValues) {
  EXPECT_EQ(Do("GET", "/api/v1/labels").body,
            R"({"status":"success","data":["__name__","code","region"]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/region/values").body,
            R"({"status":"success","data":["eu-west-1","us-east-1"]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/nope/values").body, R"({"status":"success","data":[]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/bad-name/values").status, 400);
}

TEST_F(HttpApiTest, SeriesBySelectorAndRange) {
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

TEST_F(HttpApiTest, RawSamplesInPrometheusMatrixShape) {
  auto r = Do("GET", "/api/v1/samples?match[]=requests_total&start=1700000000&end=1700000030");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":)"
            R"({"__name__":"requests_total","code":"200"},"values":[[1700000000,"0"],)"
            R"([1700000015,"10.5"],[1700000030,"21"]]}]}})");
}

TEST_F(HttpApiTest, RollupAggregatesPerStep) {
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

TEST_F(HttpApiTest, BadParametersAre400WithTheReason) {
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

TEST_F(HttpApiTest, DeleteSeriesNeedsTheAdminTokenAndDeletes) {
  const std::string target = "/api/v1/admin/tsdb/delete_series?match[]=requests_total";
  EXPECT_EQ(Do("POST", target).status, 401);
  EXPECT_EQ(Do("POST", target, "wrong").status, 401);
  EXPECT_EQ(Do("POST", target, "admin-token-for-tests").status, 204);
  EXPECT_EQ(Do("GET", "/api/v1/series?match[]=requests_total").body,
            R"({"status":"success","data":[]})");
  EXPECT_EQ(Do("GET", "/api/v1/label/code/values").body, R"({"status":"success","data":[]})");
}

}  // namespace
}  // namespace nines::store

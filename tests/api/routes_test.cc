// The routes api/ registers for the engine and the agent, in process over loopback with fake
// callbacks; the one Status -> HTTP mapping; the landing page.
#include "api/api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "core/clock.h"
#include "net/http_client.h"
#include "tests/api/golden.h"
#include "tests/testutil/testutil.h"

namespace nines::api {
namespace {

using core::StatusCode;
using ::testing::HasSubstr;

TEST(HttpStatusForTest, EveryCodeHasOneAnswer) {
  const std::pair<StatusCode, int> cases[] = {
      {StatusCode::kOk, 200},
      {StatusCode::kCancelled, 500},
      {StatusCode::kUnknown, 500},
      {StatusCode::kInvalidArgument, 400},
      {StatusCode::kDeadlineExceeded, 500},
      {StatusCode::kNotFound, 404},
      {StatusCode::kAlreadyExists, 409},
      {StatusCode::kPermissionDenied, 500},
      {StatusCode::kResourceExhausted, 500},
      {StatusCode::kFailedPrecondition, 409},
      {StatusCode::kAborted, 409},
      {StatusCode::kOutOfRange, 400},
      {StatusCode::kUnimplemented, 500},
      {StatusCode::kInternal, 500},
      {StatusCode::kUnavailable, 500},
      {StatusCode::kDataLoss, 500},
      {StatusCode::kUnauthenticated, 500},
  };
  for (const auto& [code, http] : cases) {
    SCOPED_TRACE(static_cast<int>(code));
    EXPECT_EQ(HttpStatusFor(code), http);
  }
}

TEST(HttpStatusForTest, ErrorResponseCarriesTheMessage) {
  net::Response r = ErrorResponse(core::NotFoundError("no SLO named \"{}\"", "x"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(r.body, R"({"status":"error","error":"no SLO named \"x\""})");
}

// The same page tests/app/serve_test.cc fetches from a served engine (the same golden file).
TEST(LandingPageTest, IsByteIdenticalAndEscapesConfiguredStrings) {
  LandingPage page;
  page.mode = "serve";
  page.default_objective = 99.9;
  page.default_window = core::Duration::Days(28);
  page.regions = {{"eu-west-1", "EU <West> & 'Ireland' \"1\"", {"dublin", "london"}},
                  {"us-east-1", "", {"ashburn"}}};
  std::string html = LandingPageHtml(page);
  const std::string version = NINES_VERSION;
  const size_t at = html.find(version);
  ASSERT_NE(at, std::string::npos);
  html.replace(at, version.size(), "@VERSION@");
  testing::ExpectGolden("landing_page.html", html);
}

TEST(LandingPageTest, SaysWhenNoRegionIsConfigured) {
  LandingPage page;
  page.mode = "demo <x>";
  page.default_objective = 99.5;
  page.default_window = core::Duration::Days(30);
  const std::string html = LandingPageHtml(page);
  EXPECT_THAT(html, HasSubstr("version " NINES_VERSION " &middot; demo &lt;x&gt;</p>"));
  EXPECT_THAT(html, HasSubstr("Default objective <b>99.5%</b> over a rolling <b>30d</b>: an "
                              "error budget of\n<b>216.0 minutes</b> per window."));
  EXPECT_THAT(html, HasSubstr("<h2>Regions</h2><p>No regions configured yet.</p>"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<table>")));
}

// A server on loopback serving `router`.
class Served {
 public:
  Served(net::Router router, core::Clock& clock) {
    net::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.admin_tokens = {"admin-token-for-tests"};
    auto server = net::Server::Start(o, std::move(router), clock, nullptr);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = std::move(*server);
  }
  net::ClientResponse Do(const std::string& method, const std::string& target) {
    net::ClientRequest req;
    req.method = method;
    req.url = "http://" + server_->address() + target;
    if (method == "POST") req.headers.Set("Authorization", "Bearer admin-token-for-tests");
    auto resp = client_.Do(req);
    EXPECT_TRUE(resp.ok()) << target << ": " << resp.status().ToString();
    return resp.ok() ? *resp : net::ClientResponse{};
  }

 private:
  std::unique_ptr<net::Server> server_;
  net::HttpClient client_{net::ClientOptions{}};
};

class EngineRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.dir = dir_.File("tsdb");
    auto st = store::OpenStore(o, clock_);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
    net::Router router;
    EngineRoutes routes;
    routes.store = store_.get();
    routes.clock = &clock_;
    routes.slos = [] {
      return std::make_shared<const std::vector<rules::SloEvaluator::Published>>();
    };
    routes.alerts = [] {
      rules::Alert a;
      a.labels = core::Labels::From({{"alertname", "Down"}, {"region", "eu"}}).value();
      a.state = rules::AlertState::kPending;
      a.active_since = core::FakeClock::kDefaultStart;
      return std::vector<rules::Alert>{a};
    };
    routes.targets = [] { return std::vector<collector::ScrapeTargetStatus>{}; };
    routes.landing_page = [] {
      LandingPage page;
      page.mode = "test";
      return page;
    };
    routes.reload = [this] {
      reloads_.fetch_add(1);
      return reload_result_;
    };
    RegisterEngineRoutes(router, std::move(routes));
    served_ = std::make_unique<Served>(std::move(router), clock_);
  }

  testutil::TempDir dir_;
  core::FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::atomic<int> reloads_{0};
  core::Status reload_result_;
  std::unique_ptr<Served> served_;
};

TEST_F(EngineRoutesTest, ServeTheDocumentsOfTheCallbacks) {
  EXPECT_EQ(served_->Do("GET", "/api/v1/checks").body, R"({"status":"success","data":[]})");
  EXPECT_EQ(served_->Do("GET", "/api/v1/slos").body, R"({"status":"success","data":[]})");
  net::ClientResponse missing = served_->Do("GET", "/api/v1/slos/x");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"status":"error","error":"no SLO named \"x\""})");
  EXPECT_EQ(served_->Do("GET", "/api/v1/alerts?state=firing").body,
            R"({"status":"success","data":{"alerts":[]}})");
  EXPECT_THAT(served_->Do("GET", "/api/v1/alerts?region=eu").body,
              HasSubstr(R"("state":"pending")"));
  EXPECT_EQ(served_->Do("GET", "/api/v1/alerts?state=bad").status, 400);
  EXPECT_EQ(served_->Do("GET", "/api/v1/targets").body,
            R"({"status":"success","data":{"activeTargets":[],"droppedTargets":[]}})");
  net::ClientResponse page = served_->Do("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers.Get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(page.body, HasSubstr(" &middot; test</p>"));
  EXPECT_EQ(served_->Do("GET", "/api/v1/labels").body, R"({"status":"success","data":[]})");
  EXPECT_EQ(served_->Do("GET", "/api/v1/series").status, 400);
}

// Every reload outcome the engine's Reload returns today, through the one mapping.
TEST_F(EngineRoutesTest, ReloadAnswersEachStatusWithItsHttpCode) {
  const std::pair<core::Status, int> cases[] = {
      {core::Status::Ok(), 200},
      {core::InvalidArgumentError("nines.yaml:3:5: unknown field"), 400},
      {core::FailedPreconditionError("no config file to reload"), 409},
      {core::AlreadyExistsError("scrape job node: target listed twice"), 409},
      {core::InternalError("disk on fire"), 500},
  };
  int n = 0;
  for (const auto& [status, http] : cases) {
    SCOPED_TRACE(status.ToString());
    reload_result_ = status;
    net::ClientResponse r = served_->Do("POST", "/-/reload");
    EXPECT_EQ(reloads_.load(), ++n);
    EXPECT_EQ(r.status, http);
    EXPECT_EQ(r.body, status.ok() ? R"({"status":"success"})"
                                  : R"({"status":"error","error":")" + status.message() + "\"}");
  }
}

TEST(AgentRoutesTest, ServeTheAgentsChecksAndTargets) {
  core::FakeClock clock;
  net::Router router;
  RegisterAgentRoutes(
      router,
      [] {
        collector::CheckStatus s;
        auto c = std::make_shared<collector::CheckSpec>();
        c->name = "api";
        s.check = c;
        return std::vector<collector::CheckStatus>{s};
      },
      [] { return std::vector<collector::ScrapeTargetStatus>{}; });
  Served served(std::move(router), clock);
  EXPECT_THAT(served.Do("GET", "/api/v1/checks").body,
              HasSubstr(R"({"status":"success","data":[{"probe":"api",)"));
  EXPECT_EQ(served.Do("GET", "/api/v1/targets").body,
            R"({"status":"success","data":{"activeTargets":[],"droppedTargets":[]}})");
}

}  // namespace
}  // namespace nines::api

// amtool (Debian's prometheus-alertmanager 0.25, $NINES_AMTOOL to override)
// against nines' Alertmanager API v2 on loopback, with a backend made of a real
// Dispatcher and SilenceStore: alert add, alert query, silence add, silence
// query and silence expire work, and their effect is checked in the backend.
// amtool runs with the real time (it stamps silences with it), so the server's
// clock is the real one here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/alertmanager_api.h"
#include "core/clock.h"
#include "tests/api/amtool_helpers.h"
#include "tests/api/dispatcher_backend.h"
#include "tests/testutil/testutil.h"

namespace nines::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::AmtoolRun;
using testing::RunAmtool;

class AmtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alerting::AlertmanagerConfig config;
    config.route.receiver = "pager";
    config.route.group_by = std::vector<std::string>{"region"};
    config.receivers = {{"pager", {}}};
    backend_ = std::make_unique<testing::DispatcherBackend>(config, core::RealClock());
    backend_->set_status({.config_original = "route:\n  receiver: pager\n  group_by:\n  - region\n"
                                             "receivers:\n- name: pager\n",
                          .started_at = core::RealClock().Now()});
    // amtool sends the bearer token from a Prometheus http_config file.
    server_ = testing::ServeForAmtool(*backend_, dir_, &http_config_);
    ASSERT_NE(server_, nullptr);
  }

  // Runs amtool with `args` against the server; with `token`, through the
  // http_config file.
  AmtoolRun Amtool(const std::vector<std::string>& args, bool token = true) {
    return RunAmtool(server_->address(), token ? http_config_ : "", args);
  }

  testutil::TempDir dir_;
  std::unique_ptr<testing::DispatcherBackend> backend_;
  std::unique_ptr<net::Server> server_;
  std::string http_config_;
};

TEST_F(AmtoolTest, AlertQuerySilenceAddQueryAndExpireWork) {
  // amtool alert add: a POST /api/v2/alerts with Go's zero times.
  AmtoolRun r = Amtool({"alert", "add", "alertname=RegionBurn", "region=eu-west-1", "slo=api",
                        "--annotation=summary=budget burning"});
  ASSERT_EQ(r.code, 0) << r.output;
  AmtoolRun other = Amtool({"alert", "add", "alertname=RegionBurn", "region=us-east-1"});
  ASSERT_EQ(other.code, 0) << other.output;
  ASSERT_EQ(backend_->Alerts().size(), 2u);

  r = Amtool({"alert", "query", "-o", "extended"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("region=\"eu-west-1\""));
  EXPECT_THAT(r.output, HasSubstr("region=\"us-east-1\""));
  EXPECT_THAT(r.output, HasSubstr("budget burning"));
  r = Amtool({"alert", "query", "region=eu-west-1", "-o", "extended"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("us-east-1")));

  // amtool silence add prints the new silence's id.
  r = Amtool({"silence", "add", "region=eu-west-1", "--comment=maintenance", "--author=ops",
              "--duration=1h"});
  ASSERT_EQ(r.code, 0) << r.output;
  std::string id = r.output;
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  auto silence = backend_->silences().Get(id);
  ASSERT_TRUE(silence.has_value()) << "no silence " << id << " in the store: " << r.output;
  EXPECT_EQ(alerting::MatchersToString(silence->matchers), R"({region="eu-west-1"})");
  EXPECT_EQ(silence->created_by, "ops");
  EXPECT_EQ(silence->comment, "maintenance");
  const core::Timestamp now = core::RealClock().Now();
  EXPECT_EQ(silence->State(now), alerting::SilenceState::kActive);
  EXPECT_GT(silence->ends_at, now + core::Duration::Minutes(59));

  // The silenced alert is suppressed: gone from the default (active) query, there with
  // --silenced.
  for (const auto& view : backend_->Alerts()) {
    const bool eu = view.alert.labels.Get("region") == "eu-west-1";
    EXPECT_EQ(view.silenced_by, eu ? std::vector<std::string>{id} : std::vector<std::string>{});
  }
  r = Amtool({"alert", "query", "-o", "extended"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("eu-west-1")));
  EXPECT_THAT(r.output, HasSubstr("us-east-1"));
  r = Amtool({"alert", "query", "--silenced", "-o", "extended"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("eu-west-1"));

  r = Amtool({"silence", "query"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(id));
  EXPECT_THAT(r.output, HasSubstr("maintenance"));
  r = Amtool({"silence", "query", "-q", "region=eu-west-1"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, id + "\n");
  r = Amtool({"silence", "query", "-q", "region=us-east-1"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "");

  r = Amtool({"silence", "expire", id});
  ASSERT_EQ(r.code, 0) << r.output;
  silence = backend_->silences().Get(id);
  ASSERT_TRUE(silence.has_value());
  EXPECT_EQ(silence->State(core::RealClock().Now() + core::Duration::Milliseconds(1)),
            alerting::SilenceState::kExpired);
  r = Amtool({"alert", "query", "-o", "extended"});
  EXPECT_THAT(r.output, HasSubstr("eu-west-1"));
  r = Amtool({"silence", "query", "--expired", "-q"});
  EXPECT_THAT(r.output, HasSubstr(id));
}

TEST_F(AmtoolTest, ConfigShowAndRoutesReadTheStatus) {
  AmtoolRun r = Amtool({"config", "show"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("receiver: pager"));
  // amtool parses config.original as an alertmanager.yml to draw the routing tree.
  r = Amtool({"config", "routes"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Routing tree:"));
  EXPECT_THAT(r.output, HasSubstr("default-route  receiver: pager"));
}

TEST_F(AmtoolTest, WritesWithoutTheTokenAreRefused) {
  AmtoolRun r =
      Amtool({"silence", "add", "region=eu-west-1", "--comment=c", "--author=ops"}, false);
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_TRUE(backend_->silences().List().empty());
  r = Amtool({"alert", "add", "alertname=X"}, false);
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_TRUE(backend_->Alerts().empty());
  // Reads need none.
  r = Amtool({"silence", "query"}, false);
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(AmtoolTest, AmtoolShowsTheReasonOfARefusal) {
  // An end before the start: amtool refuses it itself; one in the past nines
  // refuses with a reason amtool prints.
  AmtoolRun r = Amtool({"silence", "add", "region=x", "--comment=c", "--author=ops",
                        "--start=2020-01-01T00:00:00Z", "--end=2020-01-01T01:00:00Z"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("the end time can't be in the past")) << r.output;
}

}  // namespace
}  // namespace nines::api

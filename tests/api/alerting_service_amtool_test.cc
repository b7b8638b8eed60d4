// amtool against nines' Alertmanager API v2 served from the running alerting service (through a
// plain adapter, as app/ wires one): alert add, alert query, silence add, silence query and
// silence expire change and show the service's own state, and a silence added through the API is
// persisted in the service's state_dir (a new service on it has it).
// amtool stamps silences with the real time, so the service runs on the real clock and its own
// thread; waits are bounded conditions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "alerting/service.h"
#include "api/alertmanager_api.h"
#include "core/clock.h"
#include "tests/api/amtool_helpers.h"
#include "tests/testutil/testutil.h"

namespace nines::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The service as the API's backend, method for method.
class ServiceBackend final : public AlertmanagerBackend {
 public:
  explicit ServiceBackend(alerting::AlertingService& service) : service_(service) {}
  std::vector<alerting::AlertView> Alerts() const override { return service_.Alerts(); }
  std::vector<alerting::Dispatcher::GroupView> Groups() const override { return service_.Groups(); }
  std::vector<alerting::Silence> Silences() const override { return service_.silences().List(); }
  core::Result<std::string> AddSilence(alerting::Silence silence) override {
    return service_.AddSilence(std::move(silence));
  }
  core::Status ExpireSilence(const std::string& id) override { return service_.ExpireSilence(id); }
  std::vector<std::string> ReceiverNames() const override { return service_.ReceiverNames(); }
  AlertmanagerStatusInfo StatusInfo() const override {
    return {.config_original = "route:\n  receiver: pager\n"};
  }
  core::Status Receive(std::vector<alerting::Alert> alerts) override {
    service_.Send(alerts);
    return core::Status::Ok();
  }

 private:
  alerting::AlertingService& service_;
};

std::unique_ptr<alerting::AlertingService> StartService(const std::string& state_dir) {
  alerting::AlertingServiceOptions o;
  o.config.route.receiver = "pager";
  o.config.route.group_by = std::vector<std::string>{"region"};
  o.config.receivers = {{"pager", {}}};  // no integrations: nothing is sent anywhere
  o.state_dir = state_dir;
  o.sync = false;
  auto s = alerting::AlertingService::Start(std::move(o), core::RealClock());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

class AlertingServiceAmtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = StartService(dir_.File("state"));
    ASSERT_NE(service_, nullptr);
    backend_ = std::make_unique<ServiceBackend>(*service_);
    server_ = testing::ServeForAmtool(*backend_, dir_, &http_config_);
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::string Amtool(const std::vector<std::string>& args, int* code) {
    testing::AmtoolRun r = testing::RunAmtool(server_->address(), http_config_, args);
    *code = r.code;
    return r.output;
  }

  testutil::TempDir dir_;
  std::unique_ptr<alerting::AlertingService> service_;
  std::unique_ptr<ServiceBackend> backend_;
  std::unique_ptr<net::Server> server_;
  std::string http_config_;
};

TEST_F(AlertingServiceAmtoolTest, AmtoolReadsAndChangesTheServicesState) {
  int code = -1;
  std::string out = Amtool({"alert", "add", "alertname=RegionBurn", "region=eu-west-1",
                            "--annotation=summary=budget burning"},
                           &code);
  ASSERT_EQ(code, 0) << out;
  // POSTed alerts go through the service's inbox; its thread takes them in.
  ASSERT_TRUE(testutil::WaitFor([&] { return service_->Alerts().size() == 1; }));
  EXPECT_EQ(service_->Alerts()[0].receivers, std::vector<std::string>{"pager"});
  out = Amtool({"alert", "query", "-o", "extended"}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("region=\"eu-west-1\""));
  EXPECT_THAT(out, HasSubstr("budget burning"));

  out = Amtool({"silence", "add", "region=eu-west-1", "--comment=maintenance", "--author=ops",
                "--duration=2h"},
               &code);
  ASSERT_EQ(code, 0) << out;
  const std::string id = out.substr(0, out.find('\n'));
  ASSERT_TRUE(service_->silences().Get(id).has_value()) << out;
  ASSERT_EQ(service_->Alerts().size(), 1u);
  EXPECT_EQ(service_->Alerts()[0].silenced_by, std::vector<std::string>{id});
  out = Amtool({"alert", "query", "-o", "extended"}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, Not(HasSubstr("eu-west-1")));
  out = Amtool({"alert", "query", "--silenced", "-o", "extended"}, &code);
  EXPECT_THAT(out, HasSubstr("eu-west-1"));
  out = Amtool({"silence", "query", "-q"}, &code);
  EXPECT_EQ(out, id + "\n");

  // The silence is in the service's state: a service started on the same state_dir has it.
  {
    auto other = StartService(dir_.File("state"));
    ASSERT_NE(other, nullptr);
    auto restored = other->silences().Get(id);
    ASSERT_TRUE(restored.has_value());
    EXPECT_EQ(restored->comment, "maintenance");
    other->Stop(core::Duration::Seconds(1));
  }

  out = Amtool({"silence", "expire", id}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(service_->silences().Get(id)->State(core::RealClock().Now() +
                                                core::Duration::Milliseconds(1)),
            alerting::SilenceState::kExpired);
  out = Amtool({"alert", "query", "-o", "extended"}, &code);
  EXPECT_THAT(out, HasSubstr("eu-west-1"));
  out = Amtool({"silence", "query", "-q"}, &code);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace nines::api

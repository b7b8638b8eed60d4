// The demo's pager: what it prints for a page, its resolution and a ticket, and what it serves,
// with a real webhook POST over loopback.
#include "app/demo_pager.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "net/http_client.h"
#include "net/net.h"

namespace nines::app {
namespace {

const std::map<std::string, std::string> kPageLabels = {{"alertname", "SloBurnRate"},
                                                        {"region", "eu-west-1"},
                                                        {"severity", "page"},
                                                        {"slo", "api-availability"}};
const std::map<std::string, std::string> kBudget = {
    {"budget_remaining_ratio", "0.9312"}, {"long_burn_rate", "16.6667"}, {"window_pair", "1h/5m"}};

TEST(DemoPageLineTest, APageItsResolutionAndATicket) {
  EXPECT_EQ(DemoPageLine("firing", kPageLabels, kBudget),
            "PAGE eu-west-1 api-availability (SloBurnRate): 93.12% of the error budget left, "
            "burning 16.7x over 1h");
  EXPECT_EQ(DemoPageLine("resolved", kPageLabels, kBudget),
            "RESOLVED PAGE eu-west-1 api-availability (SloBurnRate): 93.12% of the error budget "
            "left - resolved");
  EXPECT_EQ(DemoPageLine("firing",
                         {{"alertname", "CheckFailingFromTwoLocations"},
                          {"region", "eu-west-1"},
                          {"severity", "ticket"}},
                         {{"summary", "api-eu-west-1 fails from 2 locations in eu-west-1"}}),
            "TICKET eu-west-1 CheckFailingFromTwoLocations: api-eu-west-1 fails from 2 locations "
            "in eu-west-1");
}

TEST(DemoPagerTest, PrintsAndServesWhatArrives) {
  std::mutex mu;
  std::vector<std::string> printed;
  auto pager = DemoPager::Start(core::RealClock(), [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    printed.push_back(line);
  });
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  net::HttpClient client(net::ClientOptions{});
  net::ClientRequest post{.method = "POST", .url = (*pager)->webhook_url()};
  post.body = R"({"version":"4","groupKey":"{}:{region=\"eu-west-1\"}","status":"firing",
    "receiver":"demo-pager","alerts":[{"status":"firing","labels":{"alertname":"SloBurnRate",
    "region":"eu-west-1","severity":"page","slo":"api-availability"},"annotations":
    {"budget_remaining_ratio":"0.5","long_burn_rate":"20","window_pair":"1h/5m"},
    "startsAt":"2026-12-07T10:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]})";
  auto answer = client.Do(post);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 200);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(printed, std::vector<std::string>{"PAGE eu-west-1 api-availability (SloBurnRate): "
                                                "50.00% of the error budget left, burning 20x "
                                                "over 1h"});
  }
  EXPECT_EQ((*pager)->received(), 1u);
  const net::Response pages = (*pager)->PagesResponse();
  EXPECT_EQ(pages.status, 200);
  EXPECT_EQ(pages.body.rfind(R"({"status":"success","data":[{"received_at":")", 0), 0u)
      << pages.body;
  EXPECT_NE(pages.body.find(R"("groupKey":"{}:{region=\"eu-west-1\"}")"), std::string::npos)
      << pages.body;
  EXPECT_NE(pages.body.find(R"("budget_remaining_ratio":"0.5")"), std::string::npos) << pages.body;

  post.body = "not json";
  answer = client.Do(post);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 400);
  post.body = std::string(256 * 1024, '[');  // deeper than any stack a recursive parse needs
  answer = client.Do(post);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 400);
  EXPECT_EQ((*pager)->received(), 1u);
  (*pager)->Shutdown();
}

}  // namespace
}  // namespace nines::app

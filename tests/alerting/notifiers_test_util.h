// Shared by the notifiers tests (notifiers_test.cc, notifiers_saas_test.cc): a notification of
// nines' SLO burn-rate alerts, integrations, and a fixture that builds and parses requests.
#ifndef NINES_TESTS_ALERTING_NOTIFIERS_TEST_UTIL_H_
#define NINES_TESTS_ALERTING_NOTIFIERS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/notifiers.h"
#include "alerting/notify_internal.h"
#include "alerting/template_set.h"

namespace nines::alerting::notifiers_test {

using core::Timestamp;

inline constexpr core::Timestamp kStart =
    Timestamp::FromUnixSeconds(1'796'641'200);  // 2026-12-07T11:00:00Z
inline constexpr char kGroupKey[] =
    "{}/{severity=\"page\"}:{alertname=\"SloBurnRate\", region=\"eu-west-1\", "
    "slo=\"api-availability\"}";
// sha256 of kGroupKey (Python's hashlib).
inline constexpr char kGroupKeyHash[] =
    "ffb933d9e020def830dab239cedeb88f55f295fb271989cc9d311b090fcf44d4";
inline constexpr char kExternalUrl[] = "http://nines.example.com:9099";

inline core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : core::Labels();
}

// An SLO burn-rate alert of nines' rule engine in `region`.
inline Alert SloAlert(std::string_view region, AlertStatus status) {
  Alert a;
  a.labels = L("{alertname=\"SloBurnRate\", region=\"" + std::string(region) +
               "\", service=\"api\", severity=\"page\", slo=\"api-availability\"}");
  a.annotations = {{"summary", "SLO api-availability in " + std::string(region) + " burns"},
                   {"budget_remaining", "12.5"},
                   {"budget_total", "43.2"},
                   {"budget_unit", "minutes"},
                   {"budget_remaining_ratio", "0.289352"},
                   {"long_burn_rate", "15.2"},
                   {"short_burn_rate", "41"},
                   {"window_pair", "1h/5m"},
                   {"exhaustion_at_1h_burn", "2026-12-07T12:49:00.000Z"}};
  a.status = status;
  a.starts_at = kStart;
  // As the dispatcher hands them over: a firing alert's ends_at is cleared (Go's zero time).
  a.ends_at = status == AlertStatus::kFiring
                  ? Timestamp()
                  : kStart + core::Duration::Seconds(1800) + core::Duration::Milliseconds(250);
  a.generator_url = "http://nines.example.com:9099/api/v1/slos/api-availability";
  return a;
}

inline Notification MakeNotification(IntegrationKind kind, std::vector<Alert> alerts) {
  Notification n;
  n.receiver = "oncall";
  n.integration_index = 0;
  n.integration_kind = kind;
  n.group_key = kGroupKey;
  n.group_labels = L("{alertname=\"SloBurnRate\", region=\"eu-west-1\", slo=\"api-availability\"}");
  n.alerts = std::move(alerts);
  n.at = kStart + core::Duration::Seconds(30);
  return n;
}

inline Integration MakeIntegration(IntegrationKind kind, std::map<std::string, std::string> fields,
                                   bool send_resolved = true) {
  Integration i;
  i.kind = kind;
  i.send_resolved = send_resolved;
  i.fields = std::move(fields);
  return i;
}

class NotifiersTest : public ::testing::Test {
 protected:
  core::Result<std::vector<OutgoingRequest>> Build(const Notification& n, const Integration& i,
                                                   const GlobalConfig& g = {}) {
    return BuildRequests(n, i, g, context_);
  }

  // The one request `n` makes, with its JSON body parsed into `doc`.
  OutgoingRequest One(const Notification& n, const Integration& i, rapidjson::Document* doc,
                      const GlobalConfig& g = {}) {
    auto reqs = Build(n, i, g);
    EXPECT_TRUE(reqs.ok()) << reqs.status().ToString();
    if (!reqs.ok() || reqs->size() != 1) {
      ADD_FAILURE() << "want one request";
      return {};
    }
    const OutgoingRequest& r = (*reqs)[0];
    if (doc != nullptr) {
      doc->Parse(r.http.body.c_str());
      EXPECT_FALSE(doc->HasParseError()) << r.http.body;
    }
    return r;
  }

  TemplateSet templates_;
  NotifyContext context_{kExternalUrl, &templates_};
};

inline std::string Str(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject() || !v.HasMember(name) || !v[name].IsString()) {
    ADD_FAILURE() << "no string member " << name;
    return "";
  }
  return v[name].GetString();
}

}  // namespace nines::alerting::notifiers_test

#endif  // NINES_TESTS_ALERTING_NOTIFIERS_TEST_UTIL_H_

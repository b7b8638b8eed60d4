// Small builders shared by the alerting tests of the notification log, the persisted state and
// the service: labels, matchers, alerts and configs from short literals.
#ifndef NINES_TESTS_ALERTING_TEST_HELPERS_H_
#define NINES_TESTS_ALERTING_TEST_HELPERS_H_

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alerting/alerting.h"
#include "alerting/routing.h"
#include "core/labels.h"
#include "core/time.h"

namespace nines::alerting::testing {

inline core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text << ": " << l.status().ToString();
  return l.ok() ? *l : core::Labels();
}

inline Matchers M(std::string_view text) {
  auto m = ParseMatchers(text);
  EXPECT_TRUE(m.ok()) << text << ": " << m.status().ToString();
  if (!m.ok()) return {};
  SortMatchers(&*m);
  return *m;
}

inline core::Timestamp At(std::string_view rfc3339) {
  auto t = core::ParseTimestamp(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : core::Timestamp();
}

inline Integration WebhookIntegration(std::string url, bool send_resolved = true) {
  Integration i;
  i.kind = IntegrationKind::kWebhook;
  i.send_resolved = send_resolved;
  i.fields["url"] = std::move(url);
  return i;
}

inline RouteConfig Root(std::vector<std::string> group_by, core::Duration wait,
                        core::Duration interval, core::Duration repeat) {
  RouteConfig r;
  r.receiver = "default";
  r.group_by = std::move(group_by);
  r.group_wait = wait;
  r.group_interval = interval;
  r.repeat_interval = repeat;
  return r;
}

// A firing alert as the engine sends it at `now`: valid for four evaluations of one minute.
inline Alert Firing(std::string_view labels, core::Timestamp starts_at, core::Timestamp now) {
  Alert a;
  a.labels = L(labels);
  a.status = AlertStatus::kFiring;
  a.starts_at = starts_at;
  a.ends_at = now + core::Duration::Minutes(4);
  a.annotations["summary"] = "burning";
  return a;
}

inline Alert Resolved(std::string_view labels, core::Timestamp starts_at, core::Timestamp now) {
  Alert a = Firing(labels, starts_at, now);
  a.status = AlertStatus::kResolved;
  a.ends_at = now;
  return a;
}

}  // namespace nines::alerting::testing

#endif  // NINES_TESTS_ALERTING_TEST_HELPERS_H_

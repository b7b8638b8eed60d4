// Fuzzes the bodies and query strings of nines' Alertmanager API v2 (api/alertmanager_api.h),
// which anyone who can reach the port sends: postableAlerts, postableSilence and the alert
// filter parameters must parse to a value or an INVALID_ARGUMENT naming the field, never crash
// or hang (RapidJSON parses iteratively, so no nesting exhausts the stack).
#include <cstdint>
#include <string>
#include <string_view>

#include "api/alertmanager_api.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto now = nines::core::Timestamp::FromUnixSeconds(1765126950);

  auto alerts = nines::api::ParsePostableAlerts(input, now);
  if (alerts.ok()) {
    for (const auto& a : alerts->valid) FUZZ_CHECK(!a.labels.empty(), "an alert without labels");
  } else {
    FUZZ_CHECK(alerts.status().code() == nines::core::StatusCode::kInvalidArgument,
               alerts.status().ToString().c_str());
  }
  auto silence = nines::api::ParsePostableSilence(input);
  if (silence.ok()) {
    FUZZ_CHECK(!silence->matchers.empty(), "a silence without matchers");
  } else {
    FUZZ_CHECK(silence.status().code() == nines::core::StatusCode::kInvalidArgument,
               silence.status().ToString().c_str());
  }
  auto filter = nines::api::ParseAlertmanagerAlertFilter(input);
  if (!filter.ok()) {
    FUZZ_CHECK(filter.status().code() == nines::core::StatusCode::kInvalidArgument,
               filter.status().ToString().c_str());
  }
  return 0;
}

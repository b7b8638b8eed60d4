// Fuzzes the Go-template engine (alerting::Template), which reads the templated text fields of
// a user's Alertmanager configuration, and TemplateSet, which reads its template files
// ({{define}}, {{template}}, {{block}}): whatever parses must execute to an output or an error
// Status within the budget, never crash, hang or exceed the output limit.
#include <cstdint>
#include <string>
#include <string_view>

#include "alerting/template.h"
#include "alerting/template_set.h"
#include "fuzz/fuzz_check.h"

namespace {

nines::alerting::TemplateData Data() {
  nines::alerting::TemplateData d;
  d.receiver = "pager";
  d.status = "firing";
  d.external_url = "http://nines";
  d.group_labels = {{"alertname", "SLOBurn"}};
  d.common_labels = {{"alertname", "SLOBurn"}, {"slo", "api"}};
  d.common_annotations = {{"summary", "burning"}};
  nines::alerting::TemplateAlert a;
  a.status = "firing";
  a.labels = {{"alertname", "SLOBurn"}, {"region", "eu-west-1"}};
  a.annotations = {{"summary", "burning in eu-west-1"}};
  a.starts_at = nines::core::Timestamp::FromUnixSeconds(1765126950);
  a.fingerprint = "1b9e3c6a2f0d4e57";
  d.alerts.push_back(a);
  a.status = "resolved";
  a.labels["region"] = "us-east-1";
  d.alerts.push_back(a);
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nines::alerting::TemplateData kData = Data();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nines::alerting::TemplateOptions options;
  options.max_output_bytes = 64 << 10;
  options.max_steps = 100'000;
  auto check = [&](const nines::core::Result<std::string>& out) {
    if (out.ok()) {
      FUZZ_CHECK(out->size() <= options.max_output_bytes, "output over the limit");
    } else {
      FUZZ_CHECK(out.status().code() == nines::core::StatusCode::kInvalidArgument ||
                     out.status().code() == nines::core::StatusCode::kResourceExhausted,
                 out.status().ToString().c_str());
    }
  };
  auto t = nines::alerting::Template::Parse(text, options);
  if (!t.ok()) {
    FUZZ_CHECK(t.status().code() == nines::core::StatusCode::kInvalidArgument,
               t.status().ToString().c_str());
  } else {
    check(t->Execute(kData));
  }
  // The same bytes as a template file, then each of its definitions and a built-in one called
  // from a field, as text and as HTML.
  nines::alerting::TemplateSet set(options);
  nines::core::Status added = set.AddFile(text, "fuzz.tmpl");
  FUZZ_CHECK(added.ok() || added.code() == nines::core::StatusCode::kInvalidArgument,
             added.ToString().c_str());
  if (!added.ok()) return 0;
  for (const char* field : {"{{ template \"x\" . }}", "{{ template \"y\" .Alerts }}",
                            "{{ template \"slack.default.text\" . }}"}) {
    nines::core::Status checked = set.Check(field);
    FUZZ_CHECK(checked.ok() || checked.code() == nines::core::StatusCode::kInvalidArgument,
               checked.ToString().c_str());
    check(set.Execute(field, kData));
    check(set.ExecuteHtml(field, kData));
  }
  return 0;
}

// The check and scrape-target documents (api/json.h), from the collector's status structs.
#include <fmt/format.h>

#include "api/json.h"
#include "core/json.h"

namespace nines::api {

std::string CheckStatusesJson(const std::vector<collector::CheckStatus>& statuses) {
  std::string out = R"({"status":"success","data":[)";
  bool first = true;
  for (const collector::CheckStatus& s : statuses) {
    if (!s.check) continue;
    if (!first) out += ',';
    first = false;
    const collector::CheckSpec& c = *s.check;
    out += "{\"probe\":";
    core::AppendJsonString(&out, c.name);
    out += ",\"service\":";
    core::AppendJsonString(&out, c.service);
    out += ",\"kind\":";
    core::AppendJsonString(&out, collector::CheckKindName(c.kind));
    out += ",\"target\":";
    core::AppendJsonString(&out, c.target);
    out += ",\"region\":";
    core::AppendJsonString(&out, c.region);
    out += ",\"location\":";
    core::AppendJsonString(&out, c.location);
    out += fmt::format(",\"interval_seconds\":{}", c.interval.SecondsDouble());
    if (s.has_result) {
      out += ",\"last_run\":";
      core::AppendJsonString(&out, s.last_due.ToRfc3339());
      out += fmt::format(",\"success\":{},\"duration_seconds\":{}", s.last.success ? "true" : "false",
                         s.last.duration.SecondsDouble());
      out += ",\"reason\":";
      core::AppendJsonString(&out, s.last.reason);
    } else {
      out += ",\"last_run\":null,\"success\":null,\"duration_seconds\":null,\"reason\":\"\"";
    }
    out += ",\"last_success\":";
    if (s.last_success.UnixNanos() != 0) {
      core::AppendJsonString(&out, s.last_success.ToRfc3339());
    } else {
      out += "null";
    }
    out += fmt::format(",\"runs\":{},\"failures\":{},\"skipped\":{}}}", s.runs, s.failures,
                       s.skipped);
  }
  out += "]}";
  return out;
}

std::string LatestResultsJson(const std::vector<collector::LatestCheckResult>& results) {
  std::string out = R"({"status":"success","data":[)";
  bool first = true;
  for (const collector::LatestCheckResult& c : results) {
    if (!first) out += ',';
    first = false;
    out += "{";
    for (const char* label : {"probe", "service", "target", "region", "location"}) {
      out += fmt::format("\"{}\":", label);
      core::AppendJsonString(&out, c.labels.Get(label));
      out += ',';
    }
    out += "\"last_run\":";
    core::AppendJsonString(&out, c.last_run.ToRfc3339());
    out += fmt::format(",\"success\":{},\"reason\":", c.success ? "true" : "false");
    core::AppendJsonString(&out, c.reason);
    out += "}";
  }
  out += "]}";
  return out;
}

std::string ScrapeTargetsJson(const std::vector<collector::ScrapeTargetStatus>& targets) {
  std::string out = R"({"status":"success","data":{"activeTargets":[)";
  bool first = true;
  for (const collector::ScrapeTargetStatus& t : targets) {
    if (!first) out += ',';
    first = false;
    out += "{\"labels\":";
    core::AppendJsonLabels(&out, t.target_labels);
    out += ",\"scrapePool\":";
    core::AppendJsonString(&out, t.spec.job);
    out += ",\"scrapeUrl\":";
    core::AppendJsonString(&out, t.spec.url);
    out += ",\"lastError\":";
    core::AppendJsonString(&out, t.last_error);
    out += ",\"lastScrape\":";
    if (t.has_result) {
      core::AppendJsonString(&out, t.last_scrape.ToRfc3339());
    } else {
      out += "null";
    }
    out += fmt::format(",\"lastScrapeDuration\":{}", t.last_duration.SecondsDouble());
    out += fmt::format(",\"health\":\"{}\"", !t.has_result ? "unknown" : t.up ? "up" : "down");
    out += ",\"scrapeInterval\":";
    core::AppendJsonString(&out, t.spec.interval.ToString());
    out += ",\"scrapeTimeout\":";
    core::AppendJsonString(&out, t.spec.timeout.ToString());
    out += fmt::format(",\"scrapes\":{},\"failures\":{},\"skipped\":{}}}", t.scrapes, t.failures,
                       t.skipped);
  }
  out += "],\"droppedTargets\":[]}}";
  return out;
}

}  // namespace nines::api

// The landing page (api/api.h).
#include <fmt/format.h>

#include <string_view>

#include "api/api.h"

namespace nines::api {
namespace {

void AppendHtmlEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': *out += "&amp;"; break;
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '"': *out += "&quot;"; break;
      case '\'': *out += "&#39;"; break;
      default: out->push_back(c);
    }
  }
}

}  // namespace

std::string LandingPageHtml(const LandingPage& page) {
  std::string html = R"(<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>nines</title><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{margin-bottom:0}.sub{color:#5b6478;margin-top:.2rem}code{background:#f1f3f7;padding:.1rem .3rem;border-radius:4px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6ec}
a{color:#1a5fd0}</style></head><body>
<h1>nines</h1><p class="sub">availability monitoring and SLOs &middot; version )";
  html += NINES_VERSION;
  html += " &middot; ";
  AppendHtmlEscaped(&html, page.mode);
  html += fmt::format(R"(</p>
<h2>Objective</h2><p>Default objective <b>{}%</b> over a rolling <b>{}</b>: an error budget of
<b>{:.1f} minutes</b> per window.</p>
<h2>Regions</h2>)",
                      page.default_objective, page.default_window.ToString(),
                      (100.0 - page.default_objective) / 100.0 *
                          page.default_window.SecondsDouble() / 60.0);
  if (page.regions.empty()) {
    html += "<p>No regions configured yet.</p>";
  } else {
    html += "<table><tr><th>Region</th><th>Name</th><th>Probe locations</th></tr>";
    for (const LandingPage::Region& r : page.regions) {
      html += "<tr><td><code>";
      AppendHtmlEscaped(&html, r.name);
      html += "</code></td><td>";
      AppendHtmlEscaped(&html, r.display_name.empty() ? r.name : r.display_name);
      html += "</td><td>";
      for (size_t i = 0; i < r.locations.size(); ++i) {
        if (i > 0) html += ", ";
        AppendHtmlEscaped(&html, r.locations[i]);
      }
      html += "</td></tr>";
    }
    html += "</table>";
  }
  html += R"(
<h2>Endpoints</h2><ul>
<li><a href="/metrics">/metrics</a>: nines' own metrics, Prometheus text format</li>
<li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a>: liveness and readiness</li>
<li><a href="/api/v1/status/buildinfo">/api/v1/status/buildinfo</a>: version</li>
<li><a href="/api/v1/samples?match[]=nines_http_requests_total">/api/v1/samples?match[]=nines_http_requests_total</a>:
nines' own request counters, as it writes them into its store every
<code>storage.self_scrape_interval</code></li>
<li><code>POST /api/v1/write</code>: Prometheus remote write 1.0 (write token)</li>
<li><a href="/api/v1/labels">/api/v1/labels</a>, <code>/api/v1/label/NAME/values</code>,
<code>/api/v1/series?match[]=</code>: the series index</li>
<li><code>/api/v1/samples?match[]=&amp;start=&amp;end=</code>: raw samples;
<code>/api/v1/rollup?match[]=&amp;start=&amp;end=&amp;step=&amp;fn=</code>: exact window aggregates</li>
<li><code>POST /api/v1/admin/tsdb/delete_series?match[]=</code>: delete series (admin token)</li>
<li><code>POST /-/reload</code>: reload the config file (admin token)</li>
</ul></body></html>
)";
  return html;
}

}  // namespace nines::api

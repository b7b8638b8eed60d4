#include "api/read_api.h"

#include <charconv>
#include <cmath>
#include <set>

#include "api/api.h"
#include "core/json.h"
#include "core/time.h"

namespace nines::api {

using store::Matcher;
using store::Reader;
using store::SeriesSamples;
using store::Store;
using store::WindowAggregate;

namespace {

constexpr int64_t kMinMs = std::numeric_limits<int64_t>::min() / 2;
constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / 2;

net::Response BadData(std::string_view reason) {
  return ErrorResponse(core::InvalidArgumentError("{}", reason));
}

net::Response Success(std::string data_json, std::string_view warning = {}) {
  std::string body = R"({"status":"success","data":)" + data_json;
  if (!warning.empty()) {
    body += R"(,"warnings":[)";
    core::AppendJsonString(&body, warning);
    body += "]";
  }
  body += "}";
  return net::Response::Json(200, std::move(body));
}

// Parses the optional time parameter `name`; absent gives `fallback`.
core::Result<int64_t> TimeParam(const net::Request& req, std::string_view name, int64_t fallback) {
  std::string text = req.FormValue(name);
  if (text.empty()) return fallback;
  auto t = core::ParseTimestamp(text);
  if (!t.ok()) return core::InvalidArgumentError("parameter {}: {}", name, t.status().message());
  return t->UnixMillis();
}

core::Result<std::vector<std::vector<Matcher>>> MatchParams(const net::Request& req) {
  std::vector<std::string> texts = req.FormValues("match[]");
  if (texts.empty()) return core::InvalidArgumentError("no match[] parameter given");
  std::vector<std::vector<Matcher>> out;
  for (const std::string& text : texts) {
    auto sel = store::ParseSelector(text);
    if (!sel.ok()) return core::InvalidArgumentError("match[]: {}", sel.status().message());
    out.push_back(std::move(*sel));
  }
  return out;
}

// The selectors and time range every series read takes: match[] (one or more), start and end
// (each optional unless `require_range`; absent, they take the defaults given).
struct RangeQuery {
  std::vector<std::vector<Matcher>> selectors;
  int64_t start = kMinMs;
  int64_t end = kMaxMs;
};

struct RangeDefaults {
  bool require_range = false;
  int64_t end = kMaxMs;
  // Absent start: this long before end, or unbounded when zero.
  int64_t range_ms = 0;
};

core::Result<RangeQuery> ParseRangeQuery(const net::Request& req, RangeDefaults defaults = {}) {
  RangeQuery q;
  ASSIGN_OR_RETURN(q.selectors, MatchParams(req));
  if (defaults.require_range && (req.FormValue("start").empty() || req.FormValue("end").empty())) {
    return core::InvalidArgumentError("start and end are required");
  }
  ASSIGN_OR_RETURN(q.end, TimeParam(req, "end", defaults.end));
  ASSIGN_OR_RETURN(q.start,
                   TimeParam(req, "start", defaults.range_ms > 0 ? q.end - defaults.range_ms : kMinMs));
  if (q.end < q.start) return core::InvalidArgumentError("end is before start");
  return q;
}

// The limit parameter as Prometheus takes it: absent gives `fallback`, 0 means no limit.
core::Result<int64_t> LimitParam(const net::Request& req, int64_t fallback) {
  std::string text = req.FormValue("limit");
  if (text.empty()) return fallback;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) {
    return core::InvalidArgumentError("parameter limit: want a non-negative integer, got \"{}\"",
                                      text);
  }
  return n == 0 ? std::numeric_limits<int64_t>::max() : n;
}

constexpr std::string_view kTruncated = "results truncated due to limit";

void AppendStringArray(std::string* out, const std::vector<std::string>& values) {
  out->push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back(',');
    core::AppendJsonString(out, values[i]);
  }
  out->push_back(']');
}

void AppendTimestamp(std::string* out, int64_t ms) {
  // Seconds with millisecond precision, as Prometheus writes them: 1700000000.123
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t frac = ms - secs * 1000;
  if (frac == 0) {
    *out += fmt::format("{}", secs);
  } else {
    std::string f = fmt::format("{:03}", frac);
    while (f.back() == '0') f.pop_back();
    *out += fmt::format("{}.{}", secs, f);
  }
}

// Series matching any of the selectors, each once, sorted.
core::Result<std::vector<SeriesSamples>> SelectAll(Store& store,
                                                   const std::vector<std::vector<Matcher>>& sels,
                                                   int64_t start, int64_t end) {
  std::vector<SeriesSamples> all;
  for (const auto& sel : sels) {
    ASSIGN_OR_RETURN(auto part, store.Select(sel, start, end));
    for (auto& s : part) all.push_back(std::move(s));
  }
  std::sort(all.begin(), all.end(),
            [](const SeriesSamples& a, const SeriesSamples& b) { return a.labels < b.labels; });
  all.erase(std::unique(all.begin(), all.end(),
                        [](const SeriesSamples& a, const SeriesSamples& b) {
                          return a.labels == b.labels;
                        }),
            all.end());
  return all;
}

// The series matching any of the selectors with a sample in [start, end], each once, sorted.
core::Result<std::vector<core::Labels>> SeriesAll(Store& store,
                                                  const std::vector<std::vector<Matcher>>& sels,
                                                  int64_t start, int64_t end) {
  std::vector<core::Labels> all;
  for (const auto& sel : sels) {
    ASSIGN_OR_RETURN(auto part, store.Series(sel, start, end));
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

enum class Fn { kCount, kSum, kMin, kMax, kLast, kAvg, kIncrease };

core::Result<Fn> ParseFn(std::string_view text) {
  if (text == "count") return Fn::kCount;
  if (text == "sum") return Fn::kSum;
  if (text == "min") return Fn::kMin;
  if (text == "max") return Fn::kMax;
  if (text == "last") return Fn::kLast;
  if (text == "avg") return Fn::kAvg;
  if (text == "increase") return Fn::kIncrease;
  return core::InvalidArgumentError(
      "parameter fn: unknown function \"{}\" (want count, sum, min, max, last, avg or increase)",
      text);
}

double Apply(Fn fn, const WindowAggregate& w) {
  switch (fn) {
    case Fn::kCount: return static_cast<double>(w.count);
    case Fn::kSum: return w.sum;
    case Fn::kMin: return w.min;
    case Fn::kMax: return w.max;
    case Fn::kLast: return w.last;
    case Fn::kAvg: return w.sum / static_cast<double>(w.count);
    case Fn::kIncrease: return w.increase;
  }
  return 0;
}

// Truncates `values` to `limit` entries; returns the warning to send, if any.
template <typename T>
std::string_view Truncate(std::vector<T>* values, int64_t limit) {
  if (static_cast<int64_t>(values->size()) <= limit) return {};
  values->resize(static_cast<size_t>(limit));
  return kTruncated;
}

// Label names (or the values of label `name`, when given) of the series matching the request's
// match[] parameters in its range, or of the whole store when there is no match[].
core::Result<std::vector<std::string>> LabelsAnswer(Store& store, const net::Request& req,
                                                    std::string_view name) {
  if (req.FormValues("match[]").empty()) {
    if (name.empty()) return store.LabelNames();
    return store.LabelValues(name);
  }
  ASSIGN_OR_RETURN(RangeQuery q, ParseRangeQuery(req));
  ASSIGN_OR_RETURN(auto series, SeriesAll(store, q.selectors, q.start, q.end));
  std::set<std::string, std::less<>> found;
  for (const core::Labels& labels : series) {
    for (const core::Label& l : labels) {
      if (name.empty()) {
        found.emplace(l.name);
      } else if (l.name == name) {
        found.emplace(l.value);
      }
    }
  }
  return std::vector<std::string>(found.begin(), found.end());
}

net::Response StringArrayAnswer(core::Result<std::vector<std::string>> values,
                                const net::Request& req) {
  if (!values.ok()) return ErrorResponse(values.status());
  auto limit = LimitParam(req, std::numeric_limits<int64_t>::max());
  if (!limit.ok()) return ErrorResponse(limit.status());
  std::string_view warning = Truncate(&*values, *limit);
  std::string out;
  AppendStringArray(&out, *values);
  return Success(std::move(out), warning);
}


// GET /api/v1/series: the label sets of the series that match, in the time range.
net::Response SeriesAnswer(Store& store, const net::Request& req) {
  auto q = ParseRangeQuery(req);
  if (!q.ok()) return ErrorResponse(q.status());
  auto limit = LimitParam(req, std::numeric_limits<int64_t>::max());
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto all = SeriesAll(store, q->selectors, q->start, q->end);
  if (!all.ok()) return ErrorResponse(all.status());
  std::string_view warning = Truncate(&*all, *limit);
  std::string out = "[";
  for (size_t i = 0; i < all->size(); ++i) {
    if (i > 0) out.push_back(',');
    core::AppendJsonLabels(&out, (*all)[i]);
  }
  out.push_back(']');
  return Success(std::move(out), warning);
}

// GET /api/v1/samples: the raw samples of the series that match, as a Prometheus matrix.
net::Response SamplesAnswer(Store& store, core::Clock& clock, const ReadApiOptions& options,
                            const net::Request& req) {
  RangeDefaults defaults;
  defaults.end = clock.Now().UnixMillis();
  defaults.range_ms = options.default_range.millis();
  auto q = ParseRangeQuery(req, defaults);
  if (!q.ok()) return ErrorResponse(q.status());
  auto limit = LimitParam(req, options.default_series_limit);
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto all = SelectAll(store, q->selectors, q->start, q->end);
  if (!all.ok()) return ErrorResponse(all.status());
  std::string_view warning = Truncate(&*all, *limit);
  int64_t total = 0;
  for (const auto& s : *all) total += static_cast<int64_t>(s.samples.size());
  if (total > options.max_samples) {
    return net::Response::Error(
        422, fmt::format("the answer would hold {} samples, over the limit of {}; "
                         "narrow the selector or the time range",
                         total, options.max_samples));
  }
  std::string out = R"({"resultType":"matrix","result":[)";
  for (size_t i = 0; i < all->size(); ++i) {
    const SeriesSamples& s = (*all)[i];
    if (i > 0) out.push_back(',');
    out += R"({"metric":)";
    core::AppendJsonLabels(&out, s.labels);
    out += R"(,"values":[)";
    for (size_t j = 0; j < s.samples.size(); ++j) {
      if (j > 0) out.push_back(',');
      out.push_back('[');
      AppendTimestamp(&out, s.samples[j].timestamp_ms);
      out += ",\"";
      AppendPromValue(&out, s.samples[j].value);
      out += "\"]";
    }
    out += "]}";
  }
  out += "]}";
  return Success(std::move(out), warning);
}

// GET /api/v1/rollup: one aggregate (fn, default count) per step of each matching series.
net::Response RollupAnswer(Store& store, const ReadApiOptions& options, const net::Request& req) {
  auto q = ParseRangeQuery(req, {.require_range = true});
  if (!q.ok()) return ErrorResponse(q.status());
  if (q->end == q->start) return BadData("end must be after start");
  std::string step_text = req.FormValue("step");
  core::Duration step = core::Duration::Hours(1);
  if (!step_text.empty()) {
    auto parsed = core::ParseApiDuration(step_text);
    if (!parsed.ok()) return BadData("parameter step: " + parsed.status().message());
    step = *parsed;
  }
  if (step.millis() <= 0) return BadData("parameter step: must be at least 1ms");
  int64_t steps = (q->end - q->start + step.millis() - 1) / step.millis();
  if (steps > options.max_steps) {
    return BadData(fmt::format("{} steps of {} exceed the limit of {}; use a larger step", steps,
                               step.ToString(), options.max_steps));
  }
  std::string fn_text = req.FormValue("fn");
  auto fn = ParseFn(fn_text.empty() ? "count" : fn_text);
  if (!fn.ok()) return ErrorResponse(fn.status());
  auto found = SeriesAll(store, q->selectors, q->start, q->end - 1);
  if (!found.ok()) return ErrorResponse(found.status());
  const std::vector<core::Labels>& all = *found;
  if (static_cast<int64_t>(all.size()) * steps > options.max_samples) {
    return net::Response::Error(422, "too many points; narrow the selector or time range");
  }
  std::string out = R"({"resultType":"matrix","result":[)";
  // Only min and max need the rollups scanned; the rest come from running totals.
  const Reader::Fields fields =
      *fn == Fn::kMin || *fn == Fn::kMax ? Reader::Fields::kAll : Reader::Fields::kCounts;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += R"({"metric":)";
    core::AppendJsonLabels(&out, all[i]);
    out += R"(,"values":[)";
    bool first = true;
    for (int64_t a = q->start; a < q->end; a += step.millis()) {
      int64_t b = std::min(q->end, a + step.millis());
      auto agg = store.Aggregate(all[i], a, b, fields);
      if (!agg.ok()) return ErrorResponse(agg.status());
      if (agg->count == 0) continue;
      if (!first) out.push_back(',');
      first = false;
      out.push_back('[');
      AppendTimestamp(&out, b);
      out += ",\"";
      AppendPromValue(&out, Apply(*fn, *agg));
      out += "\"]";
    }
    out += "]}";
  }
  out += "]}";
  return Success(std::move(out));
}

// POST /api/v1/admin/tsdb/delete_series: deletes every series that a match[] selects.
net::Response DeleteSeriesAnswer(Store& store, const net::Request& req) {
  auto sels = MatchParams(req);
  if (!sels.ok()) return ErrorResponse(sels.status());
  for (const auto& sel : *sels) {
    auto n = store.DeleteSeries(sel);
    if (!n.ok()) return ErrorResponse(n.status());
  }
  net::Response r;
  r.status = 204;
  return r;
}

}  // namespace

void AppendPromValue(std::string* out, double v) {
  if (std::isnan(v)) {
    *out += "NaN";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
  } else {
    *out += fmt::format("{}", v);
  }
}

void RegisterReadApi(store::Store& store, net::Router& router, core::Clock& clock,
                     ReadApiOptions options) {
  // The read routes take GET, and POST with a form body, as Prometheus' do.
  auto read = [&router](std::string_view path, const net::Handler& handler) {
    router.Handle("GET", std::string(path), net::Access::kPublic, handler);
    router.Handle("POST", std::string(path), net::Access::kPublic, handler);
  };
  read("/api/v1/labels", [&store](const net::Request& req) {
    return StringArrayAnswer(LabelsAnswer(store, req, {}), req);
  });
  router.Handle("GET", "/api/v1/label/{name}/values", net::Access::kPublic,
                [&store](const net::Request& req) {
                  std::string_view name = req.PathParam("name");
                  if (!core::IsValidLabelName(name)) {
                    return BadData(fmt::format("invalid label name \"{}\"", name));
                  }
                  return StringArrayAnswer(LabelsAnswer(store, req, name), req);
                });
  read("/api/v1/series", [&store](const net::Request& req) { return SeriesAnswer(store, req); });
  read("/api/v1/samples", [&store, &clock, options](const net::Request& req) {
    return SamplesAnswer(store, clock, options, req);
  });
  read("/api/v1/rollup", [&store, options](const net::Request& req) {
    return RollupAnswer(store, options, req);
  });
  router.Handle(
      "POST", "/api/v1/admin/tsdb/delete_series", net::Access::kAdmin,
      [&store](const net::Request& req) { return DeleteSeriesAnswer(store, req); });
}

}  // namespace nines::api

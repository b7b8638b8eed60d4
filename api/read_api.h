// api/read_api.h: the store's HTTP read and admin API, in the Prometheus HTTP API's JSON shapes
// (no PromQL):
//
//   GET|POST /api/v1/series?match[]=SEL&start=T&end=T&limit=N   {"status":"success","data":[{labels}]}
//   GET|POST /api/v1/labels?match[]=SEL&start=T&end=T&limit=N   {"status":"success","data":[names]}
//   GET      /api/v1/label/{name}/values?match[]=SEL&start=T&end=T&limit=N
//                                                                {"status":"success","data":[values]}
//   GET|POST /api/v1/samples?match[]=SEL&start=T&end=T&limit=N  raw samples, resultType "matrix"
//   GET|POST /api/v1/rollup?match[]=SEL&start=T&end=T&step=D&fn=F
//        exact per-step window aggregates, resultType "matrix"; F is one of count, sum, min,
//        max, last, avg, increase; each point is stamped with its step's end
//   POST /api/v1/admin/tsdb/delete_series?match[]=SEL    (admin) 204
//
// As in Prometheus, POST takes the same parameters as an application/x-www-form-urlencoded body
// (for selectors too long for a URL); match[] on labels and label values restricts them to the
// matching series; limit=N (0: none) truncates an answer to N entries (N series for samples) and
// says so in "warnings". /api/v1/samples without start reads the `default_range` before end, and
// end defaults to the clock's now; it returns at most `default_series_limit` series unless limit
// says otherwise.
//
// T is RFC 3339 or Unix seconds; D a Prometheus duration or plain seconds ("5m", "300", "0.5").
// A bad parameter is a 400 naming it; an answer over the sample limit is a 422; a store error is
// answered with api::HttpStatusFor (api/api.h). Thread-safe;
// `store` and `clock` must outlive the router.
#ifndef NINES_API_READ_API_H_
#define NINES_API_READ_API_H_

#include <cstdint>

#include "net/net.h"
#include "store/store.h"

namespace nines::api {

struct ReadApiOptions {
  // Most samples (or rollup points) one read may return.
  int64_t max_samples = 5'000'000;
  // What /api/v1/samples reads before `end` when no start is given.
  core::Duration default_range = core::Duration::Hours(1);
  // Most series /api/v1/samples returns when no limit is given.
  int64_t default_series_limit = 10'000;
  // Most steps one rollup read may compute per series.
  int64_t max_steps = 11'000;
};

// Registers the routes above on `router`.
void RegisterReadApi(store::Store& store, net::Router& router, core::Clock& clock,
                     ReadApiOptions options = {});

// Appends `v` as Prometheus formats sample values in JSON strings: shortest round-trip form,
// "NaN", "+Inf", "-Inf".
void AppendPromValue(std::string* out, double v);

}  // namespace nines::api

#endif  // NINES_API_READ_API_H_

// The store's HTTP read and admin API, in the Prometheus HTTP API's JSON shapes (no PromQL):
//
//   GET  /api/v1/series?match[]=SEL&start=T&end=T        {"status":"success","data":[{labels}]}
//   GET  /api/v1/labels                                   {"status":"success","data":[names]}
//   GET  /api/v1/label/{name}/values                      {"status":"success","data":[values]}
//   GET  /api/v1/samples?match[]=SEL&start=T&end=T        raw samples, resultType "matrix"
//   GET  /api/v1/rollup?match[]=SEL&start=T&end=T&step=D&fn=F
//        exact per-step window aggregates, resultType "matrix"; F is one of count, sum, min,
//        max, last, avg, increase; each point is stamped with its step's end
//   POST /api/v1/admin/tsdb/delete_series?match[]=SEL    (admin) 204
//
// T is RFC 3339 or Unix seconds; D a Prometheus duration. A bad parameter is a 400 naming it;
// an answer over the sample limit is a 422. Thread-safe; `store` must outlive the router.
#ifndef NINES_STORE_HTTP_API_H_
#define NINES_STORE_HTTP_API_H_

#include <cstdint>

#include "net/net.h"
#include "store/store.h"

namespace nines::store {

struct HttpApiOptions {
  // Most samples (or rollup points) one read may return.
  int64_t max_samples = 5'000'000;
  // Most steps one rollup read may compute per series.
  int64_t max_steps = 11'000;
};

// Registers the routes above on `router`.
void RegisterHttpApi(Store& store, net::Router& router, HttpApiOptions options = {});

// Appends `v` as Prometheus formats sample values in JSON strings: shortest round-trip form,
// "NaN", "+Inf", "-Inf".
void AppendPromValue(std::string* out, double v);

}  // namespace nines::store

#endif  // NINES_STORE_HTTP_API_H_

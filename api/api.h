// api/api.h: nines' HTTP edge. The routes the engine and the agent serve (every /api/v1 JSON
// endpoint, /-/reload and the landing page), built from the domain modules' structured
// snapshots; and the one mapping from a core::Status to an HTTP status that every handler uses.
// The documents themselves are in api/json.h, the store's read API in api/read_api.h.
//
// app/ wires: it owns the store, the evaluator, the tracker and the collector, and hands api/
// the callbacks that read them (EngineRoutes). The registered handlers call them on the
// server's threads, concurrently: each callback must be thread-safe, and everything the routes
// reference must outlive the server that serves them.
#ifndef NINES_API_API_H_
#define NINES_API_API_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/read_api.h"
#include "collector/probe_engine.h"
#include "collector/scrape_manager.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/time.h"
#include "net/net.h"
#include "rules/evaluator.h"
#include "rules/rules.h"
#include "store/store.h"

namespace nines::api {

// The HTTP status a handler answers a failed Status with:
//   INVALID_ARGUMENT, OUT_OF_RANGE                    400 (the request is wrong)
//   NOT_FOUND                                         404
//   ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED      409 (the state refuses it)
//   anything else                                     500
// OK gives 200. Every handler in api/ answers through it; the one exception is remote write's
// POST /api/v1/write (remote/receiver.cc), which answers by its protocol's retry rules.
int HttpStatusFor(core::StatusCode code);

// {"status":"error","error":<message>} with HttpStatusFor(s.code()). REQUIRES: !s.ok().
net::Response ErrorResponse(const core::Status& s);

// What the landing page (GET /) shows.
struct LandingPage {
  std::string mode;               // "serve", "demo", ...
  double default_objective = 0;   // percent
  core::Duration default_window;  // rolling
  struct Region {
    std::string name;
    std::string display_name;  // empty: the name
    std::vector<std::string> locations;
  };
  std::vector<Region> regions;
};

// The landing page's HTML (version NINES_VERSION; every configured string escaped).
std::string LandingPageHtml(const LandingPage& page);

// What the engine's routes read. Every callback is required (non-null) and thread-safe.
struct EngineRoutes {
  store::Store* store = nullptr;  // the read API and GET /api/v1/checks; REQUIRES: not null
  core::Clock* clock = nullptr;   // "now" for reads without an end; REQUIRES: not null
  ReadApiOptions read_api;
  // The SLO evaluator's published results (rules::SloEvaluator::Snapshot).
  std::function<std::shared_ptr<const std::vector<rules::SloEvaluator::Published>>()> slos;
  // Every alert the tracker holds (rules::AlertTracker::Alerts).
  std::function<std::vector<rules::Alert>()> alerts;
  // This process' own scrape targets (none unless collector.location is set).
  std::function<std::vector<collector::ScrapeTargetStatus>()> targets;
  std::function<LandingPage()> landing_page;
  // POST /-/reload: applies the config file again; its error is answered with HttpStatusFor.
  std::function<core::Status()> reload;
};

// Registers the engine's routes on `router`:
//   the read API (api/read_api.h),
//   GET /api/v1/checks            checks that reported in the last hour (collector::LatestResults)
//   GET /api/v1/slos, /api/v1/slos/{name}
//   GET /api/v1/alerts?state=&region=
//   GET /api/v1/targets
//   GET /api/v1/status/buildinfo  version, compiler
//   GET /                         the landing page
//   POST /-/reload                (admin)
// Remote write (POST /api/v1/write) is not a JSON endpoint and is registered by the caller.
void RegisterEngineRoutes(net::Router& router, EngineRoutes routes);

// Registers an agent's routes: GET /api/v1/checks (its checks' statuses) and GET
// /api/v1/targets (its scrape targets). Both callbacks are required and thread-safe.
void RegisterAgentRoutes(net::Router& router,
                         std::function<std::vector<collector::CheckStatus>()> checks,
                         std::function<std::vector<collector::ScrapeTargetStatus>()> targets);

}  // namespace nines::api

#endif  // NINES_API_API_H_

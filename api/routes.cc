// The engine's and the agent's routes (api/api.h), and the one Status -> HTTP mapping.
#include <fmt/format.h>

#include <utility>

#include "api/api.h"
#include "api/json.h"
#include "collector/agent.h"

namespace nines::api {

int HttpStatusFor(core::StatusCode code) {
  switch (code) {
    case core::StatusCode::kOk:
      return 200;
    case core::StatusCode::kInvalidArgument:
    case core::StatusCode::kOutOfRange:
      return 400;
    case core::StatusCode::kNotFound:
      return 404;
    case core::StatusCode::kAlreadyExists:
    case core::StatusCode::kFailedPrecondition:
    case core::StatusCode::kAborted:
      return 409;
    default:
      return 500;
  }
}

net::Response ErrorResponse(const core::Status& s) {
  return net::Response::Error(HttpStatusFor(s.code()), s.message());
}

void RegisterEngineRoutes(net::Router& router, EngineRoutes routes) {
  RegisterReadApi(*routes.store, router, *routes.clock, routes.read_api);
  router.Handle("GET", "/api/v1/checks", net::Access::kPublic,
                [store = routes.store, clock = routes.clock](const net::Request&) {
                  // Checks that reported in the last hour, from agents and this process' probes.
                  auto results =
                      collector::LatestResults(*store, clock->Now(), core::Duration::Hours(1));
                  if (!results.ok()) return ErrorResponse(results.status());
                  return net::Response::Json(200, LatestResultsJson(*results));
                });
  router.Handle("GET", "/api/v1/slos", net::Access::kPublic,
                [slos = routes.slos](const net::Request&) {
                  return net::Response::Json(200, SlosJson(*slos()));
                });
  router.Handle("GET", "/api/v1/slos/{name}", net::Access::kPublic,
                [slos = routes.slos](const net::Request& req) {
                  auto json = SloJson(*slos(), req.PathParam("name"));
                  if (!json.ok()) return ErrorResponse(json.status());
                  return net::Response::Json(200, std::move(*json));
                });
  router.Handle("GET", "/api/v1/alerts", net::Access::kPublic,
                [alerts = routes.alerts](const net::Request& req) {
                  auto filter =
                      ParseAlertFilter(req.QueryParams("state"), req.QueryParams("region"));
                  if (!filter.ok()) return ErrorResponse(filter.status());
                  return net::Response::Json(200, AlertsJson(alerts(), *filter));
                });
  router.Handle("GET", "/api/v1/targets", net::Access::kPublic,
                [targets = routes.targets](const net::Request&) {
                  // This process' own scrape targets (agents list theirs on their own endpoint).
                  return net::Response::Json(200, ScrapeTargetsJson(targets()));
                });
  router.Handle("GET", "/", net::Access::kPublic,
                [landing_page = routes.landing_page](const net::Request&) {
                  net::Response r;
                  r.status = 200;
                  r.headers.Set("Content-Type", "text/html; charset=utf-8");
                  r.body = LandingPageHtml(landing_page());
                  return r;
                });
  router.Handle("GET", "/api/v1/status/buildinfo", net::Access::kPublic,
                [](const net::Request&) {
                  return net::Response::Json(
                      200, fmt::format(R"({{"status":"success","data":{{"version":"{}",)"
                                       R"("compiler":"g++ {}","cplusplus":{}}}}})",
                                       NINES_VERSION, __VERSION__, __cplusplus));
                });
  router.Handle("POST", "/-/reload", net::Access::kAdmin,
                [reload = routes.reload](const net::Request&) {
                  core::Status s = reload();
                  if (!s.ok()) return ErrorResponse(s);
                  return net::Response::Json(200, R"({"status":"success"})");
                });
}

void RegisterAgentRoutes(net::Router& router,
                         std::function<std::vector<collector::CheckStatus>()> checks,
                         std::function<std::vector<collector::ScrapeTargetStatus>()> targets) {
  router.Handle("GET", "/api/v1/checks", net::Access::kPublic,
                [checks = std::move(checks)](const net::Request&) {
                  return net::Response::Json(200, CheckStatusesJson(checks()));
                });
  router.Handle("GET", "/api/v1/targets", net::Access::kPublic,
                [targets = std::move(targets)](const net::Request&) {
                  return net::Response::Json(200, ScrapeTargetsJson(targets()));
                });
}

}  // namespace nines::api

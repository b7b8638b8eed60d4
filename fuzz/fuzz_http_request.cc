// Fuzzes what nines' HTTP server makes of the raw bytes of a request, before any handler's own
// parsing: Beast's parser with the server's limits (net::internal::ParseRequest, the same settings
// and error answers a connection uses), the request-target split, routing against nines' real
// route table, bearer-token extraction, and the query-string and form decoding handlers call.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "net/internal.h"
#include "net/net.h"

namespace net = nines::net;

namespace {

net::Router MakeRouter() {
  net::Router router;
  auto ok = [](const net::Request&) { return net::Response::Text(200, "ok"); };
  for (const char* get :
       {"/", "/api/v1/alerts", "/api/v1/checks", "/api/v1/label/{name}/values", "/api/v1/labels",
        "/api/v1/samples", "/api/v1/series", "/api/v1/slos", "/api/v1/slos/{name}",
        "/api/v1/status/buildinfo", "/api/v1/targets", "/healthz", "/metrics"}) {
    router.Handle("GET", get, net::Access::kPublic, ok);
  }
  router.Handle("POST", "/api/v1/labels", net::Access::kPublic, ok);
  router.Handle("POST", "/api/v1/series", net::Access::kPublic, ok);
  router.Handle("POST", "/api/v1/write", net::Access::kWrite, ok);
  router.Handle("POST", "/-/reload", net::Access::kAdmin, ok);
  router.Handle("POST", "/api/v1/admin/tsdb/delete_series", net::Access::kAdmin, ok);
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const net::Router router = MakeRouter();
  std::string_view wire(reinterpret_cast<const char*>(data), size);
  // Small limits, so that the 413 and 431 paths are reachable.
  constexpr size_t kMaxHeader = 2048;
  constexpr size_t kMaxBody = 4096;
  net::internal::ParsedRequest parsed = net::internal::ParseRequest(wire, kMaxHeader, kMaxBody);
  FUZZ_CHECK(parsed.consumed <= wire.size(), "consumed more than the input");
  if (!parsed.ok) {
    FUZZ_CHECK(parsed.error_status == 0 || parsed.error_status == 400 ||
                   parsed.error_status == 413 || parsed.error_status == 431,
               parsed.error.c_str());
    return 0;
  }
  const net::Request& req = parsed.request;
  FUZZ_CHECK(req.body.size() <= kMaxBody, "body over the limit");
  FUZZ_CHECK(parsed.raw_path == net::internal::RawPathOf(req.target), "raw path differs");
  net::Router::Match match = router.Find(req.method, parsed.raw_path);
  if (match.kind == net::Router::Match::Kind::kFound) {
    FUZZ_CHECK(match.route != nullptr, "found without a route");
  }
  std::string_view token;
  if (net::internal::ParseBearer(req.headers.Get("Authorization"), &token)) {
    FUZZ_CHECK(!token.empty(), "empty bearer token");
  }
  (void)req.QueryParams("match[]");
  (void)req.FormValues("match[]");
  (void)req.FormValue("start");
  return 0;
}

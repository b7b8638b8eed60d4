// Running amtool (Debian's prometheus-alertmanager, $NINES_AMTOOL to override) against a nines
// server on loopback: shared by the amtool tests of the API and of the alerting service.
#ifndef NINES_TESTS_API_AMTOOL_HELPERS_H_
#define NINES_TESTS_API_AMTOOL_HELPERS_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "api/alertmanager_api.h"
#include "core/clock.h"
#include "net/net.h"
#include "tests/testutil/testutil.h"

namespace nines::api::testing {

// Serves Alertmanager's API v2 from `backend` on 127.0.0.1 with the real clock (amtool stamps
// silences with the real time) and the write token "amtool-token", and writes into `dir` the
// http_config file that gives amtool the token (its path in *http_config). Null (a test failure
// recorded) when the server cannot start.
inline std::unique_ptr<net::Server> ServeForAmtool(AlertmanagerBackend& backend,
                                                   testutil::TempDir& dir,
                                                   std::string* http_config) {
  net::Router router;
  RegisterAlertmanagerRoutes(router, backend, core::RealClock());
  net::ServerOptions options{.listen = "127.0.0.1:0", .threads = 2};
  options.write_tokens = {"amtool-token"};
  auto server = net::Server::Start(options, std::move(router), core::RealClock(), nullptr);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  *http_config = dir.Write("http.yml", "authorization:\n  credentials: amtool-token\n");
  return server.ok() ? std::move(*server) : nullptr;
}

// $NINES_AMTOOL, else /usr/bin/amtool.
inline std::string AmtoolBinary() {
  const char* env = std::getenv("NINES_AMTOOL");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/amtool";
}

struct AmtoolRun {
  int code = -1;  // -1: did not finish in time (a test failure is recorded)
  std::string output;
};

// Runs amtool with `args` against http://`address`/, with --http.config.file=`http_config`
// (the bearer token) unless it is "". Waits at most 30 s.
inline AmtoolRun RunAmtool(const std::string& address, const std::string& http_config,
                           const std::vector<std::string>& args) {
  std::vector<std::string> argv = {AmtoolBinary(), "--alertmanager.url=http://" + address + "/",
                                   "--no-version-check", "--timeout=10s"};
  if (!http_config.empty()) argv.push_back("--http.config.file=" + http_config);
  argv.insert(argv.end(), args.begin(), args.end());
  testutil::ChildProcess child(argv);
  auto code = child.Wait(std::chrono::seconds(30));
  EXPECT_TRUE(code.has_value()) << "amtool did not finish: " << child.output();
  return {code.value_or(-1), child.output()};
}

}  // namespace nines::api::testing

#endif  // NINES_TESTS_API_AMTOOL_HELPERS_H_

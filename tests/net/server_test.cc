// The HTTP server on a real loopback socket: routing, limits, timeouts, auth, the connection cap,
// graceful shutdown, built-in endpoints and metrics. Misbehaving clients use raw sockets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cerrno>
#include <future>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "net/http_client.h"
#include "net/net.h"
#include "tests/net/test_util.h"
#include "tests/testutil/testutil.h"

namespace nines::net {
namespace {

using core::Duration;
using ::testing::HasSubstr;
using testing::MetricValue;
using testing::RawConnection;
using ::testing::StartsWith;
using testing::WaitFor;

Response EchoBody(const Request& req) { return Response::Text(200, req.body); }

class ServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Server> Start(Router router, ServerOptions options = {}) {
    if (options.listen == ServerOptions().listen) options.listen = "127.0.0.1:0";
    auto server =
        Server::Start(std::move(options), std::move(router), core::RealClock(), registry_);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server).value() : nullptr;
  }

  static std::string UrlOf(const Server& server, std::string_view path) {
    return "http://" + server.address() + std::string(path);
  }

  ClientResponse Get(const Server& server, std::string_view path, Headers headers = {}) {
    auto res = client_.Do({.method = "GET", .url = UrlOf(server, path), .headers = headers});
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? std::move(res).value() : ClientResponse{};
  }

  double Metric(std::string_view name, const std::map<std::string, std::string>& labels = {}) {
    return MetricValue(*registry_, name, labels);
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  HttpClient client_;
};

TEST_F(ServerTest, RoutesPathParamsQueryAndRemoteAddress) {
  Router router;
  router.Handle("GET", "/api/v1/label/{name}/values", Access::kPublic, [](const Request& req) {
    return Response::Text(200, std::string(req.PathParam("name")) + "|" + req.QueryParam("limit") +
                                   "|" + req.path + "|" + req.remote_address);
  });
  auto server = Start(std::move(router));
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->address(), "127.0.0.1:" + std::to_string(server->port()));

  ClientResponse res = Get(*server, "/api/v1/label/job%2Fx/values?limit=3");
  EXPECT_EQ(res.status, 200);
  EXPECT_THAT(res.body, StartsWith("job/x|3|/api/v1/label/job/x/values|127.0.0.1:"));
  EXPECT_EQ(res.headers.Get("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(ServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  router.Handle("POST", "/api/v1/write", Access::kPublic, EchoBody);
  auto server = Start(std::move(router));
  ASSERT_NE(server, nullptr);

  ClientResponse res = Get(*server, "/nope");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"status":"error","error":"not found"})");

  res = Get(*server, "/api/v1/write");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers.Get("Allow"), "POST");
}

TEST_F(ServerTest, HeadOnGetRouteSendsLengthWithoutBody) {
  Router router;
  router.Handle("GET", "/hello", Access::kPublic,
                [](const Request& req) { return Response::Text(200, "hello " + req.method); });
  auto server = Start(std::move(router));
  ASSERT_NE(server, nullptr);

  auto res = client_.Do({.method = "HEAD", .url = UrlOf(*server, "/hello")});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
  EXPECT_EQ(res->headers.Get("Content-Length"), "10");  // "hello HEAD"
  // The connection is still usable: the client did not read a stray body.
  EXPECT_EQ(Get(*server, "/hello").body, "hello GET");
  EXPECT_EQ(server->accepted_connections(), 1u);
}

TEST_F(ServerTest, OversizedBodyIs413) {
  Router router;
  router.Handle("POST", "/echo", Access::kPublic, EchoBody);
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = Start(std::move(router), options);
  ASSERT_NE(server, nullptr);

  auto ok = client_.Do(
      {.method = "POST", .url = UrlOf(*server, "/echo"), .body = std::string(1024, 'a')});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body.size(), 1024u);

  auto big = client_.Do(
      {.method = "POST", .url = UrlOf(*server, "/echo"), .body = std::string(1025, 'a')});
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_THAT(big->body, HasSubstr("request body exceeds 1024 bytes"));
  EXPECT_EQ(big->headers.Get("Connection"), "close");

  // A chunked body is limited as it streams in.
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(
      raw.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "800\r\n" +
               std::string(0x800, 'b') + "\r\n0\r\n\r\n"));
  EXPECT_THAT(raw.ReadResponse(), StartsWith("HTTP/1.1 413"));
  EXPECT_EQ(Metric("nines_http_request_errors_total", {{"reason", "body_too_large"}}), 2);
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  auto server = Start(Router(), options);
  ASSERT_NE(server, nullptr);
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2048, 'x') +
                       "\r\n\r\n"));
  EXPECT_THAT(raw.ReadResponse(), StartsWith("HTTP/1.1 431"));
}

TEST_F(ServerTest, BearerTokensGuardWriteAndAdminRoutes) {
  Router router;
  router.Handle("POST", "/write", Access::kWrite, EchoBody);
  router.Handle("POST", "/admin", Access::kAdmin, EchoBody);
  router.Handle("GET", "/public", Access::kPublic, EchoBody);
  ServerOptions options;
  options.write_tokens = {"w-token"};
  options.admin_tokens = {"a-token"};
  auto server = Start(std::move(router), options);
  ASSERT_NE(server, nullptr);

  auto call = [&](std::string_view path, std::string_view authorization) {
    Headers headers;
    if (!authorization.empty()) headers.Set("Authorization", authorization);
    auto res = client_.Do(
        {.method = "POST", .url = UrlOf(*server, path), .headers = headers, .body = "x"});
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? std::move(res).value() : ClientResponse{};
  };
  struct Case {
    const char* name;
    const char* path;
    const char* authorization;
    int status;
  };
  const Case cases[] = {
      {"write, none", "/write", "", 401},
      {"write, wrong", "/write", "Bearer nope", 401},
      {"write, prefix of right", "/write", "Bearer w-toke", 401},
      {"write, basic scheme", "/write", "Basic w-token", 401},
      {"write, empty bearer", "/write", "Bearer ", 401},
      {"write, write token", "/write", "Bearer w-token", 200},
      {"write, lower-case scheme", "/write", "bearer w-token", 200},
      {"write, admin token", "/write", "Bearer a-token", 200},
      {"admin, write token", "/admin", "Bearer w-token", 401},
      {"admin, admin token", "/admin", "Bearer a-token", 200},
      {"public, none", "/public", "", 405},  // Public routes ignore auth (POST is not allowed).
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ClientResponse res = call(c.path, c.authorization);
    EXPECT_EQ(res.status, c.status);
    if (c.status == 401) {
      EXPECT_EQ(res.headers.Get("WWW-Authenticate"), R"(Bearer realm="nines")");
      EXPECT_EQ(res.body, R"({"status":"error","error":"unauthorized"})");
    }
  }

  server->UpdateTokens({"w2"}, {});
  EXPECT_EQ(call("/write", "Bearer w-token").status, 401);
  EXPECT_EQ(call("/write", "Bearer w2").status, 200);
  EXPECT_EQ(call("/admin", "Bearer a-token").status, 401);  // Fails closed: no admin tokens.

  server->UpdateTokens({}, {});  // No tokens at all: auth is off.
  EXPECT_EQ(call("/admin", "").status, 200);
}

TEST_F(ServerTest, ClientSendingHeaderTooSlowlyIsCutOff) {
  ServerOptions options;
  options.header_timeout = Duration::Milliseconds(300);
  auto server = Start(Router(), options);
  ASSERT_NE(server, nullptr);
  core::Clock& clock = core::RealClock();

  // A header that never finishes.
  RawConnection stalled(server->port());
  ASSERT_TRUE(stalled.ok());
  Duration start = clock.Monotonic();
  ASSERT_TRUE(stalled.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  std::string got;
  EXPECT_TRUE(stalled.ReadUntilClosed(&got));
  Duration took = clock.Monotonic() - start;
  EXPECT_EQ(got, "");
  EXPECT_GE(took, Duration::Milliseconds(250));
  EXPECT_LT(took, Duration::Seconds(3));

  // A slowloris dripping a header line every 50 ms is cut off at the deadline too, although it
  // is never silent for long.
  RawConnection drip(server->port());
  ASSERT_TRUE(drip.ok());
  start = clock.Monotonic();
  ASSERT_TRUE(drip.Send("GET /healthz HTTP/1.1\r\n"));
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {  // At most ~5 s.
    if (!drip.Send("X-Drip: 1\r\n")) break;
    closed = WaitFor([&] { return drip.PeerClosed(); }, Duration::Milliseconds(50));
  }
  took = clock.Monotonic() - start;
  EXPECT_LT(took, Duration::Seconds(3));
  EXPECT_GE(took, Duration::Milliseconds(250));
  EXPECT_TRUE(WaitFor([&] {
    return Metric("nines_http_request_errors_total", {{"reason", "header_timeout"}}) == 2;
  }));
}

TEST_F(ServerTest, ClientSendingBodyTooSlowlyIsCutOff) {
  Router router;
  router.Handle("POST", "/echo", Access::kPublic, EchoBody);
  ServerOptions options;
  options.body_timeout = Duration::Milliseconds(300);
  auto server = Start(std::move(router), options);
  ASSERT_NE(server, nullptr);
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.ok());
  core::Clock& clock = core::RealClock();
  Duration start = clock.Monotonic();
  ASSERT_TRUE(raw.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"));
  std::string got;
  EXPECT_TRUE(raw.ReadUntilClosed(&got));
  Duration took = clock.Monotonic() - start;
  EXPECT_EQ(got, "");
  EXPECT_GE(took, Duration::Milliseconds(250));
  EXPECT_LT(took, Duration::Seconds(3));
  EXPECT_TRUE(WaitFor([&] {
    return Metric("nines_http_request_errors_total", {{"reason", "body_timeout"}}) == 1;
  }));
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = Duration::Milliseconds(300);
  auto server = Start(Router(), options);
  ASSERT_NE(server, nullptr);
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(raw.ReadResponse(), StartsWith("HTTP/1.1 200"));
  core::Clock& clock = core::RealClock();
  Duration start = clock.Monotonic();
  EXPECT_TRUE(raw.ReadUntilClosed());
  Duration took = clock.Monotonic() - start;
  EXPECT_GE(took, Duration::Milliseconds(250));
  EXPECT_LT(took, Duration::Seconds(3));
}

TEST_F(ServerTest, PipelinedAndExpectContinueRequests) {
  Router router;
  router.Handle("POST", "/echo", Access::kPublic, EchoBody);
  auto server = Start(std::move(router));
  ASSERT_NE(server, nullptr);
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(
      raw.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
               "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  EXPECT_THAT(raw.ReadResponse(), StartsWith("HTTP/1.1 200"));
  std::string second = raw.ReadResponse();
  EXPECT_THAT(second, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(second, ::testing::EndsWith("\r\n\r\nabc"));

  ASSERT_TRUE(
      raw.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               "Expect: 100-continue\r\n\r\n"));
  EXPECT_THAT(raw.ReadResponse(), StartsWith("HTTP/1.1 100 Continue"));
  ASSERT_TRUE(raw.Send("hello"));
  EXPECT_THAT(raw.ReadResponse(), ::testing::EndsWith("\r\n\r\nhello"));
}

TEST_F(ServerTest, ConnectionCapRefusesExtraConnections) {
  ServerOptions options;
  options.max_connections = 2;
  auto server = Start(Router(), options);
  ASSERT_NE(server, nullptr);

  RawConnection a(server->port());
  RawConnection b(server->port());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(WaitFor([&] { return server->accepted_connections() == 2; }));
  EXPECT_EQ(Metric("nines_http_open_connections"), 2);

  RawConnection c(server->port());
  ASSERT_TRUE(c.ok());
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(&got));
  EXPECT_THAT(got, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(got, HasSubstr("too many connections"));
  EXPECT_EQ(Metric("nines_http_connections_rejected_total"), 1);

  // Below the cap again, a new connection is served.
  a.Close();
  ASSERT_TRUE(WaitFor([&] { return Metric("nines_http_open_connections") == 1; }));
  RawConnection d(server->port());
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(d.ReadResponse(), StartsWith("HTTP/1.1 200"));
}

TEST_F(ServerTest, GracefulShutdownFinishesInFlightRequestAndRefusesNewConnections) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router router;
  router.Handle("GET", "/slow", Access::kPublic, [&](const Request&) {
    entered.set_value();
    released.wait();
    return Response::Text(200, "done");
  });
  auto server = Start(std::move(router));
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  // An idle keep-alive connection, which shutdown closes.
  RawConnection idle(port);
  ASSERT_TRUE(idle.ok());
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_THAT(idle.ReadResponse(), StartsWith("HTTP/1.1 200"));

  core::Result<ClientResponse> slow = core::UnavailableError("not done");
  std::thread client_thread([&] { slow = client_.Do({.url = UrlOf(*server, "/slow")}); });
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);

  std::thread shutdown_thread([&] { server->Shutdown(); });
  EXPECT_TRUE(WaitFor([&] {
    RawConnection probe(port);
    return !probe.ok() && probe.error() == ECONNREFUSED;
  }));
  EXPECT_TRUE(idle.ReadUntilClosed());

  release.set_value();
  client_thread.join();
  shutdown_thread.join();
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, "done");
  EXPECT_EQ(slow->headers.Get("Connection"), "close");

  server->Shutdown();  // Idempotent.
}

TEST_F(ServerTest, HealthReadyAndMetricsEndpoints) {
  auto server = Start(Router());
  ASSERT_NE(server, nullptr);

  ClientResponse res = Get(*server, "/healthz");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "ok\n");
  EXPECT_EQ(Get(*server, "/readyz").status, 503);
  server->SetReady(true);
  EXPECT_EQ(Get(*server, "/readyz").status, 200);
  server->SetReady(false);
  EXPECT_EQ(Get(*server, "/readyz").status, 503);
  EXPECT_EQ(Get(*server, "/healthz").status, 200);
  EXPECT_EQ(Get(*server, "/missing").status, 404);

  // Counted after the response is written, so wait for the count rather than race it.
  ASSERT_TRUE(WaitFor([&] {
    return Metric("nines_http_requests_total",
                  {{"route", "unmatched"}, {"method", "GET"}, {"code", "404"}}) == 1;
  }));
  res = Get(*server, "/metrics");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.headers.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(
      res.body,
      HasSubstr(R"(nines_http_requests_total{code="200",method="GET",route="/healthz"} 2)"));
  EXPECT_THAT(res.body,
              HasSubstr(R"(nines_http_requests_total{code="503",method="GET",route="/readyz"} 2)"));
  EXPECT_THAT(
      res.body,
      HasSubstr(R"(nines_http_requests_total{code="404",method="GET",route="unmatched"} 1)"));
  EXPECT_THAT(res.body,
              HasSubstr(R"(nines_http_request_duration_seconds_count{route="/healthz"} 2)"));
  EXPECT_THAT(res.body, HasSubstr("nines_http_open_connections 1"));
}

TEST_F(ServerTest, MalformedRequestsGet400AndServerKeepsServing) {
  auto server = Start(Router());
  ASSERT_NE(server, nullptr);
  const char* const cases[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/x.1\r\nHost: x\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "GET /\x01 HTTP/1.1\r\n\r\n",
  };
  for (const char* c : cases) {
    SCOPED_TRACE(c);
    RawConnection raw(server->port());
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw.Send(c));
    std::string got;
    EXPECT_TRUE(raw.ReadUntilClosed(&got));
    EXPECT_THAT(got, StartsWith("HTTP/1.1 400"));
    EXPECT_THAT(got, HasSubstr(R"({"status":"error","error":"bad request: )"));
  }
  {  // Binary junk and an abrupt close.
    RawConnection raw(server->port());
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw.Send(std::string("\x16\x03\x01\x00\xff\x00\x00\r\n\r\n", 11)));
  }
  EXPECT_EQ(Get(*server, "/healthz").status, 200);
  EXPECT_TRUE(WaitFor([&] {
    return Metric("nines_http_request_errors_total", {{"reason", "bad_request"}}) ==
           static_cast<double>(std::size(cases)) + 1;
  }));
}

TEST_F(ServerTest, HandlerExceptionBecomes500) {
  Router router;
  router.Handle("GET", "/throw", Access::kPublic,
                [](const Request&) -> Response { throw std::runtime_error("boom"); });
  router.Handle("GET", "/throw-int", Access::kPublic, [](const Request&) -> Response { throw 42; });
  router.Handle("GET", "/bad-status", Access::kPublic,
                [](const Request&) { return Response::Text(42, "?"); });
  auto server = Start(std::move(router));
  ASSERT_NE(server, nullptr);
  for (const char* path : {"/throw", "/throw-int", "/bad-status"}) {
    SCOPED_TRACE(path);
    ClientResponse res = Get(*server, path);
    EXPECT_EQ(res.status, 500);
    EXPECT_EQ(res.body, R"({"status":"error","error":"internal error"})");
  }
  EXPECT_EQ(Get(*server, "/healthz").status, 200);
  EXPECT_EQ(Metric("nines_http_request_errors_total", {{"reason", "handler_exception"}}), 2);
}

TEST_F(ServerTest, HeaderInjectionFromHandlerIsDropped) {
  Router router;
  router.Handle("GET", "/inject", Access::kPublic, [](const Request&) {
    Response r = Response::Text(200, "x");
    r.headers.Set("X-Evil", "a\r\nSet-Cookie: pwned=1");
    r.headers.Set("X-Fine", "yes");
    return r;
  });
  auto server = Start(std::move(router));
  ASSERT_NE(server, nullptr);
  ClientResponse res = Get(*server, "/inject");
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.headers.Has("Set-Cookie"));
  EXPECT_FALSE(res.headers.Has("X-Evil"));
  EXPECT_EQ(res.headers.Get("X-Fine"), "yes");
}

TEST_F(ServerTest, AccessLogWritesOneLinePerRequest) {
  std::mutex mu;
  std::vector<std::string> lines;
  core::SetLogSink([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  ServerOptions options;
  options.access_log = true;
  auto server = Start(Router(), options);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Get(*server, "/healthz?x=1").status, 200);
  bool found = WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    for (const std::string& l : lines) {
      if (l.find("127.0.0.1:") != std::string::npos &&
          l.find(" GET /healthz?x=1 200 3B ") != std::string::npos &&
          l.find("ms") != std::string::npos) {
        return true;
      }
    }
    return false;
  });
  server.reset();
  core::SetLogSink(nullptr);
  EXPECT_TRUE(found);
}

// Remote write posts a batch every second or so from every sender: its successes go to debug,
// its failures (and everything else) stay at info.
using testutil::ScopedLogSink;

TEST_F(ServerTest, AccessLogPutsSuccessfulWritesAtDebug) {
  std::mutex mu;
  std::vector<std::string> lines;
  ScopedLogSink sink([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  Router router;
  router.Handle("POST", "/write", Access::kWrite, [](const Request& req) {
    return req.body == "bad" ? Response::Error(400, "refused") : Response{.status = 204};
  });
  ServerOptions options;
  options.access_log = true;
  auto server = Start(std::move(router), options);
  ASSERT_NE(server, nullptr);
  const std::string url = "http://" + server->address() + "/write";
  auto post = [&](std::string body) {
    auto res = client_.Do({.method = "POST", .url = url, .body = std::move(body)});
    return res.ok() ? res->status : 0;
  };
  auto logged = [&](std::string_view want) {
    std::lock_guard<std::mutex> lock(mu);
    for (const std::string& l : lines) {
      if (l.find(want) != std::string::npos) return l.substr(l.find(' ') + 1, 1);  // level
    }
    return std::string();
  };
  struct RestoreLevel {
    core::LogLevel saved = core::GetLogLevel();
    ~RestoreLevel() { core::SetLogLevel(saved); }
  } restore;
  core::SetLogLevel(core::LogLevel::kInfo);
  EXPECT_EQ(post("ok"), 204);
  EXPECT_EQ(post("bad"), 400);
  EXPECT_EQ(Get(*server, "/healthz").status, 200);
  EXPECT_TRUE(WaitFor([&] { return !logged(" GET /healthz 200").empty(); }));
  EXPECT_EQ(logged(" POST /write 400"), "I");
  EXPECT_EQ(logged(" POST /write 204"), "");
  core::SetLogLevel(core::LogLevel::kDebug);
  EXPECT_EQ(post("ok"), 204);
  EXPECT_TRUE(WaitFor([&] { return !logged(" POST /write 204").empty(); }));
  EXPECT_EQ(logged(" POST /write 204"), "D");
  server.reset();
}

TEST_F(ServerTest, ListensOnAllInterfacesAndIpv6Loopback) {
  ServerOptions any;
  any.listen = ":0";
  auto server = Start(Router(), any);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->address(), "0.0.0.0:" + std::to_string(server->port()));
  EXPECT_EQ(Get(*server, "/healthz").status, 200);  // Reaches it via 0.0.0.0 (= local).
  server.reset();

  auto v6 =
      Server::Start(ServerOptions{.listen = "[::1]:0"}, Router(), core::RealClock(), registry_);
  if (!v6.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << v6.status().ToString();
  EXPECT_EQ((*v6)->address(), "[::1]:" + std::to_string((*v6)->port()));
  auto res = client_.Do({.url = "http://" + (*v6)->address() + "/healthz"});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
}

TEST_F(ServerTest, StartReportsBadConfiguration) {
  auto first = Start(Router());
  ASSERT_NE(first, nullptr);
  testutil::TempDir dir;

  struct Case {
    const char* name;
    std::function<void(ServerOptions&, Router&)> setup;
    core::StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {"no port", [](ServerOptions& o, Router&) { o.listen = "127.0.0.1"; },
       core::StatusCode::kInvalidArgument, "missing ':port'"},
      {"unresolvable host", [](ServerOptions& o, Router&) { o.listen = "no-such-host.invalid:0"; },
       core::StatusCode::kInvalidArgument, "cannot resolve"},
      {"port in use", [&](ServerOptions& o, Router&) { o.listen = first->address(); },
       core::StatusCode::kUnavailable, "in use"},
      {"missing cert",
       [&](ServerOptions& o, Router&) {
         o.tls.cert_file = dir.File("missing.crt");
         o.tls.key_file = dir.File("missing.key");
       },
       core::StatusCode::kInvalidArgument, "missing.crt"},
      {"garbage cert",
       [&](ServerOptions& o, Router&) {
         o.tls.cert_file = dir.Write("bad.crt", "not a cert");
         o.tls.key_file = dir.Write("bad.key", "not a key");
       },
       core::StatusCode::kInvalidArgument, "bad.crt"},
      {"key without cert", [&](ServerOptions& o, Router&) { o.tls.key_file = "x.key"; },
       core::StatusCode::kInvalidArgument, "both cert_file and key_file"},
      {"zero threads", [](ServerOptions& o, Router&) { o.threads = 0; },
       core::StatusCode::kInvalidArgument, "threads"},
      {"zero timeout", [](ServerOptions& o, Router&) { o.header_timeout = Duration::Zero(); },
       core::StatusCode::kInvalidArgument, "header_timeout"},
      {"builtin route taken",
       [](ServerOptions&, Router& r) { r.Handle("GET", "/metrics", Access::kPublic, EchoBody); },
       core::StatusCode::kAlreadyExists, "/metrics"},
      {"bad route",
       [](ServerOptions&, Router& r) { r.Handle("GET", "nope", Access::kPublic, EchoBody); },
       core::StatusCode::kInvalidArgument, "nope"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    Router router;
    c.setup(options, router);
    auto server = Server::Start(options, std::move(router), core::RealClock(), nullptr);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), c.code) << server.status().ToString();
    EXPECT_THAT(server.status().message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace nines::net

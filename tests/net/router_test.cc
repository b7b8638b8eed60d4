// Transport-free parts of net: Headers, Request helpers, Response, Router, address and URL parsing.
#include <gtest/gtest.h>

#include "net/http_client.h"
#include "net/internal.h"
#include "net/net.h"

namespace nines::net {
namespace {

Handler Echo(std::string text) {
  return [text](const Request&) { return Response::Text(200, text); };
}

TEST(HeadersTest, NamesAreCaseInsensitiveAndRepeatsKept) {
  Headers h;
  h.Add("Content-Type", "text/plain");
  h.Add("X-Tag", "a");
  h.Add("x-tag", "b");
  EXPECT_EQ(h.Get("content-type"), "text/plain");
  EXPECT_EQ(h.Get("X-TAG"), "a");
  EXPECT_EQ(h.GetAll("x-Tag"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_FALSE(h.Has("missing"));
  EXPECT_EQ(h.Get("missing"), "");

  h.Set("X-TAG", "c");
  EXPECT_EQ(h.GetAll("x-tag"), (std::vector<std::string_view>{"c"}));
  h.Remove("CONTENT-TYPE");
  EXPECT_FALSE(h.Has("Content-Type"));
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.begin()->name, "X-TAG");
}

TEST(RouterTest, HasProtectedRoutesOnlyWithAWriteOrAdminRoute) {
  Router public_only;
  public_only.Handle("GET", "/metrics", Access::kPublic, Echo("m"));
  EXPECT_FALSE(public_only.HasProtectedRoutes());
  Router with_write = public_only;
  with_write.Handle("POST", "/api/v1/write", Access::kWrite, Echo("w"));
  EXPECT_TRUE(with_write.HasProtectedRoutes());
  Router with_admin;
  with_admin.Handle("POST", "/-/reload", Access::kAdmin, Echo("r"));
  EXPECT_TRUE(with_admin.HasProtectedRoutes());
}

TEST(PercentDecodeTest, DecodesEscapesAndRejectsBadOnes) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc", false).value(), "a b/c");
  EXPECT_EQ(PercentDecode("a+b", false).value(), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true).value(), "a b");
  EXPECT_EQ(PercentDecode("%zz", false).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(PercentDecode("%4", false).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(PercentDecode("%", false).status().code(), core::StatusCode::kInvalidArgument);
}

TEST(RequestTest, QueryAndFormParams) {
  Request req;
  req.query = "match[]=up&match[]=a%3D%22b%22&empty&q=x+y&bad=%zz";
  EXPECT_EQ(req.QueryParam("q"), "x y");
  EXPECT_EQ(req.QueryParams("match[]"), (std::vector<std::string>{"up", "a=\"b\""}));
  EXPECT_EQ(req.QueryParam("empty"), "");
  EXPECT_EQ(req.QueryParam("bad"), "%zz");
  EXPECT_EQ(req.QueryParam("absent"), "");

  req.headers.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  req.body = "q=from+body&time=5";
  EXPECT_EQ(req.FormValue("q"), "from body");  // The body wins, as in Go.
  EXPECT_EQ(req.FormValues("q"), (std::vector<std::string>{"from body", "x y"}));
  EXPECT_EQ(req.FormValue("time"), "5");

  req.headers.Set("Content-Type", "application/json");
  EXPECT_EQ(req.FormValue("q"), "x y");  // Not a form: only the query counts.
}

TEST(ResponseTest, ErrorEscapesReasonAsJson) {
  Response r = Response::Error(400, "bad \"x\"\\\n\x01");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(r.body, R"({"status":"error","error":"bad \"x\"\\\n\u0001"})");
  EXPECT_EQ(Response::Text(201, "hi").headers.Get("content-type"), "text/plain; charset=utf-8");
}

TEST(RouterTest, FindsExactAndParamRoutes) {
  Router router;
  router.Handle("GET", "/api/v1/label/{name}/values", Access::kPublic, Echo("values"));
  router.Handle("GET", "/api/v1/label/__name__/values", Access::kPublic, Echo("names"));
  router.Handle("POST", "/api/v1/write", Access::kWrite, Echo("write"));
  router.Handle("GET", "/", Access::kPublic, Echo("root"));
  ASSERT_TRUE(router.status().ok()) << router.status().ToString();

  Router::Match m = router.Find("GET", "/api/v1/label/job%2Fx/values");
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/api/v1/label/{name}/values");
  EXPECT_EQ(m.path_params.at("name"), "job/x");  // Decoded after splitting.

  m = router.Find("GET", "/api/v1/label/__name__/values");
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/api/v1/label/__name__/values");  // Literal beats {name}.
  EXPECT_TRUE(m.path_params.empty());

  EXPECT_EQ(router.Find("GET", "/").kind, Router::Match::Kind::kFound);
  EXPECT_EQ(router.Find("GET", "/api/v1/label//values").kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/api/v1/label/x/values/").kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/api/v1/label/%zz/values").kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/nope").kind, Router::Match::Kind::kNotFound);
}

TEST(RouterTest, WrongMethodIsMethodNotAllowedWithAllow) {
  Router router;
  router.Handle("POST", "/api/v1/write", Access::kWrite, Echo("write"));
  router.Handle("GET", "/x/{id}", Access::kPublic, Echo("get"));
  router.Handle("DELETE", "/x/{id}", Access::kAdmin, Echo("delete"));

  Router::Match m = router.Find("GET", "/api/v1/write");
  EXPECT_EQ(m.kind, Router::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST");
  m = router.Find("PUT", "/x/7");
  EXPECT_EQ(m.kind, Router::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "DELETE, GET, HEAD");
}

TEST(RouterTest, HeadUsesGetRouteUnlessHeadIsRegistered) {
  Router router;
  router.Handle("GET", "/a", Access::kPublic, Echo("a"));
  router.Handle("GET", "/b", Access::kPublic, Echo("b"));
  router.Handle("HEAD", "/b", Access::kPublic, Echo("b-head"));
  Router::Match m = router.Find("HEAD", "/a");
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route->method, "GET");
  m = router.Find("HEAD", "/b");
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route->method, "HEAD");
}

TEST(RouterTest, RegistrationErrorsAreKept) {
  struct Case {
    const char* name;
    const char* method;
    const char* pattern;
    core::StatusCode code;
  };
  const Case cases[] = {
      {"relative", "GET", "api", core::StatusCode::kInvalidArgument},
      {"empty param", "GET", "/a/{}", core::StatusCode::kInvalidArgument},
      {"unclosed", "GET", "/a/{name", core::StatusCode::kInvalidArgument},
      {"partial segment", "GET", "/a/x{name}", core::StatusCode::kInvalidArgument},
      {"repeated param", "GET", "/{a}/{a}", core::StatusCode::kInvalidArgument},
      {"empty method", "", "/a", core::StatusCode::kInvalidArgument},
      {"duplicate", "GET", "/dup", core::StatusCode::kAlreadyExists},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Router router;
    router.Handle("GET", "/dup", Access::kPublic, Echo("first"));
    router.Handle(c.method, c.pattern, Access::kPublic, Echo("x"));
    router.Handle("GET", "/later", Access::kPublic, Echo("later"));
    EXPECT_EQ(router.status().code(), c.code) << router.status().ToString();
  }
  Router router;
  router.Handle("GET", "/a", Access::kPublic, nullptr);
  EXPECT_EQ(router.status().code(), core::StatusCode::kInvalidArgument);
}

TEST(SplitHostPortTest, AcceptsTheThreeForms) {
  struct Case {
    const char* text;
    bool ok;
    const char* host;
    uint16_t port;
  };
  const Case cases[] = {
      {"127.0.0.1:9099", true, "127.0.0.1", 9099},
      {"[::1]:0", true, "::1", 0},
      {":8080", true, "", 8080},
      {"localhost:65535", true, "localhost", 65535},
      {"127.0.0.1", false, "", 0},
      {"::1:80", false, "", 0},
      {"[::1]80", false, "", 0},
      {"[::1", false, "", 0},
      {"host:65536", false, "", 0},
      {"host:-1", false, "", 0},
      {"host:", false, "", 0},
      {"host:80x", false, "", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto hp = internal::SplitHostPort(c.text);
    ASSERT_EQ(hp.ok(), c.ok) << hp.status().ToString();
    if (!c.ok) {
      EXPECT_EQ(hp.status().code(), core::StatusCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(hp->host, c.host);
    EXPECT_EQ(hp->port, c.port);
  }
  EXPECT_EQ(internal::JoinHostPort("::1", 80), "[::1]:80");
  EXPECT_EQ(internal::JoinHostPort("10.0.0.1", 80), "10.0.0.1:80");
}

TEST(ParseUrlTest, ParsesSchemesHostsPortsAndTargets) {
  struct Case {
    const char* url;
    bool ok;
    const char* scheme;
    const char* host;
    uint16_t port;
    const char* target;
    const char* host_header;
  };
  const Case cases[] = {
      {"http://example.com", true, "http", "example.com", 80, "/", "example.com"},
      {"HTTPS://example.com/a?b=c#frag", true, "https", "example.com", 443, "/a?b=c",
       "example.com"},
      {"http://127.0.0.1:9099/metrics", true, "http", "127.0.0.1", 9099, "/metrics",
       "127.0.0.1:9099"},
      {"https://[::1]:8443/x", true, "https", "::1", 8443, "/x", "[::1]:8443"},
      {"http://[::1]/", true, "http", "::1", 80, "/", "[::1]"},
      {"http://host?q=1", true, "http", "host", 80, "/?q=1", "host"},
      {"ftp://host/", false, "", "", 0, "", ""},
      {"host/path", false, "", "", 0, "", ""},
      {"http:///path", false, "", "", 0, "", ""},
      {"http://user:pw@host/", false, "", "", 0, "", ""},
      {"http://host:0/", false, "", "", 0, "", ""},
      {"http://host:99999/", false, "", "", 0, "", ""},
      {"http://[::1/", false, "", "", 0, "", ""},
      {"http://host/a b", false, "", "", 0, "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    auto url = ParseUrl(c.url);
    ASSERT_EQ(url.ok(), c.ok) << url.status().ToString();
    if (!c.ok) {
      EXPECT_EQ(url.status().code(), core::StatusCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(url->scheme, c.scheme);
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->target, c.target);
    EXPECT_EQ(url->HostHeader(), c.host_header);
  }
}

TEST(MethodLabelTest, UnknownMethodsShareOneLabel) {
  EXPECT_EQ(internal::MethodLabel("GET"), "GET");
  EXPECT_EQ(internal::MethodLabel("BREW"), "OTHER");
  EXPECT_EQ(internal::MethodLabel(""), "OTHER");
}

// ParseRequest is what the fuzzer drives: the server's parser settings and Request assembly
// without a socket.
TEST(ParseRequestTest, BuildsTheRequestAHandlerSees) {
  internal::ParsedRequest p = internal::ParseRequest(
      "POST http://h:1/api/v1/label/a%2Fb/values?match%5B%5D=up&x=1#f HTTP/1.1\r\n"
      "Host: h\r\nAuthorization: Bearer  t0k \r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\n"
      "start=2GET / HTTP/1.1\r\n\r\n",
      1024, 1024);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.request.method, "POST");
  EXPECT_EQ(p.raw_path, "/api/v1/label/a%2Fb/values");
  EXPECT_EQ(p.request.path, "/api/v1/label/a/b/values");
  EXPECT_EQ(p.request.query, "match%5B%5D=up&x=1");
  EXPECT_EQ(p.request.QueryParams("match[]"), std::vector<std::string>{"up"});
  EXPECT_EQ(p.request.FormValue("start"), "2");
  EXPECT_EQ(p.request.headers.Get("host"), "h");
  EXPECT_TRUE(p.keep_alive);
  // The pipelined request after the body is not consumed.
  EXPECT_EQ(p.consumed, std::string_view(
                            "POST http://h:1/api/v1/label/a%2Fb/values?match%5B%5D=up&x=1#f "
                            "HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer  t0k \r\n"
                            "Content-Type: application/x-www-form-urlencoded\r\n"
                            "Content-Length: 7\r\n\r\nstart=2")
                            .size());
  std::string_view token;
  ASSERT_TRUE(internal::ParseBearer(p.request.headers.Get("Authorization"), &token));
  EXPECT_EQ(token, "t0k");
}

TEST(ParseRequestTest, AnswersAsTheServerDoes) {
  struct Case {
    const char* name;
    std::string wire;
    int status;
  };
  const Case cases[] = {
      {"header over the limit", "GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n",
       431},
      {"body over the limit", "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
      {"bad method", "G@T / HTTP/1.1\r\n\r\n", 400},
      {"truncated header: the client went away", "GET / HTTP/1.1\r\nHost: x\r\n", 0},
      {"truncated body", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", 0},
      {"nothing", "", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    internal::ParsedRequest p = internal::ParseRequest(c.wire, 100, 100);
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error_status, c.status) << p.error;
  }
}

TEST(RawPathOfTest, DropsQueryFragmentAndAuthority) {
  EXPECT_EQ(internal::RawPathOf("/a%20b?x=1#y"), "/a%20b");
  EXPECT_EQ(internal::RawPathOf("http://h:1/p?q"), "/p");
  EXPECT_EQ(internal::RawPathOf("http://h:1"), "/");
  EXPECT_EQ(internal::RawPathOf("*"), "*");
  EXPECT_EQ(internal::RawPathOf(""), "");
}

}  // namespace
}  // namespace nines::net

// HttpClient against the nines server (plain and TLS) and against sockets that misbehave.
#include "net/http_client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "core/clock.h"
#include "net/net.h"
#include "tests/net/test_util.h"
#include "tests/testutil/testutil.h"

namespace nines::net {
namespace {

using core::Duration;
using core::StatusCode;
using ::testing::HasSubstr;
using testing::MetricValue;
using testing::WaitFor;

Router EchoRouter() {
  Router router;
  router.Handle("POST", "/echo", Access::kPublic, [](const Request& req) {
    Response r = Response::Text(200, req.body);
    r.headers.Set("X-Seen-Host", req.headers.Get("Host"));
    r.headers.Set("X-Seen-Agent", req.headers.Get("User-Agent"));
    r.headers.Set("X-Seen-Custom", req.headers.Get("X-Custom"));
    r.headers.Set("X-Seen-Query", req.QueryParam("q"));
    return r;
  });
  router.Handle("GET", "/big", Access::kPublic,
                [](const Request&) { return Response::Text(200, std::string(1000, 'x')); });
  return router;
}

class HttpClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<Server> Start(ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    auto server = Server::Start(std::move(options), EchoRouter(), core::RealClock(), registry_);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server).value() : nullptr;
  }
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
};

TEST_F(HttpClientTest, SendsMethodHeadersBodyAndReadsResponse) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  HttpClient client;
  Headers headers{{"X-Custom", "v1"}};
  auto res = client.Do({.method = "POST",
                        .url = "http://" + server->address() + "/echo?q=a%20b",
                        .headers = headers,
                        .body = "payload"});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "payload");
  EXPECT_EQ(res->headers.Get("X-Seen-Host"), server->address());
  EXPECT_EQ(res->headers.Get("X-Seen-Agent"), "nines/" NINES_VERSION);
  EXPECT_EQ(res->headers.Get("X-Seen-Custom"), "v1");
  EXPECT_EQ(res->headers.Get("X-Seen-Query"), "a b");
  EXPECT_FALSE(res->reused_connection);

  auto bad = client.Do({.method = "GE T", .url = "http://" + server->address() + "/"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  bad = client.Do({.url = "gopher://x/"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpClientTest, KeepAliveReusesOneConnection) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  HttpClient client;
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    auto res = client.Do({.url = "http://" + server->address() + "/healthz"});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->reused_connection, i > 0);
  }
  EXPECT_EQ(server->accepted_connections(), 1u);
  EXPECT_EQ(client.IdleConnections(), 1u);
}

TEST_F(HttpClientTest, ConcurrentCallsUseSeparateConnectionsAndPoolIsBounded) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.max_idle_per_host = 2;
  HttpClient client(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto res = client.Do({.method = "POST",
                              .url = "http://" + server->address() + "/echo",
                              .body = std::to_string(i)});
        if (res.ok() && res->status == 200 && res->body == std::to_string(i)) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_LE(client.IdleConnections(), 2u);
  EXPECT_LE(server->accepted_connections(), 40u);
}

TEST_F(HttpClientTest, ConnectionClosedByServerWhileIdleIsReplaced) {
  ServerOptions options;
  options.idle_timeout = Duration::Milliseconds(200);
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  HttpClient client;
  const std::string url = "http://" + server->address() + "/healthz";
  ASSERT_TRUE(client.Do({.url = url}).ok());
  ASSERT_EQ(client.IdleConnections(), 1u);
  // The server closes the pooled connection after its idle timeout.
  ASSERT_TRUE(WaitFor([&] { return MetricValue(*registry_, "nines_http_open_connections") == 0; }));

  auto res = client.Do({.url = url});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_FALSE(res->reused_connection);
  EXPECT_EQ(server->accepted_connections(), 2u);
}

TEST_F(HttpClientTest, ResponseLargerThanLimitIsResourceExhausted) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.max_response_bytes = 100;
  HttpClient client(options);
  auto res = client.Do({.url = "http://" + server->address() + "/big"});
  EXPECT_EQ(res.status().code(), StatusCode::kResourceExhausted)
      << res.status().ToString() << " " << (res.ok() ? res->status : 0) << " "
      << (res.ok() ? res->body.size() : 0);
}

// A listening socket that completes TCP handshakes (in the kernel backlog) but never reads or
// answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(HttpClientTest, ServerThatNeverAnswersTimesOut) {
  SilentListener silent;
  ClientOptions options;
  options.request_timeout = Duration::Milliseconds(300);
  HttpClient client(options);
  core::Clock& clock = core::RealClock();
  Duration start = clock.Monotonic();
  auto res = client.Do({.url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/"});
  Duration took = clock.Monotonic() - start;
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded) << res.status().ToString();
  EXPECT_THAT(res.status().message(), HasSubstr("timed out after 300ms"));
  EXPECT_GE(took, Duration::Milliseconds(250));
  EXPECT_LT(took, Duration::Seconds(3));

  // A per-request timeout overrides the option.
  start = clock.Monotonic();
  res = client.Do({.url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/",
                   .timeout = Duration::Milliseconds(100)});
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded) << res.status().ToString();
  EXPECT_LT(clock.Monotonic() - start, Duration::Milliseconds(290));
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailable) {
  HttpClient client;
  auto res = client.Do({.url = "http://127.0.0.1:" + std::to_string(testing::UnusedPort()) + "/"});
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(res.status().message(), HasSubstr("refused"));
}

TEST_F(HttpClientTest, UnresolvableHostIsUnavailable) {
  HttpClient client;
  auto res = client.Do({.url = "http://no-such-host.invalid/"});
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable) << res.status().ToString();
  EXPECT_THAT(res.status().message(), HasSubstr("resolve"));
}

class TlsTest : public HttpClientTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir();
    cert_ = new testing::SelfSignedCert(
        testing::MakeSelfSignedCert(dir_->path(), "localhost", "DNS:localhost,IP:127.0.0.1"));
    other_ = new testing::SelfSignedCert(
        testing::MakeSelfSignedCert(dir_->path(), "other", "DNS:other.example"));
  }
  static void TearDownTestSuite() {
    delete other_;
    delete cert_;
    delete dir_;
  }

  std::unique_ptr<Server> StartTls(const testing::SelfSignedCert& cert) {
    ServerOptions options;
    options.tls = {cert.cert_file, cert.key_file};
    return Start(options);
  }

  static testutil::TempDir* dir_;
  static testing::SelfSignedCert* cert_;
  static testing::SelfSignedCert* other_;
};
testutil::TempDir* TlsTest::dir_ = nullptr;
testing::SelfSignedCert* TlsTest::cert_ = nullptr;
testing::SelfSignedCert* TlsTest::other_ = nullptr;

TEST_F(TlsTest, TrustedCaSucceedsForIpAndDnsNames) {
  auto server = StartTls(*cert_);
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.ca_file = cert_->cert_file;
  auto client = HttpClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const std::string port = std::to_string(server->port());
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    SCOPED_TRACE(host);
    auto res = (*client)->Do(
        {.method = "POST", .url = "https://" + host + ":" + port + "/echo", .body = "secret"});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "secret");
  }
  auto again = (*client)->Do({.url = "https://127.0.0.1:" + port + "/healthz"});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->reused_connection);
}

TEST_F(TlsTest, DefaultCasRejectSelfSignedCertificate) {
  auto server = StartTls(*cert_);
  ASSERT_NE(server, nullptr);
  HttpClient client;
  auto res = client.Do({.url = "https://127.0.0.1:" + std::to_string(server->port()) + "/"});
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(res.status().message(), HasSubstr("certificate verify failed"));
  // The server survives the failed handshake.
  ClientOptions insecure;
  insecure.verify_tls = false;
  HttpClient insecure_client(insecure);
  auto ok = insecure_client.Do(
      {.url = "https://127.0.0.1:" + std::to_string(server->port()) + "/healthz"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
}

TEST_F(TlsTest, CertificateForAnotherNameFailsHostnameVerification) {
  auto server = StartTls(*other_);
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.ca_file = other_->cert_file;  // Trusted, but it names other.example only.
  HttpClient client(options);
  auto res = client.Do({.url = "https://127.0.0.1:" + std::to_string(server->port()) + "/"});
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable) << res.status().ToString();
  EXPECT_THAT(res.status().message(), HasSubstr("TLS handshake"));
}

TEST_F(TlsTest, PlainHttpToTlsServerFailsCleanly) {
  auto server = StartTls(*cert_);
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.request_timeout = Duration::Seconds(2);
  HttpClient client(options);
  auto res = client.Do({.url = "http://127.0.0.1:" + std::to_string(server->port()) + "/healthz"});
  EXPECT_FALSE(res.ok() && res->status == 200);
}

TEST_F(TlsTest, BadCaFileIsReported) {
  ClientOptions options;
  options.ca_file = dir_->File("missing-ca.pem");
  auto client = HttpClient::Create(options);
  EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(client.status().message(), HasSubstr("missing-ca.pem"));
  // The constructor defers the error to https requests.
  HttpClient deferred(options);
  auto res = deferred.Do({.url = "https://127.0.0.1:1/"});
  EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nines::net

// Peers for the probe tests, all on 127.0.0.1: certificates made with OpenSSL's C API (so an
// already expired one is as easy as a fresh one), Debian's nginx started with its own config and
// directory, blackbox_exporter, and small in-test servers (echo, slow HTTP, silent) on Asio.
// Header-only so that http_probe_test.cc and tcp_probe_test.cc share it without a CMake change.
#ifndef NINES_TESTS_COLLECTOR_PROBE_TEST_PEERS_H_
#define NINES_TESTS_COLLECTOR_PROBE_TEST_PEERS_H_

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "collector/collector.h"
#include "collector/probe.h"
#include "core/clock.h"
#include "tests/testutil/testutil.h"

namespace nines::collector::probe_test {

namespace asio = boost::asio;
using asio::ip::tcp;

// --- Certificates ---------------------------------------------------------------------------

struct CertFiles {
  std::string cert;
  std::string key;
};

// A self-signed P-256 certificate for CN=`cn`, SAN localhost and 127.0.0.1, valid from now +
// `not_before` to now + `not_after` (seconds; negative is the past), written as PEM into `dir`.
inline CertFiles MakeCert(const testutil::TempDir& dir, const std::string& name,
                          long not_before, long not_after, const std::string& cn = "localhost") {
  static std::atomic<long> serial{1};
  CertFiles out{dir.File(name + ".crt"), dir.File(name + ".key")};
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), not_before);
  X509_gmtime_adj(X509_getm_notAfter(x), not_after);
  X509_set_pubkey(x, pkey);
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, const char*>{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                            {NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, pkey, EVP_sha256());
  BIO* b = BIO_new_file(out.cert.c_str(), "w");
  PEM_write_bio_X509(b, x);
  BIO_free(b);
  b = BIO_new_file(out.key.c_str(), "w");
  PEM_write_bio_PrivateKey(b, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return out;
}

// --- Sockets --------------------------------------------------------------------------------

inline bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A peer binary from $env or its Debian path; the test fails (never skips) when it is missing.
inline std::string PeerBinary(const char* env, const std::string& fallback) {
  const char* v = std::getenv(env);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// --- nginx ----------------------------------------------------------------------------------

// Debian's nginx serving the probe tests' fixtures: a plain HTTP server and three HTTPS servers
// (a certificate expiring in 2 days, an expired one, and one that requires a client
// certificate). Runs in the foreground as one process (master_process off, so running as root
// does not switch users) with everything under its own directory; stopped by PID.
class NginxPeer {
 public:
  NginxPeer() {
    binary_ = PeerBinary("NINES_NGINX", "/usr/sbin/nginx");
    if (!std::filesystem::exists(binary_)) {
      error_ = binary_ + " is not installed: run scripts/install-deps.sh (Debian's nginx-light)";
      return;
    }
    http_port = testutil::UnusedPort();
    https_port = testutil::UnusedPort();
    expired_port = testutil::UnusedPort();
    mtls_port = testutil::UnusedPort();
    good = MakeCert(dir_, "good", -3600, 2 * 86400);
    expired = MakeCert(dir_, "expired", -10 * 86400, -86400);
    client = MakeCert(dir_, "client", -3600, 86400, "nines-probe-client");
    std::filesystem::create_directories(dir_.File("www"));
    std::filesystem::create_directories(dir_.File("logs"));
    dir_.Write("www/health.json",
               R"({"status": "ok", "version": 3.25, "checks": [{"name": "db", "ok": true},)"
               R"( {"name": "cache", "latency_ms": [1, 2.5e1]}], "msg": "say \"hi\"\u0021 \u00e9\ud83d\ude00",)"
               R"( "nested": {"a": {"b": null}}, "a/b": 1, "m~n": {"x": "y"}, "empty": {}})");
    dir_.Write("www/degraded.json", R"({"status":"degraded"})");
    dir_.Write("www/notjson.json", "<html>oops</html>");
    dir_.Write("www/big.bin", std::string(2 << 20, 'x'));
    dir_.Write("www/medium.bin", std::string(200 << 10, 'x') + "END\n");
    dir_.Write("www/huge.bin", std::string(8 << 20, 'a') + "END\n");
    const std::string conf = dir_.Write("nginx.conf", Config());
    process_.emplace(std::vector<std::string>{binary_, "-p", dir_.path() + "/", "-c", conf, "-e",
                                              "stderr"});
    const bool up = testutil::WaitFor([&] {
      return PortAccepts(http_port) && PortAccepts(https_port) && PortAccepts(expired_port) &&
             PortAccepts(mtls_port);
    });
    if (!up) error_ = "nginx did not start: " + process_->output();
  }

  ~NginxPeer() {
    if (process_) {
      process_->Signal(SIGTERM);
      process_->Wait(std::chrono::seconds(10));
    }
  }

  // Empty when nginx runs; else why not.
  const std::string& error() const { return error_; }
  std::string Http(const std::string& path) const {
    return fmt::format("http://127.0.0.1:{}{}", http_port, path);
  }
  std::string Https(int port, const std::string& path = "/") const {
    return fmt::format("https://127.0.0.1:{}{}", port, path);
  }
  const testutil::TempDir& dir() const { return dir_; }

  int http_port = 0, https_port = 0, expired_port = 0, mtls_port = 0;
  CertFiles good, expired, client;

 private:
  std::string Config() const {
    const std::string d = dir_.path();
    std::string tls_servers;
    for (auto [port, cert, extra] :
         {std::tuple<int, CertFiles, std::string>{https_port, good, ""},
          {expired_port, expired, ""},
          {mtls_port, good,
           fmt::format("ssl_verify_client on; ssl_client_certificate {};", client.cert)}}) {
      tls_servers += fmt::format(R"(
  server {{
    listen 127.0.0.1:{} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate {};
    ssl_certificate_key {};
    {}
    location / {{ return 200 "secure hello\n"; }}
  }})",
                                 port, cert.cert, cert.key, extra);
    }
    return fmt::format(R"(
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  types {{ application/json json; text/plain txt; application/octet-stream bin; }}
  default_type text/plain;
  absolute_redirect off;
  server {{
    listen 127.0.0.1:{http};
    root {d}/www;
    location = / {{ return 200 "hello nines\n"; }}
    location = /fail {{ return 503 "down for maintenance\n"; }}
    location = /headers {{
      add_header X-Version "v2.1";
      add_header X-Multi "first";
      add_header X-Multi "second";
      return 200 "headers\n";
    }}
    location = /needs-token {{
      if ($http_x_token != "s3cret") {{ return 401 "who are you\n"; }}
      return 200 "token ok\n";
    }}
    location = /post-only {{
      client_max_body_size 16;
      if ($request_method != POST) {{ return 405 "POST please\n"; }}
      return 200 "posted\n";
    }}
    location = /chain/1 {{ return 302 /chain/2; }}
    location = /chain/2 {{ return 301 http://127.0.0.1:{http}/chain/3; }}
    location = /chain/3 {{ return 307 final; }}
    location = /chain/final {{ return 200 "end of chain\n"; }}
    location = /loop {{ return 302 /loop; }}
    location = /moved {{ return 301 /; }}
    location = /to-https {{ return 302 https://127.0.0.1:{https}/; }}
  }}
  {tls}
}}
)",
                       fmt::arg("d", d), fmt::arg("http", http_port), fmt::arg("https", https_port),
                       fmt::arg("tls", tls_servers));
  }

  testutil::TempDir dir_;
  std::string binary_;
  std::string error_;
  std::optional<testutil::ChildProcess> process_;
};

// --- blackbox_exporter ----------------------------------------------------------------------

// Debian's prometheus-blackbox-exporter on a free loopback port with `config` as blackbox.yml.
class BlackboxPeer {
 public:
  explicit BlackboxPeer(const std::string& config) {
    const std::string binary =
        PeerBinary("NINES_BLACKBOX_EXPORTER", "/usr/bin/prometheus-blackbox-exporter");
    if (!std::filesystem::exists(binary)) {
      error_ = binary +
               " is not installed: run scripts/install-deps.sh (Debian's "
               "prometheus-blackbox-exporter)";
      return;
    }
    port = testutil::UnusedPort();
    const std::string file = dir_.Write("blackbox.yml", config);
    process_.emplace(std::vector<std::string>{
        binary, "--config.file=" + file,
        fmt::format("--web.listen-address=127.0.0.1:{}", port)});
    if (!process_->WaitForOutput("Listening on", std::chrono::seconds(20)) ||
        !testutil::WaitFor([&] { return PortAccepts(port); })) {
      error_ = "blackbox_exporter did not start: " + process_->output();
    }
  }
  ~BlackboxPeer() {
    if (process_) {
      process_->Signal(SIGTERM);
      process_->Wait(std::chrono::seconds(10));
    }
  }
  const std::string& error() const { return error_; }
  std::string output() const { return process_ ? process_->output() : ""; }

  int port = 0;

 private:
  testutil::TempDir dir_;
  std::string error_;
  std::optional<testutil::ChildProcess> process_;
};

// --- In-test servers ------------------------------------------------------------------------

// A loopback TCP server on its own thread. kEcho greets with "nines-echo ready\n" then echoes
// what it gets; kSlowHttp answers any request "200 ok" after `delay`; kStalledBody answers a
// request with a 200 status, headers (Content-Length: 1000) and the first 12 bytes of the body
// ("partial body"), then sends nothing more and keeps the connection open; kSilent accepts and
// never writes; kNotListening... is a closed port (UnusedPort()), not a server.
class LoopbackServer {
 public:
  enum class Mode { kEcho, kSlowHttp, kStalledBody, kSilent };

  explicit LoopbackServer(Mode mode, core::Duration delay = core::Duration::Zero())
      : mode_(mode), delay_(delay), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LoopbackServer() {
    io_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket s, asio::io_context& io) : socket(std::move(s)), timer(io) {}
    tcp::socket socket;
    asio::steady_timer timer;
    asio::streambuf in;
    std::array<char, 4096> buf{};
    std::string out;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<Session>(std::move(socket), io_);
      switch (mode_) {
        case Mode::kEcho:
          s->out = "nines-echo ready\n";
          asio::async_write(s->socket, asio::buffer(s->out),
                            [this, s](boost::system::error_code wec, size_t) {
                              if (!wec) Echo(s);
                            });
          break;
        case Mode::kSlowHttp:
          asio::async_read_until(s->socket, s->in, "\r\n\r\n",
                                 [this, s](boost::system::error_code rec, size_t) {
                                   if (rec) return;
                                   s->timer.expires_after(std::chrono::nanoseconds(delay_.nanos()));
                                   s->timer.async_wait([s](boost::system::error_code) {
                                     s->out =
                                         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: "
                                         "close\r\n\r\nslow\n";
                                     asio::async_write(s->socket, asio::buffer(s->out),
                                                       [s](boost::system::error_code, size_t) {});
                                   });
                                 });
          break;
        case Mode::kStalledBody:
          silent_.push_back(s);  // kept open after the partial body
          asio::async_read_until(s->socket, s->in, "\r\n\r\n",
                                 [s](boost::system::error_code rec, size_t) {
                                   if (rec) return;
                                   s->out =
                                       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                       "Content-Length: 1000\r\n\r\npartial body";
                                   asio::async_write(s->socket, asio::buffer(s->out),
                                                     [s](boost::system::error_code, size_t) {});
                                 });
          break;
        case Mode::kSilent:
          silent_.push_back(s);  // kept open, never written to
          break;
      }
      Accept();
    });
  }

  void Echo(std::shared_ptr<Session> s) {
    s->socket.async_read_some(asio::buffer(s->buf), [this, s](boost::system::error_code ec, size_t n) {
      if (ec) return;
      s->out.assign(s->buf.data(), n);
      asio::async_write(s->socket, asio::buffer(s->out), [this, s](boost::system::error_code wec, size_t) {
        if (!wec) Echo(s);
      });
    });
  }

  Mode mode_;
  core::Duration delay_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::vector<std::shared_ptr<Session>> silent_;
  std::thread thread_;
};

// --- Running a probe ------------------------------------------------------------------------

using StartFn = void (*)(asio::io_context&, core::Clock&, std::shared_ptr<const CheckSpec>,
                         ProbeDone);

// Runs one probe to its end on a private io_context: bounded by the check's timeout plus slack.
inline ProbeResult RunProbe(StartFn start, CheckSpec spec, core::Clock& clock = core::RealClock()) {
  asio::io_context io;
  std::optional<ProbeResult> out;
  int calls = 0;
  const auto bound = std::chrono::nanoseconds(spec.timeout.nanos()) + std::chrono::seconds(5);
  start(io, clock, std::make_shared<const CheckSpec>(std::move(spec)), [&](ProbeResult r) {
    ++calls;
    out = std::move(r);
  });
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!out && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
  }
  // Whatever is still queued runs, so that a second `done` would be seen.
  io.restart();
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(calls, 1) << "done must be called exactly once";
  if (!out) {
    ProbeResult never;
    never.reason = "TEST: the probe never finished";
    return never;
  }
  return *out;
}

// The value of metric `name` whose labels include `labels`, or nullopt.
inline std::optional<double> Metric(const ProbeResult& r, std::string_view name,
                                    const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  for (const ProbeMetric& m : r.metrics) {
    if (m.name != name) continue;
    bool all = true;
    for (const auto& l : labels) {
      if (std::find(m.labels.begin(), m.labels.end(), l) == m.labels.end()) all = false;
    }
    if (all) return m.value;
  }
  return std::nullopt;
}

inline std::string Describe(const ProbeResult& r) {
  std::string s = fmt::format("success={} reason=\"{}\" duration={}\n", r.success, r.reason,
                              r.duration.ToString());
  for (const ProbeMetric& m : r.metrics) {
    s += "  " + m.name;
    for (const auto& [k, v] : m.labels) s += fmt::format(" {}={}", k, v);
    s += fmt::format(" {}\n", m.value);
  }
  return s;
}

}  // namespace nines::collector::probe_test

#endif  // NINES_TESTS_COLLECTOR_PROBE_TEST_PEERS_H_

// docs/DEPLOYMENT.md, followed on loopback: a private CA and an engine certificate made with the
// guide's openssl commands, a write token per agent and an admin token, `nines serve` over HTTPS
// with token files, `nines agent` shipping to it with tls_config.ca_file and token_file; and the
// systemd units of deploy/systemd checked by systemd-analyze.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "net/http_client.h"
#include "net/net.h"
#include "tests/testutil/testutil.h"

namespace nines {
namespace {

using std::chrono::milliseconds;
using testutil::ChildProcess;
using testutil::NinesProcess;
using testutil::TempDir;

// Runs `script` with bash in `dir`; returns its exit code, failing the test with its output when
// it is not 0.
int Bash(const std::string& dir, const std::string& script) {
  ChildProcess sh({"/bin/bash", "-c", "set -euo pipefail; cd '" + dir + "'; " + script});
  std::optional<int> rc = sh.Wait(milliseconds(60000));
  EXPECT_EQ(rc, 0) << script << "\n" << sh.output();
  return rc.value_or(-1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of the first sample of `metric` in a Prometheus text page, or -1.
double MetricIn(const std::string& page, const std::string& metric) {
  size_t at = page.find("\n" + metric + " ");
  if (at == std::string::npos) at = page.find("\n" + metric + "{");
  if (at == std::string::npos) return -1;
  size_t sp = page.find(' ', page.find_first_of(" }", at + 1));
  return std::stod(page.substr(sp + 1, page.find('\n', sp + 1) - sp - 1));
}

TEST(DeploymentE2eTest, AgentShipsToAnHttpsEngineWithTokensAsTheGuideSays) {
  TempDir dir;
  const std::string etc = dir.File("etc");
  std::filesystem::create_directories(etc + "/tls");
  // Section 2 of the guide, with the engine named by its address instead of a DNS name.
  ASSERT_EQ(Bash(etc + "/tls",
                 "openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=nines CA' "
                 "-keyout ca.key -out ca.crt 2>/dev/null;"
                 "openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' "
                 "-keyout server.key -out server.csr 2>/dev/null;"
                 "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
                 "-days 825 -extfile <(printf 'subjectAltName=IP:127.0.0.1') -out server.crt "
                 "2>/dev/null"),
            0);
  // Section 3.
  ASSERT_EQ(Bash(etc,
                 "openssl rand -hex 32 > dublin.token; openssl rand -hex 32 > admin.token;"
                 "cat dublin.token > write-tokens"),
            0);
  auto first_line = [](std::string s) { return s.substr(0, s.find('\n')); };
  const std::string admin_token = first_line(ReadFile(etc + "/admin.token"));
  ASSERT_EQ(admin_token.size(), 64u);

  // A service to probe: a plain HTTP server in this process.
  net::Router router;
  router.Handle("GET", "/health", net::Access::kPublic,
                [](const net::Request&) { return net::Response::Json(200, R"({"status":"ok"})"); });
  net::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.access_log = false;
  auto target = std::move(*net::Server::Start(so, std::move(router), core::RealClock(), nullptr));

  const std::string shared =
      "regions:\n  - name: eu-west-1\n    locations: [dublin, london]\n"
      "services:\n  - name: api\n    checks:\n      - name: api-eu\n        region: eu-west-1\n"
      "        interval: 1s\n        timeout: 500ms\n        http: {url: \"http://127.0.0.1:" +
      std::to_string(target->port()) + "/health\"}\n";
  const int port = testutil::UnusedPort();
  const std::string engine_url = "https://127.0.0.1:" + std::to_string(port);
  // Section 4.
  const std::string engine_config = dir.Write(
      "etc/nines.yaml", "server:\n  listen: 127.0.0.1:" + std::to_string(port) +
                            "\n  tls:\n    cert_file: tls/server.crt\n    key_file: tls/server.key\n"
                            "  auth:\n    write_token_file: write-tokens\n"
                            "    admin_token_file: admin.token\n"
                            "storage:\n  data_dir: " + dir.File("data") + "\n" + shared);
  // Section 5.
  auto agent_config = [&](const std::string& location, const std::string& tls) {
    return dir.Write("etc/agent-" + location + ".yaml",
                     shared + "collector:\n  location: " + location + "\n" +
                         "agent:\n  engine_url: " + engine_url + "/api/v1/write\n" +
                         "  token_file: dublin.token\n" + tls + "  queue_dir: " +
                         dir.File("queue-" + location) + "\n  listen: 127.0.0.1:0\n" +
                         "  flush_interval: 200ms\n  send_timeout: 2s\n");
  };
  const std::string dublin = agent_config("dublin", "  tls_config:\n    ca_file: tls/ca.crt\n");
  // An agent that does not trust the private CA must not deliver anything.
  const std::string london = agent_config("london", "");

  // The units' ExecStartPre.
  for (const std::string& config : {engine_config, dublin}) {
    NinesProcess check({"check", config});
    EXPECT_EQ(check.Wait(milliseconds(20000)), 0) << check.output();
  }
  NinesProcess engine({"serve", "--config", engine_config, "--log-level", "warning"});
  ASSERT_EQ(engine.WaitForUrl(), engine_url);
  NinesProcess agent({"agent", "--config", dublin, "--log-level", "warning"});
  const std::string agent_url = agent.WaitForUrl();
  NinesProcess untrusting({"agent", "--config", london, "--log-level", "error"});
  const std::string untrusting_url = untrusting.WaitForUrl();
  ASSERT_FALSE(agent_url.empty());
  ASSERT_FALSE(untrusting_url.empty());

  net::ClientOptions co;
  co.ca_file = etc + "/tls/ca.crt";
  net::HttpClient client(co);
  auto get = [&](const std::string& url) {
    auto r = client.Do({.method = "GET", .url = url});
    return r.ok() ? *r : net::ClientResponse{};
  };
  // The guide's check of the engine, then the dublin agent's probes arrive over HTTPS.
  EXPECT_EQ(get(engine_url + "/readyz").status, 200);
  std::string samples;
  EXPECT_TRUE(testutil::WaitFor(
      [&] {
        samples = get(engine_url +
                      "/api/v1/samples?match[]=probe_success%7Blocation%3D%22dublin%22%7D")
                      .body;
        return samples.find("\"location\":\"dublin\"") != std::string::npos;
      },
      core::Duration::Seconds(30)))
      << samples << "\nengine:\n" << engine.output() << "\nagent:\n" << agent.output();

  // london does not trust the engine's certificate: it keeps failing and delivers nothing.
  net::HttpClient plain(net::ClientOptions{});
  std::string page;
  EXPECT_TRUE(testutil::WaitFor(
      [&] {
        auto r = plain.Do({.method = "GET", .url = untrusting_url + "/metrics"});
        page = r.ok() ? r->body : "";
        return MetricIn(page, "nines_agent_send_failures_total") >= 1;
      },
      core::Duration::Seconds(30)))
      << page;
  EXPECT_LE(MetricIn(page, "nines_agent_sent_records_total"), 0) << page;
  EXPECT_EQ(get(engine_url + "/api/v1/samples?match[]=probe_success%7Blocation%3D%22london%22%7D")
                .body.find("\"location\":\"london\""),
            std::string::npos);

  // Writes and admin calls need their tokens.
  EXPECT_EQ(client.Do({.method = "POST", .url = engine_url + "/api/v1/write"})->status, 401);
  EXPECT_EQ(client.Do({.method = "POST", .url = engine_url + "/-/reload"})->status, 401);
  net::ClientRequest reload{.method = "POST", .url = engine_url + "/-/reload"};
  reload.headers.Set("Authorization", "Bearer " + admin_token);
  EXPECT_EQ(client.Do(reload)->status, 200);

  for (NinesProcess* c : {&untrusting, &agent, &engine}) {
    EXPECT_EQ(c->Stop(), 0) << c->output();
  }
  target->Shutdown();
}

TEST(DeploymentE2eTest, SystemdUnitsVerifyCleanly) {
  TempDir dir;
  for (const char* unit : {"nines.service", "nines-agent.service"}) {
    SCOPED_TRACE(unit);
    std::string text = ReadFile(testutil::SourceDir() + "/deploy/systemd/" + unit);
    ASSERT_FALSE(text.empty());
    // systemd-analyze checks that the binaries exist: point them at the one under test.
    for (size_t at; (at = text.find("/usr/local/bin/nines")) != std::string::npos;) {
      text.replace(at, std::string("/usr/local/bin/nines").size(), testutil::NinesBinary());
    }
    const std::string path = dir.Write(unit, text);
    ChildProcess verify({"/usr/bin/systemd-analyze", "verify", path});
    EXPECT_EQ(verify.Wait(milliseconds(30000)), 0) << verify.output();
    // Unknown keys and malformed lines are only warned about: there must be none.
    EXPECT_EQ(verify.output(), "");
  }
}

}  // namespace
}  // namespace nines

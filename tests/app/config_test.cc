#include "app/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace nines::app {
namespace {

namespace fs = std::filesystem;
using core::Duration;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const fs::path kTestdata = NINES_APP_TESTDATA;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Join(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) out += e.ToString() + "\n";
  return out;
}

// Parses testdata/<rel> naming it "<rel>" in errors, so that goldens do not depend on where the
// source tree is.
std::vector<ConfigError> ParseTestdata(const std::string& rel, Config* cfg) {
  fs::path path = kTestdata / rel;
  return ParseConfig(ReadFile(path), rel, cfg, path.parent_path().string());
}

std::vector<std::string> YamlFilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kTestdata / dir)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<ConfigError> Parse(std::string_view yaml, Config* cfg = nullptr) {
  return ParseConfig(yaml, "test.yaml", cfg);
}

std::vector<std::string> Messages(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.ToString());
  return out;
}

// Every valid/*.yaml parses without an error.
TEST(ConfigGoldenTest, EveryValidFileHasNoErrors) {
  std::vector<std::string> names = YamlFilesIn("valid");
  ASSERT_GE(names.size(), 3u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    Config cfg;
    EXPECT_EQ(Join(ParseTestdata("valid/" + name, &cfg)), "");
  }
}

// Every invalid/X.yaml yields exactly the lines of invalid/X.yaml.errors. Set
// NINES_UPDATE_GOLDEN=1 to rewrite the .errors files (then review the diff).
TEST(ConfigGoldenTest, EveryInvalidFileMatchesItsGolden) {
  std::vector<std::string> names = YamlFilesIn("invalid");
  ASSERT_GE(names.size(), 15u);
  bool update = std::getenv("NINES_UPDATE_GOLDEN") != nullptr;
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    Config cfg;
    cfg.server.threads = 77;  // must be left alone on failure
    std::string actual = Join(ParseTestdata("invalid/" + name, &cfg));
    EXPECT_NE(actual, "") << "an invalid case must produce errors";
    EXPECT_EQ(cfg.server.threads, 77);
    fs::path golden = kTestdata / "invalid" / (name + ".errors");
    if (update) {
      std::ofstream(golden, std::ios::binary) << actual;
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << "missing golden " << golden;
    EXPECT_EQ(actual, ReadFile(golden));
  }
}

// A golden without its input would silently test nothing.
TEST(ConfigGoldenTest, EveryGoldenHasAnInput) {
  for (const auto& entry : fs::directory_iterator(kTestdata / "invalid")) {
    if (entry.path().extension() != ".errors") continue;
    SCOPED_TRACE(entry.path().filename().string());
    fs::path input = entry.path();
    input.replace_extension();
    EXPECT_TRUE(fs::exists(input));
  }
}

TEST(ConfigGoldenTest, FullFileSetsEveryField) {
  Config cfg;
  ASSERT_EQ(Join(ParseTestdata("valid/full.yaml", &cfg)), "");
  const ServerConfig& s = cfg.server;
  EXPECT_EQ(s.listen, "0.0.0.0:9100");
  EXPECT_EQ(s.threads, 8);
  EXPECT_EQ(s.max_connections, 5000);
  EXPECT_EQ(s.max_body_bytes, 512 * 1024);
  EXPECT_EQ(s.max_header_bytes, 32 * 1024);
  EXPECT_EQ(s.header_timeout, Duration::Seconds(5));
  EXPECT_EQ(s.body_timeout, Duration::Minutes(1));
  EXPECT_EQ(s.idle_timeout, Duration::Minutes(2));
  EXPECT_EQ(s.shutdown_timeout, Duration::Seconds(15) + Duration::Milliseconds(500));
  EXPECT_FALSE(s.access_log);
  EXPECT_TRUE(s.tls.enabled());
  EXPECT_EQ(s.tls.cert_file, (kTestdata / "files/test-cert.pem").lexically_normal().string());
  EXPECT_EQ(s.tls.key_file, (kTestdata / "files/test-key.pem").lexically_normal().string());
  EXPECT_THAT(s.auth.write_tokens, ElementsAre("inline-write-token-0001", "file-write-token-0001",
                                               "file-write-token-0002"));
  EXPECT_EQ(s.auth.write_token_file, (kTestdata / "files/tokens.txt").lexically_normal().string());
  EXPECT_THAT(s.auth.admin_tokens, ElementsAre("inline-admin-token-0001"));
  EXPECT_EQ(s.auth.admin_token_file, "");
  EXPECT_EQ(cfg.storage.data_dir, "/var/lib/nines");
  EXPECT_EQ(cfg.storage.out_of_order_window, Duration::Minutes(30));
  EXPECT_EQ(cfg.storage.future_tolerance, Duration::Minutes(2));
  EXPECT_TRUE(cfg.storage.sync);
  EXPECT_EQ(cfg.storage.raw_retention, Duration::Days(14));
  EXPECT_EQ(cfg.storage.rollup_1m_retention, Duration::Days(90));
  EXPECT_EQ(cfg.storage.rollup_1h_retention, Duration::Days(730));
  EXPECT_DOUBLE_EQ(cfg.slo.default_objective, 99.95);
  EXPECT_EQ(cfg.slo.default_window, Duration::Days(28));
  ASSERT_EQ(cfg.regions.size(), 2u);
  EXPECT_EQ(cfg.regions[0].name, "us-east-1");
  EXPECT_EQ(cfg.regions[0].display_name, "US East");
  EXPECT_THAT(cfg.regions[0].locations, ElementsAre("ashburn", "new-york"));
  EXPECT_EQ(cfg.regions[1].name, "eu-west-1");
  EXPECT_EQ(cfg.regions[1].display_name, "eu-west-1");  // defaults to the name
  EXPECT_THAT(cfg.regions[1].locations, IsEmpty());
  EXPECT_EQ(cfg.log.level, core::LogLevel::kDebug);
}

TEST(ConfigGoldenTest, EmptyFileYieldsDefaults) {
  Config cfg;
  cfg.server.threads = 77;
  ASSERT_EQ(Join(ParseTestdata("valid/empty.yaml", &cfg)), "");
  EXPECT_EQ(cfg.server.threads, 2);
  EXPECT_EQ(cfg.server.listen, "127.0.0.1:9099");
}

TEST(ConfigTest, DefaultsAreAsDocumented) {
  Config cfg = DefaultConfig();
  EXPECT_EQ(cfg.server.listen, "127.0.0.1:9099");
  EXPECT_EQ(cfg.server.threads, 2);
  EXPECT_EQ(cfg.server.max_connections, 1024);
  EXPECT_EQ(cfg.server.max_body_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(cfg.server.max_header_bytes, 16384);
  EXPECT_EQ(cfg.server.header_timeout, Duration::Seconds(10));
  EXPECT_EQ(cfg.server.body_timeout, Duration::Seconds(30));
  EXPECT_EQ(cfg.server.idle_timeout, Duration::Seconds(60));
  EXPECT_EQ(cfg.server.shutdown_timeout, Duration::Seconds(10));
  EXPECT_TRUE(cfg.server.access_log);
  EXPECT_FALSE(cfg.server.tls.enabled());
  EXPECT_THAT(cfg.server.auth.write_tokens, IsEmpty());
  EXPECT_EQ(cfg.storage.data_dir, "./data");
  EXPECT_DOUBLE_EQ(cfg.slo.default_objective, 99.8);
  EXPECT_EQ(cfg.slo.default_window, Duration::Days(30));
  EXPECT_THAT(cfg.regions, IsEmpty());
  EXPECT_EQ(cfg.log.level, core::LogLevel::kInfo);
}

// Issue 12: when an agent counts as lost, and how long an alert whose data stopped stays active.
TEST(ConfigTest, AgentDownAfterAndNoDataResolveAfter) {
  Config cfg;
  EXPECT_EQ(cfg.slo.agent_down_after, Duration::Minutes(2));
  EXPECT_EQ(cfg.slo.no_data_resolve_after, Duration::Hours(24));
  ASSERT_THAT(Parse("slo:\n  agent_down_after: 30s\n  no_data_resolve_after: 6h\n", &cfg),
              IsEmpty());
  EXPECT_EQ(cfg.slo.agent_down_after, Duration::Seconds(30));
  EXPECT_EQ(cfg.slo.no_data_resolve_after, Duration::Hours(6));
  std::string errors =
      Join(Parse("slo:\n  agent_down_after: 1s\n  no_data_resolve_after: 10s\n"));
  EXPECT_THAT(errors, ::testing::HasSubstr("test.yaml:2:21: slo.agent_down_after"));
  EXPECT_THAT(errors, ::testing::HasSubstr("test.yaml:3:26: slo.no_data_resolve_after"));
}

TEST(ConfigTest, EmptyAndNullDocumentsAreDefaults) {
  for (std::string_view text : {"", "\n", "# only a comment\n", "~\n", "---\n", "null"}) {
    SCOPED_TRACE(text);
    Config cfg;
    cfg.server.threads = 9;
    EXPECT_THAT(Parse(text, &cfg), IsEmpty());
    EXPECT_EQ(cfg.server.threads, 2);
  }
}

TEST(ConfigTest, NullSectionsAreDefaults) {
  Config cfg;
  EXPECT_THAT(Parse("server:\nstorage:\nslo:\nregions:\nlog:\n", &cfg), IsEmpty());
  EXPECT_EQ(cfg.server.threads, 2);
}

TEST(ConfigTest, SizesAcceptIntegersAndUnits) {
  struct Case {
    std::string text;
    int64_t bytes;
  };
  for (const Case& c : std::vector<Case>{{"1024", 1024},
                                         {"16MiB", 16 << 20},
                                         {"512KiB", 512 << 10},
                                         {"512 KiB", 512 << 10},
                                         {"10MB", 10'000'000},
                                         {"2kB", 2000},
                                         {"1GiB", 1 << 30},
                                         {"4096B", 4096}}) {
    SCOPED_TRACE(c.text);
    Config cfg;
    ASSERT_THAT(Messages(Parse("server:\n  max_body_bytes: " + c.text + "\n", &cfg)), IsEmpty());
    EXPECT_EQ(cfg.server.max_body_bytes, c.bytes);
  }
}

TEST(ConfigTest, ErrorsPointAtTheOffendingNode) {
  EXPECT_THAT(Messages(Parse("server:\n  threads:   two\n")),
              ElementsAre("test.yaml:2:14: server.threads: expected an integer, got \"two\""));
  // An empty value is reported at its key (yaml-cpp marks it at the next token).
  EXPECT_THAT(
      Messages(Parse("server:\n  threads:\n  listen: x:1\n")),
      ElementsAre("test.yaml:2:3: server.threads: expected an integer, got an empty value"));
}

TEST(ConfigTest, ListenAddresses) {
  for (std::string_view ok : {"127.0.0.1:9099", ":9099", "[::1]:0", "localhost:65535"}) {
    SCOPED_TRACE(ok);
    Config cfg;
    EXPECT_THAT(Messages(Parse("server: {listen: \"" + std::string(ok) + "\"}", &cfg)), IsEmpty());
    EXPECT_EQ(cfg.server.listen, ok);
  }
  for (std::string_view bad : {"9099", "::1:9099", "host:", "host:65536", "[::1:80", "h:x"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(Parse("server: {listen: \"" + std::string(bad) + "\"}").size(), 1u);
  }
}

TEST(ConfigTest, LogLevels) {
  Config cfg;
  ASSERT_THAT(Parse("log: {level: warning}", &cfg), IsEmpty());
  EXPECT_EQ(cfg.log.level, core::LogLevel::kWarning);
  ASSERT_THAT(Parse("log: {level: error}", &cfg), IsEmpty());
  EXPECT_EQ(cfg.log.level, core::LogLevel::kError);
}

TEST(ConfigTest, NoExceptionEscapesOnOddInput) {
  for (std::string_view text :
       {"[", "{", "a: *x", "&a [*a]", "? [1, 2]\n: 3\n", "server: !!binary xyz", "\t", "'",
        "server: {tls: [1]}", "regions: [[], {}, ~, 3]", "\xff\xfe", "- - - - -"}) {
    SCOPED_TRACE(text);
    Config cfg;
    EXPECT_NO_THROW({ (void)Parse(text, &cfg); });
  }
  std::string deep(10000, '[');
  EXPECT_NO_THROW({ (void)Parse(deep); });
}

TEST(ConfigFileTest, UnreadableFileIsOneError) {
  Config cfg;
  std::vector<ConfigError> errors = LoadConfigFile("/nonexistent/nines.yaml", &cfg);
  EXPECT_THAT(Messages(errors),
              ElementsAre("/nonexistent/nines.yaml:1:1: cannot read: No such file or directory"));
}

TEST(ConfigFileTest, RelativePathsResolveAgainstTheConfigDirectory) {
  // The file is named by its absolute path, so its token and TLS paths resolve against its
  // directory whatever the working directory is.
  Config cfg;
  std::string path = (kTestdata / "valid/full.yaml").string();
  ASSERT_THAT(Messages(LoadConfigFile(path, &cfg)), IsEmpty());
  EXPECT_TRUE(fs::exists(cfg.server.tls.cert_file));
  EXPECT_EQ(cfg.server.auth.write_tokens.size(), 3u);
}

TEST(ConfigFileTest, ErrorsNameTheFileAsGiven) {
  std::string path = (kTestdata / "invalid/bad_duration.yaml").string();
  Config cfg;
  std::vector<ConfigError> errors = LoadConfigFile(path, &cfg);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, path);
}

TEST(ConfigFileTest, LoadConfigJoinsErrorsIntoAStatus) {
  core::Result<Config> bad = LoadConfig((kTestdata / "invalid/multiple_errors.yaml").string());
  ASSERT_FALSE(bad.ok());
  core::Status status = bad.status();
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_GT(std::count(status.message().begin(), status.message().end(), '\n'), 3);
  core::Result<Config> good = LoadConfig((kTestdata / "valid/full.yaml").string());
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->server.threads, 8);
}

TEST(ExampleConfigTest, ExampleIsCleanAndHasTheThreeRegions) {
  Config cfg;
  std::string path = std::string(NINES_EXAMPLES_DIR) + "/nines.yaml";
  ASSERT_EQ(Join(LoadConfigFile(path, &cfg)), "");
  ASSERT_EQ(cfg.regions.size(), 3u);
  EXPECT_EQ(cfg.regions[0].name, "us-east-1");
  EXPECT_EQ(cfg.regions[1].name, "eu-west-1");
  EXPECT_EQ(cfg.regions[2].name, "ap-southeast-2");
  for (const RegionConfig& r : cfg.regions) EXPECT_GE(r.locations.size(), 2u) << r.name;
  EXPECT_DOUBLE_EQ(cfg.slo.default_objective, 99.8);
}

TEST(CollectorConfigTest, ParsesChecksAndAssignsThemToLocations) {
  Config cfg;
  ASSERT_THAT(Messages(ParseTestdata("valid/collector.yaml", &cfg)), IsEmpty());
  EXPECT_EQ(cfg.collector.location, "us-east-1a");
  EXPECT_EQ(cfg.collector.max_concurrency, 500);
  EXPECT_EQ(cfg.agent.engine_url, "http://127.0.0.1:9099/api/v1/write");
  EXPECT_EQ(cfg.agent.queue_max_bytes, 256 * 1024 * 1024);
  ASSERT_EQ(cfg.services.size(), 2u);
  const collector::CheckSpec& api = cfg.services[0].checks[0].spec;
  EXPECT_EQ(api.service, "api");
  EXPECT_EQ(api.kind, collector::CheckKind::kHttp);
  EXPECT_EQ(api.target, "https://us.example.com/health");
  EXPECT_EQ(api.http.valid_status_codes,
            (std::vector<std::pair<int, int>>{{200, 200}, {300, 399}}));
  EXPECT_EQ(api.http.json_checks.at(0).pointer, "/status");
  EXPECT_EQ(api.http.json_checks.at(0).equals, "ok");
  EXPECT_EQ(api.http.max_redirects, 3);
  EXPECT_EQ(api.http.ip_preference, collector::IpPreference::kIp6);
  EXPECT_EQ(api.http.degraded_above, Duration::Seconds(2));
  EXPECT_TRUE(api.http.fail_if_header_matches.at(0).allow_missing);
  // Go's (RE2's) syntax, as blackbox_exporter's: (?i) and \pL are accepted.
  EXPECT_THAT(api.http.fail_if_body_not_matches,
              ElementsAre(R"("status":\s*"ok")", R"((?i)^\{\s*"\pL+")"));
  // Defaults: the region's locations, 15s interval, 5s timeout.
  EXPECT_THAT(cfg.services[0].checks[0].locations, ElementsAre("us-east-1a", "us-east-1b"));
  EXPECT_EQ(api.interval, Duration::Seconds(15));
  EXPECT_EQ(api.timeout, Duration::Seconds(5));
  const collector::CheckSpec& tcp = cfg.services[0].checks[1].spec;
  EXPECT_EQ(tcp.tcp.steps.at(0).send, "PING\n");
  EXPECT_TRUE(tcp.tcp.tls);
  EXPECT_EQ(tcp.extra_labels.Get("tier"), "1");
  const collector::CheckSpec& dns = cfg.services[1].checks[0].spec;
  EXPECT_EQ(dns.target, "[::1]:5353");
  EXPECT_EQ(dns.dns.query_type, "MX");
  EXPECT_THAT(dns.dns.valid_rcodes, ElementsAre("NOERROR", "NXDOMAIN"));
  EXPECT_EQ(cfg.services[1].checks[1].spec.tls.warn_before, Duration::Days(21));

  auto names = [&](std::string_view location) {
    std::vector<std::string> out;
    for (const collector::CheckSpec& c : ChecksForLocation(cfg, location)) {
      EXPECT_EQ(c.location, location);
      out.push_back(c.name);
    }
    return out;
  };
  EXPECT_THAT(names("us-east-1a"), ElementsAre("api-us", "dns-us"));
  EXPECT_THAT(names("us-east-1b"), ElementsAre("api-us", "api-eu-from-us", "dns-us"));
  EXPECT_THAT(names("eu-west-1a"), ElementsAre("cert-eu", "ping-eu"));
  EXPECT_THAT(names("nowhere"), IsEmpty());

  // Scrapes: job defaults to the service's name, timeout to min(5s, interval).
  ASSERT_EQ(cfg.services[0].scrapes.size(), 2u);
  const collector::ScrapeSpec& node = cfg.services[0].scrapes[0].spec;
  EXPECT_EQ(node.job, "api");
  EXPECT_EQ(node.url, "http://us.example.com:9100/metrics");
  EXPECT_EQ(node.sample_limit, 5000);
  EXPECT_EQ(node.interval, Duration::Seconds(15));
  EXPECT_EQ(node.timeout, Duration::Seconds(5));
  EXPECT_THAT(cfg.services[0].scrapes[0].locations, ElementsAre("us-east-1a", "us-east-1b"));
  const collector::ScrapeSpec& eu = cfg.services[0].scrapes[1].spec;
  EXPECT_EQ(eu.job, "api-eu");
  EXPECT_EQ(eu.timeout, Duration::Seconds(2));
  EXPECT_TRUE(eu.honor_labels);
  EXPECT_EQ(eu.bearer_token, "s3cret");
  EXPECT_EQ(eu.body_size_limit, 1024 * 1024);
  EXPECT_EQ(eu.extra_labels.Get("tier"), "1");
  auto scrapes = [&](std::string_view location) {
    std::vector<std::string> out;
    for (const collector::ScrapeSpec& s : ScrapesForLocation(cfg, location)) {
      EXPECT_EQ(s.location, location);
      out.push_back(s.job);
    }
    return out;
  };
  EXPECT_THAT(scrapes("us-east-1a"), ElementsAre("api", "api-eu"));
  EXPECT_THAT(scrapes("us-east-1b"), ElementsAre("api"));
  EXPECT_THAT(scrapes("eu-west-1a"), ElementsAre("api-eu"));
}

}  // namespace
}  // namespace nines::app

// The nines configuration: one YAML file, parsed into plain structs with a default on every
// field, validated completely (every problem is reported, each at its file:line:col).
//
// Schema (see examples/nines.yaml for a commented file):
//   server:  listen, threads, max_connections, max_body_bytes, max_header_bytes,
//            header_timeout, body_timeout, idle_timeout, shutdown_timeout, access_log,
//            tls: {cert_file, key_file}, auth: {write_tokens, write_token_file, admin_tokens,
//            admin_token_file}
//   storage: data_dir, out_of_order_window, future_tolerance, sync,
//            retention: {raw, rollup_1m, rollup_1h}
//   slo:     default_objective, default_window
//   regions: [{name, display_name, locations}]
//   log:     level
//   collector: location, max_concurrency, threads
//   agent:   engine_url, bearer_token, token_file, tls_config: {insecure_skip_verify, ca_file,
//            cert_file, key_file}, queue_dir, queue_max_bytes, flush_interval,
//            max_send_bytes, send_timeout, heartbeat_interval, listen
//   services: [{name, description, checks: [{name, region, locations, interval, timeout,
//            labels, and one of http/tcp/dns/tls/icmp}]}] (see config_collector.cc)
//   rule_files: [glob, ...]  (SLOs and alert rules; see app/rule_files.h)
//   alerting: an Alertmanager config inline (global, route, receivers, inhibit_rules,
//            time_intervals; see app/alerting_config.h) or config_file: PATH to an
//            alertmanager.yml, plus nines' own keys: external_url, alertmanagers: [{url,
//            bearer_token_file, timeout}] (see AlertingConfig)
//   oncall:  people: [{name, time_zone, contact_methods}], schedules: [{name, time_zone,
//            layers, overrides}], escalation_policies: [{name, repeat, steps}] (see
//            app/config_oncall.h; checked, not yet used by the engine)
// Relative tls and token file paths resolve against the directory of the config file; data_dir
// is kept as written (relative to the working directory of the process).
//
// The structs are plain values (thread-compatible). The parser reads token files and checks that
// TLS files are readable, so it touches the file system; it never throws.
#ifndef NINES_APP_CONFIG_H_
#define NINES_APP_CONFIG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/escalation.h"
#include "alerting/routing.h"
#include "alerting/schedule.h"
#include "alerting/template_set.h"
#include "collector/collector.h"
#include "core/log.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::app {

struct TlsConfig {
  // Paths as resolved (relative ones joined to the config file's directory). Both or neither.
  std::string cert_file;
  std::string key_file;

  bool enabled() const { return !cert_file.empty(); }
};

struct AuthConfig {
  // Bearer tokens accepted for remote write / admin endpoints: the inline tokens followed by
  // those read from the token file, in file order.
  std::vector<std::string> write_tokens;
  std::vector<std::string> admin_tokens;
  // The token files as resolved, or "" when not configured (kept so that a reload can reread).
  std::string write_token_file;
  std::string admin_token_file;
};

struct ServerConfig {
  // host:port; host may be empty (all interfaces) or a bracketed IPv6 address. Port 0 picks a
  // free port.
  std::string listen = "127.0.0.1:9099";
  int threads = 2;                                                // 1..256
  int max_connections = 1024;                                     // 1..1000000
  int64_t max_body_bytes = 16 * 1024 * 1024;                      // bytes, 1KiB..1GiB
  int64_t max_header_bytes = 16 * 1024;                           // bytes, 1KiB..1MiB
  core::Duration header_timeout = core::Duration::Seconds(10);    // > 0
  core::Duration body_timeout = core::Duration::Seconds(30);      // > 0
  core::Duration idle_timeout = core::Duration::Seconds(60);      // > 0
  core::Duration shutdown_timeout = core::Duration::Seconds(10);  // > 0
  bool access_log = true;
  TlsConfig tls;
  AuthConfig auth;
};

struct StorageConfig {
  std::string data_dir = "./data";  // non-empty
  // How far behind the engine's clock a late sample is still accepted (1m..7d).
  core::Duration out_of_order_window = core::Duration::Hours(2);
  // How far ahead of the engine's clock a sample is still accepted (0..1d): clock skew between
  // a sender and the engine. Later ones are refused as too_far_in_future.
  core::Duration future_tolerance = core::Duration::Minutes(10);
  // fsync every commit (survives power loss); otherwise commits survive kill -9.
  bool sync = false;
  // Retention per tier, measured from the engine's clock (each at least 1h).
  core::Duration raw_retention = core::Duration::Days(35);
  core::Duration rollup_1m_retention = core::Duration::Days(400);
  core::Duration rollup_1h_retention = core::Duration::Days(5 * 365);
  // How often nines writes its own metrics (/metrics) into its store, as job="nines"; 0 turns
  // it off.
  core::Duration self_scrape_interval = core::Duration::Seconds(15);
};

struct SloConfig {
  // A percentage: 0 < default_objective < 100.
  double default_objective = 99.8;
  core::Duration default_window = core::Duration::Days(30);  // >= 1h
  // How often SLOs and alert rules are evaluated (1s..10m).
  core::Duration evaluation_interval = core::Duration::Seconds(10);
  // An agent without a heartbeat for this long is down: NinesAgentDown fires, and probe SLOs
  // with a fixed quorum count with the probers that remain (>= 10s).
  core::Duration agent_down_after = core::Duration::Minutes(2);
  // An alert whose data stopped stays active (marked no_data) this long, then resolves (>= 1m).
  core::Duration no_data_resolve_after = core::Duration::Hours(24);
};

struct RegionConfig {
  std::string name;                    // required, [a-z0-9-]+, unique among regions
  std::string display_name;            // defaults to `name`
  std::vector<std::string> locations;  // non-empty strings, no duplicates
};

struct LogConfig {
  core::LogLevel level = core::LogLevel::kInfo;
};

// Where this process probes from, and how hard. `nines serve` runs the checks of its location
// when one is set; `nines agent` requires it.
struct CollectorConfig {
  std::string location;        // a location listed under regions (when regions are declared)
  int max_concurrency = 1000;  // probes in flight, 1..100000
  int threads = 1;             // io threads running probes, 1..64
};

// `nines agent`: where results go and how they wait when the engine is unreachable.
struct AgentConfig {
  // The engine's remote-write endpoint, e.g. "http://engine:9099/api/v1/write". REQUIRED for
  // `nines agent`.
  std::string engine_url;
  std::string bearer_token;  // inline, or read from token_file (first token)
  std::string token_file;
  // tls_config: how the agent verifies an https engine_url (a private CA) and, for mutual TLS,
  // the client certificate it presents. Paths as resolved.
  bool tls_verify = true;   // false: insecure_skip_verify
  std::string ca_file;      // "" uses the system's CAs
  std::string cert_file;    // both or neither
  std::string key_file;
  std::string queue_dir = "./agent-queue";
  int64_t queue_max_bytes = int64_t{1} << 30;  // 1MiB..1TiB; past it the oldest is dropped
  // How often measured samples are written to the queue as one record.
  core::Duration flush_interval = core::Duration::Seconds(1);
  // Uncompressed bytes per remote-write request (queued records are merged up to it), 64KiB..64MiB.
  int64_t max_send_bytes = 4 << 20;
  core::Duration send_timeout = core::Duration::Seconds(30);
  // nines_agent_heartbeat{region,location} is written this often; 0 turns it off.
  core::Duration heartbeat_interval = core::Duration::Seconds(15);
  // The agent's own HTTP endpoint (/metrics, /healthz, /api/v1/checks).
  std::string listen = "127.0.0.1:9100";
};

// One check as configured: the spec (its `location` left empty) and where it runs from.
struct CheckConfig {
  collector::CheckSpec spec;
  // Locations that run it; defaults to the locations of spec.region.
  std::vector<std::string> locations;
  int line = 0;  // where it is defined, for messages
};

// One scrape target as configured: the spec (its `location` left empty) and where it is
// scraped from.
struct ScrapeConfig {
  collector::ScrapeSpec spec;
  // Locations that scrape it; defaults to the locations of spec.region.
  std::vector<std::string> locations;
  int line = 0;
};

struct ServiceConfig {
  std::string name;  // [a-z0-9_-]+, unique
  std::string description;
  std::vector<CheckConfig> checks;
  std::vector<ScrapeConfig> scrapes;
};

// An existing Alertmanager that nines pushes its alerts to (alerting.alertmanagers[]), as
// Prometheus does: every firing alert resent with an extended endsAt, resolutions sent once.
struct AlertmanagerPushConfig {
  // The Alertmanager's base URL ("http://alertmanager:9093"); alerts go to
  // <url>/api/v2/alerts. http:// or https://.
  std::string url;
  // Sent as "Authorization: Bearer <token>" when set: the first token of bearer_token_file.
  std::string bearer_token;
  std::string bearer_token_file;  // as resolved, "" when not set
  core::Duration timeout = core::Duration::Seconds(10);  // per request, > 0
};

// `alerting:`: where alerts go beyond nines' log and /api/v1/alerts.
struct AlertingConfig {
  // Whether nines routes and notifies itself: an Alertmanager config was given, inline or as
  // config_file. Then nines runs its alerting service (routing, grouping, silences, receivers,
  // a notification log in <data_dir>/alerting) and serves Alertmanager's API v2.
  bool routing = false;
  alerting::AlertmanagerConfig alertmanager;  // meaningful when `routing`
  // Its template set: nines' built-in definitions plus its `templates:` files, read when the
  // config is (null unless `routing`). For alerting::ServiceOptions::templates.
  std::shared_ptr<const alerting::TemplateSet> templates;
  // alerting.config_file as resolved (relative to the config file's directory); "" when the
  // Alertmanager config is inline or absent. Reread by a reload.
  std::string config_file;
  // The URL people reach nines at, for links in notifications (the webhook's externalURL, the
  // "open in nines" links); "" means the server's own URL (http://<listen address>).
  std::string external_url;
  // Existing Alertmanagers to push every alert to (may be used with or without `routing`).
  std::vector<AlertmanagerPushConfig> alertmanagers;
  // The Alertmanager config as YAML text, with every secret (keys, tokens, passwords, webhook
  // URLs) replaced by "<secret>", as Alertmanager's /api/v2/status shows it. "" without
  // `routing`.
  std::string original_yaml;

  // Whether an `alerting:` section asks for anything at all.
  bool enabled() const { return routing || !alertmanagers.empty(); }
};

// `oncall:`: people and on-call schedules (app/config_oncall.h). Parsed and validated (`nines
// check`); the engine does not use them yet (issue 15).
struct OncallConfig {
  std::vector<alerting::Person> people;       // unique names, in file order
  std::vector<alerting::Schedule> schedules;  // built, unique names, in file order
  // Validated; their targets name the people and schedules above.
  std::vector<alerting::EscalationPolicy> escalation_policies;
};

struct Config {
  ServerConfig server;
  StorageConfig storage;
  SloConfig slo;
  std::vector<RegionConfig> regions;
  LogConfig log;
  CollectorConfig collector;
  AgentConfig agent;
  std::vector<ServiceConfig> services;
  // Globs (glob(3)) of rule files, as written; relative ones resolve against rule_files_dir.
  // Each matched at least one file when the config was parsed. Loaded by LoadRuleFiles
  // (app/rule_files.h), at startup and on reload.
  std::vector<std::string> rule_files;
  std::string rule_files_dir;  // the config file's directory (or the base_dir given)
  AlertingConfig alerting;
  OncallConfig oncall;
};

// The checks that run at `location`: every configured check listing it, with spec.location set,
// in configuration order.
std::vector<collector::CheckSpec> ChecksForLocation(const Config& config,
                                                    std::string_view location);

// The scrape targets scraped from `location`, likewise.
std::vector<collector::ScrapeSpec> ScrapesForLocation(const Config& config,
                                                      std::string_view location);

// Every location the config names: the regions' locations and every check's and scrape's
// `locations`, sorted, without duplicates. `nines agent` runs only at one of them.
std::vector<std::string> ConfiguredLocations(const Config& config);

// The configuration an empty file yields.
Config DefaultConfig();

// One problem found in a config file. `line` and `col` are 1-based.
struct ConfigError {
  std::string file;
  int line = 1;
  int col = 1;
  std::string message;

  // "file:line:col: message".
  std::string ToString() const;
  friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

// Every error's ToString(), one per line: the message of a failed load as a Status.
std::string JoinErrors(const std::vector<ConfigError>& errors);

// Parses and validates `yaml_text`, the contents of the config file named `file_name` (used
// only in errors). Relative file paths in the config resolve against `base_dir`, or against the
// directory part of `file_name` when `base_dir` is empty.
// Returns every error found, sorted by line then column; empty means success. An empty file or
// a null document is valid and yields DefaultConfig().
// `*out` is assigned only on success; `out` may be null to validate only.
std::vector<ConfigError> ParseConfig(std::string_view yaml_text, std::string_view file_name,
                                     Config* out, std::string_view base_dir = {});

// Reads the file at `path` and parses it as ParseConfig does (errors name the file as `path`).
// An unreadable file yields one error: "path:1:1: cannot read: <strerror>".
std::vector<ConfigError> LoadConfigFile(const std::string& path, Config* out);

// LoadConfigFile as a Result: INVALID_ARGUMENT whose message is every error's ToString(), one
// per line, when the file has errors.
core::Result<Config> LoadConfig(const std::string& path);

}  // namespace nines::app

#endif  // NINES_APP_CONFIG_H_

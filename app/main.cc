// nines: the command-line entry point. Parses flags, loads the config and runs a subcommand.
//
// Exit codes: 0 success (or a clean shutdown on SIGTERM/SIGINT), 1 a config or start-up error,
// 2 a usage error.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/agent_runner.h"
#include "app/check.h"
#include "app/config.h"
#include "app/demo.h"
#include "app/demo_pager.h"
#include "app/engine.h"
#include "core/clock.h"
#include "core/log.h"
#include "net/net.h"

namespace nines::app {
namespace {

constexpr char kUsage[] = R"(nines: availability monitoring and SLO engine

Usage:
  nines serve [--config FILE] [--listen ADDR] [--data-dir DIR]   run the engine
  nines agent --config FILE [--location LOC] [--engine URL]       run a regional prober
  nines demo [--listen ADDR] [--data-dir DIR]                    run a self-contained demo
  nines check FILE...                                            validate config files
  nines version                                                  print the version

Run 'nines COMMAND --help' for a command's options.
)";

constexpr char kServeHelp[] = R"(Usage: nines serve [--config FILE] [--listen ADDR] [--data-dir DIR]

Runs the nines engine until SIGTERM or SIGINT; SIGHUP rereads the config file.

Options:
  --config FILE     YAML config file (see examples/nines.yaml). Without it nines runs on defaults:
                    listen 127.0.0.1:9099, data dir ./data, objective 99.8%.
  --listen ADDR     host:port to serve HTTP on; overrides server.listen. Port 0 picks a free port.
  --data-dir DIR    where data lives; overrides storage.data_dir.
  --log-level LVL   debug, info, warning or error; overrides log.level.
  -h, --help        this text.
)";

constexpr char kDemoHelp[] = R"(Usage: nines demo [--listen ADDR] [--data-dir DIR] [--history D]

Runs nines with a built-in configuration (regions us-east-1, eu-west-1, ap-southeast-2) and a
data directory of its own, prints the URL to open, and runs until Ctrl-C.

It also starts three simulated regional deployments on loopback, with a scripted mix of healthy
periods, slow responses, 5xx bursts and a full eu-west-1 outage (from 2 minutes before the
start to 8 minutes after it, and again every hour), and one agent per region (in this process,
each with its own queue under DIR/agents/ and its own /metrics) that probes them from two
locations and scrapes their request counters. Everything the agents measure reaches the engine
over remote write. On first start (an empty DIR) it writes 30 days of history (--history),
including the outage's first 2 minutes, so the SLOs' windows are full and eu-west-1 pages
within a minute; the SLOs' state is at /api/v1/slos and the alerts at /api/v1/alerts.

Options:
  --listen ADDR     host:port to serve on (default 127.0.0.1:9099; port 0 picks a free port).
  --data-dir DIR    the demo's data directory (default: nines-demo under the temp directory).
  --history D       history written on first start (default 30d; 0s: none).
  --log-level LVL   debug, info, warning or error.
  -h, --help        this text.
)";

constexpr char kAgentHelp[] = R"(Usage: nines agent --config FILE [--location LOC] [--engine URL]

Runs the checks and scrapes of one location (the config's services whose checks and scrapes list
it) and ships every result to the engine over remote write, through a durable on-disk queue: while the engine is
unreachable the agent keeps measuring, and sends the backlog in order once it is back. Runs until
SIGTERM or SIGINT; SIGHUP rereads the checks.

Options:
  --config FILE     YAML config file with collector, agent, regions and services sections.
  --location LOC    where this agent probes from; overrides collector.location. It must be one
                    of the config's locations (regions' or checks'); another is refused (exit 2).
  --engine URL      the engine's remote-write URL; overrides agent.engine_url.
  --listen ADDR     the agent's own HTTP endpoint (/metrics, /api/v1/checks, /api/v1/targets);
                    overrides agent.listen. Port 0 picks a free port.
  --queue-dir DIR   where the queue lives; overrides agent.queue_dir.
  --log-level LVL   debug, info, warning or error; overrides log.level.
  -h, --help        this text.
)";

constexpr char kCheckHelp[] = R"(Usage: nines check FILE...

Validates nines config files. Prints every problem as file:line:col: message and exits 1 if there
is any, 0 when every file is clean.
)";

// The demo's built-in configuration.
constexpr char kDemoConfig[] = R"(# nines demo: built-in configuration
server:
  listen: 127.0.0.1:9099
  access_log: false
storage:
  self_scrape_interval: 5s
slo:
  default_objective: 99.8
  default_window: 30d
  evaluation_interval: 5s
regions:
  - name: us-east-1
    display_name: US East (N. Virginia)
    locations: [us-east-1a, eu-west-1a]
  - name: eu-west-1
    display_name: EU West (Ireland)
    locations: [eu-west-1a, us-east-1a]
  - name: ap-southeast-2
    display_name: Asia Pacific (Sydney)
    locations: [ap-southeast-2a, us-east-1a]
agent:
  heartbeat_interval: 5s
)";

// The demo's alerting: SLO pages go at once (no group wait) to the demo's pager, a webhook
// receiver in this process (its URL replaces {pager}); tickets are grouped for 30s. Grouped by
// alertname, slo and region: one page per SLO and region, whichever window pairs fire. The
// demo's group_interval is 1m (Alertmanager's default is 5m), so a resolution shows within a
// minute of the SLO's recovery.
constexpr char kDemoAlerting[] = R"(alerting:
  route:
    receiver: demo-pager
    group_by: [alertname, slo, region]
    group_wait: 30s
    group_interval: 1m
    repeat_interval: 4h
    routes:
      - matchers: ['severity="page"']
        group_wait: 0s
  receivers:
    - name: demo-pager
      webhook_configs:
        - url: {pager}
          send_resolved: true
)";

// The demo's rule file, written into its data directory: the SLOs and alerts that its scripted
// incidents exercise (the eu-west-1 outage burns api-availability there and pages).
constexpr char kDemoRules[] = R"(# nines demo: built-in rules
slos:
  - name: api-availability
    service: api
    description: The API answers its probes, in each region
    sli:
      # Each region is probed from two locations; a minute is bad when both failed.
      probe_availability: {selector: '{service="api"}', quorum: 2}
  - name: web-availability
    service: web
    description: The web front end serves its home page, in each region
    objective: 99.5
    sli:
      probe_availability: {selector: '{service="web"}', quorum: 2}
  - name: api-latency
    service: api
    description: API probes complete within a second
    objective: 99
    window: 7d
    sli:
      latency: {selector: 'probe_duration_seconds{service="api"}', threshold: 1s}
  - name: api-requests
    service: api
    description: Requests the API served without a 5xx (scraped http_requests_total)
    sli:
      request_ratio:
        good: 'http_requests_total{job="api",code!~"5.."}'
        total: 'http_requests_total{job="api"}'
alerts:
  - name: CheckFailingFromTwoLocations
    selector: probe_success
    op: "=="
    threshold: 0
    group_by: [probe, region]
    min_count: 2
    for: 1m
    # The SLOs' burn-rate alerts page; this ticket names the failing checks.
    labels: {severity: ticket}
    annotations:
      summary: "{{ $labels.probe }} fails from {{ $value }} locations in {{ $labels.region }}"
)";

// Where the demo's in-process agents probe from: one per region.
constexpr const char* kDemoAgentLocations[] = {"us-east-1a", "eu-west-1a", "ap-southeast-2a"};

// Flags of the form --name VALUE or --name=VALUE; -h/--help sets "help".
struct Flags {
  std::map<std::string, std::string> values;
  std::vector<std::string> positional;
  bool help = false;
};

// Parses argv[first..] accepting only `known` value flags. Returns nullopt after printing a
// usage error.
std::optional<Flags> ParseFlags(int argc, char** argv, int first,
                                const std::vector<std::string>& known, const char* help) {
  Flags flags;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      flags.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      flags.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::cerr << "nines: unknown flag --" << name << "\n\n" << help;
      return std::nullopt;
    }
    if (!value) {
      if (i + 1 >= argc) {
        std::cerr << "nines: flag --" << name << " needs a value\n\n" << help;
        return std::nullopt;
      }
      value = argv[++i];
    }
    flags.values[name] = *value;
  }
  return flags;
}

void PrintConfigErrors(const std::vector<ConfigError>& errors) {
  for (const ConfigError& e : errors) std::cerr << e.ToString() << "\n";
}

// Blocks the signals the engine handles, so that every thread started afterwards inherits the
// mask and only WaitForSignals() receives them.
sigset_t BlockHandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Runs until SIGTERM or SIGINT (then calls `shutdown`), calling `reload` on SIGHUP. Returns the
// exit code.
int WaitForSignals(const sigset_t& set, const std::function<core::Status()>& reload,
                   const std::function<void()>& shutdown) {
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      LOG_INFO("SIGHUP: reloading the configuration");
      core::Status s = reload();
      if (!s.ok() && s.code() != core::StatusCode::kInvalidArgument) {
        LOG_WARNING("reload: {}", s.message());  // the invalid-config case logged each error
      }
      continue;
    }
    LOG_INFO("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    shutdown();
    LOG_INFO("stopped");
    return 0;
  }
}

// Applies the flags common to serve and demo on top of `config`. Returns false after printing
// a usage error.
bool ApplyOverrides(const Flags& flags, Config* config) {
  if (auto it = flags.values.find("listen"); it != flags.values.end()) {
    config->server.listen = it->second;
  }
  if (auto it = flags.values.find("data-dir"); it != flags.values.end()) {
    if (it->second.empty()) {
      std::cerr << "nines: --data-dir must not be empty\n";
      return false;
    }
    config->storage.data_dir = it->second;
  }
  if (auto it = flags.values.find("log-level"); it != flags.values.end()) {
    if (!core::ParseLogLevel(it->second, &config->log.level)) {
      std::cerr << "nines: --log-level must be debug, info, warning or error, not \"" << it->second
                << "\"\n";
      return false;
    }
  }
  return true;
}

int RunEngine(EngineOptions options, const char* banner) {
  core::SetLogLevel(options.config.log.level);
  sigset_t signals = BlockHandledSignals();
  auto engine = Engine::Start(std::move(options), core::RealClock());
  if (!engine.ok()) {
    std::cerr << "nines: " << engine.status().message() << "\n";
    return 1;
  }
  // Always printed, whatever the log level: scripts and tests wait for this line.
  std::cout << "nines listening on " << (*engine)->url() << std::endl;
  if (banner != nullptr) {
    std::cout << fmt::format(fmt::runtime(banner), (*engine)->url()) << std::flush;
  }
  return WaitForSignals(
      signals, [&] { return (*engine)->Reload(); }, [&] { (*engine)->Shutdown(); });
}

int Serve(int argc, char** argv) {
  auto flags = ParseFlags(argc, argv, 2, {"config", "listen", "data-dir", "log-level"}, kServeHelp);
  if (!flags) return 2;
  if (flags->help) {
    std::cout << kServeHelp;
    return 0;
  }
  if (!flags->positional.empty()) {
    std::cerr << "nines serve: unexpected argument \"" << flags->positional[0] << "\"\n\n"
              << kServeHelp;
    return 2;
  }
  EngineOptions options;
  options.config = DefaultConfig();
  if (auto it = flags->values.find("config"); it != flags->values.end()) {
    options.config_path = it->second;
    std::vector<ConfigError> errors = LoadConfigFile(options.config_path, &options.config);
    if (!errors.empty()) {
      PrintConfigErrors(errors);
      std::cerr << "nines serve: " << options.config_path << " has " << errors.size()
                << " error(s); not starting\n";
      return 1;
    }
  }
  if (!ApplyOverrides(*flags, &options.config)) return 2;
  return RunEngine(std::move(options), nullptr);
}

// Writes the demo's rule file into config->storage.data_dir and points the config at it;
// false (said on stderr) when it cannot.
bool WriteDemoRules(Config* config) {
  const std::filesystem::path dir = config->storage.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path rules = dir / "demo-rules.yaml";
  std::ofstream out(rules);
  out << kDemoRules;
  out.close();
  if (ec || !out) {
    std::cerr << "nines demo: cannot write " << rules.string() << "\n";
    return false;
  }
  config->rule_files = {rules.string()};
  config->rule_files_dir = dir.string();
  return true;
}

// The --history flag of nines demo (30d when absent); nullopt (said on stderr) when invalid.
std::optional<core::Duration> DemoHistory(const Flags& flags) {
  core::Duration history = core::Duration::Days(30);
  if (auto it = flags.values.find("history"); it != flags.values.end()) {
    auto d = core::ParseDuration(it->second);
    if (!d.ok() || *d < core::Duration::Zero() || *d > core::Duration::Days(400)) {
      std::cerr << "nines demo: --history: want a duration from 0s to 400d, got \"" << it->second
                << "\"\n";
      return std::nullopt;
    }
    history = *d;
  }
  return history;
}

// One agent per region, in process, each with its own queue and HTTP endpoint, writing to the
// engine at `engine_url`; appended to *agents. False (said on stderr) when one cannot start.
bool StartDemoAgents(const Config& config, const std::string& engine_url, core::Clock& clock,
                     std::vector<std::unique_ptr<AgentRunner>>* agents) {
  for (const char* location : kDemoAgentLocations) {
    AgentRunnerOptions ao;
    ao.config = config;
    ao.config.collector.location = location;
    ao.config.agent.engine_url = engine_url + "/api/v1/write";
    ao.config.agent.listen = "127.0.0.1:0";
    ao.config.agent.queue_dir =
        (std::filesystem::path(config.storage.data_dir) / "agents" / location).string();
    auto agent = AgentRunner::Start(std::move(ao), clock);
    if (!agent.ok()) {
      std::cerr << "nines demo: agent " << location << ": " << agent.status().message() << "\n";
      return false;
    }
    agents->push_back(std::move(*agent));
  }
  return true;
}

// What nines demo prints once everything runs: where to look, and what to try.
std::string DemoBanner(const std::string& url, const DemoServices& services,
                       const std::vector<std::unique_ptr<AgentRunner>>& agents,
                       const std::string& pager_url) {
  std::string banner = fmt::format(
      "\nnines demo is running. Open {0} in a browser.\n"
      "Simulated regional deployments:\n",
      url);
  for (const std::string& line : services.Describe()) banner += "  " + line + "\n";
  banner += "Agents (their /metrics show each queue):\n";
  for (size_t i = 0; i < agents.size(); ++i) {
    banner += fmt::format("  {}: {}/metrics\n", kDemoAgentLocations[i], agents[i]->url());
  }
  banner += fmt::format(
      "eu-west-1 went down 2 minutes before the start (in the history written on first start)\n"
      "and stays down for 8 more minutes: its api-availability SLO pages within a minute.\n"
      "The page goes to the demo's pager (a webhook receiver at {1}): it is printed\n"
      "here as \"pager: PAGE eu-west-1 ...\"; its resolution comes once the SLO stops\n"
      "burning: about 30 minutes after the outage, when the 30m window of the 6x rule is clean.\n"
      "  curl -s {0}/api/v1/demo/pages\n"
      "  curl -s {0}/api/v1/alerts\n"
      "  curl -s {0}/api/v1/slos/api-availability\n"
      "  curl -s {0}/api/v1/checks\n"
      "  curl -sg '{0}/api/v1/samples?match[]=probe_success{{region=\"eu-west-1\"}}'\n"
      "Press Ctrl-C to stop.\n\n",
      url, pager_url);
  return banner;
}

int Demo(int argc, char** argv) {
  auto flags =
      ParseFlags(argc, argv, 2, {"listen", "data-dir", "log-level", "history"}, kDemoHelp);
  if (!flags) return 2;
  if (flags->help) {
    std::cout << kDemoHelp;
    return 0;
  }
  sigset_t signals = BlockHandledSignals();
  core::Clock& clock = core::RealClock();
  // The simulated regional deployments come first: the checks need their ports.
  auto services = DemoServices::Start(clock);
  if (!services.ok()) {
    std::cerr << "nines demo: " << services.status().message() << "\n";
    return 1;
  }
  // The demo's pager: the pages (and their resolutions) are printed as they arrive.
  std::mutex print_mu;
  auto pager = DemoPager::Start(clock, [&print_mu](const std::string& line) {
    std::lock_guard<std::mutex> lock(print_mu);
    std::cout << "pager: " << line << std::endl;
  });
  if (!pager.ok()) {
    std::cerr << "nines demo: pager: " << pager.status().message() << "\n";
    return 1;
  }
  EngineOptions options;
  options.mode = "demo";
  options.extra_routes = [&pager](net::Router& router) {
    router.Handle("GET", "/api/v1/demo/pages", net::Access::kPublic,
                  [p = pager->get()](const net::Request&) { return p->PagesResponse(); });
  };
  std::string alerting = kDemoAlerting;
  alerting.replace(alerting.find("{pager}"), 7, (*pager)->webhook_url());
  const std::string config_text =
      std::string(kDemoConfig) + alerting + (*services)->ChecksYaml();
  std::vector<ConfigError> errors = ParseConfig(config_text, "<demo>", &options.config);
  if (!errors.empty()) {  // a bug in the built-in config
    PrintConfigErrors(errors);
    return 1;
  }
  options.config.storage.data_dir =
      (std::filesystem::temp_directory_path() / "nines-demo").string();
  if (!ApplyOverrides(*flags, &options.config)) return 2;
  core::SetLogLevel(options.config.log.level);
  if (!WriteDemoRules(&options.config)) return 1;
  const Config config = options.config;
  std::optional<core::Duration> history = DemoHistory(*flags);
  if (!history) return 2;
  if (*history > core::Duration::Zero()) {
    std::cout << "nines demo: writing " << history->ToString()
              << " of history (first start only)..." << std::endl;
    std::vector<std::string> locations(std::begin(kDemoAgentLocations),
                                       std::end(kDemoAgentLocations));
    if (core::Status s = SeedDemoHistory(config, locations, (*services)->started_at(), *history);
        !s.ok()) {
      std::cerr << "nines demo: history: " << s.message() << "\n";
      return 1;
    }
  }
  auto engine = Engine::Start(std::move(options), clock);
  if (!engine.ok()) {
    std::cerr << "nines demo: " << engine.status().message() << "\n";
    return 1;
  }
  std::cout << "nines listening on " << (*engine)->url() << std::endl;
  std::vector<std::unique_ptr<AgentRunner>> agents;
  if (!StartDemoAgents(config, (*engine)->url(), clock, &agents)) return 1;
  std::cout << DemoBanner((*engine)->url(), **services, agents, (*pager)->webhook_url())
            << std::flush;
  return WaitForSignals(
      signals, [&] { return (*engine)->Reload(); },
      [&] {
        for (auto& a : agents) a->Shutdown();
        (*engine)->Shutdown();
        (*pager)->Shutdown();
        (*services)->Shutdown();
      });
}

int Agent(int argc, char** argv) {
  auto flags = ParseFlags(argc, argv, 2,
                          {"config", "location", "engine", "listen", "queue-dir", "log-level"},
                          kAgentHelp);
  if (!flags) return 2;
  if (flags->help) {
    std::cout << kAgentHelp;
    return 0;
  }
  if (!flags->positional.empty() || !flags->values.count("config")) {
    std::cerr << "nines agent: --config FILE is required\n\n" << kAgentHelp;
    return 2;
  }
  AgentRunnerOptions options;
  options.config_path = flags->values["config"];
  std::vector<ConfigError> errors = LoadConfigFile(options.config_path, &options.config);
  if (!errors.empty()) {
    PrintConfigErrors(errors);
    std::cerr << "nines agent: " << options.config_path << " has " << errors.size()
              << " error(s); not starting\n";
    return 1;
  }
  Config& c = options.config;
  for (const auto& [flag, field] : std::vector<std::pair<std::string, std::string*>>{
           {"location", &c.collector.location},
           {"engine", &c.agent.engine_url},
           {"listen", &c.agent.listen},
           {"queue-dir", &c.agent.queue_dir}}) {
    if (auto it = flags->values.find(flag); it != flags->values.end()) *field = it->second;
  }
  if (auto it = flags->values.find("log-level"); it != flags->values.end()) {
    if (!core::ParseLogLevel(it->second, &c.log.level)) {
      std::cerr << "nines: --log-level must be debug, info, warning or error\n";
      return 2;
    }
  }
  // A location the config does not name would run nothing and report as a prober nobody
  // expects (a typo in a unit file); refuse it. (No location at all: AgentRunner says so.)
  if (!c.collector.location.empty()) {
    const std::vector<std::string> known = ConfiguredLocations(c);
    if (std::find(known.begin(), known.end(), c.collector.location) == known.end()) {
      std::string list;
      for (const std::string& l : known) list += (list.empty() ? "" : ", ") + l;
      std::cerr << "nines agent: "
                << (flags->values.count("location") ? "--location" : "collector.location")
                << " \"" << c.collector.location << "\" is not a location of "
                << options.config_path << "; "
                << (known.empty() ? std::string("it names none (list them under regions: "
                                                "[{name, locations}])")
                                  : "its locations: " + list)
                << "\n";
      return 2;
    }
  }
  core::SetLogLevel(c.log.level);
  sigset_t signals = BlockHandledSignals();
  auto agent = AgentRunner::Start(std::move(options), core::RealClock());
  if (!agent.ok()) {
    std::cerr << "nines agent: " << agent.status().message() << "\n";
    return 1;
  }
  // Always printed: scripts and tests wait for this line.
  std::cout << "nines agent listening on " << (*agent)->url() << std::endl;
  return WaitForSignals(
      signals, [&] { return (*agent)->Reload(); }, [&] { (*agent)->Shutdown(); });
}

int Check(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kCheckHelp;
      return 0;
    }
    files.push_back(arg);
  }
  if (files.empty()) {
    std::cerr << kCheckHelp;
    return 2;
  }
  return RunCheck(files, std::cout, std::cerr);
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string command = argv[1];
  if (command == "serve") return Serve(argc, argv);
  if (command == "demo") return Demo(argc, argv);
  if (command == "agent") return Agent(argc, argv);
  if (command == "check") return Check(argc, argv);
  if (command == "version" || command == "--version") {
    std::cout << "nines " << NINES_VERSION << "\n";
    return 0;
  }
  if (command == "help" || command == "-h" || command == "--help") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "nines: unknown command \"" << command << "\"\n\n" << kUsage;
  return 2;
}

}  // namespace
}  // namespace nines::app

int main(int argc, char** argv) { return nines::app::Main(argc, argv); }

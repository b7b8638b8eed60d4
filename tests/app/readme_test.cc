// The README's promise that every command it, or the demo's banner, prints works when pasted:
// each `curl` line of the README's shell blocks runs (in bash, as a user would paste it) against
// a running demo (localhost:9099) or `nines serve --config examples/nines.yaml`
// (localhost:9199), with the port replaced by the one the test got; so do the demo banner's curl
// lines, the README's `nines check` lines and its `amtool` lines (against the demo).
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testutil/testutil.h"

namespace nines::app {
namespace {

using std::chrono::milliseconds;
using testutil::ChildProcess;
using testutil::NinesProcess;
using testutil::TempDir;

// The lines of the README's ```sh blocks, without their trailing "  # comment".
std::vector<std::string> ReadmeShellLines() {
  std::ifstream in(testutil::SourceDir() + "/README.md");
  std::vector<std::string> out;
  std::string line;
  bool in_sh = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      in_sh = !in_sh && line == "```sh";
      continue;
    }
    if (!in_sh) continue;
    if (size_t c = line.find("  #"); c != std::string::npos) line.resize(c);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// Runs `command` with bash in the source tree, as pasted; expects exit 0, some output (unless
// `quiet_ok`: amtool says nothing when it expires a silence), and no API error.
void RunPasted(const std::string& command, bool quiet_ok = false) {
  SCOPED_TRACE(command);
  ChildProcess sh({"/bin/bash", "-c", "set -o pipefail; cd '" + testutil::SourceDir() + "'; " +
                                          command});
  std::optional<int> rc = sh.Wait(milliseconds(30000));
  const std::string out = sh.output();
  // `| head` may close the pipe early: curl then exits 23, which pipefail would report.
  const bool headed = command.find("| head") != std::string::npos;
  EXPECT_TRUE(rc == 0 || (headed && rc == 23)) << "exit " << rc.value_or(-1) << "\n" << out;
  if (!quiet_ok) {
    EXPECT_FALSE(out.empty());
  }
  EXPECT_EQ(out.find("\"status\":\"error\""), std::string::npos) << out;
  if (out.rfind("{", 0) == 0) {
    EXPECT_NE(out.find("\"status\":\"success\""), std::string::npos) << out;
  }
}

TEST(ReadmeTest, EveryCurlAndCheckCommandWorksWhenPasted) {
  const std::vector<std::string> lines = ReadmeShellLines();
  ASSERT_GT(lines.size(), 10u);
  TempDir dir;
  NinesProcess demo({"demo", "--listen", "127.0.0.1:0", "--data-dir", dir.File("demo"),
                     "--history", "2h"});
  const std::string demo_url = demo.WaitForUrl(milliseconds(30000));
  ASSERT_FALSE(demo_url.empty());
  ASSERT_TRUE(demo.WaitForOutput("Press Ctrl-C to stop.", milliseconds(30000))) << demo.output();
  NinesProcess serve({"serve", "--config", testutil::SourceDir() + "/examples/nines.yaml",
                      "--listen", "127.0.0.1:0", "--data-dir", dir.File("serve"), "--log-level",
                      "warning"});
  const std::string serve_url = serve.WaitForUrl(milliseconds(30000));
  ASSERT_FALSE(serve_url.empty());
  const std::string demo_host = demo_url.substr(demo_url.find("//") + 2);
  const std::string serve_host = serve_url.substr(serve_url.find("//") + 2);

  int curls = 0, checks = 0, amtools = 0;
  for (const std::string& line : lines) {
    if (line.rfind("curl ", 0) == 0) {
      ++curls;
      RunPasted(Replace(Replace(line, "localhost:9099", demo_host), "localhost:9199", serve_host));
    } else if (line.rfind("amtool ", 0) == 0) {
      ++amtools;
      RunPasted(Replace(line, "localhost:9099", demo_host), /*quiet_ok=*/true);
    } else if (line.rfind("build/app/nines check ", 0) == 0) {
      ++checks;
      RunPasted(testutil::NinesBinary() + line.substr(std::string("build/app/nines").size()));
    }
  }
  EXPECT_GE(curls, 9);
  EXPECT_GE(checks, 2);
  EXPECT_GE(amtools, 4);

  // The banner's commands, exactly as printed.
  const std::string out = demo.output();
  int banner_curls = 0;
  std::istringstream banner(out.substr(out.find("nines demo is running")));
  for (std::string line; std::getline(banner, line);) {
    if (size_t at = line.find("curl "); at != std::string::npos && line.find_first_not_of(' ') == at) {
      ++banner_curls;
      RunPasted(line.substr(at));
    }
  }
  EXPECT_GE(banner_curls, 3);

  for (NinesProcess* c : {&serve, &demo}) {
    c->Signal(SIGINT);
    EXPECT_EQ(c->Wait(milliseconds(15000)), 0) << c->output();
  }
}

}  // namespace
}  // namespace nines::app

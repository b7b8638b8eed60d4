// Golden SLO scenarios: the parser of tests/slo/testdata/*.txt (format in testdata/README.md)
// and the conversion of a scenario's series into per-region buckets with slo/'s pure functions.
//
// Test support only: errors are Status values naming "line N", so a broken scenario file fails
// its test with a message instead of crashing the binary.
#ifndef NINES_TESTS_SLO_SCENARIO_H_
#define NINES_TESTS_SLO_SCENARIO_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"
#include "slo/slo.h"

namespace nines::slo::testing {

// Expands one value token: "v" (one sample), "vxN" (N samples of v), "a+bxN" / "a-bxN" (N
// samples a, a+b, ..., a+(N-1)b), "_" (one minute without a sample), "_xN" (N such minutes).
// Missing minutes are nullopt. Errors: INVALID_ARGUMENT naming the token.
core::Result<std::vector<std::optional<double>>> ExpandValues(std::string_view token);

// Evaluates an arithmetic expression of decimal numbers with + - * / and parentheses, so that
// expectations can be written as their derivation ("0.002*43200 - 30").
core::Result<double> EvalExpression(std::string_view text);

struct ScenarioSeries {
  core::Labels labels;
  std::vector<std::optional<double>> values;  // one per minute from Scenario::start
  int line = 0;
};

struct Expectation {
  std::string region;  // a region name or "global"
  std::string field;   // "sli", "burn_rate[1h]", "alert[page:1h:5m]", ...
  std::string value;   // the text after '='
  int line = 0;
};

struct EvalBlock {
  core::Timestamp at;
  std::vector<Expectation> expectations;
  int line = 0;
};

// A FakeClock run: evaluate every `step` from `from` to `to` (inclusive), feeding minutes in as
// they complete; `transitions` counts rising edges of "some page (ticket) rule firing" per region.
struct Run {
  core::Timestamp from;
  core::Timestamp to;
  core::Duration step;
  std::vector<Expectation> transitions;  // field "page" or "ticket", value an integer
  int line = 0;
};

struct Scenario {
  std::string name;
  core::Timestamp start;
  SloSpec spec;
  // SLI inputs named on the slo line.
  std::string metric = "probe_success";  // probe_availability, latency, freshness
  std::string good_metric;                // request_ratio
  std::string total_metric;               // request_ratio
  double latency_threshold = 0;           // latency, in the samples' unit
  core::Duration max_age;                 // freshness
  std::vector<ScenarioSeries> series;
  std::vector<EvalBlock> evals;
  std::optional<Run> run;
};

// Errors: INVALID_ARGUMENT "line N: ...".
core::Result<Scenario> ParseScenario(std::string_view text, std::string name);

// Per-region buckets over [MinuteOf(start), + longest series), regions sorted by name.
// Errors: INVALID_ARGUMENT for a series without a region label or of an unexpected metric.
core::Result<std::vector<std::pair<std::string, BucketSeries>>> ScenarioBuckets(
    const Scenario& s);

// Checks one expectation against the reports (one per region plus "global"); returns "" when it
// holds, otherwise a message saying expected vs actual. `at` is the evaluation time.
std::string CheckExpectation(const Expectation& e, const std::vector<SloReport>& reports,
                             core::Timestamp at);

}  // namespace nines::slo::testing

#endif  // NINES_TESTS_SLO_SCENARIO_H_

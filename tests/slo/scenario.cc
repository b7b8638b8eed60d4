#include "tests/slo/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

namespace nines::slo::testing {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

core::Result<double> ParseNumber(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return core::InvalidArgumentError("bad number \"{}\"", s);
  }
  return v;
}

core::Result<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return core::InvalidArgumentError("bad integer \"{}\"", s);
  }
  return v;
}

// Recursive descent over + - * / ( ) and decimal numbers.
class ExprParser {
 public:
  explicit ExprParser(std::string_view s) : s_(s) {}
  core::Result<double> Parse() {
    ASSIGN_OR_RETURN(double v, Sum());
    Skip();
    if (i_ != s_.size()) return Error();
    return v;
  }

 private:
  core::Status Error() {
    return core::InvalidArgumentError("bad expression \"{}\" at column {}", s_, i_ + 1);
  }
  void Skip() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  core::Result<double> Sum() {
    ASSIGN_OR_RETURN(double v, Product());
    for (;;) {
      Skip();
      if (i_ >= s_.size() || (s_[i_] != '+' && s_[i_] != '-')) return v;
      char op = s_[i_++];
      ASSIGN_OR_RETURN(double r, Product());
      v = op == '+' ? v + r : v - r;
    }
  }
  core::Result<double> Product() {
    ASSIGN_OR_RETURN(double v, Unary());
    for (;;) {
      Skip();
      if (i_ >= s_.size() || (s_[i_] != '*' && s_[i_] != '/')) return v;
      char op = s_[i_++];
      ASSIGN_OR_RETURN(double r, Unary());
      v = op == '*' ? v * r : v / r;
    }
  }
  core::Result<double> Unary() {
    Skip();
    if (i_ < s_.size() && s_[i_] == '-') {
      ++i_;
      ASSIGN_OR_RETURN(double v, Unary());
      return -v;
    }
    if (i_ < s_.size() && s_[i_] == '(') {
      ++i_;
      ASSIGN_OR_RETURN(double v, Sum());
      Skip();
      if (i_ >= s_.size() || s_[i_] != ')') return Error();
      ++i_;
      return v;
    }
    size_t j = i_;
    while (j < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '.' ||
                             s_[j] == 'e')) {
      ++j;
    }
    if (j == i_) return Error();
    ASSIGN_OR_RETURN(double v, ParseNumber(s_.substr(i_, j - i_)));
    i_ = j;
    return v;
  }

  std::string_view s_;
  size_t i_ = 0;
};

core::Status ApplySloKey(Scenario& sc, std::string_view key, std::string_view value) {
  SloSpec& s = sc.spec;
  if (key == "name") {
    s.name = std::string(value);
  } else if (key == "kind") {
    if (value == "probe_availability") {
      s.sli = SliKind::kProbeAvailability;
    } else if (value == "latency") {
      s.sli = SliKind::kLatency;
    } else if (value == "request_ratio") {
      s.sli = SliKind::kRequestRatio;
    } else if (value == "freshness") {
      s.sli = SliKind::kFreshness;
    } else {
      return core::InvalidArgumentError("unknown kind \"{}\"", value);
    }
  } else if (key == "objective") {
    ASSIGN_OR_RETURN(s.objective, ParseNumber(value));
  } else if (key == "window") {
    if (value.starts_with("calendar:")) {
      std::string_view rest = value.substr(9);
      size_t colon = rest.find(':');
      if (colon == std::string_view::npos) return core::InvalidArgumentError("window: tz missing");
      std::string_view unit = rest.substr(0, colon);
      CalendarUnit u;
      if (unit == "week") {
        u = CalendarUnit::kWeek;
      } else if (unit == "month") {
        u = CalendarUnit::kMonth;
      } else if (unit == "quarter") {
        u = CalendarUnit::kQuarter;
      } else {
        return core::InvalidArgumentError("unknown calendar unit \"{}\"", unit);
      }
      s.window = Window::Calendar(u, std::string(rest.substr(colon + 1)));
    } else {
      ASSIGN_OR_RETURN(core::Duration d, core::ParseDuration(value));
      s.window = Window::Rolling(d);
    }
  } else if (key == "method") {
    if (value == "occurrences") {
      s.method = BudgetingMethod::kOccurrences;
    } else if (value == "timeslices") {
      s.method = BudgetingMethod::kTimeslices;
    } else {
      return core::InvalidArgumentError("unknown method \"{}\"", value);
    }
  } else if (key == "slice_target") {
    ASSIGN_OR_RETURN(double v, ParseNumber(value));
    s.timeslice_target = v;
  } else if (key == "quorum") {
    ASSIGN_OR_RETURN(int64_t q, ParseInt(value));
    s.quorum = static_cast<int>(q);
  } else if (key == "no_data") {
    if (value == "unknown") {
      s.no_data = NoDataPolicy::kUnknown;
    } else if (value == "good") {
      s.no_data = NoDataPolicy::kGood;
    } else if (value == "bad") {
      s.no_data = NoDataPolicy::kBad;
    } else {
      return core::InvalidArgumentError("unknown no_data \"{}\"", value);
    }
  } else if (key == "min_events") {
    ASSIGN_OR_RETURN(s.alerting.min_events, ParseInt(value));
  } else if (key == "metric") {
    sc.metric = std::string(value);
  } else if (key == "good") {
    sc.good_metric = std::string(value);
  } else if (key == "total") {
    sc.total_metric = std::string(value);
  } else if (key == "threshold") {
    ASSIGN_OR_RETURN(sc.latency_threshold, ParseNumber(value));
  } else if (key == "max_age") {
    ASSIGN_OR_RETURN(sc.max_age, core::ParseDuration(value));
  } else {
    return core::InvalidArgumentError("unknown slo key \"{}\"", key);
  }
  return core::Status::Ok();
}

core::Result<Expectation> ParseExpectation(std::string_view line, int line_no) {
  // <region> <field> = <value>
  size_t eq = line.find('=');
  if (eq == std::string_view::npos) return core::InvalidArgumentError("expected '='");
  std::vector<std::string_view> lhs = Fields(line.substr(0, eq));
  if (lhs.size() != 2) return core::InvalidArgumentError("expected \"<region> <field> = <value>\"");
  Expectation e;
  e.region = std::string(lhs[0]);
  e.field = std::string(lhs[1]);
  e.value = std::string(Trim(line.substr(eq + 1)));
  e.line = line_no;
  return e;
}

bool Near(double actual, double expected) {
  return std::fabs(actual - expected) <= 1e-9 + 1e-9 * std::fabs(expected);
}

std::string Bracket(std::string_view field, std::string_view name) {
  // "burn_rate[1h]" with name "burn_rate" -> "1h"; "" when it does not match.
  if (!field.starts_with(name) || field.size() < name.size() + 2 || field[name.size()] != '[' ||
      field.back() != ']') {
    return "";
  }
  return std::string(field.substr(name.size() + 1, field.size() - name.size() - 2));
}

std::string CheckNumber(const Expectation& e, std::optional<double> actual) {
  if (e.value == "none") {
    return actual.has_value() ? fmt::format("expected none, got {}", *actual) : "";
  }
  auto expected = EvalExpression(e.value);
  if (!expected.ok()) return expected.status().ToString();
  if (!actual.has_value()) return fmt::format("expected {} ({}), got none", *expected, e.value);
  return Near(*actual, *expected)
             ? ""
             : fmt::format("expected {:.12g} ({}), got {:.12g}", *expected, e.value, *actual);
}

const AlertCondition* FindRule(const SloReport& r, std::string_view spec) {
  // "page:1h:5m"
  for (const AlertCondition& a : r.alerts) {
    std::string name = fmt::format("{}:{}:{}", SeverityName(a.rule.severity),
                                   a.rule.long_window.ToString(), a.rule.short_window.ToString());
    if (name == spec) return &a;
  }
  return nullptr;
}

}  // namespace

core::Result<std::vector<std::optional<double>>> ExpandValues(std::string_view token) {
  std::vector<std::optional<double>> out;
  auto bad = [&token](std::string_view why) {
    return core::InvalidArgumentError("value token \"{}\": {}", token, why);
  };
  size_t x = token.find('x');
  std::string_view head = token.substr(0, x);
  int64_t n = 1;
  if (x != std::string_view::npos) {
    auto count = ParseInt(token.substr(x + 1));
    if (!count.ok() || *count < 1) return bad("count after 'x' must be a positive integer");
    n = *count;
  }
  if (head == "_") {
    out.assign(static_cast<size_t>(n), std::nullopt);
    return out;
  }
  // a+b or a-b (the sign of a itself may be a leading '-').
  size_t op = head.find_first_of("+-", 1);
  double a = 0;
  double b = 0;
  if (op == std::string_view::npos) {
    auto v = ParseNumber(head);
    if (!v.ok()) return bad("not a number");
    a = *v;
  } else {
    if (x == std::string_view::npos) return bad("a+b needs a count: a+bxN");
    auto va = ParseNumber(head.substr(0, op));
    auto vb = ParseNumber(head.substr(op + 1));
    if (!va.ok() || !vb.ok()) return bad("not a+b with numbers");
    a = *va;
    b = head[op] == '+' ? *vb : -*vb;
  }
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.push_back(a + b * static_cast<double>(i));
  return out;
}

core::Result<double> EvalExpression(std::string_view text) { return ExprParser(text).Parse(); }

core::Result<Scenario> ParseScenario(std::string_view text, std::string name) {
  Scenario sc;
  sc.name = std::move(name);
  sc.spec.name = sc.name;
  bool have_start = false;
  enum class Block { kNone, kEval, kRun } block = Block::kNone;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto at_line = [line_no](const core::Status& s) {
      return core::InvalidArgumentError("line {}: {}", line_no, s.message());
    };
    bool indented = std::isspace(static_cast<unsigned char>(raw.front()));
    std::vector<std::string_view> f = Fields(line);
    if (indented) {
      if (block == Block::kEval) {
        auto e = ParseExpectation(line, line_no);
        if (!e.ok()) return at_line(e.status());
        sc.evals.back().expectations.push_back(*e);
      } else if (block == Block::kRun) {
        if (f.empty() || f[0] != "transitions") {
          return at_line(core::InvalidArgumentError("a run block holds transitions lines"));
        }
        auto e = ParseExpectation(line.substr(11), line_no);
        if (!e.ok()) return at_line(e.status());
        sc.run->transitions.push_back(*e);
      } else {
        return at_line(core::InvalidArgumentError("indented line outside eval/run"));
      }
      continue;
    }
    block = Block::kNone;
    if (f[0] == "start") {
      if (f.size() != 2) return at_line(core::InvalidArgumentError("start <rfc3339>"));
      auto t = core::ParseTimestamp(f[1]);
      if (!t.ok()) return at_line(t.status());
      sc.start = *t;
      have_start = true;
    } else if (f[0] == "slo") {
      for (size_t i = 1; i < f.size(); ++i) {
        size_t eq = f[i].find('=');
        if (eq == std::string_view::npos) {
          return at_line(core::InvalidArgumentError("expected key=value, got \"{}\"", f[i]));
        }
        core::Status s = ApplySloKey(sc, f[i].substr(0, eq), f[i].substr(eq + 1));
        if (!s.ok()) return at_line(s);
      }
    } else if (f[0] == "eval") {
      if (f.size() != 2) return at_line(core::InvalidArgumentError("eval <rfc3339>"));
      auto t = core::ParseTimestamp(f[1]);
      if (!t.ok()) return at_line(t.status());
      sc.evals.push_back(EvalBlock{*t, {}, line_no});
      block = Block::kEval;
    } else if (f[0] == "run") {
      if (f.size() != 4) return at_line(core::InvalidArgumentError("run <from> <to> <step>"));
      auto from = core::ParseTimestamp(f[1]);
      auto to = core::ParseTimestamp(f[2]);
      auto step = core::ParseDuration(f[3]);
      if (!from.ok() || !to.ok() || !step.ok() || *step <= core::Duration::Zero()) {
        return at_line(core::InvalidArgumentError("run <from> <to> <step>"));
      }
      sc.run = Run{*from, *to, *step, {}, line_no};
      block = Block::kRun;
    } else {
      // A series: labels up to the closing brace (or the first blank), then value tokens.
      size_t end = line.find('}');
      end = end == std::string_view::npos ? line.find(' ') : end + 1;
      if (end == std::string_view::npos) {
        return at_line(core::InvalidArgumentError("series without values"));
      }
      auto labels = core::ParseLabels(line.substr(0, end));
      if (!labels.ok()) return at_line(labels.status());
      ScenarioSeries s{*labels, {}, line_no};
      for (std::string_view tok : Fields(line.substr(end))) {
        auto v = ExpandValues(tok);
        if (!v.ok()) return at_line(v.status());
        s.values.insert(s.values.end(), v->begin(), v->end());
      }
      sc.series.push_back(std::move(s));
    }
  }
  if (!have_start) return core::InvalidArgumentError("no start line");
  if (sc.start != sc.start.Floor(core::Duration::Minutes(1))) {
    return core::InvalidArgumentError("start is not on a minute");
  }
  RETURN_IF_ERROR(ValidateSlo(sc.spec));
  return sc;
}

core::Result<std::vector<std::pair<std::string, BucketSeries>>> ScenarioBuckets(
    const Scenario& s) {
  const int64_t first = MinuteOf(s.start);
  int64_t n = 0;
  for (const ScenarioSeries& ser : s.series) n = std::max<int64_t>(n, ser.values.size());

  // region -> metric name -> location ("" when none) -> samples
  std::map<std::string, std::map<std::string, std::map<std::string, std::vector<core::Sample>>>>
      by_region;
  for (const ScenarioSeries& ser : s.series) {
    std::string region(ser.labels.Get("region"));
    if (region.empty()) {
      return core::InvalidArgumentError("line {}: series without a region label", ser.line);
    }
    std::vector<core::Sample>& out =
        by_region[region][std::string(ser.labels.MetricName())][std::string(ser.labels.Get("location"))];
    for (size_t i = 0; i < ser.values.size(); ++i) {
      if (!ser.values[i].has_value()) continue;
      int64_t t_ms = s.start.UnixMillis() + static_cast<int64_t>(i) * 60'000;
      out.push_back(core::Sample{t_ms, *ser.values[i]});
    }
  }

  std::vector<std::pair<std::string, BucketSeries>> out;
  for (auto& [region, metrics] : by_region) {
    auto samples_of = [&metrics](const std::string& metric) -> std::vector<core::Sample> {
      auto it = metrics.find(metric);
      if (it == metrics.end() || it->second.empty()) return {};
      return it->second.begin()->second;
    };
    BucketSeries b;
    switch (s.spec.sli) {
      case SliKind::kProbeAvailability: {
        std::vector<std::vector<ProbeMinute>> locations;
        for (auto& [loc, samples] : metrics[s.metric]) {
          locations.push_back(ProbeMinutes(samples, first, n));
        }
        b = QuorumBuckets(locations, first, s.spec.quorum);
        if (locations.empty()) b = BucketSeries{first, std::vector<Bucket>(n)};
        break;
      }
      case SliKind::kRequestRatio:
        b = RequestRatioBuckets(samples_of(s.good_metric), samples_of(s.total_metric), first, n);
        break;
      case SliKind::kLatency:
        b = LatencyBuckets(samples_of(s.metric), s.latency_threshold, first, n);
        break;
      case SliKind::kFreshness:
        b = FreshnessBuckets(samples_of(s.metric), s.max_age, first, n);
        break;
    }
    out.emplace_back(region, std::move(b));
  }
  return out;
}

std::string CheckExpectation(const Expectation& e, const std::vector<SloReport>& reports,
                             core::Timestamp at) {
  const SloReport* r = nullptr;
  for (const SloReport& rep : reports) {
    if (rep.region == e.region) r = &rep;
  }
  if (r == nullptr) return fmt::format("no report for region \"{}\"", e.region);
  const std::string& f = e.field;
  if (f == "good" || f == "total") {
    auto want = ParseInt(e.value);
    if (!want.ok()) return want.status().ToString();
    int64_t got = f == "good" ? r->tally.good : r->tally.total;
    return got == *want ? "" : fmt::format("expected {}, got {}", *want, got);
  }
  if (f == "sli") return CheckNumber(e, r->sli);
  if (f == "coverage") return CheckNumber(e, r->coverage);
  if (f == "budget_total") return CheckNumber(e, r->budget_total);
  if (f == "budget_consumed") return CheckNumber(e, r->budget_consumed);
  if (f == "budget_remaining") return CheckNumber(e, r->budget_remaining);
  if (f == "remaining_ratio") return CheckNumber(e, r->budget_remaining_ratio);
  if (f == "status") {
    std::string_view got = SloStatusName(r->status);
    return got == e.value ? "" : fmt::format("expected {}, got {}", e.value, got);
  }
  if (f == "window_start") {
    std::string got = MinuteStart(r->window.begin_minute).ToRfc3339();
    auto want = core::ParseTimestamp(e.value);
    if (!want.ok()) return want.status().ToString();
    return MinuteStart(r->window.begin_minute) == *want
               ? ""
               : fmt::format("expected {}, got {}", want->ToRfc3339(), got);
  }
  if (f == "period") {
    auto want = core::ParseDuration(e.value);
    if (!want.ok()) return want.status().ToString();
    return r->window.period == *want ? ""
                                     : fmt::format("expected {}, got {}", e.value,
                                                   r->window.period.ToString());
  }
  if (std::string w = Bracket(f, "burn_rate"); !w.empty()) {
    auto d = core::ParseDuration(w);
    if (!d.ok()) return d.status().ToString();
    const BurnRate* b = r->BurnRateOver(*d);
    if (b == nullptr) return fmt::format("no burn rate over {}", w);
    return CheckNumber(e, b->rate);
  }
  if (std::string w = Bracket(f, "exhaustion_in"); !w.empty()) {
    // Minutes from the evaluation time; "none" when not in sight.
    const auto& t = w == "1h" ? r->exhaustion_at_1h : r->exhaustion_at_6h;
    std::optional<double> minutes;
    if (t.has_value()) minutes = (*t - at).SecondsDouble() / 60.0;
    return CheckNumber(e, minutes);
  }
  if (std::string rule = Bracket(f, "alert"); !rule.empty()) {
    const AlertCondition* a = FindRule(*r, rule);
    if (a == nullptr) return fmt::format("no rule {}", rule);
    std::string got = a->firing ? "firing" : (a->guarded ? "guarded" : "ok");
    return got == e.value ? "" : fmt::format("expected {}, got {}", e.value, got);
  }
  if (std::string rule = Bracket(f, "factor"); !rule.empty()) {
    const AlertCondition* a = FindRule(*r, rule);
    if (a == nullptr) return fmt::format("no rule {}", rule);
    return CheckNumber(e, a->factor);
  }
  return fmt::format("unknown field \"{}\"", f);
}

}  // namespace nines::slo::testing

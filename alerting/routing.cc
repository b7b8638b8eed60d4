// Matchers, the route tree and inhibition; time intervals are in time_interval.cc.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "alerting/routing.h"

namespace nines::alerting {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Alertmanager's classic matcher names: [a-zA-Z_:][a-zA-Z0-9_:]* (a colon allowed, as in a
// metric name).
bool IsMatcherName(std::string_view name) { return core::IsValidMetricName(name); }

void AppendEscaped(std::string* out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '"': *out += "\\\""; break;
      default: *out += c;
    }
  }
}

}  // namespace

std::string_view MatchTypeName(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexp: return "=~";
    case MatchType::kNotRegexp: return "!~";
  }
  return "?";
}

core::Result<Matcher> Matcher::Make(MatchType type, std::string name, std::string value) {
  if (!IsMatcherName(name)) {
    return core::InvalidArgumentError("invalid label name \"{}\"", name);
  }
  Matcher m;
  m.type_ = type;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (type == MatchType::kRegexp || type == MatchType::kNotRegexp) {
    core::Result<core::Regex> re = core::Regex::Compile("^(?:" + m.value_ + ")$");
    if (!re.ok()) {
      // RE2's complaint about the pattern as written, not about the anchored one.
      core::Result<core::Regex> raw = core::Regex::Compile(m.value_);
      return core::InvalidArgumentError("invalid regex \"{}\": {}", m.value_,
                                        raw.ok() ? re.status().message()
                                                 : raw.status().message());
    }
    m.regex_ = *std::move(re);
  }
  return m;
}

bool Matcher::Matches(std::string_view value) const {
  switch (type_) {
    case MatchType::kEqual: return value == value_;
    case MatchType::kNotEqual: return value != value_;
    case MatchType::kRegexp: return regex_->FullMatch(value);
    case MatchType::kNotRegexp: return !regex_->FullMatch(value);
  }
  return false;
}

std::string Matcher::ToString() const {
  std::string out = name_;
  out += MatchTypeName(type_);
  out += '"';
  AppendEscaped(&out, value_);
  out += '"';
  return out;
}

bool operator<(const Matcher& a, const Matcher& b) {
  if (a.name_ != b.name_) return a.name_ < b.name_;
  if (a.value_ != b.value_) return a.value_ < b.value_;
  return a.type_ < b.type_;
}

bool MatchesAll(const Matchers& matchers, const core::Labels& labels) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

std::string MatchersToString(const Matchers& matchers) {
  std::string out = "{";
  for (size_t i = 0; i < matchers.size(); ++i) {
    if (i > 0) out += ',';
    out += matchers[i].ToString();
  }
  out += '}';
  return out;
}

void SortMatchers(Matchers* matchers) { std::stable_sort(matchers->begin(), matchers->end()); }

core::Result<Matcher> ParseMatcher(std::string_view text) {
  // name, operator, raw value: `\s*name\s*(=~|=|!=|!~)\s*value\s*`.
  std::string_view s = TrimSpace(text);
  size_t i = 0;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' ||
                          s[i] == ':')) {
    ++i;
  }
  std::string_view name = s.substr(0, i);
  auto bad_format = [&] {
    return core::InvalidArgumentError("bad matcher format: {}", text);
  };
  if (name.empty() || !IsMatcherName(name)) return bad_format();
  while (i < s.size() && IsSpace(s[i])) ++i;
  MatchType type;
  std::string_view rest = s.substr(i);
  if (rest.starts_with("=~")) {
    type = MatchType::kRegexp;
    i += 2;
  } else if (rest.starts_with("!=")) {
    type = MatchType::kNotEqual;
    i += 2;
  } else if (rest.starts_with("!~")) {
    type = MatchType::kNotRegexp;
    i += 2;
  } else if (rest.starts_with("=")) {
    type = MatchType::kEqual;
    i += 1;
  } else {
    return bad_format();
  }
  std::string_view raw = TrimSpace(s.substr(i));
  const std::string_view raw_for_errors = raw;
  bool expect_trailing_quote = false;
  if (raw.starts_with('"')) {
    raw.remove_prefix(1);
    expect_trailing_quote = true;
  }
  auto unescaped_quote = [&] {
    return core::InvalidArgumentError("matcher value contains unescaped double quote: {}",
                                      raw_for_errors);
  };
  std::string value;
  bool escaped = false;
  for (size_t j = 0; j < raw.size(); ++j) {
    char c = raw[j];
    if (escaped) {
      escaped = false;
      if (c == 'n') {
        value += '\n';
      } else if (c == '"' || c == '\\') {
        value += c;
      } else {  // a backslash that escapes nothing is literal
        value += '\\';
        value += c;
      }
      continue;
    }
    if (c == '\\') {
      if (j + 1 < raw.size()) {
        escaped = true;
      } else {
        value += '\\';
      }
    } else if (c == '"') {
      if (!expect_trailing_quote || j + 1 < raw.size()) return unescaped_quote();
      expect_trailing_quote = false;
    } else {
      value += c;
    }
  }
  if (expect_trailing_quote) return unescaped_quote();
  return Matcher::Make(type, std::string(name), std::move(value));
}

core::Result<Matchers> ParseMatchers(std::string_view text) {
  if (text.starts_with('{')) text.remove_prefix(1);
  if (text.ends_with('}')) text.remove_suffix(1);
  std::vector<std::string> tokens;
  std::string token;
  bool inside_quotes = false;
  bool escaped = false;
  for (char c : text) {
    if (c == ',' && !inside_quotes) {
      tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (c == '"') {
      if (!escaped) {
        inside_quotes = !inside_quotes;
      } else {
        escaped = false;
      }
    } else if (c == '\\') {
      escaped = !escaped;
    } else {
      escaped = false;
    }
    token += c;
  }
  if (!TrimSpace(token).empty()) tokens.push_back(std::string(TrimSpace(token)));
  Matchers out;
  for (const std::string& t : tokens) {
    ASSIGN_OR_RETURN(Matcher m, ParseMatcher(t));
    out.push_back(std::move(m));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

std::unique_ptr<Route> Route::Build(const RouteConfig& root) { return BuildNode(root, nullptr); }

std::unique_ptr<Route> Route::BuildNode(const RouteConfig& config, const Route* parent) {
  std::unique_ptr<Route> r(new Route());
  r->parent_ = parent;
  if (parent != nullptr) {
    r->receiver_ = parent->receiver_;
    r->group_by_ = parent->group_by_;
    r->group_by_all_ = parent->group_by_all_;
    r->group_wait_ = parent->group_wait_;
    r->group_interval_ = parent->group_interval_;
    r->repeat_interval_ = parent->repeat_interval_;
  }
  if (!config.receiver.empty()) r->receiver_ = config.receiver;
  // An explicit label list replaces the parent's and turns `...` off; `...` turns it on; neither
  // inherits both.
  if (config.group_by) {
    r->group_by_ = *config.group_by;
    r->group_by_all_ = false;
  } else if (config.group_by_all) {
    r->group_by_all_ = true;
  }
  if (config.group_wait) r->group_wait_ = *config.group_wait;
  if (config.group_interval) r->group_interval_ = *config.group_interval;
  if (config.repeat_interval) r->repeat_interval_ = *config.repeat_interval;
  r->matchers_ = config.matchers;
  SortMatchers(&r->matchers_);
  r->continue_ = config.continue_matching;
  r->mute_time_intervals_ = config.mute_time_intervals;
  r->active_time_intervals_ = config.active_time_intervals;
  for (const RouteConfig& child : config.routes) r->routes_.push_back(BuildNode(child, r.get()));
  return r;
}

std::vector<const Route*> Route::Match(const core::Labels& labels) const {
  if (!MatchesAll(matchers_, labels)) return {};
  std::vector<const Route*> all;
  for (const std::unique_ptr<Route>& child : routes_) {
    std::vector<const Route*> matched = child->Match(labels);
    const bool any = !matched.empty();
    all.insert(all.end(), matched.begin(), matched.end());
    if (any && !child->continue_) break;
  }
  if (all.empty()) all.push_back(this);
  return all;
}

std::string Route::Key() const {
  std::string key;
  if (parent_ != nullptr) {
    key = parent_->Key();
    key += '/';
  }
  key += MatchersToString(matchers_);
  return key;
}

void Route::Walk(const std::function<void(const Route&)>& visit) const {
  visit(*this);
  for (const std::unique_ptr<Route>& child : routes_) child->Walk(visit);
}

// ---------------------------------------------------------------------------------------------

bool InhibitRule::Inhibits(const Alert& source, const Alert& target) const {
  if (source.status != AlertStatus::kFiring) return false;
  if (!MatchesAll(target_matchers, target.labels)) return false;
  if (!MatchesAll(source_matchers, source.labels)) return false;
  for (const std::string& label : equal) {
    if (source.labels.Get(label) != target.labels.Get(label)) return false;
  }
  // An alert that matches both sides is not muted by another that also matches both: otherwise
  // two such alerts would silence each other, and one would silence itself.
  if (MatchesAll(source_matchers, target.labels) && MatchesAll(target_matchers, source.labels)) {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

std::string_view IntegrationKindName(IntegrationKind kind) {
  switch (kind) {
    case IntegrationKind::kWebhook: return "webhook";
    case IntegrationKind::kPagerDuty: return "pagerduty";
    case IntegrationKind::kSlack: return "slack";
    case IntegrationKind::kOpsgenie: return "opsgenie";
    case IntegrationKind::kEmail: return "email";
  }
  return "?";
}

const Receiver* AlertmanagerConfig::FindReceiver(std::string_view name) const {
  for (const Receiver& r : receivers) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace nines::alerting

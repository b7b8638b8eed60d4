// alerting/routing.h: the model and the pure logic of Alertmanager's routing configuration, so a
// user's alertmanager.yml means in nines exactly what it means in Alertmanager.
//
//  - Matcher / Matchers: label matchers (`=`, `!=`, `=~`, `!~`), parsed from Alertmanager's
//    string form (`severity=~"page|ticket"`, `{a="b",c!="d"}`). A regex is fully anchored and
//    written in RE2 (Go's) syntax; an absent label matches as the empty value.
//  - TimeInterval: one `time_intervals` entry (times of day, weekdays, days of the month incl.
//    negative ones counted from the month's end, months, years, an IANA location), with
//    Contains(Timestamp).
//  - RouteConfig / Route: the route tree as written, and as built with Alertmanager's defaults
//    (group_wait 30s, group_interval 5m, repeat_interval 4h) and inheritance from the parent;
//    Route::Match returns the routes an alert goes to, in Alertmanager's order.
//  - InhibitRule: source/target matchers and `equal`, with a pure Inhibits(source, target).
//  - AlertmanagerConfig: the sections of an alertmanager.yml nines reads (global, route,
//    receivers, inhibit_rules, time_intervals); app/alerting_config.h parses them from YAML.
//
// Nothing here reads a clock: every time-dependent function takes the time as an argument.
// Thread-safety: all types are values, thread-compatible; a built Route tree is immutable, so
// any number of threads may Match against it at once.
#ifndef NINES_ALERTING_ROUTING_H_
#define NINES_ALERTING_ROUTING_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alerting.h"
#include "core/labels.h"
#include "core/regex.h"
#include "core/status.h"
#include "core/time.h"

namespace date {
class time_zone;
}  // namespace date

namespace nines::alerting {

// ---------------------------------------------------------------------------------------------
// Matchers

enum class MatchType { kEqual, kNotEqual, kRegexp, kNotRegexp };
// "=", "!=", "=~", "!~".
std::string_view MatchTypeName(MatchType t);

class Matcher {
 public:
  // A matcher of label `name`. For the regex types, `value` is compiled as "^(?:value)$" (as
  // Alertmanager does; `.` does not match a newline).
  // Errors: INVALID_ARGUMENT for an invalid label name or regex (RE2's complaint).
  static core::Result<Matcher> Make(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Whether `value` (a label's value, "" when absent) satisfies this matcher.
  bool Matches(std::string_view value) const;
  bool Matches(const core::Labels& labels) const { return Matches(labels.Get(name_)); }

  // `name="value"` with the value escaped (backslash, newline, double quote), as Alertmanager
  // prints it.
  std::string ToString() const;

  // Alertmanager's order: by name, then value, then type.
  friend bool operator<(const Matcher& a, const Matcher& b);

 private:
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::optional<core::Regex> regex_;  // set for kRegexp and kNotRegexp
};

using Matchers = std::vector<Matcher>;

// Whether every matcher matches `labels` (true for none).
bool MatchesAll(const Matchers& matchers, const core::Labels& labels);
// `{a="b",c=~"d"}`, as Alertmanager prints a matcher list (in the list's order).
std::string MatchersToString(const Matchers& matchers);
// Sorts in Alertmanager's order (see Matcher::operator<), as it does for every parsed list.
void SortMatchers(Matchers* matchers);

// Parses one matcher in Alertmanager's classic syntax: a label name, an operator, and a value
// that may be double-quoted; white space around each token is dropped. Inside the value `\"`,
// `\n` and `\\` are escapes; any other backslash is literal; an unescaped `"` is an error
// except as the value's first and last character.
// Example: ParseMatcher("severity =~ \"page|ticket\"").
// Errors: INVALID_ARGUMENT ("bad matcher format: ...", "unescaped double quote", a bad regex).
core::Result<Matcher> ParseMatcher(std::string_view text);

// Parses a comma-separated list of matchers, optionally in braces (`{a="b", c!="d",}`); commas
// inside double quotes do not separate. The result is in the text's order (not sorted).
// Errors: as ParseMatcher, for the first bad matcher.
core::Result<Matchers> ParseMatchers(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Time intervals

// [begin, end], both included.
struct InclusiveRange {
  int begin = 0;
  int end = 0;
  friend bool operator==(const InclusiveRange&, const InclusiveRange&) = default;
};

// Minutes of the day [start_minute, end_minute): 09:00-17:00 is [540, 1020).
struct TimeOfDayRange {
  int start_minute = 0;
  int end_minute = 0;
  friend bool operator==(const TimeOfDayRange&, const TimeOfDayRange&) = default;
};

// Parsers of the fields of a `time_intervals` entry, each with Alertmanager's checks. Each
// returns INVALID_ARGUMENT with a message that names the bad text.
//  - times: "HH:MM" from 00:00 to 24:00; start before end.
core::Result<TimeOfDayRange> ParseTimeOfDayRange(std::string_view start_time,
                                                 std::string_view end_time);
//  - weekdays: "monday" or "monday:friday" (case-insensitive), Sunday = 0 ... Saturday = 6;
//    the range may not wrap ("saturday:sunday" is an error, as in Alertmanager).
core::Result<InclusiveRange> ParseWeekdayRange(std::string_view text);
//  - days_of_month: "1", "1:5", "-3:-1" (the last three days), "25:-1"; 1..31 or -31..-1, not 0;
//    a negative start needs a negative end.
core::Result<InclusiveRange> ParseDayOfMonthRange(std::string_view text);
//  - months: "january:march" or "1:3" (case-insensitive names, or numbers 1..12).
core::Result<InclusiveRange> ParseMonthRange(std::string_view text);
//  - years: "2026" or "2026:2027".
core::Result<InclusiveRange> ParseYearRange(std::string_view text);

// One `time_intervals` entry. An empty field puts no restriction; the fields that are set must
// all hold. Days, times and so on are those of the wall clock in `location` (UTC when none).
class TimeInterval {
 public:
  std::vector<TimeOfDayRange> times;
  std::vector<InclusiveRange> weekdays;
  std::vector<InclusiveRange> days_of_month;
  std::vector<InclusiveRange> months;
  std::vector<InclusiveRange> years;

  // Sets the location to the IANA zone `name` ("Europe/Berlin"; "UTC"; "Local" is the zone of
  // the machine nines runs on, as in Go). Errors: NOT_FOUND for an unknown zone.
  core::Status SetLocation(std::string_view name);
  // The zone's name, "" for UTC by default.
  const std::string& location() const { return location_name_; }

  // Whether `t` falls in this interval. Across a DST change a time of day is the wall clock's:
  // "09:00-17:00 in Europe/Berlin" is 08:00-16:00 UTC in winter and 07:00-15:00 UTC in summer.
  bool Contains(core::Timestamp t) const;

 private:
  std::string location_name_;
  const date::time_zone* zone_ = nullptr;  // null: UTC
};

// Whether `t` falls in any of `intervals` (one named time interval's list).
bool AnyContains(const std::vector<TimeInterval>& intervals, core::Timestamp t);

// ---------------------------------------------------------------------------------------------
// Routes

// Alertmanager's defaults for the root route.
inline constexpr core::Duration kDefaultGroupWait = core::Duration::Seconds(30);
inline constexpr core::Duration kDefaultGroupInterval = core::Duration::Minutes(5);
inline constexpr core::Duration kDefaultRepeatInterval = core::Duration::Hours(4);

// A route as written in the configuration: unset fields inherit from the parent (or take the
// defaults at the root).
struct RouteConfig {
  std::string receiver;  // "" inherits
  // group_by without "...": nullopt inherits; an empty list groups everything into one group.
  std::optional<std::vector<std::string>> group_by;
  bool group_by_all = false;  // group_by: ['...']: every label; each alert its own group
  Matchers matchers;          // match, match_re and matchers together, sorted
  bool continue_matching = false;  // `continue`
  std::optional<core::Duration> group_wait;
  std::optional<core::Duration> group_interval;
  std::optional<core::Duration> repeat_interval;
  // Names of time intervals. Not inherited (as in Alertmanager): each route lists its own.
  std::vector<std::string> mute_time_intervals;
  std::vector<std::string> active_time_intervals;
  std::vector<RouteConfig> routes;
};

// A node of the built route tree, with its effective (inherited) options.
class Route {
 public:
  // Builds the tree of `root`: each node's unset options come from its parent, the root's from
  // Alertmanager's defaults. Validation (a root receiver, no matchers on the root, known
  // receivers and intervals) is the parser's: this never fails.
  static std::unique_ptr<Route> Build(const RouteConfig& root);

  Route(const Route&) = delete;
  Route& operator=(const Route&) = delete;

  // The routes an alert with `labels` goes to, in Alertmanager's order: nothing if this route's
  // matchers do not match; else the children tried depth-first in order, stopping after the
  // first that matches unless its `continue` is set; this route itself when no child matched.
  // The pointers live as long as the tree.
  std::vector<const Route*> Match(const core::Labels& labels) const;

  const std::string& receiver() const { return receiver_; }
  // Group by these labels; ignored when group_by_all().
  const std::vector<std::string>& group_by() const { return group_by_; }
  bool group_by_all() const { return group_by_all_; }
  const Matchers& matchers() const { return matchers_; }
  bool continue_matching() const { return continue_; }
  core::Duration group_wait() const { return group_wait_; }
  core::Duration group_interval() const { return group_interval_; }
  core::Duration repeat_interval() const { return repeat_interval_; }
  const std::vector<std::string>& mute_time_intervals() const { return mute_time_intervals_; }
  const std::vector<std::string>& active_time_intervals() const {
    return active_time_intervals_;
  }
  const Route* parent() const { return parent_; }
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

  // The route's key as Alertmanager forms it (the part of a group key before the group labels):
  // the parent's key, "/", and this route's matchers: `{}/{service="db"}`.
  std::string Key() const;
  // Calls `visit` on this route, then on its descendants depth-first.
  void Walk(const std::function<void(const Route&)>& visit) const;

 private:
  Route() = default;
  static std::unique_ptr<Route> BuildNode(const RouteConfig& config, const Route* parent);

  const Route* parent_ = nullptr;
  std::string receiver_;
  std::vector<std::string> group_by_;
  bool group_by_all_ = false;
  Matchers matchers_;
  bool continue_ = false;
  core::Duration group_wait_ = kDefaultGroupWait;
  core::Duration group_interval_ = kDefaultGroupInterval;
  core::Duration repeat_interval_ = kDefaultRepeatInterval;
  std::vector<std::string> mute_time_intervals_;
  std::vector<std::string> active_time_intervals_;
  std::vector<std::unique_ptr<Route>> routes_;
};

// ---------------------------------------------------------------------------------------------
// Inhibition

struct InhibitRule {
  std::string name;  // optional
  Matchers source_matchers;  // source_match, source_match_re and source_matchers together
  Matchers target_matchers;
  std::vector<std::string> equal;

  // Whether `source` mutes `target` under this rule, as Alertmanager decides: `source` is
  // firing and matches the source matchers, `target` matches the target matchers, every label
  // in `equal` has the same value in both (absent in both counts as equal), and not both alerts
  // match both sides (so an alert that matches both sides never mutes another such alert, nor
  // itself).
  bool Inhibits(const Alert& source, const Alert& target) const;
};

// ---------------------------------------------------------------------------------------------
// The configuration as a whole

enum class IntegrationKind { kWebhook, kPagerDuty, kSlack, kOpsgenie, kEmail };
// "webhook", "pagerduty", "slack", "opsgenie", "email".
std::string_view IntegrationKindName(IntegrationKind kind);

// One entry of a receiver's `<kind>_configs` list. Its fields are kept as written, for the
// notifiers to interpret: each scalar under its dotted path ("to", "http_config.authorization.
// credentials", "headers.Subject", "fields.0.title"). Global defaults (smtp_from, slack_api_url,
// ...) are not copied in: they stay in GlobalConfig::fields.
struct Integration {
  IntegrationKind kind = IntegrationKind::kWebhook;
  bool send_resolved = true;  // with Alertmanager's default for the kind when not written
  std::map<std::string, std::string> fields;
};

struct Receiver {
  std::string name;
  std::vector<Integration> integrations;  // none: a receiver that notifies nobody
};

struct GlobalConfig {
  // How long after its last update an alert without ends_at counts as resolved.
  core::Duration resolve_timeout = core::Duration::Minutes(5);
  // The other global fields nines knows (smtp_*, slack_api_url, pagerduty_url, opsgenie_*,
  // http_config.*), as written, under their dotted paths.
  std::map<std::string, std::string> fields;
};

struct AlertmanagerConfig {
  GlobalConfig global;
  RouteConfig route;
  std::vector<Receiver> receivers;
  std::vector<InhibitRule> inhibit_rules;
  // `time_intervals` and the older `mute_time_intervals`, by name.
  std::map<std::string, std::vector<TimeInterval>, std::less<>> time_intervals;

  // The receiver named `name`, or null.
  const Receiver* FindReceiver(std::string_view name) const;
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_ROUTING_H_

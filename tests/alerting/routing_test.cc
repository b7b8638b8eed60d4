#include "alerting/routing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;

core::Labels L(std::string_view text) {
  if (text == "{}") return core::Labels();  // ParseLabels wants a name or a label
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return l.ok() ? *l : core::Labels();
}

Matchers M(std::string_view text) {
  auto m = ParseMatchers(text);
  EXPECT_TRUE(m.ok()) << text << ": " << m.status().ToString();
  return m.ok() ? *m : Matchers();
}

// ---- Matchers ------------------------------------------------------------------------------

TEST(MatcherTest, ParsesAlertmanagersClassicSyntax) {
  struct Case {
    std::string text;
    std::string want;  // the parsed list as Alertmanager prints it
  };
  const std::vector<Case> cases = {
      {R"(severity="page")", R"({severity="page"})"},
      {R"(severity=page)", R"({severity="page"})"},  // quotes are optional
      {R"(  severity  =~  "page|ticket"  )", R"({severity=~"page|ticket"})"},
      {R"({foo = "bar", dings != "bums", })", R"({foo="bar",dings!="bums"})"},
      {R"(foo=bar,dings!=bums)", R"({foo="bar",dings!="bums"})"},
      {R"(a!~"x.*")", R"({a!~"x.*"})"},
      {R"(a="")", R"({a=""})"},
      {R"(a=)", R"({a=""})"},
      {R"(a:b="c")", R"({a:b="c"})"},  // a colon is allowed in the classic syntax
      // A comma inside quotes does not separate; \" inside quotes does not end them.
      {R"({quote="She said: \"Hi, ladies!\"", b="c"})",
       R"({quote="She said: \"Hi, ladies!\"",b="c"})"},
      {R"(a="x\ny")", R"({a="x\ny"})"},          // \n is a newline (printed escaped)
      {R"(a="back\\slash")", R"({a="back\\slash"})"},
      {R"(a="lone\qbackslash")", R"({a="lone\\qbackslash"})"},  // \q: literal backslash
      {R"(statuscode=~"5..")", R"({statuscode=~"5.."})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto m = ParseMatchers(c.text);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(MatchersToString(*m), c.want);
  }
}

TEST(MatcherTest, UnescapesValues) {
  auto m = ParseMatcher(R"(a="x\"y\\z\nw")");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->value(), "x\"y\\z\nw");
  EXPECT_EQ(m->type(), MatchType::kEqual);
  EXPECT_EQ(m->name(), "a");
}

TEST(MatcherTest, RejectsMalformedMatchers) {
  struct Case {
    std::string text;
    std::string want;  // a part of the error message
  };
  const std::vector<Case> cases = {
      {"severity", "bad matcher format"},
      {"=page", "bad matcher format"},
      {"1a=b", "bad matcher format"},
      {R"(a="b)", "unescaped double quote"},
      {R"(a=b")", "unescaped double quote"},
      {R"(a="b"c")", "unescaped double quote"},
      {R"(a=~"(")", "invalid regex"},
      {"a<b", "bad matcher format"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto m = ParseMatchers(c.text);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find(c.want), std::string::npos) << m.status().ToString();
  }
}

TEST(MatcherTest, ReadsWhatFollowsTheOperatorAsTheValue) {
  // Alertmanager's parser is lenient: `a==b` is a="=b", `a=~=~b` is a=~"=~b".
  auto m = ParseMatcher("a==b");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type(), MatchType::kEqual);
  EXPECT_EQ(m->value(), "=b");
  m = ParseMatcher("a=~=~b");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type(), MatchType::kRegexp);
  EXPECT_EQ(m->value(), "=~b");
}

TEST(MatcherTest, MatchesLikeAlertmanager) {
  struct Case {
    std::string matcher;
    std::string labels;
    bool want;
  };
  const std::vector<Case> cases = {
      {R"(a="b")", R"({a="b"})", true},
      {R"(a="b")", R"({a="bc"})", false},
      {R"(a!="b")", R"({})", true},           // absent is ""
      {R"(a="")", R"({})", true},
      {R"(a="")", R"({a="x"})", false},
      {R"(a=~"b|c")", R"({a="c"})", true},
      {R"(a=~"b|c")", R"({a="cc"})", false},  // fully anchored
      {R"(a=~"b")", R"({a="abc"})", false},
      {R"(a=~".*")", R"({})", true},
      {R"(a=~".+")", R"({})", false},
      {R"(a!~"b.*")", R"({a="bar"})", false},
      {R"(a!~"b.*")", R"({a="car"})", true},
      {R"(a=~"x.y")", "{a=\"x\\ny\"}", false},  // `.` does not match a newline
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.matcher + " on " + c.labels);
    EXPECT_EQ(MatchesAll(M(c.matcher), L(c.labels)), c.want);
  }
}

TEST(MatcherTest, SortsByNameThenValueThenType) {
  Matchers m = M(R"(b="1", a!="2", a="2", a="1")");
  SortMatchers(&m);
  EXPECT_EQ(MatchersToString(m), R"({a="1",a="2",a!="2",b="1"})");
}

// ---- Routes --------------------------------------------------------------------------------

RouteConfig Child(std::string receiver, std::string_view matchers) {
  RouteConfig r;
  r.receiver = std::move(receiver);
  r.matchers = M(matchers);
  return r;
}

std::vector<std::string> Receivers(const Route& root, std::string_view labels) {
  std::vector<std::string> out;
  for (const Route* r : root.Match(L(labels))) out.push_back(r->receiver());
  return out;
}

// The example tree of Alertmanager's configuration documentation (docs/configuration.md, "route"
// example).
RouteConfig DocumentedTree() {
  RouteConfig root;
  root.receiver = "default-receiver";
  root.group_wait = Duration::Seconds(30);
  root.group_interval = Duration::Minutes(5);
  root.repeat_interval = Duration::Hours(4);
  root.group_by = std::vector<std::string>{"cluster", "alertname"};
  RouteConfig db = Child("database-pager", R"(service=~"mysql|cassandra")");
  db.group_wait = Duration::Seconds(10);
  RouteConfig frontend = Child("frontend-pager", R"(team="frontend")");
  frontend.group_by = std::vector<std::string>{"product", "environment"};
  RouteConfig dev = Child("dev-pager", R"(service="inhouse-service")");
  dev.mute_time_intervals = {"offhours", "holidays"};
  dev.continue_matching = true;
  RouteConfig on_call = Child("on-call-pager", R"(service="inhouse-service")");
  on_call.active_time_intervals = {"offhours", "holidays"};
  root.routes = {db, frontend, dev, on_call};
  return root;
}

TEST(RouteTest, MatchesTheDocumentedExampleTree) {
  std::unique_ptr<Route> root = Route::Build(DocumentedTree());
  struct Case {
    std::string labels;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {R"({service="mysql"})", {"database-pager"}},
      {R"({service="cassandra",team="frontend"})", {"database-pager"}},  // first match wins
      {R"({service="mysqlx"})", {"default-receiver"}},                  // anchored regex
      {R"({team="frontend"})", {"frontend-pager"}},
      {R"({service="inhouse-service"})", {"dev-pager", "on-call-pager"}},  // continue
      {R"({team="backend"})", {"default-receiver"}},  // no child: the parent itself
      {R"({})", {"default-receiver"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.labels);
    EXPECT_EQ(Receivers(*root, c.labels), c.want);
  }
}

TEST(RouteTest, FallsBackToTheDeepestMatchingParentAndHonoursContinueAtEachLevel) {
  // Alertmanager's doc/examples/simple.yml tree, with `continue` on the first db child.
  RouteConfig root;
  root.receiver = "team-X-mails";
  RouteConfig x = Child("team-X-mails", R"(service=~"foo1|foo2|baz")");
  x.routes = {Child("team-X-pager", R"(severity="critical")")};
  RouteConfig y = Child("team-Y-mails", R"(service="files")");
  y.routes = {Child("team-Y-pager", R"(severity="critical")")};
  RouteConfig db = Child("team-DB-pager", R"(service="database")");
  RouteConfig db_x = Child("team-X-pager", R"(owner="team-X")");
  db_x.continue_matching = true;
  db.routes = {db_x, Child("team-Y-pager", R"m(owner=~"team-(X|Y)")m")};
  root.routes = {x, y, db};
  std::unique_ptr<Route> tree = Route::Build(root);
  struct Case {
    std::string labels;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {R"({service="foo1",severity="critical"})", {"team-X-pager"}},
      {R"({service="foo1",severity="warning"})", {"team-X-mails"}},
      {R"({service="files",severity="critical"})", {"team-Y-pager"}},
      {R"({service="database",owner="team-X"})", {"team-X-pager", "team-Y-pager"}},
      {R"({service="database",owner="team-Y"})", {"team-Y-pager"}},
      {R"({service="database",owner="team-Z"})", {"team-DB-pager"}},
      {R"({service="other"})", {"team-X-mails"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.labels);
    EXPECT_EQ(Receivers(*tree, c.labels), c.want);
  }
}

TEST(RouteTest, AContinuingRouteThatMatchesIsFollowedByLaterSiblingsOnly) {
  RouteConfig root;
  root.receiver = "root";
  RouteConfig a = Child("a", R"(x="1")");
  a.continue_matching = true;
  RouteConfig b = Child("b", R"(x="1")");
  RouteConfig c = Child("c", R"(x="1")");  // after b, which matched without continue
  root.routes = {a, b, c};
  EXPECT_EQ(Receivers(*Route::Build(root), R"({x="1"})"), (std::vector<std::string>{"a", "b"}));
  // A continuing route that matches still suppresses the parent fallback.
  root.routes = {a};
  EXPECT_EQ(Receivers(*Route::Build(root), R"({x="1"})"), (std::vector<std::string>{"a"}));
}

TEST(RouteTest, TimersDefaultAndInherit) {
  RouteConfig root;
  root.receiver = "r";
  RouteConfig child = Child("", R"(a="1")");
  child.group_wait = Duration::Zero();  // "no group wait for pages"
  RouteConfig grandchild = Child("g", R"(b="1")");
  grandchild.repeat_interval = Duration::Hours(1);
  child.routes = {grandchild};
  root.routes = {child};
  std::unique_ptr<Route> tree = Route::Build(root);
  EXPECT_EQ(tree->group_wait(), Duration::Seconds(30));
  EXPECT_EQ(tree->group_interval(), Duration::Minutes(5));
  EXPECT_EQ(tree->repeat_interval(), Duration::Hours(4));
  const Route& c = *tree->routes()[0];
  EXPECT_EQ(c.receiver(), "r");  // inherited
  EXPECT_EQ(c.group_wait(), Duration::Zero());
  EXPECT_EQ(c.group_interval(), Duration::Minutes(5));
  const Route& g = *c.routes()[0];
  EXPECT_EQ(g.receiver(), "g");
  EXPECT_EQ(g.group_wait(), Duration::Zero());  // from its parent, not the default
  EXPECT_EQ(g.repeat_interval(), Duration::Hours(1));
  EXPECT_EQ(g.parent(), &c);
}

TEST(RouteTest, GroupByInheritsAndTheWildcardGroupsByEveryLabel) {
  RouteConfig root;
  root.receiver = "r";
  root.group_by = std::vector<std::string>{"alertname", "slo", "region"};
  RouteConfig inherit = Child("", R"(a="1")");
  RouteConfig all = Child("", R"(a="2")");
  all.group_by_all = true;
  RouteConfig under_all = Child("", R"(b="1")");
  RouteConfig reset = Child("", R"(b="2")");
  reset.group_by = std::vector<std::string>{"region"};
  all.routes = {under_all, reset};
  RouteConfig none = Child("", R"(a="3")");
  none.group_by = std::vector<std::string>{};
  root.routes = {inherit, all, none};
  std::unique_ptr<Route> tree = Route::Build(root);
  const Route& i = *tree->routes()[0];
  EXPECT_EQ(i.group_by(), (std::vector<std::string>{"alertname", "slo", "region"}));
  EXPECT_FALSE(i.group_by_all());
  const Route& a = *tree->routes()[1];
  EXPECT_TRUE(a.group_by_all());
  EXPECT_TRUE(a.routes()[0]->group_by_all());   // inherited
  EXPECT_FALSE(a.routes()[1]->group_by_all());  // an explicit list turns it off
  EXPECT_EQ(a.routes()[1]->group_by(), (std::vector<std::string>{"region"}));
  const Route& n = *tree->routes()[2];
  EXPECT_TRUE(n.group_by().empty());
  EXPECT_FALSE(n.group_by_all());
}

TEST(RouteTest, TimeIntervalsAreNotInheritedAndKeysNameThePath) {
  std::unique_ptr<Route> tree = Route::Build(DocumentedTree());
  const Route& dev = *tree->routes()[2];
  EXPECT_EQ(dev.mute_time_intervals(), (std::vector<std::string>{"offhours", "holidays"}));
  EXPECT_TRUE(tree->routes()[3]->mute_time_intervals().empty());
  EXPECT_EQ(tree->routes()[3]->active_time_intervals(),
            (std::vector<std::string>{"offhours", "holidays"}));
  EXPECT_EQ(tree->Key(), "{}");
  EXPECT_EQ(tree->routes()[0]->Key(), R"({}/{service=~"mysql|cassandra"})");
  int n = 0;
  tree->Walk([&n](const Route&) { ++n; });
  EXPECT_EQ(n, 5);
}

// ---- Time intervals ------------------------------------------------------------------------

Timestamp At(std::string_view rfc3339) {
  auto t = core::ParseTimestamp(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : Timestamp();
}

TimeInterval BusinessHours(std::string_view zone) {
  TimeInterval ti;
  ti.times = {*ParseTimeOfDayRange("09:00", "17:00")};
  ti.weekdays = {*ParseWeekdayRange("monday:friday")};
  EXPECT_TRUE(ti.SetLocation(zone).ok()) << zone;
  return ti;
}

struct TimeCase {
  std::string at;
  bool want;
};

void ExpectContains(const TimeInterval& ti, const std::vector<TimeCase>& cases) {
  for (const TimeCase& c : cases) {
    SCOPED_TRACE(c.at);
    EXPECT_EQ(ti.Contains(At(c.at)), c.want);
  }
}

TEST(TimeIntervalTest, BusinessHoursFollowTheWallClockAcrossTheEuDstChange) {
  // Europe/Berlin leaves CET (+01) for CEST (+02) at 2026-03-29 01:00 UTC, and returns at
  // 2026-10-25 01:00 UTC.
  ExpectContains(BusinessHours("Europe/Berlin"),
                 {
                     {"2026-03-27T07:59:59Z", false},  // Fri 08:59:59 CET
                     {"2026-03-27T08:00:00Z", true},   // Fri 09:00 CET
                     {"2026-03-27T15:59:59Z", true},   // Fri 16:59:59 CET
                     {"2026-03-27T16:00:00Z", false},  // Fri 17:00 CET
                     {"2026-03-30T06:59:00Z", false},  // Mon 08:59 CEST
                     {"2026-03-30T07:00:00Z", true},   // Mon 09:00 CEST
                     {"2026-03-30T14:59:00Z", true},   // Mon 16:59 CEST
                     {"2026-03-30T15:00:00Z", false},  // Mon 17:00 CEST
                     {"2026-03-28T10:00:00Z", false},  // Saturday
                     {"2026-10-23T07:00:00Z", true},   // Fri 09:00 CEST
                     {"2026-10-26T07:00:00Z", false},  // Mon 08:00 CET
                     {"2026-10-26T08:00:00Z", true},   // Mon 09:00 CET
                 });
}

TEST(TimeIntervalTest, BusinessHoursFollowTheWallClockAcrossTheUsDstChange) {
  // America/New_York leaves EST (-05) for EDT (-04) at 2026-03-08 07:00 UTC, and returns at
  // 2026-11-01 06:00 UTC.
  ExpectContains(BusinessHours("America/New_York"),
                 {
                     {"2026-03-06T14:00:00Z", true},   // Fri 09:00 EST
                     {"2026-03-06T13:30:00Z", false},  // Fri 08:30 EST
                     {"2026-03-09T13:00:00Z", true},   // Mon 09:00 EDT
                     {"2026-03-09T12:59:00Z", false},  // Mon 08:59 EDT
                     {"2026-03-09T21:00:00Z", false},  // Mon 17:00 EDT
                     {"2026-11-02T13:30:00Z", false},  // Mon 08:30 EST
                     {"2026-11-02T14:00:00Z", true},   // Mon 09:00 EST
                 });
}

TEST(TimeIntervalTest, AnHourThatDstSkipsNeverHappensAndOneItRepeatsHappensTwice) {
  TimeInterval two_to_three;
  two_to_three.times = {*ParseTimeOfDayRange("02:00", "03:00")};
  ASSERT_TRUE(two_to_three.SetLocation("America/New_York").ok());
  ExpectContains(two_to_three, {
                                   {"2026-03-08T06:59:59Z", false},  // 01:59:59 EST
                                   {"2026-03-08T07:00:00Z", false},  // 03:00 EDT: 02:xx skipped
                                   {"2026-03-09T06:30:00Z", true},   // next day 02:30 EDT
                               });
  TimeInterval one_to_two;
  one_to_two.times = {*ParseTimeOfDayRange("01:00", "02:00")};
  ASSERT_TRUE(one_to_two.SetLocation("America/New_York").ok());
  ExpectContains(one_to_two, {
                                 {"2026-11-01T05:30:00Z", true},   // 01:30 EDT
                                 {"2026-11-01T06:30:00Z", true},   // 01:30 EST, again
                                 {"2026-11-01T07:00:00Z", false},  // 02:00 EST
                             });
}

TEST(TimeIntervalTest, WeekdaysAndDaysAreThoseOfTheLocation) {
  TimeInterval monday;
  monday.weekdays = {*ParseWeekdayRange("Monday")};  // case-insensitive
  ASSERT_TRUE(monday.SetLocation("Australia/Sydney").ok());
  // Sunday 2026-06-07 20:00 UTC is Monday 06:00 in Sydney (AEST, +10).
  ExpectContains(monday, {{"2026-06-07T20:00:00Z", true}, {"2026-06-07T13:00:00Z", false}});
  TimeInterval utc_monday;
  utc_monday.weekdays = {*ParseWeekdayRange("monday")};
  ExpectContains(utc_monday, {{"2026-06-07T20:00:00Z", false}, {"2026-06-08T00:00:00Z", true}});
}

TEST(TimeIntervalTest, NegativeDaysCountFromTheEndOfEachMonth) {
  TimeInterval last_day;
  last_day.days_of_month = {*ParseDayOfMonthRange("-1")};
  ExpectContains(last_day, {
                               {"2028-02-29T12:00:00Z", true},  // leap year
                               {"2028-02-28T12:00:00Z", false},
                               {"2026-02-28T12:00:00Z", true},
                               {"2026-04-30T12:00:00Z", true},
                               {"2026-05-30T12:00:00Z", false},
                               {"2026-05-31T12:00:00Z", true},
                           });
  TimeInterval late;
  late.days_of_month = {*ParseDayOfMonthRange("25:31")};
  ExpectContains(late, {{"2026-04-30T00:00:00Z", true}, {"2026-04-24T23:59:59Z", false}});
  TimeInterval thirty_first;
  thirty_first.days_of_month = {*ParseDayOfMonthRange("31")};
  ExpectContains(thirty_first, {{"2026-04-30T00:00:00Z", false}, {"2026-05-31T00:00:00Z", true}});
  // The last day of March in Berlin, on the night DST starts there (29 March is a Sunday; the
  // 31st is the last day): 2026-03-30T22:30Z is 00:30 CEST on the 31st.
  TimeInterval berlin_last;
  berlin_last.days_of_month = {*ParseDayOfMonthRange("-1")};
  ASSERT_TRUE(berlin_last.SetLocation("Europe/Berlin").ok());
  ExpectContains(berlin_last, {{"2026-03-30T21:59:59Z", false}, {"2026-03-30T22:30:00Z", true},
                               {"2026-03-31T21:59:59Z", true}, {"2026-03-31T22:00:00Z", false}});
}

TEST(TimeIntervalTest, AllSetFieldsMustHold) {
  TimeInterval ti;
  ti.months = {*ParseMonthRange("december")};
  ti.days_of_month = {*ParseDayOfMonthRange("24:26")};
  ti.years = {*ParseYearRange("2026:2027")};
  ExpectContains(ti, {
                         {"2026-12-25T10:00:00Z", true},
                         {"2027-12-24T00:00:00Z", true},
                         {"2028-12-25T10:00:00Z", false},  // year
                         {"2026-11-25T10:00:00Z", false},  // month
                         {"2026-12-27T10:00:00Z", false},  // day
                     });
  EXPECT_TRUE(TimeInterval().Contains(At("2026-01-01T00:00:00Z")));  // no fields: always
  EXPECT_TRUE(AnyContains({ti, TimeInterval()}, At("2020-01-01T00:00:00Z")));
  EXPECT_FALSE(AnyContains({ti}, At("2020-01-01T00:00:00Z")));
  EXPECT_FALSE(AnyContains({}, At("2020-01-01T00:00:00Z")));
}

TEST(TimeIntervalTest, TimesEndAtMidnightAsTwentyFourHundred) {
  TimeInterval evening;
  evening.times = {*ParseTimeOfDayRange("17:00", "24:00")};
  ExpectContains(evening, {{"2026-01-01T23:59:59Z", true}, {"2026-01-02T00:00:00Z", false},
                           {"2026-01-01T16:59:59Z", false}});
}

TEST(TimeIntervalTest, RejectsWhatAlertmanagerRejects) {
  struct Case {
    std::string name;
    core::Status status;
  };
  const std::vector<Case> cases = {
      {"time 9:00", ParseTimeOfDayRange("9:00", "17:00").status()},
      {"time 24:01", ParseTimeOfDayRange("09:00", "24:01").status()},
      {"time 10:60", ParseTimeOfDayRange("10:60", "11:00").status()},
      {"start not before end", ParseTimeOfDayRange("17:00", "17:00").status()},
      {"missing end", ParseTimeOfDayRange("09:00", "").status()},
      {"weekday typo", ParseWeekdayRange("mon").status()},
      {"weekday wraps", ParseWeekdayRange("saturday:sunday").status()},
      {"weekday three parts", ParseWeekdayRange("monday:tuesday:friday").status()},
      {"day 0", ParseDayOfMonthRange("0").status()},
      {"day 32", ParseDayOfMonthRange("1:32").status()},
      {"day -32", ParseDayOfMonthRange("-32:-1").status()},
      {"negative start positive end", ParseDayOfMonthRange("-3:5").status()},
      {"day range backwards", ParseDayOfMonthRange("10:5").status()},
      {"day range always backwards", ParseDayOfMonthRange("-1:-3").status()},
      {"day not a number", ParseDayOfMonthRange("first").status()},
      {"month typo", ParseMonthRange("janury").status()},
      {"month 13", ParseMonthRange("13").status()},
      {"months backwards", ParseMonthRange("march:january").status()},
      {"years backwards", ParseYearRange("2027:2026").status()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.status.code(), core::StatusCode::kInvalidArgument) << c.status.ToString();
  }
  TimeInterval ti;
  EXPECT_EQ(ti.SetLocation("Mars/Olympus_Mons").code(), core::StatusCode::kNotFound);
  EXPECT_EQ(ti.location(), "");
}

TEST(TimeIntervalTest, ParsesRangesAsAlertmanagerDoes) {
  EXPECT_EQ(*ParseWeekdayRange("sunday"), (InclusiveRange{0, 0}));
  EXPECT_EQ(*ParseWeekdayRange("Monday:FRIDAY"), (InclusiveRange{1, 5}));
  EXPECT_EQ(*ParseDayOfMonthRange("-3:-1"), (InclusiveRange{-3, -1}));
  EXPECT_EQ(*ParseDayOfMonthRange("25:-1"), (InclusiveRange{25, -1}));
  EXPECT_EQ(*ParseMonthRange("January:3"), (InclusiveRange{1, 3}));
  EXPECT_EQ(*ParseYearRange("2026"), (InclusiveRange{2026, 2026}));
  EXPECT_EQ(*ParseTimeOfDayRange("00:00", "24:00"), (TimeOfDayRange{0, 1440}));
}

// ---- Inhibition ----------------------------------------------------------------------------

Alert A(std::string_view labels, AlertStatus status = AlertStatus::kFiring) {
  Alert a;
  a.labels = L(labels);
  a.status = status;
  return a;
}

TEST(InhibitRuleTest, MutesTargetsThatShareTheEqualLabels) {
  InhibitRule rule;
  rule.source_matchers = M(R"(severity="critical")");
  rule.target_matchers = M(R"(severity="warning")");
  rule.equal = {"alertname", "region"};
  struct Case {
    std::string name;
    Alert source;
    Alert target;
    bool want;
  };
  const std::vector<Case> cases = {
      {"same alertname and region", A(R"({alertname="Burn",region="eu-west-1",severity="critical"})"),
       A(R"({alertname="Burn",region="eu-west-1",severity="warning"})"), true},
      {"other region", A(R"({alertname="Burn",region="us-east-1",severity="critical"})"),
       A(R"({alertname="Burn",region="eu-west-1",severity="warning"})"), false},
      {"equal label absent on one side", A(R"({alertname="Burn",severity="critical"})"),
       A(R"({alertname="Burn",region="eu-west-1",severity="warning"})"), false},
      {"equal labels absent on both sides", A(R"({severity="critical"})"),
       A(R"({severity="warning"})"), true},
      {"source resolved",
       A(R"({alertname="Burn",region="eu-west-1",severity="critical"})", AlertStatus::kResolved),
       A(R"({alertname="Burn",region="eu-west-1",severity="warning"})"), false},
      {"source does not match", A(R"({alertname="Burn",region="eu-west-1",severity="warning"})"),
       A(R"({alertname="Burn",region="eu-west-1",severity="warning"})"), false},
      {"target does not match", A(R"({alertname="Burn",region="eu-west-1",severity="critical"})"),
       A(R"({alertname="Burn",region="eu-west-1",severity="info"})"), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(rule.Inhibits(c.source, c.target), c.want);
  }
}

TEST(InhibitRuleTest, AnAlertMatchingBothSidesIsNotMutedByAnotherSuchAlertNorItself) {
  InhibitRule rule;
  rule.source_matchers = M(R"(alertname="RegionDown")");
  rule.target_matchers = M(R"(region=~".+")");
  rule.equal = {"region"};
  Alert down = A(R"({alertname="RegionDown",region="eu-west-1"})");
  Alert down_too = A(R"({alertname="RegionDown",region="eu-west-1",instance="b"})");
  Alert burn = A(R"({alertname="Burn",region="eu-west-1"})");
  EXPECT_TRUE(rule.Inhibits(down, burn));
  EXPECT_FALSE(rule.Inhibits(down, down));
  EXPECT_FALSE(rule.Inhibits(down, down_too));
  EXPECT_FALSE(rule.Inhibits(burn, down));
}

}  // namespace
}  // namespace nines::alerting

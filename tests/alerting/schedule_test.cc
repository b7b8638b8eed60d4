// On-call schedules (alerting/schedule.h): golden tables of who is on call at fixed instants,
// across the DST changes of Europe/Berlin, Europe/Dublin, America/New_York and Australia/Sydney,
// with restrictions, overrides, next on call and follow-the-sun coverage. The expected instants
// were worked out by hand from the zones' rules (Python's zoneinfo agrees).
#include "alerting/schedule.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "alerting/routing.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;

Timestamp T(std::string_view rfc3339) {
  auto t = core::ParseTimestamp(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : Timestamp();
}

Timestamp Local(std::string_view text, std::string_view zone) {
  auto t = ParseScheduleTime(text, zone);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status().ToString();
  return t.ok() ? *t : Timestamp();
}

RotationLayer Weekly(std::string name, std::vector<std::string> people, std::string_view handoff,
                     std::string zone, Duration length = Duration::Weeks(1)) {
  RotationLayer l;
  l.name = std::move(name);
  l.participants = std::move(people);
  l.shift_length = length;
  l.handoff = Local(handoff, zone);
  l.time_zone = std::move(zone);
  return l;
}

Schedule Build(ScheduleSpec spec) {
  auto s = Schedule::Build(std::move(spec));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : *Schedule::Build(ScheduleSpec{"empty", {}, {}});
}

struct Golden {
  std::string at;      // RFC 3339
  std::string person;  // "" = nobody
};

void ExpectOnCall(const Schedule& s, const std::vector<Golden>& table) {
  for (const Golden& g : table) {
    SCOPED_TRACE(g.at);
    std::optional<OnCall> on = s.OnCallAt(T(g.at));
    EXPECT_EQ(on ? on->person : "", g.person);
  }
}

// The stretch of the person on call at `at`: "person start end".
std::string Stretch(const Schedule& s, std::string_view at) {
  std::optional<OnCall> on = s.OnCallAt(T(at));
  if (!on) return "nobody";
  return on->person + " " + on->start.ToRfc3339() + " " + on->end.ToRfc3339();
}

TEST(ScheduleTest, WeeklyRotationKeepsItsWallClockHandoffAcrossBerlinsDstChanges) {
  // CET (+01) -> CEST (+02) on 2026-03-29 01:00Z; back on 2026-10-25 01:00Z. Handoff Monday
  // 09:00 local: 08:00Z in winter, 07:00Z in summer.
  Schedule s =
      Build({"berlin",
             {Weekly("eu", {"alice", "bob", "carol"}, "2026-03-16T09:00", "Europe/Berlin")},
             {}});
  ExpectOnCall(s, {{"2026-03-16T07:59:59Z", ""},  // before the first handoff
                   {"2026-03-16T08:00:00Z", "alice"},
                   {"2026-03-23T07:59:59Z", "alice"},
                   {"2026-03-23T08:00:00Z", "bob"},
                   {"2026-03-29T01:30:00Z", "bob"},
                   {"2026-03-30T06:59:59Z", "bob"},
                   {"2026-03-30T07:00:00Z", "carol"},  // 09:00 CEST
                   {"2026-04-06T07:00:00Z", "alice"},
                   {"2026-10-26T07:59:59Z", "bob"},  // 31 weeks on: bob again, 09:00 CET is 08:00Z
                   {"2026-10-26T08:00:00Z", "carol"}});
  // The shift across each change is an hour shorter or longer.
  EXPECT_EQ(Stretch(s, "2026-03-25T12:00:00Z"),
            "bob 2026-03-23T08:00:00.000Z 2026-03-30T07:00:00.000Z");
  EXPECT_EQ(Stretch(s, "2026-10-20T12:00:00Z"),
            "bob 2026-10-19T07:00:00.000Z 2026-10-26T08:00:00.000Z");
  EXPECT_EQ(s.OnCallAt(T("2026-03-25T12:00:00Z"))->source,
            (ShiftSource{ShiftSource::Kind::kLayer, 0, "eu"}));
}

TEST(ScheduleTest, WeeklyRotationKeepsItsWallClockHandoffAcrossNewYorksDstChanges) {
  // EST (-05) -> EDT (-04) on 2026-03-08 07:00Z; back on 2026-11-01 06:00Z.
  Schedule s =
      Build({"nyc", {Weekly("us", {"ana", "ben"}, "2026-03-02T09:00", "America/New_York")}, {}});
  ExpectOnCall(s, {{"2026-03-02T13:59:59Z", ""},
                   {"2026-03-02T14:00:00Z", "ana"},
                   {"2026-03-09T12:59:59Z", "ana"},
                   {"2026-03-09T13:00:00Z", "ben"},  // 09:00 EDT
                   {"2026-03-16T13:00:00Z", "ana"},
                   {"2026-11-02T13:59:59Z", "ana"},  // 34 weeks on
                   {"2026-11-02T14:00:00Z", "ben"}});
  EXPECT_EQ(Stretch(s, "2026-03-05T00:00:00Z"),
            "ana 2026-03-02T14:00:00.000Z 2026-03-09T13:00:00.000Z");
  EXPECT_EQ(Stretch(s, "2026-10-30T00:00:00Z"),
            "ana 2026-10-26T13:00:00.000Z 2026-11-02T14:00:00.000Z");
}

TEST(ScheduleTest, WeeklyRotationKeepsItsWallClockHandoffAcrossSydneysDstChanges) {
  // Southern hemisphere: AEDT (+11) -> AEST (+10) on 2026-04-04 16:00Z (autumn), and back to
  // AEDT on 2026-10-03 16:00Z (spring). Handoff Monday 09:00 local.
  Schedule s = Build(
      {"syd", {Weekly("au", {"kai", "lea", "max"}, "2026-03-30T09:00", "Australia/Sydney")}, {}});
  ExpectOnCall(s, {{"2026-03-29T21:59:59Z", ""},
                   {"2026-03-29T22:00:00Z", "kai"},  // 09:00 AEDT
                   {"2026-04-05T22:59:59Z", "kai"},
                   {"2026-04-05T23:00:00Z", "lea"},  // 09:00 AEST
                   {"2026-10-04T21:59:59Z", "max"},  // 26 weeks on
                   {"2026-10-04T22:00:00Z", "kai"}});
  EXPECT_EQ(Stretch(s, "2026-04-01T00:00:00Z"),
            "kai 2026-03-29T22:00:00.000Z 2026-04-05T23:00:00.000Z");  // 7d1h
  EXPECT_EQ(Stretch(s, "2026-10-01T00:00:00Z"),
            "max 2026-09-27T23:00:00.000Z 2026-10-04T22:00:00.000Z");  // 6d23h
}

TEST(ScheduleTest, TwelveHourShiftsFollowDublinsWallClockAndOtherLengthsElapsedTime) {
  // Europe/Dublin: GMT -> IST (+01) on 2026-03-29 01:00Z. 12h divides a day: handoffs stay at
  // 08:00 and 20:00 local. 36h does not: it is elapsed time.
  Schedule s = Build({"dub",
                      {Weekly("halves", {"nora", "owen"}, "2026-03-28T08:00", "Europe/Dublin",
                              Duration::Hours(12))},
                      {}});
  ExpectOnCall(s, {{"2026-03-28T08:00:00Z", "nora"},
                   {"2026-03-28T20:00:00Z", "owen"},
                   {"2026-03-29T06:59:59Z", "owen"},
                   {"2026-03-29T07:00:00Z", "nora"},  // 08:00 IST: the night shift was 11h
                   {"2026-03-29T19:00:00Z", "owen"}});
  Schedule elapsed = Build(
      {"dub36",
       {Weekly("long", {"nora", "owen"}, "2026-03-28T08:00", "Europe/Dublin", Duration::Hours(36))},
       {}});
  ExpectOnCall(elapsed, {{"2026-03-29T19:59:59Z", "nora"},
                         {"2026-03-29T20:00:00Z", "owen"},  // 36h later, 21:00 IST
                         {"2026-03-31T08:00:00Z", "nora"}});
}

TEST(ScheduleTest, DublinGoldenTableWithARestrictedLayerAndAnOverrideAcrossBothChanges) {
  // Europe/Dublin: GMT -> IST (+01) on 2026-03-29 01:00Z, back on 2026-10-25 01:00Z. A weekly
  // base layer, a daily layer on weekdays 09:00-17:00 above it, an override over the night of
  // the spring change (00:30 GMT to 03:30 IST).
  RotationLayer base = Weekly("base", {"aoife", "brian"}, "2026-03-16T09:00", "Europe/Dublin");
  RotationLayer days =
      Weekly("days", {"ciara", "declan"}, "2026-03-16T09:00", "Europe/Dublin", Duration::Days(1));
  days.restrictions = {{0b0111110, 9 * 60, 17 * 60}};
  ScheduleSpec spec{"dublin", {base, days}, {}};
  spec.overrides = {{"eoin", Local("2026-03-29T00:30", "Europe/Dublin"),
                     Local("2026-03-29T03:30", "Europe/Dublin")}};
  Schedule s = Build(spec);
  ExpectOnCall(s, {{"2026-03-27T08:59:59Z", "brian"},   // Friday 08:59 GMT: base, week 2
                   {"2026-03-27T09:00:00Z", "declan"},  // day 11 of the daily layer
                   {"2026-03-27T17:00:00Z", "brian"},
                   {"2026-03-29T00:29:59Z", "brian"},
                   {"2026-03-29T00:30:00Z", "eoin"},
                   {"2026-03-29T02:29:59Z", "eoin"},  // 03:29 IST
                   {"2026-03-29T02:30:00Z", "brian"},
                   {"2026-03-30T07:59:59Z", "brian"},  // Monday 08:59 IST
                   {"2026-03-30T08:00:00Z", "ciara"},  // 09:00 IST, day 14
                   {"2026-03-30T16:00:00Z", "aoife"},  // 17:00 IST: base, week 3
                   {"2026-10-26T08:59:59Z", "brian"},  // week 31 ends at 09:00 GMT
                   {"2026-10-26T09:00:00Z", "ciara"},  // day 224
                   {"2026-10-26T17:00:00Z", "aoife"}});
  EXPECT_EQ(Stretch(s, "2026-03-29T01:00:00Z"),
            "eoin 2026-03-29T00:30:00.000Z 2026-03-29T02:30:00.000Z");
}

TEST(ScheduleTest, RestrictedLayerHasNobodyOutsideItsWindowsAndTheLayerBelowShowsThrough) {
  RotationLayer backstop = Weekly("backstop", {"boss"}, "2026-03-02T00:00", "UTC");
  RotationLayer business = Weekly("business-hours", {"alice", "bob"}, "2026-03-23T09:00",
                                  "Europe/Berlin", Duration::Days(1));
  business.restrictions = {{0b0111110, 9 * 60, 17 * 60}};  // Monday to Friday 09:00-17:00
  Schedule s = Build({"office", {backstop, business}, {}});
  ExpectOnCall(s, {{"2026-03-23T07:59:59Z", "boss"},  // Monday 08:59 CET
                   {"2026-03-23T08:00:00Z", "alice"},
                   {"2026-03-23T15:59:59Z", "alice"},
                   {"2026-03-23T16:00:00Z", "boss"},  // 17:00 CET
                   {"2026-03-24T08:00:00Z", "bob"},
                   {"2026-03-28T10:00:00Z", "boss"},  // Saturday
                   {"2026-03-30T06:59:59Z", "boss"},  // Monday 08:59 CEST
                   {"2026-03-30T07:00:00Z", "bob"},   // day 7 of the rotation, 09:00 CEST
                   {"2026-03-30T14:59:59Z", "bob"},
                   {"2026-03-30T15:00:00Z", "boss"}});  // 17:00 CEST
  std::optional<OnCall> on = s.OnCallAt(T("2026-03-23T10:00:00Z"));
  ASSERT_TRUE(on);
  EXPECT_EQ(on->source, (ShiftSource{ShiftSource::Kind::kLayer, 1, "business-hours"}));
  EXPECT_EQ(on->start, T("2026-03-23T08:00:00Z"));
  EXPECT_EQ(on->end, T("2026-03-23T16:00:00Z"));
  // A night window crosses midnight: 22:00-06:00 local, opening every day.
  RotationLayer nights = Weekly("nights", {"nick"}, "2026-03-02T00:00", "Europe/Berlin");
  nights.restrictions = {{0x7f, 22 * 60, 6 * 60}};
  Schedule night = Build({"nights", {nights}, {}});
  ExpectOnCall(night, {{"2026-03-10T20:59:59Z", ""},
                       {"2026-03-10T21:00:00Z", "nick"},  // 22:00 CET
                       {"2026-03-11T04:59:59Z", "nick"},
                       {"2026-03-11T05:00:00Z", ""}});
}

Schedule WithOverrides() {
  ScheduleSpec spec{"primary", {Weekly("week", {"alice", "bob"}, "2026-03-02T00:00", "UTC")}, {}};
  spec.overrides = {{"carol", T("2026-03-04T12:00:00Z"), T("2026-03-05T12:00:00Z")},
                    {"dave", T("2026-03-05T00:00:00Z"), T("2026-03-05T06:00:00Z")}};
  return Build(spec);
}

TEST(ScheduleTest, OverridesWinOverLayersAndALaterOverrideOverAnEarlierOne) {
  Schedule s = WithOverrides();
  ExpectOnCall(s, {{"2026-03-04T11:59:59Z", "alice"},
                   {"2026-03-04T12:00:00Z", "carol"},
                   {"2026-03-05T00:00:00Z", "dave"},
                   {"2026-03-05T06:00:00Z", "carol"},
                   {"2026-03-05T12:00:00Z", "alice"},
                   {"2026-03-09T00:00:00Z", "bob"}});
  std::optional<OnCall> on = s.OnCallAt(T("2026-03-04T13:00:00Z"));
  ASSERT_TRUE(on);
  EXPECT_EQ(on->source, (ShiftSource{ShiftSource::Kind::kOverride, 0, ""}));
  EXPECT_EQ(on->start, T("2026-03-04T12:00:00Z"));
  EXPECT_EQ(on->end, T("2026-03-05T00:00:00Z"));
}

TEST(ScheduleTest, FinalShiftsAreWholeMergedAndInOrder) {
  Schedule s = WithOverrides();
  auto shifts = s.FinalShifts(T("2026-03-03T00:00:00Z"), T("2026-03-10T00:00:00Z"));
  ASSERT_TRUE(shifts.ok());
  std::vector<std::string> got;
  for (const FinalShift& f : *shifts) {
    got.push_back(f.person + " " + f.start.ToRfc3339() + " " + f.end.ToRfc3339());
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{// Not cut at `from`: alice's shift began on the 2nd.
                                      "alice 2026-03-02T00:00:00.000Z 2026-03-04T12:00:00.000Z",
                                      "carol 2026-03-04T12:00:00.000Z 2026-03-05T00:00:00.000Z",
                                      "dave 2026-03-05T00:00:00.000Z 2026-03-05T06:00:00.000Z",
                                      "carol 2026-03-05T06:00:00.000Z 2026-03-05T12:00:00.000Z",
                                      "alice 2026-03-05T12:00:00.000Z 2026-03-09T00:00:00.000Z",
                                      // Nor at `to`.
                                      "bob 2026-03-09T00:00:00.000Z 2026-03-16T00:00:00.000Z"}));
  // An override of the person already on call merges into one stretch.
  ScheduleSpec spec = s.spec();
  spec.overrides = {{"alice", T("2026-03-08T18:00:00Z"), T("2026-03-09T06:00:00Z")}};
  Schedule merged = Build(spec);
  EXPECT_EQ(Stretch(merged, "2026-03-05T00:00:00Z"),
            "alice 2026-03-02T00:00:00.000Z 2026-03-09T06:00:00.000Z");
  EXPECT_FALSE(s.FinalShifts(T("2026-03-10T00:00:00Z"), T("2026-03-03T00:00:00Z")).ok());
  EXPECT_FALSE(s.FinalShifts(T("2026-03-01T00:00:00Z"), T("2027-06-01T00:00:00Z")).ok());
  // Near Timestamp's limits nothing overflows: nobody is on call there.
  const Timestamp far = Timestamp::FromUnixNanos(INT64_MAX - 1);
  EXPECT_FALSE(s.OnCallAt(far));
  EXPECT_FALSE(s.NextOnCall(far));
  EXPECT_FALSE(s.FinalShifts(far - Duration::Days(1), far).ok());
  EXPECT_FALSE(s.OnCallAt(Timestamp::FromUnixNanos(INT64_MIN + 1)));
}

TEST(ScheduleTest, NextOnCallIsTheShiftAfterTheCurrentOne) {
  Schedule s = WithOverrides();
  auto next = s.NextOnCall(T("2026-03-04T13:00:00Z"));  // carol now
  ASSERT_TRUE(next);
  EXPECT_EQ(next->person, "dave");
  EXPECT_EQ(next->start, T("2026-03-05T00:00:00Z"));
  EXPECT_EQ(next->end, T("2026-03-05T06:00:00Z"));
  next = s.NextOnCall(T("2026-03-06T00:00:00Z"));  // alice now: bob from Monday
  ASSERT_TRUE(next);
  EXPECT_EQ(next->person, "bob");
  EXPECT_EQ(next->start, T("2026-03-09T00:00:00Z"));
  EXPECT_EQ(next->end, T("2026-03-16T00:00:00Z"));
  next = s.NextOnCall(T("2026-03-01T00:00:00Z"));  // nobody yet: the first shift
  ASSERT_TRUE(next);
  EXPECT_EQ(next->person, "alice");
  EXPECT_EQ(next->start, T("2026-03-02T00:00:00Z"));
  // A layer that ends has nobody next.
  ScheduleSpec spec{"ending", {Weekly("week", {"alice", "bob"}, "2026-03-02T00:00", "UTC")}, {}};
  spec.layers[0].end = T("2026-03-12T00:00:00Z");
  Schedule ending = Build(spec);
  EXPECT_EQ(Stretch(ending, "2026-03-10T00:00:00Z"),
            "bob 2026-03-09T00:00:00.000Z 2026-03-12T00:00:00.000Z");
  EXPECT_FALSE(ending.NextOnCall(T("2026-03-10T00:00:00Z")));
  EXPECT_FALSE(ending.OnCallAt(T("2026-03-12T00:00:00Z")));
}

// The follow-the-sun schedule of examples/oncall.yaml: each region's team on call in its own
// daytime, every day, the windows an hour wider than needed so the zones' DST changes (on
// different dates) never open a gap.
ScheduleSpec FollowTheSun() {
  RotationLayer au = Weekly("au", {"kai", "lea"}, "2026-01-05T07:00", "Australia/Sydney");
  au.restrictions = {{0x7f, 7 * 60, 17 * 60}};
  RotationLayer eu = Weekly("eu", {"nora", "owen"}, "2026-01-05T06:00", "Europe/Dublin");
  eu.restrictions = {{0x7f, 6 * 60, 16 * 60}};
  RotationLayer us = Weekly("us", {"ana", "ben"}, "2026-01-05T10:00", "America/New_York");
  us.restrictions = {{0x7f, 10 * 60, 18 * 60}};
  return {"follow-the-sun", {au, eu, us}, {}};
}

TEST(ScheduleTest, FollowTheSunCoversWholeWeeksWithoutGapsAcrossEveryDstChange) {
  Schedule s = Build(FollowTheSun());
  const std::map<std::string, std::pair<std::string, std::pair<std::string, std::string>>> team = {
      {"kai", {"Australia/Sydney", {"07:00", "17:00"}}},
      {"lea", {"Australia/Sydney", {"07:00", "17:00"}}},
      {"nora", {"Europe/Dublin", {"06:00", "16:00"}}},
      {"owen", {"Europe/Dublin", {"06:00", "16:00"}}},
      {"ana", {"America/New_York", {"10:00", "18:00"}}},
      {"ben", {"America/New_York", {"10:00", "18:00"}}}};
  // January (AU summer), the weeks when New York, then Dublin, then Sydney change, and July.
  for (std::string_view monday :
       {"2026-01-12T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-23T00:00:00Z",
        "2026-03-30T00:00:00Z", "2026-07-06T00:00:00Z", "2026-10-26T00:00:00Z"}) {
    SCOPED_TRACE(monday);
    const Timestamp from = T(monday);
    const Timestamp to = from + Duration::Weeks(1);
    auto shifts = s.FinalShifts(from, to);
    ASSERT_TRUE(shifts.ok());
    ASSERT_FALSE(shifts->empty());
    EXPECT_LE(shifts->front().start, from);
    EXPECT_GE(shifts->back().end, to);
    std::set<std::string> zones;
    for (size_t i = 0; i + 1 < shifts->size(); ++i) {
      EXPECT_EQ((*shifts)[i].end, (*shifts)[i + 1].start) << "gap after " << (*shifts)[i].person;
    }
    // Every hour, whoever is on call is inside their own team's daytime.
    for (Timestamp t = from; t < to; t += Duration::Hours(1)) {
      std::optional<OnCall> on = s.OnCallAt(t);
      ASSERT_TRUE(on) << t.ToRfc3339();
      const auto& [zone, window] = team.at(on->person);
      TimeInterval day;
      day.times = {*ParseTimeOfDayRange(window.first, window.second)};
      ASSERT_TRUE(day.SetLocation(zone).ok());
      EXPECT_TRUE(day.Contains(t)) << on->person << " at " << t.ToRfc3339();
      zones.insert(zone);
    }
    EXPECT_EQ(zones.size(), 3u);  // every team took its turn
  }
}

TEST(ScheduleTest, BuildRefusesWhatCannotBeAScheduleWithTheReason) {
  struct Case {
    std::string name;
    ScheduleSpec spec;
    std::string want;
  };
  RotationLayer ok = Weekly("week", {"alice"}, "2026-03-02T00:00", "UTC");
  auto with = [&](auto change) {
    RotationLayer l = ok;
    change(l);
    return ScheduleSpec{"s", {l}, {}};
  };
  std::vector<Case> cases = {
      {"no name", {"", {ok}, {}}, "a schedule needs a name"},
      {"no participants", with([](RotationLayer& l) { l.participants.clear(); }),
       "layer 1 (\"week\"): no participants"},
      {"short shift", with([](RotationLayer& l) { l.shift_length = Duration::Minutes(30); }),
       "shift_length 30m is shorter than 1h"},
      {"zone", with([](RotationLayer& l) { l.time_zone = "Europe/Berlinn"; }),
       "unknown time zone \"Europe/Berlinn\""},
      {"end", with([](RotationLayer& l) { l.end = l.handoff; }), "is not after the handoff"},
      {"restriction", with([](RotationLayer& l) {
         l.restrictions = {{0x7f, 0, 1441}};
       }),
       "a restriction out of range"},
      {"far handoff",
       with([](RotationLayer& l) { l.handoff = Timestamp::FromUnixSeconds(8'000'000'000); }),
       "a time before 1900 or after 2200"},
      {"override",
       {"s", {ok}, {{"bob", T("2026-03-02T00:00:00Z"), T("2026-03-02T00:00:00Z")}}},
       "override 1: end 2026-03-02T00:00:00.000Z is not after start"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto s = Schedule::Build(c.spec);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find(c.want), std::string::npos) << s.status().message();
  }
}

TEST(ScheduleTest, ParseScheduleTimeReadsWallClockInTheZoneOrAnExplicitOffset) {
  EXPECT_EQ(Local("2026-03-02T09:00", "Europe/Berlin"), T("2026-03-02T08:00:00Z"));
  EXPECT_EQ(Local("2026-07-02 09:00:30", "Europe/Berlin"), T("2026-07-02T07:00:30Z"));
  EXPECT_EQ(Local("2026-03-02T09:00:00+05:30", "Europe/Berlin"), T("2026-03-02T03:30:00Z"));
  EXPECT_EQ(Local("2026-03-02T09:00:00Z", "America/New_York"), T("2026-03-02T09:00:00Z"));
  // 02:30 does not exist on 2026-03-29 in Berlin: the end of the gap, 03:00 CEST.
  EXPECT_EQ(Local("2026-03-29T02:30", "Europe/Berlin"), T("2026-03-29T01:00:00Z"));
  // 02:30 happens twice on 2026-10-25: the first, in CEST.
  EXPECT_EQ(Local("2026-10-25T02:30", "Europe/Berlin"), T("2026-10-25T00:30:00Z"));
  for (std::string_view bad :
       {"2026-02-30T09:00", "2026-03-02", "2026-03-02T25:00", "2026-03-02T09:00+1", "yesterday",
        "2026-03-02T09:00:00+01:00x", "9999-12-31T23:59", "1000-01-01T00:00Z"}) {
    EXPECT_FALSE(ParseScheduleTime(bad, "UTC").ok()) << bad;
  }
  EXPECT_EQ(ParseScheduleTime("2026-03-02T09:00", "Mars/Olympus").status().code(),
            core::StatusCode::kNotFound);
  EXPECT_TRUE(CheckTimeZone("Australia/Sydney").ok());
  EXPECT_FALSE(CheckTimeZone("Australia/Sidney").ok());
}

}  // namespace
}  // namespace nines::alerting

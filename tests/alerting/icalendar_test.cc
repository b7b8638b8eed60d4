// iCalendar feeds of on-call schedules (alerting/icalendar.h): the wire format (CRLF, folding at
// 75 octets, TEXT escaping), and whole feeds read back by a real parser, Python's icalendar
// (Debian's python3-icalendar, tests/alerting/testdata/ics_dump.py), which must find the same
// shifts as Schedule::FinalShifts.
#include "alerting/icalendar.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "tests/testutil/testutil.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;
using testutil::ChildProcess;
using testutil::TempDir;

constexpr char kPython[] = "/usr/bin/python3";

Timestamp T(std::string_view rfc3339) { return *core::ParseTimestamp(rfc3339); }

// scripts/install-deps.sh installs it: a missing one fails rather than hiding the checks.
constexpr char kNoIcalendar[] =
    "python3-icalendar is not installed: run scripts/install-deps.sh (apt-get install "
    "python3-icalendar)";

bool HaveIcalendar() {
  ChildProcess probe({kPython, "-c", "import icalendar"});
  return probe.Wait(std::chrono::seconds(20)) == 0;
}

std::string Json(std::string_view s) {
  std::string out;
  core::AppendJsonString(&out, s);
  return out;
}

// What the parser read: the calendar's name line, then one line per event (see ics_dump.py).
std::vector<std::string> ParseWithPython(const std::string& ics) {
  TempDir dir;
  std::string file = dir.Write("feed.ics", ics);
  ChildProcess dump(
      {kPython, testutil::SourceDir() + "/tests/alerting/testdata/ics_dump.py", file});
  std::optional<int> rc = dump.Wait(std::chrono::seconds(60));
  EXPECT_EQ(rc, 0) << dump.output();
  std::vector<std::string> lines;
  std::istringstream in(dump.output());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The event line ics_dump.py prints for a shift of `schedule`.
std::string EventLine(std::string_view schedule, const FinalShift& s, std::string_view summary,
                      Timestamp dtstamp) {
  std::string from = s.source.kind == ShiftSource::Kind::kOverride
                         ? "an override"
                         : "layer \"" + s.source.name + "\"";
  return "event\t" + Json(ShiftUid(schedule, s)) + "\t" + std::to_string(s.start.UnixSeconds()) +
         "\t" + std::to_string(s.end.UnixSeconds()) + "\t" + Json(summary) + "\t" +
         Json(s.person + " is on call for schedule \"" + std::string(schedule) + "\" (from " +
              from + ").") +
         "\t" + std::to_string(dtstamp.UnixSeconds());
}

TEST(ICalendarTest, TextIsEscapedAndLinesFoldAt75OctetsWithoutSplittingUtf8) {
  EXPECT_EQ(EscapeICalendarText("a,b;c\\d\ne\rf\x01g\th"), "a\\,b\\;c\\\\d\\nefg\th");
  EXPECT_EQ(FoldICalendarLine("SUMMARY:short"), "SUMMARY:short\r\n");
  const std::string line = "SUMMARY:" + std::string(67, 'x') + "Zoë Ünlü and more text to fold";
  const std::string folded = FoldICalendarLine(line);
  size_t start = 0;
  std::string unfolded;
  for (size_t end; (end = folded.find("\r\n", start)) != std::string::npos; start = end + 2) {
    std::string_view physical(folded.data() + start, end - start);
    EXPECT_LE(physical.size(), 75u) << physical;
    unfolded += start == 0 ? physical : physical.substr(1);  // continuation: one leading space
    if (start > 0) {
      EXPECT_EQ(physical.front(), ' ');
    }
  }
  EXPECT_EQ(start, folded.size());  // ends with CRLF
  EXPECT_EQ(unfolded, line);
  // "ë" (2 octets) would straddle octet 75: the first line stops before it.
  EXPECT_EQ(folded.substr(0, 77), "SUMMARY:" + std::string(67, 'x') + "\r\n");
}

TEST(ICalendarTest, EventsRoundTripThroughPythonsIcalendarParser) {
  ASSERT_TRUE(HaveIcalendar()) << kNoIcalendar;
  const std::string tricky = "Budget, burn; \"eu-west-1\" \\ Zoë — naïve\nsecond line";
  Calendar cal{"On call: ops, EU; primary", {}};
  cal.events.push_back({"uid-1@nines", T("2026-03-02T08:00:00Z"), T("2026-03-09T07:00:00Z"), tricky,
                        tricky + " " + std::string(200, 'y')});
  cal.events.push_back(
      {"uid-2@nines", T("2026-03-09T07:00:00Z"), T("2026-03-09T19:30:15Z"), "plain", ""});
  const Timestamp stamp = T("2026-12-07T18:00:00Z");
  const std::string ics = FormatICalendar(cal, stamp);
  EXPECT_EQ(ics.rfind("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 0), 0u);
  EXPECT_NE(ics.find("\r\nDTSTART:20260302T080000Z\r\n"), std::string::npos);
  EXPECT_NE(ics.find("\r\nDTSTAMP:20261207T180000Z\r\n"), std::string::npos);
  EXPECT_EQ(ics.find('\n'), ics.find("\r\n") + 1);  // CRLF, not bare LF
  std::vector<std::string> got = ParseWithPython(ics);
  EXPECT_EQ(
      got,
      (std::vector<std::string>{
          "calendar\t" + Json("On call: ops, EU; primary"),
          "event\t\"uid-1@nines\"\t" + std::to_string(T("2026-03-02T08:00:00Z").UnixSeconds()) +
              "\t" + std::to_string(T("2026-03-09T07:00:00Z").UnixSeconds()) + "\t" + Json(tricky) +
              "\t" + Json(tricky + " " + std::string(200, 'y')) + "\t" +
              std::to_string(stamp.UnixSeconds()),
          "event\t\"uid-2@nines\"\t" + std::to_string(T("2026-03-09T07:00:00Z").UnixSeconds()) +
              "\t" + std::to_string(T("2026-03-09T19:30:15Z").UnixSeconds()) +
              "\t\"plain\"\t\"\"\t" + std::to_string(stamp.UnixSeconds())}));
}

Schedule Berlin() {
  RotationLayer week;
  week.name = "eu, weekly";
  week.participants = {"alice", "Zoë Ünlü", "carol"};
  week.handoff = *ParseScheduleTime("2026-03-16T09:00", "Europe/Berlin");
  week.time_zone = "Europe/Berlin";
  ScheduleSpec spec{"primary; EU", {week}, {}};
  spec.overrides = {{"carol", T("2026-03-26T12:00:00Z"), T("2026-03-27T12:00:00Z")}};
  return *Schedule::Build(spec);
}

TEST(ICalendarTest, ScheduleFeedHasTheSameShiftsAsTheFinalScheduleAcrossDst) {
  ASSERT_TRUE(HaveIcalendar()) << kNoIcalendar;
  Schedule s = Berlin();
  const Timestamp from = T("2026-03-20T00:00:00Z");
  const Timestamp to = T("2026-04-10T00:00:00Z");
  const Timestamp stamp = T("2026-03-01T00:00:00Z");
  auto ics = ScheduleCalendar(s, from, to, stamp);
  ASSERT_TRUE(ics.ok()) << ics.status().ToString();
  auto shifts = s.FinalShifts(from, to);
  ASSERT_TRUE(shifts.ok());
  ASSERT_EQ(shifts->size(), 6u);  // alice, Zoë, carol (override), Zoë, carol, alice
  std::vector<std::string> want = {"calendar\t" + Json("On call: primary; EU")};
  for (const FinalShift& f : *shifts) {
    want.push_back(EventLine(s.name(), f, "On call: " + f.person + " (primary; EU)", stamp));
  }
  EXPECT_EQ(ParseWithPython(*ics), want);
  // Zoë's shift across the DST change ends at 09:00 CEST (07:00Z), her first part before the
  // override at 12:00Z on the 26th.
  EXPECT_EQ((*shifts)[1].end, T("2026-03-26T12:00:00Z"));
  EXPECT_EQ((*shifts)[3].end, T("2026-03-30T07:00:00Z"));
  // UIDs are stable: the same shift in another range (and another feed) has the same UID.
  auto later = s.FinalShifts(T("2026-03-24T00:00:00Z"), T("2026-03-25T00:00:00Z"));
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ(ShiftUid(s.name(), later->front()), ShiftUid(s.name(), (*shifts)[1]));
  EXPECT_NE(ShiftUid(s.name(), (*shifts)[1]), ShiftUid(s.name(), (*shifts)[3]));
}

TEST(ICalendarTest, PersonFeedHasTheirShiftsOfEverySchedule) {
  ASSERT_TRUE(HaveIcalendar()) << kNoIcalendar;
  Schedule primary = Berlin();
  RotationLayer day;
  day.name = "days";
  day.participants = {"carol", "dave"};
  day.shift_length = Duration::Days(1);
  day.handoff = T("2026-03-20T00:00:00Z");
  Schedule secondary = *Schedule::Build({"secondary", {day}, {}});
  const Timestamp from = T("2026-03-20T00:00:00Z");
  const Timestamp to = T("2026-03-24T00:00:00Z");
  const Timestamp stamp = T("2026-03-01T00:00:00Z");
  auto ics = PersonCalendar({&primary, &secondary}, "carol", from, to, stamp);
  ASSERT_TRUE(ics.ok());
  const std::vector<std::string> got = ParseWithPython(*ics);
  // carol: secondary on the 20th and 22nd; not in primary during this range (alice, then Zoë).
  auto sec = *secondary.FinalShifts(from, to);
  ASSERT_EQ(sec.size(), 4u);
  EXPECT_EQ(
      got, (std::vector<std::string>{"calendar\t" + Json("On call: carol"),
                                     EventLine("secondary", sec[0], "On call: secondary", stamp),
                                     EventLine("secondary", sec[2], "On call: secondary", stamp)}));
  // And a range where carol covers her override in primary too, in time order.
  auto both = PersonCalendar({&primary, &secondary}, "carol", T("2026-03-26T00:00:00Z"),
                             T("2026-03-27T00:00:00Z"), stamp);
  ASSERT_TRUE(both.ok());
  std::vector<std::string> lines = ParseWithPython(*both);
  ASSERT_EQ(lines.size(), 3u);
  // The 26th is carol's day in secondary (00:00Z), her override in primary starts at 12:00Z.
  EXPECT_NE(lines[1].find("\"On call: secondary\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("\"On call: primary; EU\""), std::string::npos) << lines[2];
  EXPECT_FALSE(PersonCalendar({&primary}, "carol", to, from, stamp).ok());
}

}  // namespace
}  // namespace nines::alerting

// iCalendar (RFC 5545) text for on-call shifts (icalendar.h).
#include "alerting/icalendar.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/labels.h"

namespace nines::alerting {

namespace {

using core::Timestamp;

constexpr size_t kMaxLineOctets = 75;

// "20260302T080000Z": a UTC DATE-TIME, floored to the second.
std::string UtcDateTime(Timestamp t) {
  std::string rfc = Timestamp::FromUnixSeconds(t.UnixSeconds()).ToRfc3339();  // ...T08:00:00.000Z
  std::string out;
  for (char c : rfc.substr(0, 19)) {
    if (c != '-' && c != ':') out += c;
  }
  return out + "Z";
}

void Property(std::string* out, std::string_view name, std::string_view value) {
  *out += FoldICalendarLine(fmt::format("{}:{}", name, value));
}

}  // namespace

std::string EscapeICalendarText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        // RFC 5545 3.3.11: TEXT excludes control characters other than HTAB.
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) break;
        out += c;
    }
  }
  return out;
}

std::string FoldICalendarLine(std::string_view line) {
  std::string out;
  size_t limit = kMaxLineOctets;  // the first line; continuations lose one octet to the space
  while (line.size() > limit) {
    size_t cut = limit;
    // Never split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) cut = limit;  // not UTF-8: split anyway
    out.append(line.substr(0, cut));
    out += "\r\n ";
    line.remove_prefix(cut);
    limit = kMaxLineOctets - 1;
  }
  out.append(line);
  out += "\r\n";
  return out;
}

std::string FormatICalendar(const Calendar& calendar, Timestamp dtstamp) {
  std::string out;
  Property(&out, "BEGIN", "VCALENDAR");
  Property(&out, "VERSION", "2.0");
  Property(&out, "PRODID", "-//nines//on-call schedules//EN");
  Property(&out, "CALSCALE", "GREGORIAN");
  Property(&out, "METHOD", "PUBLISH");
  if (!calendar.name.empty()) {
    Property(&out, "X-WR-CALNAME", EscapeICalendarText(calendar.name));
  }
  const std::string stamp = UtcDateTime(dtstamp);
  for (const CalendarEvent& e : calendar.events) {
    Property(&out, "BEGIN", "VEVENT");
    Property(&out, "UID", EscapeICalendarText(e.uid));
    Property(&out, "DTSTAMP", stamp);
    Property(&out, "DTSTART", UtcDateTime(e.start));
    Property(&out, "DTEND", UtcDateTime(e.end));
    Property(&out, "SUMMARY", EscapeICalendarText(e.summary));
    if (!e.description.empty()) {
      Property(&out, "DESCRIPTION", EscapeICalendarText(e.description));
    }
    Property(&out, "TRANSP", "TRANSPARENT");  // being on call does not make one busy
    Property(&out, "END", "VEVENT");
  }
  Property(&out, "END", "VCALENDAR");
  return out;
}

std::string ShiftUid(std::string_view schedule, const FinalShift& shift) {
  std::string key = fmt::format("{}\x1f{}\x1f{}\x1f{}", schedule, shift.person,
                                shift.start.UnixNanos(), shift.end.UnixNanos());
  return fmt::format("oncall-{:016x}@nines", core::Hash64(key));
}

namespace {

CalendarEvent ShiftEvent(const Schedule& schedule, const FinalShift& shift, std::string summary) {
  std::string from =
      shift.source.kind == ShiftSource::Kind::kOverride
          ? "an override"
          : (shift.source.name.empty() ? fmt::format("layer {}", shift.source.index + 1)
                                       : fmt::format("layer \"{}\"", shift.source.name));
  return CalendarEvent{ShiftUid(schedule.name(), shift), shift.start, shift.end, std::move(summary),
                       fmt::format("{} is on call for schedule \"{}\" (from {}).", shift.person,
                                   schedule.name(), from)};
}

}  // namespace

core::Result<std::string> ScheduleCalendar(const Schedule& schedule, Timestamp from, Timestamp to,
                                           Timestamp dtstamp) {
  ASSIGN_OR_RETURN(std::vector<FinalShift> shifts, schedule.FinalShifts(from, to));
  Calendar calendar{fmt::format("On call: {}", schedule.name()), {}};
  for (const FinalShift& s : shifts) {
    calendar.events.push_back(
        ShiftEvent(schedule, s, fmt::format("On call: {} ({})", s.person, schedule.name())));
  }
  return FormatICalendar(calendar, dtstamp);
}

core::Result<std::string> PersonCalendar(const std::vector<const Schedule*>& schedules,
                                         std::string_view person, Timestamp from, Timestamp to,
                                         Timestamp dtstamp) {
  Calendar calendar{fmt::format("On call: {}", person), {}};
  for (const Schedule* schedule : schedules) {
    ASSIGN_OR_RETURN(std::vector<FinalShift> shifts, schedule->FinalShifts(from, to));
    for (const FinalShift& s : shifts) {
      if (s.person != person) continue;
      calendar.events.push_back(
          ShiftEvent(*schedule, s, fmt::format("On call: {}", schedule->name())));
    }
  }
  std::stable_sort(
      calendar.events.begin(), calendar.events.end(),
      [](const CalendarEvent& a, const CalendarEvent& b) { return a.start < b.start; });
  return FormatICalendar(calendar, dtstamp);
}

}  // namespace nines::alerting

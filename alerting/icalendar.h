// alerting/icalendar.h: on-call shifts as iCalendar (RFC 5545) text, so people see their shifts
// in their calendar (a feed per schedule and per person; not yet served by the API).
//
// FormatICalendar writes a VCALENDAR of VEVENTs: UID, DTSTAMP, DTSTART and DTEND in UTC
// ("20260302T080000Z", seconds precision, floored), SUMMARY and DESCRIPTION as escaped TEXT
// (backslash, ';', ',' and newlines escaped; other control characters dropped), every content
// line folded at 75 octets (never inside a UTF-8 sequence) and ended by CRLF.
//
// Pure functions, thread-safe.
#ifndef NINES_ALERTING_ICALENDAR_H_
#define NINES_ALERTING_ICALENDAR_H_

#include <string>
#include <string_view>
#include <vector>

#include "alerting/schedule.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::alerting {

struct CalendarEvent {
  std::string uid;  // REQUIRED, globally unique and stable for the same event
  core::Timestamp start;
  core::Timestamp end;
  std::string summary;
  std::string description;  // "": no DESCRIPTION
};

struct Calendar {
  std::string name;  // X-WR-CALNAME (shown by most clients); "": none
  std::vector<CalendarEvent> events;
};

// The calendar as RFC 5545 text; `dtstamp` is every event's DTSTAMP (when the feed was made).
std::string FormatICalendar(const Calendar& calendar, core::Timestamp dtstamp);

// `text` escaped as an iCalendar TEXT value (RFC 5545 3.3.11).
std::string EscapeICalendarText(std::string_view text);

// One content line (without its line break) folded at 75 octets: "<75 octets>\r\n <74>\r\n ...",
// ending in "\r\n".
std::string FoldICalendarLine(std::string_view line);

// The UID of a schedule's shift: stable for the same schedule, person, start and end
// ("oncall-<16 hex digits>@nines").
std::string ShiftUid(std::string_view schedule, const FinalShift& shift);

// The final shifts of `schedule` that overlap [from, to) (Schedule::FinalShifts) as a calendar:
// one event per shift, SUMMARY "On call: <person> (<schedule>)". Errors: those of FinalShifts.
core::Result<std::string> ScheduleCalendar(const Schedule& schedule, core::Timestamp from,
                                           core::Timestamp to, core::Timestamp dtstamp);

// The shifts of `person` in every schedule of `schedules` that overlap [from, to), in time order,
// SUMMARY "On call: <schedule>". Errors: those of FinalShifts. REQUIRES: no null schedule.
core::Result<std::string> PersonCalendar(const std::vector<const Schedule*>& schedules,
                                         std::string_view person, core::Timestamp from,
                                         core::Timestamp to, core::Timestamp dtstamp);

}  // namespace nines::alerting

#endif  // NINES_ALERTING_ICALENDAR_H_

// alerting/schedule.h: on-call schedules as PagerDuty models them, as pure logic (issue 15's
// first step: a tested library, not yet used by the engine, the API or the CLI).
//
//  - RotationLayer: participants in order, each on call for one shift of `shift_length` in
//    turn, the first shift starting at `handoff`, in the layer's IANA time zone; optional
//    restrictions (windows of the wall clock, e.g. Monday to Friday 09:00-17:00, outside which
//    the layer has nobody) and an optional end.
//  - ScheduleOverride: someone covers [start, end), whatever the layers say.
//  - Schedule: layers stacked as in PagerDuty (a later layer wins wherever it has someone;
//    an earlier one shows through where it has not), overrides on top (a later override wins
//    over an earlier one). Queries: OnCallAt(t), NextOnCall(t), FinalShifts(from, to), and
//    the iCalendar feeds of alerting/icalendar.h (ScheduleCalendar, PersonCalendar).
//  - Person: a name, a time zone and contact methods (names of receivers of the alerting
//    config; the config parser checks that each exists).
//
// Follow-the-sun is expressed with layers: one per region team, each restricted to that team's
// daytime in its own zone (see examples/oncall.yaml). Where restricted windows overlap, the
// later layer wins, so an hour of overlap absorbs the DST changes of the zones.
//
// DST: a shift length that is a whole number of days (1d, 1w, 2w) or divides a day (1h, 2h, 3h,
// 4h, 6h, 8h, 12h) is counted on the layer's wall clock: a weekly rotation handing off on
// Monday 09:00 in Europe/Berlin hands off at 09:00 local in summer and in winter (so the shift
// across the change lasts an hour more or less). Any other length (5h, 90m, 36h) is elapsed
// time. A wall-clock time that the zone skips (02:30 on the spring-forward night) maps to the
// instant the gap ends; one it repeats maps to its first occurrence. Restriction windows are
// wall-clock times too.
//
// Nothing here reads a clock: every query takes its time as an argument. date/tz stays in
// schedule.cc. Thread-safety: a built Schedule is immutable; any number of threads may query it.
#ifndef NINES_ALERTING_SCHEDULE_H_
#define NINES_ALERTING_SCHEDULE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace date {
class time_zone;
}  // namespace date

namespace nines::alerting {

// Whether `name` is an IANA time zone of the system's tz database ("Europe/Berlin", "UTC").
// Errors: NOT_FOUND naming the zone.
core::Status CheckTimeZone(std::string_view name);

// Parses a handoff or override time: RFC 3339 with an offset or Z ("2026-03-02T09:00:00+01:00",
// "2026-03-02T08:00:00Z"), or a wall-clock time without one ("2026-03-02T09:00",
// "2026-03-02 09:00:00"), which is read in the IANA zone `zone` (a skipped time maps to the end of
// the gap, a repeated one to its first occurrence). Errors: INVALID_ARGUMENT naming the text
// (also for a year before 1900 or from 2200 on), NOT_FOUND for an unknown zone.
core::Result<core::Timestamp> ParseScheduleTime(std::string_view text, std::string_view zone);

// A window of the wall clock in which a restricted layer has someone: it opens at
// `start_minute` on each of `weekdays` and closes at `end_minute`, the same day, or the next
// day when end_minute <= start_minute (22:00-06:00 is a night).
struct ShiftRestriction {
  // Bit d set: the window opens on weekday d (Sunday = 0 ... Saturday = 6). 0x7f: every day.
  uint8_t weekdays = 0x7f;
  int start_minute = 0;      // 0..1439, minutes after local midnight
  int end_minute = 24 * 60;  // 1..1440; <= start_minute: on the next day
};

struct RotationLayer {
  std::string name;                       // for messages and OnCall::source; may be empty
  std::vector<std::string> participants;  // REQUIRED, in rotation order; repeats allowed
  core::Duration shift_length = core::Duration::Weeks(1);  // >= 1h
  // The instant the first shift starts (participants[0]); its wall-clock time in `time_zone`
  // is the handoff time of every shift counted on the wall clock. Before it the layer has nobody.
  core::Timestamp handoff;
  std::string time_zone = "UTC";  // IANA name
  // None: on call around the clock. Otherwise only inside at least one window.
  std::vector<ShiftRestriction> restrictions;
  // The layer has nobody from here on (the shift running then is cut short). After handoff.
  std::optional<core::Timestamp> end;
};

// `person` covers [start, end), over every layer.
struct ScheduleOverride {
  std::string person;  // REQUIRED
  core::Timestamp start;
  core::Timestamp end;  // > start
};

struct ScheduleSpec {
  std::string name;                         // REQUIRED: in messages, calendar names and event UIDs
  std::vector<RotationLayer> layers;        // bottom first: a later layer wins where it has someone
  std::vector<ScheduleOverride> overrides;  // a later override wins over an earlier one
};

// A person who can be on call.
struct Person {
  std::string name;               // REQUIRED, unique
  std::string time_zone = "UTC";  // IANA name: where they live, for messages and calendars
  // Names of receivers of the alerting config (`alerting.receivers`) that reach this person
  // (their Slack DM, email, phone through PagerDuty, ...), in the order to try.
  std::vector<std::string> contact_methods;
};

// Where an on-call assignment comes from.
struct ShiftSource {
  enum class Kind { kLayer, kOverride };
  Kind kind = Kind::kLayer;
  int index = 0;     // into ScheduleSpec::layers or ScheduleSpec::overrides
  std::string name;  // the layer's name; "" for an override
  friend bool operator==(const ShiftSource&, const ShiftSource&) = default;
};

// One stretch of the final schedule: `person` is on call over [start, end) without a break
// (adjacent stretches of one person from different layers or overrides are merged; `source` is
// the one the stretch starts with).
struct FinalShift {
  std::string person;
  ShiftSource source;
  core::Timestamp start;
  core::Timestamp end;
  friend bool operator==(const FinalShift&, const FinalShift&) = default;
};

// Who is on call at an instant: the person, the layer or override that puts them there at that
// instant, and the final shift (as FinalShift) that contains it.
struct OnCall {
  std::string person;
  ShiftSource source;
  core::Timestamp start;
  core::Timestamp end;
};

class Schedule {
 public:
  // How far before and after the instants they are asked about the queries look: a stretch
  // longer than this (a one-person layer) is reported cut at this distance, and NextOnCall
  // finds nobody beyond it.
  static constexpr core::Duration kHorizon = core::Duration::Days(400);
  // The longest [from, to) FinalShifts accepts.
  static constexpr core::Duration kMaxRange = core::Duration::Days(400);
  // The instants a schedule knows about: 1900-01-01 to 2200-01-01 UTC (so that no arithmetic
  // near Timestamp's limits can overflow). Queries outside find nobody; Build refuses times
  // outside.
  static constexpr core::Timestamp kEarliest = core::Timestamp::FromUnixSeconds(-2'208'988'800);
  static constexpr core::Timestamp kLatest = core::Timestamp::FromUnixSeconds(7'258'118'400);

  // Validates `spec` and resolves its zones. Errors: INVALID_ARGUMENT naming the layer (by
  // position and name) or override and what is wrong (no name, no participants, an empty
  // participant, shift shorter than 1h, a restriction out of range, end not after handoff, an
  // override's end not after its start, an empty override person, a time outside [kEarliest,
  // kLatest]); NOT_FOUND for an unknown zone.
  static core::Result<Schedule> Build(ScheduleSpec spec);

  const ScheduleSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }

  // Who is on call at `t`, or nullopt when nobody is.
  std::optional<OnCall> OnCallAt(core::Timestamp t) const;

  // The final shift after the one running at `t` (or, when nobody is on call at `t`, the first
  // one starting after `t`), within kHorizon; nullopt when there is none. It may be the same
  // person again after a stretch with nobody.
  std::optional<FinalShift> NextOnCall(core::Timestamp t) const;

  // The final schedule: the stretches that overlap [from, to), in time order, each whole (not cut
  // at `from` or `to`, up to kHorizon beyond them), merged per person. Errors: INVALID_ARGUMENT
  // when to < from, to - from > kMaxRange or either is outside [kEarliest, kLatest].
  core::Result<std::vector<FinalShift>> FinalShifts(core::Timestamp from, core::Timestamp to) const;

  // One layer on its own over [from, to) (cut at both ends, restrictions applied), for showing
  // the layers under the final schedule. REQUIRES: 0 <= layer < layers; to - from <= kMaxRange.
  std::vector<FinalShift> LayerShifts(int layer, core::Timestamp from, core::Timestamp to) const;

 private:
  struct Zone {
    const date::time_zone* tz = nullptr;
  };
  Schedule() = default;
  // The final schedule cut to [from, to).
  std::vector<FinalShift> Timeline(core::Timestamp from, core::Timestamp to) const;
  // The stretch containing `t` (end > t), extended backwards and forwards, or nullopt.
  std::optional<FinalShift> StretchAt(core::Timestamp t) const;

  ScheduleSpec spec_;
  std::vector<Zone> zones_;  // per layer
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_SCHEDULE_H_

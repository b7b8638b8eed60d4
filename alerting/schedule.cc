// On-call schedules (schedule.h). Howard Hinnant's date/tz stays in this file; it throws on an
// unknown zone, which is caught here.
#include "alerting/schedule.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace nines::alerting {

namespace {

using core::Duration;
using core::Timestamp;
using Nanos = std::chrono::nanoseconds;
using LocalNs = date::local_time<Nanos>;

constexpr Duration kDay = Duration::Days(1);
constexpr Duration kOneNano = Duration::Nanoseconds(1);

core::Result<const date::time_zone*> LocateZone(std::string_view name) {
  try {
    return date::locate_zone(std::string(name));
  } catch (const std::exception&) {
    return core::NotFoundError("unknown time zone \"{}\"", name);
  }
}

LocalNs ToLocal(const date::time_zone* tz, Timestamp t) {
  return tz->to_local(date::sys_time<Nanos>(Nanos(t.UnixNanos())));
}

// The instant of a wall-clock time: a skipped one maps to the end of the gap, a repeated one to
// its first occurrence.
Timestamp ToInstant(const date::time_zone* tz, LocalNs local) {
  date::local_info info = tz->get_info(date::floor<std::chrono::seconds>(local));
  Nanos since_epoch = local.time_since_epoch();
  if (info.result == date::local_info::nonexistent) {
    return Timestamp::FromUnixNanos(Nanos(info.first.end.time_since_epoch()).count());
  }
  // unique and ambiguous: `first` is the offset in force (the earlier one when ambiguous).
  return Timestamp::FromUnixNanos((since_epoch - Nanos(info.first.offset)).count());
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// A layer's shift boundaries: shift k runs [Boundary(k), Boundary(k + 1)).
class LayerClock {
 public:
  LayerClock(const RotationLayer& layer, const date::time_zone* tz)
      : layer_(layer), tz_(tz), len_(layer.shift_length) {
    wall_ = len_ % kDay == Duration::Zero() || kDay % len_ == Duration::Zero();
    local_handoff_ = ToLocal(tz_, layer.handoff);
  }

  Timestamp Boundary(int64_t k) const {
    if (!wall_) return layer_.handoff + len_ * k;
    return ToInstant(tz_, local_handoff_ + Nanos((len_ * k).nanos()));
  }

  // The k with Boundary(k) <= t < Boundary(k + 1) (a shift that DST empties is skipped).
  int64_t ShiftIndex(Timestamp t) const {
    int64_t k = wall_ ? FloorDiv((ToLocal(tz_, t) - local_handoff_).count(), len_.nanos())
                      : FloorDiv((t - layer_.handoff).nanos(), len_.nanos());
    for (int i = 0; i < 64 && Boundary(k + 1) <= t; ++i) ++k;
    for (int i = 0; i < 64 && Boundary(k) > t; ++i) --k;
    return k;
  }

 private:
  const RotationLayer& layer_;
  const date::time_zone* tz_;
  Duration len_;
  bool wall_ = false;
  LocalNs local_handoff_;
};

struct Interval {
  Timestamp start;
  Timestamp end;
};

// The restriction windows of `layer` that overlap [from, to), cut to it, as a sorted union.
std::vector<Interval> RestrictionWindows(const RotationLayer& layer, const date::time_zone* tz,
                                         Timestamp from, Timestamp to) {
  std::vector<Interval> windows;
  // A window lasts at most a day, so one opening two local days before `from` is the earliest
  // that can reach it (one day of margin for the offset).
  date::local_days first = date::floor<date::days>(ToLocal(tz, from)) - date::days(2);
  date::local_days last = date::floor<date::days>(ToLocal(tz, to)) + date::days(1);
  for (date::local_days day = first; day <= last; day += date::days(1)) {
    const unsigned weekday = date::weekday(day).c_encoding();
    for (const ShiftRestriction& r : layer.restrictions) {
      if ((r.weekdays & (1u << weekday)) == 0) continue;
      LocalNs open = LocalNs(day) + std::chrono::minutes(r.start_minute);
      LocalNs close = LocalNs(day) + std::chrono::minutes(r.end_minute);
      if (r.end_minute <= r.start_minute) close += date::days(1);
      Timestamp s = std::max(ToInstant(tz, open), from);
      Timestamp e = std::min(ToInstant(tz, close), to);
      if (s < e) windows.push_back({s, e});
    }
  }
  std::sort(windows.begin(), windows.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> merged;
  for (const Interval& w : windows) {
    if (!merged.empty() && w.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, w.end);
    } else {
      merged.push_back(w);
    }
  }
  return merged;
}

// Who layer `index` has on call over [from, to): its shifts cut to the range, the layer's end
// and its restriction windows, in time order.
std::vector<FinalShift> LayerIntervals(const RotationLayer& layer, int index,
                                       const date::time_zone* tz, Timestamp from, Timestamp to) {
  std::vector<FinalShift> out;
  from = std::max(from, layer.handoff);
  if (layer.end) to = std::min(to, *layer.end);
  if (from >= to) return out;
  const ShiftSource source{ShiftSource::Kind::kLayer, index, layer.name};
  LayerClock clock(layer, tz);
  const auto n = static_cast<int64_t>(layer.participants.size());
  for (int64_t k = clock.ShiftIndex(from); clock.Boundary(k) < to; ++k) {
    Timestamp s = std::max(clock.Boundary(k), from);
    Timestamp e = std::min(clock.Boundary(k + 1), to);
    if (s < e) out.push_back({layer.participants[static_cast<size_t>(k % n)], source, s, e});
  }
  if (layer.restrictions.empty()) return out;
  std::vector<Interval> windows = RestrictionWindows(layer, tz, from, to);
  std::vector<FinalShift> restricted;
  size_t w = 0;
  for (const FinalShift& shift : out) {
    while (w < windows.size() && windows[w].end <= shift.start) ++w;
    for (size_t i = w; i < windows.size() && windows[i].start < shift.end; ++i) {
      FinalShift part = shift;
      part.start = std::max(shift.start, windows[i].start);
      part.end = std::min(shift.end, windows[i].end);
      if (part.start < part.end) restricted.push_back(std::move(part));
    }
  }
  return restricted;
}

bool InRange(Timestamp t) { return t >= Schedule::kEarliest && t <= Schedule::kLatest; }

core::Status CheckLayer(const RotationLayer& layer, size_t index) {
  const std::string where = layer.name.empty()
                                ? fmt::format("layer {}", index + 1)
                                : fmt::format("layer {} (\"{}\")", index + 1, layer.name);
  if (layer.participants.empty()) return core::InvalidArgumentError("{}: no participants", where);
  for (const std::string& p : layer.participants) {
    if (p.empty()) return core::InvalidArgumentError("{}: an empty participant name", where);
  }
  if (layer.shift_length < Duration::Hours(1)) {
    return core::InvalidArgumentError("{}: shift_length {} is shorter than 1h", where,
                                      layer.shift_length.ToString());
  }
  if (!InRange(layer.handoff) || (layer.end && !InRange(*layer.end))) {
    return core::InvalidArgumentError("{}: a time before 1900 or after 2200", where);
  }
  if (layer.end && *layer.end <= layer.handoff) {
    return core::InvalidArgumentError("{}: end {} is not after the handoff {}", where,
                                      layer.end->ToRfc3339(), layer.handoff.ToRfc3339());
  }
  for (const ShiftRestriction& r : layer.restrictions) {
    if (r.weekdays == 0 || r.weekdays > 0x7f || r.start_minute < 0 || r.start_minute >= 24 * 60 ||
        r.end_minute < 1 || r.end_minute > 24 * 60) {
      return core::InvalidArgumentError(
          "{}: a restriction out of range (weekdays 0x{:x}, minutes {}..{})", where, r.weekdays,
          r.start_minute, r.end_minute);
    }
  }
  return core::Status::Ok();
}

}  // namespace

core::Status CheckTimeZone(std::string_view name) { return LocateZone(name).status(); }

core::Result<Timestamp> ParseScheduleTime(std::string_view text, std::string_view zone) {
  auto bad = [&] {
    return core::InvalidArgumentError(
        "invalid time \"{}\" (want 2026-03-02T09:00 in the zone, or RFC 3339 with Z or an offset)",
        text);
  };
  auto num = [&](size_t pos, size_t len, int* out) {
    if (pos + len > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!num(0, 4, &y) || text.size() < 16 || text[4] != '-' || !num(5, 2, &mo) || text[7] != '-' ||
      !num(8, 2, &d) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !num(11, 2, &h) || text[13] != ':' || !num(14, 2, &mi)) {
    return bad();
  }
  size_t pos = 16;
  if (pos < text.size() && text[pos] == ':') {
    if (!num(pos + 1, 2, &s)) return bad();
    pos += 3;
  }
  date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                           date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return bad();
  // Checked before the arithmetic: year 9999 in nanoseconds overflows.
  if (y < 1900 || y >= 2200) {
    return core::InvalidArgumentError("time \"{}\" is before 1900 or after 2200", text);
  }
  LocalNs local = LocalNs(date::local_days(ymd)) + std::chrono::hours(h) +
                  std::chrono::minutes(mi) + std::chrono::seconds(s);
  std::string_view suffix = text.substr(pos);
  if (suffix.empty()) {
    ASSIGN_OR_RETURN(const date::time_zone* tz, LocateZone(zone));
    return ToInstant(tz, local);
  }
  int64_t offset_minutes = 0;
  if (suffix != "Z" && suffix != "z") {
    int oh = 0, om = 0;
    if (suffix.size() != 6 || (suffix[0] != '+' && suffix[0] != '-') || suffix[3] != ':' ||
        !num(pos + 1, 2, &oh) || !num(pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = (suffix[0] == '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Timestamp::FromUnixNanos(local.time_since_epoch().count()) -
         Duration::Minutes(offset_minutes);
}

core::Result<Schedule> Schedule::Build(ScheduleSpec spec) {
  if (spec.name.empty()) return core::InvalidArgumentError("a schedule needs a name");
  Schedule schedule;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const RotationLayer& layer = spec.layers[i];
    RETURN_IF_ERROR(CheckLayer(layer, i).WithContext(fmt::format("schedule \"{}\"", spec.name)));
    ASSIGN_OR_RETURN(const date::time_zone* tz, LocateZone(layer.time_zone));
    schedule.zones_.push_back(Zone{tz});
  }
  for (size_t i = 0; i < spec.overrides.size(); ++i) {
    const ScheduleOverride& o = spec.overrides[i];
    if (o.person.empty()) {
      return core::InvalidArgumentError("schedule \"{}\": override {}: no person", spec.name,
                                        i + 1);
    }
    if (!InRange(o.start) || !InRange(o.end)) {
      return core::InvalidArgumentError(
          "schedule \"{}\": override {}: a time before 1900 or after 2200", spec.name, i + 1);
    }
    if (o.end <= o.start) {
      return core::InvalidArgumentError(
          "schedule \"{}\": override {}: end {} is not after start {}", spec.name, i + 1,
          o.end.ToRfc3339(), o.start.ToRfc3339());
    }
  }
  schedule.spec_ = std::move(spec);
  return schedule;
}

std::vector<FinalShift> Schedule::LayerShifts(int layer, Timestamp from, Timestamp to) const {
  const auto i = static_cast<size_t>(layer);
  return LayerIntervals(spec_.layers[i], layer, zones_[i].tz, from, to);
}

std::vector<FinalShift> Schedule::Timeline(Timestamp from, Timestamp to) const {
  std::vector<FinalShift> result;
  if (from >= to) return result;
  std::vector<std::vector<FinalShift>> layers;
  std::vector<Timestamp> cuts = {from, to};
  for (size_t i = 0; i < spec_.layers.size(); ++i) {
    layers.push_back(LayerShifts(static_cast<int>(i), from, to));
    for (const FinalShift& s : layers.back()) {
      cuts.push_back(s.start);
      cuts.push_back(s.end);
    }
  }
  std::vector<size_t> overrides;  // the ones overlapping [from, to), in order
  for (size_t i = 0; i < spec_.overrides.size(); ++i) {
    const ScheduleOverride& o = spec_.overrides[i];
    if (o.end <= from || o.start >= to) continue;
    overrides.push_back(i);
    cuts.push_back(std::max(o.start, from));
    cuts.push_back(std::min(o.end, to));
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<size_t> next(layers.size(), 0);  // per layer, the first shift not yet passed
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    const Timestamp at = cuts[c];
    const FinalShift* winner = nullptr;
    FinalShift from_override;
    for (auto it = overrides.rbegin(); it != overrides.rend() && winner == nullptr; ++it) {
      const ScheduleOverride& o = spec_.overrides[*it];
      if (o.start <= at && at < o.end) {
        from_override = {
            o.person, {ShiftSource::Kind::kOverride, static_cast<int>(*it), ""}, at, at};
        winner = &from_override;
      }
    }
    for (size_t l = layers.size(); l-- > 0;) {
      while (next[l] < layers[l].size() && layers[l][next[l]].end <= at) ++next[l];
      if (winner == nullptr && next[l] < layers[l].size() && layers[l][next[l]].start <= at) {
        winner = &layers[l][next[l]];
      }
    }
    if (winner == nullptr) continue;
    if (!result.empty() && result.back().person == winner->person && result.back().end == at) {
      result.back().end = cuts[c + 1];
    } else {
      result.push_back({winner->person, winner->source, at, cuts[c + 1]});
    }
  }
  return result;
}

std::optional<FinalShift> Schedule::StretchAt(Timestamp t) const {
  for (Duration w = Duration::Days(8);; w = std::min(w * 4, kHorizon)) {
    std::vector<FinalShift> timeline = Timeline(t - w, t + w);
    auto it = std::find_if(timeline.begin(), timeline.end(),
                           [t](const FinalShift& s) { return s.start <= t && t < s.end; });
    if (it == timeline.end()) return std::nullopt;
    const bool cut = it->start == t - w || it->end == t + w;
    if (!cut || w >= kHorizon) return *it;
  }
}

std::optional<OnCall> Schedule::OnCallAt(Timestamp t) const {
  if (!InRange(t)) return std::nullopt;
  std::optional<FinalShift> stretch = StretchAt(t);
  if (!stretch) return std::nullopt;
  // The source in force at `t` itself (the stretch's may be an earlier part of it).
  std::vector<FinalShift> now = Timeline(t, t + kOneNano);
  OnCall out{stretch->person, stretch->source, stretch->start, stretch->end};
  if (!now.empty()) out.source = now.front().source;
  return out;
}

std::optional<FinalShift> Schedule::NextOnCall(Timestamp t) const {
  if (!InRange(t)) return std::nullopt;
  std::optional<FinalShift> current = StretchAt(t);
  const Timestamp after = current ? current->end : t;
  const Timestamp limit = t + kHorizon;
  for (Duration w = Duration::Days(8);; w = std::min(w * 4, kHorizon)) {
    const Timestamp to = std::min(after + w, limit);
    std::vector<FinalShift> timeline = Timeline(after, to);
    auto it = std::find_if(timeline.begin(), timeline.end(),
                           [after](const FinalShift& s) { return s.start >= after; });
    if (it != timeline.end()) return StretchAt(it->start);
    if (to >= limit || w >= kHorizon) return std::nullopt;
  }
}

core::Result<std::vector<FinalShift>> Schedule::FinalShifts(Timestamp from, Timestamp to) const {
  if (to < from) {
    return core::InvalidArgumentError("the range ends ({}) before it starts ({})", to.ToRfc3339(),
                                      from.ToRfc3339());
  }
  if (!InRange(from) || !InRange(to)) {
    return core::InvalidArgumentError("the range {} .. {} is outside 1900 .. 2200",
                                      from.ToRfc3339(), to.ToRfc3339());
  }
  if (to - from > kMaxRange) {
    return core::InvalidArgumentError("the range {} .. {} is longer than {}", from.ToRfc3339(),
                                      to.ToRfc3339(), kMaxRange.ToString());
  }
  std::vector<FinalShift> shifts = Timeline(from, to);
  if (shifts.empty()) return shifts;
  // The first and last stretches are cut at the range; find where they really start and end.
  if (shifts.front().start == from) {
    if (std::optional<FinalShift> whole = StretchAt(from)) shifts.front() = *whole;
  }
  if (shifts.back().end == to) {
    if (std::optional<FinalShift> whole = StretchAt(shifts.back().start)) shifts.back() = *whole;
  }
  return shifts;
}

}  // namespace nines::alerting

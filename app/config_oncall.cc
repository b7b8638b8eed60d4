#include "app/config_oncall.h"

#include <fmt/format.h>

#include <optional>
#include <string_view>

#include "alerting/escalation.h"
#include "alerting/routing.h"
#include "alerting/schedule.h"

namespace nines::app {
namespace {

// A value kept to be read once its siblings are known (a time needs its layer's zone).
struct Deferred {
  YAML::Node node;
  YAML::Mark at;
  std::string path;
};

// "HH:MM", 00:00 to 24:00, as minutes of the day.
std::optional<int> ParseClock(std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (s.size() != 5 || !digit(s[0]) || !digit(s[1]) || s[2] != ':' || !digit(s[3]) ||
      !digit(s[4])) {
    return std::nullopt;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

// A zone field: the name when the system's tz database has it, else reported.
std::optional<std::string> Zone(YamlReader* r, const YAML::Node& v, const YAML::Mark& at,
                                const std::string& path) {
  std::optional<std::string> name = r->String(v, at, path);
  if (!name) return std::nullopt;
  if (core::Status s = alerting::CheckTimeZone(*name); !s.ok()) {
    r->Error(at, fmt::format("{}: {} (want an IANA name such as Europe/Dublin or "
                             "America/New_York)",
                             path, s.message()));
    return std::nullopt;
  }
  return name;
}

// A time of a layer or override, read in `zone` when it has no offset.
std::optional<core::Timestamp> Time(YamlReader* r, const Deferred& d, const std::string& zone) {
  std::optional<std::string> text = r->String(d.node, d.at, d.path);
  if (!text) return std::nullopt;
  core::Result<core::Timestamp> t = alerting::ParseScheduleTime(*text, zone);
  if (!t.ok()) {
    r->Error(d.at, fmt::format("{}: {}", d.path, t.status().message()));
    return std::nullopt;
  }
  if (*t < alerting::Schedule::kEarliest || *t > alerting::Schedule::kLatest) {
    r->Error(d.at, fmt::format("{}: {} is before 1900 or after 2200", d.path, Quote(*text)));
    return std::nullopt;
  }
  return *t;
}

std::optional<alerting::ShiftRestriction> ParseRestriction(YamlReader* r, const YAML::Node& node,
                                                           const YAML::Mark& at,
                                                           const std::string& path) {
  alerting::ShiftRestriction out;
  const size_t errors = r->ErrorCount();
  auto clock = [&](const YAML::Node& v, const YAML::Mark& a, const std::string& p, int* minute) {
    std::optional<std::string> s = r->String(v, a, p);
    if (!s) return;
    std::optional<int> m = ParseClock(*s);
    if (!m) {
      r->Error(a, fmt::format("{}: invalid time {} (want HH:MM, 00:00 to 24:00)", p, Quote(*s)));
      return;
    }
    *minute = *m;
  };
  bool ok = r->WalkItemMap(
      node, at, path,
      {
          {"weekdays",
           [&](auto& v, auto& a, auto& p) {
             std::vector<std::string> ranges;
             uint8_t mask = 0;
             r->StringList(
                 v, a, p, &ranges, "",
                 [&](const std::string& item, const YAML::Mark& ia, const std::string& ip) {
                   auto range = alerting::ParseWeekdayRange(item);
                   if (!range.ok()) {
                     r->Error(ia, fmt::format("{}: {}", ip, range.status().message()));
                     return;
                   }
                   for (int d = range->begin; d <= range->end; ++d) mask |= 1u << d;
                 });
             if (mask != 0) out.weekdays = mask;
           }},
          {"start_time",
           [&](auto& v, auto& a, auto& p) {
             clock(v, a, p, &out.start_minute);
             if (out.start_minute == 24 * 60) {
               r->Error(a, fmt::format("{}: a window cannot open at 24:00", p));
             }
           }},
          {"end_time",
           [&](auto& v, auto& a, auto& p) {
             clock(v, a, p, &out.end_minute);
             if (out.end_minute == 0) out.end_minute = 24 * 60;  // midnight ends the day
           }},
      });
  if (!ok || r->ErrorCount() != errors) return std::nullopt;
  return out;
}

}  // namespace

void OncallSection::Parse(const YAML::Node& node, const YAML::Mark& at, const std::string& path) {
  if (node.IsNull()) {
    r_->Error(at, fmt::format("{}: expected a mapping: people and schedules", path));
    return;
  }
  std::optional<Deferred> people, schedules, policies;
  r_->WalkMap(node, at, path,
              {
                  {"people",
                   [&](auto& v, auto& a, auto& p) {
                     people = Deferred{v, a, p};
                   }},
                  {"schedules",
                   [&](auto& v, auto& a, auto& p) {
                     schedules = Deferred{v, a, p};
                   }},
                  {"escalation_policies",
                   [&](auto& v, auto& a, auto& p) {
                     policies = Deferred{v, a, p};
                   }},
              });
  // People first, wherever they are written, so schedules can name them.
  if (people) ParsePeople(people->node, people->at, people->path);
  if (schedules) {
    r_->WalkList(
        schedules->node, schedules->at, schedules->path,
        [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path,
            size_t) { ParseSchedule(item, item_at, item_path); });
  }
  if (policies) {
    r_->WalkList(policies->node, policies->at, policies->path,
                 [&](const YAML::Node& item, const YAML::Mark& item_at,
                     const std::string& item_path, size_t) {
                   std::optional<alerting::EscalationPolicy> policy =
                       ParsePolicy(item, item_at, item_path);
                   if (policy) out_->escalation_policies.push_back(std::move(*policy));
                 });
  }
}

void OncallSection::ParsePeople(const YAML::Node& node, const YAML::Mark& at,
                                const std::string& path) {
  r_->WalkList(
      node, at, path,
      [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path, size_t) {
        alerting::Person person;
        std::optional<YAML::Mark> name_at;
        bool is_map = r_->WalkItemMap(item, item_at, item_path,
                                      {
                                          {"name",
                                           [&](auto& v, auto& a, auto& p) {
                                             YamlReader::Set(r_->String(v, a, p), &person.name);
                                             name_at = a;
                                           }},
                                          {"time_zone",
                                           [&](auto& v, auto& a, auto& p) {
                                             YamlReader::Set(Zone(r_, v, a, p), &person.time_zone);
                                           }},
                                          {"contact_methods",
                                           [&](auto& v, auto& a, auto& p) {
                                             r_->StringList(
                                                 v, a, p, &person.contact_methods, "contact method",
                                                 [&](const std::string& receiver,
                                                     const YAML::Mark& ia, const std::string& ip) {
                                                   contacts_.push_back({receiver, ia, ip});
                                                 });
                                           }},
                                      });
        if (!is_map) return;
        if (!name_at) {
          r_->Required(item_at, item_path, "name", "");
          return;
        }
        if (person.name.empty()) return;  // reported
        if (r_->CheckUnique(&people_, person.name, *name_at, item_path, "person")) {
          out_->people.push_back(std::move(person));
        }
      });
}

bool OncallSection::CheckPerson(const std::string& name, const YAML::Mark& at,
                                const std::string& path) {
  if (people_.count(name) > 0) return true;
  std::vector<std::string_view> names;
  for (const auto& [n, mark] : people_) names.push_back(n);
  r_->Error(
      at, fmt::format("{}: unknown person {} ({})", path, Quote(name),
                      names.empty()
                          ? std::string("oncall.people defines no one")
                          : SuggestOr(name, names, "want one of oncall.people: " + JoinOr(names))));
  return false;
}

void OncallSection::ParseSchedule(const YAML::Node& node, const YAML::Mark& at,
                                  const std::string& path) {
  const size_t errors = r_->ErrorCount();
  alerting::ScheduleSpec spec;
  std::string zone = "UTC";
  std::optional<YAML::Mark> name_at;
  std::optional<Deferred> layers, overrides;
  bool zone_ok = true;
  bool is_map = r_->WalkItemMap(node, at, path,
                                {
                                    {"name",
                                     [&](auto& v, auto& a, auto& p) {
                                       YamlReader::Set(r_->String(v, a, p), &spec.name);
                                       name_at = a;
                                     }},
                                    {"time_zone",
                                     [&](auto& v, auto& a, auto& p) {
                                       std::optional<std::string> z = Zone(r_, v, a, p);
                                       zone_ok = z.has_value();
                                       if (z) zone = *z;
                                     }},
                                    {"layers",
                                     [&](auto& v, auto& a, auto& p) {
                                       layers = Deferred{v, a, p};
                                     }},
                                    {"overrides",
                                     [&](auto& v, auto& a, auto& p) {
                                       overrides = Deferred{v, a, p};
                                     }},
                                });
  if (!is_map) return;
  if (!name_at) r_->Required(at, path, "name", "");
  if (!layers) {
    r_->Required(at, path, "layers", "at least one rotation layer");
  } else {
    if (layers->node.IsNull() || (layers->node.IsSequence() && layers->node.size() == 0)) {
      r_->Error(layers->at, fmt::format("{}: a schedule needs at least one layer", layers->path));
    }
    std::map<std::string, YAML::Mark, std::less<>> layer_names;
    r_->WalkList(layers->node, layers->at, layers->path,
                 [&](const YAML::Node& item, const YAML::Mark& item_at,
                     const std::string& item_path, size_t) {
                   std::optional<alerting::RotationLayer> layer =
                       ParseLayer(item, item_at, item_path, zone_ok ? zone : "");
                   if (!layer) return;
                   if (!layer->name.empty() &&
                       !r_->CheckUnique(&layer_names, layer->name, item_at, item_path, "layer")) {
                     return;
                   }
                   spec.layers.push_back(std::move(*layer));
                 });
  }
  if (overrides) {
    r_->WalkList(overrides->node, overrides->at, overrides->path,
                 [&](const YAML::Node& item, const YAML::Mark& item_at,
                     const std::string& item_path, size_t) {
                   std::optional<alerting::ScheduleOverride> o =
                       ParseOverride(item, item_at, item_path, zone_ok ? zone : "");
                   if (o) spec.overrides.push_back(std::move(*o));
                 });
  }
  // Known even when the schedule has errors, so policies naming it get no second error.
  const bool unique =
      spec.name.empty() || r_->CheckUnique(&schedules_, spec.name, *name_at, path, "schedule");
  if (r_->ErrorCount() != errors || spec.name.empty() || !unique) return;
  core::Result<alerting::Schedule> schedule = alerting::Schedule::Build(std::move(spec));
  if (!schedule.ok()) {  // the checks above should have caught it
    r_->Error(at, fmt::format("{}: {}", path, schedule.status().message()));
    return;
  }
  out_->schedules.push_back(std::move(*schedule));
}

std::optional<alerting::RotationLayer> OncallSection::ParseLayer(const YAML::Node& node,
                                                                 const YAML::Mark& at,
                                                                 const std::string& path,
                                                                 const std::string& zone) {
  const size_t errors = r_->ErrorCount();
  alerting::RotationLayer layer;
  layer.time_zone = zone;
  std::optional<Deferred> handoff, end;
  bool has_participants = false, zone_ok = !zone.empty();
  bool is_map = r_->WalkItemMap(
      node, at, path,
      {
          {"name",
           [&](auto& v, auto& a, auto& p) { YamlReader::Set(r_->String(v, a, p), &layer.name); }},
          {"participants",
           [&](auto& v, auto& a, auto& p) {
             has_participants = true;
             r_->StringList(v, a, p, &layer.participants, "",
                            [&](const std::string& person, const YAML::Mark& ia,
                                const std::string& ip) { CheckPerson(person, ia, ip); });
             if (layer.participants.empty() && r_->ErrorCount() == errors) {
               r_->Error(a, fmt::format("{}: a layer needs at least one participant", p));
             }
           }},
          {"shift_length",
           [&](auto& v, auto& a, auto& p) {
             YamlReader::Set(r_->DurationAtLeast(v, a, p, core::Duration::Hours(1)),
                             &layer.shift_length);
           }},
          {"handoff",
           [&](auto& v, auto& a, auto& p) {
             handoff = Deferred{v, a, p};
           }},
          {"end",
           [&](auto& v, auto& a, auto& p) {
             end = Deferred{v, a, p};
           }},
          {"time_zone",
           [&](auto& v, auto& a, auto& p) {
             std::optional<std::string> z = Zone(r_, v, a, p);
             zone_ok = z.has_value();
             if (z) layer.time_zone = *z;
           }},
          {"restrictions",
           [&](auto& v, auto& a, auto& p) {
             r_->WalkList(
                 v, a, p,
                 [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip, size_t) {
                   std::optional<alerting::ShiftRestriction> r = ParseRestriction(r_, item, ia, ip);
                   if (r) layer.restrictions.push_back(*r);
                 });
           }},
      });
  if (!is_map) return std::nullopt;
  if (!has_participants) r_->Required(at, path, "participants", "people in rotation order");
  if (!handoff) {
    r_->Required(at, path, "handoff", "when the first shift starts, as 2026-01-05T09:00");
  }
  // A time without an offset needs a valid zone; a bad zone is reported already.
  if (zone_ok && handoff) YamlReader::Set(Time(r_, *handoff, layer.time_zone), &layer.handoff);
  if (zone_ok && end) {
    std::optional<core::Timestamp> t = Time(r_, *end, layer.time_zone);
    if (t && r_->ErrorCount() == errors && *t <= layer.handoff) {
      r_->Error(end->at, fmt::format("{}: the layer ends before its first handoff", end->path));
    }
    layer.end = t;
  }
  if (r_->ErrorCount() != errors) return std::nullopt;
  return layer;
}

std::optional<alerting::ScheduleOverride> OncallSection::ParseOverride(const YAML::Node& node,
                                                                       const YAML::Mark& at,
                                                                       const std::string& path,
                                                                       const std::string& zone) {
  const size_t errors = r_->ErrorCount();
  alerting::ScheduleOverride o;
  std::optional<Deferred> start, end;
  bool has_person = false;
  bool is_map = r_->WalkItemMap(node, at, path,
                                {
                                    {"person",
                                     [&](auto& v, auto& a, auto& p) {
                                       has_person = true;
                                       std::optional<std::string> name = r_->String(v, a, p);
                                       if (name && CheckPerson(*name, a, p)) o.person = *name;
                                     }},
                                    {"start",
                                     [&](auto& v, auto& a, auto& p) {
                                       start = Deferred{v, a, p};
                                     }},
                                    {"end",
                                     [&](auto& v, auto& a, auto& p) {
                                       end = Deferred{v, a, p};
                                     }},
                                });
  if (!is_map) return std::nullopt;
  if (!has_person) r_->Required(at, path, "person", "who covers");
  if (!start) r_->Required(at, path, "start", "");
  if (!end) r_->Required(at, path, "end", "");
  if (zone.empty() || !start || !end) return std::nullopt;
  std::optional<core::Timestamp> s = Time(r_, *start, zone);
  std::optional<core::Timestamp> e = Time(r_, *end, zone);
  if (s && e && *e <= *s) {
    r_->Error(end->at, fmt::format("{}: the override ends before it starts", end->path));
  }
  if (r_->ErrorCount() != errors || !s || !e) return std::nullopt;
  o.start = *s;
  o.end = *e;
  return o;
}

std::optional<alerting::EscalationTarget> OncallSection::ParseTarget(const YAML::Node& node,
                                                                     const YAML::Mark& at,
                                                                     const std::string& path) {
  using Kind = alerting::EscalationTarget::Kind;
  std::optional<alerting::EscalationTarget> target;
  int kinds = 0;
  bool is_map = r_->WalkItemMap(
      node, at, path,
      {
          {"schedule",
           [&](auto& v, auto& a, auto& p) {
             ++kinds;
             std::optional<std::string> name = r_->String(v, a, p);
             if (!name) return;
             if (schedules_.count(*name) == 0) {
               std::vector<std::string_view> names;
               for (const auto& [n, mark] : schedules_) names.push_back(n);
               r_->Error(a, fmt::format("{}: unknown schedule {} ({})", p, Quote(*name),
                                        names.empty() ? std::string("oncall.schedules is empty")
                                                      : SuggestOr(*name, names,
                                                                  "want one of oncall.schedules: " +
                                                                      JoinOr(names))));
               return;
             }
             target = alerting::EscalationTarget{Kind::kSchedule, *name};
           }},
          {"person",
           [&](auto& v, auto& a, auto& p) {
             ++kinds;
             std::optional<std::string> name = r_->String(v, a, p);
             if (name && CheckPerson(*name, a, p)) {
               target = alerting::EscalationTarget{Kind::kPerson, *name};
             }
           }},
      });
  if (!is_map) return std::nullopt;
  if (kinds != 1) {
    r_->Error(at, fmt::format("{}: want exactly one of schedule (whoever is on call there) or "
                              "person",
                              path));
    return std::nullopt;
  }
  return target;
}

// One step of a policy: its wait and its targets.
std::optional<alerting::EscalationStep> OncallSection::ParseStep(const YAML::Node& node,
                                                                 const YAML::Mark& at,
                                                                 const std::string& path) {
  const size_t errors = r_->ErrorCount();
  alerting::EscalationStep step;
  bool has_targets = false;
  bool ok = r_->WalkItemMap(
      node, at, path,
      {
          {"escalate_after",
           [&](auto& v, auto& a, auto& p) {
             YamlReader::Set(r_->DurationAtLeast(v, a, p, core::Duration::Minutes(1)),
                             &step.escalate_after);
           }},
          {"targets",
           [&](auto& v, auto& a, auto& p) {
             has_targets = true;
             if (v.IsNull() || (v.IsSequence() && v.size() == 0)) {
               r_->Error(a, fmt::format("{}: a step needs at least one target", p));
             }
             r_->WalkList(
                 v, a, p,
                 [&](const YAML::Node& t, const YAML::Mark& ta, const std::string& tp, size_t) {
                   std::optional<alerting::EscalationTarget> target = ParseTarget(t, ta, tp);
                   if (target) step.targets.push_back(std::move(*target));
                 });
           }},
      });
  if (!ok) return std::nullopt;
  if (!has_targets) r_->Required(at, path, "targets", "schedules or people to notify");
  if (r_->ErrorCount() != errors) return std::nullopt;
  return step;
}

std::optional<alerting::EscalationPolicy> OncallSection::ParsePolicy(const YAML::Node& node,
                                                                     const YAML::Mark& at,
                                                                     const std::string& path) {
  const size_t errors = r_->ErrorCount();
  alerting::EscalationPolicy policy;
  bool has_steps = false, has_name = false;
  bool is_map = r_->WalkItemMap(
      node, at, path,
      {
          {"name",
           [&](auto& v, auto& a, auto& p) {
             has_name = true;
             YamlReader::Set(r_->String(v, a, p), &policy.name);
           }},
          {"repeat", [&](auto& v, auto& a,
                         auto& p) { YamlReader::Set(r_->Int(v, a, p, 0, 9), &policy.repeat); }},
          {"steps",
           [&](auto& v, auto& a, auto& p) {
             has_steps = true;
             if (v.IsNull() || (v.IsSequence() && v.size() == 0)) {
               r_->Error(a, fmt::format("{}: a policy needs at least one step", p));
             }
             r_->WalkList(
                 v, a, p,
                 [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip, size_t) {
                   std::optional<alerting::EscalationStep> step = ParseStep(item, ia, ip);
                   if (step) policy.steps.push_back(std::move(*step));
                 });
           }},
      });
  if (!is_map) return std::nullopt;
  if (!has_name) r_->Required(at, path, "name", "");
  if (!has_steps) r_->Required(at, path, "steps", "who to notify, in order");
  // Checked even when the policy has other errors, so a duplicate is always reported.
  if (!policy.name.empty()) {
    r_->CheckUnique(&policies_, policy.name, at, path, "escalation policy");
  }
  if (r_->ErrorCount() != errors) return std::nullopt;
  if (core::Status s = alerting::ValidateEscalationPolicy(policy); !s.ok()) {
    r_->Error(at, fmt::format("{}: {}", path, s.message()));  // the checks above should catch it
    return std::nullopt;
  }
  return policy;
}

void OncallSection::Finish(const AlertingConfig& alerting) {
  std::vector<std::string_view> names;
  for (const alerting::Receiver& r : alerting.alertmanager.receivers) names.push_back(r.name);
  for (const ContactRef& c : contacts_) {
    if (alerting.alertmanager.FindReceiver(c.receiver) != nullptr) continue;
    r_->Error(c.at,
              fmt::format("{}: unknown receiver {} ({})", c.path, Quote(c.receiver),
                          names.empty() ? std::string("alerting: defines no receivers; a contact "
                                                      "method names one of them")
                                        : SuggestOr(c.receiver, names,
                                                    "want a receiver of alerting.receivers: " +
                                                        JoinOr(names))));
  }
}

}  // namespace nines::app

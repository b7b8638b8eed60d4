// Private to app/config*.cc: the `oncall:` section of nines.yaml, people and their on-call
// schedules (alerting/schedule.h), parsed and checked with every mistake at its file:line:col.
// `nines check` validates it; the engine does not use it yet (issue 15): nothing pages through
// schedules or escalation policies, and a route cannot name a policy as its receiver yet.
//
//   oncall:
//     people:
//       - name: alice                     # REQUIRED, unique
//         time_zone: Europe/Dublin        # IANA zone, default UTC
//         contact_methods: [alice-slack]  # names of receivers under alerting.receivers
//     schedules:
//       - name: primary                   # REQUIRED, unique
//         time_zone: Europe/Dublin        # default zone of its layers and times; default UTC
//         layers:                         # REQUIRED, bottom first: a later layer wins
//           - name: eu                    # optional, unique in the schedule
//             participants: [alice, bob]  # REQUIRED, people above, in rotation order
//             shift_length: 1w            # default 1w, at least 1h
//             handoff: 2026-01-05T09:00   # REQUIRED: the first shift's start
//             time_zone: Europe/Dublin    # default the schedule's
//             end: 2026-12-31T00:00       # optional
//             restrictions:               # optional: on call only inside these windows
//               - weekdays: [monday:friday]   # Alertmanager's syntax; default every day
//                 start_time: "09:00"         # default 00:00
//                 end_time: "17:00"           # default 24:00; <= start_time: the next day
//         overrides:
//           - person: carol               # REQUIRED, a person above
//             start: 2026-12-24T00:00     # REQUIRED
//             end: 2026-12-27T00:00       # REQUIRED, after start
//     escalation_policies:
//       - name: sre                       # REQUIRED, unique
//         repeat: 2                       # further passes over the steps, 0..9, default 0
//         steps:                          # REQUIRED, in order
//           - escalate_after: 10m         # default 30m, at least 1m
//             targets:                    # REQUIRED: each one of
//               - schedule: primary       #   whoever is on call in a schedule above
//               - person: carol           #   a person above
// Times are "2026-01-05T09:00" (wall clock in the layer's zone, or the schedule's for
// overrides) or RFC 3339 with Z or an offset.
//
// Thread-compatible; reports through the YamlReader it is given.
#ifndef NINES_APP_CONFIG_ONCALL_H_
#define NINES_APP_CONFIG_ONCALL_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerting/escalation.h"
#include "alerting/schedule.h"
#include "app/config.h"
#include "app/yaml_reader.h"

namespace nines::app {

class OncallSection {
 public:
  // Fills `*out`; `*reader` must outlive this.
  OncallSection(YamlReader* reader, OncallConfig* out) : r_(reader), out_(out) {}

  // Reads `node` (the value of `oncall` at `at`, path `path`).
  void Parse(const YAML::Node& node, const YAML::Mark& at, const std::string& path);

  // Once the whole file is read: checks that every contact method names a receiver of
  // `alerting` (the `alerting:` section may come after `oncall:`).
  void Finish(const AlertingConfig& alerting);

 private:
  struct ContactRef {
    std::string receiver;
    YAML::Mark at;
    std::string path;
  };

  void ParsePeople(const YAML::Node& node, const YAML::Mark& at, const std::string& path);
  void ParseSchedule(const YAML::Node& node, const YAML::Mark& at, const std::string& path);
  // A layer whose times without an offset are read in `zone` ("" when the schedule's zone is
  // bad: such times are then not read). Nullopt after reporting what is wrong.
  std::optional<alerting::RotationLayer> ParseLayer(const YAML::Node& node, const YAML::Mark& at,
                                                    const std::string& path,
                                                    const std::string& zone);
  std::optional<alerting::ScheduleOverride> ParseOverride(const YAML::Node& node,
                                                          const YAML::Mark& at,
                                                          const std::string& path,
                                                          const std::string& zone);
  std::optional<alerting::EscalationPolicy> ParsePolicy(const YAML::Node& node,
                                                        const YAML::Mark& at,
                                                        const std::string& path);
  std::optional<alerting::EscalationStep> ParseStep(const YAML::Node& node, const YAML::Mark& at,
                                                    const std::string& path);
  std::optional<alerting::EscalationTarget> ParseTarget(const YAML::Node& node,
                                                        const YAML::Mark& at,
                                                        const std::string& path);
  // Reports `name` unless it is a person of `people:`; returns whether it is.
  bool CheckPerson(const std::string& name, const YAML::Mark& at, const std::string& path);

  YamlReader* r_;
  OncallConfig* out_;
  std::map<std::string, YAML::Mark, std::less<>> people_;
  std::map<std::string, YAML::Mark, std::less<>> schedules_;
  std::map<std::string, YAML::Mark, std::less<>> policies_;
  std::vector<ContactRef> contacts_;
};

}  // namespace nines::app

#endif  // NINES_APP_CONFIG_ONCALL_H_

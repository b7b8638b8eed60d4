// nines.yaml's `oncall:` section (app/config_oncall.h): people, schedules, layers, restrictions
// and overrides read into built alerting::Schedules; every mistake at its file:line:col with a
// did-you-mean where one helps; `nines check` on the example (examples/oncall.yaml).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "app/check.h"
#include "app/config.h"

namespace nines::app {
namespace {

using core::Duration;
using core::Timestamp;

const std::string kExample = std::string(NINES_EXAMPLES_DIR) + "/oncall.yaml";

Timestamp T(std::string_view rfc3339) { return *core::ParseTimestamp(rfc3339); }

std::vector<std::string> Strings(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.ToString());
  return out;
}

TEST(OncallConfigTest, ExampleFollowsTheSunWithoutGaps) {
  Config cfg;
  std::vector<ConfigError> errors = LoadConfigFile(kExample, &cfg);
  ASSERT_TRUE(errors.empty()) << JoinErrors(errors);
  const OncallConfig& oc = cfg.oncall;
  ASSERT_EQ(oc.people.size(), 6u);
  EXPECT_EQ(oc.people[2].name, "nora");
  EXPECT_EQ(oc.people[2].time_zone, "Europe/Dublin");
  EXPECT_EQ(oc.people[2].contact_methods, (std::vector<std::string>{"nora-phone", "team-slack"}));
  ASSERT_EQ(oc.schedules.size(), 2u);
  const alerting::Schedule& sun = oc.schedules[0];
  EXPECT_EQ(sun.name(), "follow-the-sun");
  ASSERT_EQ(sun.spec().layers.size(), 3u);
  EXPECT_EQ(sun.spec().layers[1].time_zone, "Europe/Dublin");
  EXPECT_EQ(sun.spec().layers[1].handoff, T("2026-01-05T06:00:00Z"));
  EXPECT_EQ(sun.spec().layers[2].handoff, T("2026-01-05T15:00:00Z"));  // 10:00 EST
  ASSERT_EQ(sun.spec().overrides.size(), 1u);
  EXPECT_EQ(sun.spec().overrides[0].start, T("2026-12-24T06:00:00Z"));  // the schedule's zone: UTC
  // Who is on call through a day of the second week (each team's second person).
  struct Golden {
    std::string at, person;
  };
  for (const Golden& g : std::vector<Golden>{{"2026-01-12T05:59:59Z", "lea"},   // 16:59 Sydney
                                             {"2026-01-12T06:00:00Z", "owen"},  // 06:00 Dublin
                                             {"2026-01-12T15:00:00Z", "ben"},   // 10:00 New York
                                             {"2026-01-12T22:59:59Z", "ben"},
                                             {"2026-01-12T23:00:00Z", "lea"},      // 10:00 Sydney
                                             {"2026-12-24T12:00:00Z", "owen"}}) {  // override
    std::optional<alerting::OnCall> on = sun.OnCallAt(T(g.at));
    EXPECT_EQ(on ? on->person : "nobody", g.person) << g.at;
  }
  // A whole week in March, when New York has changed to EDT and Dublin and Sydney have not.
  auto shifts = sun.FinalShifts(T("2026-03-09T00:00:00Z"), T("2026-03-16T00:00:00Z"));
  ASSERT_TRUE(shifts.ok());
  ASSERT_FALSE(shifts->empty());
  for (size_t i = 0; i + 1 < shifts->size(); ++i) {
    EXPECT_EQ((*shifts)[i].end, (*shifts)[i + 1].start) << "a gap after " << (*shifts)[i].person;
  }
  // The secondary is restricted to weekday business hours: nobody on a Saturday.
  EXPECT_FALSE(oc.schedules[1].OnCallAt(T("2026-01-10T12:00:00Z")));
  EXPECT_TRUE(oc.schedules[1].OnCallAt(T("2026-01-09T12:00:00Z")));

  ASSERT_EQ(oc.escalation_policies.size(), 1u);
  const alerting::EscalationPolicy& sre = oc.escalation_policies[0];
  EXPECT_EQ(sre.name, "sre");
  EXPECT_EQ(sre.repeat, 2);
  ASSERT_EQ(sre.steps.size(), 3u);
  EXPECT_EQ(sre.steps[0].escalate_after, Duration::Minutes(5));
  EXPECT_EQ(sre.steps[0].targets,
            (std::vector<alerting::EscalationTarget>{
                {alerting::EscalationTarget::Kind::kSchedule, "follow-the-sun"}}));
  EXPECT_EQ(sre.steps[2].targets[1],
            (alerting::EscalationTarget{alerting::EscalationTarget::Kind::kPerson, "ana"}));

  std::ostringstream out, err;
  EXPECT_EQ(RunCheck({kExample}, out, err), 0) << err.str();
}

TEST(OncallConfigTest, EscalationPolicyMistakesAreReportedAtTheirPosition) {
  const std::string text = R"(oncall:
  people: [{name: alice}, {name: bob}]
  schedules:
    - name: primary
      layers: [{participants: [alice, bob], handoff: 2026-01-05T09:00}]
  escalation_policies:
    - name: sre
      repeat: 10
      steps:
        - escalate_after: 30s
          targets: [{schedule: primry}, {person: carol}, {person: bob, schedule: primary}]
        - targets: []
        - escalate_after: 5m
    - name: sre
      steps: [{targets: [{person: alice}]}]
    - steps: []
)";
  EXPECT_EQ(Strings(ParseConfig(text, "nines.yaml", nullptr)),
            (std::vector<std::string>{
                "nines.yaml:8:15: oncall.escalation_policies[0].repeat: 10 is out of range (must "
                "be between 0 and 9)",
                "nines.yaml:10:27: oncall.escalation_policies[0].steps[0].escalate_after: 30s is "
                "too short (must be at least 1m)",
                "nines.yaml:11:32: oncall.escalation_policies[0].steps[0].targets[0].schedule: "
                "unknown schedule \"primry\" (did you mean \"primary\"?)",
                "nines.yaml:11:50: oncall.escalation_policies[0].steps[0].targets[1].person: "
                "unknown person \"carol\" (want one of oncall.people: alice or bob)",
                "nines.yaml:11:58: oncall.escalation_policies[0].steps[0].targets[2]: want "
                "exactly one of schedule (whoever is on call there) or person",
                "nines.yaml:12:20: oncall.escalation_policies[0].steps[1].targets: a step needs "
                "at least one target",
                "nines.yaml:13:11: oncall.escalation_policies[0].steps[2]: missing required field "
                "\"targets\" (schedules or people to notify)",
                "nines.yaml:14:7: oncall.escalation_policies[1]: duplicate escalation policy name "
                "\"sre\" (first defined at line 7)",
                "nines.yaml:16:7: oncall.escalation_policies[2]: missing required field \"name\"",
                "nines.yaml:16:14: oncall.escalation_policies[2].steps: a policy needs at least "
                "one step",
            }));
}

TEST(OncallConfigTest, EveryMistakeIsReportedAtItsPosition) {
  const std::string text = R"(alerting:
  route: {receiver: team}
  receivers:
    - name: team
    - name: alice-phone
oncall:
  people:
    - {name: alice, time_zone: Europe/Berlin, contact_methods: [alice-phon, team]}
    - {name: bob, time_zone: Europe/Berlinn}
    - {name: alice}
    - {time_zone: UTC}
  schedules:
    - name: primary
      layers:
        - participants: [alice, bobb]
          shift_length: 30m
          handoff: 2026-01-05T09:00
          time_zone: America/New_York
        - participant: [alice]
          handoff: 2026-01-05
        - participants: [bob]
          shift_length: 1x
          restrictions:
            - {weekdays: [monday:fryday], start_time: "9:00", end_time: "17:00"}
          end: 2025-01-01T00:00:00Z
      overrides:
        - {person: carol, start: 2026-01-06T00:00, end: 2026-01-07T00:00}
        - {person: bob, start: 2026-01-06T00:00, end: 2026-01-05T00:00}
        - {person: bob, start: 2026-01-06T00:00, end: 9999-01-05T00:00}
    - name: primary
      time_zone: Mars/Olympus
      layers: []
  schedule: []
)";
  std::vector<ConfigError> errors = ParseConfig(text, "nines.yaml", nullptr);
  EXPECT_EQ(Strings(errors),
            (std::vector<std::string>{
                "nines.yaml:8:65: oncall.people[0].contact_methods[0]: unknown receiver "
                "\"alice-phon\" (did you mean \"alice-phone\"?)",
                "nines.yaml:9:30: oncall.people[1].time_zone: unknown time zone "
                "\"Europe/Berlinn\" (want an IANA name such as Europe/Dublin or "
                "America/New_York)",
                "nines.yaml:10:14: oncall.people[2]: duplicate person name \"alice\" (first "
                "defined at line 8)",
                "nines.yaml:11:7: oncall.people[3]: missing required field \"name\"",
                "nines.yaml:15:33: oncall.schedules[0].layers[0].participants[1]: unknown person "
                "\"bobb\" (did you mean \"bob\"?)",
                "nines.yaml:16:25: oncall.schedules[0].layers[0].shift_length: 30m is too short "
                "(must be at least 1h)",
                "nines.yaml:19:11: unknown field \"participant\" in oncall.schedules[0].layers[1] "
                "(did you mean \"participants\"?)",
                "nines.yaml:19:11: oncall.schedules[0].layers[1]: missing required field "
                "\"participants\" (people in rotation order)",
                "nines.yaml:20:20: oncall.schedules[0].layers[1].handoff: invalid time "
                "\"2026-01-05\" (want 2026-03-02T09:00 in the zone, or RFC 3339 with Z or an "
                "offset)",
                "nines.yaml:21:11: oncall.schedules[0].layers[2]: missing required field "
                "\"handoff\" (when the first shift starts, as 2026-01-05T09:00)",
                "nines.yaml:22:25: oncall.schedules[0].layers[2].shift_length: invalid duration "
                "\"1x\": unknown unit \"x\" (want y, w, d, h, m, s or ms)",
                "nines.yaml:24:27: oncall.schedules[0].layers[2].restrictions[0].weekdays[0]: "
                "\"fryday\" is not a valid weekday",
                "nines.yaml:24:55: oncall.schedules[0].layers[2].restrictions[0].start_time: "
                "invalid time \"9:00\" (want HH:MM, 00:00 to 24:00)",
                "nines.yaml:27:20: oncall.schedules[0].overrides[0].person: unknown person "
                "\"carol\" (want one of oncall.people: alice or bob)",
                "nines.yaml:28:55: oncall.schedules[0].overrides[1].end: the override ends "
                "before it starts",
                "nines.yaml:29:55: oncall.schedules[0].overrides[2].end: time \"9999-01-05T00:00\" "
                "is before 1900 or after 2200",
                "nines.yaml:30:13: oncall.schedules[1]: duplicate schedule name \"primary\" "
                "(first defined at line 13)",
                "nines.yaml:31:18: oncall.schedules[1].time_zone: unknown time zone "
                "\"Mars/Olympus\" (want an IANA name such as Europe/Dublin or America/New_York)",
                "nines.yaml:32:15: oncall.schedules[1].layers: a schedule needs at least one "
                "layer",
                "nines.yaml:33:3: unknown field \"schedule\" in oncall (did you mean "
                "\"schedules\"?)",
            }));
}

TEST(OncallConfigTest, ContactMethodsNeedAnAlertingSectionWithThatReceiver) {
  const std::string text = R"(oncall:
  people:
    - name: alice
      contact_methods: [alice-phone]
  schedules:
    - name: primary
      time_zone: Europe/Dublin
      layers:
        - participants: [alice]
          handoff: 2026-01-05T09:00
)";
  EXPECT_EQ(Strings(ParseConfig(text, "nines.yaml", nullptr)),
            (std::vector<std::string>{
                "nines.yaml:4:25: oncall.people[0].contact_methods[0]: unknown receiver "
                "\"alice-phone\" (alerting: defines no receivers; a contact method names one of "
                "them)"}));
  // Without contact methods the section needs no alerting; the layer takes the schedule's zone.
  std::string no_contacts = text;
  no_contacts.replace(no_contacts.find("      contact_methods: [alice-phone]\n"),
                      std::string("      contact_methods: [alice-phone]\n").size(), "");
  Config cfg;
  std::vector<ConfigError> errors = ParseConfig(no_contacts, "nines.yaml", &cfg);
  ASSERT_TRUE(errors.empty()) << JoinErrors(errors);
  ASSERT_EQ(cfg.oncall.schedules.size(), 1u);
  const alerting::RotationLayer& layer = cfg.oncall.schedules[0].spec().layers[0];
  EXPECT_EQ(layer.time_zone, "Europe/Dublin");
  EXPECT_EQ(layer.shift_length, Duration::Weeks(1));
  EXPECT_EQ(layer.handoff, T("2026-01-05T09:00:00Z"));  // GMT in January
  EXPECT_TRUE(layer.restrictions.empty());
  EXPECT_EQ(cfg.oncall.schedules[0].OnCallAt(T("2026-06-01T00:00:00Z"))->person, "alice");
}

TEST(OncallConfigTest, RestrictionsReadWeekdaysAndWindowsThatCrossMidnight) {
  const std::string text = R"(oncall:
  people: [{name: nick}]
  schedules:
    - name: nights
      layers:
        - participants: [nick]
          time_zone: Europe/Berlin
          handoff: 2026-01-05T00:00
          end: 2026-02-01T00:00
          restrictions:
            - {weekdays: ["monday:thursday", sunday], start_time: "22:00", end_time: "06:00"}
            - {weekdays: [friday], start_time: "18:00", end_time: "00:00"}
)";
  Config cfg;
  std::vector<ConfigError> errors = ParseConfig(text, "nines.yaml", &cfg);
  ASSERT_TRUE(errors.empty()) << JoinErrors(errors);
  const alerting::RotationLayer& layer = cfg.oncall.schedules[0].spec().layers[0];
  ASSERT_EQ(layer.restrictions.size(), 2u);
  EXPECT_EQ(layer.restrictions[0].weekdays, 0b0011111);  // Sunday to Thursday
  EXPECT_EQ(layer.restrictions[0].start_minute, 22 * 60);
  EXPECT_EQ(layer.restrictions[0].end_minute, 6 * 60);
  EXPECT_EQ(layer.restrictions[1].end_minute, 24 * 60);  // midnight ends the day
  EXPECT_EQ(layer.end, T("2026-01-31T23:00:00Z"));
  const alerting::Schedule& s = cfg.oncall.schedules[0];
  EXPECT_TRUE(s.OnCallAt(T("2026-01-06T04:59:00Z")));   // Tuesday 05:59, Monday's night
  EXPECT_FALSE(s.OnCallAt(T("2026-01-06T05:00:00Z")));  // 06:00
  EXPECT_TRUE(s.OnCallAt(T("2026-01-09T22:30:00Z")));   // Friday 23:30
  EXPECT_FALSE(s.OnCallAt(T("2026-01-10T22:30:00Z")));  // Saturday
}

}  // namespace
}  // namespace nines::app

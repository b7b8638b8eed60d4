// alerting/escalation.h: escalation policies as pure logic (issue 15: a tested library, not yet
// used by the engine; the incidents step will hold one Escalation per open incident and persist
// its state).
//
// A policy is a list of steps, each naming who to notify (the person on call in a schedule, or a
// person directly) and how long to wait for an acknowledgement before the next step. After the
// last step the policy starts again from the first, `repeat` more times; then it is exhausted.
//
//   Escalation e = Escalation::Start(policy, now);      // notifies step 1 at `now`
//   notices = e.Advance(later, schedules);                // every step whose time has come
//   e.Acknowledge("alice", t);                            // no more notices
//   e.Unacknowledge(t);                                   // re-arms: the current step again
//   e.Resolve(t);                                         // closed
//
// Times are arguments: nothing reads a clock, so a FakeClock drives it in tests and a restart
// resumes from a copy of state() (plain values) at the right step and time. When the clock
// jumps past several deadlines at once (a restart after a long stop), Advance returns every step
// that came due, each with its due time, in order.
//
// Thread-compatible values.
#ifndef NINES_ALERTING_ESCALATION_H_
#define NINES_ALERTING_ESCALATION_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/schedule.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::alerting {

struct EscalationTarget {
  enum class Kind { kSchedule, kPerson };
  Kind kind = Kind::kSchedule;
  std::string name;  // the schedule's or the person's
  friend bool operator==(const EscalationTarget&, const EscalationTarget&) = default;
};

struct EscalationStep {
  std::vector<EscalationTarget> targets;  // REQUIRED: notified together
  // How long the step waits for an acknowledgement before the next one (>= 1m).
  core::Duration escalate_after = core::Duration::Minutes(30);
};

struct EscalationPolicy {
  std::string name;                   // REQUIRED
  std::vector<EscalationStep> steps;  // REQUIRED, at least one
  int repeat = 0;                     // further passes over the steps, 0..9
};

// Checks `policy`: a name, at least one step, each with targets of non-empty names and
// escalate_after >= 1m, repeat in 0..9. Errors: INVALID_ARGUMENT naming the step.
core::Status ValidateEscalationPolicy(const EscalationPolicy& policy);

// One notification an escalation asks for.
struct EscalationNotice {
  core::Timestamp due;  // when the step came due
  int step = 0;         // 0-based
  int pass = 0;         // 0 for the first pass over the steps
  EscalationTarget target;
  // Who to notify: the target person, or whoever is on call in the target schedule at `due`;
  // "" when that schedule has nobody then (or is unknown): the caller logs it, nobody is paged.
  std::string person;
  friend bool operator==(const EscalationNotice&, const EscalationNotice&) = default;
};

// Finds a schedule by name; returns null when there is none.
using ScheduleLookup = std::function<const Schedule*(std::string_view name)>;

class Escalation {
 public:
  enum class Status { kTriggered, kAcknowledged, kResolved, kExhausted };

  // Everything a restart needs to resume (plain values; persisted by the caller).
  struct State {
    Status status = Status::kTriggered;
    int step = 0;  // the step notified last
    int pass = 0;
    core::Timestamp step_due;     // when that step came due
    bool step_notified = false;   // whether Advance has returned its notices yet
    std::string acknowledged_by;  // while kAcknowledged
    core::Timestamp changed_at;   // the last acknowledge, unacknowledge or resolve
  };

  // An escalation of `policy` triggered at `now`: step 1 is due at `now` (Advance returns it).
  // REQUIRES: ValidateEscalationPolicy(policy).ok().
  static Escalation Start(EscalationPolicy policy, core::Timestamp now);
  // Resumes from a saved state (after a restart). REQUIRES: `state` came from state() of an
  // escalation of this policy (a step beyond the policy's steps is clamped to its last).
  static Escalation Resume(EscalationPolicy policy, State state);

  // The notices due by `now` that were not returned before, in order: the current step if not
  // yet notified, then each later step (and pass) whose time has come while nobody acknowledged.
  // Nothing once acknowledged, resolved or exhausted. Schedules are looked up at each notice's
  // due time.
  std::vector<EscalationNotice> Advance(core::Timestamp now, const ScheduleLookup& schedules);

  // When Advance next has something to return, or nullopt (acknowledged, resolved, exhausted).
  std::optional<core::Timestamp> NextDeadline() const;

  // Stops the escalation until unacknowledged or resolved. Errors: FAILED_PRECONDITION when it
  // is resolved; acknowledging twice keeps the first acknowledger.
  core::Status Acknowledge(std::string_view person, core::Timestamp at);
  // Re-arms an acknowledged escalation: the current step is due again at `at`. Errors:
  // FAILED_PRECONDITION unless acknowledged.
  core::Status Unacknowledge(core::Timestamp at);
  // Closes it for good (from any status but resolved; resolving twice is OK).
  void Resolve(core::Timestamp at);

  const State& state() const { return state_; }
  const EscalationPolicy& policy() const { return policy_; }

 private:
  Escalation(EscalationPolicy policy, State state)
      : policy_(std::move(policy)), state_(std::move(state)) {}
  std::vector<EscalationNotice> Notices(const ScheduleLookup& schedules) const;

  EscalationPolicy policy_;
  State state_;
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_ESCALATION_H_

// Escalation policies (escalation.h).
#include "alerting/escalation.h"

#include <algorithm>

namespace nines::alerting {

core::Status ValidateEscalationPolicy(const EscalationPolicy& policy) {
  if (policy.name.empty()) return core::InvalidArgumentError("an escalation policy needs a name");
  const std::string where = "escalation policy \"" + policy.name + "\"";
  if (policy.steps.empty()) return core::InvalidArgumentError("{}: no steps", where);
  if (policy.repeat < 0 || policy.repeat > 9) {
    return core::InvalidArgumentError("{}: repeat {} is out of range (0..9)", where, policy.repeat);
  }
  for (size_t i = 0; i < policy.steps.size(); ++i) {
    const EscalationStep& step = policy.steps[i];
    if (step.targets.empty()) {
      return core::InvalidArgumentError("{}: step {}: no targets", where, i + 1);
    }
    for (const EscalationTarget& t : step.targets) {
      if (t.name.empty()) {
        return core::InvalidArgumentError("{}: step {}: a target without a name", where, i + 1);
      }
    }
    if (step.escalate_after < core::Duration::Minutes(1)) {
      return core::InvalidArgumentError("{}: step {}: escalate_after {} is shorter than 1m", where,
                                        i + 1, step.escalate_after.ToString());
    }
  }
  return core::Status::Ok();
}

Escalation Escalation::Start(EscalationPolicy policy, core::Timestamp now) {
  State state;
  state.step_due = now;
  state.changed_at = now;
  return Escalation(std::move(policy), std::move(state));
}

Escalation Escalation::Resume(EscalationPolicy policy, State state) {
  const int last = static_cast<int>(policy.steps.size()) - 1;
  state.step = std::clamp(state.step, 0, std::max(last, 0));
  state.pass = std::clamp(state.pass, 0, policy.repeat);
  return Escalation(std::move(policy), std::move(state));
}

std::vector<EscalationNotice> Escalation::Notices(const ScheduleLookup& schedules) const {
  std::vector<EscalationNotice> out;
  const EscalationStep& step = policy_.steps[static_cast<size_t>(state_.step)];
  for (const EscalationTarget& target : step.targets) {
    EscalationNotice n{state_.step_due, state_.step, state_.pass, target, ""};
    if (target.kind == EscalationTarget::Kind::kPerson) {
      n.person = target.name;
    } else if (const Schedule* s = schedules ? schedules(target.name) : nullptr) {
      if (std::optional<OnCall> on = s->OnCallAt(state_.step_due)) n.person = on->person;
    }
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<EscalationNotice> Escalation::Advance(core::Timestamp now,
                                                  const ScheduleLookup& schedules) {
  std::vector<EscalationNotice> out;
  const auto steps = static_cast<int>(policy_.steps.size());
  // Each turn notifies one step or moves to the next: bounded by the steps of every pass.
  for (int turn = 0; turn <= 2 * steps * (policy_.repeat + 1) + 1; ++turn) {
    if (state_.status != Status::kTriggered) break;
    if (!state_.step_notified) {
      if (state_.step_due > now) break;
      std::vector<EscalationNotice> notices = Notices(schedules);
      out.insert(out.end(), notices.begin(), notices.end());
      state_.step_notified = true;
    }
    const core::Timestamp next_due =
        state_.step_due + policy_.steps[static_cast<size_t>(state_.step)].escalate_after;
    if (next_due > now) break;
    if (state_.step + 1 < steps) {
      ++state_.step;
    } else if (state_.pass < policy_.repeat) {
      state_.step = 0;
      ++state_.pass;
    } else {
      state_.status = Status::kExhausted;
      state_.changed_at = next_due;
      break;
    }
    state_.step_due = next_due;
    state_.step_notified = false;
  }
  return out;
}

std::optional<core::Timestamp> Escalation::NextDeadline() const {
  if (state_.status != Status::kTriggered) return std::nullopt;
  if (!state_.step_notified) return state_.step_due;
  return state_.step_due + policy_.steps[static_cast<size_t>(state_.step)].escalate_after;
}

core::Status Escalation::Acknowledge(std::string_view person, core::Timestamp at) {
  if (state_.status == Status::kResolved) {
    return core::FailedPreconditionError("the escalation is resolved");
  }
  if (state_.status == Status::kAcknowledged) return core::Status::Ok();
  state_.status = Status::kAcknowledged;
  state_.acknowledged_by = std::string(person);
  state_.changed_at = at;
  return core::Status::Ok();
}

core::Status Escalation::Unacknowledge(core::Timestamp at) {
  if (state_.status != Status::kAcknowledged) {
    return core::FailedPreconditionError("the escalation is not acknowledged");
  }
  state_.status = Status::kTriggered;
  state_.acknowledged_by.clear();
  state_.step_due = at;
  state_.step_notified = false;
  state_.changed_at = at;
  return core::Status::Ok();
}

void Escalation::Resolve(core::Timestamp at) {
  if (state_.status == Status::kResolved) return;
  state_.status = Status::kResolved;
  state_.changed_at = at;
}

}  // namespace nines::alerting

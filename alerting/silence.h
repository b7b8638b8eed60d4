// alerting/silence.h: silences as Alertmanager has them, in memory.
//
//  - Silence: matchers, a time range, who created it and why. Alertmanager has two states at a
//    time, and so has nines: for muting, updating and expiring (silence.go's getState) it is
//    pending before starts_at, active for starts_at <= t <= ends_at (both included), expired
//    after ends_at; the API shows (silence.CurrentState) active only while t < ends_at. So at
//    t == ends_at, e.g. at the instant of Expire, a silence still mutes and shows "expired".
//  - SilenceStore: the silences of one nines process: Add (create, or update in place where
//    Alertmanager would), Expire, Get, List, and Mutes(labels, now) for the dispatcher.
//
// Persistence (a restart keeps silences) is not here: the service saves List() to a file
// (alerting/state_files.h) after each change (version() moves) and Restores it on start.
// Nothing here reads a clock: every time-dependent call takes `now`.
// Thread-safety: Silence is a value (thread-compatible). SilenceStore is thread-safe: the API
// adds and expires silences while the dispatcher asks Mutes from its own thread.
#ifndef NINES_ALERTING_SILENCE_H_
#define NINES_ALERTING_SILENCE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/routing.h"
#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::alerting {

enum class SilenceState { kPending, kActive, kExpired };
// "pending", "active", "expired" (Alertmanager API v2's words).
std::string_view SilenceStateName(SilenceState s);

struct Silence {
  std::string id;  // assigned by SilenceStore::Add
  Matchers matchers;
  core::Timestamp starts_at;
  core::Timestamp ends_at;
  core::Timestamp updated_at;  // set by the store
  std::string created_by;
  std::string comment;

  // The state the API shows at `now` (Alertmanager's silence.CurrentState): expired from
  // ends_at on.
  SilenceState State(core::Timestamp now) const;
  // The state muting, updating and expiring go by (Alertmanager's getState): active until
  // ends_at included.
  SilenceState MutingState(core::Timestamp now) const;
  // Whether MutingState(now) is active and all its matchers match `labels`.
  bool Mutes(const core::Labels& labels, core::Timestamp now) const;
};

class SilenceStore {
 public:
  // `new_id` makes the id of a new silence; by default a random UUID (version 4) as
  // Alertmanager's. Tests inject a deterministic one.
  explicit SilenceStore(std::function<std::string()> new_id = nullptr);
  SilenceStore(const SilenceStore&) = delete;
  SilenceStore& operator=(const SilenceStore&) = delete;

  // Creates or updates a silence, as Alertmanager's Set does, and returns its id:
  //  - an empty id creates a new silence; a starts_at before `now` becomes `now`;
  //  - an id of a silence that is not expired, with the same matchers, is updated in place
  //    when the change keeps its state honest (an active one keeps its start and does not end
  //    in the past; a pending one does not start in the past);
  //  - any other change to an existing id creates a new silence (new id) and expires the old.
  // Errors: INVALID_ARGUMENT (no matchers, all matchers match the empty string, ends_at before
  // starts_at, a zero starts_at or ends_at when not defaulted); NOT_FOUND for an unknown id.
  core::Result<std::string> Add(Silence silence, core::Timestamp now);

  // Expires the silence `id` at `now`: an active one ends now, a pending one starts and ends
  // now; an expired one is left alone (no error). Errors: NOT_FOUND.
  core::Status Expire(std::string_view id, core::Timestamp now);

  std::optional<Silence> Get(std::string_view id) const;
  // All silences, expired ones included, by id.
  std::vector<Silence> List() const;

  // Replaces every silence with `silences` (what List() returned before a restart); ids are
  // kept.
  void Restore(std::vector<Silence> silences);
  // Drops the silences expired for `retention` or longer at `now` (Alertmanager's garbage
  // collection; 120h by default there) and returns how many.
  size_t Collect(core::Timestamp now, core::Duration retention);
  // Moves on every change (Add, Expire, Restore, a Collect that dropped something).
  uint64_t version() const;

  // Whether an active silence mutes `labels` at `now`.
  bool Mutes(const core::Labels& labels, core::Timestamp now) const;
  // The ids of the active silences that mute `labels` at `now`, sorted.
  std::vector<std::string> MutedBy(const core::Labels& labels, core::Timestamp now) const;

 private:
  void ExpireLocked(Silence* s, core::Timestamp now);

  std::function<std::string()> new_id_;
  mutable std::mutex mu_;
  std::map<std::string, Silence, std::less<>> silences_;  // guarded by mu_, by id
  uint64_t version_ = 0;                                  // guarded by mu_
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_SILENCE_H_

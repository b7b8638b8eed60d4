// alerting/incident.h: incidents, their timelines and MTTA/MTTR (issue 15: a tested library, not
// yet used by the engine, the API or the status page).
//
// A page opens an incident, or joins the open one of the same SLO and region. An incident is its
// header (id, SLO, region, service, title) plus a timeline of events (triggered, notified,
// acknowledged, unacknowledged, escalated, note, status update, commander, severity, resolved);
// its status, acknowledgement and resolution times, commander and severity are derived from the
// timeline, so what is stored is what happened.
//
// IncidentStore keeps them in memory and, when given a path, in a snapshot file rewritten
// atomically (core/state_file.h) before each change returns: an incident or an acknowledgement
// that was acknowledged to the caller survives kill -9. Every change rewrites the whole file,
// which suits the hundreds of incidents of a year, not millions.
//
// Thread-safety: IncidentStore is thread-safe (one mutex); Incident and the functions are values
// and pure. Times are arguments: nothing reads a clock.
#ifndef NINES_ALERTING_INCIDENT_H_
#define NINES_ALERTING_INCIDENT_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace nines::alerting {

enum class IncidentStatus { kTriggered, kAcknowledged, kResolved };
std::string_view IncidentStatusName(IncidentStatus status);  // "triggered", ...

struct IncidentEvent {
  enum class Kind {
    kTriggered,       // a page opened or joined it; detail: the alert's summary
    kNotified,        // actor notified through detail (a receiver's name)
    kAcknowledged,    // by actor
    kUnacknowledged,  // by actor
    kEscalated,       // detail: "step 2 of sre" or similar
    kNote,            // actor wrote detail
    kStatusUpdate,    // public: state (investigating, identified, monitoring, resolved), detail
    kCommander,       // actor made detail the incident commander
    kSeverity,        // actor set the severity to detail
    kResolved,        // by actor ("" for the outage ending)
  };
  core::Timestamp at;
  Kind kind = Kind::kNote;
  std::string actor;
  std::string detail;
  std::string state;  // kStatusUpdate only
  friend bool operator==(const IncidentEvent&, const IncidentEvent&) = default;
};
std::string_view IncidentEventKindName(IncidentEvent::Kind kind);  // "triggered", ...

// The public states of a status update, as status pages (Statuspage) name them.
bool IsValidStatusUpdateState(std::string_view state);

struct Incident {
  std::string id;  // "INC-1", "INC-2", ... in opening order
  std::string slo;
  std::string region;
  std::string service;  // "" when the page had none
  std::string title;
  // The fraction of the SLO's error budget the incident consumed (set by the caller, 0..).
  double budget_consumed = 0;
  std::vector<IncidentEvent> timeline;  // in time order; the first is kTriggered

  core::Timestamp opened_at() const;  // the first event's time
  IncidentStatus status() const;
  // The first acknowledgement (MTTA counts to it; a later unacknowledge does not undo it).
  std::optional<core::Timestamp> acknowledged_at() const;
  std::optional<core::Timestamp> resolved_at() const;
  std::string commander() const;  // the last one set, "" for none
  std::string severity() const;   // the last one set, "" for none
  std::vector<IncidentEvent> status_updates() const;
  friend bool operator==(const Incident&, const Incident&) = default;
};

// What a page carries into Trigger.
struct IncidentPage {
  std::string slo;     // REQUIRED
  std::string region;  // REQUIRED
  std::string service;
  std::string title;     // the incident's title when it opens one
  std::string severity;  // recorded as a kSeverity event when it opens one ("" for none)
};

class IncidentStore {
 public:
  // A store in memory only (`path` empty) or in the snapshot file `path` (read now when it
  // exists). `sync`: fsync each write (survives power loss; kill -9 is survived either way).
  // Errors: UNAVAILABLE when the file cannot be read; DATA_LOSS when it is corrupt (left as it is
  // for inspection).
  static core::Result<std::unique_ptr<IncidentStore>> Open(std::string path, bool sync);

  struct Triggered {
    std::string id;
    bool opened = false;  // false: joined an open incident
  };
  // Opens an incident for `page`, or adds a kTriggered event to the open (not resolved) incident
  // of the same SLO and region. Errors: INVALID_ARGUMENT without slo or region; UNAVAILABLE when
  // it cannot be stored (nothing changes then).
  core::Result<Triggered> Trigger(const IncidentPage& page, core::Timestamp now);

  // Appends an event to incident `id`. Errors: NOT_FOUND for an unknown id; FAILED_PRECONDITION
  // for any event on a resolved incident, an acknowledgement of an acknowledged one or an
  // unacknowledgement of one that is not; INVALID_ARGUMENT for a status update whose state is
  // not valid or an event of kind kTriggered (use Trigger); UNAVAILABLE when it cannot be stored.
  core::Status Record(std::string_view id, IncidentEvent event);

  // Sets the budget an incident consumed. Errors: NOT_FOUND, INVALID_ARGUMENT (negative),
  // UNAVAILABLE.
  core::Status SetBudgetConsumed(std::string_view id, double fraction);

  std::optional<Incident> Get(std::string_view id) const;
  std::vector<Incident> List() const;  // in opening order

 private:
  IncidentStore(std::string path, bool sync) : path_(std::move(path)), sync_(sync) {}
  core::Status Load();
  // Writes the incidents with `changed` in place of its stored version (appended when new);
  // updates memory only when the write succeeded.
  core::Status Commit(Incident changed);
  Incident* Find(std::string_view id);

  const std::string path_;
  const bool sync_;
  mutable std::mutex mu_;
  std::vector<Incident> incidents_;  // guarded by mu_
  int64_t next_number_ = 1;          // guarded by mu_
};

// MTTA and MTTR of one service, region and week.
struct ResponseStats {
  std::string service;
  std::string region;
  core::Timestamp week;  // Monday 00:00 UTC of the week the incidents opened in
  int incidents = 0;
  int acknowledged = 0;
  int resolved = 0;
  core::Duration mtta;  // mean time from opening to first acknowledgement (acknowledged ones)
  core::Duration mttr;  // mean time from opening to resolution (resolved ones)
  friend bool operator==(const ResponseStats&, const ResponseStats&) = default;
};

// The stats of `incidents` per service, region and week, sorted by week, service, region.
std::vector<ResponseStats> ComputeResponseStats(const std::vector<Incident>& incidents);

}  // namespace nines::alerting

#endif  // NINES_ALERTING_INCIDENT_H_

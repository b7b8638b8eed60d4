// Incidents, their durable store and MTTA/MTTR (incident.h).
#include "alerting/incident.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <tuple>

#include "core/state_file.h"

namespace nines::alerting {

namespace {

using Kind = IncidentEvent::Kind;

constexpr char kMagic[] = "nines-incidents";
constexpr int kVersion = 1;

constexpr std::array<std::pair<Kind, std::string_view>, 10> kKindNames = {{
    {Kind::kTriggered, "triggered"},
    {Kind::kNotified, "notified"},
    {Kind::kAcknowledged, "acknowledged"},
    {Kind::kUnacknowledged, "unacknowledged"},
    {Kind::kEscalated, "escalated"},
    {Kind::kNote, "note"},
    {Kind::kStatusUpdate, "status_update"},
    {Kind::kCommander, "commander"},
    {Kind::kSeverity, "severity"},
    {Kind::kResolved, "resolved"},
}};

std::optional<Kind> KindFromName(std::string_view name) {
  for (const auto& [kind, n] : kKindNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::string LastDetail(const Incident& incident, Kind kind) {
  for (auto it = incident.timeline.rbegin(); it != incident.timeline.rend(); ++it) {
    if (it->kind == kind) return it->detail;
  }
  return "";
}

void AppendIncident(const Incident& incident, std::vector<std::string>* records) {
  std::string r = "incident";
  for (std::string_view f : {std::string_view(incident.id), std::string_view(incident.slo),
                             std::string_view(incident.region), std::string_view(incident.service),
                             std::string_view(incident.title)}) {
    core::AppendTabField(&r, f);
  }
  core::AppendTabField(&r, fmt::format("{}", incident.budget_consumed));
  records->push_back(std::move(r));
  for (const IncidentEvent& e : incident.timeline) {
    std::string line = "event";
    core::AppendTabField(&line, incident.id);
    core::AppendTabField(&line, std::to_string(e.at.UnixNanos()));
    core::AppendTabField(&line, IncidentEventKindName(e.kind));
    core::AppendTabField(&line, e.actor);
    core::AppendTabField(&line, e.detail);
    core::AppendTabField(&line, e.state);
    records->push_back(std::move(line));
  }
}

// The unescaped fields of a record line; nullopt on a bad escape.
std::optional<std::vector<std::string>> Fields(std::string_view line) {
  std::vector<std::string> out;
  for (std::string_view f : core::SplitFields(line)) {
    std::string s;
    if (!core::UnescapeField(f, &s)) return std::nullopt;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::string_view IncidentStatusName(IncidentStatus status) {
  switch (status) {
    case IncidentStatus::kTriggered:
      return "triggered";
    case IncidentStatus::kAcknowledged:
      return "acknowledged";
    case IncidentStatus::kResolved:
      return "resolved";
  }
  return "triggered";
}

std::string_view IncidentEventKindName(Kind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "note";
}

bool IsValidStatusUpdateState(std::string_view state) {
  return state == "investigating" || state == "identified" || state == "monitoring" ||
         state == "resolved";
}

core::Timestamp Incident::opened_at() const {
  return timeline.empty() ? core::Timestamp() : timeline.front().at;
}

IncidentStatus Incident::status() const {
  IncidentStatus status = IncidentStatus::kTriggered;
  for (const IncidentEvent& e : timeline) {
    if (e.kind == Kind::kAcknowledged) status = IncidentStatus::kAcknowledged;
    if (e.kind == Kind::kUnacknowledged) status = IncidentStatus::kTriggered;
    if (e.kind == Kind::kResolved) status = IncidentStatus::kResolved;
  }
  return status;
}

std::optional<core::Timestamp> Incident::acknowledged_at() const {
  for (const IncidentEvent& e : timeline) {
    if (e.kind == Kind::kAcknowledged) return e.at;
  }
  return std::nullopt;
}

std::optional<core::Timestamp> Incident::resolved_at() const {
  for (const IncidentEvent& e : timeline) {
    if (e.kind == Kind::kResolved) return e.at;
  }
  return std::nullopt;
}

std::string Incident::commander() const { return LastDetail(*this, Kind::kCommander); }
std::string Incident::severity() const { return LastDetail(*this, Kind::kSeverity); }

std::vector<IncidentEvent> Incident::status_updates() const {
  std::vector<IncidentEvent> out;
  for (const IncidentEvent& e : timeline) {
    if (e.kind == Kind::kStatusUpdate) out.push_back(e);
  }
  return out;
}

core::Result<std::unique_ptr<IncidentStore>> IncidentStore::Open(std::string path, bool sync) {
  std::unique_ptr<IncidentStore> store(new IncidentStore(std::move(path), sync));
  if (!store->path_.empty()) RETURN_IF_ERROR(store->Load());
  return store;
}

core::Status IncidentStore::Load() {
  ASSIGN_OR_RETURN(std::optional<std::string> data, core::ReadFile(path_));
  if (!data) return core::Status::Ok();
  ASSIGN_OR_RETURN(core::SnapshotRecords snapshot,
                   core::DecodeSnapshot(*data, kMagic, kVersion, path_));
  for (size_t i = 0; i < snapshot.records.size(); ++i) {
    auto bad = [&](std::string_view why) {
      return core::DataLossError("{}:{}: {}", path_, i + 2, why);
    };
    std::optional<std::vector<std::string>> f = Fields(snapshot.records[i]);
    if (!f || f->empty()) return bad("a bad escape");
    if ((*f)[0] == "incident" && f->size() == 7) {
      Incident incident{(*f)[1], (*f)[2], (*f)[3], (*f)[4], (*f)[5], 0, {}};
      auto [end, ec] = std::from_chars((*f)[6].data(), (*f)[6].data() + (*f)[6].size(),
                                       incident.budget_consumed);
      if (ec != std::errc()) return bad("a bad budget");
      int64_t number = 0;
      if (incident.id.rfind("INC-", 0) == 0 && core::ParseInt64(incident.id.substr(4), &number)) {
        next_number_ = std::max(next_number_, number + 1);
      }
      incidents_.push_back(std::move(incident));
    } else if ((*f)[0] == "event" && f->size() == 7) {
      int64_t at = 0;
      std::optional<Kind> kind = KindFromName((*f)[3]);
      if (incidents_.empty() || incidents_.back().id != (*f)[1] || !kind ||
          !core::ParseInt64((*f)[2], &at)) {
        return bad("an event out of place or malformed");
      }
      incidents_.back().timeline.push_back(
          IncidentEvent{core::Timestamp::FromUnixNanos(at), *kind, (*f)[4], (*f)[5], (*f)[6]});
    } else {
      return bad("an unknown record");
    }
  }
  return core::Status::Ok();
}

Incident* IncidentStore::Find(std::string_view id) {
  for (Incident& i : incidents_) {
    if (i.id == id) return &i;
  }
  return nullptr;
}

core::Status IncidentStore::Commit(Incident changed) {
  Incident* existing = Find(changed.id);
  if (!path_.empty()) {
    std::vector<std::string> records;
    for (const Incident& i : incidents_) AppendIncident(i.id == changed.id ? changed : i, &records);
    if (existing == nullptr) AppendIncident(changed, &records);
    RETURN_IF_ERROR(
        core::WriteFileAtomic(path_, core::EncodeSnapshot(kMagic, kVersion, records), sync_));
  }
  if (existing != nullptr) {
    *existing = std::move(changed);
  } else {
    incidents_.push_back(std::move(changed));
  }
  return core::Status::Ok();
}

core::Result<IncidentStore::Triggered> IncidentStore::Trigger(const IncidentPage& page,
                                                              core::Timestamp now) {
  if (page.slo.empty() || page.region.empty()) {
    return core::InvalidArgumentError("a page needs an slo and a region to open an incident");
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const Incident& i : incidents_) {
    if (i.slo == page.slo && i.region == page.region && i.status() != IncidentStatus::kResolved) {
      Incident joined = i;
      joined.timeline.push_back({now, Kind::kTriggered, "", page.title, ""});
      RETURN_IF_ERROR(Commit(std::move(joined)));
      return Triggered{i.id, false};
    }
  }
  Incident incident{
      fmt::format("INC-{}", next_number_), page.slo, page.region, page.service, page.title, 0, {}};
  incident.timeline.push_back({now, Kind::kTriggered, "", page.title, ""});
  if (!page.severity.empty()) {
    incident.timeline.push_back({now, Kind::kSeverity, "", page.severity, ""});
  }
  const std::string id = incident.id;
  RETURN_IF_ERROR(Commit(std::move(incident)));
  ++next_number_;
  return Triggered{id, true};
}

core::Status IncidentStore::Record(std::string_view id, IncidentEvent event) {
  if (event.kind == Kind::kTriggered) {
    return core::InvalidArgumentError("a trigger is recorded by Trigger");
  }
  if (event.kind == Kind::kStatusUpdate && !IsValidStatusUpdateState(event.state)) {
    return core::InvalidArgumentError(
        "invalid status update state \"{}\" (want investigating, identified, monitoring or "
        "resolved)",
        event.state);
  }
  std::lock_guard<std::mutex> lock(mu_);
  Incident* incident = Find(id);
  if (incident == nullptr) return core::NotFoundError("no incident {}", id);
  const IncidentStatus status = incident->status();
  if (status == IncidentStatus::kResolved) {
    return core::FailedPreconditionError("incident {} is resolved", id);
  }
  if (event.kind == Kind::kAcknowledged && status == IncidentStatus::kAcknowledged) {
    return core::FailedPreconditionError("incident {} is already acknowledged", id);
  }
  if (event.kind == Kind::kUnacknowledged && status != IncidentStatus::kAcknowledged) {
    return core::FailedPreconditionError("incident {} is not acknowledged", id);
  }
  Incident changed = *incident;
  changed.timeline.push_back(std::move(event));
  return Commit(std::move(changed));
}

core::Status IncidentStore::SetBudgetConsumed(std::string_view id, double fraction) {
  if (!(fraction >= 0)) return core::InvalidArgumentError("budget consumed must be >= 0");
  std::lock_guard<std::mutex> lock(mu_);
  Incident* incident = Find(id);
  if (incident == nullptr) return core::NotFoundError("no incident {}", id);
  Incident changed = *incident;
  changed.budget_consumed = fraction;
  return Commit(std::move(changed));
}

std::optional<Incident> IncidentStore::Get(std::string_view id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Incident& i : incidents_) {
    if (i.id == id) return i;
  }
  return std::nullopt;
}

std::vector<Incident> IncidentStore::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return incidents_;
}

std::vector<ResponseStats> ComputeResponseStats(const std::vector<Incident>& incidents) {
  struct Sums {
    ResponseStats stats;
    core::Duration tta, ttr;
  };
  std::map<std::tuple<int64_t, std::string, std::string>, Sums> groups;
  for (const Incident& i : incidents) {
    // Monday 00:00 UTC: the epoch was a Thursday, so weeks start 3 days before it, floored.
    const core::Timestamp monday0 = core::Timestamp() - core::Duration::Days(3);
    const int64_t since = (i.opened_at() - monday0).nanos();
    const int64_t week = core::Duration::Weeks(1).nanos();
    int64_t k = since / week;
    if (since % week != 0 && since < 0) --k;
    const int64_t week_ns = (monday0 + core::Duration::Weeks(k)).UnixNanos();
    Sums& s = groups[{week_ns, i.service, i.region}];
    s.stats.service = i.service;
    s.stats.region = i.region;
    s.stats.week = core::Timestamp::FromUnixNanos(week_ns);
    ++s.stats.incidents;
    if (std::optional<core::Timestamp> ack = i.acknowledged_at()) {
      ++s.stats.acknowledged;
      s.tta += *ack - i.opened_at();
    }
    if (std::optional<core::Timestamp> resolved = i.resolved_at()) {
      ++s.stats.resolved;
      s.ttr += *resolved - i.opened_at();
    }
  }
  std::vector<ResponseStats> out;
  for (auto& [key, s] : groups) {
    if (s.stats.acknowledged > 0) s.stats.mtta = s.tta / s.stats.acknowledged;
    if (s.stats.resolved > 0) s.stats.mttr = s.ttr / s.stats.resolved;
    out.push_back(s.stats);
  }
  return out;
}

}  // namespace nines::alerting

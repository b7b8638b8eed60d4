#include "alerting/dispatcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <tuple>
#include <utility>

#include "core/log.h"

namespace nines::alerting {
namespace {

// Appends `value` quoted as Go's strconv.Quote does for the values nines sees: the named
// escapes, \xNN for other ASCII control bytes and for bytes that are not UTF-8, and \u00NN for
// the C1 controls. Other non-ASCII characters are kept as they are (Go escapes the few that
// unicode.IsPrint rejects beyond C1, such as U+00AD; label values rarely hold them).
void AppendGoQuoted(std::string* out, std::string_view value) {
  out->push_back('"');
  size_t i = 0;
  while (i < value.size()) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': *out += "\\\""; break;
        case '\\': *out += "\\\\"; break;
        case '\a': *out += "\\a"; break;
        case '\b': *out += "\\b"; break;
        case '\f': *out += "\\f"; break;
        case '\n': *out += "\\n"; break;
        case '\r': *out += "\\r"; break;
        case '\t': *out += "\\t"; break;
        case '\v': *out += "\\v"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            *out += fmt::format("\\x{:02x}", c);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // The length and the smallest code point of a UTF-8 sequence led by `c`.
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= value.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(value[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      *out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    if (cp >= 0x80 && cp <= 0x9F) {
      *out += fmt::format("\\u{:04x}", cp);
    } else {
      out->append(value.substr(i, len));
    }
    i += len;
  }
  out->push_back('"');
}

bool ResolvedAt(const Alert& a, core::Timestamp now) {
  return a.status == AlertStatus::kResolved || a.ends_at <= now;
}

core::Labels GroupLabels(const Route& route, const core::Labels& labels) {
  if (route.group_by_all()) return labels;
  std::vector<core::Label> pairs;
  for (const std::string& name : route.group_by()) {
    std::string_view value = labels.Get(name);
    if (!value.empty()) pairs.push_back({name, std::string(value)});
  }
  auto built = core::Labels::FromPairs(std::move(pairs));
  // The names come from a valid configuration and the values from valid labels.
  return built.ok() ? *std::move(built) : core::Labels();
}

}  // namespace

std::string GroupKey(std::string_view route_key, const core::Labels& labels) {
  std::string key(route_key);
  key += ":{";
  bool first = true;
  for (const core::Label& l : labels) {
    if (!first) key += ", ";
    first = false;
    key += l.name;
    key += '=';
    AppendGoQuoted(&key, l.value);
  }
  key += '}';
  return key;
}

std::string_view NotifyReasonName(NotifyReason r) {
  switch (r) {
    case NotifyReason::kFirstNotification: return "first notification";
    case NotifyReason::kNewAlertsInGroup: return "new alerts added";
    case NotifyReason::kNewResolvedAlerts: return "some alerts resolved";
    case NotifyReason::kAllAlertsResolved: return "all alerts resolved";
    case NotifyReason::kRepeatIntervalElapsed: return "repeat interval elapsed";
  }
  return "unknown";
}

AlertStatus Notification::Status() const {
  for (const Alert& a : alerts) {
    if (a.status == AlertStatus::kFiring) return AlertStatus::kFiring;
  }
  return AlertStatus::kResolved;
}

// ---------------------------------------------------------------------------------------------

struct Dispatcher::Group {
  const Route* route = nullptr;
  core::Labels labels;
  std::string key;
  std::map<Fingerprint, Alert> alerts;
  core::Timestamp next_flush;
  bool flushed = false;  // its first flush (group_wait) is done
  // The alerts this dispatcher handed out as firing in a notification of this group: until the
  // delivery is recorded the log does not know them, and their resolution must not be dropped.
  std::set<Fingerprint> handed_out;
};

// Inhibition at one instant: for each rule, the alerts firing then that match its source
// matchers, indexed by the values of its `equal` labels, so a target looks up only the sources
// it could be equal to.
class Dispatcher::Muting {
 public:
  Muting(const std::vector<InhibitRule>& rules, const std::map<Fingerprint, Alert>& alerts,
         core::Timestamp now)
      : rules_(rules), sources_(rules.size()) {
    if (rules.empty()) return;
    for (const auto& [fp, a] : alerts) {
      if (ResolvedAt(a, now)) continue;
      for (size_t i = 0; i < rules.size(); ++i) {
        if (MatchesAll(rules[i].source_matchers, a.labels)) {
          sources_[i].emplace(EqualKey(rules[i], a.labels), &a);
        }
      }
    }
  }

  bool Inhibited(const Alert& target) const { return !Sources(target, true).empty(); }

  // The fingerprints of the alerts inhibiting `target` (only the first one when `first`).
  std::set<Fingerprint> Sources(const Alert& target, bool first) const {
    std::set<Fingerprint> out;
    for (size_t i = 0; i < rules_.size(); ++i) {
      const InhibitRule& rule = rules_[i];
      if (!MatchesAll(rule.target_matchers, target.labels)) continue;
      auto [begin, end] = sources_[i].equal_range(EqualKey(rule, target.labels));
      for (auto it = begin; it != end; ++it) {
        // The sources were taken while firing; Inhibits wants to see it so.
        Alert source = *it->second;
        source.status = AlertStatus::kFiring;
        if (!rule.Inhibits(source, target)) continue;
        out.insert(source.Fingerprint());
        if (first) return out;
      }
    }
    return out;
  }

 private:
  static std::string EqualKey(const InhibitRule& rule, const core::Labels& labels) {
    std::string key;
    for (const std::string& name : rule.equal) {
      key += labels.Get(name);
      key += '\xff';  // not in any UTF-8 text, so values cannot run into each other
    }
    return key;
  }

  const std::vector<InhibitRule>& rules_;
  std::vector<std::multimap<std::string, const Alert*>> sources_;
};

// ---------------------------------------------------------------------------------------------

Dispatcher::Dispatcher(const AlertmanagerConfig& config, const SilenceStore* silences,
                       NotificationLog* log, core::Duration delivery_give_up)
    : root_(Route::Build(config.route)),
      receivers_(config.receivers),
      inhibit_rules_(config.inhibit_rules),
      time_intervals_(config.time_intervals),
      resolve_timeout_(config.global.resolve_timeout),
      delivery_give_up_(delivery_give_up),
      silences_(silences),
      own_log_(log == nullptr ? std::make_unique<MemoryNotificationLog>() : nullptr),
      log_(log == nullptr ? own_log_.get() : log) {
  root_->Walk([this](const Route& r) {
    route_index_.emplace(&r, route_index_.size());
    route_keys_.push_back(r.Key());
  });
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::Receive(const std::vector<Alert>& alerts, core::Timestamp now) {
  for (const Alert& in : alerts) {
    Alert a = in;
    if (a.ends_at == core::Timestamp()) {
      a.ends_at = a.status == AlertStatus::kFiring ? now + resolve_timeout_ : now;
    }
    auto [held, added] = alerts_.try_emplace(a.Fingerprint(), a);
    if (added || held->second.status != a.status || held->second.starts_at != a.starts_at ||
        held->second.annotations != a.annotations || ResolvedAt(held->second, now)) {
      ++changes_;
    }
    held->second = a;
    for (const Route* r : root_->Match(a.labels)) Insert(*r, route_index_.at(r), a, now);
  }
}

void Dispatcher::Insert(const Route& route, size_t route_index, const Alert& alert,
                        core::Timestamp now) {
  core::Labels labels = GroupLabels(route, alert.labels);
  std::string key = GroupKey(route_keys_[route_index], labels);
  auto [it, inserted] = groups_.try_emplace({route_index, key});
  Group& g = it->second;
  if (inserted) {
    g.route = &route;
    g.labels = std::move(labels);
    g.key = std::move(key);
    g.next_flush = now + route.group_wait();
  }
  // An alert that started more than group_wait ago has waited enough: until the group's first
  // flush, any such insert flushes it at once (e.g. after a restart), as Alertmanager's
  // aggrGroup.insert does while !hasFlushed (up to v0.29; v0.30 checks only the creating alert).
  if (!g.flushed && alert.starts_at + route.group_wait() < now) {
    g.next_flush = std::min(g.next_flush, now);
  }
  g.alerts[alert.Fingerprint()] = alert;
}

std::optional<core::Timestamp> Dispatcher::NextWakeup() const {
  std::optional<core::Timestamp> next;
  for (const auto& [id, g] : groups_) {
    if (!next || g.next_flush < *next) next = g.next_flush;
  }
  return next;
}

std::vector<Dispatcher::GroupView> Dispatcher::Groups() const {
  std::vector<GroupView> out;
  out.reserve(groups_.size());
  for (const auto& [id, g] : groups_) {
    GroupView v{g.route->receiver(), g.key, g.labels, {}};
    for (const auto& [fp, a] : g.alerts) v.alerts.push_back(a);
    std::sort(v.alerts.begin(), v.alerts.end(),
              [](const Alert& a, const Alert& b) { return a.labels < b.labels; });
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<Alert> Dispatcher::Alerts() const {
  std::vector<Alert> out;
  out.reserve(alerts_.size());
  for (const auto& [fp, a] : alerts_) out.push_back(a);
  std::sort(out.begin(), out.end(),
            [](const Alert& a, const Alert& b) { return a.labels < b.labels; });
  return out;
}

bool Dispatcher::RouteMuted(const Route& route, core::Timestamp now) const {
  if (!route.active_time_intervals().empty()) {
    bool active = false;
    for (const std::string& name : route.active_time_intervals()) {
      auto it = time_intervals_.find(name);
      if (it != time_intervals_.end() && AnyContains(it->second, now)) active = true;
    }
    if (!active) return true;
  }
  for (const std::string& name : route.mute_time_intervals()) {
    auto it = time_intervals_.find(name);
    if (it != time_intervals_.end() && AnyContains(it->second, now)) return true;
  }
  return false;
}

std::vector<Notification> Dispatcher::Flush(core::Timestamp now) {
  std::vector<Notification> out;
  // Built once per call, and only when a group is due: it indexes every firing alert.
  std::optional<Muting> muting;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    if (g.next_flush > now) {
      ++it;
      continue;
    }
    if (!muting) muting.emplace(inhibit_rules_, alerts_, now);
    const core::Duration interval = g.route->group_interval();
    core::Timestamp next = g.next_flush + interval;
    if (next <= now) next = next + interval * ((now - next) / interval + 1);
    g.next_flush = next;
    g.flushed = true;
    FlushGroup(g, *muting, now, &out);
    it = g.alerts.empty() ? groups_.erase(it) : std::next(it);
  }
  // Resolved alerts inhibit nothing; the groups keep their own copies.
  changes_ += std::erase_if(alerts_, [now](const auto& kv) { return ResolvedAt(kv.second, now); });
  return out;
}

namespace {

// Alertmanager's DedupStage.needsUpdate: whether (and why) an integration whose last record is
// `entry` (null: none) is notified of a group whose unmuted alerts are `firing` and `resolved`.
template <typename Entry>
std::optional<NotifyReason> NeedsUpdate(const Entry* entry, const std::set<Fingerprint>& firing,
                                        const std::set<Fingerprint>& resolved,
                                        bool send_resolved, core::Duration repeat,
                                        core::Timestamp now) {
  if (entry == nullptr) {
    if (!firing.empty()) return NotifyReason::kFirstNotification;
    return std::nullopt;
  }
  if (!std::includes(entry->firing.begin(), entry->firing.end(), firing.begin(), firing.end())) {
    return entry->firing.empty() ? NotifyReason::kFirstNotification
                                 : NotifyReason::kNewAlertsInGroup;
  }
  if (firing.empty()) {
    if (!entry->firing.empty()) return NotifyReason::kAllAlertsResolved;
    return std::nullopt;
  }
  if (send_resolved && !std::includes(entry->resolved.begin(), entry->resolved.end(),
                                      resolved.begin(), resolved.end())) {
    return NotifyReason::kNewResolvedAlerts;
  }
  if (entry->at < now - repeat) return NotifyReason::kRepeatIntervalElapsed;
  return std::nullopt;
}

}  // namespace

const Receiver* Dispatcher::FindReceiver(const std::string& name) const {
  auto it = std::find_if(receivers_.begin(), receivers_.end(),
                         [&](const Receiver& r) { return r.name == name; });
  return it == receivers_.end() ? nullptr : &*it;
}

std::optional<NotificationLogEntry> Dispatcher::LiveEntry(const NotificationLogKey& key,
                                                          core::Timestamp now) const {
  std::optional<NotificationLogEntry> e = log_->Get(key);
  if (e && e->expires_at <= now) return std::nullopt;
  return e;
}

bool Dispatcher::ResolutionPending(const Group& g, const Receiver* receiver,
                                   const Alert& resolved, core::Timestamp now) const {
  if (receiver == nullptr) return false;
  const Fingerprint fp = resolved.Fingerprint();
  // A notification handed out but not yet recorded (in flight, retrying, or failed): wait for
  // its record, within the time a record would live and the time its delivery may still retry
  // (it was handed out before the alert resolved).
  const core::Duration wait = std::max(g.route->repeat_interval() * 2,
                                       delivery_give_up_ + g.route->group_interval());
  const bool in_flight = g.handed_out.contains(fp) && now - resolved.ends_at < wait;
  for (size_t i = 0; i < receiver->integrations.size(); ++i) {
    if (!receiver->integrations[i].send_resolved) continue;
    auto entry = LiveEntry({g.key, receiver->name, i}, now);
    if (entry && entry->firing.contains(fp)) return true;
    if (in_flight && !(entry && entry->resolved.contains(fp))) return true;
  }
  return false;
}

void Dispatcher::FlushGroup(Group& g, const Muting& muting, core::Timestamp now,
                            std::vector<Notification>* out) {
  const Receiver* receiver = FindReceiver(g.route->receiver());
  std::vector<Alert> unmuted;
  std::vector<Fingerprint> resolved_now;
  const bool route_muted = RouteMuted(*g.route, now);
  for (const auto& [fp, stored] : g.alerts) {
    Alert a = stored;
    const bool resolved = ResolvedAt(a, now);
    if (resolved) {
      a.status = AlertStatus::kResolved;
    } else {
      a.ends_at = core::Timestamp();  // as Alertmanager: a firing alert shows no end
    }
    const bool muted = route_muted || muting.Inhibited(a) ||
                       (silences_ != nullptr && silences_->Mutes(a.labels, now));
    // A resolved alert leaves the group once flushed, muted or notified, as in Alertmanager,
    // except that a notified one waits until its resolution was delivered (recorded).
    if (resolved && (muted || !ResolutionPending(g, receiver, a, now))) {
      resolved_now.push_back(fp);
    }
    if (!muted) unmuted.push_back(std::move(a));
  }
  for (const Fingerprint& fp : resolved_now) {
    g.alerts.erase(fp);
    g.handed_out.erase(fp);
  }
  changes_ += resolved_now.size();
  if (unmuted.empty() || receiver == nullptr) return;
  std::sort(unmuted.begin(), unmuted.end(),
            [](const Alert& a, const Alert& b) { return a.labels < b.labels; });

  std::set<Fingerprint> firing;
  std::set<Fingerprint> resolved;
  for (const Alert& a : unmuted) {
    (a.status == AlertStatus::kFiring ? firing : resolved).insert(a.Fingerprint());
  }
  const core::Duration repeat = g.route->repeat_interval();
  for (size_t i = 0; i < receiver->integrations.size(); ++i) {
    const Integration& integration = receiver->integrations[i];
    const NotificationLogKey log_key{g.key, receiver->name, i};
    const std::optional<NotificationLogEntry> entry = LiveEntry(log_key, now);
    std::optional<NotifyReason> reason = NeedsUpdate(entry ? &*entry : nullptr, firing, resolved,
                                                     integration.send_resolved, repeat, now);
    if (!reason) continue;
    // An integration that does not send resolved alerts is told nothing once all resolved,
    // but its record must remember that they did (Alertmanager's RetryStage does the same).
    if (!integration.send_resolved && firing.empty()) {
      core::Status st =
          log_->Put(log_key, NotificationLogEntry{{}, resolved, now, now + repeat * 2});
      if (!st.ok()) LOG_ERROR("notification log: {}", st.ToString());
      continue;
    }
    Notification n;
    n.receiver = receiver->name;
    n.integration_index = i;
    n.integration_kind = integration.kind;
    n.group_key = g.key;
    n.group_labels = g.labels;
    for (const Alert& a : unmuted) {
      if (integration.send_resolved || a.status == AlertStatus::kFiring) n.alerts.push_back(a);
    }
    n.reason = *reason;
    n.at = now;
    n.repeat_interval = repeat;
    g.handed_out.insert(firing.begin(), firing.end());
    out->push_back(std::move(n));
  }
}

std::string AlertView::State() const {
  return silenced_by.empty() && inhibited_by.empty() ? "active" : "suppressed";
}

std::vector<AlertView> Dispatcher::AlertViews(core::Timestamp now) const {
  const Muting muting(inhibit_rules_, alerts_, now);
  std::vector<AlertView> out;
  out.reserve(alerts_.size());
  for (const auto& [fp, a] : alerts_) {
    AlertView v;
    v.alert = a;
    for (const Route* r : root_->Match(a.labels)) {
      if (std::find(v.receivers.begin(), v.receivers.end(), r->receiver()) == v.receivers.end()) {
        v.receivers.push_back(r->receiver());
      }
    }
    if (!ResolvedAt(a, now)) {
      if (silences_ != nullptr) v.silenced_by = silences_->MutedBy(a.labels, now);
      for (const Fingerprint& source : muting.Sources(a, false)) {
        v.inhibited_by.push_back(source.ToString());
      }
    }
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(),
            [](const AlertView& a, const AlertView& b) { return a.alert.labels < b.alert.labels; });
  return out;
}

std::vector<Alert> Dispatcher::Held(core::Timestamp now) const {
  std::map<Fingerprint, Alert> held = alerts_;
  for (const auto& [id, g] : groups_) {
    for (const auto& [fp, a] : g.alerts) held.try_emplace(fp, a);
  }
  std::vector<Alert> out;
  out.reserve(held.size());
  for (auto& [fp, a] : held) {
    if (ResolvedAt(a, now)) a.status = AlertStatus::kResolved;
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(),
            [](const Alert& a, const Alert& b) { return a.labels < b.labels; });
  return out;
}

void Dispatcher::Restore(const std::vector<Alert>& alerts, core::Timestamp now,
                         core::Duration grace) {
  std::vector<Alert> in = alerts;
  for (Alert& a : in) {
    if (a.status == AlertStatus::kFiring && a.ends_at < now + grace) a.ends_at = now + grace;
  }
  Receive(in, now);
}

}  // namespace nines::alerting

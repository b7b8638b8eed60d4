#include "rules/alerts.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <optional>
#include <tuple>
#include <utility>

#include "core/state_file.h"

namespace nines::rules {
namespace {

constexpr std::string_view kMagic = "nines-alerts";

template <typename T>
bool ParseInt(std::string_view s, T* v, int base = 10) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v, base);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseState(std::string_view s, AlertState* state) {
  if (s == "pending") {
    *state = AlertState::kPending;
  } else if (s == "firing") {
    *state = AlertState::kFiring;
  } else if (s == "resolved") {
    *state = AlertState::kResolved;
  } else {
    return false;
  }
  return true;
}

bool AlertLess(const Alert& a, const Alert& b) {
  if (a.labels != b.labels) return a.labels < b.labels;
  return std::tuple(static_cast<int>(a.state), a.active_since) <
         std::tuple(static_cast<int>(b.state), b.active_since);
}

}  // namespace

// ---- encoding ------------------------------------------------------------------------------

namespace {

// One "alert" record (see the file comment) into `a`, its rule key included. Errors:
// DATA_LOSS saying what is wrong (the caller adds the file and line).
core::Status DecodeAlertRecord(std::string_view line, Alert* out) {
  auto bad = [](std::string_view why) { return core::DataLossError("{}", why); };
  Alert& a = *out;
  std::vector<std::string_view> f = core::SplitFields(line);
  if (f.empty() || f[0] != "alert") return bad("unknown record");
  if (f.size() < 10) return bad("too few fields");
  if (!core::UnescapeField(f[1], &a.rule_key)) return bad("bad escape in rule key");
  int64_t active_since = 0, fired_at = 0, resolved_at = 0, last_active = 0;
  uint64_t value_bits = 0;
  if (!ParseState(f[2], &a.state)) return bad("bad state");
  if (!ParseInt(f[3], &active_since) || !ParseInt(f[4], &fired_at) ||
      !ParseInt(f[5], &resolved_at) || !ParseInt(f[6], &last_active)) {
    return bad("bad timestamp");
  }
  if (!ParseInt(f[7], &value_bits, 16)) return bad("bad value");
  a.active_since = core::Timestamp::FromUnixNanos(active_since);
  a.fired_at = core::Timestamp::FromUnixNanos(fired_at);
  a.resolved_at = core::Timestamp::FromUnixNanos(resolved_at);
  a.last_active = core::Timestamp::FromUnixNanos(last_active);
  a.value = std::bit_cast<double>(value_bits);
  size_t n_labels = 0;
  if (!ParseInt(f[8], &n_labels) || n_labels > f.size() || f.size() < 10 + 2 * n_labels) {
    return bad("bad label count");
  }
  std::vector<core::Label> pairs;
  size_t i = 9;
  for (size_t k = 0; k < n_labels; ++k, i += 2) {
    core::Label l;
    if (!core::UnescapeField(f[i], &l.name) || !core::UnescapeField(f[i + 1], &l.value)) {
      return bad("bad escape in a label");
    }
    pairs.push_back(std::move(l));
  }
  core::Result<core::Labels> labels = core::Labels::FromPairs(std::move(pairs));
  if (!labels.ok()) return bad(labels.status().message());
  a.labels = *std::move(labels);
  size_t n_annotations = 0;
  if (!ParseInt(f[i], &n_annotations) || n_annotations > f.size() ||
      f.size() != i + 1 + 2 * n_annotations) {
    return bad("bad annotation count");
  }
  ++i;
  for (size_t k = 0; k < n_annotations; ++k, i += 2) {
    std::string key, value;
    if (!core::UnescapeField(f[i], &key) || !core::UnescapeField(f[i + 1], &value)) {
      return bad("bad escape in an annotation");
    }
    a.annotations[std::move(key)] = std::move(value);
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<std::map<std::string, std::vector<Alert>>> DecodeAlertState(
    std::string_view data, std::string_view origin) {
  if (data.empty()) return core::DataLossError("{}: empty file (truncated)", origin);
  size_t first_nl = data.find('\n');
  if (first_nl == std::string_view::npos) {
    return core::DataLossError("{}:1: truncated header", origin);
  }
  std::vector<std::string_view> header = core::SplitFields(data.substr(0, first_nl));
  int version = 0;
  if (header.size() != 2 || header[0] != kMagic || !ParseInt(header[1], &version) ||
      version < 1) {
    return core::DataLossError("{}:1: not a nines alert state file (expected \"{}\\t{}\")",
                               origin, kMagic, kAlertStateVersion);
  }
  if (version > kAlertStateVersion) {
    return core::FailedPreconditionError(
        "{}: alert state version {} is newer than this build's {}", origin, version,
        kAlertStateVersion);
  }
  // The last line must be the end record, terminated by a newline.
  if (data.back() != '\n') {
    return core::DataLossError("{}: truncated: the last line is incomplete", origin);
  }
  size_t end_start = data.rfind('\n', data.size() - 2);
  end_start = end_start == std::string_view::npos ? 0 : end_start + 1;
  std::string_view end_line = data.substr(end_start, data.size() - 1 - end_start);
  std::vector<std::string_view> end = core::SplitFields(end_line);
  size_t count = 0;
  uint64_t checksum = 0;
  if (end.size() != 3 || end[0] != "end" || !ParseInt(end[1], &count) ||
      !ParseInt(end[2], &checksum, 16)) {
    return core::DataLossError("{}: truncated: no end record", origin);
  }
  if (core::Hash64(data.substr(0, end_start)) != checksum) {
    return core::DataLossError("{}: checksum mismatch (the file is corrupt)", origin);
  }

  std::map<std::string, std::vector<Alert>> out;
  size_t alerts = 0;
  size_t pos = first_nl + 1;
  int line_no = 1;
  std::string scratch;
  while (pos < end_start) {
    ++line_no;
    size_t nl = data.find('\n', pos);
    std::string_view line = data.substr(pos, nl - pos);
    pos = nl + 1;
    Alert a;
    if (core::Status st = DecodeAlertRecord(line, &a); !st.ok()) {
      return core::DataLossError("{}:{}: {}", origin, line_no, st.message());
    }
    std::string rule_key = a.rule_key;
    out[rule_key].push_back(std::move(a));
    ++alerts;
  }
  if (alerts != count) {
    return core::DataLossError("{}: the end record counts {} alerts, the file has {}", origin,
                               count, alerts);
  }
  return out;
}

// ---- AlertTracker --------------------------------------------------------------------------

AlertTracker::AlertTracker(AlertTrackerOptions options) : options_(std::move(options)) {}

core::Status AlertTracker::Load() {
  {
    std::lock_guard lock(mu_);
    rules_.clear();
    unsent_resolved_.clear();
    dirty_ = false;
  }
  const std::string& path = options_.state_file;
  if (path.empty()) return core::Status::Ok();
  core::Result<std::optional<std::string>> data = core::ReadFile(path);
  if (!data.ok()) return data.status().WithContext("alert state");
  if (!*data) return core::Status::Ok();
  auto decoded = DecodeAlertState(**data, path);
  if (!decoded.ok()) return core::SetAside(path, decoded.status());
  std::lock_guard lock(mu_);
  for (auto& [key, alerts] : *decoded) {
    RuleAlerts& ra = rules_[key];
    for (Alert& a : alerts) {
      core::Labels labels = a.labels;
      ra[std::move(labels)] = std::move(a);
    }
  }
  return core::Status::Ok();
}

void AlertTracker::ResolveLocked(Alert& alert, core::Timestamp now) {
  alert.state = AlertState::kResolved;
  alert.resolved_at = now;
  unsent_resolved_.push_back(alert);
  dirty_ = true;
}

void AlertTracker::Update(std::string_view rule_key, core::Duration for_duration,
                          core::Duration keep_firing_for,
                          const std::vector<ActiveCondition>& active, core::Timestamp now) {
  std::lock_guard lock(mu_);
  auto rule_it = rules_.find(rule_key);
  if (rule_it == rules_.end()) {
    if (active.empty()) return;
    rule_it = rules_.emplace(std::string(rule_key), RuleAlerts()).first;
  }
  RuleAlerts& ra = rule_it->second;
  std::set<uint64_t> held;     // fingerprints of the label sets active now
  std::set<uint64_t> no_data;  // ... and of those the rule could not decide
  for (const ActiveCondition& c : active) {
    if (c.no_data) {
      no_data.insert(c.labels.Hash());
      continue;
    }
    held.insert(c.labels.Hash());
    auto it = ra.find(c.labels);
    if (it == ra.end() || it->second.state == AlertState::kResolved) {
      Alert fresh;
      fresh.rule_key = std::string(rule_key);
      fresh.labels = c.labels;
      fresh.state = AlertState::kPending;
      fresh.active_since = now;
      if (it == ra.end()) {
        it = ra.emplace(c.labels, std::move(fresh)).first;
      } else {
        it->second = std::move(fresh);
      }
    }
    Alert& a = it->second;
    if (a.state == AlertState::kPending && now - a.active_since >= for_duration) {
      a.state = AlertState::kFiring;
      a.fired_at = now;
    }
    a.annotations = c.annotations;  // drops any no_data marks
    a.value = c.value;
    a.last_active = now;
    dirty_ = true;
  }
  SettleLocked(ra, held, no_data, keep_firing_for, now);
  if (ra.empty()) rules_.erase(rule_it);
}

void AlertTracker::SettleLocked(RuleAlerts& ra, const std::set<uint64_t>& held,
                                const std::set<uint64_t>& no_data,
                                core::Duration keep_firing_for, core::Timestamp now) {
  for (auto it = ra.begin(); it != ra.end();) {
    Alert& a = it->second;
    const uint64_t fp = it->first.Hash();
    if (held.contains(fp) && a.last_active == now) {
      ++it;
      continue;
    }
    if (no_data.contains(fp) && !held.contains(fp) && a.state != AlertState::kResolved) {
      // Undecidable: neither recovered nor still failing. Kept, marked, for a while.
      if (now - a.last_active < options_.no_data_resolve_after) {
        if (!a.annotations.contains("no_data")) {
          a.annotations["no_data"] = "true";
          a.annotations["no_data_since"] = a.last_active.ToRfc3339();
          dirty_ = true;
        }
        ++it;
        continue;
      }
      if (a.state == AlertState::kPending) {
        it = ra.erase(it);
        dirty_ = true;
        continue;
      }
      a.annotations["resolved_by"] = "no_data_timeout";
      ResolveLocked(a, now);
      ++it;
      continue;
    }
    if (a.state == AlertState::kPending) {
      it = ra.erase(it);  // never fired, never sent: back to inactive
      dirty_ = true;
      continue;
    }
    if (a.state == AlertState::kFiring && a.annotations.contains("no_data")) {
      // Decided again (data came back) without the condition: the marks go.
      a.annotations.erase("no_data");
      a.annotations.erase("no_data_since");
      dirty_ = true;
    }
    if (a.state == AlertState::kFiring && now - a.last_active >= keep_firing_for) {
      ResolveLocked(a, now);
    }
    ++it;
  }
}

void AlertTracker::RetainRules(const std::set<std::string>& rule_keys, core::Timestamp now) {
  std::lock_guard lock(mu_);
  for (auto rule_it = rules_.begin(); rule_it != rules_.end();) {
    if (rule_keys.contains(rule_it->first)) {
      ++rule_it;
      continue;
    }
    RuleAlerts& ra = rule_it->second;
    for (auto it = ra.begin(); it != ra.end();) {
      if (it->second.state == AlertState::kPending) {
        it = ra.erase(it);
        dirty_ = true;
        continue;
      }
      if (it->second.state == AlertState::kFiring) ResolveLocked(it->second, now);
      ++it;
    }
    // Resolved alerts stay (for the API) until Finish() forgets them.
    if (ra.empty()) {
      rule_it = rules_.erase(rule_it);
    } else {
      ++rule_it;
    }
  }
}

core::Status AlertTracker::Finish(core::Timestamp now) {
  std::lock_guard write_lock(write_mu_);
  std::string contents;
  {
    std::lock_guard lock(mu_);
    for (auto rule_it = rules_.begin(); rule_it != rules_.end();) {
      RuleAlerts& ra = rule_it->second;
      for (auto it = ra.begin(); it != ra.end();) {
        if (it->second.state == AlertState::kResolved &&
            now - it->second.resolved_at >= options_.resolved_retention) {
          it = ra.erase(it);
          dirty_ = true;
        } else {
          ++it;
        }
      }
      rule_it = ra.empty() ? rules_.erase(rule_it) : std::next(rule_it);
    }
    if (!dirty_ || options_.state_file.empty()) {
      dirty_ = false;
      return core::Status::Ok();
    }
    contents = EncodeLocked();
    dirty_ = false;
  }
  core::Status s = WriteFile(contents);
  if (!s.ok()) {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  return s;
}

std::string AlertTracker::EncodeLocked() const {
  std::string out = fmt::format("{}\t{}\n", kMagic, kAlertStateVersion);
  size_t count = 0;
  for (const auto& [key, ra] : rules_) {
    for (const auto& [labels, a] : ra) {
      out.append("alert\t");
      core::AppendField(&out, key);
      fmt::format_to(std::back_inserter(out), "\t{}\t{}\t{}\t{}\t{}\t{:x}\t{}",
                     AlertStateName(a.state), a.active_since.UnixNanos(),
                     a.fired_at.UnixNanos(), a.resolved_at.UnixNanos(),
                     a.last_active.UnixNanos(), std::bit_cast<uint64_t>(a.value),
                     a.labels.size());
      for (const core::Label& l : a.labels) {
        out.push_back('\t');
        core::AppendField(&out, l.name);
        out.push_back('\t');
        core::AppendField(&out, l.value);
      }
      fmt::format_to(std::back_inserter(out), "\t{}", a.annotations.size());
      for (const auto& [k, v] : a.annotations) {
        out.push_back('\t');
        core::AppendField(&out, k);
        out.push_back('\t');
        core::AppendField(&out, v);
      }
      out.push_back('\n');
      ++count;
    }
  }
  uint64_t checksum = core::Hash64(out);
  fmt::format_to(std::back_inserter(out), "end\t{}\t{:016x}\n", count, checksum);
  return out;
}

core::Status AlertTracker::WriteFile(const std::string& contents) const {
  return core::WriteFileAtomic(options_.state_file, contents, options_.sync);
}

std::vector<Alert> AlertTracker::TakeNotifications() {
  std::vector<Alert> out;
  {
    std::lock_guard lock(mu_);
    out = std::move(unsent_resolved_);
    unsent_resolved_.clear();
    for (const auto& [key, ra] : rules_) {
      for (const auto& [labels, a] : ra) {
        if (a.state == AlertState::kFiring) out.push_back(a);
      }
    }
  }
  std::sort(out.begin(), out.end(), AlertLess);
  return out;
}

std::vector<Alert> AlertTracker::Alerts() const {
  std::vector<Alert> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, ra] : rules_) {
      for (const auto& [labels, a] : ra) out.push_back(a);
    }
  }
  std::sort(out.begin(), out.end(), AlertLess);
  return out;
}

}  // namespace nines::rules

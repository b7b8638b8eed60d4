#include "alerting/silence.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>

namespace nines::alerting {
namespace {

// A random version-4 UUID in its 8-4-4-4-12 form.
std::string RandomUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & ~uint64_t{0xF000}) | uint64_t{0x4000};              // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);   // variant 10xx
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

bool SameMatchers(const Matchers& a, const Matchers& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Matcher& x, const Matcher& y) {
    return x.type() == y.type() && x.name() == y.name() && x.value() == y.value();
  });
}

core::Status Validate(const Silence& s) {
  if (s.matchers.empty()) {
    return core::InvalidArgumentError("silence: at least one matcher required");
  }
  // A silence whose every matcher matches the empty string would mute every alert.
  bool all_match_empty = std::all_of(s.matchers.begin(), s.matchers.end(),
                                     [](const Matcher& m) { return m.Matches(""); });
  if (all_match_empty) {
    return core::InvalidArgumentError(
        "silence: at least one matcher must not match the empty string");
  }
  if (s.ends_at == core::Timestamp()) return core::InvalidArgumentError("silence: zero ends_at");
  if (s.ends_at < s.starts_at) {
    return core::InvalidArgumentError("silence: ends_at {} is before starts_at {}",
                                      s.ends_at.ToRfc3339(), s.starts_at.ToRfc3339());
  }
  return core::Status();
}

}  // namespace

std::string_view SilenceStateName(SilenceState s) {
  switch (s) {
    case SilenceState::kPending: return "pending";
    case SilenceState::kActive: return "active";
    case SilenceState::kExpired: return "expired";
  }
  return "?";
}

SilenceState Silence::State(core::Timestamp now) const {
  if (now < starts_at) return SilenceState::kPending;
  if (now < ends_at) return SilenceState::kActive;
  return SilenceState::kExpired;
}

SilenceState Silence::MutingState(core::Timestamp now) const {
  if (now < starts_at) return SilenceState::kPending;
  if (now > ends_at) return SilenceState::kExpired;
  return SilenceState::kActive;
}

bool Silence::Mutes(const core::Labels& labels, core::Timestamp now) const {
  return MutingState(now) == SilenceState::kActive && MatchesAll(matchers, labels);
}

SilenceStore::SilenceStore(std::function<std::string()> new_id)
    : new_id_(new_id ? std::move(new_id) : RandomUuid) {}

core::Result<std::string> SilenceStore::Add(Silence silence, core::Timestamp now) {
  if (silence.starts_at == core::Timestamp()) silence.starts_at = now;
  RETURN_IF_ERROR(Validate(silence));

  std::lock_guard lock(mu_);
  ++version_;
  Silence* prev = nullptr;
  if (!silence.id.empty()) {
    auto it = silences_.find(silence.id);
    if (it == silences_.end()) return core::NotFoundError("silence {} not found", silence.id);
    prev = &it->second;
  }

  if (prev != nullptr && SameMatchers(prev->matchers, silence.matchers)) {
    bool can_update = false;
    switch (prev->MutingState(now)) {
      case SilenceState::kActive:
        can_update = silence.starts_at.UnixSeconds() == prev->starts_at.UnixSeconds() &&
                     !(silence.ends_at < now);
        break;
      case SilenceState::kPending:
        can_update = !(silence.starts_at < now);
        break;
      case SilenceState::kExpired:
        break;
    }
    if (can_update) {
      silence.updated_at = now;
      *prev = std::move(silence);
      return prev->id;
    }
  }

  std::string id = new_id_();
  while (silences_.contains(id)) id = new_id_();
  silence.id = id;
  if (silence.starts_at < now) silence.starts_at = now;
  silence.updated_at = now;
  if (prev != nullptr && prev->MutingState(now) != SilenceState::kExpired) {
    ExpireLocked(prev, now);
  }
  silences_.emplace(id, std::move(silence));
  return id;
}

void SilenceStore::ExpireLocked(Silence* s, core::Timestamp now) {
  switch (s->MutingState(now)) {
    case SilenceState::kExpired: return;
    case SilenceState::kActive: s->ends_at = now; break;
    case SilenceState::kPending:
      s->starts_at = now;
      s->ends_at = now;
      break;
  }
  s->updated_at = now;
}

core::Status SilenceStore::Expire(std::string_view id, core::Timestamp now) {
  std::lock_guard lock(mu_);
  auto it = silences_.find(id);
  if (it == silences_.end()) return core::NotFoundError("silence {} not found", id);
  ++version_;
  ExpireLocked(&it->second, now);
  return core::Status();
}

std::optional<Silence> SilenceStore::Get(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = silences_.find(id);
  if (it == silences_.end()) return std::nullopt;
  return it->second;
}

std::vector<Silence> SilenceStore::List() const {
  std::lock_guard lock(mu_);
  std::vector<Silence> out;
  out.reserve(silences_.size());
  for (const auto& [id, s] : silences_) out.push_back(s);
  return out;
}

void SilenceStore::Restore(std::vector<Silence> silences) {
  std::lock_guard lock(mu_);
  ++version_;
  silences_.clear();
  for (Silence& s : silences) {
    std::string id = s.id;
    silences_.insert_or_assign(std::move(id), std::move(s));
  }
}

size_t SilenceStore::Collect(core::Timestamp now, core::Duration retention) {
  std::lock_guard lock(mu_);
  size_t n = std::erase_if(silences_, [&](const auto& kv) {
    return kv.second.MutingState(now) == SilenceState::kExpired &&
           kv.second.ends_at + retention <= now;
  });
  if (n > 0) ++version_;
  return n;
}

uint64_t SilenceStore::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

bool SilenceStore::Mutes(const core::Labels& labels, core::Timestamp now) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, s] : silences_) {
    if (s.Mutes(labels, now)) return true;
  }
  return false;
}

std::vector<std::string> SilenceStore::MutedBy(const core::Labels& labels,
                                               core::Timestamp now) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, s] : silences_) {
    if (s.Mutes(labels, now)) out.push_back(id);
  }
  return out;
}

}  // namespace nines::alerting

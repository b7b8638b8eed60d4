// The series index: KeyArena, SeriesTable, and the store's postings (label name -> value ->
// ids), with the RocksDbStore methods that keep and query them.
#include "store/series_index.h"

#include <algorithm>

#include "core/utf8.h"
#include "store/rocksdb_store_impl.h"

namespace nines::store::internal {

std::string_view KeyArena::Add(std::string_view bytes) {
  if (bytes.size() > kBlockSize) {
    big_.emplace_back(bytes);
    return big_.back();
  }
  if (blocks_.empty() || kBlockSize - used_ < bytes.size()) {
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(kBlockSize));
    used_ = 0;
  }
  char* p = blocks_.back().get() + used_;
  std::memcpy(p, bytes.data(), bytes.size());
  used_ += bytes.size();
  return std::string_view(p, bytes.size());
}

void SeriesTable::Insert(uint64_t hash, MemSeries* series) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  size_t i = hash & mask_;
  while (slots_[i].series != nullptr) i = (i + 1) & mask_;
  slots_[i] = {hash, series};
  ++size_;
}

void SeriesTable::Erase(uint64_t hash, const MemSeries* series) {
  if (slots_.empty()) return;
  size_t i = hash & mask_;
  for (;; i = (i + 1) & mask_) {
    if (slots_[i].series == nullptr) return;
    if (slots_[i].series == series) break;
  }
  // Backward-shift deletion: move later entries of the probe run into the hole, so no
  // tombstones are needed.
  size_t hole = i;
  for (size_t j = (i + 1) & mask_; slots_[j].series != nullptr; j = (j + 1) & mask_) {
    const size_t home = slots_[j].hash & mask_;
    // Entry j may move to the hole if its home is not in (hole, j] cyclically.
    const bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_between) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot();
  --size_;
}

void SeriesTable::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<size_t>(1024, old.size() * 2), Slot());
  mask_ = slots_.size() - 1;
  size_ = 0;
  for (const Slot& slot : old) {
    if (slot.series != nullptr) Insert(slot.hash, slot.series);
  }
}

void RocksDbStore::IndexLocked(const std::shared_ptr<MemSeries>& s) {
  ++series_generation_;
  if (s->encoded_labels.empty()) s->encoded_labels = keys_.Add(EncodeLabels(s->labels));
  s->utf8_values = std::all_of(s->labels.begin(), s->labels.end(), [](const core::Label& l) {
    return core::IsValidUtf8(l.value);
  });
  by_id_[s->id] = s;
  by_hash_.Insert(s->labels.Hash(), s.get());
  s->live_index = static_cast<uint32_t>(live_.size());
  live_.push_back(s.get());
  for (const core::Label& l : s->labels) {
    auto& ids = postings_[l.name][l.value];
    ids.insert(std::upper_bound(ids.begin(), ids.end(), s->id), s->id);
  }
}

void RocksDbStore::UnindexLocked(const std::shared_ptr<MemSeries>& s) {
  ++series_generation_;
  by_hash_.Erase(s->labels.Hash(), s.get());
  live_.back()->live_index = s->live_index;
  live_[s->live_index] = live_.back();
  live_.pop_back();
  by_id_.erase(s->id);
  for (const core::Label& l : s->labels) {
    auto name_it = postings_.find(l.name);
    if (name_it == postings_.end()) continue;
    auto value_it = name_it->second.find(l.value);
    if (value_it == name_it->second.end()) continue;
    std::erase(value_it->second, s->id);
    if (value_it->second.empty()) name_it->second.erase(value_it);
    if (name_it->second.empty()) postings_.erase(name_it);
  }
}

std::vector<std::shared_ptr<MemSeries>> RocksDbStore::MatchLocked(
    const std::vector<Matcher>& matchers) const {
  // Candidates from the most selective matcher that cannot match an absent label.
  const std::vector<uint64_t>* best = nullptr;
  std::vector<uint64_t> best_union;
  bool have_candidates = false;
  for (const Matcher& m : matchers) {
    if (m.MatchesEmpty()) continue;
    auto name_it = postings_.find(m.name());
    if (name_it == postings_.end()) return {};
    std::vector<uint64_t> ids;
    if (m.op() == Matcher::Op::kEqual) {
      auto v = name_it->second.find(m.value());
      if (v == name_it->second.end()) return {};
      if (!have_candidates || v->second.size() < (best ? best->size() : best_union.size())) {
        best = &v->second;
        have_candidates = true;
      }
      continue;
    }
    for (const auto& [value, value_ids] : name_it->second) {
      if (m.Matches(value)) ids.insert(ids.end(), value_ids.begin(), value_ids.end());
    }
    if (!have_candidates || ids.size() < (best ? best->size() : best_union.size())) {
      best = nullptr;
      best_union = std::move(ids);
      have_candidates = true;
    }
  }
  std::vector<uint64_t> candidates;
  if (have_candidates) {
    candidates = best ? *best : std::move(best_union);
  } else {
    for (const auto& [id, s] : by_id_) candidates.push_back(id);
  }
  std::vector<std::shared_ptr<MemSeries>> out;
  for (uint64_t id : candidates) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    bool ok = true;
    for (const Matcher& m : matchers) {
      if (!m.Matches(it->second->labels.Get(m.name()))) {
        ok = false;
        break;
      }
    }
    if (ok) out.push_back(it->second);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->labels < b->labels; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

core::Result<std::vector<std::string>> RocksDbStore::LabelNames() {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, values] : postings_) out.push_back(name);
  return out;
}

core::Result<std::vector<std::string>> RocksDbStore::LabelValues(std::string_view name) {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  auto it = postings_.find(name);
  if (it == postings_.end()) return out;
  for (const auto& [value, ids] : it->second) out.push_back(value);
  return out;
}

core::Result<std::vector<SeriesRef>> RocksDbStore::ResolveSeries(
    const std::vector<Matcher>& matchers) {
  std::shared_lock lock(mu_);
  std::vector<SeriesRef> out;
  for (const auto& s : MatchLocked(matchers)) out.push_back({s->id, s->labels});
  return out;
}

}  // namespace nines::store::internal

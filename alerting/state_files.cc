#include "alerting/state_files.h"

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <utility>

#include "core/log.h"
#include "core/state_file.h"

namespace nines::alerting {
namespace {

constexpr std::string_view kAlertsMagic = "nines-alerting-alerts";
constexpr std::string_view kSilencesMagic = "nines-alerting-silences";
constexpr int kVersion = 1;

core::Status Bad(std::string_view why) { return core::DataLossError("{}", why); }

// Reads f[*i] and moves on; false when out of range.
bool Next(const std::vector<std::string_view>& f, size_t* i, std::string_view* out) {
  if (*i >= f.size()) return false;
  *out = f[(*i)++];
  return true;
}

bool NextString(const std::vector<std::string_view>& f, size_t* i, std::string* out) {
  std::string_view v;
  return Next(f, i, &v) && core::UnescapeField(v, out);
}

bool NextTime(const std::vector<std::string_view>& f, size_t* i, core::Timestamp* out) {
  std::string_view v;
  int64_t ns = 0;
  if (!Next(f, i, &v) || !core::ParseInt64(v, &ns)) return false;
  *out = core::Timestamp::FromUnixNanos(ns);
  return true;
}

bool NextCount(const std::vector<std::string_view>& f, size_t* i, size_t width, size_t* out) {
  std::string_view v;
  uint64_t n = 0;
  if (!Next(f, i, &v) || !core::ParseUint64(v, &n) || n > (f.size() - *i) / width) return false;
  *out = n;
  return true;
}

void AppendTime(std::string* out, core::Timestamp t) {
  fmt::format_to(std::back_inserter(*out), "\t{}", t.UnixNanos());
}

core::Status DecodeAlert(std::string_view line, Alert* a) {
  std::vector<std::string_view> f = core::SplitFields(line);
  size_t i = 1;
  if (f[0] != "alert") return Bad("not an alert record");
  std::string_view status;
  std::string_view value;
  uint64_t bits = 0;
  if (!Next(f, &i, &status) || (status != "firing" && status != "resolved")) {
    return Bad("bad status");
  }
  a->status = status == "firing" ? AlertStatus::kFiring : AlertStatus::kResolved;
  if (!NextTime(f, &i, &a->starts_at) || !NextTime(f, &i, &a->ends_at)) return Bad("bad time");
  if (!NextString(f, &i, &a->generator_url)) return Bad("bad generator URL");
  if (!Next(f, &i, &value) || !core::ParseUint64(value, &bits, 16)) return Bad("bad value");
  a->value = std::bit_cast<double>(bits);
  size_t n = 0;
  if (!NextCount(f, &i, 2, &n)) return Bad("bad label count");
  std::vector<core::Label> pairs(n);
  for (core::Label& l : pairs) {
    if (!NextString(f, &i, &l.name) || !NextString(f, &i, &l.value)) return Bad("bad label");
  }
  core::Result<core::Labels> labels = core::Labels::FromPairs(std::move(pairs));
  if (!labels.ok()) return Bad(labels.status().message());
  a->labels = *std::move(labels);
  if (!NextCount(f, &i, 2, &n)) return Bad("bad annotation count");
  for (size_t k = 0; k < n; ++k) {
    std::string key;
    std::string v;
    if (!NextString(f, &i, &key) || !NextString(f, &i, &v)) return Bad("bad annotation");
    a->annotations[std::move(key)] = std::move(v);
  }
  if (i != f.size()) return Bad("trailing fields");
  return core::Status::Ok();
}

bool ParseMatchType(std::string_view s, MatchType* t) {
  for (MatchType c :
       {MatchType::kEqual, MatchType::kNotEqual, MatchType::kRegexp, MatchType::kNotRegexp}) {
    if (MatchTypeName(c) == s) {
      *t = c;
      return true;
    }
  }
  return false;
}

core::Status DecodeSilence(std::string_view line, Silence* s) {
  std::vector<std::string_view> f = core::SplitFields(line);
  size_t i = 1;
  if (f[0] != "silence") return Bad("not a silence record");
  if (!NextString(f, &i, &s->id) || s->id.empty()) return Bad("bad id");
  if (!NextTime(f, &i, &s->starts_at) || !NextTime(f, &i, &s->ends_at) ||
      !NextTime(f, &i, &s->updated_at)) {
    return Bad("bad time");
  }
  if (!NextString(f, &i, &s->created_by) || !NextString(f, &i, &s->comment)) {
    return Bad("bad text field");
  }
  size_t n = 0;
  if (!NextCount(f, &i, 3, &n)) return Bad("bad matcher count");
  for (size_t k = 0; k < n; ++k) {
    std::string_view type_text;
    MatchType type = MatchType::kEqual;
    std::string name;
    std::string value;
    if (!Next(f, &i, &type_text) || !ParseMatchType(type_text, &type) ||
        !NextString(f, &i, &name) || !NextString(f, &i, &value)) {
      return Bad("bad matcher");
    }
    core::Result<Matcher> m = Matcher::Make(type, std::move(name), std::move(value));
    if (!m.ok()) return Bad(m.status().message());
    s->matchers.push_back(*std::move(m));
  }
  if (i != f.size()) return Bad("trailing fields");
  return core::Status::Ok();
}

template <typename T>
core::Result<std::vector<T>> Decode(std::string_view data, std::string_view magic,
                                    std::string_view origin,
                                    core::Status (*decode)(std::string_view, T*)) {
  ASSIGN_OR_RETURN(core::SnapshotRecords file, core::DecodeSnapshot(data, magic, kVersion, origin));
  std::vector<T> out;
  out.reserve(file.records.size());
  for (size_t k = 0; k < file.records.size(); ++k) {
    T item;
    if (core::Status st = decode(file.records[k], &item); !st.ok()) {
      return core::DataLossError("{}:{}: {}", origin, k + 2, st.message());
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

std::string EncodeAlertsFile(const std::vector<Alert>& alerts) {
  std::vector<std::string> records;
  records.reserve(alerts.size());
  for (const Alert& a : alerts) {
    std::string r = "alert\t";
    r += AlertStatusName(a.status);
    AppendTime(&r, a.starts_at);
    AppendTime(&r, a.ends_at);
    core::AppendTabField(&r, a.generator_url);
    fmt::format_to(std::back_inserter(r), "\t{:x}\t{}", std::bit_cast<uint64_t>(a.value),
                   a.labels.size());
    for (const core::Label& l : a.labels) {
      core::AppendTabField(&r, l.name);
      core::AppendTabField(&r, l.value);
    }
    fmt::format_to(std::back_inserter(r), "\t{}", a.annotations.size());
    for (const auto& [k, v] : a.annotations) {
      core::AppendTabField(&r, k);
      core::AppendTabField(&r, v);
    }
    records.push_back(std::move(r));
  }
  return core::EncodeSnapshot(kAlertsMagic, kVersion, records);
}

core::Result<std::vector<Alert>> DecodeAlertsFile(std::string_view data, std::string_view origin) {
  return Decode<Alert>(data, kAlertsMagic, origin, DecodeAlert);
}

std::string EncodeSilencesFile(const std::vector<Silence>& silences) {
  std::vector<std::string> records;
  records.reserve(silences.size());
  for (const Silence& s : silences) {
    std::string r = "silence";
    core::AppendTabField(&r, s.id);
    AppendTime(&r, s.starts_at);
    AppendTime(&r, s.ends_at);
    AppendTime(&r, s.updated_at);
    core::AppendTabField(&r, s.created_by);
    core::AppendTabField(&r, s.comment);
    fmt::format_to(std::back_inserter(r), "\t{}", s.matchers.size());
    for (const Matcher& m : s.matchers) {
      core::AppendTabField(&r, MatchTypeName(m.type()));
      core::AppendTabField(&r, m.name());
      core::AppendTabField(&r, m.value());
    }
    records.push_back(std::move(r));
  }
  return core::EncodeSnapshot(kSilencesMagic, kVersion, records);
}

core::Result<std::vector<Silence>> DecodeSilencesFile(std::string_view data,
                                                      std::string_view origin) {
  return Decode<Silence>(data, kSilencesMagic, origin, DecodeSilence);
}

template <typename T>
core::Result<std::vector<T>> LoadStateFile(
    const std::string& path,
    core::Result<std::vector<T>> (*decode)(std::string_view, std::string_view)) {
  ASSIGN_OR_RETURN(std::optional<std::string> data, core::ReadFile(path));
  if (!data) return std::vector<T>();
  core::Result<std::vector<T>> decoded = decode(*data, path);
  if (decoded.ok() || decoded.status().code() != core::StatusCode::kDataLoss) return decoded;
  LOG_ERROR("alerting state: {}; starting without it",
            core::SetAside(path, decoded.status()).message());
  return std::vector<T>();
}

template core::Result<std::vector<Alert>> LoadStateFile<Alert>(
    const std::string&, core::Result<std::vector<Alert>> (*)(std::string_view, std::string_view));
template core::Result<std::vector<Silence>> LoadStateFile<Silence>(
    const std::string&, core::Result<std::vector<Silence>> (*)(std::string_view, std::string_view));

}  // namespace nines::alerting

// The request bodies of Alertmanager's API v2 (postableAlerts,
// postableSilence), parsed with RapidJSON (kept out of every header). Every
// error names the field at fault.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/alertmanager_api.h"
#include "core/utf8.h"

namespace nines::api {
namespace {

using JsonValue = rapidjson::Value;

// Parses `body` as one JSON value; anything but white space after it is an
// error (RapidJSON's "The document root must not be followed by other values").
core::Status ParseDocument(std::string_view body, rapidjson::Document* doc) {
  // Iterative, so that no nesting depth can exhaust the stack.
  doc->Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc->HasParseError()) {
    return core::InvalidArgumentError("body: invalid JSON at offset {}: {}", doc->GetErrorOffset(),
                                      rapidjson::GetParseError_En(doc->GetParseError()));
  }
  return core::Status::Ok();
}

std::string_view View(const JsonValue& v) { return {v.GetString(), v.GetStringLength()}; }

// Go's zero time.Time, which Prometheus sends for a time it does not set.
bool IsGoZeroTime(std::string_view text) { return text.starts_with("0001-01-01T00:00:00"); }

// A date-time field: absent, null or Go's zero time give the zero Timestamp.
core::Result<core::Timestamp> TimeField(const JsonValue& object, const char* name,
                                        const std::string& where) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return core::Timestamp();
  if (!it->value.IsString()) {
    return core::InvalidArgumentError("{}.{}: must be an RFC 3339 date-time string", where, name);
  }
  const std::string_view text = View(it->value);
  if (IsGoZeroTime(text)) return core::Timestamp();
  // RFC 3339 only (ParseTimestamp would also take Unix seconds).
  if (text.find('T') == std::string_view::npos && text.find('t') == std::string_view::npos) {
    return core::InvalidArgumentError("{}.{}: \"{}\" is not an RFC 3339 date-time", where, name,
                                      text);
  }
  auto t = core::ParseTimestamp(text);
  // A malformed time or one beyond int64 nanoseconds (OUT_OF_RANGE): the field is invalid.
  if (!t.ok()) return core::InvalidArgumentError("{}.{}: {}", where, name, t.status().message());
  return *t;
}

// A string field: absent or null give "" (or an error when `required`).
core::Result<std::string> StringField(const JsonValue& object, const char* name,
                                      const std::string& where, bool required) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) {
    if (required) return core::InvalidArgumentError("{}.{}: required", where, name);
    return std::string();
  }
  if (!it->value.IsString()) {
    return core::InvalidArgumentError("{}.{}: must be a string", where, name);
  }
  return std::string(View(it->value));
}

// A labelSet (object of strings) as pairs, in the document's order.
core::Result<std::vector<core::Label>> LabelSetField(const JsonValue& object, const char* name,
                                                     const std::string& where) {
  std::vector<core::Label> pairs;
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return pairs;
  if (!it->value.IsObject()) {
    return core::InvalidArgumentError("{}.{}: must be an object of strings", where, name);
  }
  for (const auto& m : it->value.GetObject()) {
    if (!m.value.IsString()) {
      return core::InvalidArgumentError("{}.{}.{}: must be a string", where, name, View(m.name));
    }
    pairs.push_back({std::string(View(m.name)), std::string(View(m.value))});
  }
  return pairs;
}

// One postableAlert's structure (types); validation comes after, as
// Alertmanager's.
struct RawAlert {
  std::vector<core::Label> labels;
  std::vector<core::Label> annotations;
  core::Timestamp starts_at;
  core::Timestamp ends_at;
  std::string generator_url;
};

core::Result<RawAlert> ParseRawAlert(const JsonValue& v, const std::string& where) {
  if (!v.IsObject()) return core::InvalidArgumentError("{}: must be an object", where);
  RawAlert raw;
  ASSIGN_OR_RETURN(raw.labels, LabelSetField(v, "labels", where));
  ASSIGN_OR_RETURN(raw.annotations, LabelSetField(v, "annotations", where));
  ASSIGN_OR_RETURN(raw.starts_at, TimeField(v, "startsAt", where));
  ASSIGN_OR_RETURN(raw.ends_at, TimeField(v, "endsAt", where));
  ASSIGN_OR_RETURN(raw.generator_url, StringField(v, "generatorURL", where, false));
  return raw;
}

// Alertmanager's defaults and Validate: the alert, or the reason it is refused.
core::Result<alerting::Alert> ValidateAlert(RawAlert raw, const std::string& where,
                                            core::Timestamp now) {
  std::vector<core::Label> labels;
  for (auto& l : raw.labels) {
    if (!l.value.empty()) labels.push_back(std::move(l));  // removeEmptyLabels
  }
  if (labels.empty()) {
    return core::InvalidArgumentError("{}.labels: at least one label pair required", where);
  }
  for (const auto& l : labels) {
    if (!core::IsValidUtf8(l.value)) {
      return core::InvalidArgumentError("{}.labels.{}: invalid UTF-8 in the value", where, l.name);
    }
  }
  auto built = core::Labels::FromPairs(std::move(labels));
  if (!built.ok()) return built.status().WithContext(where + ".labels");
  // Alertmanager's validateLs on the annotations (its default UTF-8 names mode): a name is any
  // non-empty valid UTF-8, a value any valid UTF-8 (empty ones are kept).
  for (const auto& l : raw.annotations) {
    if (l.name.empty() || !core::IsValidUtf8(l.name)) {
      return core::InvalidArgumentError("{}.annotations: invalid name \"{}\"", where,
                                        core::IsValidUtf8(l.name) ? l.name : "<invalid UTF-8>");
    }
    if (!core::IsValidUtf8(l.value)) {
      return core::InvalidArgumentError("{}.annotations.{}: invalid UTF-8 in the value", where,
                                        l.name);
    }
  }
  alerting::Alert a;
  a.labels = std::move(*built);
  for (auto& l : raw.annotations) a.annotations[l.name] = std::move(l.value);
  a.generator_url = std::move(raw.generator_url);
  a.starts_at = raw.starts_at;
  a.ends_at = raw.ends_at;
  if (a.starts_at == core::Timestamp()) {
    a.starts_at = a.ends_at == core::Timestamp() ? now : a.ends_at;
  }
  if (a.ends_at != core::Timestamp() && a.ends_at < a.starts_at) {
    return core::InvalidArgumentError("{}.endsAt: must not be before startsAt", where);
  }
  const bool firing = a.ends_at == core::Timestamp() || a.ends_at > now;
  a.status = firing ? alerting::AlertStatus::kFiring : alerting::AlertStatus::kResolved;
  return a;
}

core::Result<bool> BoolField(const JsonValue& object, const char* name, const std::string& where,
                             bool fallback) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return fallback;
  if (!it->value.IsBool())
    return core::InvalidArgumentError("{}.{}: must be a boolean", where, name);
  return it->value.GetBool();
}

core::Result<alerting::Matcher> ParseSilenceMatcher(const JsonValue& v, const std::string& where) {
  if (!v.IsObject()) return core::InvalidArgumentError("{}: must be an object", where);
  ASSIGN_OR_RETURN(std::string name, StringField(v, "name", where, true));
  ASSIGN_OR_RETURN(std::string value, StringField(v, "value", where, true));
  auto regex = v.FindMember("isRegex");
  if (regex == v.MemberEnd() || regex->value.IsNull()) {
    return core::InvalidArgumentError("{}.isRegex: required", where);
  }
  ASSIGN_OR_RETURN(bool is_regex, BoolField(v, "isRegex", where, false));
  ASSIGN_OR_RETURN(bool is_equal, BoolField(v, "isEqual", where, true));
  const alerting::MatchType type =
      is_regex ? (is_equal ? alerting::MatchType::kRegexp : alerting::MatchType::kNotRegexp)
               : (is_equal ? alerting::MatchType::kEqual : alerting::MatchType::kNotEqual);
  auto m = alerting::Matcher::Make(type, std::move(name), std::move(value));
  if (!m.ok()) return m.status().WithContext(where);
  return m;
}

}  // namespace

core::Result<PostedAlerts> ParsePostableAlerts(std::string_view body, core::Timestamp now) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseDocument(body, &doc));
  if (!doc.IsArray()) return core::InvalidArgumentError("body: must be a JSON array of alerts");
  std::vector<RawAlert> raws;
  raws.reserve(doc.Size());
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    ASSIGN_OR_RETURN(RawAlert raw, ParseRawAlert(doc[i], "alerts[" + std::to_string(i) + "]"));
    raws.push_back(std::move(raw));
  }
  PostedAlerts out;
  for (size_t i = 0; i < raws.size(); ++i) {
    auto a = ValidateAlert(std::move(raws[i]), "alerts[" + std::to_string(i) + "]", now);
    if (a.ok()) {
      out.valid.push_back(std::move(*a));
    } else {
      out.errors.push_back(a.status().message());
    }
  }
  return out;
}

core::Result<alerting::Silence> ParsePostableSilence(std::string_view body) {
  rapidjson::Document parsed;
  RETURN_IF_ERROR(ParseDocument(body, &parsed));
  // Read through a const view: const member iterators compare without C++20's ambiguity.
  const JsonValue& doc = parsed;
  const std::string where = "silence";
  if (!doc.IsObject()) return core::InvalidArgumentError("body: must be a JSON object (a silence)");
  alerting::Silence s;
  ASSIGN_OR_RETURN(s.id, StringField(doc, "id", where, false));
  auto matchers = doc.FindMember("matchers");
  if (matchers == doc.MemberEnd() || matchers->value.IsNull()) {
    return core::InvalidArgumentError("silence.matchers: required");
  }
  if (!matchers->value.IsArray()) {
    return core::InvalidArgumentError("silence.matchers: must be an array of matchers");
  }
  if (matchers->value.Empty()) {
    return core::InvalidArgumentError("silence.matchers: at least one matcher required");
  }
  for (rapidjson::SizeType i = 0; i < matchers->value.Size(); ++i) {
    ASSIGN_OR_RETURN(
        alerting::Matcher m,
        ParseSilenceMatcher(matchers->value[i], "silence.matchers[" + std::to_string(i) + "]"));
    s.matchers.push_back(std::move(m));
  }
  for (const char* name : {"startsAt", "endsAt"}) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || it->value.IsNull()) {
      return core::InvalidArgumentError("silence.{}: required", name);
    }
  }
  ASSIGN_OR_RETURN(s.starts_at, TimeField(doc, "startsAt", where));
  ASSIGN_OR_RETURN(s.ends_at, TimeField(doc, "endsAt", where));
  ASSIGN_OR_RETURN(s.created_by, StringField(doc, "createdBy", where, true));
  ASSIGN_OR_RETURN(s.comment, StringField(doc, "comment", where, true));
  if (s.created_by.empty())
    return core::InvalidArgumentError("silence.createdBy: must not be empty");
  if (s.comment.empty()) return core::InvalidArgumentError("silence.comment: must not be empty");
  return s;
}

}  // namespace nines::api

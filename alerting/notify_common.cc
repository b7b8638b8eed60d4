// alerting/notify_common.cc: the helpers of notify_internal.h.
#include <fmt/format.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/notify_internal.h"
#include "alerting/template_set.h"
#include "core/json.h"

namespace nines::alerting::notify_internal {

namespace {

bool StartsWithPrefix(std::string_view key, std::string_view prefix) {
  return key.size() > prefix.size() && key.starts_with(prefix) && key[prefix.size()] == '.';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Fields

std::string Fields::Get(std::string_view key, std::string_view fallback) const {
  auto it = fields_.find(std::string(key));
  return it == fields_.end() ? std::string(fallback) : it->second;
}

bool Fields::Has(std::string_view key) const {
  auto it = fields_.find(std::string(key));
  return it != fields_.end() && !it->second.empty();
}

bool Fields::Bool(std::string_view key, bool fallback) const {
  auto it = fields_.find(std::string(key));
  if (it == fields_.end() || it->second.empty()) return fallback;
  std::string v = Lower(it->second);
  return v == "true" || v == "yes" || v == "on";
}

bool Fields::HasPrefix(std::string_view prefix) const {
  auto it = fields_.lower_bound(std::string(prefix) + ".");
  return it != fields_.end() && StartsWithPrefix(it->first, prefix);
}

size_t Fields::ListSize(std::string_view prefix) const {
  size_t n = 0;
  for (auto it = fields_.lower_bound(std::string(prefix) + ".");
       it != fields_.end() && StartsWithPrefix(it->first, prefix); ++it) {
    std::string_view rest = std::string_view(it->first).substr(prefix.size() + 1);
    rest = rest.substr(0, rest.find('.'));
    size_t index = 0;
    if (rest.empty() || !std::all_of(rest.begin(), rest.end(), ::isdigit)) continue;
    for (char c : rest) index = index * 10 + static_cast<size_t>(c - '0');
    if (index < 100000) n = std::max(n, index + 1);
  }
  return n;
}

std::map<std::string, std::string> Fields::Map(std::string_view prefix) const {
  std::map<std::string, std::string> out;
  for (auto it = fields_.lower_bound(std::string(prefix) + ".");
       it != fields_.end() && StartsWithPrefix(it->first, prefix); ++it) {
    out.emplace(it->first.substr(prefix.size() + 1), it->second);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

Renderer::Renderer(const BuildInput& in)
    : in_(in),
      where_(fmt::format("receiver {}, {}[{}]", in.n.receiver,
                         IntegrationKindName(in.integration.kind), in.n.integration_index)) {}

core::Result<std::string> Renderer::Text(std::string_view field, std::string_view text) const {
  // A field Alertmanager does not template is used as written, "{{" and all.
  if (!IsTemplatedField(in_.integration.kind, field) || text.find("{{") == std::string_view::npos) {
    return std::string(text);
  }
  core::Result<std::string> out = in_.context.templates->Execute(text, in_.data);
  if (!out.ok()) return Error(field, out.status().message());
  return out;
}

core::Result<std::string> Renderer::Html(std::string_view field, std::string_view text) const {
  if (text.find("{{") == std::string_view::npos) return std::string(text);
  core::Result<std::string> out = in_.context.templates->ExecuteHtml(text, in_.data);
  if (!out.ok()) return Error(field, out.status().message());
  return out;
}

core::Status Renderer::Error(std::string_view field, std::string_view what) const {
  return core::InvalidArgumentError("{}, field {}: {}", where_, field, what);
}

std::string DefaultTemplate(std::string_view name) {
  return fmt::format("{{{{ template \"{}\" . }}}}", name);
}

// ---------------------------------------------------------------------------------------------
// Formats

std::string GoJsonTime(core::Timestamp t) {
  if (t == core::Timestamp()) return "0001-01-01T00:00:00Z";
  using namespace std::chrono;
  const int64_t ns = t.UnixNanos();
  int64_t secs = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", int{ymd.year()}, unsigned{ymd.month()},
                  unsigned{ymd.day()}, sod / 3600, (sod / 60) % 60, sod % 60);
  if (frac != 0) {
    std::string digits = fmt::format("{:09}", frac);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out + "Z";
}

std::string Sha256Hex(std::string_view key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest.data(), &len, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i)
    fmt::format_to(std::back_inserter(out), "{:02x}", digest[i]);
  return out;
}

std::string TruncateRunes(std::string_view s, size_t n) {
  // Byte offsets where each rune starts.
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 || starts.empty()) starts.push_back(i);
    if (starts.size() > n) break;
  }
  if (starts.size() <= n) return std::string(s);
  if (n <= 3) return std::string(s.substr(0, starts[n]));
  return std::string(s.substr(0, starts[n - 1])) + "\u2026";
}

std::string Base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>(data[i]) << 16) |
                       (static_cast<unsigned char>(data[i + 1]) << 8) |
                       static_cast<unsigned char>(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < data.size()) {
    uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string QuoteMeta(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string MaskUrl(std::string_view url, bool keep_path) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "<secret>";
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string out = fmt::format("{}://{}", scheme, authority);
  if (authority_end == std::string_view::npos) return out;
  std::string_view tail = rest.substr(authority_end);
  tail = tail.substr(0, tail.find('#'));
  if (!keep_path) return tail.empty() || tail == "/" ? out + std::string(tail) : out + "/<secret>";
  size_t q = tail.find('?');
  out += tail.substr(0, q);
  if (q == std::string_view::npos) return out;
  // Keep the parameter names, mask the values.
  std::string_view query = tail.substr(q + 1);
  char sep = '?';
  while (!query.empty()) {
    std::string_view param = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), param.size() + 1));
    out += sep;
    out += param.substr(0, param.find('='));
    out += "=<secret>";
    sep = '&';
  }
  return out;
}

core::Status CheckHttpUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  std::string scheme = Lower(url.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end));
  if (scheme != "http" && scheme != "https") {
    return core::InvalidArgumentError("not an http or https URL");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (authority.empty()) return core::InvalidArgumentError("URL without a host");
  if (url.find_first_of(" \t\r\n") != std::string_view::npos) {
    return core::InvalidArgumentError("URL with white space");
  }
  return core::Status::Ok();
}

core::Status AddHttpAuth(const BuildInput& in, const Renderer& r, net::Headers* headers,
                         std::vector<std::string>* secrets) {
  Fields own(in.integration.fields);
  Fields global(in.global.fields);
  const Fields& f = own.HasPrefix("http_config") ? own : global;
  for (std::string_view file :
       {"http_config.basic_auth.password_file", "http_config.basic_auth.username_file",
        "http_config.authorization.credentials_file", "http_config.bearer_token_file"}) {
    if (f.Has(file)) {
      return r.Error(file,
                     "credentials in files are read when the configuration is loaded, "
                     "not when sending");
    }
  }
  const bool basic = f.HasPrefix("http_config.basic_auth");
  const bool authorization = f.HasPrefix("http_config.authorization");
  const bool bearer = f.Has("http_config.bearer_token");
  if (static_cast<int>(basic) + static_cast<int>(authorization) + static_cast<int>(bearer) > 1) {
    return r.Error("http_config",
                   "at most one of basic_auth, authorization and bearer_token may be set");
  }
  if (secrets != nullptr) {
    for (const char* name : {"http_config.basic_auth.password",
                             "http_config.authorization.credentials", "http_config.bearer_token"}) {
      if (f.Has(name) && !f.Get(name).empty()) secrets->push_back(f.Get(name));
    }
  }
  if (basic) {
    headers->Set("Authorization", "Basic " + Base64(f.Get("http_config.basic_auth.username") + ":" +
                                                    f.Get("http_config.basic_auth.password")));
  } else if (authorization && f.Has("http_config.authorization.credentials")) {
    // prometheus/common: the type defaults to Bearer.
    std::string type = f.Get("http_config.authorization.type", "Bearer");
    if (type.empty()) type = "Bearer";
    headers->Set("Authorization", type + " " + f.Get("http_config.authorization.credentials"));
  } else if (bearer) {
    headers->Set("Authorization", "Bearer " + f.Get("http_config.bearer_token"));
  }
  return core::Status::Ok();
}

core::Result<OutgoingRequest> JsonPost(const BuildInput& in, const Renderer& r, std::string url,
                                       std::string body, std::string target) {
  OutgoingRequest req;
  req.kind = OutgoingRequest::Kind::kHttp;
  req.http.method = "POST";
  req.http.url = std::move(url);
  req.http.headers.Set("Content-Type", "application/json");
  req.http.headers.Set("User-Agent", "nines/" NINES_VERSION);
  RETURN_IF_ERROR(AddHttpAuth(in, r, &req.http.headers, &req.secrets));
  // webhook, pagerduty and slack have a `timeout` (a Go duration; 0 or none: the client's).
  if (Fields f(in.integration.fields); f.Has("timeout")) {
    core::Result<core::Duration> timeout = core::ParseDuration(f.Get("timeout"));
    if (!timeout.ok()) return r.Error("timeout", timeout.status().message());
    req.http.timeout = *timeout;
  }
  req.http.body = std::move(body);
  req.target = std::move(target);
  return req;
}

// ---------------------------------------------------------------------------------------------
// JSON

void AppendAlertJson(std::string* out, const TemplateAlert& a) {
  *out += "{\"status\":";
  core::AppendJsonString(out, a.status);
  *out += ",\"labels\":";
  core::AppendJsonStringMap(out, a.labels);
  *out += ",\"annotations\":";
  core::AppendJsonStringMap(out, a.annotations);
  *out += ",\"startsAt\":";
  core::AppendJsonString(out, GoJsonTime(a.starts_at));
  *out += ",\"endsAt\":";
  core::AppendJsonString(out, GoJsonTime(a.ends_at));
  *out += ",\"generatorURL\":";
  core::AppendJsonString(out, a.generator_url);
  *out += ",\"fingerprint\":";
  core::AppendJsonString(out, a.fingerprint);
  *out += '}';
}

void AppendAlertsJson(std::string* out, const std::vector<const TemplateAlert*>& alerts) {
  *out += '[';
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (i > 0) *out += ',';
    AppendAlertJson(out, *alerts[i]);
  }
  *out += ']';
}

std::vector<const TemplateAlert*> AlertsWithStatus(const TemplateData& data,
                                                   std::string_view status) {
  std::vector<const TemplateAlert*> out;
  for (const TemplateAlert& a : data.alerts) {
    if (a.status == status) out.push_back(&a);
  }
  return out;
}

void AppendDetailValue(std::string* out, std::string_view value) {
  // Alertmanager parses a rendered detail as YAML and keeps anything but a string structured.
  // nines takes the JSON subset of that (which covers numbers, booleans, null and what
  // toJson-like templates print); a text that is not JSON stays a string. The text comes from
  // alerts (untrusted), so only short texts that can start a non-string JSON value are tried,
  // with the iterative parser: no nesting depth can exhaust the stack.
  constexpr size_t kMaxStructuredDetail = 4096;
  size_t b = value.find_first_not_of(" \t\r\n");
  bool may_be_json = b != std::string_view::npos && value.size() <= kMaxStructuredDetail &&
                     std::string_view("[{-0123456789tfn").find(value[b]) != std::string_view::npos;
  rapidjson::Document doc;
  if (may_be_json) {  // the whole text, white space around allowed
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
        value.data(), value.size());
  }
  if (may_be_json && !doc.HasParseError() && !doc.IsString()) {
    size_t e = value.find_last_not_of(" \t\r\n");
    *out += value.substr(b, e - b + 1);
    return;
  }
  core::AppendJsonString(out, value);
}

// ---------------------------------------------------------------------------------------------
// nines' SLO facts

SloFacts SloFactsOf(const TemplateAlert& a) {
  auto label = [&](const char* name) {
    auto it = a.labels.find(name);
    return it == a.labels.end() ? std::string() : it->second;
  };
  auto annotation = [&](const char* name) {
    auto it = a.annotations.find(name);
    return it == a.annotations.end() ? std::string() : it->second;
  };
  SloFacts f;
  f.region = label("region");
  f.slo = label("slo");
  f.severity = label("severity");
  f.alertname = label("alertname");
  f.budget_remaining = annotation("budget_remaining");
  f.budget_total = annotation("budget_total");
  f.budget_unit = annotation("budget_unit");
  f.budget_remaining_ratio = annotation("budget_remaining_ratio");
  f.long_burn_rate = annotation("long_burn_rate");
  f.short_burn_rate = annotation("short_burn_rate");
  f.window_pair = annotation("window_pair");
  f.exhaustion_at_1h_burn = annotation("exhaustion_at_1h_burn");
  f.summary = annotation("summary");
  f.generator_url = a.generator_url;
  return f;
}

SloFacts GetSloFacts(const TemplateData& data) {
  if (data.alerts.empty()) return SloFacts();
  for (const TemplateAlert& a : data.alerts) {
    if (a.status == "firing") return SloFactsOf(a);
  }
  return SloFactsOf(data.alerts[0]);
}

std::string SloUrl(std::string_view external_url, std::string_view slo) {
  if (external_url.empty() || slo.empty()) return "";
  while (external_url.ends_with('/')) external_url.remove_suffix(1);
  std::string out = fmt::format("{}/api/v1/slos/", external_url);
  for (unsigned char c : slo) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      fmt::format_to(std::back_inserter(out), "%{:02X}", c);
    }
  }
  return out;
}

}  // namespace nines::alerting::notify_internal

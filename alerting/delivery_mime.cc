// The pure pieces of delivery: Retry-After and HTTP dates, the email's wire format, backoff caps
// and secret scrubbing (see delivery_internal.h).
#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/delivery_internal.h"
#include "core/json.h"
#include "net/net.h"

namespace nines::alerting::delivery_internal {
namespace {

using core::Duration;
using core::Timestamp;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

int MonthIndex(std::string_view name) {
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (net::EqualsIgnoreCase(kMonths[i], name)) return static_cast<int>(i) + 1;
  }
  return 0;
}

// Splits on runs of `seps`.
std::vector<std::string_view> Fields(std::string_view s, std::string_view seps) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && seps.find(s[i]) != std::string_view::npos) ++i;
    size_t j = i;
    while (j < s.size() && seps.find(s[j]) == std::string_view::npos) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<Timestamp> MakeTime(int year, int month, int day, std::string_view hms) {
  std::vector<std::string_view> t = Fields(hms, ":");
  if (t.size() != 3 || month == 0) return std::nullopt;
  for (std::string_view f : t) {
    if (!AllDigits(f) || f.size() != 2) return std::nullopt;
  }
  int h = ToInt(t[0]), m = ToInt(t[1]), s = ToInt(t[2]);
  if (h > 23 || m > 59 || s > 60 || day < 1 || day > 31) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok()) return std::nullopt;
  int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return Timestamp::FromUnixSeconds(days * 86400 + h * 3600 + m * 60 + s);
}

constexpr std::string_view kHex = "0123456789ABCDEF";

void AppendHex(std::string& out, unsigned char c) {
  out += '=';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

// Bytes of the UTF-8 sequence that starts with `c` (1 for a stray continuation byte).
size_t Utf8Length(unsigned char c) {
  if (c >= 0xF0 && c < 0xF8) return 4;
  if (c >= 0xE0) return c < 0xF0 ? 3 : 1;
  if (c >= 0xC0) return 2;
  return 1;
}

void ReplaceAll(std::string& s, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + with.size())) {
    s.replace(pos, what.size(), with);
  }
}

bool IsCredentialHeader(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "authorization" || lower.find("key") != std::string::npos ||
         lower.find("token") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("auth") != std::string::npos || lower.find("cookie") != std::string::npos;
}

// At least 16 characters, or at least 8 with a digit: a token rather than a word of a path
// ("services", "v2", "alerts").
bool LooksLikeToken(std::string_view part) {
  if (part.size() >= 16) return true;
  return part.size() >= 8 &&
         std::any_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c >= 127 || c == ':') return false;
  }
  return true;
}

}  // namespace

std::optional<Timestamp> ParseHttpDate(std::string_view text) {
  std::vector<std::string_view> f = Fields(Trim(text), " ,");
  if (f.size() == 6 && f[5] == "GMT" && AllDigits(f[1]) && AllDigits(f[3])) {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    return MakeTime(ToInt(f[3]), MonthIndex(f[2]), ToInt(f[1]), f[4]);
  }
  if (f.size() == 4 && f[3] == "GMT") {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    std::vector<std::string_view> d = Fields(f[1], "-");
    if (d.size() != 3 || !AllDigits(d[0]) || !AllDigits(d[2]) || d[2].size() != 2) {
      return std::nullopt;
    }
    int yy = ToInt(d[2]);
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    int year = yy < 70 ? 2000 + yy : 1900 + yy;
    return MakeTime(year, MonthIndex(d[1]), ToInt(d[0]), f[2]);
  }
  if (f.size() == 5 && AllDigits(f[2]) && AllDigits(f[4])) {
    // asctime: Sun Nov  6 08:49:37 1994
    return MakeTime(ToInt(f[4]), MonthIndex(f[1]), ToInt(f[2]), f[3]);
  }
  return std::nullopt;
}

std::optional<Duration> ParseRetryAfter(std::string_view value, Timestamp now) {
  constexpr int64_t kMaxSeconds = 366 * 86400;
  std::string_view v = Trim(value);
  if (AllDigits(v)) {
    if (v.size() > 9 || ToInt(v) > kMaxSeconds) return std::nullopt;
    return Duration::Seconds(ToInt(v));
  }
  std::optional<Timestamp> at = ParseHttpDate(v);
  if (!at) return std::nullopt;
  Duration wait = *at - now;
  if (wait < Duration::Zero()) return Duration::Zero();
  if (wait > Duration::Seconds(kMaxSeconds)) return std::nullopt;
  return wait;
}

std::string FormatEmailDate(Timestamp t) {
  int64_t secs = t.UnixNanos() / 1'000'000'000;
  if (t.UnixNanos() < 0 && t.UnixNanos() % 1'000'000'000 != 0) --secs;
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::chrono::sys_days sd{std::chrono::days(days)};
  std::chrono::year_month_day ymd(sd);
  std::chrono::weekday wd(sd);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} +0000", kWeekdays[wd.c_encoding()],
                     static_cast<unsigned>(ymd.day()),
                     kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                     rem / 3600, rem / 60 % 60, rem % 60);
}

std::string EncodeHeaderValue(std::string_view value) {
  std::string clean(value);
  bool plain = true;
  for (char& c : clean) {
    if (c == '\r' || c == '\n') c = ' ';
    auto u = static_cast<unsigned char>(c);
    if (u >= 127 || (u < ' ' && u != '\t')) plain = false;
  }
  if (plain) return clean;
  constexpr std::string_view kPrefix = "=?UTF-8?q?", kSuffix = "?=";
  constexpr size_t kMaxWord = 75;
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += "\r\n ";
    out += kPrefix;
    out += word;
    out += kSuffix;
    word.clear();
  };
  for (size_t i = 0; i < clean.size();) {
    size_t n = std::min(Utf8Length(static_cast<unsigned char>(clean[i])), clean.size() - i);
    std::string enc;
    for (size_t k = 0; k < n; ++k) {
      auto c = static_cast<unsigned char>(clean[i + k]);
      if (c == ' ') {
        enc += '_';
      } else if (c > ' ' && c < 127 && c != '=' && c != '?' && c != '_' && c != '"') {
        enc += static_cast<char>(c);
      } else {
        AppendHex(enc, c);
      }
    }
    if (kPrefix.size() + word.size() + enc.size() + kSuffix.size() > kMaxWord) flush();
    word += enc;
    i += n;
  }
  flush();
  return out;
}

std::string QuotedPrintable(std::string_view text) {
  std::string out;
  size_t line_len = 0;
  auto emit = [&](std::string_view piece) {
    if (line_len + piece.size() > 75) {
      out += "=\r\n";
      line_len = 0;
    }
    out += piece;
    line_len += piece.size();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      out += "\r\n";
      line_len = 0;
      continue;
    }
    bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n' ||
                       (text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n');
    std::string piece;
    if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end)) {
      piece = std::string(1, static_cast<char>(c));
    } else {
      AppendHex(piece, c);
    }
    emit(piece);
  }
  return out;
}

std::string AddressOf(std::string_view mailbox) {
  size_t open = mailbox.rfind('<');
  size_t close = mailbox.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return std::string(Trim(mailbox.substr(open + 1, close - open - 1)));
  }
  return std::string(Trim(mailbox));
}

core::Result<std::string> BuildEmail(const EmailMessage& m, Timestamp now, uint64_t random) {
  std::string out;
  bool has_message_id = false, has_date = false;
  for (const auto& [name, value] : m.headers) {
    if (!IsToken(name)) {
      return core::InvalidArgumentError("email header name \"{}\" is not a token", name);
    }
    // The MIME structure is ours to write.
    if (net::EqualsIgnoreCase(name, "Content-Type") ||
        net::EqualsIgnoreCase(name, "MIME-Version") ||
        net::EqualsIgnoreCase(name, "Content-Transfer-Encoding")) {
      continue;
    }
    has_message_id |= net::EqualsIgnoreCase(name, "Message-Id");
    has_date |= net::EqualsIgnoreCase(name, "Date");
    out += fmt::format("{}: {}\r\n", name, EncodeHeaderValue(value));
  }
  if (!has_message_id) {
    std::string domain = AddressOf(m.from);
    size_t at = domain.rfind('@');
    domain = at == std::string::npos ? "nines.localdomain" : domain.substr(at + 1);
    out += fmt::format("Message-Id: <{}.{:016x}@{}>\r\n", now.UnixNanos(), random,
                       EncodeHeaderValue(domain));
  }
  if (!has_date) out += fmt::format("Date: {}\r\n", FormatEmailDate(now));
  std::string boundary = fmt::format("nines-{:016x}{:08x}", random, now.UnixNanos() & 0xffffffff);
  out += "MIME-Version: 1.0\r\n";
  out += fmt::format("Content-Type: multipart/alternative; boundary=\"{}\"\r\n\r\n", boundary);
  auto part = [&](std::string_view type, std::string_view body) {
    if (body.empty()) return;
    out += fmt::format("--{}\r\n", boundary);
    out += fmt::format("Content-Type: {}; charset=UTF-8\r\n", type);
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    out += QuotedPrintable(body);
    out += "\r\n";
  };
  // The preferred alternative last (RFC 2046 5.1.4), as Alertmanager does.
  part("text/plain", m.text);
  part("text/html", m.html);
  out += fmt::format("--{}--\r\n", boundary);
  return out;
}

Duration BackoffCap(Duration initial, Duration max, int failures) {
  Duration cap = initial;
  for (int i = 1; i < failures && cap < max; ++i) {
    cap = cap > max / 2 ? max : cap * 2;
  }
  return std::min(cap, max);
}

std::string Scrub(std::string_view text, const OutgoingRequest& request, size_t max_bytes) {
  std::string s(text);
  if (request.kind == OutgoingRequest::Kind::kHttp) {
    ReplaceAll(s, request.http.url, "<secret>");
    auto url = net::ParseUrl(request.http.url);
    if (url.ok() && url->target.size() > 1) {
      ReplaceAll(s, url->target, "<secret>");
      // A response may echo one segment of the path (a webhook's token) or a query value (a key):
      // mask those that look like tokens.
      for (std::string_view part : Fields(url->target, "/?&=")) {
        if (LooksLikeToken(part)) ReplaceAll(s, part, "<secret>");
      }
    }
    for (const net::HeaderField& h : request.http.headers) {
      if (!IsCredentialHeader(h.name) || h.value.size() < 4) continue;
      ReplaceAll(s, h.value, "<secret>");
      // "Bearer abc": the credential alone, too.
      size_t space = h.value.rfind(' ');
      if (space != std::string::npos && h.value.size() - space > 4) {
        ReplaceAll(s, std::string_view(h.value).substr(space + 1), "<secret>");
      }
    }
  } else if (request.email.auth_password.size() >= 2) {
    ReplaceAll(s, request.email.auth_password, "<secret>");
  }
  for (const std::string& secret : request.secrets) {
    if (secret.size() < 4) continue;
    ReplaceAll(s, secret, "<secret>");
    // An echo of a JSON body shows the key as the body wrote it.
    std::string escaped;
    core::AppendJsonString(&escaped, secret);
    escaped = escaped.substr(1, escaped.size() - 2);
    if (escaped != secret) ReplaceAll(s, escaped, "<secret>");
  }
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < ' ' || c == 127) c = ' ';
  }
  if (s.size() > max_bytes) {
    size_t cut = max_bytes;
    // Do not cut a UTF-8 sequence in two.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "...";
  }
  return s;
}

core::Status CheckResponse(const OutgoingRequest& request, const TransportResponse& response) {
  if (request.response_check != OutgoingRequest::ResponseCheck::kSlackApiOk) {
    return core::Status::Ok();
  }
  // Alertmanager's slackResponseHandler: a body it cannot read is retried, ok:false is not.
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(response.body.data(), response.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return core::UnavailableError("Slack answered {} with a body that is not its JSON",
                                  response.status);
  }
  // HasMember and [] rather than FindMember: clang's C++20 -Wambiguous-reversed-operator trips on
  // comparing RapidJSON's non-const member iterators.
  if (doc.HasMember("ok") && doc["ok"].IsBool() && doc["ok"].GetBool()) return core::Status::Ok();
  std::string error = "(no error given)";
  if (doc.HasMember("error") && doc["error"].IsString()) {
    error.assign(doc["error"].GetString(), doc["error"].GetStringLength());
  }
  if (error == "ratelimited") return core::UnavailableError("Slack answered ok:false: ratelimited");
  return core::FailedPreconditionError("Slack answered ok:false: {}", error);
}

}  // namespace nines::alerting::delivery_internal

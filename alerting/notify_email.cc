// alerting/notify_email.cc: an email as Alertmanager's notify/email writes it: envelope from the
// `from` address, recipients from `to` (an address list), headers Subject, To and From by
// default plus the configured ones (all templated), an HTML body (default
// email.default.html) and an optional text body; SMTP settings fall back to global smtp_*.
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "alerting/notify_internal.h"

namespace nines::alerting::notify_internal {

namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

// The addresses of an RFC 5322 address list ("Ops <ops@example.com>, dev@example.com"): commas
// inside quotes or angle brackets do not separate; "Name <addr>" gives addr. Errors: a part
// without an address.
core::Result<std::vector<std::string>> ParseAddressList(std::string_view list) {
  std::vector<std::string> parts;
  std::string current;
  bool quoted = false;
  int angle = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    char c = list[i];
    if (quoted && c == '\\' && i + 1 < list.size()) {
      current += c;
      current += list[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '<') ++angle;
    if (!quoted && c == '>' && angle > 0) --angle;
    if (c == ',' && !quoted && angle == 0) {
      parts.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  parts.push_back(current);
  std::vector<std::string> out;
  for (const std::string& part : parts) {
    std::string p = Trim(part);
    size_t lt = p.rfind('<');
    if (lt != std::string::npos && p.ends_with('>')) p = Trim(p.substr(lt + 1, p.size() - lt - 2));
    const size_t at = p.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == p.size() ||
        p.find_first_of(" \t<>\"") != std::string::npos) {
      return core::InvalidArgumentError("\"{}\" is not an email address", Trim(part));
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Go's textproto.CanonicalMIMEHeaderKey: "content-type" -> "Content-Type".
std::string CanonicalHeader(std::string_view name) {
  std::string out(name);
  bool upper = true;
  for (char& c : out) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

}  // namespace

core::Result<std::vector<OutgoingRequest>> BuildEmail(const BuildInput& in) {
  Fields f(in.integration.fields);
  Fields g(in.global.fields);
  Renderer r(in);
  EmailMessage m;
  m.smarthost = f.Has("smarthost") ? f.Get("smarthost") : g.Get("smtp_smarthost");
  if (m.smarthost.empty()) return r.Error("smarthost", "no smarthost here nor smtp_smarthost");
  m.require_tls =
      f.Has("require_tls") ? f.Bool("require_tls", true) : g.Bool("smtp_require_tls", true);
  m.hello = f.Has("hello") ? f.Get("hello") : g.Get("smtp_hello", "localhost");
  if (m.hello.empty()) m.hello = "localhost";
  m.auth_username = f.Has("auth_username") ? f.Get("auth_username") : g.Get("smtp_auth_username");
  m.auth_identity = f.Has("auth_identity") ? f.Get("auth_identity") : g.Get("smtp_auth_identity");
  const bool own_password = f.Has("auth_password") || f.Has("auth_password_file");
  if ((own_password && f.Has("auth_password_file")) ||
      (!own_password && g.Has("smtp_auth_password_file"))) {
    return r.Error("auth_password_file",
                   "passwords in files are read when the configuration is loaded");
  }
  m.auth_password = own_password ? f.Get("auth_password") : g.Get("smtp_auth_password");
  // Alertmanager uses auth_secret for CRAM-MD5 only, which the SMTP transport does not speak:
  // with a secret and no password there is no way to log in.
  const bool secret = f.Has("auth_secret") || f.Has("auth_secret_file") ||
                      g.Has("smtp_auth_secret") || g.Has("smtp_auth_secret_file");
  if (secret && m.auth_password.empty()) {
    return r.Error("auth_secret",
                   "CRAM-MD5 (auth_secret) is not supported by nines; set "
                   "auth_password for PLAIN or LOGIN");
  }

  const std::string from_text = f.Has("from") ? f.Get("from") : g.Get("smtp_from");
  ASSIGN_OR_RETURN(std::string from, r.Text("from", from_text));
  auto from_addrs = ParseAddressList(from);
  if (!from_addrs.ok()) return r.Error("from", from_addrs.status().message());
  if (from_addrs->size() != 1) {
    return r.Error("from", "must be exactly one address");
  }
  m.from = (*from_addrs)[0];
  ASSIGN_OR_RETURN(std::string to, r.Text("to", f.Get("to")));
  auto to_addrs = ParseAddressList(to);
  if (!to_addrs.ok()) return r.Error("to", to_addrs.status().message());
  m.to = std::move(*to_addrs);

  // Headers: the configured ones under their canonical names, then the defaults Alertmanager
  // adds when absent (the raw `to` and `from` texts, templated like any header).
  std::map<std::string, std::string> headers;
  for (const auto& [name, text] : f.Map("headers")) headers[CanonicalHeader(name)] = text;
  headers.emplace("Subject", DefaultTemplate("email.default.subject"));
  headers.emplace("To", f.Get("to"));
  headers.emplace("From", from_text);
  for (const auto& [name, text] : headers) {
    ASSIGN_OR_RETURN(m.headers[name], r.Text("headers." + name, text));
  }
  ASSIGN_OR_RETURN(m.html, r.Html("html", f.Get("html", DefaultTemplate("email.default.html"))));
  ASSIGN_OR_RETURN(m.text, r.Text("text", f.Get("text")));

  OutgoingRequest req;
  req.kind = OutgoingRequest::Kind::kEmail;
  req.target = "smtp://" + m.smarthost;
  if (!m.auth_password.empty()) req.secrets.push_back(m.auth_password);
  req.email = std::move(m);
  std::vector<OutgoingRequest> out;
  out.push_back(std::move(req));
  return out;
}

}  // namespace nines::alerting::notify_internal

// Headers, Request, Response and Router: the transport-independent half of net.h.
#include "net/net.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/json.h"
#include "net/internal.h"

namespace nines::net {
namespace {

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Lenient decoding for query strings: a bad escape is kept verbatim.
std::string DecodeLenient(std::string_view text) {
  core::Result<std::string> decoded = PercentDecode(text, /*plus_is_space=*/true);
  if (decoded.ok()) return std::move(decoded).value();
  std::string out(text);
  std::replace(out.begin(), out.end(), '+', ' ');
  return out;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  // "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""}.
  std::vector<std::string_view> parts;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool IsFormBody(const Request& req) {
  std::string_view type = req.headers.Get("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return EqualsIgnoreCase(type, "application/x-www-form-urlencoded");
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

std::string_view Headers::Get(std::string_view name) const {
  for (const HeaderField& f : fields_) {
    if (EqualsIgnoreCase(f.name, name)) return f.value;
  }
  return {};
}

std::vector<std::string_view> Headers::GetAll(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const HeaderField& f : fields_) {
    if (EqualsIgnoreCase(f.name, name)) values.push_back(f.value);
  }
  return values;
}

bool Headers::Has(std::string_view name) const {
  return std::any_of(fields_.begin(), fields_.end(),
                     [&](const HeaderField& f) { return EqualsIgnoreCase(f.name, name); });
}

void Headers::Set(std::string_view name, std::string_view value) {
  Remove(name);
  Add(name, value);
}

void Headers::Add(std::string_view name, std::string_view value) {
  fields_.push_back(HeaderField{std::string(name), std::string(value)});
}

void Headers::Remove(std::string_view name) {
  std::erase_if(fields_, [&](const HeaderField& f) { return EqualsIgnoreCase(f.name, name); });
}

core::Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return core::InvalidArgumentError("truncated percent escape in \"{}\"", text);
      }
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return core::InvalidArgumentError("bad percent escape \"{}\" in \"{}\"", text.substr(i, 3),
                                          text);
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQueryString(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    params.emplace_back(DecodeLenient(name), DecodeLenient(value));
  }
  return params;
}

std::string Request::QueryParam(std::string_view name) const {
  for (auto& [n, v] : ParseQueryString(query)) {
    if (n == name) return v;
  }
  return {};
}

std::vector<std::string> Request::QueryParams(std::string_view name) const {
  std::vector<std::string> values;
  for (auto& [n, v] : ParseQueryString(query)) {
    if (n == name) values.push_back(std::move(v));
  }
  return values;
}

std::string_view Request::PathParam(std::string_view name) const {
  auto it = path_params.find(name);
  return it == path_params.end() ? std::string_view() : std::string_view(it->second);
}

std::string Request::FormValue(std::string_view name) const {
  std::vector<std::string> values = FormValues(name);
  return values.empty() ? std::string() : std::move(values.front());
}

std::vector<std::string> Request::FormValues(std::string_view name) const {
  std::vector<std::string> values;
  if (IsFormBody(*this)) {
    for (auto& [n, v] : ParseQueryString(body)) {
      if (n == name) values.push_back(std::move(v));
    }
  }
  for (std::string& v : QueryParams(name)) values.push_back(std::move(v));
  return values;
}

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::Error(int status, std::string_view reason) {
  std::string body = R"({"status":"error","error":)";
  core::AppendJsonString(&body, reason);
  body.push_back('}');
  return Json(status, std::move(body));
}

void Router::SetError(core::Status status) {
  if (status_.ok()) status_ = std::move(status);
}

void Router::Handle(std::string_view method, std::string_view pattern, Access access,
                    Handler handler) {
  if (method.empty())
    return SetError(core::InvalidArgumentError("route {}: empty method", pattern));
  if (!handler) {
    return SetError(core::InvalidArgumentError("route {} {}: null handler", method, pattern));
  }
  if (pattern.empty() || pattern[0] != '/') {
    return SetError(core::InvalidArgumentError("route {} \"{}\": pattern must start with '/'",
                                               method, pattern));
  }
  std::vector<Segment> segments;
  std::set<std::string, std::less<>> names;
  for (std::string_view part : SplitPath(pattern)) {
    Segment seg;
    if (!part.empty() && part.front() == '{') {
      if (part.size() < 3 || part.back() != '}' ||
          part.substr(1, part.size() - 2).find_first_of("{}") != std::string_view::npos) {
        return SetError(core::InvalidArgumentError("route {} \"{}\": bad parameter segment \"{}\"",
                                                   method, pattern, part));
      }
      seg.is_param = true;
      seg.text = std::string(part.substr(1, part.size() - 2));
      if (!names.insert(seg.text).second) {
        return SetError(core::InvalidArgumentError(
            "route {} \"{}\": parameter \"{}\" appears twice", method, pattern, seg.text));
      }
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        return SetError(core::InvalidArgumentError(
            "route {} \"{}\": braces must enclose a whole segment", method, pattern));
      }
      seg.text = std::string(part);
    }
    segments.push_back(std::move(seg));
  }

  auto it = std::find_if(patterns_.begin(), patterns_.end(),
                         [&](const PatternEntry& e) { return e.pattern == pattern; });
  if (it == patterns_.end()) {
    patterns_.push_back(PatternEntry{std::string(pattern), std::move(segments), {}});
    it = patterns_.end() - 1;
  }
  for (const Route& r : it->routes) {
    if (r.method == method) {
      return SetError(core::AlreadyExistsError("route {} {} registered twice", method, pattern));
    }
  }
  it->routes.push_back(
      Route{std::string(method), std::string(pattern), access, std::move(handler)});
}

std::vector<std::string> Router::Patterns() const {
  std::vector<std::string> out;
  out.reserve(patterns_.size());
  for (const PatternEntry& e : patterns_) out.push_back(e.pattern);
  return out;
}

bool Router::HasProtectedRoutes() const {
  for (const PatternEntry& e : patterns_) {
    for (const Route& r : e.routes) {
      if (r.access != Access::kPublic) return true;
    }
  }
  return false;
}

Router::Match Router::Find(std::string_view method, std::string_view raw_path) const {
  Match match;
  if (raw_path.empty() || raw_path[0] != '/') return match;
  std::vector<std::string_view> raw_parts = SplitPath(raw_path);
  std::vector<std::string> parts;
  parts.reserve(raw_parts.size());
  for (std::string_view p : raw_parts) {
    core::Result<std::string> decoded = PercentDecode(p, /*plus_is_space=*/false);
    if (!decoded.ok()) return match;
    parts.push_back(std::move(decoded).value());
  }

  // Matching patterns, most specific first.
  std::vector<const PatternEntry*> candidates;
  for (const PatternEntry& e : patterns_) {
    if (e.segments.size() != parts.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      const Segment& s = e.segments[i];
      ok = s.is_param ? !parts[i].empty() : s.text == parts[i];
    }
    if (ok) candidates.push_back(&e);
  }
  if (candidates.empty()) return match;
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const PatternEntry* a, const PatternEntry* b) {
                     for (size_t i = 0; i < a->segments.size(); ++i) {
                       if (a->segments[i].is_param != b->segments[i].is_param) {
                         return !a->segments[i].is_param;
                       }
                     }
                     return false;
                   });

  auto find_method = [&](std::string_view m) -> std::pair<const PatternEntry*, const Route*> {
    for (const PatternEntry* e : candidates) {
      for (const Route& r : e->routes) {
        if (r.method == m) return {e, &r};
      }
    }
    return {nullptr, nullptr};
  };
  auto [entry, route] = find_method(method);
  if (route == nullptr && method == "HEAD") std::tie(entry, route) = find_method("GET");
  if (route != nullptr) {
    match.kind = Match::Kind::kFound;
    match.route = route;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (entry->segments[i].is_param) {
        match.path_params.emplace(entry->segments[i].text, std::move(parts[i]));
      }
    }
    return match;
  }

  std::set<std::string> allowed;
  for (const PatternEntry* e : candidates) {
    for (const Route& r : e->routes) {
      allowed.insert(r.method);
      if (r.method == "GET") allowed.insert("HEAD");
    }
  }
  match.kind = Match::Kind::kMethodNotAllowed;
  for (const std::string& m : allowed) {
    if (!match.allow.empty()) match.allow.append(", ");
    match.allow.append(m);
  }
  return match;
}

namespace internal {

core::Result<HostPort> SplitHostPort(std::string_view text) {
  HostPort hp;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return core::InvalidArgumentError("address \"{}\": missing ']'", text);
    }
    hp.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return core::InvalidArgumentError("address \"{}\": expected ':port' after ']'", text);
    }
    port_text = rest.substr(1);
    if (hp.host.empty()) return core::InvalidArgumentError("address \"{}\": empty host", text);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return core::InvalidArgumentError("address \"{}\": missing ':port'", text);
    }
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) {
      return core::InvalidArgumentError(
          "address \"{}\": an IPv6 host must be in brackets, e.g. [::1]:9099", text);
    }
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return core::InvalidArgumentError("address \"{}\": bad port \"{}\"", text, port_text);
  }
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

std::string JoinHostPort(std::string_view host, int port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",   "HEAD",    "POST",    "PUT",  "DELETE",
                                                "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  for (std::string_view m : kKnown) {
    if (m == method) return m;
  }
  return "OTHER";
}

}  // namespace internal
}  // namespace nines::net

// How template values print (template_internal.h): Go's fmt rules for the types templates see,
// and printf's verbs.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "alerting/template_internal.h"

namespace nines::alerting::template_internal {

namespace {

// Go's time.Time.String() for a UTC time: "2006-01-02 15:04:05.999999999 +0000 UTC".
std::string GoTime(core::Timestamp t) {
  return FormatGoTime(t, "2006-01-02 15:04:05.999999999 -0700 MST");
}

// Go's %v for a float64: strconv's shortest 'g', which uses an exponent when it is below -4 or
// at least 6 (so 100000 but 1e+06, 1.234567e+06).
std::string GoFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // e.g. "-1.2345e+08"
  size_t e = sci.find('e');
  int exp = std::atoi(sci.c_str() + e + 1);
  if (exp < -4 || exp >= 6) {
    // Go prints at least two exponent digits: 1e+06, 1e-05.
    std::string mant = sci.substr(0, e);
    int ae = std::abs(exp);
    return fmt::format("{}e{}{:02}", mant, exp < 0 ? '-' : '+', ae);
  }
  r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f)
          out += fmt::format("\\x{:02x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SortedPairs(
    const std::map<std::string, std::string>& m) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = m.find("alertname");
  if (it != m.end()) out.emplace_back(*it);
  for (const auto& kv : m)
    if (kv.first != "alertname") out.emplace_back(kv);
  return out;
}

std::string Value::TypeName() const {
  switch (kind_) {
    case Kind::kNil:
      return "<nil>";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float64";
    case Kind::kString:
      return "string";
    case Kind::kTime:
      return "time.Time";
    default:
      return s_.starts_with("[]") ? "[]template." + s_.substr(2) : "template." + s_;
  }
}

std::string Print(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil:
      return "<no value>";
    case Value::Kind::kBool:
      return v.b() ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(v.i());
    case Value::Kind::kFloat:
      return GoFloat(v.f());
    case Value::Kind::kString:
      return v.s();
    case Value::Kind::kTime:
      return GoTime(v.t());
    case Value::Kind::kMap: {  // KV.String()
      std::string out;
      for (const auto& [k, val] : SortedPairs(v.map())) {
        if (!out.empty()) out += ", ";
        out += k + "=" + val;
      }
      return out;
    }
    case Value::Kind::kList: {
      std::string out;
      if (v.s() == "Pairs") {  // Pairs.String()
        for (const Value& p : v.list()) {
          if (!out.empty()) out += ", ";
          out += p.fields()[0].second.s() + "=" + p.fields()[1].second.s();
        }
        return out;
      }
      for (const Value& e : v.list()) out += (out.empty() ? "" : " ") + Print(e);
      return "[" + out + "]";
    }
    case Value::Kind::kStruct: {
      std::string out;
      for (const auto& [name, f] : v.fields()) out += (out.empty() ? "" : " ") + Print(f);
      return "{" + out + "}";
    }
  }
  return "";
}

namespace {

struct Spec {
  bool minus = false, zero = false, plus = false;
  int width = -1, prec = -1;
};

std::string Pad(std::string s, const Spec& spec) {
  if (spec.width < 0 || static_cast<int>(s.size()) >= spec.width) return s;
  size_t n = spec.width - s.size();
  if (spec.minus) return s + std::string(n, ' ');
  if (spec.zero) {
    size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    return s.insert(sign, std::string(n, '0'));
  }
  return std::string(n, ' ') + s;
}

std::string BadVerb(char verb, const Value& v) {
  if (v.kind() == Value::Kind::kNil) return fmt::format("%!{}(<nil>)", verb);
  return fmt::format("%!{}({}={})", verb, v.TypeName(), Print(v));
}

std::string FormatOne(char verb, const Spec& spec, const Value& v) {
  using K = Value::Kind;
  std::string s;
  switch (verb) {
    case 'v':
      if (v.kind() == K::kNil) return Pad("<nil>", spec);
      if (v.kind() == K::kFloat && spec.prec >= 0)
        s = fmt::format("{:.{}g}", v.f(), spec.prec);
      else
        s = Print(v);
      if (spec.plus && (v.kind() == K::kInt || v.kind() == K::kFloat) && s[0] != '-') s = "+" + s;
      break;
    case 's':
      if (v.kind() == K::kString || v.kind() == K::kMap || v.kind() == K::kTime ||
          (v.kind() == K::kList && v.s() == "Pairs")) {
        s = Print(v);
      } else if (v.kind() == K::kList) {
        std::string out;
        for (const Value& e : v.list()) out += (out.empty() ? "" : " ") + FormatOne('s', Spec{}, e);
        s = "[" + out + "]";
      } else {
        return BadVerb(verb, v);
      }
      if (spec.prec >= 0 && static_cast<int>(s.size()) > spec.prec) s.resize(spec.prec);
      break;
    case 'q':
      if (v.kind() != K::kString) return BadVerb(verb, v);
      s = GoQuote(v.s());
      break;
    case 'd':
      if (v.kind() != K::kInt) return BadVerb(verb, v);
      s = std::to_string(v.i());
      if (spec.plus && v.i() >= 0) s = "+" + s;
      break;
    case 'x':
    case 'X':
      if (v.kind() == K::kInt) {
        s = v.i() < 0 ? "-" + fmt::format("{:x}", -static_cast<uint64_t>(v.i()))
                      : fmt::format("{:x}", v.i());
      } else if (v.kind() == K::kString) {
        for (unsigned char c : v.s()) s += fmt::format("{:02x}", c);
      } else {
        return BadVerb(verb, v);
      }
      if (verb == 'X') std::transform(s.begin(), s.end(), s.begin(), ::toupper);
      break;
    case 't':
      if (v.kind() != K::kBool) return BadVerb(verb, v);
      s = v.b() ? "true" : "false";
      break;
    case 'f':
    case 'e':
    case 'g': {
      if (v.kind() != K::kFloat) return BadVerb(verb, v);
      int prec = spec.prec;
      if (verb == 'g' && prec < 0) {
        s = GoFloat(v.f());
      } else {
        if (prec < 0) prec = 6;
        if (verb == 'f')
          s = fmt::format("{:.{}f}", v.f(), prec);
        else if (verb == 'e')
          s = fmt::format("{:.{}e}", v.f(), prec);
        else
          s = fmt::format("{:.{}g}", v.f(), prec);
      }
      if (spec.plus && !std::signbit(v.f())) s = "+" + s;
      break;
    }
    default:
      return BadVerb(verb, v);
  }
  return Pad(std::move(s), spec);
}

}  // namespace

core::Result<std::string> Sprintf(const std::string& format, const List& args, size_t max_bytes) {
  std::string out;
  size_t arg = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (out.size() > max_bytes)
      return core::ResourceExhaustedError("printf output exceeds {} bytes", max_bytes);
    char c = format[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (++i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    Spec spec;
    for (; i < format.size(); ++i) {
      char f = format[i];
      if (f == '-')
        spec.minus = true;
      else if (f == '0')
        spec.zero = !spec.minus;
      else if (f == '+')
        spec.plus = true;
      else if (f == ' ' || f == '#')
        continue;
      else
        break;
    }
    // Widths and precisions past the output limit would only build a string to reject.
    auto number = [&](int& n) {
      if (i >= format.size() || !std::isdigit(static_cast<unsigned char>(format[i]))) return;
      n = 0;
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
        n = std::min<int64_t>(int64_t{n} * 10 + (format[i++] - '0'), max_bytes + 1);
      }
    };
    number(spec.width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      spec.prec = 0;
      number(spec.prec);
    }
    if (spec.width > static_cast<int64_t>(max_bytes) || spec.prec > 1000)
      return core::ResourceExhaustedError("printf width or precision too large");
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (arg >= args.size()) {
      out += fmt::format("%!{}(MISSING)", verb);
      continue;
    }
    out += FormatOne(verb, spec, args[arg++]);
  }
  if (arg < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = arg; k < args.size(); ++k) {
      if (k > arg) out += ", ";
      out +=
          args[k].kind() == Value::Kind::kNil ? "<nil>" : args[k].TypeName() + "=" + Print(args[k]);
    }
    out += ")";
  }
  if (out.size() > max_bytes)
    return core::ResourceExhaustedError("printf output exceeds {} bytes", max_bytes);
  return out;
}

std::string HtmlEscape(std::string_view s, bool escape_plus) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '+':
        out += escape_plus ? "&#43;" : "+";
        break;
      case '\0':
        out += "\uFFFD";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

}  // namespace nines::alerting::template_internal

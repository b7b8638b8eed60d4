// HTML execution's escaping of a value by where it lands (template_internal.h), as Go's
// html/template does for the contexts email bodies use: element text and quoted attribute values
// are HTML-escaped; a URL attribute's value (href, src, ...) is also URL-normalized, and one that
// starts the attribute with a scheme other than http, https or mailto becomes "#ZgotmplZ".
// The context is read from the output written so far, which template calls leave linear.
#include <fmt/format.h>

#include <cctype>
#include <string>
#include <string_view>

#include "alerting/template_internal.h"

namespace nines::alerting::template_internal {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Go's html/template classes these attributes as URLs (and any name holding src, uri or url).
bool IsUrlAttribute(std::string name) {
  name = Lower(name);
  if (name.starts_with("data-")) name = name.substr(5);
  for (std::string_view a :
       {"action", "archive", "background", "cite", "classid", "codebase", "data", "formaction",
        "href", "icon", "longdesc", "manifest", "poster", "profile", "src", "usemap", "xmlns"})
    if (name == a) return true;
  return name.find("src") != std::string::npos || name.find("uri") != std::string::npos ||
         name.find("url") != std::string::npos;
}

// Where the next byte after `out` lands: in a tag's attribute value (its name, and the value
// written so far), or not (element text, and everything nines does not tell apart).
struct AttrContext {
  bool in_value = false;
  std::string name;
  std::string_view value;
};

// Only the last kWindow bytes are read (a tag longer than that reads as text), so each action
// costs a bounded scan.
constexpr size_t kWindow = 8192;

AttrContext ContextAfter(std::string_view out) {
  AttrContext ctx;
  if (out.size() > kWindow) out = out.substr(out.size() - kWindow);
  size_t lt = out.rfind('<');
  size_t gt = out.rfind('>');
  if (lt == std::string_view::npos || (gt != std::string_view::npos && gt > lt)) return ctx;
  std::string_view tag = out.substr(lt + 1);
  if (tag.empty() || !std::isalpha(static_cast<unsigned char>(tag[0]))) return ctx;
  size_t i = 0;
  while (i < tag.size() && !IsSpace(tag[i]) && tag[i] != '/') ++i;  // the element's name
  while (i < tag.size()) {
    while (i < tag.size() && (IsSpace(tag[i]) || tag[i] == '/')) ++i;
    size_t name_start = i;
    while (i < tag.size() && !IsSpace(tag[i]) && tag[i] != '=' && tag[i] != '/') ++i;
    std::string_view name = tag.substr(name_start, i - name_start);
    size_t j = i;
    while (j < tag.size() && IsSpace(tag[j])) ++j;
    if (j >= tag.size() || tag[j] != '=') continue;  // an attribute without a value
    ++j;
    while (j < tag.size() && IsSpace(tag[j])) ++j;
    if (j >= tag.size()) return AttrContext{true, std::string(name), {}};
    if (tag[j] == '"' || tag[j] == '\'') {
      size_t close = tag.find(tag[j], j + 1);
      if (close == std::string_view::npos)
        return AttrContext{true, std::string(name), tag.substr(j + 1)};
      i = close + 1;
    } else {
      size_t end = j;
      while (end < tag.size() && !IsSpace(tag[end])) ++end;
      if (end >= tag.size()) return AttrContext{true, std::string(name), tag.substr(j)};
      i = end;
    }
  }
  return ctx;
}

// Go's urlNormalizer: bytes outside RFC 3986's unreserved and reserved sets (and a % not
// starting an escape) as %xx.
std::string NormalizeUrl(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool keep = std::isalnum(static_cast<unsigned char>(c)) ||
                std::string_view("-._~!#$&*+,/:;=?@[]").find(c) != std::string_view::npos;
    if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      keep = true;
    if (c == '\0') keep = false;
    out += keep ? std::string(1, c) : fmt::format("%{:02x}", static_cast<unsigned char>(c));
  }
  return out;
}

// Go's isSafeURL: no scheme, or http, https or mailto.
bool IsSafeUrl(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return true;
  std::string_view scheme = s.substr(0, colon);
  if (scheme.find('/') != std::string_view::npos) return true;
  std::string lower = Lower(scheme);
  return lower == "http" || lower == "https" || lower == "mailto";
}

}  // namespace

std::string EscapeHtmlValue(std::string_view out_so_far, std::string_view value) {
  AttrContext ctx = ContextAfter(out_so_far);
  if (!ctx.in_value || !IsUrlAttribute(ctx.name)) return HtmlEscape(value);
  if (ctx.value.empty() && !IsSafeUrl(value)) return "#ZgotmplZ";
  return HtmlEscape(NormalizeUrl(value));
}

}  // namespace nines::alerting::template_internal

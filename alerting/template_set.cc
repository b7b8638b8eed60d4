// TemplateSet (template_set.h): named templates from nines' built-in texts and the user's files,
// and the templated fields of each integration kind.
#include "alerting/template_set.h"

#include <fmt/format.h>

#include <set>
#include <utility>
#include <vector>

#include "alerting/template_internal.h"

namespace nines::alerting {

namespace template_internal {
extern const std::string_view kBuiltinTemplates;
}  // namespace template_internal

using namespace template_internal;  // NOLINT: private to this module

namespace {

constexpr std::string_view kBuiltinOrigin = "<nines built-in templates>";

const Defines &Builtins() {
  static const Defines *defines = [] {
    auto parsed = ParseText(kBuiltinTemplates, std::string(kBuiltinOrigin));
    // The built-in text is tested (template_set_test.cc); a failure here is a bug in nines.
    return new Defines(parsed.ok() ? std::move(parsed->defines) : Defines{});
  }();
  return *defines;
}

// Go's rule when a later file defines a name again: an empty body does not replace a non-empty
// one.
void Merge(const Defines &from, Defines *into) {
  for (const auto &[name, body] : from) {
    auto it = into->find(name);
    if (it != into->end() && IsEmptyList(*body) && !IsEmptyList(*it->second)) continue;
    (*into)[name] = body;
  }
}

// A text's own definitions over the set's, by Go's rule: an empty one does not replace a
// non-empty one of the set.
void DropEmptyOverrides(const Defines &set, Defines *text) {
  for (auto it = text->begin(); it != text->end();) {
    auto in_set = set.find(it->first);
    if (in_set != set.end() && IsEmptyList(*it->second) && !IsEmptyList(*in_set->second)) {
      it = text->erase(it);
    } else {
      ++it;
    }
  }
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "fields.3.value" -> whether it is `list`.N.`leaf` for one of `leaves`.
bool ListField(std::string_view path, std::string_view list,
               std::initializer_list<std::string_view> leaves) {
  if (!StartsWith(path, list) || path.size() <= list.size() || path[list.size()] != '.')
    return false;
  std::string_view rest = path.substr(list.size() + 1);
  size_t dot = rest.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  for (char c : rest.substr(0, dot))
    if (c < '0' || c > '9') return false;
  std::string_view leaf = rest.substr(dot + 1);
  for (std::string_view l : leaves)
    if (leaf == l) return true;
  return false;
}

bool OneOf(std::string_view path, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    if (path == n) return true;
  return false;
}

}  // namespace

struct TemplateSet::Impl {
  template_internal::Defines defines;
  TemplateOptions options;
};

TemplateSet::TemplateSet(TemplateOptions options) {
  auto impl = std::make_shared<Impl>();
  impl->defines = Builtins();
  impl->options = options;
  impl_ = std::move(impl);
}

core::Status TemplateSet::AddFile(std::string_view text, const std::string &file_name) {
  auto parsed = ParseText(text, file_name);
  if (!parsed.ok())
    return core::InvalidArgumentError("{}:{}", file_name, parsed.status().message());
  auto impl = std::make_shared<Impl>(*impl_);
  Merge(parsed->defines, &impl->defines);
  impl_ = std::move(impl);
  return core::Status::Ok();
}

bool TemplateSet::Defined(std::string_view name) const {
  return impl_->defines.find(name) != impl_->defines.end();
}

core::Status TemplateSet::Check(std::string_view text) const {
  ASSIGN_OR_RETURN(ParsedText parsed, ParseText(text, ""));
  DropEmptyOverrides(impl_->defines, &parsed.defines);
  // The calls the text makes (its own defines' included), each followed through every template
  // it reaches: an undefined name anywhere on the way is reported at the text's call.
  std::vector<std::pair<std::string, Pos>> calls;
  TemplateCalls(*parsed.root, &calls);
  for (const auto &[name, body] : parsed.defines) TemplateCalls(*body, &calls);
  auto lookup = [&](const std::string &name) -> const ListNode * {
    auto it = parsed.defines.find(name);
    if (it != parsed.defines.end()) return it->second.get();
    auto jt = impl_->defines.find(name);
    return jt == impl_->defines.end() ? nullptr : jt->second.get();
  };
  std::set<std::string> seen;
  for (const auto &[name, pos] : calls) {
    std::vector<std::string> todo{name};
    while (!todo.empty()) {
      std::string next = std::move(todo.back());
      todo.pop_back();
      if (!seen.insert(next).second) continue;
      const ListNode *body = lookup(next);
      if (body == nullptr) {
        if (next == name)
          return core::InvalidArgumentError("{}:{}: template {:?} not defined", pos.line, pos.col,
                                            name);
        return core::InvalidArgumentError(
            "{}:{}: template {:?} calls template {:?}, which is not defined", pos.line, pos.col,
            name, next);
      }
      std::vector<std::pair<std::string, Pos>> inner;
      TemplateCalls(*body, &inner);
      for (auto &[n, p] : inner) todo.push_back(std::move(n));
    }
  }
  return core::Status::Ok();
}

namespace {

core::Result<std::string> Run(const template_internal::Defines &set, std::string_view text,
                              const TemplateData &data, const TemplateOptions &options, bool html) {
  if (text.empty()) return std::string();  // as Alertmanager: nothing to parse
  ASSIGN_OR_RETURN(ParsedText parsed, ParseText(text, ""));
  DropEmptyOverrides(set, &parsed.defines);
  ExecContext context{{&parsed.defines, &set}, html};
  return template_internal::Execute(*parsed.root, DataValue(data), options, context);
}

}  // namespace

core::Result<std::string> TemplateSet::Execute(std::string_view text,
                                               const TemplateData &data) const {
  return Run(impl_->defines, text, data, impl_->options, false);
}

core::Result<std::string> TemplateSet::ExecuteHtml(std::string_view text,
                                                   const TemplateData &data) const {
  return Run(impl_->defines, text, data, impl_->options, true);
}

bool IsTemplatedField(IntegrationKind kind, std::string_view path) {
  switch (kind) {
    case IntegrationKind::kSlack:
      return OneOf(path, {"channel", "username", "color", "title", "title_link", "pretext", "text",
                          "message_text", "footer", "fallback", "callback_id", "icon_emoji",
                          "icon_url", "image_url", "thumb_url"}) ||
             ListField(path, "fields", {"title", "value"}) ||
             ListField(path, "actions",
                       {"type", "text", "url", "style", "name", "value", "confirm.title",
                        "confirm.text", "confirm.ok_text", "confirm.dismiss_text"});
    case IntegrationKind::kPagerDuty:
      return OneOf(path, {"service_key", "routing_key", "client", "client_url", "description",
                          "source", "severity", "class", "component", "group"}) ||
             StartsWith(path, "details.") || ListField(path, "images", {"src", "alt", "href"}) ||
             ListField(path, "links", {"href", "text"});
    case IntegrationKind::kOpsgenie:
      return OneOf(path, {"api_key", "message", "description", "source", "entity", "tags", "note",
                          "priority", "actions"}) ||
             StartsWith(path, "details.") ||
             ListField(path, "responders", {"id", "name", "username", "type"});
    case IntegrationKind::kEmail:
      return OneOf(path, {"to", "from", "html", "text"}) || StartsWith(path, "headers.");
    case IntegrationKind::kWebhook:
      return path == "url" || StartsWith(path, "payload.");
  }
  return false;
}

}  // namespace nines::alerting

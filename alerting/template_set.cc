// TemplateSet (template_set.h): first version. Texts are parsed and executed as
// single templates; `{{ define }}`/`{{ template }}` and the built-in
// definitions come next.
#include "alerting/template_set.h"

#include <utility>

namespace nines::alerting {

struct TemplateSet::Impl {};

TemplateSet::TemplateSet() : impl_(std::make_shared<const Impl>()) {}

core::Status TemplateSet::AddFile(std::string_view text,
                                  const std::string &file_name) {
  auto parsed = Template::Parse(text);
  if (!parsed.ok())
    return core::InvalidArgumentError("{}:{}", file_name,
                                      parsed.status().message());
  return core::Status::Ok();
}

core::Status TemplateSet::Check(std::string_view text) const {
  auto parsed = Template::Parse(text);
  if (!parsed.ok())
    return parsed.status();
  return core::Status::Ok();
}

core::Result<std::string> TemplateSet::Execute(std::string_view text,
                                               const TemplateData &data) const {
  ASSIGN_OR_RETURN(Template t, Template::Parse(text));
  return t.Execute(data);
}

} // namespace nines::alerting

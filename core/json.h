// core/json.h: the JSON string escaper (and string-valued objects) every module's hand-written
// JSON uses.
// Thread-safety: a pure function.
#ifndef NINES_CORE_JSON_H_
#define NINES_CORE_JSON_H_

#include <map>
#include <string>
#include <string_view>

#include "core/labels.h"

namespace nines::core {

// Appends `text` as a JSON string literal (with the quotes) to `out`: '"' and '\\' escaped,
// \n \r \t \b \f by name, other control characters and DEL as \u00XX. Valid UTF-8 is copied as it
// is; each byte of an invalid sequence becomes \ufffd, as Go's encoding/json writes it, so the
// output is always valid JSON whatever bytes `text` holds.
void AppendJsonString(std::string* out, std::string_view text);

// Appends a JSON object of string values: {"name":"value",...} in the labels' (sorted) order.
void AppendJsonLabels(std::string* out, const Labels& labels);
// The same for a string map (annotations), in key order.
void AppendJsonStringMap(std::string* out, const std::map<std::string, std::string>& m);

}  // namespace nines::core

#endif  // NINES_CORE_JSON_H_

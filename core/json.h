// core/json.h: the one JSON string escaper every module's hand-written JSON uses.
// Thread-safety: a pure function.
#ifndef NINES_CORE_JSON_H_
#define NINES_CORE_JSON_H_

#include <string>
#include <string_view>

namespace nines::core {

// Appends `text` as a JSON string literal (with the quotes) to `out`: '"' and '\\' escaped,
// \n \r \t \b \f by name, other control characters and DEL as \u00XX. Bytes >= 0x80 are copied
// as they are (the caller supplies UTF-8).
void AppendJsonString(std::string* out, std::string_view text);

}  // namespace nines::core

#endif  // NINES_CORE_JSON_H_

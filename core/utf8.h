// UTF-8 validation as Go's utf8.ValidString does it: what Prometheus requires of label values
// (remote write, the text format), and what Go's regexp, whose syntax nines' matchers use, reads
// as runes. One function, so that every module agrees on what valid means.
//
// Thread-safety: pure function.
#ifndef NINES_CORE_UTF8_H_
#define NINES_CORE_UTF8_H_

#include <string_view>

namespace nines::core {

// Whether `s` is valid UTF-8: shortest forms only, no surrogates (U+D800..U+DFFF), nothing past
// U+10FFFF. The empty string is valid.
bool IsValidUtf8(std::string_view s);

}  // namespace nines::core

#endif  // NINES_CORE_UTF8_H_

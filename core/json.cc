#include "core/json.h"

#include "core/utf8.h"

namespace nines::core {
namespace {

// The length of the UTF-8 sequence its lead byte `u` (>= 0x80) announces; 1 for a byte that
// cannot start one.
size_t Utf8SequenceLength(unsigned char u) {
  if (u >= 0xc0 && u <= 0xdf) return 2;
  if (u >= 0xe0 && u <= 0xef) return 3;
  if (u >= 0xf0 && u <= 0xf7) return 4;
  return 1;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default: {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 0xf]);
        } else if (u < 0x80) {
          out->push_back(c);
        } else {
          // Go's encoding/json: a valid sequence as it is, each byte of an invalid one as U+FFFD.
          const std::string_view seq = text.substr(i, Utf8SequenceLength(u));
          if (seq.size() > 1 && IsValidUtf8(seq)) {
            out->append(seq);
            i += seq.size() - 1;
          } else {
            out->append("\\ufffd");
          }
        }
      }
    }
  }
  out->push_back('"');
}

namespace {

template <typename Pairs>
void AppendObject(std::string* out, const Pairs& pairs) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : pairs) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, name);
    out->push_back(':');
    AppendJsonString(out, value);
  }
  out->push_back('}');
}

}  // namespace

void AppendJsonLabels(std::string* out, const Labels& labels) { AppendObject(out, labels); }

void AppendJsonStringMap(std::string* out, const std::map<std::string, std::string>& m) {
  AppendObject(out, m);
}

}  // namespace nines::core

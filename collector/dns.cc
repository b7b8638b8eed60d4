#include "collector/dns.h"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace nines::collector::dns {
namespace {

constexpr size_t kHeaderBytes = 12;
constexpr size_t kMaxNameBytes = 255;  // wire form, length octets and the root included
constexpr size_t kMaxLabelBytes = 63;

struct TypeEntry {
  uint16_t type;
  std::string_view name;
};

// miekg/dns's TypeToString, so that a record of a type it knows prints with the same name.
constexpr TypeEntry kTypes[] = {
    {1, "A"},          {2, "NS"},        {3, "MD"},         {4, "MF"},          {5, "CNAME"},
    {6, "SOA"},        {7, "MB"},        {8, "MG"},         {9, "MR"},          {10, "NULL"},
    {12, "PTR"},       {13, "HINFO"},    {14, "MINFO"},     {15, "MX"},         {16, "TXT"},
    {17, "RP"},        {18, "AFSDB"},    {19, "X25"},       {20, "ISDN"},       {21, "RT"},
    {23, "NSAPPTR"},   {24, "SIG"},      {25, "KEY"},       {26, "PX"},         {27, "GPOS"},
    {28, "AAAA"},      {29, "LOC"},      {30, "NXT"},       {31, "EID"},        {32, "NIMLOC"},
    {33, "SRV"},       {34, "ATMA"},     {35, "NAPTR"},     {36, "KX"},         {37, "CERT"},
    {39, "DNAME"},     {41, "OPT"},      {42, "APL"},       {43, "DS"},         {44, "SSHFP"},
    {45, "IPSECKEY"},  {46, "RRSIG"},    {47, "NSEC"},      {48, "DNSKEY"},     {49, "DHCID"},
    {50, "NSEC3"},     {51, "NSEC3PARAM"}, {52, "TLSA"},    {53, "SMIMEA"},     {55, "HIP"},
    {56, "NINFO"},     {57, "RKEY"},     {58, "TALINK"},    {59, "CDS"},        {60, "CDNSKEY"},
    {61, "OPENPGPKEY"}, {62, "CSYNC"},   {63, "ZONEMD"},    {64, "SVCB"},       {65, "HTTPS"},
    {99, "SPF"},       {100, "UINFO"},   {101, "UID"},      {102, "GID"},       {103, "UNSPEC"},
    {104, "NID"},      {105, "L32"},     {106, "L64"},      {107, "LP"},        {108, "EUI48"},
    {109, "EUI64"},    {249, "TKEY"},    {250, "TSIG"},     {251, "IXFR"},      {252, "AXFR"},
    {253, "MAILB"},    {254, "MAILA"},   {255, "ANY"},      {256, "URI"},       {257, "CAA"},
    {258, "AVC"},      {260, "AMTRELAY"}, {32768, "TA"},    {32769, "DLV"},     {0, "None"},
    {11, "WKS"},
};

constexpr std::array<std::string_view, 24> kRcodes = {
    "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",  "YXDOMAIN", "YXRRSET",
    "NXRRSET",  "NOTAUTH", "NOTZONE",  "",         "",        "",         "",         "",
    "BADSIG",   "BADKEY",  "BADTIME",  "BADMODE",  "BADNAME", "BADALG",   "BADTRUNC", "BADCOOKIE"};

// Types whose RDATA this codec parses, validates and renders in their own form.
bool IsParsedType(uint16_t type) {
  switch (type) {
    case kTypeA: case kTypeNS: case kTypeCNAME: case kTypeSOA: case kTypePTR: case kTypeMX:
    case kTypeTXT: case kTypeAAAA: case kTypeSRV: case kTypeOPT:
      return true;
    default:
      return false;
  }
}

uint16_t Get16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[at]) << 8) | static_cast<uint8_t>(s[at + 1]));
}
uint32_t Get32(std::string_view s, size_t at) {
  return (static_cast<uint32_t>(Get16(s, at)) << 16) | Get16(s, at + 2);
}
void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}
void Put32(std::string* out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xffff));
}

std::string EscapeByte(uint8_t b) { return fmt::format("\\{:03d}", b); }

// A name's wire form (uncompressed, ending in the root label) in miekg's presentation form.
// REQUIRES: `wire` is a well-formed uncompressed name (as ReadName and EncodeName produce).
std::string WireNameToText(std::string_view wire) {
  std::string out;
  size_t pos = 0;
  while (pos < wire.size()) {
    const uint8_t len = static_cast<uint8_t>(wire[pos]);
    if (len == 0) break;
    for (size_t i = pos + 1; i <= pos + len && i < wire.size(); ++i) {
      const uint8_t b = static_cast<uint8_t>(wire[i]);
      switch (b) {
        case '.': case ' ': case '\'': case '@': case ';': case '(': case ')': case '"':
        case '\\':
          out.push_back('\\');
          out.push_back(static_cast<char>(b));
          break;
        default:
          if (b < 0x21 || b > 0x7e) {
            out += EscapeByte(b);
          } else {
            out.push_back(static_cast<char>(b));
          }
      }
    }
    out.push_back('.');
    pos += 1 + len;
  }
  return out.empty() ? "." : out;
}

std::string Hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

// Reads the (possibly compressed) name at `*off` of `msg` into `*wire` (uncompressed) and moves
// `*off` past the name's bytes in place. Pointers must point strictly before the previous jump's
// target (the first one before itself): legitimate compression only refers back to earlier
// names, and a strictly decreasing target guarantees that any input ends.
core::Status ReadName(std::string_view msg, size_t* off, std::string* wire) {
  wire->clear();
  const size_t start = *off;
  size_t pos = *off;
  size_t bound = pos;  // the next pointer must point below this
  bool jumped = false;
  while (true) {
    if (pos >= msg.size()) return core::DataLossError("name at offset {}: truncated", start);
    const uint8_t len = static_cast<uint8_t>(msg[pos]);
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= msg.size()) return core::DataLossError("name at offset {}: truncated", start);
      const size_t target = (static_cast<size_t>(len & 0x3f) << 8) | static_cast<uint8_t>(msg[pos + 1]);
      if (target >= bound) {
        return core::DataLossError(
            "name at offset {}: compression pointer to {} does not point backwards", start,
            target);
      }
      if (!jumped) *off = pos + 2;
      jumped = true;
      bound = target;
      pos = target;
      continue;
    }
    if ((len & 0xc0) != 0) {
      return core::DataLossError("name at offset {}: unsupported label type 0x{:02x}", start, len);
    }
    if (wire->size() + 1 + len > kMaxNameBytes) {
      return core::DataLossError("name at offset {}: longer than 255 bytes", start);
    }
    if (len == 0) {
      wire->push_back('\0');
      if (!jumped) *off = pos + 1;
      return core::Status::Ok();
    }
    if (pos + 1 + len > msg.size()) return core::DataLossError("name at offset {}: truncated", start);
    wire->append(msg.substr(pos, 1 + len));
    pos += 1 + len;
  }
}

// Parses the RDATA of `type` at [start, end) of `msg` into its uncompressed wire form.
// Long, and reads best whole: one short case per record type, sharing the checks above.
core::Result<std::string> ReadRdata(std::string_view msg, uint16_t type, size_t start, size_t end) {
  const size_t len = end - start;
  auto fixed = [&](size_t want) -> core::Status {
    if (len != want) return core::DataLossError("{} RDATA of {} bytes, want {}", TypeName(type), len, want);
    return core::Status::Ok();
  };
  auto at_least = [&](size_t want) -> core::Status {
    if (len < want) {
      return core::DataLossError("{} RDATA of {} bytes, want at least {}", TypeName(type), len, want);
    }
    return core::Status::Ok();
  };
  // Reads a name that must lie (in place) within the RDATA.
  auto name = [&](size_t* off, std::string* out) -> core::Status {
    RETURN_IF_ERROR(ReadName(msg.substr(0, end), off, out));
    return core::Status::Ok();
  };
  auto must_end = [&](size_t off) -> core::Status {
    if (off != end) {
      return core::DataLossError("{} RDATA has {} bytes after its fields", TypeName(type), end - off);
    }
    return core::Status::Ok();
  };
  std::string out;
  std::string n;
  size_t off = start;
  switch (type) {
    case kTypeA:
      RETURN_IF_ERROR(fixed(4));
      return std::string(msg.substr(start, len));
    case kTypeAAAA:
      RETURN_IF_ERROR(fixed(16));
      return std::string(msg.substr(start, len));
    case kTypeNS:
    case kTypeCNAME:
    case kTypePTR:
      RETURN_IF_ERROR(name(&off, &out));
      RETURN_IF_ERROR(must_end(off));
      return out;
    case kTypeMX:
      RETURN_IF_ERROR(at_least(3));
      out = std::string(msg.substr(start, 2));
      off += 2;
      RETURN_IF_ERROR(name(&off, &n));
      RETURN_IF_ERROR(must_end(off));
      return out + n;
    case kTypeSRV:
      RETURN_IF_ERROR(at_least(7));
      out = std::string(msg.substr(start, 6));
      off += 6;
      RETURN_IF_ERROR(name(&off, &n));
      RETURN_IF_ERROR(must_end(off));
      return out + n;
    case kTypeSOA:
      RETURN_IF_ERROR(name(&off, &out));
      RETURN_IF_ERROR(name(&off, &n));
      out += n;
      if (end - off != 20) {
        return core::DataLossError("SOA RDATA has {} bytes after its names, want 20", end - off);
      }
      return out + std::string(msg.substr(off, 20));
    case kTypeTXT:
      while (off < end) {
        const size_t slen = static_cast<uint8_t>(msg[off]);
        if (off + 1 + slen > end) return core::DataLossError("TXT string overruns the RDATA");
        off += 1 + slen;
      }
      return std::string(msg.substr(start, len));
    case kTypeOPT:
      while (off < end) {
        if (end - off < 4) return core::DataLossError("OPT option header truncated");
        const size_t olen = Get16(msg, off + 2);
        if (off + 4 + olen > end) return core::DataLossError("OPT option overruns the RDATA");
        off += 4 + olen;
      }
      return std::string(msg.substr(start, len));
    default:
      return std::string(msg.substr(start, len));
  }
}

// A uncompressed name at `*off` of self-contained RDATA; false when it is not well-formed.
bool RdataName(std::string_view rdata, size_t* off, std::string* text) {
  std::string wire;
  size_t o = *off;
  // Self-contained RDATA has no pointers to follow: a pointer (or anything odd) is malformed.
  if (!ReadName(rdata, &o, &wire).ok() || wire.size() != o - *off) return false;
  *text = WireNameToText(wire);
  *off = o;
  return true;
}

std::string OptToString(const Record& r) {
  // miekg prints OPT as a pseudo-section, without the usual header.
  const uint8_t version = static_cast<uint8_t>((r.ttl >> 16) & 0xff);
  const bool dnssec_ok = (r.ttl & 0x8000) != 0;
  std::string s = fmt::format("\n;; OPT PSEUDOSECTION:\n; EDNS: version {}; ", version);
  s += dnssec_ok ? "flags: do; " : "flags:; ";
  if ((r.ttl & 0x7fff) != 0) s += fmt::format("MBZ: 0x{:04x}, ", r.ttl & 0x7fff);
  s += fmt::format("udp: {}", r.rclass);
  size_t off = 0;
  while (off + 4 <= r.rdata.size()) {
    const uint16_t code = Get16(r.rdata, off);
    const size_t olen = Get16(r.rdata, off + 2);
    if (off + 4 + olen > r.rdata.size()) break;
    const std::string data = Hex(std::string_view(r.rdata).substr(off + 4, olen));
    switch (code) {
      case 3: s += "\n; NSID: " + data; break;
      case 10: s += "\n; COOKIE: " + data; break;
      default: s += fmt::format("\n; LOCAL OPT: {}:0x{}", code, data);
    }
    off += 4 + olen;
  }
  return s;
}

std::string Rfc3597(const Record& r) { return fmt::format("\\# {} {}", r.rdata.size(), Hex(r.rdata)); }

// The RDATA of a parsed type, or nullopt when it is malformed (only possible for a Record built
// by hand, since ParseMessage validates).
std::optional<std::string> ParsedRdataToString(const Record& r) {
  const std::string_view d = r.rdata;
  size_t off = 0;
  std::string a, b;
  switch (r.type) {
    case kTypeA: {
      if (d.size() != 4) return std::nullopt;
      char buf[INET_ADDRSTRLEN];
      if (inet_ntop(AF_INET, d.data(), buf, sizeof(buf)) == nullptr) return std::nullopt;
      return std::string(buf);
    }
    case kTypeAAAA: {
      if (d.size() != 16) return std::nullopt;
      char buf[INET6_ADDRSTRLEN];
      if (inet_ntop(AF_INET6, d.data(), buf, sizeof(buf)) == nullptr) return std::nullopt;
      return std::string(buf);
    }
    case kTypeNS:
    case kTypeCNAME:
    case kTypePTR:
      if (!RdataName(d, &off, &a) || off != d.size()) return std::nullopt;
      return a;
    case kTypeMX:
      off = 2;
      if (d.size() < 3 || !RdataName(d, &off, &a) || off != d.size()) return std::nullopt;
      return fmt::format("{} {}", Get16(d, 0), a);
    case kTypeSRV:
      off = 6;
      if (d.size() < 7 || !RdataName(d, &off, &a) || off != d.size()) return std::nullopt;
      return fmt::format("{} {} {} {}", Get16(d, 0), Get16(d, 2), Get16(d, 4), a);
    case kTypeSOA:
      if (!RdataName(d, &off, &a) || !RdataName(d, &off, &b) || d.size() - off != 20) {
        return std::nullopt;
      }
      return fmt::format("{} {} {} {} {} {} {}", a, b, Get32(d, off), Get32(d, off + 4),
                         Get32(d, off + 8), Get32(d, off + 12), Get32(d, off + 16));
    case kTypeTXT: {
      std::string s;
      while (off < d.size()) {
        const size_t slen = static_cast<uint8_t>(d[off]);
        if (off + 1 + slen > d.size()) return std::nullopt;
        if (!s.empty()) s.push_back(' ');
        s.push_back('"');
        for (unsigned char c : d.substr(off + 1, slen)) {
          if (c == '"' || c == '\\') {
            s.push_back('\\');
            s.push_back(static_cast<char>(c));
          } else if (c < 0x20 || c > 0x7e) {
            s += EscapeByte(c);
          } else {
            s.push_back(static_cast<char>(c));
          }
        }
        s.push_back('"');
        off += 1 + slen;
      }
      return s;
    }
    default:
      return std::nullopt;
  }
}

core::Status EncodeRecord(const Record& r, std::string* out) {
  ASSIGN_OR_RETURN(std::string name, EncodeName(r.name));
  if (r.rdata.size() > 0xffff) {
    return core::InvalidArgumentError("record {}: RDATA of {} bytes", r.name, r.rdata.size());
  }
  *out += name;
  Put16(out, r.type);
  Put16(out, r.rclass);
  Put32(out, r.ttl);
  Put16(out, static_cast<uint16_t>(r.rdata.size()));
  *out += r.rdata;
  return core::Status::Ok();
}

}  // namespace

int Message::Rcode() const {
  int rcode = header.rcode;
  for (const Record& r : additional) {
    if (r.type == kTypeOPT) rcode |= static_cast<int>((r.ttl >> 24) & 0xff) << 4;
  }
  return rcode;
}

core::Result<std::string> EncodeName(std::string_view name) {
  std::string wire;
  if (name.empty() || name == ".") return std::string(1, '\0');
  std::string label;
  auto flush = [&]() -> core::Status {
    if (label.empty()) return core::InvalidArgumentError("name \"{}\": empty label", name);
    if (label.size() > kMaxLabelBytes) {
      return core::InvalidArgumentError("name \"{}\": label longer than 63 bytes", name);
    }
    wire.push_back(static_cast<char>(label.size()));
    wire += label;
    label.clear();
    return core::Status::Ok();
  };
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      RETURN_IF_ERROR(flush());
    } else if (c == '\\') {
      if (i + 1 >= name.size()) return core::InvalidArgumentError("name \"{}\": trailing backslash", name);
      if (i + 3 < name.size() && std::isdigit(static_cast<unsigned char>(name[i + 1])) &&
          std::isdigit(static_cast<unsigned char>(name[i + 2])) &&
          std::isdigit(static_cast<unsigned char>(name[i + 3]))) {
        const int v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 + (name[i + 3] - '0');
        if (v > 255) return core::InvalidArgumentError("name \"{}\": escape \\{} out of range", name, v);
        label.push_back(static_cast<char>(v));
        i += 3;
      } else if (std::isdigit(static_cast<unsigned char>(name[i + 1]))) {
        return core::InvalidArgumentError("name \"{}\": \\DDD escape needs three digits", name);
      } else {
        label.push_back(name[++i]);
      }
    } else {
      label.push_back(c);
    }
  }
  if (!label.empty()) RETURN_IF_ERROR(flush());
  wire.push_back('\0');
  if (wire.size() > kMaxNameBytes) {
    return core::InvalidArgumentError("name \"{}\": longer than 255 bytes", name);
  }
  return wire;
}

core::Result<std::string> EncodeMessage(const Message& m) {
  if (m.questions.size() > 0xffff || m.answer.size() > 0xffff || m.authority.size() > 0xffff ||
      m.additional.size() > 0xffff) {
    return core::InvalidArgumentError("more than 65535 entries in a section");
  }
  std::string out;
  const Header& h = m.header;
  Put16(&out, h.id);
  uint16_t flags = static_cast<uint16_t>((h.qr ? 0x8000 : 0) | ((h.opcode & 0xf) << 11) |
                                         (h.aa ? 0x0400 : 0) | (h.tc ? 0x0200 : 0) |
                                         (h.rd ? 0x0100 : 0) | (h.ra ? 0x0080 : 0) |
                                         (h.z ? 0x0040 : 0) | (h.ad ? 0x0020 : 0) |
                                         (h.cd ? 0x0010 : 0) | (h.rcode & 0xf));
  Put16(&out, flags);
  Put16(&out, static_cast<uint16_t>(m.questions.size()));
  Put16(&out, static_cast<uint16_t>(m.answer.size()));
  Put16(&out, static_cast<uint16_t>(m.authority.size()));
  Put16(&out, static_cast<uint16_t>(m.additional.size()));
  for (const Question& q : m.questions) {
    ASSIGN_OR_RETURN(std::string name, EncodeName(q.name));
    out += name;
    Put16(&out, q.type);
    Put16(&out, q.qclass);
  }
  for (const auto* section : {&m.answer, &m.authority, &m.additional}) {
    for (const Record& r : *section) RETURN_IF_ERROR(EncodeRecord(r, &out));
  }
  return out;
}

core::Result<std::string> BuildQuery(const QueryOptions& options) {
  if (options.name.empty()) return core::InvalidArgumentError("query name is empty");
  Message m;
  m.header.id = options.id;
  m.header.rd = options.recursion_desired;
  m.questions.push_back({options.name, options.type, options.qclass});
  if (options.edns_udp_size) {
    m.additional.push_back(Record{.name = ".", .type = kTypeOPT, .rclass = *options.edns_udp_size,
                                  .ttl = 0, .rdata = ""});
  }
  return EncodeMessage(m);
}

core::Result<Message> ParseMessage(std::string_view wire) {
  if (wire.size() < kHeaderBytes) {
    return core::DataLossError("message of {} bytes is shorter than a header", wire.size());
  }
  Message m;
  m.header.id = Get16(wire, 0);
  const uint16_t flags = Get16(wire, 2);
  m.header.qr = flags & 0x8000;
  m.header.opcode = static_cast<uint8_t>((flags >> 11) & 0xf);
  m.header.aa = flags & 0x0400;
  m.header.tc = flags & 0x0200;
  m.header.rd = flags & 0x0100;
  m.header.ra = flags & 0x0080;
  m.header.z = flags & 0x0040;
  m.header.ad = flags & 0x0020;
  m.header.cd = flags & 0x0010;
  m.header.rcode = static_cast<uint8_t>(flags & 0xf);
  const uint16_t counts[4] = {Get16(wire, 4), Get16(wire, 6), Get16(wire, 8), Get16(wire, 10)};
  size_t off = kHeaderBytes;
  std::string name;
  for (uint16_t i = 0; i < counts[0]; ++i) {
    core::Status s = ReadName(wire, &off, &name);
    if (!s.ok()) return s.WithContext(fmt::format("question {}", i + 1));
    if (wire.size() - off < 4) {
      return core::DataLossError("question {} at offset {}: truncated", i + 1, off);
    }
    m.questions.push_back({WireNameToText(name), Get16(wire, off), Get16(wire, off + 2)});
    off += 4;
  }
  static constexpr std::string_view kSectionNames[3] = {"answer", "authority", "additional"};
  std::vector<Record>* sections[3] = {&m.answer, &m.authority, &m.additional};
  for (int sec = 0; sec < 3; ++sec) {
    // Reserve only what the bytes left could hold (11 bytes a record at least), so a forged
    // count cannot make us allocate much.
    sections[sec]->reserve(std::min<size_t>(counts[sec + 1], (wire.size() - off) / 11));
    for (uint16_t i = 0; i < counts[sec + 1]; ++i) {
      auto context = [&] { return fmt::format("{} record {}", kSectionNames[sec], i + 1); };
      const size_t rr_start = off;
      core::Status s = ReadName(wire, &off, &name);
      if (!s.ok()) return s.WithContext(context());
      if (wire.size() - off < 10) {
        return core::DataLossError("{} at offset {}: truncated header", context(), rr_start);
      }
      Record r;
      r.name = WireNameToText(name);
      r.type = Get16(wire, off);
      r.rclass = Get16(wire, off + 2);
      r.ttl = Get32(wire, off + 4);
      const size_t rdlen = Get16(wire, off + 8);
      off += 10;
      if (wire.size() - off < rdlen) {
        return core::DataLossError("{} at offset {}: RDATA of {} bytes overruns the message",
                                   context(), rr_start, rdlen);
      }
      core::Result<std::string> rdata = ReadRdata(wire, r.type, off, off + rdlen);
      if (!rdata.ok()) {
        return rdata.status().WithContext(fmt::format("{} at offset {}", context(), rr_start));
      }
      r.rdata = std::move(rdata).value();
      off += rdlen;
      sections[sec]->push_back(std::move(r));
    }
  }
  return m;
}

std::string RdataToString(const Record& record) {
  if (record.type == kTypeOPT) return OptToString(record);
  if (IsParsedType(record.type)) {
    if (std::optional<std::string> s = ParsedRdataToString(record)) return *s;
  }
  return Rfc3597(record);
}

std::string RecordToString(const Record& r) {
  if (r.type == kTypeOPT) return OptToString(r);
  std::optional<std::string> rdata;
  if (IsParsedType(r.type)) rdata = ParsedRdataToString(r);
  if (!rdata) {
    // miekg prints a record it holds as RFC3597 with the generic class and type names.
    return fmt::format("{}\t{}\tCLASS{}\tTYPE{}\t{}", r.name, r.ttl, r.rclass, r.type, Rfc3597(r));
  }
  return fmt::format("{}\t{}\t{}\t{}\t{}", r.name, r.ttl, ClassName(r.rclass), TypeName(r.type),
                     *rdata);
}

std::string TypeName(uint16_t type) {
  for (const TypeEntry& e : kTypes) {
    if (e.type == type && type != 0) return std::string(e.name);
  }
  return fmt::format("TYPE{}", type);
}

std::optional<uint16_t> TypeFromName(std::string_view name) {
  for (const TypeEntry& e : kTypes) {
    if (e.name == name && e.type != 0) return e.type;
  }
  if (name.starts_with("TYPE") && name.size() > 4) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(name.data() + 4, name.data() + name.size(), v);
    if (ec == std::errc() && p == name.data() + name.size() && v <= 0xffff) {
      return static_cast<uint16_t>(v);
    }
  }
  return std::nullopt;
}

std::string ClassName(uint16_t rclass) {
  switch (rclass) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: return fmt::format("CLASS{}", rclass);
  }
}

std::string RcodeName(int rcode) {
  if (rcode >= 0 && static_cast<size_t>(rcode) < kRcodes.size() && !kRcodes[rcode].empty()) {
    return std::string(kRcodes[rcode]);
  }
  return std::to_string(rcode);
}

std::optional<int> RcodeFromName(std::string_view name) {
  for (size_t i = 0; i < kRcodes.size(); ++i) {
    if (!kRcodes[i].empty() && kRcodes[i] == name) return static_cast<int>(i);
  }
  if (name == "BADVERS") return 16;  // shares 16 with BADSIG (RFC 6891 vs RFC 8945)
  return std::nullopt;
}

std::optional<uint32_t> SoaSerial(const Record& record) {
  if (record.type != kTypeSOA) return std::nullopt;
  size_t off = 0;
  std::string a, b;
  if (!RdataName(record.rdata, &off, &a) || !RdataName(record.rdata, &off, &b) ||
      record.rdata.size() - off != 20) {
    return std::nullopt;
  }
  return Get32(record.rdata, off);
}

}  // namespace nines::collector::dns

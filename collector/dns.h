// Private to collector/: a DNS message codec (RFC 1035 wire format, EDNS0 per RFC 6891, unknown
// types per RFC 3597) for the DNS probe. Pure: no sockets, no Asio, no clock.
//
// Records are kept with their RDATA in uncompressed wire form (names inside RDATA of the
// well-known types are expanded when parsed), so a parsed Record is self-contained: it can be
// rendered, compared, or encoded again without the message it came from.
//
// Rendering follows github.com/miekg/dns's RR.String(), because blackbox_exporter's
// validate_*_rrs regexes are written against that text:
//   example.com.\t300\tIN\tA\t127.0.0.1
//   example.com.\t300\tIN\tMX\t10 mail.example.com.
//   example.com.\t300\tIN\tTXT\t"v=spf1 -all"
//   example.com.\t300\tIN\tSOA\tns.example.com. admin.example.com. 1 3600 600 86400 300
//   example.com.\t300\tCLASS1\tTYPE65280\t\# 2 abcd   (a type this codec does not parse)
// Names escape '.', '\\', '"', '\'', '(', ')', ';', '@', ' ' with a backslash and other bytes outside
// 0x21-0x7e as \DDD; TXT strings escape '"' and '\\' and bytes outside 0x20-0x7e as \DDD.
//
// Thread-safety: every function is thread-safe (no shared state); values are plain structs.
#ifndef NINES_COLLECTOR_DNS_H_
#define NINES_COLLECTOR_DNS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace nines::collector::dns {

// RR types the codec renders in their own text form; any other type renders as RFC 3597's
// "\# <len> <hex>".
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNS = 2;
inline constexpr uint16_t kTypeCNAME = 5;
inline constexpr uint16_t kTypeSOA = 6;
inline constexpr uint16_t kTypePTR = 12;
inline constexpr uint16_t kTypeMX = 15;
inline constexpr uint16_t kTypeTXT = 16;
inline constexpr uint16_t kTypeAAAA = 28;
inline constexpr uint16_t kTypeSRV = 33;
inline constexpr uint16_t kTypeOPT = 41;
inline constexpr uint16_t kClassIN = 1;

// The largest message a UDP datagram or a TCP length prefix can carry.
inline constexpr size_t kMaxMessageBytes = 65535;

struct Header {
  uint16_t id = 0;
  bool qr = false;      // a response
  uint8_t opcode = 0;   // 4 bits
  bool aa = false;      // authoritative answer
  bool tc = false;      // truncated: retry over TCP for the whole answer
  bool rd = false;      // recursion desired
  bool ra = false;      // recursion available
  bool z = false;
  bool ad = false;      // authentic data (DNSSEC)
  bool cd = false;      // checking disabled (DNSSEC)
  uint8_t rcode = 0;    // the header's 4 bits; Message::Rcode() adds EDNS0's upper 8
};

struct Question {
  std::string name;  // presentation form, fully qualified ("example.com.")
  uint16_t type = kTypeA;
  uint16_t qclass = kClassIN;
};

struct Record {
  std::string name;  // presentation form, fully qualified
  uint16_t type = 0;
  uint16_t rclass = kClassIN;  // for OPT: the requestor's UDP payload size
  uint32_t ttl = 0;            // for OPT: extended rcode, version and flags
  std::string rdata;           // wire form, names uncompressed

  friend bool operator==(const Record&, const Record&) = default;
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answer;
  std::vector<Record> authority;
  std::vector<Record> additional;

  // The full 12-bit rcode: the header's 4 bits plus, when an OPT record is present, its
  // extended rcode as the upper 8 bits (RFC 6891 6.1.3).
  int Rcode() const;
};

// What the probe asks.
struct QueryOptions {
  uint16_t id = 0;
  std::string name;  // presentation form; a missing final '.' is added
  uint16_t type = kTypeA;
  uint16_t qclass = kClassIN;
  bool recursion_desired = true;
  // When set, an OPT record advertising this UDP payload size is added (EDNS0).
  std::optional<uint16_t> edns_udp_size;
};

// The query message for `options`, in wire form.
// Errors: INVALID_ARGUMENT for an invalid name (an empty label, a label over 63 bytes, a name
// over 255 bytes, a bad escape).
core::Result<std::string> BuildQuery(const QueryOptions& options);

// `message` in wire form, names uncompressed. Counts come from the vectors.
// Errors: INVALID_ARGUMENT for an invalid name, an RDATA over 65535 bytes or more than 65535
// records in a section.
core::Result<std::string> EncodeMessage(const Message& message);

// Parses a whole message, every section, with bounds checks everywhere. Compression pointers
// must point strictly backwards (which also rules out loops), names are at most 255 bytes, and
// the RDATA of A, AAAA, NS, CNAME, PTR, MX, SOA, SRV and TXT must be well-formed for its type;
// trailing bytes after the last record are ignored (as miekg/dns does).
// Errors: DATA_LOSS naming the section, the record and the offset ("answer record 2: name at
// offset 40: compression pointer to 61 does not point backwards").
core::Result<Message> ParseMessage(std::string_view wire);

// A presentation-form name (escapes \. \\ \DDD allowed) in wire form; "." and "" are the root.
// Errors: INVALID_ARGUMENT as for BuildQuery.
core::Result<std::string> EncodeName(std::string_view name);

// The zone-file text of a record, as miekg/dns's RR.String() renders it (see the file comment).
std::string RecordToString(const Record& record);

// The RDATA alone in presentation form, e.g. "10 mail.example.com.".
std::string RdataToString(const Record& record);

// "A", "AAAA", ... for the types above (and a few more names miekg knows); "TYPE<n>" otherwise.
std::string TypeName(uint16_t type);
// The type code for a name TypeName() gives (including "TYPE<n>"), case-sensitive like miekg.
std::optional<uint16_t> TypeFromName(std::string_view name);
// "IN", "CH", "HS", "NONE", "ANY" or "CLASS<n>".
std::string ClassName(uint16_t rclass);

// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
// "NXRRSET", "NOTAUTH", "NOTZONE", "BADSIG", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG",
// "BADTRUNC", "BADCOOKIE"; the number as text otherwise.
std::string RcodeName(int rcode);
std::optional<int> RcodeFromName(std::string_view name);

// The SOA serial of an SOA record; nullopt for any other record.
std::optional<uint32_t> SoaSerial(const Record& record);

}  // namespace nines::collector::dns

#endif  // NINES_COLLECTOR_DNS_H_

#include "collector/dns.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <random>
#include <string>

namespace nines::collector::dns {
namespace {

using ::testing::HasSubstr;

// Bytes from small integers: hex escapes in string literals swallow following hex letters
// ("\x07example" is not 7 + "example"), so golden vectors are spelled as numbers and labels.
std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}
// A wire label: length byte + text.
std::string L(std::string_view text) { return B({static_cast<int>(text.size())}) + std::string(text); }

TEST(DnsQueryTest, BuildsTheGoldenQuery) {
  QueryOptions q;
  q.id = 0x1234;
  q.name = "example.com";  // the final '.' is added
  q.type = kTypeA;
  auto wire = BuildQuery(q);
  ASSERT_TRUE(wire.ok()) << wire.status().ToString();
  EXPECT_EQ(*wire, B({0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}) + L("example") + L("com") +
                       B({0, 0, 1, 0, 1}));
}

TEST(DnsQueryTest, BuildsEdnsAndNoRecursion) {
  QueryOptions q;
  q.id = 0xbeef;
  q.name = "example.com.";
  q.type = kTypeMX;
  q.recursion_desired = false;
  q.edns_udp_size = 4096;
  auto wire = BuildQuery(q);
  ASSERT_TRUE(wire.ok()) << wire.status().ToString();
  EXPECT_EQ(*wire, B({0xbe, 0xef, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 1}) + L("example") + L("com") +
                       B({0, 0, 15, 0, 1}) + B({0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0}));
  auto m = ParseMessage(*wire);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE(m->header.rd);
  ASSERT_EQ(m->additional.size(), 1u);
  EXPECT_EQ(m->additional[0].rclass, 4096);
  EXPECT_EQ(RecordToString(m->additional[0]), "\n;; OPT PSEUDOSECTION:\n; EDNS: version 0; flags:; udp: 4096");
}

TEST(DnsQueryTest, RejectsInvalidNames) {
  for (const std::string& name :
       {std::string(""), std::string("a..b"), std::string(".a"), std::string(64, 'x') + ".com",
        std::string("a\\"), std::string("a\\25"), std::string("a\\300b")}) {
    SCOPED_TRACE(name);
    QueryOptions q;
    q.name = name;
    EXPECT_FALSE(BuildQuery(q).ok());
  }
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";  // 5*61+1 = 306 bytes
  QueryOptions q;
  q.name = long_name;
  auto r = BuildQuery(q);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("longer than 255"));
  EXPECT_TRUE(EncodeName(std::string(63, 'x') + ".com.").ok());
}

TEST(DnsNameTest, EscapesLikeMiekg) {
  auto wire = EncodeName("a\\.b\\ c\\001\\\"d.example.");
  ASSERT_TRUE(wire.ok()) << wire.status().ToString();
  EXPECT_EQ(*wire, B({8}) + "a.b c" + B({1}) + "\"d" + L("example") + B({0}));
  Record r{.name = "x.", .type = kTypeCNAME, .rclass = kClassIN, .ttl = 5, .rdata = *wire};
  EXPECT_EQ(RecordToString(r), "x.\t5\tIN\tCNAME\ta\\.b\\ c\\001\\\"d.example.");
  EXPECT_EQ(*EncodeName("."), B({0}));
  Record root{.name = ".", .type = kTypeNS, .rclass = kClassIN, .ttl = 1, .rdata = *EncodeName("a.")};
  EXPECT_EQ(RecordToString(root), ".\t1\tIN\tNS\ta.");
}

// A response as a compressing server writes it: every name after the question is a pointer (or
// ends in one) into earlier names.
std::string GoldenResponse() {
  std::string m = B({0xab, 0xcd, 0x85, 0x80, 0, 1, 0, 9, 0, 1, 0, 1});  // QR AA RD RA, NOERROR
  m += L("example") + L("com") + B({0});                               // offset 12
  m += B({0, 1, 0, 1});
  auto rr = [&](std::string name, int type, uint32_t ttl, std::string rdata) {
    m += name + B({type >> 8, type & 0xff, 0, 1, static_cast<int>(ttl >> 24),
                   static_cast<int>((ttl >> 16) & 0xff), static_cast<int>((ttl >> 8) & 0xff),
                   static_cast<int>(ttl & 0xff), static_cast<int>(rdata.size() >> 8),
                   static_cast<int>(rdata.size() & 0xff)}) +
         rdata;
  };
  const std::string ptr = B({0xc0, 12});  // -> example.com.
  rr(ptr, kTypeA, 300, B({127, 0, 0, 1}));
  rr(ptr, kTypeAAAA, 300, B({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  const size_t mail_offset = m.size() + 12 + 2;  // after this record's name, header and preference
  rr(ptr, kTypeMX, 3600, B({0, 10}) + L("mail") + ptr);
  rr(ptr, kTypeTXT, 60, L("v=spf1 -all") + L("say \"hi\" \\") + B({2, 0x7f, 'x'}));
  rr(B({0xc0, static_cast<int>(mail_offset)}), kTypeCNAME, 10, L("www") + ptr);
  rr(L("_sip") + L("_tcp") + ptr, kTypeSRV, 20, B({0, 5, 0, 7, 0x13, 0xc4}) + L("sip") + ptr);
  rr(L("1") + ptr, kTypePTR, 30, L("host") + ptr);
  rr(ptr, kTypeNS, 40, L("ns1") + ptr);
  rr(ptr, 65280, 50, B({0xab, 0xcd}));
  // Authority: SOA with both names compressed.
  rr(ptr, kTypeSOA, 900, L("ns1") + ptr + L("hostmaster") + ptr +
                             B({0x78, 0x3a, 0x5d, 0x01, 0, 0, 0x0e, 0x10, 0, 0, 0x02, 0x58, 0,
                                0x09, 0x3a, 0x80, 0, 0, 0x01, 0x2c}));
  // Additional: OPT, udp 1232, DO bit, an NSID option.
  m += B({0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 8, 0, 3, 0, 4, 'n', 's', '-', '1'});
  return m;
}

TEST(DnsParseTest, ParsesEverySectionOfTheGoldenResponse) {
  auto m = ParseMessage(GoldenResponse());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->header.id, 0xabcd);
  EXPECT_TRUE(m->header.qr);
  EXPECT_TRUE(m->header.aa);
  EXPECT_TRUE(m->header.rd);
  EXPECT_TRUE(m->header.ra);
  EXPECT_FALSE(m->header.tc);
  EXPECT_EQ(m->Rcode(), 0);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "example.com.");
  EXPECT_EQ(m->questions[0].type, kTypeA);
  std::vector<std::string> answer;
  for (const Record& r : m->answer) answer.push_back(RecordToString(r));
  EXPECT_THAT(answer,
              ::testing::ElementsAre(
                  "example.com.\t300\tIN\tA\t127.0.0.1",
                  "example.com.\t300\tIN\tAAAA\t2001:db8::1",
                  "example.com.\t3600\tIN\tMX\t10 mail.example.com.",
                  "example.com.\t60\tIN\tTXT\t\"v=spf1 -all\" \"say \\\"hi\\\" \\\\\" \"\\127x\"",
                  "mail.example.com.\t10\tIN\tCNAME\twww.example.com.",
                  "_sip._tcp.example.com.\t20\tIN\tSRV\t5 7 5060 sip.example.com.",
                  "1.example.com.\t30\tIN\tPTR\thost.example.com.",
                  "example.com.\t40\tIN\tNS\tns1.example.com.",
                  "example.com.\t50\tCLASS1\tTYPE65280\t\\# 2 abcd"));
  ASSERT_EQ(m->authority.size(), 1u);
  EXPECT_EQ(RecordToString(m->authority[0]),
            "example.com.\t900\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2017090817 3600 "
            "600 604800 300");
  EXPECT_EQ(SoaSerial(m->authority[0]), 2017090817u);
  EXPECT_EQ(SoaSerial(m->answer[0]), std::nullopt);
  ASSERT_EQ(m->additional.size(), 1u);
  EXPECT_EQ(RecordToString(m->additional[0]),
            "\n;; OPT PSEUDOSECTION:\n; EDNS: version 0; flags: do; udp: 1232\n; NSID: 6e732d31");
  // Names inside RDATA are stored uncompressed: the record stands alone.
  EXPECT_EQ(m->answer[2].rdata, B({0, 10}) + L("mail") + L("example") + L("com") + B({0}));
}

TEST(DnsParseTest, RoundTripsThroughEncode) {
  auto m = ParseMessage(GoldenResponse());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto wire = EncodeMessage(*m);
  ASSERT_TRUE(wire.ok()) << wire.status().ToString();
  EXPECT_GT(wire->size(), GoldenResponse().size());  // uncompressed
  auto again = ParseMessage(*wire);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->answer, m->answer);
  EXPECT_EQ(again->authority, m->authority);
  EXPECT_EQ(again->additional, m->additional);
  EXPECT_EQ(again->header.id, m->header.id);
  EXPECT_EQ(again->questions[0].name, "example.com.");
  auto third = EncodeMessage(*again);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, *wire);
}

TEST(DnsParseTest, ExtendedRcodeComesFromOpt) {
  Message m;
  m.header.qr = true;
  m.header.rcode = 3;
  auto plain = ParseMessage(*EncodeMessage(m));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(RcodeName(plain->Rcode()), "NXDOMAIN");
  m.header.rcode = 0;
  m.additional.push_back(Record{.name = ".", .type = kTypeOPT, .rclass = 512, .ttl = 0x01000000, .rdata = ""});
  auto ext = ParseMessage(*EncodeMessage(m));
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->Rcode(), 16);
  EXPECT_EQ(RcodeName(16), "BADSIG");
}

TEST(DnsParseTest, EveryStrictPrefixIsAnError) {
  const std::string full = GoldenResponse();
  for (size_t n = 0; n < full.size(); ++n) {
    auto m = ParseMessage(std::string_view(full).substr(0, n));
    EXPECT_FALSE(m.ok()) << "prefix of " << n << " bytes parsed";
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), core::StatusCode::kDataLoss);
    }
  }
  EXPECT_TRUE(ParseMessage(full + "trailing").ok());
}

TEST(DnsParseTest, RejectsCompressionLoopsAndForwardPointers) {
  const std::string header = B({0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0});
  struct Case {
    std::string name;
    std::string question;  // from offset 12
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"self", B({0xc0, 12, 0, 1, 0, 1}), "does not point backwards"},
           {"forward", B({0xc0, 14, 0, 0, 1, 0, 1}), "does not point backwards"},
           {"label then back to itself", L("a") + B({0xc0, 12, 0, 1, 0, 1}), "does not point backwards"},
           {"into its own middle", L("a") + L("b") + B({0xc0, 14, 0, 1, 0, 1}), "does not point backwards"},
           {"reserved label type", B({0x40, 0, 0, 1, 0, 1}), "unsupported label type"},
           {"pointer cut short", B({0xc0}), "truncated"},
       }) {
    SCOPED_TRACE(c.name);
    auto m = ParseMessage(header + c.question);
    ASSERT_FALSE(m.ok());
    EXPECT_THAT(m.status().message(), HasSubstr(c.error));
    EXPECT_THAT(m.status().message(), HasSubstr("question 1"));
  }
  // A loop that only pointers pointing back from where they sit would not catch: the first
  // record's raw RDATA (offset 41) holds label "a" plus a pointer back to 41; the second record's
  // name points to 41. Each pointer points backwards from itself, yet following them never
  // ends; targets must decrease, so the second jump (41 -> 41) is refused.
  std::string m = B({0, 1, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0}) + L("example") + L("com") +
                  B({0}) + B({0, 1, 0, 1});                                     // 12..28
  m += B({0xc0, 12, 0xff, 0x00, 0, 1, 0, 0, 0, 1, 0, 4}) + L("a") + B({0xc0, 41});  // 29..44
  m += B({0xc0, 41, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4});
  auto loop = ParseMessage(m);
  ASSERT_FALSE(loop.ok());
  EXPECT_THAT(loop.status().message(), HasSubstr("answer record 2"));
  EXPECT_THAT(loop.status().message(), HasSubstr("does not point backwards"));
}

TEST(DnsParseTest, RejectsMalformedRdata) {
  const std::string q = B({0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0});
  auto rr = [&](int type, const std::string& rdata) {
    return q + B({0, type >> 8, type & 0xff, 0, 1, 0, 0, 0, 1, 0, static_cast<int>(rdata.size())}) + rdata;
  };
  struct Case {
    std::string name;
    std::string wire;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"A of 3 bytes", rr(kTypeA, B({1, 2, 3})), "A RDATA of 3 bytes, want 4"},
           {"AAAA of 4 bytes", rr(kTypeAAAA, B({1, 2, 3, 4})), "AAAA RDATA of 4 bytes"},
           {"MX without name", rr(kTypeMX, B({0, 1})), "at least 3"},
           {"CNAME with junk", rr(kTypeCNAME, L("a") + B({0, 9})), "after its fields"},
           {"CNAME overrunning rdata", rr(kTypeCNAME, L("abc")), "truncated"},
           {"TXT overrun", rr(kTypeTXT, B({5, 'a'})), "overruns"},
           {"SOA short", rr(kTypeSOA, B({0, 0, 1, 2, 3})), "want 20"},
           {"OPT option overrun", rr(kTypeOPT, B({0, 3, 0, 9, 1})), "overruns"},
           {"rdlength past end", q + B({0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 9, 1}), "overruns the message"},
       }) {
    SCOPED_TRACE(c.name);
    auto m = ParseMessage(c.wire);
    ASSERT_FALSE(m.ok());
    EXPECT_THAT(m.status().message(), HasSubstr(c.error));
    EXPECT_THAT(m.status().message(), HasSubstr("answer record 1"));
  }
}

TEST(DnsParseTest, HandBuiltMalformedRecordsRenderAsRfc3597) {
  Record r{.name = "x.", .type = kTypeA, .rclass = kClassIN, .ttl = 1, .rdata = B({1, 2})};
  EXPECT_EQ(RecordToString(r), "x.\t1\tCLASS1\tTYPE1\t\\# 2 0102");
}

TEST(DnsNamesTest, TypesAndRcodes) {
  EXPECT_EQ(TypeName(kTypeAAAA), "AAAA");
  EXPECT_EQ(TypeName(257), "CAA");
  EXPECT_EQ(TypeName(65280), "TYPE65280");
  EXPECT_EQ(TypeFromName("SOA"), kTypeSOA);
  EXPECT_EQ(TypeFromName("TYPE99"), 99);
  EXPECT_EQ(TypeFromName("soa"), std::nullopt);
  EXPECT_EQ(TypeFromName("TYPE70000"), std::nullopt);
  EXPECT_EQ(ClassName(3), "CH");
  EXPECT_EQ(ClassName(7), "CLASS7");
  const std::vector<std::string> names = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                          "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
                                          "NOTZONE"};
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(RcodeName(static_cast<int>(i)), names[i]);
    EXPECT_EQ(RcodeFromName(names[i]), static_cast<int>(i));
  }
  EXPECT_EQ(RcodeName(12), "12");
  EXPECT_EQ(RcodeFromName("BADVERS"), 16);
  EXPECT_EQ(RcodeFromName("noerror"), std::nullopt);
}

// Random mutations of a valid response (flipped bytes, cut, grown, spliced) must parse or fail
// cleanly; under ASan any out-of-bounds read fails the test. Whatever parses must render and
// encode again.
TEST(DnsParseTest, SurvivesRandomMutations) {
  const std::string golden = GoldenResponse();
  std::mt19937 rng(20240611);
  int parsed = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string m = golden;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 5) {
        case 0:
        case 1:
          m[rng() % m.size()] = static_cast<char>(rng());
          break;
        case 2:
          m.resize(rng() % (m.size() + 1));
          break;
        case 3:
          m.insert(m.begin() + static_cast<long>(rng() % (m.size() + 1)), static_cast<char>(rng()));
          break;
        case 4: {
          // Pointer-shaped bytes somewhere: the interesting case for the name reader.
          const size_t at = rng() % m.size();
          m[at] = static_cast<char>(0xc0 | (rng() & 0x3f));
          break;
        }
      }
      if (m.empty()) m.push_back('\0');
    }
    auto r = ParseMessage(m);
    if (!r.ok()) continue;
    ++parsed;
    for (const auto* sec : {&r->answer, &r->authority, &r->additional}) {
      for (const Record& rec : *sec) EXPECT_FALSE(RecordToString(rec).empty());
    }
    (void)r->Rcode();
    // Names that parsed may still contain bytes that re-encode differently (an escaped '.'
    // round-trips; a label over 63 bytes cannot occur), so encoding must succeed.
    auto again = EncodeMessage(*r);
    EXPECT_TRUE(again.ok()) << again.status().ToString();
  }
  // Flipping TTLs, counts of zero and trailing garbage keep some messages valid: a mutation
  // loop where nothing parses would test only the first few bytes.
  EXPECT_GT(parsed, 1000);
}

TEST(DnsParseTest, RandomGarbageNeverParsesIntoNonsense) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string m(rng() % 600, '\0');
    for (char& c : m) c = static_cast<char>(rng());
    auto r = ParseMessage(m);
    if (r.ok()) {
      // Whatever parsed accounts for its counts.
      EXPECT_EQ(r->questions.size(), static_cast<size_t>((static_cast<uint8_t>(m[4]) << 8) | static_cast<uint8_t>(m[5])));
    }
  }
}

}  // namespace
}  // namespace nines::collector::dns

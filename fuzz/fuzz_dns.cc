// Fuzzes the DNS codec (collector::dns), which parses every answer a DNS probe receives from the
// network: a message that parses must render (as blackbox_exporter's regexes see it), encode
// again, and parse back to the same questions and records (names travel through their
// presentation form, escapes included).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collector/dns.h"
#include "fuzz/fuzz_check.h"

namespace dns = nines::collector::dns;

namespace {

void Render(const std::vector<dns::Record>& records) {
  for (const dns::Record& r : records) {
    (void)dns::RecordToString(r);
    (void)dns::SoaSerial(r);
  }
}

bool SameQuestions(const std::vector<dns::Question>& a, const std::vector<dns::Question>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].type != b[i].type || a[i].qclass != b[i].qclass) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view wire(reinterpret_cast<const char*>(data), size);
  nines::core::Result<dns::Message> message = dns::ParseMessage(wire);
  if (!message.ok()) return 0;
  (void)message->Rcode();
  Render(message->answer);
  Render(message->authority);
  Render(message->additional);
  nines::core::Result<std::string> encoded = dns::EncodeMessage(*message);
  FUZZ_CHECK(encoded.ok(), encoded.status().ToString().c_str());
  nines::core::Result<dns::Message> again = dns::ParseMessage(*encoded);
  FUZZ_CHECK(again.ok(), again.status().ToString().c_str());
  FUZZ_CHECK(SameQuestions(message->questions, again->questions), "questions changed");
  FUZZ_CHECK(message->answer == again->answer, "answer records changed");
  FUZZ_CHECK(message->authority == again->authority, "authority records changed");
  FUZZ_CHECK(message->additional == again->additional, "additional records changed");
  return 0;
}

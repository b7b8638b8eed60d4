// Fuzzes the remote-write decoder (remote::DecodeWriteRequest), what POST /api/v1/write runs on
// every body.
//
// The first byte picks the layer: odd bytes feed the rest to DecodeWriteRequest as a body (the
// snappy layer); even bytes snappy-compress the rest first, so that mutations reach the protobuf
// decoders. On those the hand-written fast path must agree with the protobuf library's parser
// (internal::DecodeWithGeneratedParser), and whatever decodes must re-encode and decode to the
// same request.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "remote/remote.h"

namespace {

using nines::remote::TimeSeries;
using nines::remote::WriteRequest;

// Bit-for-bit equality: NaN and the staleness marker compare by their bits.
bool SameSeries(const WriteRequest& a, const WriteRequest& b) {
  if (a.series.size() != b.series.size()) return false;
  for (size_t i = 0; i < a.series.size(); ++i) {
    const TimeSeries& x = a.series[i];
    const TimeSeries& y = b.series[i];
    if (!(x.labels == y.labels) || x.samples.size() != y.samples.size()) return false;
    for (size_t j = 0; j < x.samples.size(); ++j) {
      if (x.samples[j].timestamp_ms != y.samples[j].timestamp_ms ||
          std::memcmp(&x.samples[j].value, &y.samples[j].value, sizeof(double)) != 0) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr size_t kMaxDecoded = 1 << 20;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    // Only crashes count here: whether the body decodes is up to the input.
    nines::remote::DecodeWriteRequest(rest, kMaxDecoded).status().IgnoreError();
    return 0;
  }
  nines::core::Result<WriteRequest> decoded =
      nines::remote::DecodeWriteRequest(nines::remote::SnappyCompress(rest), kMaxDecoded);
  nines::core::Result<WriteRequest> generated =
      nines::remote::internal::DecodeWithGeneratedParser(rest);
  FUZZ_CHECK(decoded.ok() == generated.ok(), "fast path and protobuf parser disagree on validity");
  if (!decoded.ok()) return 0;
  FUZZ_CHECK(SameSeries(*decoded, *generated), "fast path and protobuf parser decode differently");
  FUZZ_CHECK(decoded->ignored_histograms == generated->ignored_histograms &&
                 decoded->ignored_exemplars == generated->ignored_exemplars &&
                 decoded->ignored_metadata == generated->ignored_metadata,
             "fast path and protobuf parser count ignored parts differently");
  nines::core::Result<WriteRequest> again =
      nines::remote::DecodeWriteRequest(nines::remote::EncodeWriteRequest(*decoded));
  FUZZ_CHECK(again.ok(), "a decoded request does not decode after re-encoding");
  FUZZ_CHECK(SameSeries(*decoded, *again), "a decoded request changes when re-encoded");
  return 0;
}

// Test helper: head_log records in the format older nines wrote, for the tests that check they
// are still replayed.
#ifndef NINES_TESTS_STORE_HEAD_LOG_TEST_UTIL_H_
#define NINES_TESTS_STORE_HEAD_LOG_TEST_UTIL_H_

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "store/head_log.h"

namespace nines::store::internal {

// A head_log record as nines wrote it before value kinds (no leading 0 byte): varint n, then
// per sample varint series id, zigzag varint (t - the previous t, 0 before the first), the
// value's 8 bytes little-endian. Written here on purpose, apart from store/head_log.cc, so
// that the decoder is checked against the format and not against its own encoder.
inline std::string OldFormatHeadLogRecord(const std::vector<HeadLogSample>& samples) {
  std::string out;
  auto varint = [&out](uint64_t v) {
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
    out.push_back(static_cast<char>(v));
  };
  varint(samples.size());
  uint64_t prev = 0;
  for (const HeadLogSample& x : samples) {
    varint(x.series_id);
    const auto dt = static_cast<int64_t>(static_cast<uint64_t>(x.t) - prev);
    varint((static_cast<uint64_t>(dt) << 1) ^ static_cast<uint64_t>(dt >> 63));
    prev = static_cast<uint64_t>(x.t);
    const uint64_t bits = std::bit_cast<uint64_t>(x.v);
    for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>(bits >> (8 * b)));
  }
  return out;
}

}  // namespace nines::store::internal

#endif  // NINES_TESTS_STORE_HEAD_LOG_TEST_UTIL_H_

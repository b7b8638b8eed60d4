// The head_log record codec (private to store/): one committed batch of samples as the store's
// write-ahead log holds it. Encoder and decoder live side by side in head_log.cc.
//
// Format (current): a 0 byte, varint n, then n times
//   varint (series id << 2 | value kind), varsint (t - the previous t of the record, 0 before
//   the first), the value by kind (HeadLogValueKind).
// Format (older nines, still replayed): no leading 0 byte; varint n, then n times
//   varint series id, varsint t delta as above, fixed64 value bits.
// A record of the current format can never be read as the older one: an older record of n > 0
// samples starts with a non-zero varint, and nines never wrote empty records.
//
// Thread-safety: pure functions.
#ifndef NINES_STORE_HEAD_LOG_H_
#define NINES_STORE_HEAD_LOG_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace nines::store::internal {

// How a head_log record stores a value. Probe and counter data is mostly 0, 1 and small
// integers; 8 bytes for each was most of the log, which RocksDB copies into its WAL, its
// memtable and (until a checkpoint deletes it) an SST file.
enum HeadLogValueKind : uint64_t {
  kValueRaw = 0,      // fixed64 bits
  kValueZero = 1,     // +0.0, nothing stored
  kValueOne = 2,      // 1.0, nothing stored
  kValueInteger = 3,  // varsint of an integral value in [-2^53, 2^53] (not -0.0)
};

// One sample of a record.
struct HeadLogSample {
  uint64_t series_id = 0;  // REQUIRES (to encode): < 2^62 (ids count up from 1)
  int64_t t = 0;
  double v = 0;
};

// Replaces `*out` with the record of `samples` (any order; times may go back). Every value's
// bits come back from DecodeHeadLogRecord unchanged. `*out` keeps its capacity, so a caller that
// reuses it does not allocate per commit.
void EncodeHeadLogRecord(std::span<const HeadLogSample> samples, std::string* out);

// Appends the samples of `record` (either format) to `*out`, in record order.
// Errors: DATA_LOSS when the record is truncated or malformed; `*out` may then hold a prefix.
core::Status DecodeHeadLogRecord(std::string_view record, std::vector<HeadLogSample>* out);

}  // namespace nines::store::internal

#endif  // NINES_STORE_HEAD_LOG_H_

#include "store/head_log.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "store/encoding.h"

namespace nines::store::internal {
namespace {

HeadLogValueKind KindOf(double v, int64_t* integer) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (bits == 0) return kValueZero;
  if (bits == std::bit_cast<uint64_t>(1.0)) return kValueOne;
  if (v >= -0x1p53 && v <= 0x1p53 && v == std::trunc(v)) {  // false for NaN
    *integer = static_cast<int64_t>(v);
    if (std::bit_cast<uint64_t>(static_cast<double>(*integer)) == bits) return kValueInteger;
  }
  return kValueRaw;
}

// Wrapping subtraction and addition: time deltas of int64 extremes must not overflow.
int64_t WrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

}  // namespace

void EncodeHeadLogRecord(std::span<const HeadLogSample> samples, std::string* out) {
  // Written straight into a buffer sized for the worst case (a 10-byte varint count, and per
  // sample at most 10 + 10 + 10 bytes): this runs for every ingested sample.
  out->resize(11 + samples.size() * 30);
  char* p = out->data();
  auto varint = [&p](uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
  };
  *p++ = 0;
  varint(samples.size());
  int64_t prev_t = 0;
  for (const HeadLogSample& x : samples) {
    int64_t integer = 0;
    const HeadLogValueKind kind = KindOf(x.v, &integer);
    varint(x.series_id << 2 | kind);
    varint(enc::ZigZag(WrappingSub(x.t, prev_t)));
    prev_t = x.t;
    if (kind == kValueInteger) {
      varint(enc::ZigZag(integer));
    } else if (kind == kValueRaw) {
      const uint64_t bits = std::bit_cast<uint64_t>(x.v);
      std::memcpy(p, &bits, 8);  // as enc::PutFixed64: little-endian hosts only
      p += 8;
    }
  }
  out->resize(static_cast<size_t>(p - out->data()));
}

core::Status DecodeHeadLogRecord(std::string_view record, std::vector<HeadLogSample>* out) {
  const bool kinds = !record.empty() && record[0] == 0;  // see the header: which format
  enc::Decoder d(kinds ? record.substr(1) : record);
  uint64_t n;
  if (!d.Varint(&n)) return core::DataLossError("store: corrupt head log record");
  int64_t t = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id;
    int64_t dt;
    double v = 0;
    if (!d.Varint(&id) || !d.Varsint(&dt)) {
      return core::DataLossError("store: corrupt head log record");
    }
    bool ok = true;
    const uint64_t kind = kinds ? id & 3 : kValueRaw;
    if (kinds) id >>= 2;
    if (kind == kValueRaw) {
      ok = d.Double(&v);
    } else if (kind == kValueOne) {
      v = 1.0;
    } else if (kind == kValueInteger) {
      int64_t integer;
      ok = d.Varsint(&integer);
      v = static_cast<double>(integer);
    }
    if (!ok) return core::DataLossError("store: corrupt head log record");
    t = WrappingAdd(t, dt);
    out->push_back({id, t, v});
  }
  return core::Status::Ok();
}

}  // namespace nines::store::internal

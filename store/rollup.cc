#include "store/rollup.h"

namespace nines::store::internal {
namespace {

// A PrefixSum after a bucket, stored relative to the one before it: the counts of NaN and
// infinities as small deltas.
void PutAfter(std::string* out, const PrefixSum& before, const PrefixSum& after) {
  enc::PutDouble(out, after.finite);
  enc::PutVarint(out, static_cast<uint64_t>(after.nan - before.nan));
  enc::PutVarint(out, static_cast<uint64_t>(after.pos_inf - before.pos_inf));
  enc::PutVarint(out, static_cast<uint64_t>(after.neg_inf - before.neg_inf));
}

bool GetAfter(enc::Decoder* d, const PrefixSum& before, PrefixSum* after) {
  uint64_t n, p, m;
  if (!d->Double(&after->finite) || !d->Varint(&n) || !d->Varint(&p) || !d->Varint(&m)) {
    return false;
  }
  after->nan = before.nan + static_cast<int64_t>(n);
  after->pos_inf = before.pos_inf + static_cast<int64_t>(p);
  after->neg_inf = before.neg_inf + static_cast<int64_t>(m);
  return true;
}

}  // namespace

void PrefixSum::Encode(std::string* out) const {
  enc::PutDouble(out, finite);
  enc::PutVarint(out, static_cast<uint64_t>(nan));
  enc::PutVarint(out, static_cast<uint64_t>(pos_inf));
  enc::PutVarint(out, static_cast<uint64_t>(neg_inf));
}

bool PrefixSum::Decode(enc::Decoder* d) {
  uint64_t a, b, c;
  if (!d->Double(&finite) || !d->Varint(&a) || !d->Varint(&b) || !d->Varint(&c)) return false;
  nan = static_cast<int64_t>(a);
  pos_inf = static_cast<int64_t>(b);
  neg_inf = static_cast<int64_t>(c);
  return true;
}

void Totals::Encode(std::string* out) const {
  enc::PutVarint(out, static_cast<uint64_t>(count));
  sum.Encode(out);
  increase.Encode(out);
}

bool Totals::Decode(enc::Decoder* d) {
  uint64_t c;
  if (!d->Varint(&c) || !sum.Decode(d) || !increase.Decode(d)) return false;
  count = static_cast<int64_t>(c);
  return true;
}

std::string Agg::Encode() const {
  std::string out;
  enc::PutVarint(&out, static_cast<uint64_t>(w.count));
  enc::PutDouble(&out, w.sum);
  enc::PutDouble(&out, w.min);
  enc::PutDouble(&out, w.max);
  enc::PutDouble(&out, w.last);
  enc::PutVarsint(&out, w.last_timestamp_ms);
  enc::PutDouble(&out, w.increase);
  out.push_back(last_valid.has ? 1 : 0);
  enc::PutDouble(&out, last_valid.v);
  return out;
}

bool Agg::Decode(enc::Decoder* d) {
  uint64_t count;
  uint8_t has;
  if (!d->Varint(&count) || !d->Double(&w.sum) || !d->Double(&w.min) || !d->Double(&w.max) ||
      !d->Double(&w.last) || !d->Varsint(&w.last_timestamp_ms) || !d->Double(&w.increase) ||
      !d->Byte(&has) || !d->Double(&last_valid.v)) {
    return false;
  }
  w.count = static_cast<int64_t>(count);
  last_valid.has = has != 0;
  return true;
}

std::string StoredBucket::Encode(const Agg& agg, int64_t start, const Totals& before,
                                 const Totals& after, const Pred& pred_after) {
  std::string out;
  out.reserve(96);
  enc::PutDouble(&out, agg.w.min);
  enc::PutDouble(&out, agg.w.max);
  enc::PutDouble(&out, agg.w.last);
  enc::PutVarint(&out, static_cast<uint64_t>(agg.w.last_timestamp_ms - start));
  before.Encode(&out);
  enc::PutVarint(&out, static_cast<uint64_t>(after.count - before.count));
  PutAfter(&out, before.sum, after.sum);
  PutAfter(&out, before.increase, after.increase);
  out.push_back(pred_after.has ? 1 : 0);
  if (pred_after.has) enc::PutDouble(&out, pred_after.v);
  return out;
}

bool StoredBucket::Decode(std::string_view data, int64_t start) {
  enc::Decoder d(data);
  uint64_t offset, count;
  uint8_t has;
  if (!d.Double(&w.min) || !d.Double(&w.max) || !d.Double(&w.last) || !d.Varint(&offset) ||
      !before.Decode(&d) || !d.Varint(&count) || !GetAfter(&d, before.sum, &after.sum) ||
      !GetAfter(&d, before.increase, &after.increase) || !d.Byte(&has) ||
      (has && !d.Double(&pred_after.v))) {
    return false;
  }
  pred_after.has = has != 0;
  after.count = before.count + static_cast<int64_t>(count);
  w.last_timestamp_ms = start + static_cast<int64_t>(offset);
  w.count = static_cast<int64_t>(count);
  w.sum = after.sum.Since(before.sum);
  w.increase = after.increase.Since(before.increase);
  return true;
}

}  // namespace nines::store::internal

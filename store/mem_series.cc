#include "store/mem_series.h"

#include <fmt/format.h>

#include "store/encoding.h"

namespace nines::store::internal {

std::string MemSeries::EncodeState() const {
  std::string out;
  enc::PutVarint(&out, 3);  // state format (2: head samples as varsint time + 8-byte value)
  out.push_back(has_settled ? 1 : 0);
  enc::PutVarsint(&out, settled_max_t);
  out.push_back(settled_pred.has ? 1 : 0);
  enc::PutDouble(&out, settled_pred.v);
  std::string_view bytes = chunk.num_samples() > 0 ? chunk.bytes() : std::string_view();
  enc::PutVarint(&out, bytes.size());
  out += bytes;
  totals.Encode(&out);
  enc::PutVarsint(&out, hour.start);
  out += hour.agg.Encode();
  hour.before.Encode(&out);
  // The head (ascending, distinct times) as chunks: ~1-2 bytes per regular sample instead of
  // 14, and checkpoints rewrite every dirty series' head.
  const size_t chunks = (head.size() + kChunkMaxSamples - 1) / kChunkMaxSamples;
  enc::PutVarint(&out, chunks);
  for (size_t c = 0; c < chunks; ++c) {
    ChunkEncoder e;
    const size_t end = std::min(head.size(), (c + 1) * kChunkMaxSamples);
    for (size_t i = c * kChunkMaxSamples; i < end; ++i) {
      e.Append(head[i].timestamp_ms, head[i].value).IgnoreError();  // cannot fail: see above
    }
    enc::PutVarint(&out, e.bytes().size());
    out += e.bytes();
  }
  return out;
}

core::Status MemSeries::DecodeState(std::string_view data) {
  enc::Decoder d(data);
  uint64_t version, n;
  uint8_t has_settled_byte, has_pred;
  std::string_view bytes;
  if (!d.Varint(&version) || (version != 2 && version != 3) || !d.Byte(&has_settled_byte) ||
      !d.Varsint(&settled_max_t) || !d.Byte(&has_pred) || !d.Double(&settled_pred.v) ||
      !d.LengthPrefixed(&bytes)) {
    return core::DataLossError("corrupt head state of series {}", id);
  }
  has_settled = has_settled_byte != 0;
  settled_pred.has = has_pred != 0;
  if (!bytes.empty()) {
    auto restored = ChunkEncoder::FromBytes(bytes);
    if (!restored.ok()) return restored.status().WithContext(fmt::format("series {}", id));
    chunk = std::move(*restored);
  }
  if (!totals.Decode(&d)) return core::DataLossError("corrupt totals of series {}", id);
  if (!d.Varsint(&hour.start) || !hour.agg.Decode(&d) || !hour.before.Decode(&d)) {
    return core::DataLossError("corrupt rollup state of series {}", id);
  }
  if (!d.Varint(&n)) return core::DataLossError("corrupt head of series {}", id);
  head.clear();
  for (uint64_t i = 0; i < n; ++i) {
    if (version == 2) {
      core::Sample s;
      if (!d.Varsint(&s.timestamp_ms) || !d.Double(&s.value)) {
        return core::DataLossError("corrupt head of series {}", id);
      }
      head.push_back(s);
      continue;
    }
    std::string_view chunk_bytes;
    if (!d.LengthPrefixed(&chunk_bytes)) {
      return core::DataLossError("corrupt head of series {}", id);
    }
    ChunkIterator it(chunk_bytes);
    while (it.Next()) head.push_back(it.sample());
    if (!it.status().ok()) return it.status().WithContext(fmt::format("head of series {}", id));
  }
  head_front_t = head.empty() ? INT64_MAX : head.front().timestamp_ms;
  return core::Status::Ok();
}

}  // namespace nines::store::internal

// Chunk: the store's compressed, persisted block of one series' samples (a Gorilla-style codec).
//
// Private to store/. A chunk holds up to 65535 samples of one series with strictly increasing
// timestamps. ChunkEncoder builds one; ChunkIterator and DecodeChunk read one without trusting
// it: any byte string decodes either cleanly or to DATA_LOSS, never out of bounds.
//
// Thread-safety: the classes are thread-compatible (one writer, or many const readers). A
// ChunkIterator does not copy: the bytes it is given must outlive it.
//
// ---------------------------------------------------------------------------------------------
// Format, version 1. It is written to disk: never change it in place; add version 2 instead.
//
//   byte 0      format version, 0x01
//   bytes 1..2  sample count n, uint16 little-endian (0..65535)
//   bytes 3..   a bit stream, most significant bit of each byte first, carrying n samples,
//               padded with 1 bits to a whole byte. Nothing follows the padding.
//               (Not 0 bits: "00" is a whole sample, "same interval, same value", so a count
//               corrupted upwards could decode zero padding as samples. With 1 bits, a count
//               off by any amount in either direction is always detected.)
//
// All integer arithmetic on timestamps is modulo 2^64 (two's complement), so every int64
// timestamp and every gap between two of them is representable.
//
// Sample 0 (byte-aligned):
//   t0   zigzag(t0) as an unsigned LEB128 varint (7 bits per byte, low group first, at most 10
//        bytes); t0 in ms since the Unix epoch, may be negative.
//   v0   the 64 bits of the IEEE-754 double, most significant first.
// Sample 1 (still byte-aligned):
//   d1   t1 - t0 as an unsigned LEB128 varint; never 0 (timestamps strictly increase). No
//        zigzag: the delta is always positive, zigzag would only waste a bit.
//   v1   value, XOR-encoded as below.
// Sample i >= 2:
//   dod  delta-of-delta D = (t_i - t_{i-1}) - (t_{i-1} - t_{i-2}), as a signed int64:
//          '0'                       D == 0
//          '10'   + 6 bits           D in [-32, 31]          (two's complement, sign-extended)
//          '110'  + 10 bits          D in [-512, 511]
//          '1110' + 20 bits          D in [-524288, 524287]
//          '1111' + 64 bits          any D (the raw 64-bit difference)
//   v_i  value, XOR-encoded as below.
//   Why these buckets: probes run every 15 s and are stamped with the time they started, so
//   consecutive deltas differ only by timer jitter of a few ms, and D (a difference of
//   differences of jitter) is within +-32 ms nearly always: 8 bits, plus 1 bit for an
//   unchanged 0/1 value, is 9 bits ~ 1.1 bytes/sample. Samples on exact ticks (rollups, pinned
//   timestamps) take 1 bit. 10 bits absorb a loaded prober or a GC pause (+-0.5 s); 20 bits
//   absorb missed probes and restarts (+-8.7 min; one missed 15 s probe is D = +15000 ms, then
//   -15000). Prometheus' first bucket (14 bits) would cost 16 bits/sample on this data.
// Value XOR encoding (x = bits(v_i) XOR bits(v_{i-1})), against a "window" (leading zero
// count L, meaningful bit count M), which starts as L = 0, M = 64 before sample 1:
//          '0'                       x == 0 (value unchanged, bit-exactly)
//          '10'  + M bits            x fits the window: x == (x's M bits) << (64 - L - M)
//          '11'  + 5 bits L' + 6 bits (M' - 1) + M' bits
//                                    a new window (L', M'), L' <= 31, 1 <= M' <= 64,
//                                    L' + M' <= 64; it becomes the window for what follows.
//   Values round-trip bit-exactly: NaN payloads, +-Inf, -0.0 and denormals included. The
//   encoder reuses the window when x fits it and 2 + M <= 13 + M' (not merely when x fits:
//   a wide window, such as the initial one, would otherwise stick); decoders need not care.
//   Starting from a full window rather than "none" leaves a decoder no invalid state.
//
// A decoder rejects (DATA_LOSS): fewer than 3 bytes, another version, a stream that ends
// before n samples, a varint longer than 10 bytes or above 2^64, a timestamp not greater than
// its predecessor, a window with L' + M' > 64, a padding bit that is not 1, or bytes after
// the padding. The format has no checksum of its own (RocksDB checksums the blocks it sits
// in): a flipped bit that still leaves a well-formed stream decodes to different samples.
// ---------------------------------------------------------------------------------------------
//
// Example:
//   ChunkEncoder enc;
//   RETURN_IF_ERROR(enc.Append(1'700'000'000'000, 1.0));
//   RETURN_IF_ERROR(enc.Append(1'700'000'015'003, 1.0));
//   std::string on_disk(enc.bytes());
//   for (ChunkIterator it(on_disk); it.Next();) Use(it.t(), it.v());
//   // or: ASSIGN_OR_RETURN(std::vector<core::Sample> samples, DecodeChunk(on_disk));
#ifndef NINES_STORE_CHUNK_H_
#define NINES_STORE_CHUNK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"

namespace nines::store {

inline constexpr uint8_t kChunkFormatVersion = 1;
inline constexpr int kChunkHeaderSize = 3;
inline constexpr int kChunkMaxSamples = 65535;

// Builds a chunk sample by sample. Copyable and movable.
class ChunkEncoder {
 public:
  // An empty chunk (the 3-byte header with count 0).
  ChunkEncoder();

  // Appends one sample. On error nothing changes.
  // Errors: INVALID_ARGUMENT when t_ms is not greater than max_time() (timestamps must strictly
  // increase); RESOURCE_EXHAUSTED when the chunk already holds kChunkMaxSamples samples.
  core::Status Append(int64_t t_ms, double v);

  int num_samples() const { return count_; }
  // The first and last timestamps (ms); 0 when the chunk is empty.
  int64_t min_time() const { return min_time_; }
  int64_t max_time() const { return last_t_; }

  // The encoded chunk so far, a complete chunk in the format above (count current, padding
  // written). Valid until the next Append or until this encoder is destroyed or moved from.
  std::string_view bytes() const { return buf_; }

  // Re-opens an encoded chunk for appending. The existing bytes are kept as they are, so
  // appending to the result yields exactly what one encoder appending every sample would.
  // Errors: DATA_LOSS when `bytes` is not a valid chunk (see the format).
  static core::Result<ChunkEncoder> FromBytes(std::string_view bytes);

 private:
  // Appends the low `n` bits of `v` (1 <= n <= 32; the bits above n must be 0).
  void PutBits(uint64_t v, int n);
  // As PutBits, for 1 <= n <= 64.
  void PutLongBits(uint64_t v, int n);
  void PutVarint(uint64_t v);
  // Writes the pending bits (and padding) to buf_; UnflushTail() takes them back off.
  void FlushTail();
  void UnflushTail();

  std::string buf_;
  uint64_t acc_ = 0;    // pending bits, right-aligned: the low acc_bits_ bits
  int acc_bits_ = 0;    // < 32 between calls
  int tail_bytes_ = 0;  // bytes at the end of buf_ that mirror the pending bits

  int count_ = 0;
  int64_t min_time_ = 0;
  int64_t last_t_ = 0;
  uint64_t last_delta_ = 0;  // t_{n-1} - t_{n-2}, modulo 2^64
  uint64_t last_bits_ = 0;   // bits of the last value
  int win_lead_ = 0;         // the XOR window: leading zeros ...
  int win_len_ = 64;         // ... and meaningful bits
};

// Reads a chunk sample by sample, validating as it goes.
//
// Example:
//   ChunkIterator it(bytes);
//   while (it.Next()) Use(it.t(), it.v());
//   RETURN_IF_ERROR(it.status());
class ChunkIterator {
 public:
  // `bytes` must outlive the iterator. A bad header (too short, another version) makes
  // status() DATA_LOSS at once and Next() return false.
  explicit ChunkIterator(std::string_view bytes);

  // Moves to the next sample. Returns false at the end of the chunk or on corruption; then
  // status() says which, and Next() keeps returning false.
  bool Next();
  // Moves forward to the first sample with timestamp >= t_ms (staying put if the current one
  // already is). Never moves backwards. Returns false like Next().
  bool Seek(int64_t t_ms);

  // The current sample. REQUIRES: the last Next()/Seek() returned true.
  int64_t t() const { return t_; }
  double v() const;
  core::Sample sample() const { return core::Sample{t_, v()}; }

  // OK while iterating and at a clean end; DATA_LOSS describing the corruption otherwise.
  const core::Status& status() const { return status_; }
  // The sample count the header claims (0 when the header is unreadable).
  int num_samples() const { return count_; }

 private:
  friend class ChunkEncoder;

  bool Fail(std::string_view what);
  void Refill();
  // Reads n bits (1 <= n <= 56) into *out; false when the stream ends first.
  bool Get(int n, uint64_t* out);
  // As Get, for 1 <= n <= 64.
  bool GetLong(int n, uint64_t* out);
  bool GetVarint(uint64_t* out);
  bool ReadValue();
  // The bit position of the reader within the stream (0 = first bit after the header).
  uint64_t BitPosition() const;

  const uint8_t* begin_ = nullptr;  // the first byte of the bit stream
  const uint8_t* ptr_ = nullptr;    // the next byte to load into bitbuf_
  const uint8_t* end_ = nullptr;
  uint64_t bitbuf_ = 0;  // unread bits, left-aligned; the top bitcount_ bits are valid
  int bitcount_ = 0;

  int count_ = 0;
  int read_ = 0;  // samples returned so far
  bool done_ = false;
  core::Status status_;

  int64_t t_ = 0;
  uint64_t delta_ = 0;
  uint64_t bits_ = 0;
  int win_lead_ = 0;
  int win_len_ = 64;
};

// Every sample of the chunk, ascending by timestamp.
// Errors: DATA_LOSS when `bytes` is not a valid chunk.
core::Result<std::vector<core::Sample>> DecodeChunk(std::string_view bytes);

}  // namespace nines::store

#endif  // NINES_STORE_CHUNK_H_

#include "store/chunk.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

namespace nines::store {
namespace {

// Payload bits of the delta-of-delta buckets '10', '110' and '1110' (see chunk.h).
constexpr int kDodBits1 = 6;
constexpr int kDodBits2 = 10;
constexpr int kDodBits3 = 20;
// A new XOR window costs 2 control + 5 + 6 bits more than its meaningful bits; reusing the old
// one costs 2 control bits plus the old window's width.
constexpr int kNewWindowOverhead = 11;
constexpr int kMaxLeading = 31;

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t z) {
  return static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
}

// Whether `d` fits an n-bit two's complement field.
inline bool FitsSigned(int64_t d, int n) {
  const int64_t lim = int64_t{1} << (n - 1);
  return d >= -lim && d < lim;
}

inline int64_t SignExtend(uint64_t v, int n) {
  return static_cast<int64_t>(v << (64 - n)) >> (64 - n);
}

inline uint64_t LoadBigEndian64(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
  return w;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ChunkEncoder

ChunkEncoder::ChunkEncoder() {
  buf_.reserve(64);
  buf_.push_back(static_cast<char>(kChunkFormatVersion));
  buf_.push_back(0);
  buf_.push_back(0);
}

void ChunkEncoder::PutBits(uint64_t v, int n) {
  acc_ = (acc_ << n) | v;
  acc_bits_ += n;
  if (acc_bits_ >= 32) {
    acc_bits_ -= 32;
    const auto w = static_cast<uint32_t>(acc_ >> acc_bits_);
    const char b[4] = {static_cast<char>(w >> 24), static_cast<char>(w >> 16),
                       static_cast<char>(w >> 8), static_cast<char>(w)};
    buf_.append(b, 4);
  }
}

void ChunkEncoder::PutLongBits(uint64_t v, int n) {
  if (n <= 32) {
    PutBits(v, n);
  } else {
    PutBits(v >> 32, n - 32);
    PutBits(v & 0xffffffffu, 32);
  }
}

void ChunkEncoder::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    PutBits((v & 0x7f) | 0x80, 8);
    v >>= 7;
  }
  PutBits(v, 8);
}

void ChunkEncoder::FlushTail() {
  tail_bytes_ = (acc_bits_ + 7) / 8;
  const int pad = tail_bytes_ * 8 - acc_bits_;
  const uint64_t w = (acc_ << pad) | ((uint64_t{1} << pad) - 1);  // left-align, pad with 1s
  for (int i = tail_bytes_ - 1; i >= 0; --i) buf_.push_back(static_cast<char>(w >> (8 * i)));
  buf_[1] = static_cast<char>(count_ & 0xff);
  buf_[2] = static_cast<char>(count_ >> 8);
}

void ChunkEncoder::UnflushTail() {
  buf_.resize(buf_.size() - static_cast<size_t>(tail_bytes_));
  tail_bytes_ = 0;
}

core::Status ChunkEncoder::Append(int64_t t_ms, double v) {
  if (count_ > 0 && t_ms <= last_t_) {
    return core::InvalidArgumentError(
        "chunk: timestamp {} ms is not after the previous sample's {} ms", t_ms, last_t_);
  }
  if (count_ >= kChunkMaxSamples) {
    return core::ResourceExhaustedError("chunk: full ({} samples)", kChunkMaxSamples);
  }
  UnflushTail();
  const uint64_t bits = std::bit_cast<uint64_t>(v);

  if (count_ == 0) {
    PutVarint(ZigZag(t_ms));
    PutLongBits(bits, 64);
    min_time_ = t_ms;
  } else {
    // Modulo 2^64: any pair of int64 timestamps has a representable gap.
    const uint64_t delta = static_cast<uint64_t>(t_ms) - static_cast<uint64_t>(last_t_);
    if (count_ == 1) {
      PutVarint(delta);
    } else {
      const auto dod = static_cast<int64_t>(delta - last_delta_);
      if (dod == 0) {
        PutBits(0, 1);
      } else if (FitsSigned(dod, kDodBits1)) {
        PutBits((uint64_t{0b10} << kDodBits1) |
                    (static_cast<uint64_t>(dod) & ((uint64_t{1} << kDodBits1) - 1)),
                2 + kDodBits1);
      } else if (FitsSigned(dod, kDodBits2)) {
        PutBits((uint64_t{0b110} << kDodBits2) |
                    (static_cast<uint64_t>(dod) & ((uint64_t{1} << kDodBits2) - 1)),
                3 + kDodBits2);
      } else if (FitsSigned(dod, kDodBits3)) {
        PutBits((uint64_t{0b1110} << kDodBits3) |
                    (static_cast<uint64_t>(dod) & ((uint64_t{1} << kDodBits3) - 1)),
                4 + kDodBits3);
      } else {
        PutBits(0b1111, 4);
        PutLongBits(static_cast<uint64_t>(dod), 64);
      }
    }
    last_delta_ = delta;

    const uint64_t x = bits ^ last_bits_;
    if (x == 0) {
      PutBits(0, 1);
    } else {
      const int lead = std::min(std::countl_zero(x), kMaxLeading);
      const int trail = std::countr_zero(x);
      const int len = 64 - lead - trail;
      const int win_trail = 64 - win_lead_ - win_len_;
      if (lead >= win_lead_ && trail >= win_trail && win_len_ <= len + kNewWindowOverhead) {
        PutBits(0b10, 2);
        PutLongBits(x >> win_trail, win_len_);
      } else {
        PutBits((uint64_t{0b11} << 11) | (static_cast<uint64_t>(lead) << 6) |
                    static_cast<uint64_t>(len - 1),
                13);
        PutLongBits(x >> trail, len);
        win_lead_ = lead;
        win_len_ = len;
      }
    }
  }
  last_t_ = t_ms;
  last_bits_ = bits;
  ++count_;
  FlushTail();
  return core::Status::Ok();
}

core::Result<ChunkEncoder> ChunkEncoder::FromBytes(std::string_view bytes) {
  ChunkIterator it(bytes);
  ChunkEncoder enc;
  while (it.Next()) {
    if (it.read_ == 1) enc.min_time_ = it.t_;
  }
  if (!it.status().ok()) return it.status();

  // The iterator validated the whole chunk, padding included: keep its bytes, and take the
  // sample bits of the last, partial byte back into the accumulator (FlushTail re-pads).
  const uint64_t pos = it.BitPosition();
  const size_t whole = kChunkHeaderSize + static_cast<size_t>(pos / 8);
  enc.buf_.assign(bytes.data(), whole);
  enc.acc_bits_ = static_cast<int>(pos % 8);
  enc.acc_ = enc.acc_bits_ == 0 ? 0 : static_cast<uint8_t>(bytes[whole]) >> (8 - enc.acc_bits_);
  enc.count_ = it.count_;
  enc.last_t_ = it.count_ > 0 ? it.t_ : 0;
  enc.last_delta_ = it.delta_;
  enc.last_bits_ = it.bits_;
  enc.win_lead_ = it.win_lead_;
  enc.win_len_ = it.win_len_;
  enc.FlushTail();
  return enc;
}

// ---------------------------------------------------------------------------------------------
// ChunkIterator

ChunkIterator::ChunkIterator(std::string_view bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < static_cast<size_t>(kChunkHeaderSize)) {
    status_ = core::DataLossError("chunk: {} bytes, shorter than the {}-byte header", bytes.size(),
                                  kChunkHeaderSize);
    done_ = true;
    return;
  }
  if (data[0] != kChunkFormatVersion) {
    status_ = core::DataLossError("chunk: unsupported format version {} (want {})", data[0],
                                  kChunkFormatVersion);
    done_ = true;
    return;
  }
  count_ = data[1] | (data[2] << 8);
  begin_ = ptr_ = data + kChunkHeaderSize;
  end_ = data + bytes.size();
}

double ChunkIterator::v() const { return std::bit_cast<double>(bits_); }

bool ChunkIterator::Fail(std::string_view what) {
  status_ = core::DataLossError("chunk: {} at sample {} of {}", what, read_, count_);
  done_ = true;
  return false;
}

uint64_t ChunkIterator::BitPosition() const {
  return static_cast<uint64_t>(ptr_ - begin_) * 8 - static_cast<uint64_t>(bitcount_);
}

void ChunkIterator::Refill() {
  if (end_ - ptr_ >= 8) {
    // Loads 8 bytes but advances only past the whole bytes that fit; the bits of the next byte
    // that also landed in bitbuf_ are the true stream bits, so loading them again is harmless.
    bitbuf_ |= LoadBigEndian64(ptr_) >> bitcount_;
    ptr_ += (63 - bitcount_) >> 3;
    bitcount_ |= 56;
  } else {
    while (bitcount_ <= 56 && ptr_ < end_) {
      bitbuf_ |= static_cast<uint64_t>(*ptr_++) << (56 - bitcount_);
      bitcount_ += 8;
    }
  }
}

inline bool ChunkIterator::Get(int n, uint64_t* out) {
  if (bitcount_ < n) {
    Refill();
    if (bitcount_ < n) return false;
  }
  *out = bitbuf_ >> (64 - n);
  bitbuf_ <<= n;
  bitcount_ -= n;
  return true;
}

inline bool ChunkIterator::GetLong(int n, uint64_t* out) {
  if (n <= 56) return Get(n, out);
  uint64_t hi, lo;
  if (!Get(n - 32, &hi) || !Get(32, &lo)) return false;
  *out = (hi << 32) | lo;
  return true;
}

bool ChunkIterator::GetVarint(uint64_t* out) {
  uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    uint64_t b;
    if (!Get(8, &b)) return Fail("stream ends inside a varint");
    if (i == 9 && b > 1) return Fail("varint exceeds 64 bits");
    result |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *out = result;
      return true;
    }
  }
  return false;  // unreachable: the 10th byte either ends the varint or fails above
}

bool ChunkIterator::ReadValue() {
  if (bitcount_ < 2) Refill();
  // Beyond the end of the data bitbuf_ holds zeros, so peeking is safe; consuming is checked.
  const uint64_t control = bitbuf_ >> 62;
  if ((control & 0b10) == 0) {
    if (bitcount_ < 1) return Fail("stream ends inside a value");
    bitbuf_ <<= 1;
    bitcount_ -= 1;
    return true;
  }
  if (bitcount_ < 2) return Fail("stream ends inside a value");
  bitbuf_ <<= 2;
  bitcount_ -= 2;
  uint64_t m;
  if (control == 0b10) {
    if (!GetLong(win_len_, &m)) return Fail("stream ends inside a value");
    bits_ ^= m << (64 - win_lead_ - win_len_);
    return true;
  }
  uint64_t header;
  if (!Get(11, &header)) return Fail("stream ends inside a value");
  const int lead = static_cast<int>(header >> 6);
  const int len = static_cast<int>(header & 63) + 1;
  if (lead + len > 64) return Fail("XOR window exceeds 64 bits");
  if (!GetLong(len, &m)) return Fail("stream ends inside a value");
  bits_ ^= m << (64 - lead - len);
  win_lead_ = lead;
  win_len_ = len;
  return true;
}

bool ChunkIterator::Next() {
  if (done_) return false;
  if (read_ == count_) {
    const uint64_t pos = BitPosition();
    const uint64_t total = static_cast<uint64_t>(end_ - begin_) * 8;
    if (total - pos >= 8) {
      return Fail(fmt::format("{} bytes after the last sample", (total - pos) / 8));
    }
    // Checked in place, not read, so that BitPosition() stays at the end of the samples.
    const int pad = static_cast<int>(total - pos);
    const int mask = (1 << pad) - 1;
    if (pad > 0 && (end_[-1] & mask) != mask) return Fail("padding bits are not all 1");
    done_ = true;
    return false;
  }

  if (read_ == 0) {
    uint64_t z;
    if (!GetVarint(&z)) return false;
    t_ = UnZigZag(z);
    if (!GetLong(64, &bits_)) return Fail("stream ends inside the first value");
    ++read_;
    return true;
  }

  uint64_t delta;
  if (read_ == 1) {
    if (!GetVarint(&delta)) return false;
  } else {
    if (bitcount_ < 4) Refill();
    const int ones = std::min(std::countl_one(bitbuf_), 4);
    const int prefix = ones == 4 ? 4 : ones + 1;
    if (bitcount_ < prefix) return Fail("stream ends inside a timestamp");
    bitbuf_ <<= prefix;
    bitcount_ -= prefix;
    uint64_t raw = 0;
    int64_t dod = 0;
    switch (ones) {
      case 0:
        break;
      case 1:
        if (!Get(kDodBits1, &raw)) return Fail("stream ends inside a timestamp");
        dod = SignExtend(raw, kDodBits1);
        break;
      case 2:
        if (!Get(kDodBits2, &raw)) return Fail("stream ends inside a timestamp");
        dod = SignExtend(raw, kDodBits2);
        break;
      case 3:
        if (!Get(kDodBits3, &raw)) return Fail("stream ends inside a timestamp");
        dod = SignExtend(raw, kDodBits3);
        break;
      default:
        if (!GetLong(64, &raw)) return Fail("stream ends inside a timestamp");
        dod = static_cast<int64_t>(raw);
        break;
    }
    delta = delta_ + static_cast<uint64_t>(dod);
  }
  const auto t = static_cast<int64_t>(static_cast<uint64_t>(t_) + delta);
  if (t <= t_) return Fail(fmt::format("timestamp {} ms not after the previous {} ms", t, t_));
  t_ = t;
  delta_ = delta;
  if (!ReadValue()) return false;
  ++read_;
  return true;
}

bool ChunkIterator::Seek(int64_t t_ms) {
  if (done_) return false;
  if (read_ > 0 && t_ >= t_ms) return true;
  while (Next()) {
    if (t_ >= t_ms) return true;
  }
  return false;
}

core::Result<std::vector<core::Sample>> DecodeChunk(std::string_view bytes) {
  ChunkIterator it(bytes);
  std::vector<core::Sample> out;
  // Each sample after the first two takes at least 2 bits: don't trust a corrupt count.
  out.reserve(std::min<size_t>(static_cast<size_t>(it.num_samples()), bytes.size() * 4 + 2));
  while (it.Next()) out.push_back(core::Sample{it.t(), it.v()});
  if (!it.status().ok()) return it.status();
  return out;
}

}  // namespace nines::store

// Byte encodings shared by the store's on-disk formats (private to store/).
//
// Keys use big-endian fixed-width integers so RocksDB's bytewise order is numeric order;
// timestamps in keys have their sign bit flipped so negative times sort before positive ones.
// Values use little-endian fixed64 and LEB128 varints.
#ifndef NINES_STORE_ENCODING_H_
#define NINES_STORE_ENCODING_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace nines::store::enc {

inline void PutBE64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

inline uint64_t GetBE64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline uint64_t SortableTime(int64_t t) { return static_cast<uint64_t>(t) ^ (1ULL << 63); }
inline int64_t FromSortableTime(uint64_t v) { return static_cast<int64_t>(v ^ (1ULL << 63)); }

inline void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);  // little-endian hosts only; see the static_assert below
  out->append(buf, 8);
}
static_assert(std::endian::native == std::endian::little, "the store's value formats assume LE");

inline void PutDouble(std::string* out, double d) { PutFixed64(out, std::bit_cast<uint64_t>(d)); }

inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline void PutVarsint(std::string* out, int64_t v) { PutVarint(out, ZigZag(v)); }

// Reads from the front of a string_view, failing (false) instead of reading past its end.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63 && !data_.empty(); shift += 7) {
      auto byte = static_cast<unsigned char>(data_[0]);
      data_.remove_prefix(1);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Varsint(int64_t* v) {
    uint64_t u;
    if (!Varint(&u)) return false;
    *v = UnZigZag(u);
    return true;
  }
  bool Fixed64(uint64_t* v) {
    if (data_.size() < 8) return false;
    std::memcpy(v, data_.data(), 8);
    data_.remove_prefix(8);
    return true;
  }
  bool Double(double* d) {
    uint64_t u;
    if (!Fixed64(&u)) return false;
    *d = std::bit_cast<double>(u);
    return true;
  }
  bool Byte(uint8_t* b) {
    if (data_.empty()) return false;
    *b = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (data_.size() < n) return false;
    *out = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  bool LengthPrefixed(std::string_view* out) {
    uint64_t n;
    return Varint(&n) && Bytes(static_cast<size_t>(n), out);
  }
  bool empty() const { return data_.empty(); }
  std::string_view rest() const { return data_; }

 private:
  std::string_view data_;
};

}  // namespace nines::store::enc

#endif  // NINES_STORE_ENCODING_H_

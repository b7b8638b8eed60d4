#include "store/chunk.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace nines::store {
namespace {

using core::Sample;
using core::StatusCode;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kBase = 1'700'000'000'000;  // 2023-11-14T22:13:20Z in ms

double FromBits(uint64_t bits) { return std::bit_cast<double>(bits); }
uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// Encodes `samples`; a failed Append fails the test.
ChunkEncoder EncodeAll(const std::vector<Sample>& samples) {
  ChunkEncoder enc;
  for (const Sample& s : samples) {
    core::Status st = enc.Append(s.timestamp_ms, s.value);
    if (!st.ok()) {
      ADD_FAILURE() << "Append(" << s.timestamp_ms << ") failed: " << st.ToString();
      break;
    }
  }
  return enc;
}

// Equal timestamps and bit-identical values.
::testing::AssertionResult SameSamples(const std::vector<Sample>& want,
                                       const std::vector<Sample>& got) {
  if (want.size() != got.size()) {
    return ::testing::AssertionFailure()
           << "want " << want.size() << " samples, got " << got.size();
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].timestamp_ms != got[i].timestamp_ms || Bits(want[i].value) != Bits(got[i].value)) {
      return ::testing::AssertionFailure()
             << "sample " << i << ": want (" << want[i].timestamp_ms << ", 0x" << std::hex
             << Bits(want[i].value) << std::dec << "), got (" << got[i].timestamp_ms << ", 0x"
             << std::hex << Bits(got[i].value) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

// Encodes, then checks DecodeChunk, the iterator, the header and the encoder's accessors.
void ExpectRoundTrip(const std::vector<Sample>& samples) {
  ChunkEncoder enc = EncodeAll(samples);
  ASSERT_EQ(enc.num_samples(), static_cast<int>(samples.size()));
  if (!samples.empty()) {
    EXPECT_EQ(enc.min_time(), samples.front().timestamp_ms);
    EXPECT_EQ(enc.max_time(), samples.back().timestamp_ms);
  }
  std::string bytes(enc.bytes());
  ASSERT_GE(bytes.size(), 3u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), kChunkFormatVersion);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]) | (static_cast<uint8_t>(bytes[2]) << 8),
            static_cast<int>(samples.size()));

  core::Result<std::vector<Sample>> decoded = DecodeChunk(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameSamples(samples, *decoded));

  ChunkIterator it(bytes);
  EXPECT_EQ(it.num_samples(), static_cast<int>(samples.size()));
  std::vector<Sample> iterated;
  while (it.Next()) iterated.push_back(it.sample());
  EXPECT_TRUE(it.status().ok()) << it.status().ToString();
  EXPECT_FALSE(it.Next());  // stays at the end
  EXPECT_TRUE(SameSamples(samples, iterated));
}

struct Case {
  std::string name;
  std::vector<Sample> samples;
};

// Timestamps t0, t0 + d1, then each next delta = previous delta + the given delta-of-delta.
std::vector<Sample> WithDods(int64_t t0, int64_t d1, const std::vector<int64_t>& dods) {
  std::vector<Sample> s = {{t0, 1}, {t0 + d1, 1}};
  int64_t delta = d1;
  for (int64_t dod : dods) {
    delta += dod;
    s.push_back({s.back().timestamp_ms + delta, 1});
  }
  return s;
}

std::vector<double> SpecialDoubles() {
  using L = std::numeric_limits<double>;
  return {0.0,
          -0.0,
          1.0,
          -1.0,
          L::infinity(),
          -L::infinity(),
          L::quiet_NaN(),
          -L::quiet_NaN(),
          FromBits(0x7ff0000000000001),  // signalling NaN, smallest payload
          FromBits(0x7ff8deadbeef1234),  // quiet NaN with a payload
          FromBits(0xfff7ffffffffffff),  // negative signalling NaN, largest payload
          L::denorm_min(),
          -L::denorm_min(),
          FromBits(0x000fffffffffffff),  // largest denormal
          L::min(),
          L::max(),
          L::lowest(),
          L::epsilon(),
          1e-300,
          3.141592653589793};
}

TEST(ChunkTest, EdgeCasesRoundTrip) {
  std::vector<Case> cases = {
      {"empty", {}},
      {"single sample", {{kBase, 1}}},
      {"two samples", {{kBase, 1}, {kBase + 15'000, 0}}},
      {"zero timestamp", {{0, 0}, {1, 1}, {2, 2}}},
      {"negative timestamps", {{-1'000'000, 1}, {-985'000, 1}, {-5, 0}, {0, 0}, {7, 1}}},
      {"smallest timestamp alone", {{kMin, 1}}},
      {"largest timestamp alone", {{kMax, 1}}},
      {"full int64 range in one delta", {{kMin, 1}, {kMax, 2}}},
      {"adjacent at the extremes", {{kMin, 1}, {kMin + 1, 2}, {kMax - 1, 3}, {kMax, 4}}},
      {"delta-of-delta below int64", {{kMin, 1}, {kMax - 1, 2}, {kMax, 3}}},
      {"delta-of-delta above int64", {{kMin, 1}, {kMin + 1, 2}, {kMax, 3}}},
      {"huge gaps", {{-kBase, 1}, {0, 2}, {kBase * 1000, 3}, {kBase * 1000 + 1, 4}}},
      {"one-ms spacing", WithDods(kBase, 1, std::vector<int64_t>(50, 0))},
      {"every delta-of-delta bucket boundary",
       WithDods(kBase, 1'000'000,
                {0, 1, -1, 31, -32, 32, -33, 511, -512, 512, -513, 524287, -524288, 524288, -524289,
                 0, 0})},
      {"largest delta-of-delta", WithDods(kMin, 1, {kMax - 1})},
      {"probe interval with a missed probe", WithDods(kBase, 15'000, {3, -2, 15'000, -15'001})},
  };
  // Every special double after every other one, so each XOR case meets each window.
  std::vector<Sample> specials;
  std::vector<double> sd = SpecialDoubles();
  int64_t t = -50;
  for (double a : sd) {
    for (double b : sd) {
      specials.push_back({t++, a});
      specials.push_back({t++, b});
    }
  }
  cases.push_back({"special doubles in every order", specials});
  for (double d : sd) cases.push_back({"alone: " + std::to_string(Bits(d)), {{kBase, d}}});

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectRoundTrip(c.samples);
  }
}

// Pins the on-disk format: these bytes are persisted, so they must never change.
TEST(ChunkTest, GoldenBytesOfVersion1) {
  ChunkEncoder enc = EncodeAll({{1000, 1.0}, {16'000, 1.0}, {31'000, 0.0}, {46'001, 0.0}});
  const std::string want(
      "\x01\x04\x00"                      // version 1, count 4
      "\xD0\x0F"                          // zigzag(1000) = 2000 as a varint
      "\x3F\xF0\x00\x00\x00\x00\x00\x00"  // 1.0
      "\x98\x75"                          // delta 15000 as a varint
      // '0' (1.0 again); '0' (dod 0); '11' 00010 001001 1111111111 (0.0: new window L=2 M=10);
      // '10' 000001 (dod +1); '0' (0.0 again); 6 padding bits, all 1.
      "\x31\x13\xFF\xC0\xBF",
      20);
  EXPECT_EQ(enc.bytes(), want);
  core::Result<std::vector<Sample>> decoded = DecodeChunk(want);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameSamples({{1000, 1.0}, {16'000, 1.0}, {31'000, 0.0}, {46'001, 0.0}}, *decoded));
}

// Random chunk generators; each returns 1..max_n samples with strictly increasing timestamps.
using Generator = std::function<std::vector<Sample>(std::mt19937_64&, int)>;

std::vector<Sample> RandomWalk(std::mt19937_64& rng, int n) {
  const int64_t intervals[] = {1, 1000, 15'000, 60'000};
  const int64_t interval = intervals[rng() % 4];
  std::normal_distribution<double> step(0, 1);
  std::uniform_int_distribution<int64_t> jitter(-interval / 10, interval / 10);
  int64_t t = std::uniform_int_distribution<int64_t>(-kBase, 2 * kBase)(rng);
  double v = step(rng) * 100;
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({t, v});
    t += interval + jitter(rng);
    v += step(rng);
  }
  return out;
}

std::vector<Sample> ProbeLike(std::mt19937_64& rng, int n) {
  std::uniform_int_distribution<int64_t> jitter(0, 20);
  std::bernoulli_distribution flip(0.03), miss(0.01);
  int64_t tick = kBase + static_cast<int64_t>(rng() % 1'000'000);
  double v = 1;
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({tick + jitter(rng), v});
    tick += miss(rng) ? 30'000 : 15'000;
    if (flip(rng)) v = 1 - v;
  }
  return out;
}

std::vector<Sample> CounterWithResets(std::mt19937_64& rng, int n) {
  std::poisson_distribution<int> incr(30);
  std::bernoulli_distribution reset(0.01);
  std::uniform_int_distribution<int64_t> jitter(-100, 100);
  int64_t t = kBase;
  double v = static_cast<double>(rng() % 100'000);
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({t, v});
    t += 15'000 + jitter(rng);
    v = reset(rng) ? 0 : v + incr(rng);
  }
  return out;
}

std::vector<Sample> RandomBits(std::mt19937_64& rng, int n) {
  // Values are arbitrary 64-bit patterns (NaNs with any payload included); gaps mix tiny,
  // ordinary and enormous deltas, stopping before int64 overflows.
  int64_t t = static_cast<int64_t>(rng());
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({t, FromBits(rng())});
    uint64_t delta;
    switch (rng() % 4) {
      case 0:
        delta = 1 + rng() % 3;
        break;
      case 1:
        delta = 1 + rng() % 100'000;
        break;
      case 2:
        delta = 1 + (rng() >> (rng() % 64));
        break;
      default:
        delta = 15'000;
        break;
    }
    if (static_cast<uint64_t>(kMax) - static_cast<uint64_t>(t) < delta) break;
    t = static_cast<int64_t>(static_cast<uint64_t>(t) + delta);
  }
  return out;
}

std::vector<Sample> LatencyLike(std::mt19937_64& rng, int n) {
  std::lognormal_distribution<double> latency(-3, 0.5);  // ~50 ms, in seconds
  std::uniform_int_distribution<int64_t> jitter(0, 5);
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) out.push_back({kBase + 15'000 * i + jitter(rng), latency(rng)});
  return out;
}

std::vector<Sample> MixedSpecials(std::mt19937_64& rng, int n) {
  std::vector<double> sd = SpecialDoubles();
  std::vector<Sample> out = RandomWalk(rng, n);
  for (Sample& s : out) {
    if (rng() % 3 == 0) s.value = sd[rng() % sd.size()];
  }
  return out;
}

const std::vector<std::pair<std::string, Generator>>& Generators() {
  static const auto* g = new std::vector<std::pair<std::string, Generator>>{
      {"random walk", RandomWalk},
      {"probe-like", ProbeLike},
      {"counter with resets", CounterWithResets},
      {"random bits", RandomBits},
      {"latency-like", LatencyLike},
      {"mixed specials", MixedSpecials},
  };
  return *g;
}

TEST(ChunkTest, RandomChunksRoundTrip) {
  std::mt19937_64 rng(20240611);
  for (const auto& [name, gen] : Generators()) {
    SCOPED_TRACE(name);
    for (int i = 0; i < 150; ++i) {
      std::vector<Sample> samples = gen(rng, 1 + static_cast<int>(rng() % 1000));
      SCOPED_TRACE(i);
      ExpectRoundTrip(samples);
      if (::testing::Test::HasFailure()) return;  // one failing chunk is enough to read
    }
  }
}

TEST(ChunkTest, FromBytesThenAppendEqualsEncodingAllAtOnce) {
  std::mt19937_64 rng(7);
  for (const auto& [name, gen] : Generators()) {
    SCOPED_TRACE(name);
    for (int i = 0; i < 60; ++i) {
      std::vector<Sample> samples = gen(rng, 1 + static_cast<int>(rng() % 300));
      const size_t split = rng() % (samples.size() + 1);
      SCOPED_TRACE(split);
      ChunkEncoder whole = EncodeAll(samples);
      ChunkEncoder first = EncodeAll(std::vector<Sample>(samples.begin(), samples.begin() + split));
      core::Result<ChunkEncoder> reopened = ChunkEncoder::FromBytes(first.bytes());
      ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
      EXPECT_EQ(reopened->bytes(), first.bytes());
      EXPECT_EQ(reopened->num_samples(), static_cast<int>(split));
      for (size_t j = split; j < samples.size(); ++j) {
        ASSERT_TRUE(reopened->Append(samples[j].timestamp_ms, samples[j].value).ok());
      }
      EXPECT_EQ(reopened->bytes(), whole.bytes());
      EXPECT_EQ(reopened->num_samples(), whole.num_samples());
      EXPECT_EQ(reopened->min_time(), whole.min_time());
      EXPECT_EQ(reopened->max_time(), whole.max_time());
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(ChunkTest, FromBytesRejectsCorruptChunks) {
  ChunkEncoder enc = EncodeAll({{kBase, 1}, {kBase + 15'000, 0}, {kBase + 30'000, 1}});
  std::string bytes(enc.bytes());
  bytes.pop_back();
  core::Result<ChunkEncoder> r = ChunkEncoder::FromBytes(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST(ChunkTest, NonIncreasingTimestampsAreRejectedWithoutChangingTheChunk) {
  ChunkEncoder enc = EncodeAll({{kBase, 1}, {kBase + 15'000, 2}});
  const std::string before(enc.bytes());
  for (int64_t t : {kBase + 15'000, kBase + 14'999, kBase, kMin}) {
    SCOPED_TRACE(t);
    core::Status st = enc.Append(t, 3);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_EQ(enc.bytes(), before);
    EXPECT_EQ(enc.num_samples(), 2);
    EXPECT_EQ(enc.max_time(), kBase + 15'000);
  }
  // Still usable afterwards.
  ASSERT_TRUE(enc.Append(kBase + 30'000, 3).ok());
  core::Result<std::vector<Sample>> decoded = DecodeChunk(enc.bytes());
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(SameSamples({{kBase, 1}, {kBase + 15'000, 2}, {kBase + 30'000, 3}}, *decoded));
}

TEST(ChunkTest, FullChunkRejectsMoreSamples) {
  ChunkEncoder enc;
  for (int i = 0; i < kChunkMaxSamples; ++i) ASSERT_TRUE(enc.Append(i, i % 2).ok()) << i;
  core::Status st = enc.Append(kChunkMaxSamples, 0);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_EQ(static_cast<uint8_t>(enc.bytes()[1]), 0xff);
  EXPECT_EQ(static_cast<uint8_t>(enc.bytes()[2]), 0xff);
  core::Result<std::vector<Sample>> decoded = DecodeChunk(enc.bytes());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), static_cast<size_t>(kChunkMaxSamples));
  EXPECT_EQ(decoded->back().timestamp_ms, kChunkMaxSamples - 1);
  EXPECT_EQ(decoded->back().value, 0.0);
}

TEST(ChunkTest, SeekFindsTheFirstSampleAtOrAfterAndNeverGoesBack) {
  ChunkEncoder enc = EncodeAll({{10, 1}, {20, 2}, {30, 3}, {40, 4}});
  std::string bytes(enc.bytes());
  {
    ChunkIterator it(bytes);
    ASSERT_TRUE(it.Seek(-100));
    EXPECT_EQ(it.t(), 10);
    ASSERT_TRUE(it.Seek(20));
    EXPECT_EQ(it.t(), 20);
    EXPECT_EQ(it.v(), 2);
    ASSERT_TRUE(it.Seek(21));
    EXPECT_EQ(it.t(), 30);
    ASSERT_TRUE(it.Seek(5));  // backwards: stays
    EXPECT_EQ(it.t(), 30);
    ASSERT_TRUE(it.Next());
    EXPECT_EQ(it.t(), 40);
    EXPECT_FALSE(it.Seek(41));
    EXPECT_TRUE(it.status().ok()) << it.status().ToString();
  }
  {
    ChunkIterator it(bytes);
    ASSERT_TRUE(it.Seek(40));
    EXPECT_EQ(it.v(), 4);
    EXPECT_FALSE(it.Next());
  }
}

// Compression targets; a format or encoder change that loses them should be noticed.
TEST(ChunkTest, ProbeSuccessWithJitterTakesAboutOneBytePerSample) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int64_t> jitter(0, 7);
  std::vector<Sample> samples;
  for (int i = 0; i < 120; ++i) {
    samples.push_back({kBase + 15'000 * i + jitter(rng), (i == 50 || i == 51) ? 0.0 : 1.0});
  }
  ChunkEncoder enc = EncodeAll(samples);
  const double per_sample = static_cast<double>(enc.bytes().size()) / 120;
  EXPECT_LE(per_sample, 1.3) << enc.bytes().size() << " bytes";
  ExpectRoundTrip(samples);
}

TEST(ChunkTest, ExactTicksWithConstantValueTakeAboutTwoBitsPerSample) {
  std::vector<Sample> samples;
  for (int i = 0; i < 120; ++i) samples.push_back({kBase + 15'000 * i, 1.0});
  ChunkEncoder enc = EncodeAll(samples);
  // 3 header + 6 t0 + 8 v0 + 2 delta + 1 bit + 118 * 2 bits.
  EXPECT_LE(enc.bytes().size(), 50u);
}

TEST(ChunkTest, CorruptChunksReportDataLoss) {
  ChunkEncoder good_enc =
      EncodeAll({{kBase, 0.25}, {kBase + 15'000, 1e300}, {kBase + 30'000, -7.5}});
  const std::string good(good_enc.bytes());
  auto with = [&](size_t i, char c) {
    std::string s = good;
    s[i] = c;
    return s;
  };
  std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"two bytes", std::string("\x01\x00", 2)},
      {"version 0", with(0, 0)},
      {"version 2", with(0, 2)},
      {"count much larger than the data", with(2, '\x7f')},
      {"count smaller than the data", with(1, 2)},
      {"a byte after the padding", good + std::string(1, '\0')},
      {"count one larger", with(1, 4)},
      {"a padding bit that is 0",
       // GoldenBytesOfVersion1's chunk with its last padding bit cleared.
       std::string("\x01\x04\x00\xD0\x0F\x3F\xF0\x00\x00\x00\x00\x00\x00\x98\x75"
                   "\x31\x13\xFF\xC0\xBE",
                   20)},
      {"header only with a count", std::string("\x01\x01\x00", 3)},
      {"varint longer than 10 bytes", std::string("\x01\x01\x00", 3) + std::string(11, '\x80')},
      {"varint above 2^64", std::string("\x01\x01\x00", 3) + std::string(9, '\xff') +
                                std::string("\x02", 1) + std::string(8, '\0')},
      {"zero second delta",
       std::string("\x01\x02\x00\x02", 4) + std::string(8, '\0') + std::string("\x00\x00", 2)},
      {"second timestamp wraps past int64",
       // t0 = kMax (zigzag 2^64 - 2), delta 1.
       std::string("\x01\x02\x00", 3) +
           std::string("\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10) + std::string(8, '\0') +
           std::string("\x01\x00", 2)},
      {"XOR window wider than 64 bits",
       // t0 = 0, v0 = 0, delta 1, then '11' L=31 (11111) M=64 (111111), 64 bits, 3 bits of
       // padding: well-formed but for L + M = 95.
       std::string("\x01\x02\x00\x00", 4) + std::string(8, '\0') + std::string("\x01", 1) +
           std::string(10, '\xff')},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    core::Result<std::vector<Sample>> r = DecodeChunk(bytes);
    ASSERT_FALSE(r.ok()) << r->size() << " samples decoded";
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    EXPECT_NE(r.status().message().find("chunk"), std::string::npos) << r.status().ToString();

    ChunkIterator it(bytes);
    while (it.Next()) {
    }
    EXPECT_EQ(it.status().code(), StatusCode::kDataLoss);
    EXPECT_FALSE(it.Next());
  }
}

// Decodes `bytes` every way there is; each must agree, and a clean decode must be a valid chunk.
// Returns whether it decoded cleanly.
bool CheckDecodesSafely(const std::string& bytes) {
  core::Result<std::vector<Sample>> r = DecodeChunk(bytes);
  ChunkIterator it(bytes);
  size_t n = 0;
  while (it.Next()) ++n;
  core::Result<ChunkEncoder> reopened = ChunkEncoder::FromBytes(bytes);
  EXPECT_EQ(it.status().code(), r.status().code());
  EXPECT_EQ(reopened.ok(), r.ok());
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    return false;
  }
  EXPECT_EQ(n, r->size());
  EXPECT_EQ(static_cast<int>(r->size()), it.num_samples());
  for (size_t i = 1; i < r->size(); ++i) {
    EXPECT_LT((*r)[i - 1].timestamp_ms, (*r)[i].timestamp_ms) << i;
  }
  if (reopened.ok()) {
    EXPECT_EQ(reopened->bytes(), bytes);
  }
  return true;
}

TEST(ChunkTest, FuzzedBytesDecodeCleanlyOrReportDataLoss) {
  std::mt19937_64 rng(99);
  std::vector<std::string> seeds;
  for (const auto& [name, gen] : Generators()) {
    for (int i = 0; i < 3; ++i) {
      seeds.emplace_back(EncodeAll(gen(rng, 1 + static_cast<int>(rng() % 40))).bytes());
    }
  }

  int clean = 0, lost = 0;
  for (const std::string& seed : seeds) {
    // Every strict truncation loses data: the last byte always holds part of a sample.
    for (size_t len = 0; len < seed.size(); ++len) {
      SCOPED_TRACE(len);
      EXPECT_FALSE(CheckDecodesSafely(seed.substr(0, len)));
    }
    // Any wrong count: the padding (1 bits) can't pass for samples, nor samples for padding.
    const int count = static_cast<uint8_t>(seed[1]) | (static_cast<uint8_t>(seed[2]) << 8);
    for (int c = 0; c < count + 8; ++c) {
      if (c == count) continue;
      SCOPED_TRACE("count " + std::to_string(c));
      std::string s = seed;
      s[1] = static_cast<char>(c & 0xff);
      s[2] = static_cast<char>(c >> 8);
      EXPECT_FALSE(CheckDecodesSafely(s));
    }
    // Every single bit flip.
    for (size_t bit = 0; bit < seed.size() * 8; ++bit) {
      std::string s = seed;
      s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
      (CheckDecodesSafely(s) ? clean : lost)++;
      if (bit < 8) {
        EXPECT_FALSE(CheckDecodesSafely(s)) << "version bit " << bit;
      }
    }
    // Random multi-byte overwrites after the header.
    for (int i = 0; i < 100; ++i) {
      std::string s = seed;
      for (int k = 1 + static_cast<int>(rng() % 4); k > 0; --k) {
        s[rng() % s.size()] = static_cast<char>(rng());
      }
      s[0] = static_cast<char>(kChunkFormatVersion);
      (CheckDecodesSafely(s) ? clean : lost)++;
    }
  }
  // Random strings with a valid version byte and a random count.
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    if (!s.empty()) s[0] = static_cast<char>(kChunkFormatVersion);
    if (s.size() >= 3 && rng() % 2 == 0) {
      s[1] = static_cast<char>(rng() % 4);
      s[2] = 0;
    }
    (CheckDecodesSafely(s) ? clean : lost)++;
  }
  if (HasFailure()) return;
  // Both outcomes occur, so neither branch above is vacuous.
  EXPECT_GT(clean, 0);
  EXPECT_GT(lost, 0);
}

}  // namespace
}  // namespace nines::store

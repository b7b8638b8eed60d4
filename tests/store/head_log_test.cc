// The head_log record codec: what is encoded decodes to the same samples bit for bit, records
// of the older format (no value kinds) are still read, the current format is what it was on
// disk, and damaged records are DATA_LOSS.
#include "store/head_log.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/store/head_log_test_util.h"

namespace nines::store::internal {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr uint64_t kStale = 0x7ff0000000000002ULL;
constexpr double kInf = std::numeric_limits<double>::infinity();

double Bits(uint64_t b) { return std::bit_cast<double>(b); }

struct Case {
  const char* name;
  std::vector<HeadLogSample> samples;
};

// Batches that exercise every value kind and every edge of the time deltas and ids.
std::vector<Case> Cases() {
  std::vector<Case> cases = {
      {"empty", {}},
      {"zero", {{1, kT0, 0.0}}},
      {"one", {{1, kT0, 1.0}}},
      {"negative zero is raw, not zero", {{1, kT0, -0.0}}},
      {"small integers",
       {{1, kT0, 2}, {1, kT0 + 1000, 42}, {1, kT0 + 2000, -1}, {1, kT0 + 3000, 200}}},
      {"integers up to 2^53",
       {{7, kT0, 0x1p53}, {7, kT0 + 1, -0x1p53}, {7, kT0 + 2, 0x1p53 + 2},
        {7, kT0 + 3, 0x1p52 + 1}, {7, kT0 + 4, 1.75e9}, {7, kT0 + 5, -123456789}}},
      {"fractions and extremes",
       {{2, kT0, 0.25}, {2, kT0 + 1, 0.1}, {2, kT0 + 2, 1e300}, {2, kT0 + 3, -1e300},
        {2, kT0 + 4, 5e-324}, {2, kT0 + 5, kInf}, {2, kT0 + 6, -kInf}}},
      {"NaNs and stale markers",
       {{3, kT0, std::numeric_limits<double>::quiet_NaN()}, {3, kT0 + 1, Bits(kStale)},
        {3, kT0 + 2, Bits(0xfff8000000000001ULL)}, {3, kT0 + 3, Bits(0x7ff0000000000001ULL)}}},
      {"times going back and repeating",
       {{1, kT0, 1}, {1, kT0 - 7'200'000, 2}, {1, kT0 - 7'200'000, 3}, {1, kT0 + 600'000, 4}}},
      {"large deltas",
       {{1, 0, 1}, {1, std::numeric_limits<int64_t>::max(), 2},
        {1, std::numeric_limits<int64_t>::min(), 3}, {1, -1, 4}, {1, kT0, 5}}},
      {"new series interleaved in the batch",
       {{1, kT0, 1}, {1000, kT0, 0}, {2, kT0 + 15'000, 0.5}, {1000, kT0 + 15'000, 1},
        {(uint64_t{1} << 62) - 1, kT0 + 30'000, 3}, {1, kT0 + 30'000, 1}}},
  };
  std::vector<HeadLogSample> many;  // a batch of thousands, as remote write commits them
  for (uint64_t i = 0; i < 5000; ++i) {
    many.push_back({1 + i % 300, kT0 + static_cast<int64_t>(i / 300) * 15'000,
                    i % 3 == 0 ? 1.0 : static_cast<double>(i) / 7});
  }
  cases.push_back({"five thousand samples", many});
  return cases;
}

void ExpectSameSamples(const std::vector<HeadLogSample>& got,
                       const std::vector<HeadLogSample>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].series_id, want[i].series_id) << i;
    EXPECT_EQ(got[i].t, want[i].t) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(got[i].v), std::bit_cast<uint64_t>(want[i].v))
        << i << ": " << got[i].v << " vs " << want[i].v;
  }
}

TEST(HeadLogTest, EncodedBatchesDecodeBitForBit) {
  std::string record = "stale bytes a reused buffer held";
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    EncodeHeadLogRecord(c.samples, &record);
    ASSERT_FALSE(record.empty());
    EXPECT_EQ(record[0], 0);  // the current format's mark
    std::vector<HeadLogSample> got;
    ASSERT_TRUE(DecodeHeadLogRecord(record, &got).ok());
    ExpectSameSamples(got, c.samples);
  }
}

TEST(HeadLogTest, OlderFormatRecordsDecodeBitForBit) {
  for (const Case& c : Cases()) {
    if (c.samples.empty()) continue;  // older nines never wrote empty records
    SCOPED_TRACE(c.name);
    const std::string record = OldFormatHeadLogRecord(c.samples);
    std::vector<HeadLogSample> got;
    ASSERT_TRUE(DecodeHeadLogRecord(record, &got).ok());
    ExpectSameSamples(got, c.samples);
  }
}

TEST(HeadLogTest, DecodeAppendsToWhatTheVectorHolds) {
  std::vector<HeadLogSample> got = {{9, 1, 2}};
  std::string record;
  EncodeHeadLogRecord(std::vector<HeadLogSample>{{1, kT0, 3}}, &record);
  ASSERT_TRUE(DecodeHeadLogRecord(record, &got).ok());
  ExpectSameSamples(got, {{9, 1, 2}, {1, kT0, 3}});
}

// The on-disk format does not change: these bytes are what nines has written since value kinds
// came in, worked out by hand from the layout in head_log.h.
TEST(HeadLogTest, CurrentFormatBytesAreStable) {
  std::string record;
  EncodeHeadLogRecord(std::vector<HeadLogSample>{
                          {1, 1000, 0.0},  // kind zero: no value bytes
                          {2, 1500, 1.0},  // kind one: no value bytes
                          {1, 1000, 7.0},  // kind integer: zigzag varint 14
                          {3, 0, 0.5},     // kind raw: 8 bytes little-endian
                      },
                      &record);
  const std::string want(
      "\x00\x04"
      "\x05\xd0\x0f"
      "\x0a\xe8\x07"
      "\x07\xe7\x07\x0e"
      "\x0c\xcf\x0f\x00\x00\x00\x00\x00\x00\xe0\x3f",
      23);
  EXPECT_EQ(record, want);
}

// Small values take no value bytes, integers a varint: the point of the kinds.
TEST(HeadLogTest, ZeroOneAndSmallIntegersAreCompact) {
  std::string zeros, raws;
  std::vector<HeadLogSample> a, b;
  for (int i = 0; i < 100; ++i) {
    a.push_back({1, kT0 + i * 15'000, i % 2 == 0 ? 0.0 : 1.0});
    b.push_back({1, kT0 + i * 15'000, 0.5 + i});
  }
  EncodeHeadLogRecord(a, &zeros);
  EncodeHeadLogRecord(b, &raws);
  EXPECT_LE(zeros.size(), 2 + 10 + 99 * 4u);  // id, time delta (the first one long)
  EXPECT_GE(raws.size(), 100 * 12u);         // and 8 bytes of value each
}

TEST(HeadLogTest, TruncatedRecordsAreDataLoss) {
  std::vector<HeadLogSample> samples = {
      {1, kT0, 0}, {2, kT0 + 1, 1}, {3, kT0 + 2, 300}, {4, kT0 + 3, 0.25}};
  std::string current;
  EncodeHeadLogRecord(samples, &current);
  for (const std::string& record : {current, OldFormatHeadLogRecord(samples)}) {
    for (size_t n = 0; n < record.size(); ++n) {
      SCOPED_TRACE(n);
      std::vector<HeadLogSample> got;
      EXPECT_EQ(DecodeHeadLogRecord(record.substr(0, n), &got).code(),
                core::StatusCode::kDataLoss);
    }
  }
}

}  // namespace
}  // namespace nines::store::internal

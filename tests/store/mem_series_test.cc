// MemSeries' state codec (the head_state column family): what a checkpoint writes, recovery
// reads back exactly, head, open chunk, rollup accumulators and all.
#include "store/mem_series.h"

#include <gtest/gtest.h>

#include <bit>
#include <limits>

namespace nines::store::internal {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

MemSeries Settled(size_t head_samples) {
  MemSeries s;
  s.id = 42;
  s.has_settled = true;
  s.settled_max_t = kT0 - 1000;
  s.settled_pred = {true, 0.75};
  EXPECT_TRUE(s.chunk.Append(kT0 - 2000, 0.5).ok());
  EXPECT_TRUE(s.chunk.Append(kT0 - 1000, 0.75).ok());
  s.totals.count = 9;
  s.totals.sum.Add(4.5);
  s.totals.sum.Add(std::numeric_limits<double>::quiet_NaN());
  s.totals.increase.Add(std::numeric_limits<double>::infinity());
  s.hour.start = kT0 - 3'600'000;
  Pred p;
  s.hour.agg.Add(kT0 - 2000, 0.5, &p);
  s.hour.agg.Add(kT0 - 1000, 0.75, &p);
  s.hour.before.count = 7;
  for (size_t i = 0; i < head_samples; ++i) {
    s.HeadInsert(kT0 + static_cast<int64_t>(i) * 15'000, i % 5 == 0 ? 1.0 : 0.001 * i);
  }
  return s;
}

void ExpectSameState(const MemSeries& got, const MemSeries& want) {
  EXPECT_EQ(got.has_settled, want.has_settled);
  EXPECT_EQ(got.settled_max_t, want.settled_max_t);
  EXPECT_EQ(got.settled_pred.has, want.settled_pred.has);
  EXPECT_TRUE(SameBits(got.settled_pred.v, want.settled_pred.v));
  EXPECT_EQ(got.chunk.bytes(), want.chunk.bytes());
  EXPECT_EQ(got.totals.count, want.totals.count);
  EXPECT_TRUE(SameBits(got.totals.sum.finite, want.totals.sum.finite));
  EXPECT_EQ(got.totals.sum.nan, want.totals.sum.nan);
  EXPECT_EQ(got.totals.increase.pos_inf, want.totals.increase.pos_inf);
  EXPECT_EQ(got.hour.start, want.hour.start);
  EXPECT_EQ(got.hour.agg.w.count, want.hour.agg.w.count);
  EXPECT_TRUE(SameBits(got.hour.agg.w.sum, want.hour.agg.w.sum));
  EXPECT_EQ(got.hour.agg.w.last_timestamp_ms, want.hour.agg.w.last_timestamp_ms);
  EXPECT_EQ(got.hour.before.count, want.hour.before.count);
  ASSERT_EQ(got.head.size(), want.head.size());
  for (size_t i = 0; i < want.head.size(); ++i) {
    EXPECT_EQ(got.head[i].timestamp_ms, want.head[i].timestamp_ms) << i;
    EXPECT_TRUE(SameBits(got.head[i].value, want.head[i].value)) << i;
  }
  EXPECT_EQ(got.head_front_t, want.head_front_t);
}

TEST(MemSeriesTest, StateRoundTripsWithHeadsOfAnySize) {
  // Empty, one sample, and more than a chunk holds (the head is written as several chunks).
  for (size_t n : {size_t{0}, size_t{1}, size_t{kChunkMaxSamples} + 10}) {
    SCOPED_TRACE(n);
    const MemSeries want = Settled(n);
    MemSeries got;
    got.id = want.id;
    ASSERT_TRUE(got.DecodeState(want.EncodeState()).ok());
    ExpectSameState(got, want);
  }
}

TEST(MemSeriesTest, DamagedStateIsDataLossNamingTheSeries) {
  const std::string state = Settled(3).EncodeState();
  MemSeries got;
  got.id = 42;
  for (size_t n : {size_t{0}, size_t{1}, state.size() / 2, state.size() - 1}) {
    SCOPED_TRACE(n);
    core::Status s = got.DecodeState(state.substr(0, n));
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.ToString().find("42"), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(got.DecodeState("\x07").code(), core::StatusCode::kDataLoss);  // unknown format
}

}  // namespace
}  // namespace nines::store::internal

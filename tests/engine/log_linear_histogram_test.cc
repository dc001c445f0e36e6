// LogLinearHistogram: bucket geometry (every value lands in a bucket that contains it, buckets
// tile the range without gaps, relative width bounded), percentiles against an exact sort of the
// same samples, merging, saturation.
#include "engine/log_linear_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace sipring::engine {
namespace {

TEST(LogLinearHistogramTest, SmallValuesAreExact) {
  LogLinearHistogram h(1000, 4);
  for (uint64_t v = 0; v < 16; ++v) {
    const size_t i = h.IndexFor(v);
    EXPECT_EQ(h.BucketLow(i), v);
    EXPECT_EQ(h.BucketHigh(i), v);
  }
}

TEST(LogLinearHistogramTest, BucketsTileTheRangeWithBoundedWidth) {
  for (int bits : {1, 3, 7, 10}) {
    LogLinearHistogram h(10'000'000, bits);
    uint64_t expect_low = 0;
    for (size_t i = 0; i < h.bucket_count(); ++i) {
      ASSERT_EQ(h.BucketLow(i), expect_low) << "bits " << bits << " bucket " << i;
      const uint64_t high = h.BucketHigh(i);
      ASSERT_GE(high, h.BucketLow(i));
      // Width relative to the bucket's lowest value never exceeds 2^-bits.
      const uint64_t width = high - h.BucketLow(i) + 1;
      if (h.BucketLow(i) > 0) {
        EXPECT_LE(static_cast<double>(width - 1) / static_cast<double>(h.BucketLow(i)),
                  std::ldexp(1.0, -bits))
            << "bits " << bits << " bucket " << i;
      }
      expect_low = high + 1;
    }
    EXPECT_GE(h.BucketHigh(h.bucket_count() - 1), h.highest());
  }
}

TEST(LogLinearHistogramTest, EveryValueLandsInABucketThatHoldsIt) {
  LogLinearHistogram h(uint64_t{1} << 40, 7);
  std::mt19937_64 rng(7);
  for (int k = 0; k < 100000; ++k) {
    const uint64_t v = rng() >> (24 + rng() % 40);
    const size_t i = h.IndexFor(v);
    ASSERT_LT(i, h.bucket_count());
    ASSERT_LE(h.BucketLow(i), v);
    ASSERT_GE(h.BucketHigh(i), v);
  }
}

TEST(LogLinearHistogramTest, PercentilesMatchAnExactSortWithinPrecision) {
  LogLinearHistogram h(100'000'000, 7);
  std::mt19937_64 rng(42);
  // Long-tailed like latencies: mostly ~200 us, a tail out to ~50 ms.
  std::lognormal_distribution<double> dist(5.3, 1.2);
  std::vector<uint64_t> values;
  for (int k = 0; k < 200000; ++k) {
    const uint64_t v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size()));
    rank = std::clamp<size_t>(rank, 1, values.size());
    const uint64_t exact = values[rank - 1];
    const uint64_t got = h.ValueAtPercentile(p);
    EXPECT_GE(got, exact) << "p" << p;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1 + 1.0 / 128) + 1) << "p" << p;
  }
  EXPECT_EQ(h.ValueAtPercentile(100), values.back());
  EXPECT_EQ(h.ValueAtPercentile(0), values.front());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.count(), values.size());
}

TEST(LogLinearHistogramTest, AddEqualsRecordingEverythingInOne) {
  LogLinearHistogram a, b, all;
  for (uint64_t v = 1; v < 100000; v += 7) {
    (v % 3 ? a : b).Record(v * 13);
    all.Record(v * 13);
  }
  a.Add(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {10.0, 50.0, 99.0, 99.9}) EXPECT_EQ(a.ValueAtPercentile(p), all.ValueAtPercentile(p));
}

TEST(LogLinearHistogramTest, ValuesAboveHighestAreClampedAndCounted) {
  LogLinearHistogram h(1000, 5);
  h.Record(10);
  h.Record(5000, 3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.saturated(), 3u);
  EXPECT_EQ(h.max(), 1000u);
  EXPECT_EQ(h.ValueAtPercentile(99), 1000u);
  EXPECT_EQ(h.ValueAtPercentile(25), 10u);
}

TEST(LogLinearHistogramTest, EmptyAndCleared) {
  LogLinearHistogram h;
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  h.Record(77);
  EXPECT_EQ(h.ValueAtPercentile(50), 77u);
  h.Clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(99), 0u);
}

}  // namespace
}  // namespace sipring::engine

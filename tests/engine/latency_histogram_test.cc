#include "engine/latency_histogram.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sipring::engine {
namespace {

TEST(LatencyHistogramTest, BoundsAreInclusive) {
  EXPECT_EQ(LatencyHistogram::BucketFor(0), 0u);
  EXPECT_EQ(LatencyHistogram::BucketFor(50), 0u);
  EXPECT_EQ(LatencyHistogram::BucketFor(51), 1u);
  EXPECT_EQ(LatencyHistogram::BucketFor(1'000), 4u);
  EXPECT_EQ(LatencyHistogram::BucketFor(250'000), LatencyHistogram::kBuckets - 2);
  EXPECT_EQ(LatencyHistogram::BucketFor(250'001), LatencyHistogram::kBuckets - 1);
  EXPECT_EQ(LatencyHistogram::BucketFor(~0ull), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, RecordReadAndMerge) {
  LatencyHistogram a, b;
  a.Record(10);
  a.Record(75);
  a.Record(1'000'000);
  b.Record(75);
  b.Record(400);
  LatencyHistogram::Snapshot s = a.Read();
  EXPECT_EQ(s.count(), 3u);
  EXPECT_EQ(s.sum_micros, 1'000'085u);
  EXPECT_EQ(s.buckets[0], 1u);
  EXPECT_EQ(s.buckets[1], 1u);
  EXPECT_EQ(s.buckets[LatencyHistogram::kBuckets - 1], 1u);
  b.AddTo(&s);
  EXPECT_EQ(s.count(), 5u);
  EXPECT_EQ(s.buckets[1], 2u);
  EXPECT_EQ(s.buckets[3], 1u);
  EXPECT_EQ(s.sum_micros, 1'000'560u);
}

// One writer, one reader: every figure the reader sees only grows, and nothing is lost.
TEST(LatencyHistogramTest, ReaderSeesMonotonicFigures) {
  LatencyHistogram h;
  constexpr uint64_t kN = 2'000'000;
  std::atomic<bool> done{false};
  std::atomic<bool> read_once{false};
  std::thread writer([&] {
    while (!read_once.load()) std::this_thread::yield();  // overlap with the reader for sure
    for (uint64_t i = 0; i < kN; ++i) h.Record(i % 300'000);
    done.store(true);
  });
  LatencyHistogram::Snapshot prev;
  uint64_t reads = 0;
  while (!done.load()) {
    LatencyHistogram::Snapshot s = h.Read();
    for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) ASSERT_GE(s.buckets[i], prev.buckets[i]);
    ASSERT_GE(s.sum_micros, prev.sum_micros);
    prev = s;
    ++reads;
    read_once.store(true);
  }
  writer.join();
  EXPECT_EQ(h.Read().count(), kN);
  EXPECT_GT(reads, 0u);
}

}  // namespace
}  // namespace sipring::engine

// File: engine/log_linear_histogram.h
//
// LogLinearHistogram: an HDR-style histogram of non-negative integers (durations in ns or us,
// sizes) with a bounded relative error at every magnitude, for percentiles such as p99.9 that a
// fixed-bound histogram (latency_histogram.h, whose buckets are Prometheus' contract) cannot give.
//
// Layout: values below 2^S (S = sub_bucket_bits) each have a bucket of their own; above that,
// every power of two [2^k, 2^(k+1)) is cut into 2^S equal buckets. A bucket is therefore never
// wider than 2^-S of the values it holds (S = 7: 0.8%), and the bucket of a value is found with
// one bit scan and two shifts, so Record() costs a few instructions and never allocates: the
// counts array is sized once, from `highest`, in the constructor. Values above `highest` are
// clamped into the last bucket and counted as saturated (a report must say so, not hide it).
//
// Percentiles return the highest value the chosen bucket can hold (as HdrHistogram's
// "highest equivalent value"), clamped to the largest value recorded, so a reported p99 is never
// below the true p99 and never above the true maximum.
//
// Ownership and threads: a plain value owned by one thread (a shard's statistics); not atomic.
// Merge per-thread histograms with Add() after the threads are done (or under the owner's lock).
//
// Example:
//   LogLinearHistogram h(/*highest=*/60'000'000, /*sub_bucket_bits=*/7);   // us, up to 60 s
//   h.Record(latency_us);                                                   // hot path
//   total.Add(h);                                                           // at the end
//   uint64_t p999 = total.ValueAtPercentile(99.9);
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sipring::engine {

class LogLinearHistogram {
 public:
  // One hour in microseconds: every latency a bounded load run can see.
  static constexpr uint64_t kDefaultHighest = 3'600'000'000ull;
  static constexpr int kDefaultSubBucketBits = 7;

  // Tracks values in [0, highest] (highest >= 1) with buckets at most 2^-sub_bucket_bits wide
  // relative to their values; sub_bucket_bits in [1, 16] (checked: a bad shape is a bug).
  explicit LogLinearHistogram(uint64_t highest = kDefaultHighest,
                              int sub_bucket_bits = kDefaultSubBucketBits);

  // Counts `value` (`n` times). Values above highest() go to the last bucket and saturated().
  void Record(uint64_t value, uint64_t n = 1) {
    if (value > highest_) {
      saturated_ += n;
      value = highest_;
    }
    counts_[IndexFor(value)] += n;
    count_ += n;
    sum_ += value * n;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }

  // Adds `other`'s counts. Both must have the same shape (highest and sub_bucket_bits).
  void Add(const LogLinearHistogram& other);
  void Clear();

  // The smallest value v such that at least `percentile`% of the recorded values are <= v, up to
  // the bucket's precision (see the file comment); percentile in [0, 100]. 0 when empty.
  uint64_t ValueAtPercentile(double percentile) const;

  uint64_t count() const { return count_; }
  uint64_t saturated() const { return saturated_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  uint64_t highest() const { return highest_; }
  int sub_bucket_bits() const { return sub_bits_; }

  // Bucket geometry, for tests and for writing the distribution out.
  size_t bucket_count() const { return counts_.size(); }
  uint64_t BucketCount(size_t index) const { return counts_[index]; }
  size_t IndexFor(uint64_t value) const {
    const uint64_t sub = uint64_t{1} << sub_bits_;
    if (value < sub) return static_cast<size_t>(value);
    // value has bit_width(value) > sub_bits_: keep its top sub_bits_ + 1 bits.
    const int shift = 63 - __builtin_clzll(value) - sub_bits_;
    return static_cast<size_t>(sub + uint64_t(shift) * sub + ((value >> shift) - sub));
  }
  uint64_t BucketLow(size_t index) const;
  uint64_t BucketHigh(size_t index) const;

 private:
  uint64_t highest_;
  int sub_bits_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t saturated_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace sipring::engine

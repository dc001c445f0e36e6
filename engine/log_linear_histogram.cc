#include "engine/log_linear_histogram.h"

#include <algorithm>
#include <cmath>

#include "engine/status.h"

namespace sipring::engine {

LogLinearHistogram::LogLinearHistogram(uint64_t highest, int sub_bucket_bits)
    : highest_(highest), sub_bits_(sub_bucket_bits) {
  SIPRING_CHECK(highest >= 1 && sub_bucket_bits >= 1 && sub_bucket_bits <= 16);
  counts_.assign(IndexFor(highest) + 1, 0);
}

void LogLinearHistogram::Add(const LogLinearHistogram& other) {
  SIPRING_CHECK(other.highest_ == highest_ && other.sub_bits_ == sub_bits_);
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  saturated_ += other.saturated_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LogLinearHistogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = saturated_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t LogLinearHistogram::BucketLow(size_t index) const {
  const uint64_t sub = uint64_t{1} << sub_bits_;
  if (index < sub) return index;
  const uint64_t j = index - sub;
  return (sub + j % sub) << (j / sub);
}

uint64_t LogLinearHistogram::BucketHigh(size_t index) const {
  const uint64_t sub = uint64_t{1} << sub_bits_;
  if (index < sub) return index;
  const uint64_t j = index - sub;
  return ((sub + j % sub + 1) << (j / sub)) - 1;
}

uint64_t LogLinearHistogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // The rank of the value asked for, 1-based: p0 is the first value, p100 the last.
  uint64_t rank = static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketHigh(i), min(), max_);
  }
  return max_;
}

}  // namespace sipring::engine

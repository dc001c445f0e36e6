// File: engine/latency_histogram.h
//
// LatencyHistogram: a fixed-bucket histogram of durations in microseconds, recorded by one shard
// and read at scrape time by the admin thread, which merges every shard's histogram into one
// Snapshot and renders it (health/metrics.h, MetricsWriter::Histogram).
//
// The bounds are fixed at compile time (kBoundsMicros: 50 us .. 250 ms, then +Inf), so recording
// is a short scan and two relaxed stores, with no allocation and no configuration to agree on
// between shards: any two histograms merge by adding bucket counts.
//
// Why no separate count: the reader derives the count from the bucket counts, so a scrape always
// sees _count equal to the +Inf bucket even while the shard is recording. The sum is written after
// the bucket, so it may be one sample ahead or behind the buckets in a given read; each figure on
// its own only ever grows, which is what Prometheus' rate() needs.
//
// Ownership and threads: one instance per shard, embedded in the shard's state. Exactly one thread
// (the shard's) calls Record(); any thread may call Read()/AddTo() at any time.
//
// Example:
//   LatencyHistogram txn_latency;                      // member of a shard's counters
//   txn_latency.Record(now_us - started_us);           // shard thread
//
//   LatencyHistogram::Snapshot total;                  // admin thread, at scrape
//   for (const Shard* s : shards) s->txn_latency.AddTo(&total);
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sipring::engine {

class LatencyHistogram {
 public:
  // Inclusive upper bounds of the finite buckets, in microseconds (Prometheus "le"). A sample
  // above the last bound lands in the +Inf bucket.
  static constexpr std::array<uint64_t, 12> kBoundsMicros = {
      50, 100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000};
  // Finite buckets plus +Inf.
  static constexpr size_t kBuckets = kBoundsMicros.size() + 1;

  // A plain copy of one or more histograms, added together. Bucket counts are per bucket (not
  // cumulative); the renderer accumulates.
  struct Snapshot {
    std::array<uint64_t, kBuckets> buckets{};  // buckets[kBuckets - 1] is +Inf
    uint64_t sum_micros = 0;

    uint64_t count() const {
      uint64_t n = 0;
      for (uint64_t b : buckets) n += b;
      return n;
    }
    // Adds another snapshot (merging shards, or tests).
    void Add(const Snapshot& other) {
      for (size_t i = 0; i < kBuckets; ++i) buckets[i] += other.buckets[i];
      sum_micros += other.sum_micros;
    }
  };

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  // The bucket a sample falls in: the first bound >= micros, or kBuckets - 1 (+Inf).
  static constexpr size_t BucketFor(uint64_t micros) {
    size_t i = 0;
    while (i < kBoundsMicros.size() && micros > kBoundsMicros[i]) ++i;
    return i;
  }

  // Owner thread only. A relaxed load + store per field instead of fetch_add: with a single
  // writer nothing is lost, and it avoids a locked instruction on the data path (as Counter).
  void Record(uint64_t micros) {
    std::atomic<uint64_t>& b = buckets_[BucketFor(micros)];
    b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum_micros_.store(sum_micros_.load(std::memory_order_relaxed) + micros,
                      std::memory_order_relaxed);
  }

  // Any thread. Adds this histogram's current figures to `out`.
  void AddTo(Snapshot* out) const {
    for (size_t i = 0; i < kBuckets; ++i) {
      out->buckets[i] += buckets_[i].load(std::memory_order_relaxed);
    }
    out->sum_micros += sum_micros_.load(std::memory_order_relaxed);
  }

  // Any thread. This histogram alone.
  Snapshot Read() const {
    Snapshot s;
    AddTo(&s);
    return s;
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> sum_micros_{0};
};

}  // namespace sipring::engine

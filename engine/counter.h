// File: engine/counter.h
//
// Counter: a statistic written by one thread (its shard) and read by others (admin, watchdog).
// The writer does a relaxed load + store instead of an atomic read-modify-write: with a single
// writer nothing is lost, and on x86 it costs what a plain increment costs (no lock prefix).
// Readers see a value that is at most a moment old, which is all /metrics needs.
//
// Example:
//   Counter enobufs;
//   enobufs.Add();                 // shard thread only
//   uint64_t v = enobufs.Get();    // any thread
#pragma once

#include <atomic>
#include <cstdint>

namespace sipring::engine {

class Counter {
 public:
  void Add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void Set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

}  // namespace sipring::engine

// File: engine/spsc_queue.h
//
// SpscQueue<T>: a bounded single-producer / single-consumer ring for messages between threads
// (shard to shard, health to shard). Capacity is fixed at construction (rounded up to a power of
// two); TryPush on a full queue returns false at once: full is an answer the producer must act on
// (drop, count, reject), never a block or a growth.
//
// Each side caches the other side's index, so a push or pop touches the shared cache line only
// when its cached view says the queue looks full or empty.
//
// Threads: exactly one thread calls TryPush, exactly one (other) thread calls TryPop. Waking the
// consumer (eventfd or IORING_OP_MSG_RING) is the caller's business.
//
// Example:
//   SpscQueue<Msg> q(1024);
//   if (!q.TryPush(msg)) counters.queue_full.Add();   // producer thread
//   while (auto m = q.TryPop()) Handle(*m);            // consumer thread
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>

namespace sipring::engine {

template <typename T>
class SpscQueue {
  static_assert(std::is_nothrow_move_constructible_v<T>);

 public:
  explicit SpscQueue(size_t capacity) {
    size_t n = 2;
    while (n < capacity) n <<= 1;
    mask_ = n - 1;
    slots_ = std::make_unique<std::optional<T>[]>(n);
  }
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  // Producer only. False if full (nothing is moved from `v` then).
  [[nodiscard]] bool TryPush(T&& v) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_].emplace(std::move(v));
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }
  [[nodiscard]] bool TryPush(const T& v) {
    T copy(v);
    return TryPush(std::move(copy));
  }

  // Consumer only. nullopt if empty.
  std::optional<T> TryPop() {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return std::nullopt;
    }
    std::optional<T> out(std::move(*slots_[head & mask_]));
    slots_[head & mask_].reset();
    head_.store(head + 1, std::memory_order_release);
    return out;
  }

  size_t capacity() const { return mask_ + 1; }
  // Approximate from any thread; exact from either side when the other is idle.
  size_t SizeApprox() const {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

 private:
  // Producer and consumer indices on separate cache lines: no false sharing between the threads.
  alignas(64) std::atomic<uint64_t> tail_{0};
  uint64_t head_cache_ = 0;  // producer's view of head_
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t tail_cache_ = 0;  // consumer's view of tail_
  alignas(64) size_t mask_ = 0;
  std::unique_ptr<std::optional<T>[]> slots_;
};

}  // namespace sipring::engine

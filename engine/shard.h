// File: engine/shard.h
//
// Shard: one thread, one io_uring, one buffer pool, one timer wheel, and the application state
// that runs on them (ShardApp: the echo server in tests, the SIP proxy in the daemon). A message
// never leaves its shard on the data path; other threads reach a shard only through
// RequestDrain/RequestStop (atomics + an eventfd wake) or bounded queues the app owns.
//
// ShardGroup starts N shards (one per online core by default, optionally pinned), waits until
// every one has built its ring and pool and started its app (or reports the first failure), and
// then turns signals into orders: SIGTERM drains (apps stop taking new work and finish what they
// hold) within a deadline; SIGINT stops at once.
//
// Completions are dispatched by OpTag: the handler byte indexes a per-shard table of
// CompletionHandler pointers registered at start, so there is no allocation per operation.
//
// Ownership and threads: a Shard's ring, pool, timers and handlers belong to its thread; only
// RequestDrain, RequestStop, heartbeat() and index() may be called from elsewhere.
//
// Example:
//   ShardGroup group({.shards = 2}, [](int i) { return std::make_unique<EchoApp>(port); });
//   SIPRING_RETURN_IF_ERROR(group.Start());
//   group.Shutdown(group.WaitForSignal(), /*drain_ms=*/5000);
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "engine/buffer_pool.h"
#include "engine/op_tag.h"
#include "engine/ring.h"
#include "engine/timer_wheel.h"

namespace sipring::engine {

class Shard;

class CompletionHandler {
 public:
  virtual ~CompletionHandler() = default;
  // Called on the shard thread for each CQE whose OpTag names this handler.
  virtual void OnCompletion(OpTag tag, const io_uring_cqe& cqe) = 0;
};

// What runs on a shard. Every method is called on the shard thread.
class ShardApp {
 public:
  virtual ~ShardApp() = default;
  // After the ring, pool and timers exist. An error stops start-up of the whole group.
  virtual absl::Status Start(Shard& shard) = 0;
  // Once per loop turn, after completions were dispatched: flush batched work here.
  virtual void OnLoop(uint64_t /*now_ms*/) {}
  // How the loop sleeps next: at most `max_us` (-1: no bound of the app's own; the timer wheel
  // and the shard's heartbeat still bound it), until `min_completions` completions are ready.
  // The default wakes for every completion, as a server must. A load generator that works in
  // ticks asks for its next tick and many completions: the datagrams that arrive meanwhile are
  // handled in one turn instead of a wake-up each (on a VM a wake-up costs more than the
  // datagram).
  struct Wait {
    int64_t max_us = -1;
    unsigned min_completions = 1;
  };
  virtual Wait NextWait() { return {}; }
  // Drain ordered: stop taking new work, finish what is held.
  virtual void OnDrain() {}
  // True when nothing admitted is still in progress (drain can end early).
  virtual bool Idle() const { return true; }
  // Before the shard's ring goes away: cancel operations, then close sockets.
  virtual void Stop() {}
};

struct ShardOptions {
  RingOptions ring;
  BufferPoolOptions pool;
  int cpu = -1;  // pin to this CPU; -1 = no pinning
};

class Shard {
 public:
  Shard(int index, const ShardOptions& options, std::unique_ptr<ShardApp> app);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Runs the shard on the calling thread until stopped. `started` (may be null) is called once,
  // with the start-up status, when the ring, pool and app are ready or failed.
  absl::Status Run(const std::function<void(const absl::Status&)>& started = nullptr);

  // Any thread. Drain: the app stops taking new work; the loop ends when the app is idle or at
  // `deadline_ms` (monotonic). Stop: the loop ends at its next turn.
  void RequestDrain(uint64_t deadline_ms);
  void RequestStop();

  // Shard thread only.
  uint8_t RegisterHandler(CompletionHandler* handler);
  Ring& ring() { return *ring_; }
  BufferPool& pool() { return *pool_; }
  TimerWheel& timers() { return *timers_; }
  bool draining() const { return draining_; }
  bool IsCurrentThread() const { return std::this_thread::get_id() == thread_id_; }

  // Any thread.
  int index() const { return index_; }
  // Loop turns so far: the watchdog checks it keeps moving.
  uint64_t heartbeat() const { return heartbeat_.load(std::memory_order_relaxed); }

  static uint64_t NowMs();

 private:
  class Waker;
  void ArmWake();
  void Dispatch(const io_uring_cqe& cqe);

  const int index_;
  ShardOptions options_;
  std::unique_ptr<ShardApp> app_;
  std::unique_ptr<Ring> ring_;
  std::unique_ptr<BufferPool> pool_;
  std::unique_ptr<TimerWheel> timers_;
  std::unique_ptr<Waker> waker_;
  CompletionHandler* handlers_[kMaxHandlers] = {};
  int next_handler_ = kEngineHandler + 1;
  int event_fd_ = -1;
  std::thread::id thread_id_;
  bool draining_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> drain_deadline_{0};  // 0 = no drain ordered
  std::atomic<uint64_t> heartbeat_{0};
};

struct ShardGroupOptions {
  int shards = 0;  // 0 = one per online CPU
  bool pin_cpus = false;
  ShardOptions shard;
};

class ShardGroup {
 public:
  using AppFactory = std::function<std::unique_ptr<ShardApp>(int index)>;
  ShardGroup(const ShardGroupOptions& options, AppFactory factory);
  ~ShardGroup();  // stops and joins

  // Starts the threads and waits until every shard is up; on the first failure stops the others
  // and returns that shard's error.
  absl::Status Start();
  // Waits for SIGTERM or SIGINT (or for `stop_after_ms` >= 0 to pass, reported as SIGTERM) and
  // returns which. Threads started by Start() have the signals blocked, so only this thread takes
  // them. The shards keep running: the caller may stop its own readers first, then Shutdown().
  // With `tick`, calls it on this thread every `tick_ms` (> 0) while waiting: the daemon's
  // watchdog.
  int WaitForSignal(int64_t stop_after_ms = -1, int64_t tick_ms = -1,
                    const std::function<void()>& tick = {});
  // SIGTERM: drain within `drain_ms`; SIGINT: stop at once. Returns after all threads joined.
  void Shutdown(int signal, uint64_t drain_ms);
  void DrainAll(uint64_t drain_ms);
  void StopAll();
  void Join();

  int size() const { return static_cast<int>(shards_.size()); }
  Shard& shard(int i) { return *shards_[i]; }

  // Blocks SIGTERM and SIGINT in the calling thread (call in main before anything spawns threads).
  static void BlockStopSignals();

 private:
  ShardGroupOptions options_;
  AppFactory factory_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> threads_;
};

}  // namespace sipring::engine

// File: engine/buffer_pool.h
//
// BufferPool: the shard's one slab of fixed-size buffers, carved into four classes of slots
// (../shared/IOURING.md §9.3):
//
//   [ rx main | rx reserve | tx | tx reserve ]
//
//  - rx main: published to the kernel as provided-buffer ring `main_group`; multishot receives
//    land here.
//  - rx reserve: a small second ring (`reserve_group`) a receive is re-armed on only when main is
//    empty; what arrives there is answered with a fast 503 and recycled at once (§9.4).
//  - tx: slots the application takes for data it builds itself (TCP reassembly of a frame that
//    straddles reads, locally generated requests).
//  - tx reserve: only error replies (400/503...) may take these, so an exhausted pool can still
//    say "no" cleanly.
//
// The whole slab is optionally registered as ONE fixed buffer (buf_index 0) for SEND_ZC; the
// copying sends SIP uses do not need it (§2), so a registration refused for RLIMIT_MEMLOCK is an
// error that names the limit rather than a silent fallback.
//
// Every slot is in exactly one SlotState, and returns home (its ring or its free stack) on the
// last Unref: a receive hands the app a slot with one reference; each send in flight holds one
// more; the slot is recycled when the last of them lets go. Recycled ring slots are batched and
// published by Flush(), once per loop turn.
//
// Ownership and threads: owned by one shard; every call from that shard's thread only. Counters
// may be read from any thread.
//
// Example:
//   SIPRING_ASSIGN_OR_RETURN(auto pool, BufferPool::Create(ring, {.buffer_size = 2048}));
//   // on a recv CQE with IORING_CQE_F_BUFFER:
//   uint16_t bid = cqe.flags >> IORING_CQE_BUFFER_SHIFT;
//   char* data = pool->OnReceived(bid);
//   pool->BeginSend(bid);   // prep a sendmsg from `data`
//   pool->Unref(bid);       // the app is done; the send completion's EndSend recycles it
//   pool->Flush();
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/counter.h"
#include "engine/ring.h"

namespace sipring::engine {

struct BufferPoolOptions {
  uint32_t buffer_size = 2048;  // bytes per slot; multiple of 64
  uint32_t rx_main = 1024;      // slots in the main receive ring (power of two, <= 32768)
  uint32_t rx_reserve = 64;     // slots in the reject-only receive ring (power of two, or 0)
  uint32_t tx = 128;            // slots the app may Take()
  uint32_t tx_reserve = 16;     // slots only TakeReply() may take
  bool register_fixed = false;  // register the slab as one fixed buffer (for SEND_ZC)
  uint16_t main_group = 0;      // buffer group id of the main ring
  uint16_t reserve_group = 1;   // buffer group id of the reserve ring
  // Overload hysteresis on free main slots, as fractions of rx_main: below low -> overloaded
  // (new work gets 503), above high -> normal again. Two marks, so the state does not flap.
  double low_watermark = 0.125;
  double high_watermark = 0.5;
  // Re-arm a receive on main only when at least this many main slots are free, so an almost
  // empty ring does not cause an ENOBUFS/re-arm cycle per datagram (§9.4).
  uint32_t min_rearm = 8;
};

// Which part of the slab a slot belongs to.
enum class SlotClass : uint8_t {
  kRxMain,     // home is the main provided-buffer ring
  kRxReserve,  // home is the reserve (reject-only) ring
  kTx,         // home is the tx free stack
  kTxReserve,  // home is the tx-reserve free stack (error replies only)
};

// Where a slot is right now. Exactly one at a time.
enum class SlotState : uint8_t {
  kInRing,      // published to the kernel (or queued for the next Flush)
  kFree,        // on a tx / tx-reserve free stack
  kApp,         // held by the application (parsing, queued, partial frame)
  kTxInFlight,  // at least one send using it has not completed yet
};

struct BufferPoolCounters {
  Counter free_main;         // main-ring slots the kernel can fill now
  Counter lowest_free_main;  // low-water mark of free_main since start
  Counter enobufs;           // receives that ended with -ENOBUFS (ring ran dry)
  Counter rearms;            // multishot receives re-armed
  Counter reserve_receives;  // datagrams that landed in the reserve ring
  Counter truncated;         // datagrams larger than a slot (MSG_TRUNC)
  Counter take_failures;     // Take()/TakeReply() found nothing
  Counter overload_entries;  // times the low watermark was crossed downwards
};

class BufferPool {
 public:
  // Fails if the counts are impossible, mmap fails, the kernel refuses the buffer rings, or (with
  // register_fixed) RLIMIT_MEMLOCK is too low; the message names the limit and how to raise it.
  static absl::StatusOr<std::unique_ptr<BufferPool>> Create(Ring& ring,
                                                            const BufferPoolOptions& options);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // The kernel filled slot `bid` (from a CQE with IORING_CQE_F_BUFFER). The app now holds one
  // reference. Returns the slot's memory.
  char* OnReceived(uint16_t bid);

  // A tx slot for the app (one reference), or nullopt when none is free (the caller decides:
  // stop reading, or reject). TakeReply also dips into the tx reserve: error replies only.
  std::optional<uint16_t> Take();
  std::optional<uint16_t> TakeReply();

  void Ref(uint16_t bid);
  // Drops one reference; on the last the slot goes home (ring slots at the next Flush()).
  void Unref(uint16_t bid);
  // A send using the slot was submitted / completed. Holds a reference while in flight.
  void BeginSend(uint16_t bid);
  void EndSend(uint16_t bid);

  // Publishes slots recycled since the last call to the kernel rings: one advance per ring.
  void Flush();

  char* Data(uint16_t bid) { return slab_ + size_t{bid} * options_.buffer_size; }
  uint32_t buffer_size() const { return options_.buffer_size; }
  uint16_t main_group() const { return options_.main_group; }
  uint16_t reserve_group() const { return options_.reserve_group; }
  SlotClass ClassOf(uint16_t bid) const;
  SlotState StateOf(uint16_t bid) const { return slots_[bid].state; }
  uint32_t total_slots() const { return total_; }

  // Free main slots as the kernel sees them (this replaces io_uring_buf_ring_available, absent
  // from liburing 2.3).
  uint32_t free_main() const { return free_main_; }
  uint32_t free_reserve() const { return free_reserve_; }
  uint32_t free_tx() const { return static_cast<uint32_t>(tx_free_.size()); }
  uint32_t free_tx_reserve() const { return static_cast<uint32_t>(tx_reserve_free_.size()); }
  // True between crossing the low watermark downwards and the high one upwards. O(1).
  bool Overloaded() const { return overloaded_; }
  // Whether a receive may be armed on a group now: never arm on an empty ring (§4 rule b).
  bool MainArmable() const { return free_main_ >= std::min(options_.min_rearm, options_.rx_main); }
  bool ReserveArmable() const { return free_reserve_ > 0; }

  // A receive CQE with -ENOBUFS / a re-arm: counted here so every receiver reports the same way.
  void NoteEnobufs() { counters_.enobufs.Add(); }
  void NoteRearm() { counters_.rearms.Add(); }
  void NoteTruncated() { counters_.truncated.Add(); }

  const BufferPoolCounters& counters() const { return counters_; }
  // The registered fixed-buffer index of the slab, or -1 when not registered.
  int fixed_index() const { return fixed_registered_ ? 0 : -1; }

 private:
  struct Slot {
    SlotState state = SlotState::kInRing;
    uint16_t refs = 0;
    uint16_t sends = 0;
  };
  BufferPool(Ring& ring, const BufferPoolOptions& options);
  void Recycle(uint16_t bid);
  void UpdateOverload();

  Ring& ring_;
  BufferPoolOptions options_;
  uint32_t total_ = 0;
  size_t slab_bytes_ = 0;
  char* slab_ = nullptr;
  io_uring_buf_ring* main_br_ = nullptr;
  io_uring_buf_ring* reserve_br_ = nullptr;
  size_t main_br_bytes_ = 0;
  size_t reserve_br_bytes_ = 0;
  bool main_registered_ = false;
  bool reserve_registered_ = false;
  bool fixed_registered_ = false;
  std::vector<Slot> slots_;
  std::vector<uint16_t> tx_free_;          // LIFO: hot slots stay in cache
  std::vector<uint16_t> tx_reserve_free_;
  uint32_t free_main_ = 0;
  uint32_t free_reserve_ = 0;
  int pending_main_ = 0;     // added to the main ring since the last Flush
  int pending_reserve_ = 0;
  uint32_t low_mark_ = 0;
  uint32_t high_mark_ = 0;
  bool overloaded_ = false;
  BufferPoolCounters counters_;
};

}  // namespace sipring::engine

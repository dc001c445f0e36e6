// File: sip/backend_state.h
//
// What the balancer needs to know about each backend's health, and how it travels between
// threads without a lock on the data path.
//
//  - BackendState: probing (not judged yet: chosen, optimistically, so a restarted sipring serves
//    at once), up, down (never chosen), draining (set by an operator: no new dialogs, but requests
//    inside existing dialogs still reach it).
//  - BackendStates: the snapshot. The health thread is its only writer; it stores each changed
//    state and then bumps a generation with release order. A shard loads the generation once per
//    loop turn (acquire) and copies the states into its own eligibility arrays only when it moved,
//    so a datagram never touches a shared cache line. Entries are independent bytes: a shard that
//    copies during a change sees each backend either before or after it, both valid, and the
//    next turn sees the rest.
//  - PassiveSignal: what a shard saw of a backend (a 503; later a transaction timeout), sent to
//    the health thread over that shard's bounded SpscQueue so it can probe the backend at once.
//
// Threads: BackendStates::Publish on the health thread only; everything else on any thread.
//
// Example:
//   sip::BackendStates states(backends.size());           // all kProbing
//   states.Publish(2, sip::BackendState::kDown);          // health thread
//   if (states.generation() != seen) { seen = ...; states.CopyEligible(&new_work, &dialogs); }
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/spsc_queue.h"

namespace sipring::sip {

enum class BackendState : uint8_t { kProbing, kUp, kDown, kDraining };
inline constexpr size_t kBackendStateCount = 4;
std::string_view BackendStateName(BackendState s);  // "probing", "up", "down", "draining"

// New dialogs and out-of-dialog requests.
constexpr bool TakesNewWork(BackendState s) {
  return s == BackendState::kProbing || s == BackendState::kUp;
}
// Requests inside a dialog the backend already holds (Record-Route names it).
constexpr bool TakesDialogs(BackendState s) { return s != BackendState::kDown; }

class BackendStates {
 public:
  explicit BackendStates(size_t backends);
  BackendStates(const BackendStates&) = delete;
  BackendStates& operator=(const BackendStates&) = delete;

  size_t size() const { return size_; }
  BackendState Get(size_t i) const {
    return static_cast<BackendState>(states_[i].load(std::memory_order_relaxed));
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Health thread only.
  void Publish(size_t i, BackendState s);

  // Fills one byte per backend: 1 where it may take new work / dialog requests. Sized by the
  // caller at start (no allocation here).
  void CopyEligible(std::vector<uint8_t>* new_work, std::vector<uint8_t>* dialogs) const;

 private:
  size_t size_;
  std::unique_ptr<std::atomic<uint8_t>[]> states_;
  std::atomic<uint64_t> generation_{1};
};

struct PassiveSignal {
  enum class Kind : uint8_t {
    k503,      // the backend answered 503 Service Unavailable
    kTimeout,  // a transaction to it timed out (stateful mode)
  };
  uint16_t backend = 0;
  Kind kind = Kind::k503;
};
using PassiveSignalQueue = engine::SpscQueue<PassiveSignal>;

}  // namespace sipring::sip

// File: engine/timer_wheel.h
//
// TimerWheel: a hierarchical timing wheel at millisecond resolution for the shard's timers (SIP
// transaction timers A..K, probe timeouts, drain deadlines). Most SIP timers are cancelled before
// they fire, so insert and cancel are O(1) list operations on intrusive nodes and nothing is
// allocated: the Timer lives inside its owner (a transaction, a connection).
//
// Six levels of 64 buckets: level L holds timers whose deadline first differs from "now" in bits
// [6L, 6L+6). When "now" enters a new level-L period, that level's bucket is cascaded into the
// levels below. This is exact (a timer never fires early, and at most at the next tick after its
// deadline) and spans 2^36 ms.
//
// The wheel has no clock of its own: the shard calls Advance(now) after each ring wait, and sets
// the wait timeout from MsUntilNext(), so timers cost neither SQEs nor CQEs (IOURING.md §9.7).
// Tests drive it with a clock they advance.
//
// Ownership and threads: owned by one shard; all calls on its thread. A Timer must be cancelled
// (or have fired) before its memory goes away.
//
// Example:
//   struct Txn { Timer timer_b; ... };
//   txn->timer_b.on_expire = [](Timer* t) { OnTimerB(ContainerOf(t)); };
//   wheel.Schedule(&txn->timer_b, now + 32000);
//   wheel.Cancel(&txn->timer_b);        // final response arrived
//   wheel.Advance(NowMs());             // in the loop
#pragma once

#include <cstddef>
#include <cstdint>

namespace sipring::engine {

struct Timer {
  using Callback = void (*)(Timer*);
  Callback on_expire = nullptr;
  // Free for the owner (e.g. an index), so a callback can find its context without pointer games.
  uint64_t context = 0;
  uint64_t deadline = 0;
  Timer* prev = nullptr;
  Timer* next = nullptr;

  bool armed() const { return next != nullptr; }
};

class TimerWheel {
 public:
  static constexpr int kLevels = 6;
  static constexpr int kBits = 6;
  static constexpr int kSlots = 1 << kBits;

  explicit TimerWheel(uint64_t now_ms);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms `t` to fire at `deadline_ms` (a deadline not after now fires at the next tick).
  // Re-arms if already armed. O(1).
  void Schedule(Timer* t, uint64_t deadline_ms);
  // Disarms `t` if armed. O(1). Safe to call from inside any timer callback.
  void Cancel(Timer* t);
  // Moves time to `now_ms`, firing every timer whose deadline has passed, in deadline order
  // tick by tick. Returns how many fired.
  size_t Advance(uint64_t now_ms);
  // Milliseconds until the wheel next needs Advance (at most `cap`, 0 if already due). May be
  // earlier than the next deadline when a higher level must cascade; never later.
  int64_t MsUntilNext(int64_t cap) const;

  uint64_t now() const { return now_; }
  size_t size() const { return size_; }

 private:
  void Insert(Timer* t);
  void Cascade(int level);
  static void Link(Timer* head, Timer* t);
  static void Unlink(Timer* t);

  uint64_t now_;
  size_t size_ = 0;
  Timer buckets_[kLevels][kSlots];  // sentinels of circular lists
};

}  // namespace sipring::engine

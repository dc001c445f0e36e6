#include "engine/timer_wheel.h"

#include "engine/status.h"

namespace sipring::engine {

TimerWheel::TimerWheel(uint64_t now_ms) : now_(now_ms) {
  for (auto& level : buckets_) {
    for (Timer& head : level) head.prev = head.next = &head;
  }
}

void TimerWheel::Link(Timer* head, Timer* t) {
  t->prev = head->prev;
  t->next = head;
  head->prev->next = t;
  head->prev = t;
}

void TimerWheel::Unlink(Timer* t) {
  t->prev->next = t->next;
  t->next->prev = t->prev;
  t->prev = t->next = nullptr;
}

void TimerWheel::Insert(Timer* t) {
  int level = 0;
  while (level < kLevels - 1 && (t->deadline >> (kBits * (level + 1))) !=
                                    (now_ >> (kBits * (level + 1)))) {
    ++level;
  }
  const unsigned slot = (t->deadline >> (kBits * level)) & (kSlots - 1);
  Link(&buckets_[level][slot], t);
}

void TimerWheel::Schedule(Timer* t, uint64_t deadline_ms) {
  if (t->armed()) {
    Unlink(t);
    --size_;
  }
  t->deadline = deadline_ms > now_ ? deadline_ms : now_ + 1;
  Insert(t);
  ++size_;
}

void TimerWheel::Cancel(Timer* t) {
  if (!t->armed()) return;
  Unlink(t);
  --size_;
}

void TimerWheel::Cascade(int level) {
  Timer& head = buckets_[level][(now_ >> (kBits * level)) & (kSlots - 1)];
  while (head.next != &head) {
    Timer* t = head.next;
    Unlink(t);
    Insert(t);
  }
}

size_t TimerWheel::Advance(uint64_t now_ms) {
  size_t fired = 0;
  if (size_ == 0) {
    if (now_ms > now_) now_ = now_ms;
    return 0;
  }
  while (now_ < now_ms) {
    ++now_;
    // Entering a new period of a level: bring its bucket down, highest level first so timers
    // can fall through several levels in one tick.
    for (int level = kLevels - 1; level >= 1; --level) {
      if ((now_ & ((uint64_t{1} << (kBits * level)) - 1)) == 0) Cascade(level);
    }
    Timer& head = buckets_[0][now_ & (kSlots - 1)];
    // Detach the due list first: callbacks may schedule into this bucket or cancel siblings.
    Timer due;
    due.prev = due.next = &due;
    if (head.next != &head) {
      due.next = head.next;
      due.prev = head.prev;
      due.next->prev = &due;
      due.prev->next = &due;
      head.prev = head.next = &head;
    }
    while (due.next != &due) {
      Timer* t = due.next;
      Unlink(t);
      --size_;
      ++fired;
      SIPRING_DCHECK(t->deadline <= now_);
      if (t->on_expire) t->on_expire(t);
    }
    if (size_ == 0) {
      now_ = now_ms;
      break;
    }
  }
  return fired;
}

int64_t TimerWheel::MsUntilNext(int64_t cap) const {
  if (size_ == 0) return cap;
  const uint64_t base = now_ & ~uint64_t{kSlots - 1};
  for (uint64_t tick = now_ + 1; tick < base + kSlots; ++tick) {
    const Timer& head = buckets_[0][tick & (kSlots - 1)];
    if (head.next != &head) {
      const int64_t d = static_cast<int64_t>(tick - now_);
      return d < cap ? d : cap;
    }
  }
  // Nothing more in this level-0 round: wake when the next round begins (a cascade may bring
  // timers down then).
  const int64_t d = static_cast<int64_t>(base + kSlots - now_);
  return d < cap ? d : cap;
}

}  // namespace sipring::engine

// File: engine/clock.h
//
// The clocks sipring reads, in one place: CLOCK_MONOTONIC for every deadline, timeout and round
// trip (it never jumps when NTP steps the wall clock), CLOCK_REALTIME only where a time is compared
// with the kernel's receive timestamps or written into a log line. vDSO calls: no syscall, no
// allocation, any thread.
//
// Example:
//   const uint64_t deadline_ms = engine::MonotonicMs() + 500;
//   const uint64_t t0 = engine::MonotonicUs();  ...  rtt_us = engine::MonotonicUs() - t0;
#pragma once

#include <time.h>

#include <cstdint>

namespace sipring::engine {

inline uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}
inline uint64_t MonotonicUs() { return MonotonicNs() / 1000; }
inline uint64_t MonotonicMs() { return MonotonicNs() / 1'000'000; }

// Wall clock, nanoseconds since the Unix epoch (SO_TIMESTAMPNS is on this clock).
inline uint64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace sipring::engine

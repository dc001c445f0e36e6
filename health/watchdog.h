// File: health/watchdog.h
//
// Watchdog: tells whether every thread that matters is still turning, from their heartbeat
// counters (each shard's loop turns, the health thread's). A thread stuck in a syscall, a livelock
// or an endless loop stops its counter; Check() then names it and the daemon withholds
// WATCHDOG=1, so systemd kills and restarts the process (WatchdogSec) instead of leaving a
// half-dead proxy in service.
//
// Shard loops wake at least every 100 ms even when idle (engine/shard.cc), so a check period of
// half a second or more never mistakes an idle shard for a stuck one.
//
// Threads: Check() on one thread (the daemon's main thread); the heartbeat functions must be safe
// to call from it (they read relaxed atomics).
//
// Example:
//   health::Watchdog dog({{"shard0", [&] { return group.shard(0).heartbeat(); }}});
//   std::vector<std::string> stalled;
//   if (dog.Check(&stalled)) notifier.Notify("WATCHDOG=1");
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sipring::health {

class Watchdog {
 public:
  struct Source {
    std::string name;
    std::function<uint64_t()> heartbeat;
  };
  explicit Watchdog(std::vector<Source> sources);

  // True when every source's heartbeat moved since the previous Check (the first Check only
  // records them and returns true). Otherwise false, with the names of the ones that did not
  // move in `stalled` (may be null).
  bool Check(std::vector<std::string>* stalled);

 private:
  std::vector<Source> sources_;
  std::vector<uint64_t> last_;
  bool first_ = true;
};

}  // namespace sipring::health

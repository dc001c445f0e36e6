// File: engine/ring.h
//
// Ring: one io_uring owned by one thread (the shard's), set up the way ../shared/IOURING.md §9.2
// recommends: SINGLE_ISSUER | DEFER_TASKRUN | SUBMIT_ALL with a CQ sized so it cannot overflow,
// falling back to COOP_TASKRUN | TASKRUN_FLAG where the kernel lacks DEFER_TASKRUN.
//
// Creation probes every opcode and feature the engine uses (ProbeRing) and refuses to start with
// a message naming what is missing and the kernel version that brought it. With SINGLE_ISSUER the
// ring belongs to the thread that created it: create it on the shard thread (Shard does).
//
// Ownership and threads: the creating thread owns the Ring and is the only one that may call it.
//
// Example:
//   SIPRING_ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Create({.sq_entries = 1024}));
//   io_uring_sqe* sqe = ring->GetSqe();      // never null: submits to make room when full
//   io_uring_prep_nop(sqe);
//   ring->SubmitAndWait(/*timeout_ms=*/10);
//   ring->ForEachCompletion([](const io_uring_cqe& cqe) { ... });
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sipring::engine {

struct RingOptions {
  // Submission queue entries (power of two).
  uint32_t sq_entries = 1024;
  // Completion queue entries; 0 = 4 x sq_entries. Size it to at least every buffer-ring slot plus
  // SQEs in flight, so CQ overflow (which silently ends multishot receives) cannot happen.
  uint32_t cq_entries = 0;
  // Try DEFER_TASKRUN (6.1). Off only for tests that compare modes.
  bool defer_taskrun = true;
};

// One opcode or setup feature the engine relies on, with the first kernel that has it.
struct RingRequirement {
  int opcode;             // IORING_OP_*
  const char* name;       // for messages
  const char* since;      // kernel version that introduced it
};

// What the probe found; filled by ProbeRing, kept for /metrics and `sipring doctor`.
struct RingFeatures {
  bool single_issuer = false;
  bool defer_taskrun = false;
  bool coop_taskrun = false;
  bool send_zc = false;  // optional: used only for large TCP writes
  uint32_t features = 0;  // io_uring_params.features
};

// Opcodes the engine cannot run without.
const std::vector<RingRequirement>& RequiredOpcodes();

// Checks `probe` against the required opcodes. Separate from Create so the missing-feature path
// is testable with a probe that lacks an opcode. Returns FailedPrecondition naming the opcode and
// the kernel that has it.
absl::Status CheckProbe(const io_uring_probe* probe, const std::vector<RingRequirement>& required);

class Ring {
 public:
  // Fails with a clear status: EPERM (seccomp or kernel.io_uring_disabled), ENOSYS, an old kernel
  // (EINVAL on the flags), a missing opcode or feature.
  static absl::StatusOr<std::unique_ptr<Ring>> Create(const RingOptions& options);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // A free SQE. When the SQ is full it submits what is queued and retries, so it never returns
  // null unless the kernel refuses to take SQEs at all (then it crashes: cannot happen after init).
  io_uring_sqe* GetSqe();

  // Submits queued SQEs and waits for at least one completion or `timeout_ms` (negative: do not
  // wait). Under DEFER_TASKRUN completions are only processed inside this call, so the loop must
  // come back here promptly. Returns the number submitted or a negative errno (-ETIME is normal).
  int SubmitAndWait(int64_t timeout_ms);
  // The same with a microsecond timeout and a number of completions that ends the wait early
  // (the CQ size at most): an app that works in ticks sleeps through single completions.
  int SubmitAndWaitUs(int64_t timeout_us, unsigned min_completions);
  int Submit();

  // Calls fn(const io_uring_cqe&) for each ready completion, then advances the CQ once.
  template <typename Fn>
  unsigned ForEachCompletion(Fn&& fn) {
    unsigned head;
    unsigned n = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      fn(*cqe);
      ++n;
    }
    if (n) io_uring_cq_advance(&ring_, n);
    return n;
  }

  // True if the kernel ever had to park CQEs on its overflow list (sizing bug: see RingOptions).
  bool CqOverflowed() const;

  io_uring* raw() { return &ring_; }
  const RingFeatures& features() const { return features_; }
  int fd() const { return ring_.ring_fd; }

 private:
  Ring() = default;
  io_uring ring_{};
  bool initialized_ = false;
  RingFeatures features_;
};

}  // namespace sipring::engine

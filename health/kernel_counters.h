// File: health/kernel_counters.h
//
// KernelCounters: the kernel's own drop counters, which bite silently when limits are too low:
// TcpExt (ListenOverflows, ListenDrops, SyncookiesSent/Recv/Failed, TCPTimeWaitOverflow) from
// /proc/net/netstat and Udp (RcvbufErrors, SndbufErrors, InErrors) from /proc/net/snmp. Both files
// hold pairs of lines, a header of names and a line of values, per protocol; we read them by name
// so a kernel that adds or reorders columns does not shift our figures.
//
// The proc root is a parameter so tests can point it at a fake tree.
//
// Threads: ReadKernelCounters is stateless; the health thread calls it (never a shard: reading
// /proc costs a few syscalls).
//
// Example:
//   SIPRING_ASSIGN_OR_RETURN(KernelCounters k, ReadKernelCounters("/proc"));
//   metrics.Set("sipring_kernel_udp_rcvbuf_errors_total", k.udp_rcvbuf_errors);
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace sipring::health {

struct KernelCounters {
  uint64_t tcp_listen_overflows = 0;     // accept queue full (backlog / somaxconn too small)
  uint64_t tcp_listen_drops = 0;         // SYNs dropped at a listener, overflows included
  uint64_t tcp_syncookies_sent = 0;      // SYN queue full: the kernel answered with cookies
  uint64_t tcp_syncookies_recv = 0;      // valid cookies that came back
  uint64_t tcp_syncookies_failed = 0;    // invalid cookies
  uint64_t tcp_timewait_overflow = 0;    // TIME_WAIT buckets exhausted (tcp_max_tw_buckets)
  uint64_t udp_rcvbuf_errors = 0;        // datagrams dropped: socket receive buffer full
  uint64_t udp_sndbuf_errors = 0;        // sends failed: socket send buffer full
  uint64_t udp_in_errors = 0;            // all UDP receive errors, the above included
};

// Reads both files under `proc_root` ("/proc"). A missing file or counter is an error naming it.
absl::StatusOr<KernelCounters> ReadKernelCounters(const std::string& proc_root);

}  // namespace sipring::health

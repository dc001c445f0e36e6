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

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

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

// Every counter once: where the kernel keeps it (file under the proc root, section, column), the
// field it fills, and its Prometheus name and help. ReadKernelCounters, the health thread's copy
// and /metrics all walk this one list.
struct KernelCounterInfo {
  std::string_view file;     // "net/netstat"
  std::string_view section;  // "TcpExt"
  std::string_view column;   // "ListenOverflows"
  uint64_t KernelCounters::*field;
  std::string_view metric;
  std::string_view help;
};
inline constexpr KernelCounterInfo kKernelCounters[] = {
    {"net/netstat", "TcpExt", "ListenOverflows", &KernelCounters::tcp_listen_overflows,
     "sipring_kernel_tcp_listen_overflows_total", "TcpExt ListenOverflows: accept queue full."},
    {"net/netstat", "TcpExt", "ListenDrops", &KernelCounters::tcp_listen_drops,
     "sipring_kernel_tcp_listen_drops_total", "TcpExt ListenDrops: SYNs dropped at a listener."},
    {"net/netstat", "TcpExt", "SyncookiesSent", &KernelCounters::tcp_syncookies_sent,
     "sipring_kernel_tcp_syncookies_sent_total", "TcpExt SyncookiesSent."},
    {"net/netstat", "TcpExt", "SyncookiesRecv", &KernelCounters::tcp_syncookies_recv,
     "sipring_kernel_tcp_syncookies_recv_total", "TcpExt SyncookiesRecv."},
    {"net/netstat", "TcpExt", "SyncookiesFailed", &KernelCounters::tcp_syncookies_failed,
     "sipring_kernel_tcp_syncookies_failed_total", "TcpExt SyncookiesFailed."},
    {"net/netstat", "TcpExt", "TCPTimeWaitOverflow", &KernelCounters::tcp_timewait_overflow,
     "sipring_kernel_tcp_timewait_overflow_total", "TcpExt TCPTimeWaitOverflow."},
    {"net/snmp", "Udp", "RcvbufErrors", &KernelCounters::udp_rcvbuf_errors,
     "sipring_kernel_udp_rcvbuf_errors_total",
     "Udp RcvbufErrors: datagrams dropped, socket receive buffer full."},
    {"net/snmp", "Udp", "SndbufErrors", &KernelCounters::udp_sndbuf_errors,
     "sipring_kernel_udp_sndbuf_errors_total", "Udp SndbufErrors."},
    {"net/snmp", "Udp", "InErrors", &KernelCounters::udp_in_errors,
     "sipring_kernel_udp_in_errors_total", "Udp InErrors."},
};
inline constexpr size_t kKernelCounterCount = std::size(kKernelCounters);

// Reads both files under `proc_root` ("/proc"). A missing file or counter, or a value that is not
// a number, is an error naming it.
absl::StatusOr<KernelCounters> ReadKernelCounters(const std::string& proc_root);

}  // namespace sipring::health

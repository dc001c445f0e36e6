// File: health/host_check.h
//
// CheckHost: this host's kernel settings and this process's limits, measured against what a
// config needs, as findings an operator can act on. Kernel limits bite silently (DESIGN.md: the
// kernel caps a backlog at somaxconn, clamps socket buffers at rmem_max, hands a listening port
// to an outgoing connect), so each finding says what was found against what is needed and names
// the exact sysctl or unit setting that fixes it. `sipring doctor` prints them; the daemon logs
// the ones that are not ok when it starts.
//
// Checks, by name (HostFinding::check), all read under HostCheckInput::proc_root:
//   kernel               sys/kernel/osrelease: < 6.0 error (no multishot recvmsg: sipring cannot
//                        start), 6.0 warn (no DEFER_TASKRUN; the ring falls back), >= 6.1 ok
//   io_uring_disabled    sys/kernel/io_uring_disabled: 0 ok; 1 ok only with CAP_SYS_ADMIN or
//                        membership of kernel.io_uring_group (self/status), else warn; 2 error.
//                        A missing file is a kernel before 6.6 (fine), or on 6.6+ a kernel
//                        built without io_uring (warn)
//   nofile               self/limits "Max open files" (soft) vs the descriptors sipring needs:
//                        shards x (listeners + outbound sockets + ring and eventfd) + headroom,
//                        plus max_connections when a tcp/tls listener exists. Below the shards'
//                        own share: error; below the total: warn
//   memlock              self/limits "Max locked memory" vs the registered slab bytes of all
//                        shards; CAP_IPC_LOCK (self/status) lifts the limit. Warn when short
//   somaxconn            sys/net/core/somaxconn vs each tcp/tls listener's backlog: warn
//   tcp_max_syn_backlog  sys/net/ipv4/tcp_max_syn_backlog vs each tcp/tls backlog: warn
//   rmem_max / wmem_max  sys/net/core/[rw]mem_max vs each listener's rcvbuf / sndbuf: warn
//   tcp_syncookies       sys/net/ipv4/tcp_syncookies should be 1 when a tcp/tls listener exists
//   ip_local_port_range  each listening port must not be one an outgoing connect may take:
//                        transports::EphemeralPorts::MayTake (reserved ports honoured): warn
// Stream-only checks are skipped when no tcp/tls listener exists; buffer checks when no listener
// sets a buffer size. A file that is missing or does not parse is a warn finding of its own
// (the check then cannot say more), never a crash or an error status.
//
// Whose limits: self/ is the calling process. The daemon checks its own limits at start;
// `sipring doctor` checks the shell it runs in, which differs from a systemd unit's
// LimitNOFILE= / LimitMEMLOCK= (run it under the same limits to check those).
//
// Threads: CheckHost keeps no state; call it from any thread. It reads a dozen small files with
// blocking I/O, so it belongs to start-up and the CLI, never a shard.
//
// Example:
//   HostCheckInput in;
//   in.listeners.push_back({.name = "tcp:0.0.0.0:5060", .stream = true, .port = 5060,
//                           .backlog = 1024});
//   in.shards = 4;
//   in.max_connections = 10000;
//   for (const HostFinding& f : CheckHost(in)) {
//     std::cout << SeverityName(f.severity) << " " << f.check << ": " << f.found << "\n";
//   }
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sipring::health {

// How much a finding matters.
enum class Severity : std::uint8_t {
  kOk,     // the setting is enough for this config
  kWarn,   // sipring runs, but something will bite under load or on restart (a capped backlog,
           // a port an outgoing connect may take, a file that could not be read)
  kError,  // sipring cannot start or cannot work on this host as configured
};
// "OK", "WARN", "ERROR".
std::string_view SeverityName(Severity severity);

struct HostFinding {
  Severity severity = Severity::kOk;
  // Which check (see the list above): "somaxconn", "nofile", "kernel", ...
  std::string check;
  // What was found against what is needed: "128 < backlog 1024 of tcp:0.0.0.0:5060".
  std::string found;
  // The exact remedy: "sysctl -w net.core.somaxconn=1024", "LimitNOFILE=10100 (systemd unit) or
  // ulimit -n 10100". Empty for ok findings, and where no setting can be named (a file that
  // could not be read).
  std::string fix;
};

// One listening socket as the checks see it (bound once per shard).
struct HostListener {
  // For messages: "tcp:0.0.0.0:5060".
  std::string name;
  // tcp or tls: has a listen backlog and accepts connections (each one a descriptor).
  bool stream = false;
  std::uint32_t port = 0;
  std::uint32_t backlog = 0;  // listen(2) backlog; stream listeners only
  std::uint32_t rcvbuf = 0;   // SO_RCVBUF bytes; 0 = kernel default, not checked
  std::uint32_t sndbuf = 0;   // SO_SNDBUF bytes; 0 = kernel default, not checked
};

struct HostCheckInput {
  std::vector<HostListener> listeners;
  // Shard threads (resolved: never 0). Each binds every listener and has its own ring.
  std::uint32_t shards = 1;
  // Bytes of each shard's buffer slab (buffers_per_shard x buffer_size).
  std::uint64_t pool_bytes_per_shard = 0;
  // Whether the slabs are registered with io_uring as fixed buffers. Only registered buffers are
  // pinned and charged to RLIMIT_MEMLOCK; a provided-buffer ring over ordinary memory is not
  // (IOURING.md §7, verified on 6.18), so without registration memlock is not a constraint.
  bool pool_registered = false;
  // TCP/TLS connections accepted by all shards together ([limits] max_connections).
  std::uint32_t max_connections = 0;
  // Root of the proc file system; tests point it at a fake tree.
  std::string proc_root = "/proc";
};

// Descriptors each shard holds besides its listeners: one outbound socket per address family
// (sip/proxy.h), the ring and the shard's wake-up eventfd.
inline constexpr std::uint32_t kFdsPerShard = 4;
// Descriptors outside the shards: stdio, the admin listener, its eventfd and client, health
// probe sockets, the start-up probe socket, files opened at start. Generous on purpose: running
// out of descriptors fails accept() and connect() at the worst moment.
inline constexpr std::uint32_t kFdHeadroom = 64;

// Every check that applies to `input`, in the order listed above (kernel and io_uring first:
// without them nothing else matters). Never fails: what cannot be read becomes a warn finding.
std::vector<HostFinding> CheckHost(const HostCheckInput& input);

// Whether any finding is warn or error.
bool AnyProblem(const std::vector<HostFinding>& findings);

}  // namespace sipring::health

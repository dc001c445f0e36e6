// File: transports/socket_options.h
//
// Opening sockets the way the appliance needs them (DEVELOPERS principle 7): SO_REUSEADDR on
// listeners (fast restart), SO_REUSEPORT so every shard has its own socket on the same port,
// configurable SO_RCVBUF/SO_SNDBUF and listen backlog checked against the kernel's limits
// (net.core.rmem_max / wmem_max / somaxconn: the kernel silently clamps, so we read back what we
// got and warn), TCP_NODELAY on streams, and a warning when a listening port sits inside
// net.ipv4.ip_local_port_range and is not in ip_local_reserved_ports (an ephemeral connect may
// take it while we restart; the rule is EphemeralPorts::MayTake, shared with `sipring doctor`).
//
// Thread-safety: plain functions; call from the thread that will own the socket.
//
// Example:
//   std::vector<std::string> warnings;
//   SIPRING_ASSIGN_OR_RETURN(int fd, OpenUdpSocket(addr, {.rcvbuf = 4 << 20}, &warnings));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "transports/sock_addr.h"

namespace sipring::transports {

struct SocketOptions {
  int rcvbuf = 0;      // bytes; 0 = kernel default
  int sndbuf = 0;      // bytes; 0 = kernel default
  int backlog = 1024;  // TCP listeners only
  bool reuseport = true;
  // UDP: ask the kernel to stamp each datagram with its arrival time (SO_TIMESTAMPNS), so the
  // proxy can measure the latency it adds including time queued in the socket.
  bool rx_timestamps = false;
  // Root of the proc file system to read limits from ("/proc"; tests point it elsewhere).
  std::string proc_root = "/proc";
};

// A bound, non-blocking, close-on-exec UDP socket. `bound` (optional) receives the actual
// address (port 0 resolved). Warnings about clamped buffers or the port range are appended.
absl::StatusOr<int> OpenUdpSocket(const SockAddr& addr, const SocketOptions& options,
                                  std::vector<std::string>* warnings, SockAddr* bound = nullptr);

// A bound, listening TCP socket with SO_REUSEADDR, SO_REUSEPORT and TCP_NODELAY inherited by
// accepted connections.
absl::StatusOr<int> OpenTcpListener(const SockAddr& addr, const SocketOptions& options,
                                    std::vector<std::string>* warnings, SockAddr* bound = nullptr);

// Reads an integer sysctl under proc_root ("sys/net/core/rmem_max"). The error names the path and
// why (missing, unreadable, not an integer).
absl::StatusOr<int64_t> ReadSysctl(const std::string& proc_root, std::string_view path);

// The whole text of a file under proc_root ("sys/kernel/osrelease", "self/limits"). The error
// (NotFoundError, PermissionDeniedError, ...) names the full path and the reason.
absl::StatusOr<std::string> ReadProcFile(const std::string& proc_root, std::string_view path);

}  // namespace sipring::transports

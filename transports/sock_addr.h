// File: transports/sock_addr.h
//
// SockAddr: an IPv4 or IPv6 transport address held by value (sockaddr_storage + length), parsed
// from and printed as "127.0.0.1:5060" / "[::1]:5060".
//
// The non-allocating members (FromLiteral, FormatHost, SameIp, SameAddress, PortOf) are safe on
// the per-message path; Parse, HostText and ToString allocate (start-up, logs, tests).
//
// Thread-safety: a value type.
//
// Example:
//   SIPRING_ASSIGN_OR_RETURN(SockAddr a, SockAddr::Parse("[::1]:5060"));
//   bind(fd, a.sa(), a.len());
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sipring::transports {

class SockAddr {
 public:
  SockAddr() = default;
  // "a.b.c.d:port" or "[v6]:port"; port 0..65535 (0 = let the kernel pick).
  static absl::StatusOr<SockAddr> Parse(std::string_view text);
  // An IP literal host ("192.0.2.1", "::1" or "[::1]") and a port; false for anything else (a
  // name, garbage). No allocation.
  static bool FromLiteral(std::string_view host, uint16_t port, SockAddr* out);
  static SockAddr FromSockaddr(const sockaddr* sa, socklen_t len);
  static SockAddr Loopback4(uint16_t port);
  static SockAddr Loopback6(uint16_t port);

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss_); }
  sockaddr* mutable_sa() { return reinterpret_cast<sockaddr*>(&ss_); }
  socklen_t len() const { return len_; }
  int family() const { return ss_.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
  // 0.0.0.0 or ::.
  bool IsWildcard() const;
  // Same family and IP address (port ignored) / and port too, as `other`.
  bool SameIp(const sockaddr* other) const;
  bool SameAddress(const sockaddr* other) const;
  // The host as SIP writes it: "127.0.0.1", "[::1]".
  std::string HostText() const;
  // "127.0.0.1:5060", "[::1]:5060".
  std::string ToString() const;

  // Port of an AF_INET/AF_INET6 sockaddr (0 for others).
  static uint16_t PortOf(const sockaddr* sa);

 private:
  sockaddr_storage ss_{};
  socklen_t len_ = 0;
};

// Writes the host of `sa` as SIP writes it ("127.0.0.1", "[::1]") into out[0..size), NUL-
// terminated; returns its length, 0 when it does not fit or the family is not IP. size >=
// INET6_ADDRSTRLEN + 2 always suffices. No allocation.
size_t FormatHost(const sockaddr* sa, char* out, size_t size);

}  // namespace sipring::transports

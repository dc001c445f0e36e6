// File: transports/sock_addr.h
//
// SockAddr: an IPv4 or IPv6 transport address held by value (sockaddr_storage + length), parsed
// from and printed as "127.0.0.1:5060" / "[::1]:5060".
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
  static SockAddr FromSockaddr(const sockaddr* sa, socklen_t len);
  static SockAddr Loopback4(uint16_t port);
  static SockAddr Loopback6(uint16_t port);

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss_); }
  sockaddr* mutable_sa() { return reinterpret_cast<sockaddr*>(&ss_); }
  socklen_t len() const { return len_; }
  int family() const { return ss_.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
  std::string ToString() const;

 private:
  sockaddr_storage ss_{};
  socklen_t len_ = 0;
};

}  // namespace sipring::transports

// File: conf/socket_address.h
//
// SocketAddress: an IP literal plus a port, as written in the configuration ("127.0.0.1:5060",
// "[::1]:5060", "0.0.0.0:5060"). It is the typed form of every `address` key in sipring.toml
// (listeners and the admin endpoint).
//
// Only IP literals are accepted: a listener binds before anything could resolve a name, and a
// name that resolves differently on each restart makes a listener move silently. Backends, which
// may be host names, are SIP URIs and are not parsed here (see conf/config.h).
//
// Ownership: a plain value type; copy it freely.
// Thread-safety: ParseSocketAddress() is stateless and callable from any thread.
//
// Example:
//   absl::StatusOr<SocketAddress> a = ParseSocketAddress("[::1]:5060");
//   if (a.ok()) Bind(a->family == AddressFamily::kIpv6 ? AF_INET6 : AF_INET, a->host, a->port);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sipring::conf {

// Which IP family an address literal belongs to; it decides the socket's domain.
enum class AddressFamily : std::uint8_t {
  kIpv4,  // dotted quad, e.g. 127.0.0.1; the socket is AF_INET.
  kIpv6,  // bracketed in the text, e.g. [::1]; the socket is AF_INET6.
};

// "ipv4" or "ipv6", for messages and logs.
std::string_view AddressFamilyName(AddressFamily family);

struct SocketAddress {
  // The IP literal in canonical form (inet_ntop output), without brackets: "::1", not "[::1]"
  // or "0:0:0:0:0:0:0:1". Canonical so that two spellings of one address compare equal.
  std::string host;
  // 1..65535; port 0 (kernel's choice) is refused: peers and backends must know where to send.
  std::uint16_t port = 0;
  AddressFamily family = AddressFamily::kIpv4;

  // True for 0.0.0.0 and ::, which bind every local address of the family.
  bool IsWildcard() const;

  // "127.0.0.1:5060" or "[::1]:5060": the form ParseSocketAddress() accepts.
  std::string ToString() const;

  bool operator==(const SocketAddress&) const = default;
};

// Parses "ipv4:port" or "[ipv6]:port". Returns InvalidArgumentError with a short reason (no file
// or key: the caller adds those) when the text is not an IP literal with a port in 1..65535,
// e.g. for a host name, a missing port, or an IPv6 address without brackets.
absl::StatusOr<SocketAddress> ParseSocketAddress(std::string_view text);

}  // namespace sipring::conf

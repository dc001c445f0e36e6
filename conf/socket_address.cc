#include "conf/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sipring::conf {
namespace {

// Debian's abseil has its own string_view type; build messages from std::string pieces.
absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

}  // namespace

std::string_view AddressFamilyName(AddressFamily family) {
  switch (family) {
    case AddressFamily::kIpv4:
      return "ipv4";
    case AddressFamily::kIpv6:
      return "ipv6";
  }
  return "unknown";
}

bool SocketAddress::IsWildcard() const { return host == "0.0.0.0" || host == "::"; }

std::string SocketAddress::ToString() const {
  if (family == AddressFamily::kIpv6) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<SocketAddress> ParseSocketAddress(std::string_view text) {
  const std::string quoted = absl::StrCat("\"", std::string(text), "\"");
  std::string_view host;
  std::string_view port_text;
  SocketAddress out;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Invalid(absl::StrCat("missing ']' after the IPv6 address (got ", quoted, ")"));
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return Invalid(absl::StrCat("expected \"[ipv6]:port\" (got ", quoted, ")"));
    }
    port_text = rest.substr(1);
    out.family = AddressFamily::kIpv6;
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Invalid(absl::StrCat("expected \"ip:port\", the port is missing (got ", quoted, ")"));
    }
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      // Without brackets "::1:5060" is ambiguous (is 5060 the port or the last group?).
      return Invalid(absl::StrCat("an IPv6 address needs brackets, as in \"[::1]:5060\" (got ",
                                  quoted, ")"));
    }
    port_text = text.substr(colon + 1);
    out.family = AddressFamily::kIpv4;
  }
  if (host.empty()) return Invalid(absl::StrCat("the host is empty (got ", quoted, ")"));

  // inet_pton wants a NUL-terminated string; hosts are short, so copy into a bounded buffer.
  std::array<char, INET6_ADDRSTRLEN + 1> host_z{};
  if (host.size() >= host_z.size()) {
    return Invalid(absl::StrCat("not an IP address (got ", quoted, ")"));
  }
  host.copy(host_z.data(), host.size());
  std::array<unsigned char, sizeof(in6_addr)> binary{};
  const int af = out.family == AddressFamily::kIpv6 ? AF_INET6 : AF_INET;
  if (inet_pton(af, host_z.data(), binary.data()) != 1) {
    return Invalid(absl::StrCat(
        out.family == AddressFamily::kIpv6 ? "not an IPv6 address"
                                           : "not an IP address (host names are not accepted here)",
        " (got ", quoted, ")"));
  }
  std::array<char, INET6_ADDRSTRLEN> canonical{};
  if (inet_ntop(af, binary.data(), canonical.data(), canonical.size()) == nullptr) {
    return Invalid(absl::StrCat("not an IP address (got ", quoted, ")"));
  }
  out.host = canonical.data();

  unsigned port = 0;
  const char* const first = port_text.data();
  const char* const last = first + port_text.size();
  const auto [end, ec] = std::from_chars(first, last, port);
  if (port_text.empty() || ec != std::errc() || end != last || port_text.front() == '+') {
    return Invalid(absl::StrCat("the port must be a number in 1..65535 (got ", quoted, ")"));
  }
  if (port < 1 || port > 65535) {
    return Invalid(absl::StrCat("the port must be in 1..65535 (got ", quoted, ")"));
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

}  // namespace sipring::conf

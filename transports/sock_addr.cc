#include "transports/sock_addr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "engine/status.h"

namespace sipring::transports {

absl::StatusOr<SockAddr> SockAddr::Parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("bad address '", ToAbsl(text),
                                                     "': expected [v6-address]:port"));
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad address '", ToAbsl(text), "': expected host:port"));
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad port in '", ToAbsl(text), "': must be 0..65535"));
  }
  SockAddr a;
  if (!FromLiteral(host, static_cast<uint16_t>(port), &a)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad address '", ToAbsl(text), "': not an IPv4 or IPv6 literal"));
  }
  return a;
}

bool SockAddr::FromLiteral(std::string_view host, uint16_t port, SockAddr* out) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  // inet_pton wants a C string: copy to the stack, never the heap.
  char text[INET6_ADDRSTRLEN + 1];
  if (host.empty() || host.size() >= sizeof(text)) return false;
  std::memcpy(text, host.data(), host.size());
  text[host.size()] = '\0';
  *out = SockAddr();
  auto* in = reinterpret_cast<sockaddr_in*>(&out->ss_);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out->ss_);
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    out->len_ = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    out->len_ = sizeof(sockaddr_in6);
    return true;
  }
  *out = SockAddr();
  return false;
}

SockAddr SockAddr::FromSockaddr(const sockaddr* sa, socklen_t len) {
  SockAddr a;
  if (len > sizeof(a.ss_)) len = sizeof(a.ss_);
  std::memcpy(&a.ss_, sa, len);
  a.len_ = len;
  return a;
}

SockAddr SockAddr::Loopback4(uint16_t port) {
  SockAddr a;
  auto* in = reinterpret_cast<sockaddr_in*>(&a.ss_);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in->sin_port = htons(port);
  a.len_ = sizeof(sockaddr_in);
  return a;
}

SockAddr SockAddr::Loopback6(uint16_t port) {
  SockAddr a;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.ss_);
  in6->sin6_family = AF_INET6;
  in6->sin6_addr = in6addr_loopback;
  in6->sin6_port = htons(port);
  a.len_ = sizeof(sockaddr_in6);
  return a;
}

uint16_t SockAddr::port() const { return PortOf(sa()); }

void SockAddr::set_port(uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&ss_)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&ss_)->sin6_port = htons(port);
}

std::string SockAddr::HostText() const {
  char buf[INET6_ADDRSTRLEN + 3];
  return std::string(buf, FormatHost(sa(), buf, sizeof(buf)));
}

std::string SockAddr::ToString() const {
  if (family() != AF_INET && family() != AF_INET6) return "?";
  return absl::StrCat(HostText(), ":", port());
}

bool SockAddr::IsWildcard() const {
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  return family() == AF_INET6 &&
         IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr);
}

bool SockAddr::SameIp(const sockaddr* other) const {
  if (other->sa_family != family()) return false;
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(other)->sin_addr.s_addr;
  }
  return family() == AF_INET6 &&
         std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr,
                     &reinterpret_cast<const sockaddr_in6*>(other)->sin6_addr, 16) == 0;
}

bool SockAddr::SameAddress(const sockaddr* other) const {
  return SameIp(other) && PortOf(other) == port();
}

uint16_t SockAddr::PortOf(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  return 0;
}

size_t FormatHost(const sockaddr* sa, char* out, size_t size) {
  if (sa->sa_family == AF_INET) {
    if (inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, out,
                  static_cast<socklen_t>(size)) == nullptr) {
      return 0;
    }
    return std::strlen(out);
  }
  if (sa->sa_family != AF_INET6 || size < 3) return 0;
  out[0] = '[';
  if (inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, out + 1,
                static_cast<socklen_t>(size - 2)) == nullptr) {
    return 0;
  }
  const size_t n = std::strlen(out);
  out[n] = ']';
  out[n + 1] = '\0';
  return n + 1;
}

}  // namespace sipring::transports

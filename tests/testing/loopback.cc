#include "tests/testing/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sipring::testing {
namespace {

socklen_t Loopback(int family, uint16_t port, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof(*ss));
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons(port);
    return sizeof(sockaddr_in6);
  }
  auto* a = reinterpret_cast<sockaddr_in*>(ss);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a->sin_port = htons(port);
  return sizeof(sockaddr_in);
}

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void SetTimeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

int MakeUdpClient(int family, int timeout_ms) {
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss;
  socklen_t len = Loopback(family, 0, &ss);
  bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  SetTimeouts(fd, timeout_ms);
  return fd;
}

int MakeUnixDatagramServer(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return -1;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr),
           socklen_t(offsetof(sockaddr_un, sun_path) + path.size())) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int MakeTcpClient(int family, uint16_t port, int timeout_ms) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SetTimeouts(fd, timeout_ms);
  sockaddr_storage ss;
  socklen_t len = Loopback(family, port, &ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

RoundTrips UdpRoundTrips(int fd, int family, uint16_t port, int count, int size, int window,
                         int deadline_ms) {
  RoundTrips r;
  sockaddr_storage ss;
  socklen_t len = Loopback(family, port, &ss);
  std::string msg(size, 'x');
  char buf[65536];
  const int64_t deadline = NowMs() + deadline_ms;
  while ((r.received + r.mismatched + r.other) < count && NowMs() < deadline) {
    while (r.sent < count && r.sent - (r.received + r.mismatched + r.other) < window) {
      std::snprintf(msg.data(), msg.size(), "%08d", r.sent);
      msg[8] = 'x';
      if (sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) break;
      ++r.sent;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) {
      if (r.sent >= count) {
        // Lost replies will not come: stop once the socket has been quiet past the deadline.
        continue;
      }
      // Window stalled (replies lost): let more out.
      window += 1;
      continue;
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) continue;
    if (n == size && std::memcmp(buf + 8, msg.data() + 8, size - 8) == 0) {
      ++r.received;
    } else if (n == 5 && std::memcmp(buf, "BUSY\n", 5) == 0) {
      ++r.other;
    } else {
      ++r.mismatched;
    }
  }
  return r;
}

void DrainSocket(int fd, int quiet_ms) {
  char buf[65536];
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, quiet_ms) > 0) {
    if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0) break;
  }
}

void SleepMs(int ms) { poll(nullptr, 0, ms); }

std::string SourceDir() {
  if (const char* d = std::getenv("SIPRING_SOURCE_DIR")) return d;
  std::string f = __FILE__;  // .../tests/testing/loopback.cc
  return f.substr(0, f.rfind("/tests/testing/"));
}

}  // namespace sipring::testing

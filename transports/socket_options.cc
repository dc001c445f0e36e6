#include "transports/socket_options.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "engine/status.h"
#include "transports/ephemeral_ports.h"

namespace sipring::transports {
namespace {

void SetBuffer(int fd, int opt, int want, const char* name, const char* sysctl,
               const SocketOptions& o, std::vector<std::string>* warnings) {
  if (want <= 0) return;
  (void)setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
  int got = 0;
  socklen_t len = sizeof(got);
  getsockopt(fd, SOL_SOCKET, opt, &got, &len);
  // The kernel doubles the value for bookkeeping overhead; less than double means it clamped.
  if (got < want * 2 && warnings) {
    warnings->push_back(absl::StrCat(
        name, " ", want, " was clamped to ", got / 2, " by ", sysctl, " (",
        ReadSysctl(o.proc_root, sysctl).value_or(-1), "); raise it with sysctl -w net.core.",
        std::string(sysctl).substr(std::string(sysctl).rfind('/') + 1), "=", want));
  }
}

void CheckPortRange(const SockAddr& bound, const SocketOptions& o,
                    std::vector<std::string>* warnings) {
  if (!warnings || bound.port() == 0) return;
  const absl::StatusOr<EphemeralPorts> ports = EphemeralPorts::Read(o.proc_root);
  if (!ports.ok() || !ports->MayTake(bound.port())) return;
  warnings->push_back(absl::StrCat(
      "listening port ", bound.port(), " is inside net.ipv4.ip_local_port_range (",
      ports->RangeText(), "): an outgoing connection may take it while sipring restarts; "
      "reserve it with ", ports->ReserveCommand({bound.port()})));
}

absl::StatusOr<int> OpenBound(const SockAddr& addr, int type, const SocketOptions& o,
                              std::vector<std::string>* warnings, SockAddr* bound) {
  int fd = socket(addr.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket");
  const int one = 1;
  // SO_REUSEADDR: a restarted daemon binds at once, whatever TIME_WAIT the old one left.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (o.reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus(err, "setsockopt(SO_REUSEPORT)");
  }
  if (addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  SetBuffer(fd, SO_RCVBUF, o.rcvbuf, "SO_RCVBUF", "sys/net/core/rmem_max", o, warnings);
  SetBuffer(fd, SO_SNDBUF, o.sndbuf, "SO_SNDBUF", "sys/net/core/wmem_max", o, warnings);
  if (bind(fd, addr.sa(), addr.len()) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus(err, absl::StrCat("bind ", addr.ToString()));
  }
  SockAddr actual = addr;
  socklen_t len = sizeof(sockaddr_storage);
  getsockname(fd, actual.mutable_sa(), &len);
  actual = SockAddr::FromSockaddr(actual.sa(), len);
  if (bound) *bound = actual;
  if (addr.port() != 0) CheckPortRange(actual, o, warnings);
  return fd;
}

}  // namespace

absl::StatusOr<int64_t> ReadSysctl(const std::string& proc_root, std::string_view path) {
  SIPRING_ASSIGN_OR_RETURN(const std::string text, ReadProcFile(proc_root, path));
  int64_t value = 0;
  const absl::string_view stripped = absl::StripAsciiWhitespace(text);
  if (!absl::SimpleAtoi(stripped, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(proc_root, "/", ToAbsl(path),
                                                   ": not an integer (got \"", stripped, "\")"));
  }
  return value;
}

absl::StatusOr<std::string> ReadProcFile(const std::string& proc_root, std::string_view path) {
  const std::string full = absl::StrCat(proc_root, "/", ToAbsl(path));
  const int fd = open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, full);
  // Proc files report size 0, so read until end of file rather than by st_size.
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return ErrnoStatus(err, full);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

absl::StatusOr<int> OpenUdpSocket(const SockAddr& addr, const SocketOptions& options,
                                  std::vector<std::string>* warnings, SockAddr* bound) {
  SIPRING_ASSIGN_OR_RETURN(int fd, OpenBound(addr, SOCK_DGRAM, options, warnings, bound));
  if (options.rx_timestamps) {
    const int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0) {
      const int err = errno;
      close(fd);
      return ErrnoStatus(err, "setsockopt(SO_TIMESTAMPNS)");
    }
  }
  return fd;
}

absl::StatusOr<int> OpenTcpListener(const SockAddr& addr, const SocketOptions& options,
                                    std::vector<std::string>* warnings, SockAddr* bound) {
  SIPRING_ASSIGN_OR_RETURN(int fd, OpenBound(addr, SOCK_STREAM, options, warnings, bound));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int64_t somaxconn = ReadSysctl(options.proc_root, "sys/net/core/somaxconn").value_or(-1);
  if (warnings && somaxconn > 0 && options.backlog > somaxconn) {
    warnings->push_back(absl::StrCat("listen backlog ", options.backlog,
                                     " is above net.core.somaxconn (", somaxconn,
                                     "), which caps it; raise it with sysctl -w "
                                     "net.core.somaxconn=",
                                     options.backlog));
  }
  if (listen(fd, options.backlog) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus(err, "listen");
  }
  return fd;
}

}  // namespace sipring::transports

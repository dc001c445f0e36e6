#include "health/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "engine/status.h"

namespace sipring::health {

SystemdNotifier SystemdNotifier::FromEnvironment() {
  const char* p = std::getenv("NOTIFY_SOCKET");
  return SystemdNotifier(p == nullptr ? "" : p);
}

SystemdNotifier::SystemdNotifier(std::string socket_path) : path_(std::move(socket_path)) {}

SystemdNotifier::SystemdNotifier(SystemdNotifier&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
  other.path_.clear();
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) close(fd_);
}

absl::Status SystemdNotifier::Notify(std::string_view state) {
  if (!enabled()) return absl::OkStatus();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path) || (path_[0] != '/' && path_[0] != '@')) {
    return absl::InvalidArgumentError("NOTIFY_SOCKET is neither an absolute path nor @abstract");
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (path_[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  if (fd_ < 0) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return ErrnoStatus(errno, "socket(AF_UNIX)");
  }
  if (sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
             len) < 0) {
    return ErrnoStatus(errno, "sendto(NOTIFY_SOCKET)");
  }
  return absl::OkStatus();
}

uint64_t SystemdNotifier::WatchdogUsecFromEnvironment() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return 0;
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr) {
    if (std::strtoll(pid, nullptr, 10) != static_cast<long long>(getpid())) return 0;
  }
  char* end = nullptr;
  const unsigned long long v = std::strtoull(usec, &end, 10);
  return (end == usec || *end != '\0') ? 0 : v;
}

}  // namespace sipring::health

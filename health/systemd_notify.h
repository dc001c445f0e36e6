// File: health/systemd_notify.h
//
// SystemdNotifier: the sd_notify(3) protocol, written out (it is one datagram) rather than
// linking libsystemd: READY=1 once listening, WATCHDOG=1 while every thread turns, STOPPING=1 on
// shutdown, STATUS=... for `systemctl status`. The daemon works the same without systemd: with no
// NOTIFY_SOCKET in the environment every call is a no-op.
//
// The socket is a unix datagram socket named by NOTIFY_SOCKET: a path, or "@name" for the
// abstract namespace. WATCHDOG_USEC (honoured when WATCHDOG_PID is unset or names this process)
// says how often systemd expects WATCHDOG=1; the daemon sends at half that period, as
// sd_watchdog_enabled(3) advises.
//
// Threads: the daemon's main thread only.
//
// Example:
//   health::SystemdNotifier notifier = health::SystemdNotifier::FromEnvironment();
//   notifier.Notify("READY=1\nSTATUS=listening");
//   const uint64_t usec = health::SystemdNotifier::WatchdogUsecFromEnvironment();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sipring::health {

class SystemdNotifier {
 public:
  // Disabled when NOTIFY_SOCKET is unset or empty.
  static SystemdNotifier FromEnvironment();
  // "" = disabled.
  explicit SystemdNotifier(std::string socket_path);
  ~SystemdNotifier();
  SystemdNotifier(SystemdNotifier&& other) noexcept;
  SystemdNotifier& operator=(SystemdNotifier&&) = delete;
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const { return !path_.empty(); }
  // Sends `state` ("READY=1", newline-separated assignments) in one datagram. OK when disabled.
  absl::Status Notify(std::string_view state);

  // The watchdog period systemd asked for, in microseconds; 0 when there is none for us.
  static uint64_t WatchdogUsecFromEnvironment();

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace sipring::health

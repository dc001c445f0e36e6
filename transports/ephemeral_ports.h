// File: transports/ephemeral_ports.h
//
// EphemeralPorts: the kernel's ephemeral port range (net.ipv4.ip_local_port_range) minus the
// ports reserved from it (net.ipv4.ip_local_reserved_ports), and the one question sipring asks of
// them: may an outgoing connection (or an unbound sendto) take this listening port? If it may, a
// restart of sipring can find its own port held by some other process's connect and fail to bind.
// Both the bind-time warning (socket_options.cc) and `sipring doctor` (health/host_check.h) ask
// it here, so the two cannot disagree about what counts as reserved.
//
// The range applies to IPv6 too: the kernel has one ipv4 sysctl for both families.
// ip_local_reserved_ports is a comma list of ports and ranges ("5060,8000-8010", empty when
// nothing is reserved).
//
// Thread-safety: a value type; Read() does blocking file I/O (start-up and the doctor only).
//
// Example:
//   absl::StatusOr<EphemeralPorts> ports = EphemeralPorts::Read("/proc");
//   if (ports.ok() && ports->MayTake(5060)) {
//     std::cerr << "5060 is ephemeral; fix: " << ports->ReserveCommand({5060}) << "\n";
//   }
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sipring::transports {

class EphemeralPorts {
 public:
  // Reads both sysctls under `proc_root` ("/proc"). Fails (the path named) when the range cannot
  // be read or either file does not parse. A missing reserved-ports file alone is not fatal:
  // nothing is then reserved, and reserved_status() says why, so the doctor can report it while
  // the bind-time warning still works on a tree that lacks it.
  static absl::StatusOr<EphemeralPorts> Read(const std::string& proc_root);

  // From the files' text: "32768\t60999\n" and "5060,8000-8010\n". InvalidArgumentError naming
  // the part that does not parse (a port above 65535, a range whose ends are reversed).
  static absl::StatusOr<EphemeralPorts> Parse(std::string_view range_text,
                                              std::string_view reserved_text);

  uint32_t first() const { return first_; }
  uint32_t last() const { return last_; }
  // Whether `port` lies in the ephemeral range (reserved or not).
  bool InRange(uint32_t port) const { return port >= first_ && port <= last_; }
  // Whether ip_local_reserved_ports lists `port`, alone or inside a range.
  bool IsReserved(uint32_t port) const;
  // In the range and not reserved: the kernel may hand it to an outgoing connection.
  bool MayTake(uint32_t port) const { return InRange(port) && !IsReserved(port); }

  // "32768-60999".
  std::string RangeText() const;
  // The reserved list as the kernel writes it ("5060,8000-8010"; "" when empty).
  std::string ReservedText() const;
  // The command that reserves `ports` and keeps what is reserved already:
  // "sysctl -w net.ipv4.ip_local_reserved_ports=8000-8010,5060,5070". The sysctl replaces the
  // whole list, so a fix that named only the new ports would drop the others, and two fixes
  // applied one after the other would undo each other: name every port that needs it at once.
  std::string ReserveCommand(const std::vector<uint32_t>& ports) const;
  // Why the reserved list could not be read (OK when it was); it is then taken as empty.
  const absl::Status& reserved_status() const { return reserved_status_; }

 private:
  EphemeralPorts() = default;

  uint32_t first_ = 0;
  uint32_t last_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> reserved_;  // inclusive ranges, in file order
  absl::Status reserved_status_;
};

}  // namespace sipring::transports

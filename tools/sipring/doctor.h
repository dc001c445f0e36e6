// File: tools/sipring/doctor.h
//
// `sipring doctor`: the host check (health/host_check.h) of a loaded config, printed for an
// operator with the fix for each finding, and the same findings logged by the daemon when it
// starts. This file knows how the daemon turns a config into sockets, shards and slabs, which
// the host check must not (health/ knows nothing of conf/).
//
// Threads: the main thread, in the CLI or at start-up before the shards run. Reading /proc is a
// dozen small blocking reads.
//
// Example:
//   absl::StatusOr<conf::Config> config = conf::LoadConfigFile(path, ConfigLoadOptions());
//   if (!config.ok()) return 2;
//   return RunDoctor(*config, path, "/proc", std::cout);  // 0 nothing to fix, 1 something
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "conf/config.h"
#include "health/host_check.h"

namespace sipring::daemon {

// What the host check needs to know of `config`: each listener as configured ("udp:0.0.0.0:5060",
// its port, backlog and buffers), the shard count (0 = one per CPU, as the daemon resolves it),
// the slab bytes per shard, whether slabs are registered as fixed buffers (not in this build),
// and [limits] max_connections.
health::HostCheckInput HostCheckInputFor(const conf::Config& config,
                                         const std::string& proc_root = "/proc");

// Prints one line per finding, then a summary naming `config_name` and `proc_root`:
//   WARN  somaxconn: 128 < backlog 1024 of tcp:0.0.0.0:5060 -> sysctl -w net.core.somaxconn=1024
// Returns the exit status: 0 when every finding is ok, 1 when any is warn or error.
int RunDoctor(const conf::Config& config, std::string_view config_name,
              const std::string& proc_root, std::ostream& out);

// Logs every finding that is not ok as a warning: event=host_check check=... found=... fix=...
// The daemon carries on: a low limit bites under load, and the kernel and io_uring problems
// that stop it are refused by the ring's own start-up probe with their own message.
void LogHostFindings(const conf::Config& config);

}  // namespace sipring::daemon

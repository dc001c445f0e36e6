// File: tools/sipring/daemon.h
//
// The daemon's wiring: a loaded conf::Config becomes a running appliance. Daemon::Create resolves backend names
// once, and builds the shared proxy state; Run starts the shards (one sip::Proxy each), the admin
// thread (/metrics), then waits for SIGTERM (drain) or SIGINT (stop).
//
// Threads: Create and Run on the main thread. The shards and the admin server are started by
// Run, once; nothing is spawned afterwards. Metrics() may run on any thread (the admin thread).
//
// Example:
//   absl::StatusOr<conf::Config> config = conf::LoadConfigFile(path, ConfigLoadOptions());
//   auto daemon = Daemon::Create(*config, path);
//   if (!daemon.ok()) { ...; return 2; }
//   return (*daemon)->Run(/*stop_after_ms=*/-1).ok() ? 0 : 1;
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conf/config.h"
#include "health/health_checker.h"
#include "sip/backend_state.h"
#include "sip/proxy.h"

namespace sipring::daemon {

// Loader options for this build: the SIP URI parser as the backend URI check, and only what the
// daemon can serve yet (UDP, stateless), so that --check-config refuses the rest at its line.
conf::LoadOptions ConfigLoadOptions();

class Daemon {
 public:
  // Builds everything that can fail before a socket is opened: supported settings, backend
  // addresses (host names resolved here, once). InvalidArgumentError / NotFoundError otherwise.
  static absl::StatusOr<std::unique_ptr<Daemon>> Create(const conf::Config& config,
                                                        std::string_view file);
  ~Daemon();

  // Runs until SIGTERM/SIGINT (or stop_after_ms >= 0 passes). Blocks the stop signals first.
  // An error when a shard or the admin server cannot start (a bind fails, io_uring refused).
  absl::Status Run(int64_t stop_after_ms = -1);

  // Prometheus text for /metrics.
  std::string Metrics() const;
  // POST /backends/NAME/drain | /undrain: operator drain. Returns the HTTP status.
  int AdminAction(std::string_view path, std::string* body);

 private:
  explicit Daemon(const conf::Config& config);

  conf::Config config_;
  sip::ProxyShared shared_;
  std::vector<std::unique_ptr<sip::ProxyCounters>> counters_;
  uint32_t shards_ = 1;
  // Health: the snapshot the shards read, one passive-signal queue per shard, the checker's
  // counters. The checker itself lives on the health thread's shard (owned by Run).
  std::unique_ptr<sip::BackendStates> states_;
  std::vector<std::unique_ptr<sip::PassiveSignalQueue>> signals_;
  std::unique_ptr<health::HealthCounters> health_counters_;
  health::HealthOptions health_options_;
  std::atomic<health::HealthChecker*> checker_{nullptr};
  engine::Counter watchdog_stalls_;
};

}  // namespace sipring::daemon

// File: health/health_checker.h
//
// HealthChecker: active and passive health of the backends, on a thread of its own.
//
// It is a ShardApp run by a one-shard ShardGroup of its own, so it has its own thread, io_uring
// ring, buffer pool and UDP sockets: no data-path load (a full pool, a full CQ, a connection
// flood) can delay a probe or its answer. The thread asks for a higher scheduling priority
// (nice -10) and goes on at normal priority where that is not permitted.
//
// Per backend, every `interval_ms`: a SIP OPTIONS from the health socket straight to the backend.
// A final response within `timeout_ms` (any code, or one of `alive_codes`) is a success; silence
// or another code a failure. BackendHealth turns results into states with rise/fall thresholds,
// so one lost probe never moves a backend (see below). Each change is published to the shards
// through sip::BackendStates and logged. Detection bound for a backend that dies right after a
// successful probe: fall * interval + timeout (600 + 200 ms with the defaults).
//
// Passive signals: each shard pushes sip::PassiveSignal (a 503 seen, a transaction timeout) into
// its bounded queue; the checker drains them every turn and probes that backend at once when no
// probe is outstanding, so a suspect backend is judged a full interval sooner.
//
// Self probe: every `self_probe_interval_ms` an OPTIONS with a user part goes to each of
// sipring's own listeners, so it crosses the data path (listener -> shard -> balancer ->
// backend -> shard -> back). It succeeds when a backend's final answer comes back in time; an
// answer made by the proxy itself (its To tag starts "sr" + instance, e.g. 503 no backend) or
// silence is a failure. The result is a metric (sipring_self_probe_ok).
//
// Operator drain: RequestDrain(i, true) from any thread (the admin API); the checker applies it
// on its next turn (<= 100 ms). A draining backend takes no new work but finishes its dialogs;
// probes go on, and a draining backend that dies is down.
//
// Kernel counters (/proc/net/netstat, /proc/net/snmp) are read here once a second, off the shards
// and off the admin thread, into HealthCounters::kernel.
//
// Threads: construct on the main thread; Start/OnLoop/OnDatagram/Stop on the health thread;
// RequestDrain, counters() and heartbeats from any thread.
//
// Example:
//   sip::BackendStates states(backends.size());
//   health::HealthCounters counters(backends.size());
//   engine::ShardGroup health_thread({.shards = 1, .shard = HealthChecker::ShardOptions()},
//       [&](int) { return std::make_unique<HealthChecker>(options, &states, queues, &counters); });
//   SIPRING_RETURN_IF_ERROR(health_thread.Start());
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/counter.h"
#include "engine/shard.h"
#include "engine/timer_wheel.h"
#include "health/kernel_counters.h"
#include "sip/backend_state.h"
#include "sip/message.h"
#include "transports/sock_addr.h"
#include "transports/udp_socket.h"

namespace sipring::health {

// Rise/fall: the state machine of one backend, free of I/O so tests drive it directly.
//   probing (start) --1 success--> up;  probing --fall failures--> down
//   up --fall consecutive failures--> down;  down --rise consecutive successes--> up
// Draining is an operator overlay: while set, a backend that is not down reads as draining.
class BackendHealth {
 public:
  BackendHealth(uint32_t rise, uint32_t fall) : rise_(rise), fall_(fall) {}
  // Returns true when state() changed.
  bool OnResult(bool alive);
  bool SetDraining(bool draining);
  sip::BackendState state() const;

 private:
  uint32_t rise_, fall_;
  sip::BackendState base_ = sip::BackendState::kProbing;  // probing, up or down
  bool draining_ = false;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
};

struct HealthTarget {
  std::string name;               // for logs and metrics
  transports::SockAddr address;
};

struct HealthOptions {
  std::vector<HealthTarget> backends;          // index = balancer index
  std::vector<transports::SockAddr> listeners;  // sipring's own, for the self probe
  uint64_t interval_ms = 200;
  uint64_t timeout_ms = 200;                   // <= interval_ms
  uint32_t rise = 2;
  uint32_t fall = 3;
  std::vector<int> alive_codes;                // empty: any final response
  uint64_t self_probe_interval_ms = 5000;      // 0: no self probe
  uint64_t self_probe_timeout_ms = 1000;
  uint32_t instance_id = 0;                    // the proxy's: recognises its own answers
  std::string proc_root = "/proc";
  uint64_t kernel_counters_interval_ms = 1000;
};

struct BackendHealthCounters {
  engine::Counter probes_sent;
  engine::Counter probes_ok;
  engine::Counter probes_failed;
  engine::Counter went_down;
  engine::Counter went_up;
  engine::Counter passive_signals;
  engine::Counter last_rtt_us;
};

struct HealthCounters {
  explicit HealthCounters(size_t backends) : backends(backends) {}
  std::vector<BackendHealthCounters> backends;
  engine::Counter probe_send_failures;  // no tx slot or send table full: the probe is skipped
  engine::Counter stray_responses;      // answers to no outstanding probe (late, duplicated)
  engine::Counter self_probe_ok;        // gauge: 1 after a success, 0 after a failure
  engine::Counter self_probe_successes;
  engine::Counter self_probe_failures;
  engine::Counter self_probe_rtt_us;
  // Kernel counters in kKernelCounters order, refreshed once a second; kernel_read_ok = 0 when
  // /proc could not be read.
  engine::Counter kernel_read_ok;
  std::array<engine::Counter, kKernelCounterCount> kernel;
  const engine::Counter& Kernel(uint64_t KernelCounters::*field) const;
};

class HealthChecker : public engine::ShardApp, public transports::UdpSocket::Sink {
 public:
  // A small shard: the checker needs a few slots for probes and their answers, not a data pool.
  static engine::ShardOptions ShardOptions();

  HealthChecker(const HealthOptions& options, sip::BackendStates* states,
                std::vector<sip::PassiveSignalQueue*> signals, HealthCounters* counters);
  ~HealthChecker() override;

  // Any thread: operator drain on / off for backend `i`.
  void RequestDrain(size_t i, bool draining);

  // ShardApp
  absl::Status Start(engine::Shard& shard) override;
  void OnLoop(uint64_t now_ms) override;
  void Stop() override;
  // UdpSocket::Sink
  void OnDatagram(transports::UdpSocket& socket, const transports::Datagram& d) override;

 private:
  struct Target {
    HealthChecker* owner = nullptr;
    size_t index = 0;         // backend index, or listener index for a self probe
    bool self = false;
    transports::SockAddr address;
    std::string address_text; // "127.0.0.1:5070", as the probe's Request-URI and To write it
    std::string via_host;     // our local address towards it, as Via and From host
    transports::UdpSocket* socket = nullptr;
    engine::Timer timer;      // next send, or the outstanding probe's timeout
    uint32_t seq = 0;
    bool outstanding = false;
    uint64_t sent_us = 0;     // engine::MonotonicUs() at send: timeout and round trip
    uint64_t next_send_ms = 0;
    uint64_t last_ok_ms = 0;
  };

  static void OnTimer(engine::Timer* t);
  void Send(Target& t, uint64_t now_ms);
  void Finish(Target& t, uint64_t now_ms, int status, bool from_backend);
  void Schedule(Target& t);
  uint64_t TimeoutMs(const Target& t) const;
  bool Alive(int status) const;
  void ApplyDrains();
  void ReadKernelCounters(uint64_t now_ms);
  void Publish(size_t backend, const char* reason, uint64_t now_ms);

  HealthOptions options_;
  sip::BackendStates* states_;
  std::vector<sip::PassiveSignalQueue*> signals_;
  HealthCounters* counters_;
  engine::Shard* shard_ = nullptr;
  std::unique_ptr<transports::UdpSocket> v4_, v6_;
  std::vector<std::unique_ptr<Target>> targets_;  // backends first, then listeners
  std::vector<BackendHealth> health_;
  std::unique_ptr<std::atomic<uint8_t>[]> drain_requested_;
  std::vector<uint8_t> drain_applied_;
  std::unique_ptr<sip::Message> msg_;
  char instance_hex_[8];
  uint64_t next_kernel_read_ms_ = 0;
};

}  // namespace sipring::health

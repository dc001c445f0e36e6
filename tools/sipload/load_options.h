// File: tools/sipload/load_options.h
//
// The command line of `sipload uac` and `sipload uas`, parsed into plain option structs, and the
// derived figures both sides size their preallocated tables from (the call table of the UAC, the
// schedule of rate steps).
//
// Every run is bounded: the UAC always stops after --calls calls or --duration-s seconds
// (finite defaults, both required to be positive), then drains for at most --drain-ms, after
// which calls still open count as timed out; the UAS stops at SIGINT/SIGTERM or --duration-s.
//
// Errors are absl::InvalidArgumentError naming the flag and what it accepts. Start-up only
// (allocates freely); any thread.
//
// Example:
//   absl::StatusOr<UacOptions> o = ParseUacArgs({"--target", "127.0.0.1:5060", "--rate", "500"});
//   if (!o.ok()) { std::cerr << o.status().message(); return 2; }
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "transports/sock_addr.h"

namespace sipring::sipload {

// What one UAC call is.
enum class Scenario : uint8_t {
  kCall,      // INVITE, 100/180/200, ACK, optional hold, BYE, 200
  kOptions,   // OPTIONS -> final response
  kRegister,  // REGISTER -> final response
};
std::string_view ScenarioName(Scenario s);

// One stretch of the schedule at a constant rate.
struct RateStep {
  double rate = 0;         // calls per second, all threads together
  double duration_s = 0;   // how long this step offers load
};

struct UacOptions {
  transports::SockAddr target;   // where every new request goes (the proxy, or a UAS)
  Scenario scenario = Scenario::kCall;
  std::vector<RateStep> steps;   // --rate (one step of --duration-s) or --rate-steps x --step-s
  uint64_t calls = 10000;        // at most this many calls in all
  double duration_s = 60;        // and at most this long (the sum of the steps with --rate-steps)
  uint32_t hold_ms = 0;          // call: between ACK and BYE
  uint32_t t1_ms = 500;          // RFC 3261 T1: first retransmission interval
  uint32_t t2_ms = 4000;         // RFC 3261 T2: cap of the non-INVITE retransmission interval
  uint32_t timeout_ms = 0;       // a transaction's give-up time; 0 = 64 x T1 (Timer B/F)
  int64_t drain_ms = -1;         // after the last call starts; -1 = 2 x timeout + hold
  int threads = 1;               // shards
  int sources = 0;               // UDP sockets in all (spread over threads); 0 = 4 per thread
  std::vector<transports::SockAddr> source_ips;  // port 0; default the loopback of the target's family
  uint64_t max_calls_in_flight = 0;  // per run; 0 = derived (MaxCallsInFlight)
  // The tick: the shortest sleep; calls due before the next tick go out together. 2 ms because a
  // wake-up (timer interrupt, halt exit) costs about 20 us of CPU on the VMs we measure on.
  uint32_t pace_us = 2000;
  std::string service = "sipload";  // user part of the Request-URI and To
  bool json = false;             // report as JSON on stdout
  bool quiet = false;            // no progress lines
  bool pin = false;              // pin shard i to CPU i

  uint32_t TimeoutMs() const { return timeout_ms ? timeout_ms : 64 * t1_ms; }
  uint64_t DrainMs() const {
    return drain_ms >= 0 ? uint64_t(drain_ms) : 2 * uint64_t(TimeoutMs()) + hold_ms;
  }
  double PeakRate() const;
  // Calls that can be open at once if every one lives as long as it may (setup timeout + hold +
  // BYE timeout) at the peak rate, plus slack for a burst: the call table's size. An explicit
  // --max-calls-in-flight wins.
  uint64_t MaxCallsInFlight() const;
};

struct UasOptions {
  transports::SockAddr listen;
  int threads = 1;
  uint32_t delay_ms = 0;        // final answers (and 180) wait this long; 100 Trying does not
  double fail_ratio = 0;        // share of INVITE/REGISTER answered with fail_code
  int fail_code = 503;
  double drop_ratio = 0;        // share of INVITE/REGISTER never answered (not even 100)
  bool trying = true;           // send 100 Trying to INVITE
  double duration_s = 3600;     // 0 = until SIGINT/SIGTERM
  uint32_t max_pending = 4096;  // delayed answers held at once per thread
  uint32_t tick_us = 0;         // 0: answer each request at once; else in ticks of tick_us
  bool json = false;
  bool quiet = false;
  bool pin = false;
};

absl::StatusOr<UacOptions> ParseUacArgs(const std::vector<std::string_view>& args);
absl::StatusOr<UasOptions> ParseUasArgs(const std::vector<std::string_view>& args);

// "127.0.0.1-127.0.0.8" (an inclusive IPv4 range, at most 256 addresses) or a comma list of IP
// literals.
absl::StatusOr<std::vector<transports::SockAddr>> ParseSourceIps(std::string_view text);
// "1000,2000,4000" -> three steps of `step_s` each.
absl::StatusOr<std::vector<RateStep>> ParseRateSteps(std::string_view text, double step_s);

// Usage texts for --help.
extern const char kUacUsage[];
extern const char kUasUsage[];

}  // namespace sipring::sipload

// File: tools/sipload/load_stats.h
//
// What sipload counts and how it reports it: per-shard statistics written by the shard thread
// (counters that the main thread reads once a second for the progress line, and per-rate-step
// tallies and latency histograms read only after the shard stopped), their merge into one
// report, and the report as text or JSON.
//
// Ownership and threads: a UacStats / UasStats lives inside its shard's app; the shard thread is
// the only writer. The engine::Counter members may be read from any thread at any time; the rest
// only after the shard thread has been joined.
//
// Example:
//   UacReport report = MergeUac(options, stats_of_every_shard, elapsed_s);
//   std::cout << (options.json ? UacReportJson(report) : UacReportText(report));
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/counter.h"
#include "engine/log_linear_histogram.h"
#include "tools/sipload/load_options.h"

namespace sipring::sipload {

// Why a UAC call failed. Every attempt ends as exactly one success or one of these.
enum class FailReason : uint8_t {
  kTimeout,      // the first request got no final response within the timeout, or the call was
                 // still setting up when the drain ended
  kByeTimeout,   // the BYE got no final response within the timeout (or the drain ended first)
  kStatus,       // the first request got a final response >= 300 (counted by code too)
  kByeStatus,    // the BYE got a final response >= 300 (counted by code too)
  kNoSlot,       // the call table was full when the call was due: never sent
  kSendFailed,   // no transmit buffer or send context for the first request: never sent
  kBadDialog,    // a 2xx whose Contact / Record-Route gave no usable next hop (not an IP
                 // literal, or too long for the call's dialog space)
  kInterrupted,  // still open when SIGINT/SIGTERM ended the run
  kCount,        // number of reasons; not a reason
};
inline constexpr size_t kFailReasonCount = static_cast<size_t>(FailReason::kCount);
std::string_view FailReasonName(FailReason r);

inline constexpr int kMaxStatus = 700;  // status codes 0..699 index the by-code arrays

// Latency is recorded in microseconds, up to an hour.
inline engine::LogLinearHistogram MakeLatencyHistogram() { return engine::LogLinearHistogram(); }

// One rate step's tally on one shard (calls belong to the step in which they were due).
struct StepStats {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
  std::array<uint64_t, kFailReasonCount> by_reason{};
  std::array<uint64_t, kMaxStatus> by_code{};      // kStatus failures by final code
  std::array<uint64_t, kMaxStatus> bye_by_code{};  // kByeStatus failures by final code
  engine::LogLinearHistogram latency_us = MakeLatencyHistogram();  // first request -> its 2xx
  // How late each call went out after its due time (0 when on time or early): a load generator
  // that cannot keep its schedule shows here, so a run it could not deliver is not taken for a
  // proxy's result.
  engine::LogLinearHistogram send_lag_us = MakeLatencyHistogram();
  uint64_t first_due_ns = 0;  // intended start of the step's first and last calls (monotonic)
  uint64_t last_due_ns = 0;
  uint64_t last_success_ns = 0;  // when the step's last successful call completed
};

struct UacStats {
  // Read by the progress line from the main thread.
  engine::Counter attempts;
  engine::Counter successes;
  engine::Counter failures;
  engine::Counter retransmissions;  // requests sent again by Timer A/E, and ACKs re-sent for
                                    // retransmitted 2xx
  engine::Counter in_flight;        // calls open now
  engine::Counter stale;            // responses for calls that already ended (or another run)
  engine::Counter unparsable;       // datagrams sip::Parse refused
  std::atomic<bool> finished{false};  // the shard's share is done (or was interrupted)
  // Read after the shard stopped.
  std::vector<StepStats> steps;
  std::array<uint64_t, kMaxStatus> responses{};  // every response received, by code
};

struct UasStats {
  // Requests by method, in this order; kOtherMethod collects the rest.
  enum Method : uint8_t { kInvite, kAck, kBye, kCancel, kOptions, kRegister, kOtherMethod, kMethods };
  static std::string_view MethodName(int m);
  std::array<engine::Counter, kMethods> received;    // every request, retransmissions included
  std::array<engine::Counter, kMethods> duplicates;  // of those, retransmissions (seen before)
  engine::Counter dropped;       // INVITE/REGISTER left unanswered by --drop-ratio (first copies)
  engine::Counter failed;        // INVITE/REGISTER answered --fail-code (first copies)
  engine::Counter cancelled;     // 487s sent for INVITEs a CANCEL ended
  engine::Counter responses_sent;
  engine::Counter responses_received;  // responses are not for a UAS: counted and ignored
  engine::Counter unparsable;
  engine::Counter delay_overflow;  // answers sent at once: the pending table or buffers were full
  engine::Counter send_failed;
};

// The merged UAC report.
struct LatencySummary {
  uint64_t count = 0, min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  double mean = 0;
};
LatencySummary Summarize(const engine::LogLinearHistogram& h);

struct StepReport {
  double rate = 0;            // offered (configured)
  double duration_s = 0;
  uint64_t attempts = 0, successes = 0, failures = 0;
  double achieved_rate = 0;   // attempts over the span of their intended starts
  // Successes per second: over the span of due times, or, when calls completed later than that
  // (a sipload that fell behind, answers delayed by overload), until the last one completed.
  double goodput = 0;
  std::array<uint64_t, kFailReasonCount> by_reason{};
  std::array<uint64_t, kMaxStatus> by_code{};
  std::array<uint64_t, kMaxStatus> bye_by_code{};
  LatencySummary latency;
  LatencySummary send_lag;
};

struct UacReport {
  std::string target;
  Scenario scenario = Scenario::kCall;
  int threads = 0, sources = 0;
  double elapsed_s = 0;       // first due call to the end of the run
  uint64_t retransmissions = 0, stale = 0, unparsable = 0;
  std::array<uint64_t, kMaxStatus> responses{};
  StepReport total;           // every step together
  std::vector<StepReport> steps;
};

UacReport MergeUac(const UacOptions& options, const std::vector<const UacStats*>& shards,
                   double elapsed_s);
std::string UacReportText(const UacReport& r);
std::string UacReportJson(const UacReport& r);

struct UasReport {
  std::array<uint64_t, UasStats::kMethods> received{};
  std::array<uint64_t, UasStats::kMethods> duplicates{};
  uint64_t dropped = 0, failed = 0, cancelled = 0, responses_sent = 0, responses_received = 0,
           unparsable = 0, delay_overflow = 0, send_failed = 0;
  double elapsed_s = 0;
};
UasReport MergeUas(const std::vector<const UasStats*>& shards, double elapsed_s);
std::string UasReportText(const UasReport& r);
std::string UasReportJson(const UasReport& r);

}  // namespace sipring::sipload

// sipload: an open-loop SIP load generator (uac) and a SIP backend (uas) on the engine.
//
//   sipload uac --target HOST:PORT [--scenario call|options|register] [--rate N | --rate-steps ...]
//   sipload uas --listen HOST:PORT [--delay-ms D] [--fail-ratio R] [--drop-ratio R] ...
//   sipload --help
//
// A progress line each second on stderr; the final report on stdout (text, or JSON with
// --json). Exit status: 0 when the run completed (failed calls are results, not errors), 1 when
// it could not start (a bind failed, io_uring refused), 2 for a usage error.
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "engine/clock.h"
#include "engine/shard.h"
#include "tools/sipload/load_options.h"
#include "tools/sipload/load_stats.h"
#include "tools/sipload/uac.h"
#include "tools/sipload/uas.h"

namespace sipring::sipload {
namespace {

constexpr std::string_view kUsage =
    "usage: sipload uac --target HOST:PORT [options]   (sipload uac --help)\n"
    "       sipload uas --listen HOST:PORT [options]   (sipload uas --help)\n";

// The shards' pools: replies and requests are small, so 2 KiB slots; enough receive slots for
// a burst of answers, transmit slots for the requests a loop turn writes.
engine::ShardGroupOptions GroupOptions(int threads, bool pin) {
  engine::ShardGroupOptions g;
  g.shards = threads;
  g.pin_cpus = pin;
  g.shard.ring.sq_entries = 4096;
  g.shard.pool = {.buffer_size = 2048, .rx_main = 4096, .rx_reserve = 0, .tx = 4096, .tx_reserve = 0};
  return g;
}

// Waits up to `ms` for SIGINT/SIGTERM (blocked in every thread by ShardGroup::Start); returns the
// signal or 0.
int WaitSignal(int64_t ms) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  timespec ts{.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1'000'000};
  const int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

// Stops the shards (their stats outlive them) and prints the report `render` makes of the stats.
template <typename Stats, typename Render>
void StopAndReport(engine::ShardGroup& group, const std::vector<std::unique_ptr<Stats>>& stats,
                   Render render) {
  group.StopAll();
  group.Join();
  std::vector<const Stats*> shards;
  for (const auto& s : stats) shards.push_back(s.get());
  std::cout << render(shards) << std::flush;
}

int RunUac(const UacOptions& o) {
  engine::ShardGroup::BlockStopSignals();
  const uint32_t run = std::random_device{}();
  std::atomic<uint64_t> start_ns{0};
  std::atomic<bool> interrupt{false};
  std::vector<std::unique_ptr<UacStats>> stats;
  for (int i = 0; i < o.threads; ++i) stats.push_back(std::make_unique<UacStats>());
  engine::ShardGroup group(GroupOptions(o.threads, o.pin), [&](int i) {
    return std::make_unique<UacApp>(o, i, run, start_ns, interrupt, stats[i].get());
  });
  if (absl::Status st = group.Start(); !st.ok()) {
    std::cerr << "sipload uac: cannot start: " << st.message() << "\n";
    return 1;
  }
  // Every shard is up; give them a moment to see the start time before it arrives.
  const uint64_t t0 = engine::MonotonicNs() + 150'000'000;
  start_ns.store(t0, std::memory_order_release);
  if (!o.quiet) {
    std::cerr << absl::StrFormat("sipload uac: %s to %s, %d thread(s), %d sources, table %d calls\n",
                                 ScenarioName(o.scenario), o.target.ToString(), o.threads, o.sources,
                                 o.MaxCallsInFlight());
  }
  // The run ends by itself (calls, duration, drain); this bound only guards against a bug.
  const uint64_t hard_end_ns =
      t0 + static_cast<uint64_t>(o.duration_s * 1e9) + o.DrainMs() * 1'000'000 + 10'000'000'000ull;
  uint64_t last_attempts = 0, next_print = t0 + 1'000'000'000;
  for (;;) {
    bool all = true;
    for (auto& s : stats) all = all && s->finished.load(std::memory_order_acquire);
    if (all) break;
    const int sig = WaitSignal(100);
    const uint64_t now = engine::MonotonicNs();
    if (sig != 0 || now > hard_end_ns) interrupt.store(true, std::memory_order_release);
    if (now >= next_print && !o.quiet) {
      uint64_t a = 0, ok = 0, f = 0, r = 0, open = 0;
      for (auto& s : stats) {
        a += s->attempts.Get();
        ok += s->successes.Get();
        f += s->failures.Get();
        r += s->retransmissions.Get();
        open += s->in_flight.Get();
      }
      std::cerr << absl::StrFormat("%6.1fs  rate %6d/s  attempts %d  ok %d  failed %d  retrans %d  open %d\n",
                                   double(now - t0) / 1e9, a - last_attempts, a, ok, f, r, open);
      last_attempts = a;
      next_print += 1'000'000'000;
    }
  }
  const double elapsed = double(engine::MonotonicNs() - t0) / 1e9;
  StopAndReport(group, stats, [&](const std::vector<const UacStats*>& shards) {
    const UacReport r = MergeUac(o, shards, elapsed);
    return o.json ? UacReportJson(r) : UacReportText(r);
  });
  return 0;
}

int RunUas(const UasOptions& o) {
  engine::ShardGroup::BlockStopSignals();
  std::vector<std::unique_ptr<UasStats>> stats;
  std::vector<std::atomic<uint16_t>> ports(o.threads);
  for (int i = 0; i < o.threads; ++i) stats.push_back(std::make_unique<UasStats>());
  engine::ShardGroup group(GroupOptions(o.threads, o.pin), [&](int i) {
    return std::make_unique<UasApp>(o, stats[i].get(), &ports[i]);
  });
  if (absl::Status st = group.Start(); !st.ok()) {
    std::cerr << "sipload uas: cannot start: " << st.message() << "\n";
    return 1;
  }
  const uint64_t t0 = engine::MonotonicNs();
  transports::SockAddr bound = o.listen;
  bound.set_port(ports[0].load());
  // Scripts wait for this line to know the UAS answers.
  std::cerr << "sipload uas: listening on " << bound.ToString() << "\n" << std::flush;
  const uint64_t end_ns = o.duration_s > 0 ? t0 + static_cast<uint64_t>(o.duration_s * 1e9) : 0;
  uint64_t next_print = t0 + 1'000'000'000, last = 0;
  for (;;) {
    const uint64_t now = engine::MonotonicNs();
    if (end_ns && now >= end_ns) break;
    int64_t wait = int64_t((next_print - std::min(next_print, now)) / 1'000'000);
    if (end_ns) wait = std::min<int64_t>(wait, int64_t((end_ns - now) / 1'000'000));
    if (WaitSignal(std::max<int64_t>(wait, 1)) != 0) break;
    if (engine::MonotonicNs() >= next_print && !o.quiet) {
      uint64_t total = 0, dups = 0;
      for (auto& s : stats) {
        for (int m = 0; m < UasStats::kMethods; ++m) {
          total += s->received[m].Get();
          dups += s->duplicates[m].Get();
        }
      }
      std::cerr << absl::StrFormat("%6.1fs  requests %6d/s  total %d  retransmissions %d\n",
                                   double(engine::MonotonicNs() - t0) / 1e9, total - last, total, dups);
      last = total;
      next_print += 1'000'000'000;
    }
  }
  const double elapsed = double(engine::MonotonicNs() - t0) / 1e9;
  StopAndReport(group, stats, [&](const std::vector<const UasStats*>& shards) {
    const UasReport r = MergeUas(shards, elapsed);
    return o.json ? UasReportJson(r) : UasReportText(r);
  });
  return 0;
}

}  // namespace
}  // namespace sipring::sipload

namespace sipring::sipload {
namespace {

// One command: --help, or its flags parsed and the run.
template <typename Options>
int Command(std::string_view name, const char* usage, const std::vector<std::string_view>& args,
            absl::StatusOr<Options> (*parse)(const std::vector<std::string_view>&),
            int (*run)(const Options&)) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << usage;
    return 0;
  }
  absl::StatusOr<Options> o = parse(args);
  if (!o.ok()) {
    std::cerr << "sipload " << name << ": " << o.status().message() << "\n";
    return 2;
  }
  return run(*o);
}

}  // namespace
}  // namespace sipring::sipload

int main(int argc, char** argv) {
  using namespace sipring::sipload;
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string_view command = argv[1];
  const std::vector<std::string_view> args(argv + 2, argv + argc);
  if (command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "uac") return Command<UacOptions>("uac", kUacUsage, args, &ParseUacArgs, &RunUac);
  if (command == "uas") return Command<UasOptions>("uas", kUasUsage, args, &ParseUasArgs, &RunUas);
  std::cerr << "sipload: unknown command \"" << command << "\"\n" << kUsage;
  return 2;
}

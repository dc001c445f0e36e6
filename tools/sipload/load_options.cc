#include "tools/sipload/load_options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/status.h"

namespace sipring::sipload {

const char kUacUsage[] =
    "usage: sipload uac --target HOST:PORT [options]\n"
    "\n"
    "Open-loop SIP load over UDP: calls start on a fixed schedule whatever the target does, and\n"
    "latency counts from each call's intended start, so a stalled target shows as latency.\n"
    "Always bounded: --calls and --duration-s, then a drain after which open calls time out.\n"
    "\n"
    "  --target HOST:PORT      where new requests go (IP literal)\n"
    "  --scenario S            call (INVITE/ACK/BYE, default) | options | register\n"
    "  --rate N                calls per second (default 100), for --duration-s\n"
    "  --rate-steps A,B,...    stepped rates instead, each for --step-s seconds (default 5)\n"
    "  --calls N               at most N calls (default 10000)\n"
    "  --duration-s S          at most S seconds of load (default 60)\n"
    "  --hold-ms MS            call: time between ACK and BYE (default 0)\n"
    "  --t1-ms MS, --t2-ms MS  RFC 3261 timers (500, 4000): retransmissions double from T1\n"
    "                          (non-INVITE capped at T2)\n"
    "  --timeout-ms MS         a transaction gives up after MS (default 64 x T1)\n"
    "  --drain-ms MS           after the last call starts, wait at most MS for open calls\n"
    "                          (default 2 x timeout + hold); what is left counts as timeout\n"
    "  --threads N             shards (default 1)\n"
    "  --sources N             UDP source sockets in all (default 4 per thread)\n"
    "  --source-ips A-B|A,B    source addresses, e.g. 127.0.0.1-127.0.0.8 (default loopback)\n"
    "  --max-calls-in-flight N size of the call table (default from rate x (hold + timeouts))\n"
    "  --pace-us US            the tick: sleep at least US between turns; calls due before the\n"
    "                          next tick go out together, up to US early (default 2000: each\n"
    "                          wake-up costs about 20 us of CPU on a VM; latency stays exact,\n"
    "                          smaller ticks only send smoother bursts)\n"
    "  --service USER          user part of Request-URI and To (default sipload)\n"
    "  --json                  print the report as JSON on stdout\n"
    "  --quiet                 no progress line each second\n"
    "  --pin                   pin shard i to CPU i\n";

const char kUasUsage[] =
    "usage: sipload uas --listen HOST:PORT [options]\n"
    "\n"
    "A SIP backend over UDP: answers OPTIONS, REGISTER, INVITE (100, 180, 200 with To-tag and the\n"
    "request's Record-Route), ACK, BYE and CANCEL (200, and 487 for a pending INVITE); counts what\n"
    "it receives by method, retransmissions separately. Runs until SIGINT/SIGTERM or --duration-s.\n"
    "\n"
    "  --listen HOST:PORT      address to answer on (a port other than 0 with --threads > 1)\n"
    "  --threads N             shards on the same port (SO_REUSEPORT; default 1)\n"
    "  --delay-ms MS           hold the 180 and the final answer for MS (default 0)\n"
    "  --fail-ratio R          answer this share of INVITE/REGISTER with --fail-code (default 0)\n"
    "  --fail-code C           300..699 (default 503)\n"
    "  --drop-ratio R          never answer this share of INVITE/REGISTER (default 0)\n"
    "                          (the choice is a function of the Call-ID: a retransmission gets\n"
    "                          the same treatment; OPTIONS are always answered, as proxies\n"
    "                          probe their backends with them)\n"
    "  --no-trying             no 100 Trying to INVITE\n"
    "  --duration-s S          stop after S seconds (default 3600; 0 = at a signal only)\n"
    "  --max-pending N         delayed answers held at once per thread (default 4096)\n"
    "  --tick-us US            answer in ticks of US instead of at once (default 0): fewer\n"
    "                          wake-ups, answers up to US later\n"
    "  --json                  print the report as JSON on stdout\n"
    "  --quiet                 no progress line each second\n"
    "  --pin                   pin shard i to CPU i\n";

namespace {

absl::Status Bad(std::string_view flag, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(flag), ": ", ToAbsl(what)));
}
std::string_view Std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// One table of flags per command: each flag parses its value into the options.
using Setter = std::function<absl::Status(std::string_view value)>;
struct Flag {
  bool takes_value;
  Setter set;
};

absl::Status RunFlags(const std::vector<std::string_view>& args,
                      const std::map<std::string_view, Flag>& flags) {
  for (size_t i = 0; i < args.size(); ++i) {
    auto it = flags.find(args[i]);
    if (it == flags.end()) return Bad(args[i], "unknown argument (see --help)");
    std::string_view value;
    if (it->second.takes_value) {
      if (i + 1 >= args.size()) return Bad(args[i], "needs a value");
      value = args[++i];
    }
    SIPRING_RETURN_IF_ERROR(it->second.set(value));
  }
  return absl::OkStatus();
}

template <typename T>
Setter Uint(std::string_view flag, T* out, uint64_t lo, uint64_t hi) {
  return [=](std::string_view v) -> absl::Status {
    uint64_t n;
    if (!absl::SimpleAtoi(ToAbsl(v), &n) || n < lo || n > hi) {
      return Bad(flag, absl::StrCat("expects an integer in ", lo, "..", hi, ", got \"", ToAbsl(v), "\""));
    }
    *out = static_cast<T>(n);
    return absl::OkStatus();
  };
}

Setter Real(std::string_view flag, double* out, double lo, double hi) {
  return [=](std::string_view v) -> absl::Status {
    double d;
    if (!absl::SimpleAtod(ToAbsl(v), &d) || !(d >= lo && d <= hi)) {
      return Bad(flag, absl::StrCat("expects a number in ", lo, "..", hi, ", got \"", ToAbsl(v), "\""));
    }
    *out = d;
    return absl::OkStatus();
  };
}

Setter Address(std::string_view flag, transports::SockAddr* out) {
  return [=](std::string_view v) -> absl::Status {
    absl::StatusOr<transports::SockAddr> a = transports::SockAddr::Parse(v);
    if (!a.ok()) return Bad(flag, Std(a.status().message()));
    *out = *a;
    return absl::OkStatus();
  };
}

Setter Set(bool* out) {
  return [=](std::string_view) {
    *out = true;
    return absl::OkStatus();
  };
}

}  // namespace

std::string_view ScenarioName(Scenario s) {
  switch (s) {
    case Scenario::kCall: return "call";
    case Scenario::kOptions: return "options";
    case Scenario::kRegister: return "register";
  }
  return "?";
}

double UacOptions::PeakRate() const {
  double peak = 0;
  for (const RateStep& s : steps) peak = std::max(peak, s.rate);
  return peak;
}

uint64_t UacOptions::MaxCallsInFlight() const {
  if (max_calls_in_flight) return max_calls_in_flight;
  // A call lives at most: setup timeout + hold + BYE timeout. If the target stalls every call
  // lives that long, so this many can be open; a quarter more absorbs the pacer's bursts.
  const double lifetime_s = (2.0 * TimeoutMs() + hold_ms) / 1000.0;
  const double open = PeakRate() * lifetime_s * 1.25 + 256;
  return std::min<uint64_t>(calls, static_cast<uint64_t>(std::ceil(open)));
}

absl::StatusOr<std::vector<transports::SockAddr>> ParseSourceIps(std::string_view text) {
  std::vector<transports::SockAddr> out;
  const size_t dash = text.find('-');
  if (dash != std::string_view::npos) {
    transports::SockAddr lo, hi;
    if (!transports::SockAddr::FromLiteral(text.substr(0, dash), 0, &lo) ||
        !transports::SockAddr::FromLiteral(text.substr(dash + 1), 0, &hi) ||
        lo.family() != AF_INET || hi.family() != AF_INET) {
      return Bad("--source-ips", "a range is two IPv4 addresses, e.g. 127.0.0.1-127.0.0.8");
    }
    const uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(lo.sa())->sin_addr.s_addr);
    const uint32_t b = ntohl(reinterpret_cast<const sockaddr_in*>(hi.sa())->sin_addr.s_addr);
    if (b < a || b - a >= 256) return Bad("--source-ips", "a range runs upwards over at most 256 addresses");
    for (uint32_t ip = a; ip <= b; ++ip) {
      transports::SockAddr s = lo;
      reinterpret_cast<sockaddr_in*>(s.mutable_sa())->sin_addr.s_addr = htonl(ip);
      out.push_back(s);
    }
    return out;
  }
  for (absl::string_view part : absl::StrSplit(ToAbsl(text), ',')) {
    transports::SockAddr s;
    if (!transports::SockAddr::FromLiteral(Std(part), 0, &s)) {
      return Bad("--source-ips", absl::StrCat("not an IP literal: \"", part, "\""));
    }
    out.push_back(s);
  }
  if (out.empty()) return Bad("--source-ips", "empty");
  return out;
}

absl::StatusOr<std::vector<RateStep>> ParseRateSteps(std::string_view text, double step_s) {
  std::vector<RateStep> steps;
  for (absl::string_view part : absl::StrSplit(ToAbsl(text), ',')) {
    double r;
    if (!absl::SimpleAtod(part, &r) || !(r > 0 && r <= 10'000'000)) {
      return Bad("--rate-steps", absl::StrCat("each rate is a number in (0, 1e7], got \"", part, "\""));
    }
    steps.push_back({r, step_s});
  }
  if (steps.empty() || steps.size() > 255) return Bad("--rate-steps", "1..255 rates");
  return steps;
}

absl::StatusOr<UacOptions> ParseUacArgs(const std::vector<std::string_view>& args) {
  UacOptions o;
  bool have_target = false, have_duration = false;
  double rate = 100, step_s = 5;
  std::string_view rate_steps, scenario = "call", source_ips;
  std::map<std::string_view, Flag> flags = {
      {"--target", {true, [&](std::string_view v) {
         have_target = true;
         return Address("--target", &o.target)(v);
       }}},
      {"--scenario", {true, [&](std::string_view v) {
         scenario = v;
         return absl::OkStatus();
       }}},
      {"--rate", {true, Real("--rate", &rate, 0.001, 10'000'000)}},
      {"--rate-steps", {true, [&](std::string_view v) {
         rate_steps = v;
         return absl::OkStatus();
       }}},
      {"--step-s", {true, Real("--step-s", &step_s, 0.1, 86400)}},
      {"--calls", {true, Uint("--calls", &o.calls, 1, 1'000'000'000)}},
      {"--duration-s", {true, [&](std::string_view v) {
         have_duration = true;
         return Real("--duration-s", &o.duration_s, 0.01, 86400)(v);
       }}},
      {"--hold-ms", {true, Uint("--hold-ms", &o.hold_ms, 0, 3'600'000)}},
      {"--t1-ms", {true, Uint("--t1-ms", &o.t1_ms, 1, 10'000)}},
      {"--t2-ms", {true, Uint("--t2-ms", &o.t2_ms, 1, 60'000)}},
      {"--timeout-ms", {true, Uint("--timeout-ms", &o.timeout_ms, 1, 600'000)}},
      {"--drain-ms", {true, Uint("--drain-ms", &o.drain_ms, 0, 3'600'000)}},
      {"--threads", {true, Uint("--threads", &o.threads, 1, 64)}},
      {"--sources", {true, Uint("--sources", &o.sources, 1, 4096)}},
      {"--source-ips", {true, [&](std::string_view v) {
         source_ips = v;
         return absl::OkStatus();
       }}},
      {"--max-calls-in-flight", {true, Uint("--max-calls-in-flight", &o.max_calls_in_flight, 1, 16'000'000)}},
      {"--pace-us", {true, Uint("--pace-us", &o.pace_us, 1, 1'000'000)}},
      {"--service", {true, [&](std::string_view v) -> absl::Status {
         if (v.empty() || v.size() > 64 ||
             v.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
                 std::string_view::npos) {
           return Bad("--service", "1..64 letters, digits, '-', '_', '.'");
         }
         o.service = std::string(v);
         return absl::OkStatus();
       }}},
      {"--json", {false, Set(&o.json)}},
      {"--quiet", {false, Set(&o.quiet)}},
      {"--pin", {false, Set(&o.pin)}},
  };
  SIPRING_RETURN_IF_ERROR(RunFlags(args, flags));
  if (!have_target) return Bad("--target", "required");
  if (o.target.port() == 0) return Bad("--target", "needs a port");
  if (scenario == "call") {
    o.scenario = Scenario::kCall;
  } else if (scenario == "options") {
    o.scenario = Scenario::kOptions;
  } else if (scenario == "register") {
    o.scenario = Scenario::kRegister;
  } else {
    return Bad("--scenario", "call, options or register");
  }
  if (o.t2_ms < o.t1_ms) return Bad("--t2-ms", "must be >= --t1-ms");
  if (!rate_steps.empty()) {
    SIPRING_ASSIGN_OR_RETURN(o.steps, ParseRateSteps(rate_steps, step_s));
    double total = 0;
    for (const RateStep& s : o.steps) total += s.duration_s;
    // The steps are the schedule; an explicit, shorter --duration-s still cuts it.
    o.duration_s = have_duration ? std::min(o.duration_s, total) : total;
  } else {
    o.steps = {{rate, o.duration_s}};
  }
  if (source_ips.empty()) {
    o.source_ips = {o.target.family() == AF_INET6 ? transports::SockAddr::Loopback6(0)
                                                  : transports::SockAddr::Loopback4(0)};
  } else {
    SIPRING_ASSIGN_OR_RETURN(o.source_ips, ParseSourceIps(source_ips));
    for (const transports::SockAddr& s : o.source_ips) {
      if (s.family() != o.target.family()) return Bad("--source-ips", "must be of the target's family");
    }
  }
  if (o.sources == 0) o.sources = 4 * o.threads;
  if (o.sources < o.threads) return Bad("--sources", "at least one per thread");
  return o;
}

absl::StatusOr<UasOptions> ParseUasArgs(const std::vector<std::string_view>& args) {
  UasOptions o;
  bool have_listen = false;
  int fail_code = 503;
  std::map<std::string_view, Flag> flags = {
      {"--listen", {true, [&](std::string_view v) {
         have_listen = true;
         return Address("--listen", &o.listen)(v);
       }}},
      {"--threads", {true, Uint("--threads", &o.threads, 1, 64)}},
      {"--delay-ms", {true, Uint("--delay-ms", &o.delay_ms, 0, 600'000)}},
      {"--fail-ratio", {true, Real("--fail-ratio", &o.fail_ratio, 0, 1)}},
      {"--fail-code", {true, Uint("--fail-code", &fail_code, 300, 699)}},
      {"--drop-ratio", {true, Real("--drop-ratio", &o.drop_ratio, 0, 1)}},
      {"--no-trying", {false, [&](std::string_view) {
         o.trying = false;
         return absl::OkStatus();
       }}},
      {"--duration-s", {true, Real("--duration-s", &o.duration_s, 0, 86400 * 30)}},
      {"--max-pending", {true, Uint("--max-pending", &o.max_pending, 1, 60000)}},
      {"--tick-us", {true, Uint("--tick-us", &o.tick_us, 0, 1'000'000)}},
      {"--json", {false, Set(&o.json)}},
      {"--quiet", {false, Set(&o.quiet)}},
      {"--pin", {false, Set(&o.pin)}},
  };
  SIPRING_RETURN_IF_ERROR(RunFlags(args, flags));
  if (!have_listen) return Bad("--listen", "required");
  if (o.threads > 1 && o.listen.port() == 0) {
    return Bad("--listen", "several threads share one port: give one (not 0)");
  }
  if (o.fail_ratio + o.drop_ratio > 1) return Bad("--fail-ratio", "plus --drop-ratio must be <= 1");
  o.fail_code = fail_code;
  return o;
}

}  // namespace sipring::sipload

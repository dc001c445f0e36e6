// File: engine/log.h
//
// Structured, rate-limited log lines in logfmt, usable from any thread:
//
//   ts=2026-11-21T10:00:00.123Z level=warn event=bad_request shard=1 peer=127.0.0.1:5062 reason="Missing Call-ID"
//
//  - Log(): one line = timestamp, level, event, then the caller's key=value fields in order.
//    The line is formatted into a stack buffer (kMaxLogLineBytes, no heap allocation) and emitted
//    with ONE write(2) to the sink fd. A line is shorter than PIPE_BUF, so on a pipe (journald,
//    a test) and on an O_APPEND file concurrent lines never interleave; there is no lock.
//  - Values are quoted when they are empty or hold a space, '"', '=', '\' or a byte outside
//    printable ASCII; inside quotes '"' and '\' are backslash-escaped and every other such byte
//    is written \xNN. Bytes >= 0x80 are escaped too: values often come from the network (a peer's
//    header) and need not be UTF-8, and a log line must stay one line of plain ASCII.
//  - A line that would pass kMaxLogLineBytes is cut at a field boundary (a long string value is
//    cut inside its quotes, which stay balanced) and ends with `truncated=true`.
//  - LogRateLimiter + LogLimited(): a token bucket per event class, so a flood of bad packets
//    cannot make the log (a blocking write per line) the shard's bottleneck. Lines it suppresses
//    are counted, and the next line it lets through carries `suppressed=N`.
//  - A sink that cannot take a line at once (non-blocking fd full, EPIPE, ...) loses that line;
//    the loss is counted (LogLinesLost) rather than retried: the caller is a shard.
//
// Ownership and threads: the level and sink are process globals (relaxed atomics), set once at
// start-up before threads start (SetLogLevel) or by tests (SetLogSinkForTest). Log, LogLimited
// and LogRateLimiter are safe from any thread. LogRateLimiter is lock-free (one CAS on the
// accepting path, one atomic add when suppressing); give each shard its own limiter for a
// hot event so shards do not share its cache line.
//
// Example:
//   SetLogLevel(LogLevel::kInfo);                              // main, at start-up
//   Log(LogLevel::kInfo, "listening", {{"addr", "0.0.0.0:5060"}, {"shards", 4}});
//
//   LogRateLimiter bad_request_log(/*per_second=*/10, /*burst=*/20);   // one per shard
//   LogLimited(bad_request_log, LogLevel::kWarn, "bad_request",
//              {{"shard", shard_id}, {"peer", peer_text}, {"reason", "Missing Call-ID"}});
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

namespace sipring::engine {

// Severity of a line; lines below the global minimum (SetLogLevel) are dropped before formatting.
enum class LogLevel : uint8_t {
  kDebug = 0,  // detail for developers; off in production
  kInfo = 1,   // start-up, shutdown, configuration, state changes of backends
  kWarn = 2,   // something was refused or degraded, the daemon carries on (bad request, 503)
  kError = 3,  // an operation failed that should not (a socket error, a failed reload)
};

// The longest line written, newline included. Below PIPE_BUF (4096) so one write is atomic.
inline constexpr size_t kMaxLogLineBytes = 1024;

// One key=value pair. Holds views: the strings must outlive the Log() call (they do when the
// field list is built in the call's argument list).
class LogField {
 public:
  // What the value holds.
  enum class Kind : uint8_t {
    kString,  // str_: written raw, or quoted and escaped when it needs it
    kInt,     // int_: decimal
    kUint,    // uint_: decimal
    kDouble,  // double_: shortest round-trip form (std::to_chars)
    kBool,    // uint_ 0/1: written false/true
  };

  LogField(std::string_view key, std::string_view value)
      : key_(key), kind_(Kind::kString), str_(value) {}
  LogField(std::string_view key, const char* value)
      : key_(key), kind_(Kind::kString), str_(value == nullptr ? "" : value) {}
  LogField(std::string_view key, bool value) : key_(key), kind_(Kind::kBool), uint_(value) {}
  template <std::signed_integral T>
  LogField(std::string_view key, T value) : key_(key), kind_(Kind::kInt), int_(value) {}
  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  LogField(std::string_view key, T value) : key_(key), kind_(Kind::kUint), uint_(value) {}
  template <std::floating_point T>
  LogField(std::string_view key, T value) : key_(key), kind_(Kind::kDouble), double_(value) {}

  std::string_view key() const { return key_; }
  Kind kind() const { return kind_; }
  std::string_view str() const { return str_; }
  int64_t int_value() const { return int_; }
  uint64_t uint_value() const { return uint_; }
  double double_value() const { return double_; }

 private:
  std::string_view key_;
  Kind kind_;
  union {
    std::string_view str_;
    int64_t int_;
    uint64_t uint_;
    double double_;
  };
};

// Sets the minimum level written (default kInfo). Call at start-up; any thread may read it.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// True when a line at `level` would be written. Cheap (one relaxed load): callers may use it to
// skip building expensive field values.
bool LogEnabled(LogLevel level);

// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);

// Writes one line at `level` (nothing when below the minimum). Never allocates, never fails:
// a line the sink will not take is counted in LogLinesLost().
void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// Formats one line (newline included) into `out` for `unix_ms` (milliseconds since the epoch,
// UTC); `suppressed` > 0 adds suppressed=N right after the event. Returns the bytes written,
// at most min(out.size(), kMaxLogLineBytes). Log() is this plus the clock and the write; it is
// public so tests and tools can format without a sink. `out` must hold at least 64 bytes (0 is
// returned otherwise).
size_t FormatLogLine(std::span<char> out, int64_t unix_ms, LogLevel level, std::string_view event,
                     std::span<const LogField> fields, uint64_t suppressed = 0);

// Redirects lines to `fd` (default 2, stderr) and returns the previous fd. Tests point it at a
// pipe; the daemon never calls it. The caller keeps owning both fds.
int SetLogSinkForTest(int fd);

// Lines the sink did not take whole (write error or short write), since start.
uint64_t LogLinesLost();

// Token bucket deciding which lines of one event class get written. Implemented as GCRA (the
// "virtual scheduling" form of a token bucket): one 64-bit atomic holds the theoretical arrival
// time of the next line, so Allow() is a load plus, when it accepts, one compare-and-swap, with
// no lock and no separate refill step. Over any window of E seconds it accepts at most
// burst + per_second * E calls.
//
// Threads: any; lock-free. Not copyable (it is an atomic state).
class LogRateLimiter {
 public:
  // per_second: sustained lines per second (0 is taken as 1); burst: lines allowed at once after
  // a quiet period (0 is taken as 1).
  LogRateLimiter(uint32_t per_second, uint32_t burst);
  LogRateLimiter(const LogRateLimiter&) = delete;
  LogRateLimiter& operator=(const LogRateLimiter&) = delete;

  // True if a line may be written at `now_ms` (a monotonic clock in milliseconds, e.g.
  // MonotonicMs() of engine/clock.h); false counts one suppressed line. Threads may pass clocks read a moment
  // apart: a `now_ms` behind another caller's only makes this one call stricter.
  [[nodiscard]] bool Allow(uint64_t now_ms);

  // Lines suppressed since the previous call; resets the count.
  uint64_t TakeSuppressed() { return suppressed_.exchange(0, std::memory_order_relaxed); }

  uint32_t per_second() const { return per_second_; }
  uint32_t burst() const { return burst_; }

 private:
  const uint32_t per_second_;
  const uint32_t burst_;
  const uint64_t interval_ns_;   // 1e9 / per_second: the bucket gains one token per interval
  const uint64_t tolerance_ns_;  // burst * interval: how far ahead of now the schedule may run
  std::atomic<uint64_t> tat_ns_{0};  // theoretical arrival time of the next line
  std::atomic<uint64_t> suppressed_{0};
};

// Log() gated by `limiter` at MonotonicMs(). A line below the minimum level neither spends a
// token nor counts as suppressed. When lines were suppressed since the last one let through, the
// line carries suppressed=N (N = lines dropped by this limiter since then).
void LogLimited(LogRateLimiter& limiter, LogLevel level, std::string_view event,
                std::initializer_list<LogField> fields = {});

// As above at an explicit `now_ms`, for tests that drive the clock.
void LogLimitedAt(LogRateLimiter& limiter, uint64_t now_ms, LogLevel level,
                  std::string_view event, std::initializer_list<LogField> fields = {});

}  // namespace sipring::engine

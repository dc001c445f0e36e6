#include "engine/log.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "engine/clock.h"
#include "engine/status.h"

namespace sipring::engine {
namespace {

std::atomic<uint8_t> g_min_level{static_cast<uint8_t>(LogLevel::kInfo)};
std::atomic<int> g_sink_fd{2};
std::atomic<uint64_t> g_lines_lost{0};

// Room kept free at the end of the buffer for the truncation marker and the newline, so a cut
// line is still well formed.
constexpr std::string_view kTruncatedMarker = " truncated=true";
constexpr size_t kTailReserve = kTruncatedMarker.size() + 1;
constexpr size_t kMinLogBufferBytes = 64;

bool IsPlain(unsigned char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\'; }

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (!IsPlain(c)) return true;
  }
  return false;
}

// Appends into a fixed buffer whose last kTailReserve bytes are kept for Finish(). Every Put is
// all-or-nothing; a field that does not fit is rolled back by the caller.
class LineWriter {
 public:
  LineWriter(char* buf, size_t size) : buf_(buf), cap_(size - kTailReserve) {}

  size_t len() const { return len_; }
  void Rewind(size_t len) { len_ = len; }
  size_t room() const { return cap_ - len_; }
  bool truncated() const { return truncated_; }
  void set_truncated() { truncated_ = true; }

  bool Put(std::string_view s) {
    if (s.size() > room()) return false;
    for (char c : s) buf_[len_++] = c;
    return true;
  }
  bool Put(char c) {
    if (room() == 0) return false;
    buf_[len_++] = c;
    return true;
  }

  // Keys are program constants, but a stray space or '=' would break every parser downstream:
  // such bytes become '_'.
  bool PutKey(std::string_view key) {
    if (key.size() > room()) return false;
    for (unsigned char c : key) buf_[len_++] = IsPlain(c) ? static_cast<char>(c) : '_';
    return true;
  }

  // Writes a string value, quoted when needed. A value too long for the room left is cut inside
  // its quotes (plain values get quotes for the purpose) and marks the line truncated.
  bool PutString(std::string_view v) {
    if (!NeedsQuotes(v) && v.size() <= room()) return Put(v);
    // Opening quote, at least nothing of the value, closing quote.
    if (room() < 2) return false;
    buf_[len_++] = '"';
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : v) {
      char unit[4];
      size_t n = 0;
      if (c == '"' || c == '\\') {
        unit[n++] = '\\';
        unit[n++] = static_cast<char>(c);
      } else if (c < 0x20 || c >= 0x7f) {
        unit[n++] = '\\';
        unit[n++] = 'x';
        unit[n++] = kHex[c >> 4];
        unit[n++] = kHex[c & 0xf];
      } else {
        unit[n++] = static_cast<char>(c);
      }
      if (n + 1 > room()) {  // keep one byte for the closing quote
        truncated_ = true;
        break;
      }
      for (size_t i = 0; i < n; ++i) buf_[len_++] = unit[i];
    }
    buf_[len_++] = '"';
    return true;
  }

  // Appends the truncation marker (when cut) and the newline into the reserved tail.
  size_t Finish() {
    if (truncated_) {
      for (char c : kTruncatedMarker) buf_[len_++] = c;
    }
    buf_[len_++] = '\n';
    return len_;
  }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool truncated_ = false;
};

template <typename T>
bool PutNumber(LineWriter& w, T v) {
  char tmp[32];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), v);
  if (ec != std::errc()) return w.Put(std::string_view("0"));
  return w.Put(std::string_view(tmp, static_cast<size_t>(end - tmp)));
}

bool PutValue(LineWriter& w, const LogField& f) {
  switch (f.kind()) {
    case LogField::Kind::kString:
      return w.PutString(f.str());
    case LogField::Kind::kInt:
      return PutNumber(w, f.int_value());
    case LogField::Kind::kUint:
      return PutNumber(w, f.uint_value());
    case LogField::Kind::kDouble:
      return PutNumber(w, f.double_value());
    case LogField::Kind::kBool:
      return w.Put(f.uint_value() != 0 ? std::string_view("true") : std::string_view("false"));
  }
  return w.Put(std::string_view("?"));
}

// Writes " key=value" whole, or rolls back and marks the line truncated. Returns false once the
// line is cut (the caller stops adding fields).
bool PutField(LineWriter& w, const LogField& f) {
  const size_t start = w.len();
  if (w.Put(' ') && w.PutKey(f.key()) && w.Put('=') && PutValue(w, f)) return !w.truncated();
  w.Rewind(start);
  w.set_truncated();
  return false;
}

void Put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10 % 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). Done by
// hand because glibc's gmtime_r takes a process-wide lock (tzset_lock) on every call.
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2 ? 1 : 0);
}

// "2026-11-21T10:00:00.123Z" (24 bytes), without strftime (locale) or gmtime_r (a lock).
void FormatTimestamp(int64_t unix_ms, char out[24]) {
  int64_t secs = unix_ms / 1000;
  int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0) year = 0;
  if (year > 9999) year = 9999;
  const unsigned y = static_cast<unsigned>(year);
  Put2(out, y / 100);
  Put2(out + 2, y % 100);
  out[4] = '-';
  Put2(out + 5, month);
  out[7] = '-';
  Put2(out + 8, day);
  out[10] = 'T';
  Put2(out + 11, static_cast<unsigned>(sod / 3600));
  out[13] = ':';
  Put2(out + 14, static_cast<unsigned>(sod / 60 % 60));
  out[16] = ':';
  Put2(out + 17, static_cast<unsigned>(sod % 60));
  out[19] = '.';
  out[20] = static_cast<char>('0' + ms / 100);
  Put2(out + 21, static_cast<unsigned>(ms % 100));
  out[23] = 'Z';
}

void Emit(LogLevel level, std::string_view event, std::span<const LogField> fields,
          uint64_t suppressed) {
  char buf[kMaxLogLineBytes];
  const size_t n = FormatLogLine(buf, static_cast<int64_t>(RealtimeNs() / 1'000'000), level,
                                 event, fields, suppressed);
  const int fd = g_sink_fd.load(std::memory_order_relaxed);
  ssize_t w;
  do {
    w = write(fd, buf, n);
  } while (w < 0 && errno == EINTR);
  // No second write for the rest of a short write: another thread's line could land in between,
  // and a sink that cannot take 1 KiB at once is one we must not wait on.
  if (w != static_cast<ssize_t>(n)) g_lines_lost.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void SetLogLevel(LogLevel level) {
  g_min_level.store(static_cast<uint8_t>(level), std::memory_order_relaxed);
}

LogLevel GetLogLevel() { return static_cast<LogLevel>(g_min_level.load(std::memory_order_relaxed)); }

bool LogEnabled(LogLevel level) {
  return static_cast<uint8_t>(level) >= g_min_level.load(std::memory_order_relaxed);
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

size_t FormatLogLine(std::span<char> out, int64_t unix_ms, LogLevel level, std::string_view event,
                     std::span<const LogField> fields, uint64_t suppressed) {
  SIPRING_DCHECK(out.size() >= kMinLogBufferBytes);
  if (out.size() < kMinLogBufferBytes) return 0;
  const size_t size = out.size() < kMaxLogLineBytes ? out.size() : kMaxLogLineBytes;
  LineWriter w(out.data(), size);
  // The fixed prefix "ts=... level=error" is 40 bytes, below kMinLogBufferBytes - kTailReserve.
  char ts[24];
  FormatTimestamp(unix_ms, ts);
  w.Put(std::string_view("ts="));
  w.Put(std::string_view(ts, sizeof(ts)));
  w.Put(std::string_view(" level="));
  w.Put(LogLevelName(level));
  if (PutField(w, LogField("event", event)) && suppressed > 0) {
    PutField(w, LogField("suppressed", suppressed));
  }
  for (const LogField& f : fields) {
    if (w.truncated() || !PutField(w, f)) break;
  }
  return w.Finish();
}

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  Emit(level, event, std::span<const LogField>(fields.begin(), fields.size()), 0);
}

int SetLogSinkForTest(int fd) { return g_sink_fd.exchange(fd, std::memory_order_relaxed); }

uint64_t LogLinesLost() { return g_lines_lost.load(std::memory_order_relaxed); }

LogRateLimiter::LogRateLimiter(uint32_t per_second, uint32_t burst)
    : per_second_(per_second == 0 ? 1 : per_second),
      burst_(burst == 0 ? 1 : burst),
      interval_ns_(1'000'000'000ull / per_second_),
      tolerance_ns_(static_cast<uint64_t>(burst_) * interval_ns_) {}

bool LogRateLimiter::Allow(uint64_t now_ms) {
  const uint64_t now_ns = now_ms * 1'000'000ull;
  uint64_t tat = tat_ns_.load(std::memory_order_relaxed);
  while (true) {
    // An idle bucket (schedule in the past) starts from now: that is the refill.
    const uint64_t start = tat > now_ns ? tat : now_ns;
    const uint64_t next = start + interval_ns_;
    if (next - now_ns > tolerance_ns_) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    // Relaxed is enough: the schedule orders nothing else; on failure `tat` is reloaded.
    if (tat_ns_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
  }
}

void LogLimitedAt(LogRateLimiter& limiter, uint64_t now_ms, LogLevel level,
                  std::string_view event, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  if (!limiter.Allow(now_ms)) return;
  Emit(level, event, std::span<const LogField>(fields.begin(), fields.size()),
       limiter.TakeSuppressed());
}

void LogLimited(LogRateLimiter& limiter, LogLevel level, std::string_view event,
                std::initializer_list<LogField> fields) {
  LogLimitedAt(limiter, MonotonicMs(), level, event, fields);
}

}  // namespace sipring::engine

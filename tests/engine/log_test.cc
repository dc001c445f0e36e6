#include "engine/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/clock.h"

namespace sipring::engine {
namespace {

// 2026-11-21T10:00:00.123Z
constexpr int64_t kExampleMs = 1795255200123;

std::string Format(LogLevel level, std::string_view event, std::initializer_list<LogField> fields,
                   uint64_t suppressed = 0, int64_t unix_ms = kExampleMs) {
  char buf[kMaxLogLineBytes];
  size_t n = FormatLogLine(buf, unix_ms, level, event,
                           std::span<const LogField>(fields.begin(), fields.size()), suppressed);
  return std::string(buf, n);
}

// A strict logfmt reader: key=value pairs separated by one space, values raw or quoted with
// \" \\ \xNN escapes, one trailing newline. nullopt on anything else (a torn or merged line).
using Fields = std::vector<std::pair<std::string, std::string>>;
std::optional<Fields> ParseLogfmt(std::string_view line) {
  if (line.empty() || line.back() != '\n') return std::nullopt;
  line.remove_suffix(1);
  Fields out;
  size_t i = 0;
  while (i < line.size()) {
    if (!out.empty()) {
      if (line[i] != ' ') return std::nullopt;
      ++i;
    }
    size_t eq = line.find('=', i);
    if (eq == std::string_view::npos || eq == i) return std::nullopt;
    std::string key(line.substr(i, eq - i));
    if (key.find(' ') != std::string::npos || key.find('"') != std::string::npos) {
      return std::nullopt;
    }
    i = eq + 1;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= line.size()) return std::nullopt;
          char e = line[i++];
          if (e == '"' || e == '\\') {
            value += e;
          } else if (e == 'x' && i + 2 <= line.size()) {
            value += static_cast<char>(std::stoi(std::string(line.substr(i, 2)), nullptr, 16));
            i += 2;
          } else {
            return std::nullopt;
          }
        } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
          return std::nullopt;
        } else {
          value += c;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      size_t end = line.find(' ', i);
      if (end == std::string_view::npos) end = line.size();
      value = std::string(line.substr(i, end - i));
      if (value.empty() || value.find('"') != std::string::npos ||
          value.find('=') != std::string::npos) {
        return std::nullopt;
      }
      i = end;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::map<std::string, std::string> AsMap(const Fields& f) { return {f.begin(), f.end()}; }

// Points the log sink at a pipe and drains it on a thread, so writers never block on a full pipe.
class LogCapture {
 public:
  LogCapture() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    previous_ = SetLogSinkForTest(write_fd_);
    reader_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = read(read_fd_, buf, sizeof(buf))) > 0) text_.append(buf, static_cast<size_t>(n));
    });
  }
  ~LogCapture() {
    if (reader_.joinable()) Finish();
  }
  // Restores the sink, waits for every byte, returns all that was written.
  std::string Finish() {
    SetLogSinkForTest(previous_);
    close(write_fd_);
    reader_.join();
    close(read_fd_);
    return text_;
  }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
  int previous_ = 2;
  std::thread reader_;
  std::string text_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));  // no newline: a torn line, the parser will refuse it
      break;
    }
    lines.push_back(text.substr(start, nl - start + 1));
    start = nl + 1;
  }
  return lines;
}

class LevelGuard {
 public:
  explicit LevelGuard(LogLevel level) : previous_(GetLogLevel()) { SetLogLevel(level); }
  ~LevelGuard() { SetLogLevel(previous_); }

 private:
  LogLevel previous_;
};

TEST(LogTest, ExactLine) {
  EXPECT_EQ(Format(LogLevel::kWarn, "bad_request",
                   {{"shard", 1}, {"peer", "127.0.0.1:5062"}, {"reason", "Missing Call-ID"}}),
            "ts=2026-11-21T10:00:00.123Z level=warn event=bad_request shard=1 "
            "peer=127.0.0.1:5062 reason=\"Missing Call-ID\"\n");
}

TEST(LogTest, Timestamps) {
  EXPECT_EQ(Format(LogLevel::kInfo, "e", {}, 0, 0),
            "ts=1970-01-01T00:00:00.000Z level=info event=e\n");
  // Leap day, last millisecond.
  EXPECT_EQ(Format(LogLevel::kDebug, "e", {}, 0, 1709251199999),
            "ts=2024-02-29T23:59:59.999Z level=debug event=e\n");
  EXPECT_EQ(Format(LogLevel::kError, "e", {}, 0, 951782400000),
            "ts=2000-02-29T00:00:00.000Z level=error event=e\n");
}

TEST(LogTest, ValueKinds) {
  const std::string line =
      Format(LogLevel::kInfo, "kinds",
             {{"i", -42},
              {"u", std::numeric_limits<uint64_t>::max()},
              {"d", 0.25},
              {"b", true},
              {"c", false},
              {"s", std::string_view("plain")},
              {"p", static_cast<const char*>(nullptr)}});
  EXPECT_EQ(line,
            "ts=2026-11-21T10:00:00.123Z level=info event=kinds i=-42 u=18446744073709551615 "
            "d=0.25 b=true c=false s=plain p=\"\"\n");
}

TEST(LogTest, Escaping) {
  const std::string line = Format(
      LogLevel::kInfo, "esc",
      {{"space", "a b"},
       {"quote", "say \"hi\""},
       {"eq", "a=b"},
       {"backslash", "C:\\x"},
       {"ctl", std::string_view("a\nb\tc\0d", 7)},
       {"high", "caf\xc3\xa9"},
       {"empty", ""},
       {"bad key", "v"}});
  EXPECT_EQ(line,
            "ts=2026-11-21T10:00:00.123Z level=info event=esc space=\"a b\" "
            "quote=\"say \\\"hi\\\"\" eq=\"a=b\" backslash=\"C:\\\\x\" "
            "ctl=\"a\\x0ab\\x09c\\x00d\" high=\"caf\\xc3\\xa9\" empty=\"\" bad_key=v\n");
  // And the reader gets the original bytes back.
  auto parsed = ParseLogfmt(line);
  ASSERT_TRUE(parsed.has_value()) << line;
  auto m = AsMap(*parsed);
  EXPECT_EQ(m["quote"], "say \"hi\"");
  EXPECT_EQ(m["backslash"], "C:\\x");
  EXPECT_EQ(m["ctl"], std::string("a\nb\tc\0d", 7));
  EXPECT_EQ(m["high"], "caf\xc3\xa9");
}

TEST(LogTest, SuppressedComesRightAfterEvent) {
  EXPECT_EQ(Format(LogLevel::kWarn, "flood", {{"peer", "x"}}, 17),
            "ts=2026-11-21T10:00:00.123Z level=warn event=flood suppressed=17 peer=x\n");
}

TEST(LogTest, LongValueIsCutInsideItsQuotes) {
  const std::string big(5000, 'a');
  const std::string line = Format(LogLevel::kWarn, "big", {{"first", 1}, {"v", big}, {"after", 2}});
  EXPECT_LE(line.size(), kMaxLogLineBytes);
  EXPECT_EQ(line.size(), kMaxLogLineBytes);  // the cut value fills the line
  auto parsed = ParseLogfmt(line);
  ASSERT_TRUE(parsed.has_value()) << line;
  auto m = AsMap(*parsed);
  EXPECT_EQ(m["first"], "1");
  EXPECT_EQ(m["truncated"], "true");
  EXPECT_FALSE(m.contains("after"));
  EXPECT_GT(m["v"].size(), 800u);
  EXPECT_EQ(m["v"], std::string(m["v"].size(), 'a'));
}

TEST(LogTest, EscapesNeverSplitAtTheCut) {
  // Every byte needs a 4-byte escape; the cut must land between escapes.
  const std::string big(2000, '\x01');
  const std::string line = Format(LogLevel::kWarn, "big", {{"v", big}});
  EXPECT_LE(line.size(), kMaxLogLineBytes);
  auto parsed = ParseLogfmt(line);
  ASSERT_TRUE(parsed.has_value()) << line;
  EXPECT_EQ(AsMap(*parsed)["truncated"], "true");
}

TEST(LogTest, FieldThatDoesNotFitIsDroppedWhole) {
  // Many small numeric fields: the last one that does not fit disappears, none is half written.
  std::vector<LogField> fields;
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("key" + std::to_string(i));
  for (int i = 0; i < 200; ++i) fields.emplace_back(keys[static_cast<size_t>(i)], 1234567890 + i);
  char buf[kMaxLogLineBytes];
  size_t n = FormatLogLine(buf, kExampleMs, LogLevel::kInfo, "many", fields);
  std::string line(buf, n);
  EXPECT_LE(n, kMaxLogLineBytes);
  auto parsed = ParseLogfmt(line);
  ASSERT_TRUE(parsed.has_value()) << line;
  auto m = AsMap(*parsed);
  EXPECT_EQ(m["truncated"], "true");
  for (const auto& [k, v] : *parsed) {
    if (k.starts_with("key")) {
      EXPECT_EQ(v, std::to_string(1234567890 + std::stoi(k.substr(3))));
    }
  }
}

TEST(LogTest, LevelFiltering) {
  LevelGuard guard(LogLevel::kWarn);
  LogCapture capture;
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarn));
  Log(LogLevel::kDebug, "no");
  Log(LogLevel::kInfo, "no");
  Log(LogLevel::kWarn, "yes_warn");
  Log(LogLevel::kError, "yes_error", {{"n", 1}});
  auto lines = Lines(capture.Finish());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" level=warn event=yes_warn\n"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" level=error event=yes_error n=1\n"), std::string::npos) << lines[1];
}

TEST(LogRateLimiterTest, BurstThenRate) {
  LogRateLimiter limiter(/*per_second=*/10, /*burst=*/5);
  const uint64_t t0 = 1'000'000;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow(t0)) << i;
  EXPECT_FALSE(limiter.Allow(t0));
  EXPECT_FALSE(limiter.Allow(t0 + 50));
  EXPECT_EQ(limiter.TakeSuppressed(), 2u);
  EXPECT_EQ(limiter.TakeSuppressed(), 0u);
  // One token per 100 ms.
  EXPECT_TRUE(limiter.Allow(t0 + 100));
  EXPECT_FALSE(limiter.Allow(t0 + 100));
  EXPECT_TRUE(limiter.Allow(t0 + 200));
  // A long quiet period refills up to the burst, no further.
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.Allow(t0 + 60'000) ? 1 : 0;
  EXPECT_EQ(allowed, 5);
  EXPECT_EQ(limiter.TakeSuppressed(), 1u + 95u);
  // A clock a little behind (another thread's read) is not a refill.
  EXPECT_FALSE(limiter.Allow(t0 + 59'000));
}

TEST(LogRateLimiterTest, ZeroArgumentsMeanOne) {
  LogRateLimiter limiter(0, 0);
  EXPECT_EQ(limiter.per_second(), 1u);
  EXPECT_EQ(limiter.burst(), 1u);
  EXPECT_TRUE(limiter.Allow(5000));
  EXPECT_FALSE(limiter.Allow(5000));
  EXPECT_TRUE(limiter.Allow(6000));
}

TEST(LogRateLimiterTest, ConcurrentCallersShareOneBudget) {
  LogRateLimiter limiter(/*per_second=*/1, /*burst=*/100);
  std::atomic<uint64_t> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50'000; ++i) {
        if (limiter.Allow(1'000'000)) allowed.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 100u);
  EXPECT_EQ(limiter.TakeSuppressed(), 200'000u - 100u);
}

TEST(LogLimitedTest, FloodIsBoundedAndSuppressedAddsUp) {
  LevelGuard guard(LogLevel::kInfo);
  constexpr uint32_t kRate = 100;
  constexpr uint32_t kBurst = 10;
  constexpr uint64_t kCalls = 100'000;
  LogRateLimiter limiter(kRate, kBurst);
  LogCapture capture;
  const uint64_t start_ms = MonotonicMs();
  // Spread the flood over ~200 ms so the sustained rate, not only the burst, is exercised.
  for (uint64_t i = 0; i < kCalls; ++i) {
    LogLimited(limiter, LogLevel::kWarn, "bad_request", {{"seq", i}, {"reason", "flood"}});
    if (i % 1000 == 999) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const uint64_t elapsed_ms = MonotonicMs() - start_ms;
  const std::string text = capture.Finish();
  auto lines = Lines(text);
  // +1: the clock is read in whole milliseconds on both ends.
  EXPECT_LE(lines.size(), kBurst + kRate * (elapsed_ms + 1) / 1000 + 1) << elapsed_ms << " ms";
  // And the limiter does let the sustained rate through (loosely: sleeps overshoot).
  EXPECT_GE(lines.size() + 2, kBurst + kRate * elapsed_ms * 8 / 10 / 1000) << elapsed_ms << " ms";
  uint64_t suppressed = 0;
  for (const auto& line : lines) {
    auto parsed = ParseLogfmt(line);
    ASSERT_TRUE(parsed.has_value()) << line;
    auto m = AsMap(*parsed);
    EXPECT_EQ(m["event"], "bad_request");
    if (m.contains("suppressed")) suppressed += std::stoull(m["suppressed"]);
  }
  // The lines suppressed after the last emitted one are still in the limiter.
  suppressed += limiter.TakeSuppressed();
  EXPECT_EQ(lines.size() + suppressed, kCalls);
}

TEST(LogLimitedTest, SuppressedCountRidesOnTheNextLine) {
  LevelGuard guard(LogLevel::kInfo);
  LogRateLimiter limiter(/*per_second=*/1, /*burst=*/1);
  LogCapture capture;
  LogLimitedAt(limiter, 10'000, LogLevel::kWarn, "e", {{"n", 1}});
  for (int i = 0; i < 7; ++i) LogLimitedAt(limiter, 10'100, LogLevel::kWarn, "e", {{"n", 2}});
  // Below the level: neither a token nor a suppressed line.
  LogLimitedAt(limiter, 10'200, LogLevel::kDebug, "e", {{"n", 3}});
  LogLimitedAt(limiter, 11'000, LogLevel::kWarn, "e", {{"n", 4}});
  LogLimitedAt(limiter, 12'000, LogLevel::kWarn, "e", {{"n", 5}});
  auto lines = Lines(capture.Finish());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("event=e n=1\n"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("event=e suppressed=7 n=4\n"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("event=e n=5\n"), std::string::npos) << lines[2];
}

TEST(LogTest, ConcurrentWritersProduceWholeLines) {
  LevelGuard guard(LogLevel::kInfo);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  const std::string pad(900, 'p');  // long lines make a torn write likelier if writes split
  LogCapture capture;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string_view p(pad.data(), static_cast<size_t>((i * 37) % 900));
        Log(LogLevel::kInfo, "concurrent", {{"thread", t}, {"seq", i}, {"pad", p}});
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string text = capture.Finish();
  auto lines = Lines(text);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const auto& line : lines) {
    auto parsed = ParseLogfmt(line);
    ASSERT_TRUE(parsed.has_value()) << line;
    auto m = AsMap(*parsed);
    ASSERT_EQ(m["event"], "concurrent");
    const int t = std::stoi(m["thread"]);
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    // Each writer's lines arrive whole and in its own order.
    EXPECT_EQ(std::stoi(m["seq"]), next[static_cast<size_t>(t)]++);
    EXPECT_EQ(m["pad"].size(), static_cast<size_t>((std::stoi(m["seq"]) * 37) % 900));
  }
  EXPECT_EQ(LogLinesLost(), 0u);
}

}  // namespace
}  // namespace sipring::engine

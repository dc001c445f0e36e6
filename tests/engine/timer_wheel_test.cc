#include "engine/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace sipring::engine {
namespace {

struct Fired {
  static std::vector<std::pair<uint64_t, uint64_t>>* log;  // (id, now at fire)
  static TimerWheel* wheel;
  static void Cb(Timer* t) { log->push_back({t->context, wheel->now()}); }
};
std::vector<std::pair<uint64_t, uint64_t>>* Fired::log = nullptr;
TimerWheel* Fired::wheel = nullptr;

class TimerWheelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Fired::log = &log_;
    Fired::wheel = &wheel_;
  }
  Timer Make(uint64_t id) {
    Timer t;
    t.on_expire = &Fired::Cb;
    t.context = id;
    return t;
  }
  TimerWheel wheel_{1000};
  std::vector<std::pair<uint64_t, uint64_t>> log_;
};

TEST_F(TimerWheelTest, FiresInDeadlineOrderAndNeverEarly) {
  std::vector<Timer> timers;
  const uint64_t deadlines[] = {1500, 1001, 5000, 1064, 1065, 1000 + 4096, 1000 + 32000, 1002};
  timers.reserve(8);
  for (uint64_t i = 0; i < 8; ++i) timers.push_back(Make(i));
  for (uint64_t i = 0; i < 8; ++i) wheel_.Schedule(&timers[i], deadlines[i]);
  EXPECT_EQ(wheel_.size(), 8u);
  wheel_.Advance(1000 + 40000);
  ASSERT_EQ(log_.size(), 8u);
  for (size_t i = 0; i < log_.size(); ++i) {
    EXPECT_EQ(log_[i].second, deadlines[log_[i].first]) << "timer " << log_[i].first;
    if (i) {
      EXPECT_LE(log_[i - 1].second, log_[i].second);
    }
  }
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TimerWheelTest, CancelPreventsExpiry) {
  Timer a = Make(1), b = Make(2);
  wheel_.Schedule(&a, 1100);
  wheel_.Schedule(&b, 1100);
  wheel_.Cancel(&a);
  wheel_.Cancel(&a);  // idempotent
  EXPECT_FALSE(a.armed());
  wheel_.Advance(1200);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0].first, 2u);
}

TEST_F(TimerWheelTest, RescheduleMovesTheDeadline) {
  Timer a = Make(1);
  wheel_.Schedule(&a, 1100);
  wheel_.Schedule(&a, 3000);
  wheel_.Advance(2000);
  EXPECT_TRUE(log_.empty());
  wheel_.Advance(3000);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0].second, 3000u);
}

TEST_F(TimerWheelTest, PastDeadlineFiresAtNextTick) {
  Timer a = Make(1);
  wheel_.Schedule(&a, 10);
  wheel_.Advance(1001);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0].second, 1001u);
}

TEST_F(TimerWheelTest, MsUntilNextNeverOversleeps) {
  Timer a = Make(1);
  EXPECT_EQ(wheel_.MsUntilNext(100), 100);
  wheel_.Schedule(&a, 1007);
  EXPECT_EQ(wheel_.MsUntilNext(100), 7);
  wheel_.Schedule(&a, 1000 + 5000);
  int64_t d = wheel_.MsUntilNext(100000);
  EXPECT_GT(d, 0);
  EXPECT_LE(d, 5000);
}

// Tens of thousands of timers with random deadlines up to 64 s, a third cancelled: every
// survivor fires exactly once, exactly at its deadline.
TEST_F(TimerWheelTest, ManyRandomTimersAgainstReference) {
  constexpr int kN = 50000;
  std::mt19937_64 rng(42);
  std::vector<Timer> timers(kN);
  std::vector<uint64_t> deadline(kN);
  std::vector<bool> cancelled(kN, false);
  for (int i = 0; i < kN; ++i) {
    timers[i] = Make(i);
    deadline[i] = 1000 + 1 + rng() % 64000;
    wheel_.Schedule(&timers[i], deadline[i]);
  }
  for (int i = 0; i < kN; i += 3) {
    wheel_.Cancel(&timers[i]);
    cancelled[i] = true;
  }
  // Advance in uneven steps, as a loop woken by I/O would.
  uint64_t now = 1000;
  while (now < 1000 + 65000) {
    now += 1 + rng() % 97;
    wheel_.Advance(now);
  }
  std::vector<int> seen(kN, 0);
  for (auto& [id, at] : log_) {
    ++seen[id];
    EXPECT_EQ(at, deadline[id]);
  }
  for (int i = 0; i < kN; ++i) EXPECT_EQ(seen[i], cancelled[i] ? 0 : 1) << i;
}

}  // namespace
}  // namespace sipring::engine

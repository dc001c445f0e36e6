#include "engine/shard.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace sipring::engine {
namespace {

struct Probe {
  std::atomic<int> started{0}, drained{0}, stopped{0};
  std::atomic<int> timer_fired{0};
  std::atomic<bool> idle{false};
};

class TestApp : public ShardApp {
 public:
  TestApp(Probe* p, bool fail) : p_(p), fail_(fail) {}
  absl::Status Start(Shard& shard) override {
    if (fail_) return absl::InternalError("app refused to start");
    EXPECT_TRUE(shard.IsCurrentThread());
    timer_.on_expire = [](Timer* t) { reinterpret_cast<Probe*>(t->context)->timer_fired++; };
    timer_.context = reinterpret_cast<uint64_t>(p_);
    shard.timers().Schedule(&timer_, Shard::NowMs() + 20);
    p_->started++;
    return absl::OkStatus();
  }
  void OnDrain() override { p_->drained++; }
  bool Idle() const override { return p_->idle.load(); }
  void Stop() override { p_->stopped++; }

 private:
  Probe* p_;
  bool fail_;
  Timer timer_;
};

TEST(ShardGroupTest, StartsRunsTimersAndDrainsWhenIdle) {
  Probe p;
  ShardGroup g({.shards = 2}, [&](int) { return std::make_unique<TestApp>(&p, false); });
  ASSERT_TRUE(g.Start().ok());
  EXPECT_EQ(p.started, 2);
  for (int i = 0; i < 100 && p.timer_fired < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(p.timer_fired, 2) << "the ring's wait timeout drives the timer wheel";
  const uint64_t hb = g.shard(0).heartbeat();
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_GT(g.shard(0).heartbeat(), hb) << "an idle loop still turns (watchdog heartbeat)";

  // Drain with a long deadline: the shards wait while the app is busy, end once idle.
  const auto t0 = std::chrono::steady_clock::now();
  g.DrainAll(10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(p.drained, 2);
  EXPECT_EQ(p.stopped, 0) << "still busy: must not stop before the deadline";
  p.idle = true;
  g.Join();
  EXPECT_EQ(p.stopped, 2);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// Queues a NOP every loop turn (its completion is ready at once) and waits as told.
class NopApp : public ShardApp {
 public:
  NopApp(ShardApp::Wait wait, std::atomic<int>* turns) : wait_(wait), turns_(turns) {}
  absl::Status Start(Shard& shard) override {
    shard_ = &shard;
    return absl::OkStatus();
  }
  void OnLoop(uint64_t) override {
    turns_->fetch_add(1);
    io_uring_prep_nop(shard_->ring().GetSqe());  // user_data 0: no handler, dropped
  }
  Wait NextWait() override { return wait_; }

 private:
  Wait wait_;
  std::atomic<int>* turns_;
  Shard* shard_ = nullptr;
};

TEST(ShardGroupTest, AppChoosesHowTheLoopWaits) {
  auto turns_in = [](ShardApp::Wait wait) {
    std::atomic<int> turns{0};
    ShardGroup g({.shards = 1}, [&](int) { return std::make_unique<NopApp>(wait, &turns); });
    EXPECT_TRUE(g.Start().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    g.StopAll();
    g.Join();
    return turns.load();
  };
  // The default wakes for every completion: the loop spins on its own NOPs.
  const int eager = turns_in({});
  // Ticks of 10 ms that one completion does not end: about 20 turns in 200 ms.
  const int ticking = turns_in({.max_us = 10'000, .min_completions = 64});
  EXPECT_GT(eager, 200);
  EXPECT_GE(ticking, 5);
  EXPECT_LE(ticking, 40) << "a single completion must not end a wait for 64";
}

TEST(ShardGroupTest, DrainDeadlineEndsABusyShard) {
  Probe p;
  ShardGroup g({.shards = 1}, [&](int) { return std::make_unique<TestApp>(&p, false); });
  ASSERT_TRUE(g.Start().ok());
  const auto t0 = std::chrono::steady_clock::now();
  g.DrainAll(200);
  g.Join();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(p.stopped, 1);
}

TEST(ShardGroupTest, StopIsImmediate) {
  Probe p;
  ShardGroup g({.shards = 2}, [&](int) { return std::make_unique<TestApp>(&p, false); });
  ASSERT_TRUE(g.Start().ok());
  const auto t0 = std::chrono::steady_clock::now();
  g.StopAll();
  g.Join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  EXPECT_EQ(p.drained, 0);
  EXPECT_EQ(p.stopped, 2);
}

TEST(ShardGroupTest, StartFailureOfOneShardIsReported) {
  Probe p;
  ShardGroup g({.shards = 2}, [&](int i) { return std::make_unique<TestApp>(&p, i == 1); });
  absl::Status st = g.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("shard 1"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("app refused"), absl::string_view::npos) << st;
}

TEST(ShardGroupTest, SigtermDrains) {
  Probe p;
  p.idle = true;
  ShardGroup g({.shards = 1}, [&](int) { return std::make_unique<TestApp>(&p, false); });
  ASSERT_TRUE(g.Start().ok());
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill(getpid(), SIGTERM);
  });
  EXPECT_EQ(g.WaitForSignal(5000), SIGTERM);
  g.Shutdown(SIGTERM, 1000);
  killer.join();
  EXPECT_EQ(p.drained, 1);
  EXPECT_EQ(p.stopped, 1);
}

}  // namespace
}  // namespace sipring::engine

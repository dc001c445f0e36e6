#include "engine/spsc_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace sipring::engine {
namespace {

TEST(SpscQueueTest, FullIsAnAnswerNotABlock) {
  SpscQueue<int> q(4);
  EXPECT_EQ(q.capacity(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(q.TryPush(i));
  EXPECT_FALSE(q.TryPush(99));
  EXPECT_EQ(q.SizeApprox(), 4u);
  EXPECT_EQ(*q.TryPop(), 0);
  EXPECT_TRUE(q.TryPush(4));
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(*q.TryPop(), i);
  EXPECT_FALSE(q.TryPop().has_value());
}

TEST(SpscQueueTest, MoveOnlyPayload) {
  SpscQueue<std::unique_ptr<int>> q(2);
  EXPECT_TRUE(q.TryPush(std::make_unique<int>(7)));
  auto v = q.TryPop();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(**v, 7);
}

TEST(SpscQueueTest, TwoThreadsKeepOrderAndLoseNothing) {
  constexpr uint64_t kN = 1'000'000;
  SpscQueue<uint64_t> q(1024);
  uint64_t full = 0;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kN;) {
      if (q.TryPush(i)) {
        ++i;
      } else {
        ++full;
        std::this_thread::yield();
      }
    }
  });
  uint64_t expect = 0;
  while (expect < kN) {
    if (auto v = q.TryPop()) {
      ASSERT_EQ(*v, expect);
      ++expect;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_FALSE(q.TryPop().has_value());
}

}  // namespace
}  // namespace sipring::engine

#include "engine/buffer_pool.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

namespace sipring::engine {
namespace {

class BufferPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = Ring::Create({.sq_entries = 64});
    if (!ring.ok()) GTEST_SKIP() << ring.status();
    ring_ = std::move(*ring);
  }
  std::unique_ptr<BufferPool> Make(BufferPoolOptions o) {
    auto pool = BufferPool::Create(*ring_, o);
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }
  std::unique_ptr<Ring> ring_;
};

TEST_F(BufferPoolTest, LayoutAndInitialState) {
  auto pool = Make({.buffer_size = 512, .rx_main = 16, .rx_reserve = 4, .tx = 3, .tx_reserve = 2});
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->total_slots(), 25u);
  EXPECT_EQ(pool->free_main(), 16u);
  EXPECT_EQ(pool->free_reserve(), 4u);
  EXPECT_EQ(pool->free_tx(), 3u);
  EXPECT_EQ(pool->free_tx_reserve(), 2u);
  EXPECT_EQ(pool->ClassOf(0), SlotClass::kRxMain);
  EXPECT_EQ(pool->ClassOf(16), SlotClass::kRxReserve);
  EXPECT_EQ(pool->ClassOf(20), SlotClass::kTx);
  EXPECT_EQ(pool->ClassOf(23), SlotClass::kTxReserve);
  EXPECT_EQ(pool->StateOf(0), SlotState::kInRing);
  EXPECT_EQ(pool->StateOf(20), SlotState::kFree);
  EXPECT_EQ(pool->Data(1) - pool->Data(0), 512);
}

TEST_F(BufferPoolTest, TxExhaustionAndRecovery) {
  auto pool = Make({.buffer_size = 512, .rx_main = 8, .rx_reserve = 0, .tx = 2, .tx_reserve = 1});
  ASSERT_TRUE(pool);
  auto a = pool->Take(), b = pool->Take();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(pool->Take().has_value()) << "tx exhausted";
  EXPECT_EQ(pool->counters().take_failures.Get(), 1u);
  pool->Unref(*a);
  auto c = pool->Take();
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, *a) << "LIFO: the slot just freed comes back first";
  pool->Unref(*b);
  pool->Unref(*c);
  EXPECT_EQ(pool->free_tx(), 2u);
}

TEST_F(BufferPoolTest, ReserveIsOnlyForReplies) {
  auto pool = Make({.buffer_size = 512, .rx_main = 8, .rx_reserve = 0, .tx = 1, .tx_reserve = 2});
  ASSERT_TRUE(pool);
  auto t = pool->Take();
  ASSERT_TRUE(t);
  EXPECT_FALSE(pool->Take()) << "Take() never dips into the reply reserve";
  auto r1 = pool->TakeReply(), r2 = pool->TakeReply();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(pool->ClassOf(*r1), SlotClass::kTxReserve);
  EXPECT_FALSE(pool->TakeReply()) << "reserve and tx both empty";
  pool->Unref(*r1);
  EXPECT_EQ(pool->free_tx_reserve(), 1u) << "a reserve slot goes home to the reserve";
  pool->Unref(*r2);
  pool->Unref(*t);
}

TEST_F(BufferPoolTest, SlotRecycledOnLastCompletionOnly) {
  auto pool = Make({.buffer_size = 512, .rx_main = 8, .rx_reserve = 0, .tx = 0, .tx_reserve = 0});
  ASSERT_TRUE(pool);
  // What the kernel does on a receive CQE, then: two sends from the slot, the app lets go.
  pool->OnReceived(3);
  EXPECT_EQ(pool->StateOf(3), SlotState::kApp);
  EXPECT_EQ(pool->free_main(), 7u);
  pool->BeginSend(3);
  pool->BeginSend(3);
  EXPECT_EQ(pool->StateOf(3), SlotState::kTxInFlight);
  pool->Unref(3);
  pool->EndSend(3);
  EXPECT_EQ(pool->StateOf(3), SlotState::kTxInFlight) << "one send still in flight";
  pool->EndSend(3);
  EXPECT_EQ(pool->StateOf(3), SlotState::kInRing);
  EXPECT_EQ(pool->free_main(), 7u) << "published only at Flush";
  pool->Flush();
  EXPECT_EQ(pool->free_main(), 8u);
}

TEST_F(BufferPoolTest, WatermarkHysteresis) {
  auto pool = Make({.buffer_size = 512, .rx_main = 16, .rx_reserve = 0, .tx = 0, .tx_reserve = 0,
                    .low_watermark = 0.25, .high_watermark = 0.5});
  ASSERT_TRUE(pool);
  for (uint16_t b = 0; b < 12; ++b) pool->OnReceived(b);  // 4 free = low mark: not below yet
  EXPECT_FALSE(pool->Overloaded());
  pool->OnReceived(12);  // 3 free < 4
  EXPECT_TRUE(pool->Overloaded());
  EXPECT_EQ(pool->counters().lowest_free_main.Get(), 3u);
  for (uint16_t b = 0; b < 5; ++b) pool->Unref(b);
  pool->Flush();  // 8 free = high mark: still overloaded (must exceed it)
  EXPECT_TRUE(pool->Overloaded());
  pool->Unref(5);
  pool->Flush();
  EXPECT_FALSE(pool->Overloaded());
  EXPECT_EQ(pool->counters().overload_entries.Get(), 1u);
  for (uint16_t b = 6; b < 13; ++b) pool->Unref(b);
}

TEST_F(BufferPoolTest, RejectsImpossibleOptions) {
  EXPECT_FALSE(BufferPool::Create(*ring_, {.rx_main = 1000}).ok()) << "not a power of two";
  EXPECT_FALSE(BufferPool::Create(*ring_, {.buffer_size = 100}).ok());
  EXPECT_FALSE(BufferPool::Create(*ring_, {.rx_main = 32768, .rx_reserve = 32768, .tx = 10}).ok());
  EXPECT_FALSE(BufferPool::Create(*ring_, {.low_watermark = 0.6, .high_watermark = 0.5}).ok());
}

TEST_F(BufferPoolTest, FixedRegistration) {
  auto pool = Make({.buffer_size = 2048, .rx_main = 64, .register_fixed = true});
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->fixed_index(), 0);
}

// Without CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK, registering the slab fails with an error
// that names the limit. Run in a child: the limit and capabilities are process-wide.
TEST(BufferPoolMemlockTest, RefusedRegistrationNamesTheLimit) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    syscall(SYS_capget, &hdr, data);
    data[0].effective &= ~(1u << CAP_IPC_LOCK);
    syscall(SYS_capset, &hdr, data);
    rlimit rl{64 * 1024, 64 * 1024};
    setrlimit(RLIMIT_MEMLOCK, &rl);
    auto ring = Ring::Create({.sq_entries = 8});
    if (!ring.ok()) _exit(3);
    auto pool = BufferPool::Create(**ring, {.buffer_size = 2048, .rx_main = 4096,
                                            .register_fixed = true});
    if (pool.ok()) _exit(1);
    const bool named = pool.status().message().find("RLIMIT_MEMLOCK") != absl::string_view::npos;
    _exit(named ? 0 : 2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "no io_uring in the child";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: registration unexpectedly succeeded, 2: message "
                                       "does not name RLIMIT_MEMLOCK";
}

}  // namespace
}  // namespace sipring::engine

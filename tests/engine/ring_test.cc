#include "engine/ring.h"
#include "engine/op_tag.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

namespace sipring::engine {
namespace {

TEST(RingTest, CreatesWithDeferTaskrunOnThisKernel) {
  auto ring = Ring::Create({.sq_entries = 64});
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_TRUE((*ring)->features().single_issuer);
  EXPECT_TRUE((*ring)->features().defer_taskrun) << "6.1+ kernels have DEFER_TASKRUN";
  EXPECT_FALSE((*ring)->CqOverflowed());
}

TEST(RingTest, NopsRoundTripWithTags) {
  auto ring = Ring::Create({.sq_entries = 8});
  ASSERT_TRUE(ring.ok()) << ring.status();
  // More than the SQ holds: GetSqe must submit to make room rather than fail.
  for (uint64_t i = 1; i <= 20; ++i) {
    io_uring_sqe* sqe = (*ring)->GetSqe();
    io_uring_prep_nop(sqe);
    sqe->user_data = i;
  }
  uint64_t sum = 0;
  int seen = 0;
  for (int tries = 0; tries < 10 && seen < 20; ++tries) {
    (*ring)->SubmitAndWait(100);
    seen += (*ring)->ForEachCompletion([&](const io_uring_cqe& c) { sum += c.user_data; });
  }
  EXPECT_EQ(seen, 20);
  EXPECT_EQ(sum, 20u * 21 / 2);
}

// The missing-feature start-up path: a probe that lacks an opcode the engine needs stops
// start-up with a message naming the opcode and the kernel version that has it.
TEST(RingTest, MissingOpcodeIsAClearStartupError) {
  const size_t n = 256;
  auto* probe = static_cast<io_uring_probe*>(std::calloc(1, sizeof(io_uring_probe) + n * sizeof(io_uring_probe_op)));
  probe->last_op = IORING_OP_LAST - 1;
  for (int op = 0; op < IORING_OP_LAST; ++op) probe->ops[op].flags = IO_URING_OP_SUPPORTED;
  EXPECT_TRUE(CheckProbe(probe, RequiredOpcodes()).ok());
  probe->ops[IORING_OP_MSG_RING].flags = 0;
  absl::Status st = CheckProbe(probe, RequiredOpcodes());
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("IORING_OP_MSG_RING"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("5.18"), absl::string_view::npos) << st;
  std::free(probe);
  EXPECT_FALSE(CheckProbe(nullptr, RequiredOpcodes()).ok());
}

TEST(OpTagTest, PacksAndUnpacks) {
  OpTag t{200, 7, 65535, 0xdeadbeef};
  OpTag u = OpTag::Unpack(t.Pack());
  EXPECT_EQ(u.handler, 200);
  EXPECT_EQ(u.op, 7);
  EXPECT_EQ(u.generation, 65535);
  EXPECT_EQ(u.index, 0xdeadbeefu);
}

}  // namespace
}  // namespace sipring::engine

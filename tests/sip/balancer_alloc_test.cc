// Proves Balancer::Pick and PickByKey allocate nothing: this binary replaces the global
// operator new (as parser_alloc_test.cc does) and counts calls while picking under every
// algorithm, with weights equal and unequal, and with changing eligibility.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sip/balancer.h"
#include "tests/testing/alloc_counter.h"


namespace sipring::sip {
namespace {

TEST(BalancerAllocTest, PicksAllocateNothing) {
  const long at_start = sipring::testing::AllocationCount();
  std::vector<BackendSpec> specs;
  for (int i = 0; i < 40; ++i) {
    specs.push_back({.name = "be" + std::to_string(i), .group = i % 2 ? "odd" : "even",
                     .weight = static_cast<uint32_t>(1 + i % 3),
                     .priority = static_cast<uint32_t>(i % 4)});
  }
  specs.push_back({.name = "solo", .group = "equal"});
  specs.push_back({.name = "duo", .group = "equal"});
  ASSERT_GT(sipring::testing::AllocationCount(), at_start) << "the counting operator new is not in use";
  std::vector<uint8_t> eligible(specs.size(), 1);
  for (LbAlgorithm algorithm : {LbAlgorithm::kRoundRobin, LbAlgorithm::kWeighted,
                                LbAlgorithm::kHashCallId, LbAlgorithm::kPriority}) {
    absl::StatusOr<Balancer> created = Balancer::Create(specs, algorithm);
    ASSERT_TRUE(created.ok()) << created.status();
    Balancer& lb = *created;
    const long before = sipring::testing::AllocationCount();
    long picked = 0;
    for (int i = 0; i < 20000; ++i) {
      eligible[i % eligible.size()] = (i / 7) % 3 != 0;
      const uint64_t key = CallIdHash(std::string_view("a84b4c76e66710@pc33.example.com"));
      const int group = i % lb.group_count();
      picked += lb.Pick(group, key + i, eligible) != kNoBackend;
      picked += lb.PickByKey(group, key ^ i, eligible) != kNoBackend;
      picked += lb.FindByTag(lb.Tag(i % lb.size())) != kNoBackend;
    }
    EXPECT_EQ(sipring::testing::AllocationCount(), before) << LbAlgorithmName(algorithm);
    EXPECT_GT(picked, 40000);
  }
}

}  // namespace
}  // namespace sipring::sip

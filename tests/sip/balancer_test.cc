// Tests sip/balancer.h: the spread each algorithm gives (exact sequences for the round-robins,
// measured shares over random Call-IDs for the hash), eligibility and failover, hash stickiness
// and minimal disruption when a backend is added or removed, tags, groups and validation.
#include "sip/balancer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sipring::sip {
namespace {

constexpr LbAlgorithm kAllAlgorithms[] = {LbAlgorithm::kRoundRobin, LbAlgorithm::kWeighted,
                                          LbAlgorithm::kHashCallId, LbAlgorithm::kPriority};

BackendSpec Spec(std::string name, uint32_t weight = 1, uint32_t priority = 0,
                 std::string group = "default") {
  return BackendSpec{.name = std::move(name), .group = std::move(group), .weight = weight,
                     .priority = priority};
}

Balancer Make(std::vector<BackendSpec> specs, LbAlgorithm algorithm) {
  absl::StatusOr<Balancer> b = Balancer::Create(std::move(specs), algorithm);
  EXPECT_TRUE(b.ok()) << b.status();
  return *std::move(b);
}

std::vector<uint8_t> AllUp(const Balancer& b) { return std::vector<uint8_t>(b.size(), 1); }

// Random Call-IDs shaped like real ones (hex + "@host"), from a fixed seed so runs agree.
std::vector<uint64_t> RandomKeys(size_t count, uint64_t seed = 42) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> keys;
  keys.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    keys.push_back(CallIdHash(absl::StrCat(absl::Hex(rng()), "@pc", rng() % 1000, ".example.com")));
  }
  return keys;
}

// Counts picks per backend name over `keys`.
std::map<std::string, int> HashCounts(const Balancer& b, const std::vector<uint64_t>& keys) {
  const std::vector<uint8_t> up = AllUp(b);
  std::map<std::string, int> counts;
  for (uint64_t k : keys) ++counts[b.backend(b.PickByKey(0, k, up)).name];
  return counts;
}

// ---- round-robin ----

TEST(BalancerTest, RoundRobinAlternatesExactlyAndIgnoresWeights) {
  Balancer b = Make({Spec("a", 5), Spec("b", 1), Spec("c", 2)}, LbAlgorithm::kRoundRobin);
  const std::vector<uint8_t> up = AllUp(b);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(b.Pick(0, 0, up), i % 3) << "pick " << i;
}

TEST(BalancerTest, RoundRobinSkipsIneligibleWithoutSkew) {
  Balancer b = Make({Spec("a"), Spec("b"), Spec("c")}, LbAlgorithm::kRoundRobin);
  std::vector<uint8_t> up = AllUp(b);
  up[1] = 0;
  // With b out, a and c alternate strictly: neither gets b's turn twice in a row.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(b.Pick(0, 0, up), i % 2 == 0 ? 0 : 2) << "pick " << i;
  up[1] = 1;
  for (int i = 0; i < 9; ++i) EXPECT_EQ(b.Pick(0, 0, up), i % 3) << "after b returns, pick " << i;
}

// ---- smooth weighted round-robin ----

TEST(BalancerTest, WeightedThreeToOneExactAndSmooth) {
  Balancer b = Make({Spec("a", 3), Spec("b", 1)}, LbAlgorithm::kWeighted);
  const std::vector<uint8_t> up = AllUp(b);
  std::vector<int> picks;
  for (int i = 0; i < 400; ++i) picks.push_back(b.Pick(0, 0, up));
  EXPECT_EQ(std::count(picks.begin(), picks.end(), 0), 300);
  EXPECT_EQ(std::count(picks.begin(), picks.end(), 1), 100);
  // Smooth: every window of 4 consecutive picks holds exactly one b (never "a a a b b ...").
  for (size_t i = 0; i + 4 <= picks.size(); ++i) {
    EXPECT_EQ(std::count(picks.begin() + i, picks.begin() + i + 4, 1), 1) << "window at " << i;
  }
}

TEST(BalancerTest, WeightedSharesWithinOnePickOnEveryPrefix) {
  // Up to three backends, nginx's smooth WRR stays within one pick of the ideal share after
  // every pick (with more backends it can stray a little further mid-cycle; the next test
  // covers the exact shares at the cycle ends).
  const std::vector<std::vector<uint32_t>> weight_sets = {
      {3, 1}, {1, 1}, {7, 3}, {5, 1, 1}, {4, 2, 1}, {2, 3, 5}, {13, 1, 6}};
  for (const auto& weights : weight_sets) {
    std::vector<BackendSpec> specs;
    uint32_t total = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      specs.push_back(Spec(absl::StrCat("be", i), weights[i]));
      total += weights[i];
    }
    Balancer b = Make(specs, LbAlgorithm::kWeighted);
    const std::vector<uint8_t> up = AllUp(b);
    std::vector<int> counts(weights.size(), 0);
    for (uint32_t n = 1; n <= 3 * total; ++n) {
      ++counts[b.Pick(0, 0, up)];
      for (size_t i = 0; i < weights.size(); ++i) {
        const double ideal = static_cast<double>(n) * weights[i] / total;
        EXPECT_LE(std::abs(counts[i] - ideal), 1.0)
            << "weights set #" << (&weights - weight_sets.data()) << " backend " << i
            << " after " << n << " picks";
      }
    }
  }
}

TEST(BalancerTest, WeightedExactAtEveryCycleEnd) {
  const std::vector<uint32_t> weights = {97, 3, 2, 25, 1, 36, 5};
  std::vector<BackendSpec> specs;
  uint32_t total = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    specs.push_back(Spec(absl::StrCat("be", i), weights[i]));
    total += weights[i];
  }
  Balancer b = Make(specs, LbAlgorithm::kWeighted);
  const std::vector<uint8_t> up = AllUp(b);
  std::vector<uint32_t> counts(weights.size(), 0);
  for (int cycle = 1; cycle <= 5; ++cycle) {
    for (uint32_t n = 0; n < total; ++n) ++counts[b.Pick(0, 0, up)];
    for (size_t i = 0; i < weights.size(); ++i) EXPECT_EQ(counts[i], cycle * weights[i]);
  }
}

TEST(BalancerTest, WeightedSharesAmongEligibleOnly) {
  Balancer b = Make({Spec("a", 3), Spec("b", 2), Spec("c", 1)}, LbAlgorithm::kWeighted);
  std::vector<uint8_t> up = AllUp(b);
  up[1] = 0;
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 400; ++i) ++counts[b.Pick(0, 0, up)];
  EXPECT_EQ(counts[0], 300);
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[2], 100);
}

// ---- weighted rendezvous hash ----

TEST(BalancerTest, HashSpreadsEqualWeightsEvenly) {
  Balancer b = Make({Spec("a"), Spec("b"), Spec("c"), Spec("d")}, LbAlgorithm::kHashCallId);
  const std::vector<uint64_t> keys = RandomKeys(100000);
  const std::map<std::string, int> counts = HashCounts(b, keys);
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [name, count] : counts) {
    EXPECT_NEAR(count, 25000, 0.02 * 25000) << name;
  }
}

TEST(BalancerTest, HashFollowsWeights) {
  {
    Balancer b = Make({Spec("a", 3), Spec("b", 1)}, LbAlgorithm::kHashCallId);
    const std::map<std::string, int> counts = HashCounts(b, RandomKeys(100000));
    EXPECT_NEAR(counts.at("a"), 75000, 0.02 * 75000);
    EXPECT_NEAR(counts.at("b"), 25000, 0.02 * 25000);
  }
  {
    Balancer b = Make({Spec("a", 5), Spec("b", 3), Spec("c", 2)}, LbAlgorithm::kHashCallId);
    const std::map<std::string, int> counts = HashCounts(b, RandomKeys(100000, 7));
    EXPECT_NEAR(counts.at("a"), 50000, 0.02 * 50000);
    EXPECT_NEAR(counts.at("b"), 30000, 0.02 * 30000);
    EXPECT_NEAR(counts.at("c"), 20000, 0.02 * 20000);
  }
}

TEST(BalancerTest, HashIsStickyAcrossPicksCopiesAndRebuilds) {
  const std::vector<BackendSpec> specs = {Spec("a", 2), Spec("b"), Spec("c"), Spec("d", 3)};
  Balancer b = Make(specs, LbAlgorithm::kHashCallId);
  Balancer rebuilt = Make(specs, LbAlgorithm::kHashCallId);
  const std::vector<uint8_t> up = AllUp(b);
  std::set<int> seen;
  for (uint64_t key : RandomKeys(200)) {
    const int first = b.Pick(0, key, up);
    ASSERT_NE(first, kNoBackend);
    seen.insert(first);
    Balancer copy = b;
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(b.Pick(0, key, up), first);
      EXPECT_EQ(copy.Pick(0, key, up), first);
    }
    EXPECT_EQ(rebuilt.Pick(0, key, up), first);
  }
  EXPECT_EQ(seen.size(), 4u) << "200 keys should reach every backend";
}

TEST(BalancerTest, HashPickEqualsPickByKeyWhateverTheAlgorithm) {
  const std::vector<BackendSpec> specs = {Spec("a", 2), Spec("b"), Spec("c"), Spec("d", 3),
                                          Spec("e")};
  Balancer hash = Make(specs, LbAlgorithm::kHashCallId);
  Balancer rr = Make(specs, LbAlgorithm::kRoundRobin);
  std::mt19937 rng(3);
  std::vector<uint8_t> eligible(specs.size());
  for (uint64_t key : RandomKeys(10000)) {
    for (uint8_t& e : eligible) e = rng() % 4 != 0;
    const int by_key = hash.PickByKey(0, key, eligible);
    EXPECT_EQ(hash.Pick(0, key, eligible), by_key);
    EXPECT_EQ(rr.PickByKey(0, key, eligible), by_key);
  }
}

// Maps each key to the name of its backend.
std::vector<std::string> Assign(const Balancer& b, const std::vector<uint64_t>& keys,
                                const std::vector<uint8_t>& eligible) {
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (uint64_t k : keys) {
    const int be = b.PickByKey(0, k, eligible);
    names.push_back(be == kNoBackend ? "" : b.backend(be).name);
  }
  return names;
}

TEST(BalancerTest, HashRemovingABackendMovesOnlyItsKeys) {
  for (bool weighted : {false, true}) {
    SCOPED_TRACE(weighted ? "weights 3,1,2,1" : "equal weights");
    const uint32_t wc = weighted ? 2 : 1;
    Balancer four = Make({Spec("a", weighted ? 3 : 1), Spec("b"), Spec("c", wc), Spec("d")},
                         LbAlgorithm::kHashCallId);
    Balancer three = Make({Spec("a", weighted ? 3 : 1), Spec("b"), Spec("d")},
                          LbAlgorithm::kHashCallId);
    const std::vector<uint64_t> keys = RandomKeys(20000);
    const std::vector<std::string> before = Assign(four, keys, AllUp(four));
    const std::vector<std::string> after = Assign(three, keys, AllUp(three));
    // Marking c ineligible must give the same answer as removing it from the configuration.
    std::vector<uint8_t> c_down = AllUp(four);
    c_down[2] = 0;
    const std::vector<std::string> c_ineligible = Assign(four, keys, c_down);
    int moved = 0, on_c = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ(after[i], c_ineligible[i]);
      if (before[i] == "c") {
        ++on_c;
        EXPECT_NE(after[i], "c");
      } else {
        EXPECT_EQ(after[i], before[i]) << "key " << i << " moved off a surviving backend";
      }
      moved += after[i] != before[i];
    }
    EXPECT_EQ(moved, on_c);
    EXPECT_GT(on_c, 0);
  }
}

TEST(BalancerTest, HashAddingABackendMovesAboutAFifthToItOnly) {
  Balancer four = Make({Spec("a"), Spec("b"), Spec("c"), Spec("d")}, LbAlgorithm::kHashCallId);
  Balancer five = Make({Spec("a"), Spec("b"), Spec("c"), Spec("d"), Spec("e")},
                       LbAlgorithm::kHashCallId);
  const std::vector<uint64_t> keys = RandomKeys(50000);
  const std::vector<std::string> before = Assign(four, keys, AllUp(four));
  const std::vector<std::string> after = Assign(five, keys, AllUp(five));
  int moved = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (after[i] == before[i]) continue;
    ++moved;
    EXPECT_EQ(after[i], "e") << "key " << i << " moved between old backends";
  }
  EXPECT_NEAR(static_cast<double>(moved) / keys.size(), 0.2, 0.01);
}

TEST(BalancerTest, HashDependsOnNamesNotConfigOrder) {
  Balancer forward = Make({Spec("a", 2), Spec("b"), Spec("c"), Spec("d", 4)},
                          LbAlgorithm::kHashCallId);
  Balancer reversed = Make({Spec("d", 4), Spec("c"), Spec("b"), Spec("a", 2)},
                           LbAlgorithm::kHashCallId);
  const std::vector<uint64_t> keys = RandomKeys(5000);
  EXPECT_EQ(Assign(forward, keys, AllUp(forward)), Assign(reversed, keys, AllUp(reversed)));
}

// ---- priority ----

TEST(BalancerTest, PriorityFailsOverToNextTierAndBack) {
  // Tier 0: a (weight 2), b. Tier 1: c, d. Tier 5: e.
  Balancer b = Make({Spec("c", 1, 1), Spec("a", 2, 0), Spec("e", 1, 5), Spec("d", 1, 1),
                     Spec("b", 1, 0)},
                    LbAlgorithm::kPriority);
  constexpr int kC = 0, kA = 1, kE = 2, kD = 3, kB = 4;
  std::vector<uint8_t> up = AllUp(b);
  auto counts = [&](int picks) {
    std::vector<int> c(b.size(), 0);
    for (int i = 0; i < picks; ++i) {
      const int be = b.Pick(0, 0, up);
      if (be == kNoBackend) return std::vector<int>();
      ++c[be];
    }
    return c;
  };
  EXPECT_EQ(counts(300), (std::vector<int>{0, 200, 0, 0, 100}));  // tier 0, 2:1
  up[kA] = 0;
  EXPECT_EQ(counts(300), (std::vector<int>{0, 0, 0, 0, 300}));  // what is left of tier 0
  up[kB] = 0;
  EXPECT_EQ(counts(300), (std::vector<int>{150, 0, 0, 150, 0}));  // tier 1 takes over
  up[kC] = 0;
  up[kD] = 0;
  EXPECT_EQ(counts(10), (std::vector<int>{0, 0, 10, 0, 0}));  // last resort
  up[kE] = 0;
  EXPECT_EQ(b.Pick(0, 0, up), kNoBackend);
  up[kD] = 1;
  EXPECT_EQ(counts(10), (std::vector<int>{0, 0, 0, 10, 0}));
  up[kA] = 1;
  EXPECT_EQ(counts(10), (std::vector<int>{0, 10, 0, 0, 0}));  // back to tier 0 at once
  up[kB] = 1;
  up[kC] = 1;
  up[kE] = 1;
  const std::vector<int> all = counts(300);
  ASSERT_FALSE(all.empty());
  EXPECT_NEAR(all[kA], 200, 1);  // the smooth-WRR state carried over; within a pick of 2:1
  EXPECT_NEAR(all[kB], 100, 1);
  EXPECT_EQ(all[kC] + all[kD] + all[kE], 0);
}

// ---- eligibility, groups ----

TEST(BalancerTest, NeverChoosesIneligibleAndNoBackendOnlyWhenNoneIs) {
  for (LbAlgorithm algorithm : kAllAlgorithms) {
    SCOPED_TRACE(LbAlgorithmName(algorithm));
    Balancer b = Make({Spec("a", 3, 0), Spec("b", 1, 1), Spec("c", 2, 0), Spec("d", 1, 2),
                       Spec("e", 5, 1), Spec("f", 1, 0)},
                      algorithm);
    std::mt19937 rng(11);
    std::vector<uint8_t> eligible(b.size());
    int none = 0;
    for (uint64_t key : RandomKeys(5000)) {
      for (uint8_t& e : eligible) e = rng() % 3 == 0;
      const bool any = std::count(eligible.begin(), eligible.end(), 1) > 0;
      const int be = b.Pick(0, key, eligible);
      if (!any) {
        EXPECT_EQ(be, kNoBackend);
        ++none;
        continue;
      }
      ASSERT_NE(be, kNoBackend);
      EXPECT_EQ(eligible[be], 1);
      if (algorithm == LbAlgorithm::kPriority) {
        for (int i = 0; i < b.size(); ++i) {
          if (eligible[i] != 0) {
            EXPECT_LE(b.backend(be).priority, b.backend(i).priority);
          }
        }
      }
    }
    EXPECT_GT(none, 0) << "the random masks should include empty ones";
    const std::vector<uint8_t> down(b.size(), 0);
    EXPECT_EQ(b.Pick(0, 1, down), kNoBackend);
    EXPECT_EQ(b.PickByKey(0, 1, down), kNoBackend);
    EXPECT_EQ(b.Pick(1, 1, AllUp(b)), kNoBackend) << "no such group";
    EXPECT_EQ(b.Pick(kNoBackend, 1, AllUp(b)), kNoBackend);
  }
}

TEST(BalancerTest, GroupsAreIsolated) {
  for (LbAlgorithm algorithm : kAllAlgorithms) {
    SCOPED_TRACE(LbAlgorithmName(algorithm));
    Balancer b = Make({Spec("a1", 1, 0, "a"), Spec("b1", 9, 0, "b"), Spec("a2", 2, 1, "a"),
                       Spec("d1", 1, 0, ""), Spec("b2", 1, 0, "b"), Spec("a3", 1, 0, "a")},
                      algorithm);
    ASSERT_EQ(b.group_count(), 3);
    const int a = b.GroupIndex("a");
    const int gb = b.GroupIndex("b");
    EXPECT_EQ(a, 0);
    EXPECT_EQ(gb, 1);
    EXPECT_EQ(b.GroupIndex(kDefaultGroup), 2) << "an empty group means the default one";
    EXPECT_EQ(b.GroupIndex("nope"), kNoBackend);
    EXPECT_EQ(b.group_name(gb), "b");
    const std::span<const uint16_t> a_members = b.GroupMembers(a);
    EXPECT_EQ(std::vector<uint16_t>(a_members.begin(), a_members.end()),
              (std::vector<uint16_t>{0, 2, 5}));
    std::vector<uint8_t> up = AllUp(b);
    std::set<std::string> seen_a;
    for (uint64_t key : RandomKeys(2000)) {
      const int pa = b.Pick(a, key, up);
      ASSERT_NE(pa, kNoBackend);
      EXPECT_EQ(b.backend(pa).group, "a");
      seen_a.insert(b.backend(pa).name);
      const int pb = b.Pick(gb, key, up);
      ASSERT_NE(pb, kNoBackend);
      EXPECT_EQ(b.backend(pb).group, "b");
      EXPECT_EQ(b.backend(b.PickByKey(a, key, up)).group, "a");
    }
    EXPECT_EQ(seen_a.size(), algorithm == LbAlgorithm::kPriority ? 2u : 3u);
    // All of group a down: group a has nothing, even though b and default are up.
    up[0] = up[2] = up[5] = 0;
    EXPECT_EQ(b.Pick(a, 5, up), kNoBackend);
    EXPECT_EQ(b.PickByKey(a, 5, up), kNoBackend);
    EXPECT_NE(b.Pick(gb, 5, up), kNoBackend);
  }
}

TEST(BalancerTest, CopiesKeepTheirOwnCursors) {
  Balancer shard0 = Make({Spec("a"), Spec("b"), Spec("c")}, LbAlgorithm::kRoundRobin);
  const std::vector<uint8_t> up = AllUp(shard0);
  EXPECT_EQ(shard0.Pick(0, 0, up), 0);
  Balancer shard1 = shard0;
  EXPECT_EQ(shard0.Pick(0, 0, up), 1);
  EXPECT_EQ(shard0.Pick(0, 0, up), 2);
  EXPECT_EQ(shard1.Pick(0, 0, up), 1) << "a copy's cursor moves on its own";
}

// ---- tags ----

TEST(BalancerTest, TagsRoundTripAreDistinctAndFollowNames) {
  std::vector<BackendSpec> specs;
  for (size_t i = 0; i < kMaxBackends; ++i) specs.push_back(Spec(absl::StrCat("pbx", i)));
  Balancer b = Make(specs, LbAlgorithm::kRoundRobin);
  std::reverse(specs.begin(), specs.end());
  Balancer reordered = Make(specs, LbAlgorithm::kWeighted);
  std::set<uint32_t> tags;
  for (int i = 0; i < b.size(); ++i) {
    tags.insert(b.Tag(i));
    EXPECT_EQ(b.FindByTag(b.Tag(i)), i);
    const int j = reordered.FindByTag(b.Tag(i));
    ASSERT_NE(j, kNoBackend);
    EXPECT_EQ(reordered.backend(j).name, b.backend(i).name) << "tag must survive a reorder";
  }
  EXPECT_EQ(tags.size(), kMaxBackends);
  uint32_t unused = 0;
  while (tags.count(unused) != 0) ++unused;
  EXPECT_EQ(b.FindByTag(unused), kNoBackend);
}

// Pinned values: a tag lives on in the Record-Route of dialogs that outlast a restart or an
// upgrade, and every process must hash a Call-ID alike, so these must never change. The values
// come from an independent implementation (FNV-1a 64 + splitmix64 finalizer).
TEST(BalancerTest, HashAndTagValuesArePinned) {
  EXPECT_EQ(CallIdHash("a84b4c76e66710@pc33.atlanta.example.com"), 0xba293426129c83d5ull);
  EXPECT_EQ(CallIdHash(""), 0xf52a15e9a9b5e89bull);
  Balancer b = Make({Spec("pbx1")}, LbAlgorithm::kRoundRobin);
  EXPECT_EQ(b.Tag(0), 0x2fcf42dcu);
}

TEST(BalancerTest, CallIdHashMixesEveryBit) {
  // Call-IDs that differ only in a trailing counter must still set each bit about half the time.
  constexpr int kCount = 10000;
  std::vector<int> ones(64, 0);
  for (int i = 0; i < kCount; ++i) {
    const uint64_t h = CallIdHash(absl::StrCat("call-", i, "@host"));
    for (int bit = 0; bit < 64; ++bit) ones[bit] += (h >> bit) & 1;
  }
  for (int bit = 0; bit < 64; ++bit) EXPECT_NEAR(ones[bit], kCount / 2, 300) << "bit " << bit;
}

// ---- validation ----

TEST(BalancerTest, StatelessChoiceIsAFunctionOfKeyAndKeepsEachAlgorithmsMeaning) {
  const std::vector<uint64_t> keys = RandomKeys(60000, 11);
  auto shares = [&](LbAlgorithm a, const std::vector<BackendSpec>& specs,
                    const std::vector<uint8_t>& up) {
    Balancer b = Make(specs, a);
    const Balancer copy = b;
    std::map<std::string, int> counts;
    for (uint64_t k : keys) {
      const int i = b.PickStateless(0, k, up);
      // Deterministic: the same key, twice, on another copy, gives the same backend.
      EXPECT_EQ(i, copy.PickStateless(0, k, up));
      EXPECT_EQ(i, b.PickStateless(0, k, up));
      if (i != kNoBackend) ++counts[b.backend(i).name];
    }
    return counts;
  };
  const std::vector<BackendSpec> specs = {Spec("a", 3, 0), Spec("b", 1, 0), Spec("c", 4, 1)};
  // round-robin: weights ignored, equal shares over the whole group.
  auto rr = shares(LbAlgorithm::kRoundRobin, specs, {1, 1, 1});
  for (const char* n : {"a", "b", "c"}) EXPECT_NEAR(rr[n], 20000, 0.03 * 20000) << n;
  // weighted: 3:1:4.
  auto w = shares(LbAlgorithm::kWeighted, specs, {1, 1, 1});
  EXPECT_NEAR(w["a"], 22500, 0.03 * 22500);
  EXPECT_NEAR(w["b"], 7500, 0.03 * 7500);
  EXPECT_NEAR(w["c"], 30000, 0.03 * 30000);
  // priority: only tier 0 (a:b = 3:1) while it is up; tier 1 when it is not.
  auto p = shares(LbAlgorithm::kPriority, specs, {1, 1, 1});
  EXPECT_EQ(p.count("c"), 0u);
  EXPECT_NEAR(p["a"], 45000, 0.03 * 45000);
  auto p_down = shares(LbAlgorithm::kPriority, specs, {0, 0, 1});
  EXPECT_EQ(p_down["c"], 60000);
  EXPECT_EQ(shares(LbAlgorithm::kPriority, specs, {0, 0, 0}).size(), 0u);
  // weighted and hash-call-id agree with PickByKey.
  Balancer h = Make(specs, LbAlgorithm::kWeighted);
  const std::vector<uint8_t> up = AllUp(h);
  for (size_t i = 0; i < 1000; ++i) EXPECT_EQ(h.PickStateless(0, keys[i], up), h.PickByKey(0, keys[i], up));
}

TEST(BalancerTest, CreateRejectsBadInput) {
  auto code = [](std::vector<BackendSpec> specs) {
    return Balancer::Create(std::move(specs), LbAlgorithm::kWeighted).status().code();
  };
  EXPECT_EQ(code({}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Spec("a"), Spec("b", 0)}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Spec("a"), Spec("b"), Spec("a", 1, 0, "other")}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Spec("")}), absl::StatusCode::kInvalidArgument);
  std::vector<BackendSpec> many;
  for (size_t i = 0; i <= kMaxBackends; ++i) many.push_back(Spec(absl::StrCat("be", i)));
  EXPECT_EQ(code(many), absl::StatusCode::kInvalidArgument);
  many.pop_back();
  EXPECT_EQ(code(many), absl::StatusCode::kOk);
  const absl::Status dup = Balancer::Create({Spec("x"), Spec("x")}, LbAlgorithm::kHashCallId).status();
  EXPECT_NE(dup.message().find("\"x\""), absl::string_view::npos) << dup;
}

}  // namespace
}  // namespace sipring::sip

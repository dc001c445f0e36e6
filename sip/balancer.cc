#include "sip/balancer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/status.h"
#include "sip/internal/hash.h"

namespace sipring::sip {
namespace {

// splitmix64's finalizer: every input bit flips each output bit with probability ~1/2. FNV-1a
// alone leaves the high bits weakly mixed for short inputs that differ in their last bytes.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Distinct domains, so a backend's rendezvous seed says nothing about its public tag.
uint64_t NameHash(std::string_view domain, std::string_view name) {
  return Mix64(sip_internal::Fnv1aField(name, sip_internal::Fnv1a(domain)));
}

// The rendezvous hash of (key, backend): 64 well-mixed bits.
uint64_t PairHash(uint64_t key, uint64_t seed) { return Mix64(key ^ seed); }

// Weighted rendezvous score to minimise: -ln(u) / weight with u uniform in (0, 1), which is
// an exponential variable of rate `weight`; the least of them belongs to backend i with
// probability weight_i / sum(weights), and removing a backend leaves the others' order alone.
// (Maximising weight / -ln(u) is the same choice.) u keeps 52 bits so that u + 0.5 ulp
// is exact and never rounds to 1, which would make -ln(u) zero.
double RendezvousScore(uint64_t h, uint32_t weight) {
  const double u = (static_cast<double>(h >> 12) + 0.5) * 0x1p-52;
  return -std::log(u) / static_cast<double>(weight);
}

}  // namespace

std::string_view LbAlgorithmName(LbAlgorithm algorithm) {
  switch (algorithm) {
    case LbAlgorithm::kRoundRobin:
      return "round-robin";
    case LbAlgorithm::kWeighted:
      return "weighted";
    case LbAlgorithm::kHashCallId:
      return "hash-call-id";
    case LbAlgorithm::kPriority:
      return "priority";
  }
  return "unknown";
}

uint64_t CallIdHash(std::string_view call_id) { return Mix64(sip_internal::Fnv1a(call_id)); }

absl::StatusOr<Balancer> Balancer::Create(std::vector<BackendSpec> backends,
                                          LbAlgorithm algorithm) {
  if (backends.empty()) return absl::InvalidArgumentError("balancer: no backends");
  if (backends.size() > kMaxBackends) {
    return absl::InvalidArgumentError(absl::StrCat("balancer: ", backends.size(),
                                                   " backends, at most ", kMaxBackends));
  }
  Balancer b;
  b.algorithm_ = algorithm;
  const size_t n = backends.size();
  b.seeds_.resize(n);
  b.tags_.resize(n);
  b.current_.assign(n, 0);
  b.tag_index_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    BackendSpec& spec = backends[i];
    if (spec.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("balancer: backend #", i, " has no name"));
    }
    if (spec.weight == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("balancer: backend \"", ToAbsl(spec.name), "\" has weight 0"));
    }
    if (spec.group.empty()) spec.group = std::string(kDefaultGroup);
    b.seeds_[i] = NameHash("sipring.balancer.rendezvous", spec.name);
    b.tags_[i] = static_cast<uint32_t>(NameHash("sipring.balancer.tag", spec.name) >> 32);
    b.tag_index_.push_back({b.tags_[i], static_cast<uint16_t>(i)});
  }
  // Sorted by tag for FindByTag. Equal neighbours are either one name used twice (equal names
  // give equal tags) or a true 32-bit collision; both would make FindByTag ambiguous.
  std::sort(b.tag_index_.begin(), b.tag_index_.end(),
            [](const TagEntry& x, const TagEntry& y) { return x.tag < y.tag; });
  for (size_t i = 1; i < n; ++i) {
    const TagEntry& x = b.tag_index_[i - 1];
    const TagEntry& y = b.tag_index_[i];
    if (x.tag != y.tag) continue;
    const std::string& a = backends[x.backend].name;
    const std::string& c = backends[y.backend].name;
    if (a == c) {
      return absl::InvalidArgumentError(
          absl::StrCat("balancer: backend name \"", ToAbsl(a), "\" is used twice"));
    }
    return absl::InvalidArgumentError(absl::StrCat("balancer: backend names \"", ToAbsl(a),
                                                   "\" and \"", ToAbsl(c),
                                                   "\" have the same tag; rename one"));
  }

  // Groups in order of first appearance; members_ holds each group's backends contiguously.
  std::vector<int> group_of(n);
  for (size_t i = 0; i < n; ++i) {
    auto it = std::find_if(b.groups_.begin(), b.groups_.end(),
                           [&](const Group& g) { return g.name == backends[i].group; });
    if (it == b.groups_.end()) {
      b.groups_.push_back(Group{.name = backends[i].group});
      it = b.groups_.end() - 1;
    }
    group_of[i] = static_cast<int>(it - b.groups_.begin());
  }
  b.members_.reserve(n);
  for (size_t g = 0; g < b.groups_.size(); ++g) {
    Group& group = b.groups_[g];
    group.begin = static_cast<uint16_t>(b.members_.size());
    for (size_t i = 0; i < n; ++i) {
      if (group_of[i] != static_cast<int>(g)) continue;
      if (b.members_.size() > group.begin &&
          backends[i].weight != backends[b.members_[group.begin]].weight) {
        group.equal_weights = false;
      }
      b.members_.push_back(static_cast<uint16_t>(i));
    }
    group.end = static_cast<uint16_t>(b.members_.size());
  }
  b.backends_ = std::move(backends);
  return b;
}

int Balancer::GroupIndex(std::string_view group) const {
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].name == group) return static_cast<int>(g);
  }
  return kNoBackend;
}

std::span<const uint16_t> Balancer::GroupMembers(int group) const {
  const Group& g = groups_[group];
  return std::span<const uint16_t>(members_.data() + g.begin, g.end - g.begin);
}

int Balancer::FindByTag(uint32_t tag) const {
  auto it = std::lower_bound(tag_index_.begin(), tag_index_.end(), tag,
                             [](const TagEntry& e, uint32_t t) { return e.tag < t; });
  if (it == tag_index_.end() || it->tag != tag) return kNoBackend;
  return it->backend;
}

int Balancer::Pick(int group, uint64_t key, std::span<const uint8_t> eligible) {
  SIPRING_DCHECK(eligible.size() >= backends_.size());
  if (group < 0 || group >= group_count() || eligible.size() < backends_.size()) {
    return kNoBackend;
  }
  Group& g = groups_[group];
  switch (algorithm_) {
    case LbAlgorithm::kRoundRobin:
      return PickRoundRobin(g, eligible);
    case LbAlgorithm::kWeighted:
      return PickSmoothWeighted(g, eligible, /*tier_only=*/false);
    case LbAlgorithm::kHashCallId:
      return PickByKey(group, key, eligible);
    case LbAlgorithm::kPriority:
      return PickSmoothWeighted(g, eligible, /*tier_only=*/true);
  }
  return kNoBackend;
}

int Balancer::PickRoundRobin(Group& group, std::span<const uint8_t> eligible) {
  // Start at the cursor and take the first eligible member; the cursor then moves just past
  // it, so a skipped (ineligible) member hands its turn to the next one instead of doubling
  // the load of whoever comes after it in a fixed order.
  const int count = group.end - group.begin;
  for (int step = 0; step < count; ++step) {
    int offset = group.rr_next + step;
    if (offset >= count) offset -= count;
    const int backend = members_[group.begin + offset];
    if (eligible[backend] == 0) continue;
    group.rr_next = static_cast<uint16_t>(offset + 1 == count ? 0 : offset + 1);
    return backend;
  }
  return kNoBackend;
}

int Balancer::PickSmoothWeighted(const Group& group, std::span<const uint8_t> eligible,
                                 bool tier_only) {
  uint32_t tier = 0;
  if (tier_only) {
    tier = std::numeric_limits<uint32_t>::max();
    bool any = false;
    for (int m = group.begin; m < group.end; ++m) {
      const int backend = members_[m];
      if (eligible[backend] == 0) continue;
      tier = std::min(tier, backends_[backend].priority);
      any = true;
    }
    if (!any) return kNoBackend;
  }
  // nginx's smooth WRR: every candidate gains its weight, the richest is chosen and pays the
  // total. Over a window of sum(weights) picks with a steady candidate set each backend gets
  // exactly its weight, interleaved rather than in runs. A backend that is not a candidate
  // keeps its current weight frozen, so a failover pick that skips one backend does not reset
  // everyone's rhythm; the sum over the group stays 0, which keeps the values small.
  int best = kNoBackend;
  int64_t total = 0;
  for (int m = group.begin; m < group.end; ++m) {
    const int backend = members_[m];
    if (eligible[backend] == 0) continue;
    if (tier_only && backends_[backend].priority != tier) continue;
    const int64_t weight = backends_[backend].weight;
    current_[backend] += weight;
    total += weight;
    if (best == kNoBackend || current_[backend] > current_[best]) best = backend;
  }
  if (best != kNoBackend) current_[best] -= total;
  return best;
}

int Balancer::PickByKey(int group, uint64_t key, std::span<const uint8_t> eligible) const {
  SIPRING_DCHECK(eligible.size() >= backends_.size());
  if (group < 0 || group >= group_count() || eligible.size() < backends_.size()) {
    return kNoBackend;
  }
  const Group& g = groups_[group];
  int best = kNoBackend;
  if (g.equal_weights) {
    // With one weight, the score is monotonic in the hash: compare hashes, skip the logarithm.
    uint64_t best_hash = 0;
    for (int m = g.begin; m < g.end; ++m) {
      const int backend = members_[m];
      if (eligible[backend] == 0) continue;
      const uint64_t h = PairHash(key, seeds_[backend]) >> 12;  // the bits the score uses
      if (best == kNoBackend || h > best_hash ||
          (h == best_hash && seeds_[backend] > seeds_[best])) {
        best = backend;
        best_hash = h;
      }
    }
    return best;
  }
  double best_score = 0;
  for (int m = g.begin; m < g.end; ++m) {
    const int backend = members_[m];
    if (eligible[backend] == 0) continue;
    const double score = RendezvousScore(PairHash(key, seeds_[backend]), backends_[backend].weight);
    // Ties are broken by the name's seed, not the index, so they too survive a reorder.
    if (best == kNoBackend || score < best_score ||
        (score == best_score && seeds_[backend] > seeds_[best])) {
      best = backend;
      best_score = score;
    }
  }
  return best;
}

int Balancer::PickStateless(int group, uint64_t key, std::span<const uint8_t> eligible) const {
  SIPRING_DCHECK(eligible.size() >= backends_.size());
  if (group < 0 || group >= group_count() || eligible.size() < backends_.size()) {
    return kNoBackend;
  }
  const Group& g = groups_[group];
  const bool tier_only = algorithm_ == LbAlgorithm::kPriority;
  // Round-robin ignores weights; the others honour them. Equal weights compare hashes only.
  const bool by_hash = algorithm_ == LbAlgorithm::kRoundRobin || g.equal_weights;
  uint32_t tier = 0;
  if (tier_only) {
    tier = std::numeric_limits<uint32_t>::max();
    for (int m = g.begin; m < g.end; ++m) {
      const int backend = members_[m];
      if (eligible[backend] != 0) tier = std::min(tier, backends_[backend].priority);
    }
  }
  int best = kNoBackend;
  uint64_t best_hash = 0;
  double best_score = 0;
  for (int m = g.begin; m < g.end; ++m) {
    const int backend = members_[m];
    if (eligible[backend] == 0) continue;
    if (tier_only && backends_[backend].priority != tier) continue;
    const uint64_t h = PairHash(key, seeds_[backend]);
    if (by_hash) {
      const uint64_t top = h >> 12;  // the bits the score uses, as in PickByKey
      if (best == kNoBackend || top > best_hash ||
          (top == best_hash && seeds_[backend] > seeds_[best])) {
        best = backend;
        best_hash = top;
      }
    } else {
      const double score = RendezvousScore(h, backends_[backend].weight);
      if (best == kNoBackend || score < best_score ||
          (score == best_score && seeds_[backend] > seeds_[best])) {
        best = backend;
        best_score = score;
      }
    }
  }
  return best;
}

}  // namespace sipring::sip

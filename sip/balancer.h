// File: sip/balancer.h
//
// The backend balancer: which backend of a group gets a new request.
//
//  - Balancer::Pick(): the configured algorithm (LbAlgorithm) over the backends of one group
//    that the caller marks eligible. Eligibility is the caller's: the health layer's "up" set,
//    minus the backends this request already tried (failover), so the balancer keeps no health
//    state of its own.
//  - Balancer::PickByKey(): weighted rendezvous hashing by a key (a Call-ID hash), whatever the
//    algorithm, for in-dialog requests that carry no routing hint (no Record-Route tag of ours).
//  - Balancer::Tag() / FindByTag(): a 32-bit tag per backend, derived from its name, which the
//    proxy writes into its Record-Route parameter and reads back from the Route of in-dialog
//    requests. It comes from the name, not the index, so it survives reordering and reload.
//  - CallIdHash(): the key for Pick / PickByKey; the same in every process and on every run, so
//    all shards (and a restarted daemon) agree on where a Call-ID goes.
//
// Ownership and threads: a Balancer is a value. It is built once, off the hot path, with
// Create(), then copied into each shard; each shard thread owns its copy. Pick() updates the
// copy's round-robin cursors and smooth-WRR weights without atomics, so a Balancer is not
// thread-safe: never share one between threads. The const members (PickByKey, Tag, FindByTag,
// GroupIndex) keep no state. Pick and PickByKey allocate nothing and cost O(backends in the
// group); each shard balances its own share of the traffic, which keeps the overall spread.
//
// Example:
//   std::vector<sip::BackendSpec> specs = {{.name = "pbx1", .weight = 3}, {.name = "pbx2"}};
//   SIPRING_ASSIGN_OR_RETURN(sip::Balancer lb,
//                            sip::Balancer::Create(std::move(specs), sip::LbAlgorithm::kWeighted));
//   const int group = lb.GroupIndex(sip::kDefaultGroup);          // once, at start-up
//   std::array<uint8_t, sip::kMaxBackends> up{};                  // from the health layer
//   ...
//   int be = lb.Pick(group, sip::CallIdHash(msg.call_id), std::span(up.data(), lb.size()));
//   if (be == sip::kNoBackend) { /* answer 503 */ }
//   // record_route_param: "be=" + hex of lb.Tag(be); later lb.FindByTag(parsed) -> be
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sipring::sip {

// What Pick and FindByTag return when there is no backend.
inline constexpr int kNoBackend = -1;

// Most backends one Balancer holds (all groups together). Eligibility sets fit a fixed array.
inline constexpr size_t kMaxBackends = 256;

// The group a backend joins when its spec names none.
inline constexpr std::string_view kDefaultGroup = "default";

enum class LbAlgorithm : uint8_t {
  // Each eligible backend of the group in turn, weights ignored. An ineligible backend is
  // skipped and the turn goes to the next one, so the others stay evenly loaded.
  kRoundRobin,
  // Smooth weighted round-robin (nginx): shares follow the weights, and a heavy backend's picks
  // are spread out instead of coming in a burst (3:1 gives a a b a, a a b a, ...).
  kWeighted,
  // Weighted rendezvous hashing of the Call-ID: the same Call-ID always lands on the same
  // backend while the eligible set stays the same, and a backend added or removed moves only
  // the calls that belong to it. Stateless; all shards agree.
  kHashCallId,
  // Only the eligible backends with the lowest `priority` value are candidates (smooth weighted
  // round-robin among them); when the whole tier is ineligible the next tier takes over, and
  // traffic goes back as soon as one of the better tier is eligible again.
  kPriority,
};

// Name for logs and config round trips: "round-robin", "weighted", "hash-call-id", "priority".
std::string_view LbAlgorithmName(LbAlgorithm algorithm);

// One backend as configuration gives it. The address lives elsewhere (transports): the
// balancer only chooses an index.
struct BackendSpec {
  std::string name;                         // unique, non-empty; seeds the hash and the tag
  std::string group = std::string(kDefaultGroup);  // empty also means kDefaultGroup
  uint32_t weight = 1;                      // >= 1; share under kWeighted, kHashCallId, kPriority
  uint32_t priority = 0;                    // kPriority only: lower value = preferred tier
};

class Balancer {
 public:
  // Builds the balancer. Backends keep their order: index i is backends[i]. Groups are numbered
  // in the order their first backend appears.
  // Returns InvalidArgumentError when there are no backends or more than kMaxBackends, when a
  // name is empty or used twice, when a weight is 0, or when two names hash to the same Tag()
  // (about one chance in 10^5 at 256 backends; renaming one backend fixes it).
  // Returns a value rather than the unique_ptr of STYLE.md rule 26 because each shard keeps
  // its own copy.
  static absl::StatusOr<Balancer> Create(std::vector<BackendSpec> backends,
                                         LbAlgorithm algorithm);

  // The index of `group`, or kNoBackend (-1) when no backend belongs to it. A linear string
  // search: resolve groups once, not per message.
  int GroupIndex(std::string_view group) const;

  // Groups are 0 .. group_count() - 1; group_name and GroupMembers need one of those.
  int group_count() const { return static_cast<int>(groups_.size()); }
  std::string_view group_name(int group) const { return groups_[group].name; }
  // Backend indices in `group`, in configuration order.
  std::span<const uint16_t> GroupMembers(int group) const;

  // Backends are 0 .. size() - 1, in the order given to Create().
  int size() const { return static_cast<int>(backends_.size()); }
  const BackendSpec& backend(int i) const { return backends_[i]; }
  LbAlgorithm algorithm() const { return algorithm_; }

  // Chooses a backend of `group` among those with eligible[i] != 0, by the configured
  // algorithm. `eligible` is indexed by backend (eligible.size() == size()). `key` is
  // CallIdHash() of the Call-ID; only kHashCallId reads it.
  // Returns kNoBackend when no backend of the group is eligible, or when `group` is out of
  // range or `eligible` is shorter than size() (both caller bugs; debug builds abort on the
  // second). Updates this copy's round-robin state: shard thread only.
  [[nodiscard]] int Pick(int group, uint64_t key, std::span<const uint8_t> eligible);

  // Weighted rendezvous choice by `key` among the eligible backends of `group`, whatever the
  // algorithm: equal to Pick() under kHashCallId for the same inputs. Used for in-dialog
  // requests with no routing hint, so they reach the backend that a hash would have chosen for
  // the dialog's first request. Returns kNoBackend as Pick() does. Keeps no state.
  [[nodiscard]] int PickByKey(int group, uint64_t key, std::span<const uint8_t> eligible) const;

  // The choice a stateless proxy makes: a pure function of `key` and the eligible set, so that a
  // retransmission, a CANCEL and an in-dialog request go where the first request went (RFC 3261
  // §16.11 forbids a stateless proxy a time- or order-dependent choice). Each algorithm keeps its
  // meaning as far as a function can: round-robin = rendezvous with equal weights; weighted and
  // hash-call-id = weighted rendezvous (equal to PickByKey); priority = weighted rendezvous within
  // the best eligible tier. Shares follow the weights statistically rather than in sequence.
  // Returns kNoBackend as Pick() does. Keeps no state.
  [[nodiscard]] int PickStateless(int group, uint64_t key, std::span<const uint8_t> eligible) const;

  // The backend's stable tag: a function of its name only. Distinct within one Balancer.
  uint32_t Tag(int backend) const { return tags_[backend]; }
  // The backend whose Tag() is `tag`, or kNoBackend (a tag from an old configuration, or
  // forged). O(log size()).
  [[nodiscard]] int FindByTag(uint32_t tag) const;

 private:
  struct Group {
    std::string name;
    uint16_t begin = 0;       // members_[begin, end) are the group's backends
    uint16_t end = 0;
    uint16_t rr_next = 0;     // kRoundRobin: offset in the group of the next backend to try
    bool equal_weights = true;  // rendezvous can then compare hashes and skip the logarithm
  };
  struct TagEntry {
    uint32_t tag;
    uint16_t backend;
  };

  Balancer() = default;

  int PickRoundRobin(Group& group, std::span<const uint8_t> eligible);
  // Smooth WRR among eligible members of `group`; when `tier_only`, only among those whose
  // priority is the lowest of the eligible ones.
  int PickSmoothWeighted(const Group& group, std::span<const uint8_t> eligible, bool tier_only);

  std::vector<BackendSpec> backends_;
  std::vector<Group> groups_;
  std::vector<uint16_t> members_;     // backend indices, grouped (see Group::begin)
  std::vector<uint64_t> seeds_;       // per backend: rendezvous seed from the name
  std::vector<uint32_t> tags_;        // per backend: Tag()
  std::vector<TagEntry> tag_index_;   // sorted by tag, for FindByTag
  // Per backend, smooth WRR "current weight" (nginx's current_weight). int64: it stays within
  // a few times the group's total weight, which is at most 256 * 2^32.
  std::vector<int64_t> current_;
  LbAlgorithm algorithm_ = LbAlgorithm::kRoundRobin;
};

// The 64-bit key of a Call-ID for Pick / PickByKey: FNV-1a over the bytes, then a splitmix64
// finalizer so that nearby Call-IDs spread over all bits. Deterministic across runs, processes
// and machines (no per-process seed): every shard and every restart maps a Call-ID alike.
// Not keyed, so not a defence against a caller who chooses Call-IDs to load one backend; the
// health layer's limits are. Pure, any thread, no allocation.
uint64_t CallIdHash(std::string_view call_id);

}  // namespace sipring::sip

// File: engine/quota.h
//
// Per-endpoint buffer accounting, so one slow or abusive peer cannot hold the shard's pool.
//
//  - Quota: the count one endpoint holds (slots queued for send, partial frames, in flight)
//    against its limit. A stream connection embeds one (its endpoint outlives reconnects).
//  - QuotaTable: for datagram peers, which share one socket: a fixed-capacity open-addressing map
//    from EndpointKey (address family, address, port) to Quota, preallocated at start. A full
//    table refuses new endpoints (the caller answers 503), never grows. Entries whose count drops
//    to zero are removed at once (backward-shift deletion, no tombstones), so the table holds only
//    peers that hold buffers right now.
//
// Taking past the limit fails cleanly; the owner decides what to do (stop reading the connection,
// or reject the request).
//
// Ownership and threads: owned by one shard; used from its thread only.
//
// Example:
//   QuotaTable table(/*capacity=*/4096, /*limit=*/32);
//   EndpointKey peer = EndpointKey::From(sockaddr);
//   if (!table.TryTake(peer)) { /* over quota: 503 */ }
//   ...
//   table.Give(peer);
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace sipring::engine {

class Quota {
 public:
  explicit Quota(uint32_t limit = 0) : limit_(limit) {}
  // Takes n units; false (and nothing taken) if that would pass the limit.
  [[nodiscard]] bool TryTake(uint32_t n = 1) {
    if (held_ + n > limit_) return false;
    held_ += n;
    return true;
  }
  // Charges data the kernel has already delivered (a multishot stream receive can complete a few
  // more times between the decision to stop reading and the cancel taking effect): it must be
  // held, so it is counted even past the limit. The caller must already have stopped reading.
  void ForceTake(uint32_t n = 1) { held_ += n; }
  void Give(uint32_t n = 1) { held_ = n > held_ ? 0 : held_ - n; }
  uint32_t held() const { return held_; }
  uint32_t limit() const { return limit_; }
  void set_limit(uint32_t limit) { limit_ = limit; }
  bool AtLimit() const { return held_ >= limit_; }

 private:
  uint32_t held_ = 0;
  uint32_t limit_;
};

// A peer's transport address, compact and hashable.
struct EndpointKey {
  uint8_t family = 0;  // AF_INET or AF_INET6
  uint16_t port = 0;   // network byte order, as in the sockaddr
  uint8_t addr[16] = {};

  static EndpointKey From(const sockaddr* sa);
  bool operator==(const EndpointKey& o) const {
    return family == o.family && port == o.port && std::memcmp(addr, o.addr, 16) == 0;
  }
  uint64_t Hash() const;
};

class QuotaTable {
 public:
  // capacity: most endpoints tracked at once (rounded up to a power of two, kept at most 50% full
  // for short probe runs); limit: the per-endpoint quota.
  QuotaTable(uint32_t capacity, uint32_t limit);

  // Takes n units for `key`; false if the endpoint is at its limit or the table is full.
  [[nodiscard]] bool TryTake(const EndpointKey& key, uint32_t n = 1);
  // Gives n units back; the entry disappears when it holds nothing.
  void Give(const EndpointKey& key, uint32_t n = 1);
  // Units `key` holds now (0 if unknown).
  uint32_t Held(const EndpointKey& key) const;

  uint32_t size() const { return size_; }
  uint32_t limit() const { return limit_; }
  uint64_t refusals() const { return refusals_; }

 private:
  struct Entry {
    EndpointKey key;
    uint32_t held = 0;  // 0 = empty slot
  };
  int64_t Find(const EndpointKey& key) const;
  void Erase(uint64_t index);

  std::vector<Entry> entries_;
  uint64_t mask_;
  uint32_t max_size_;
  uint32_t size_ = 0;
  uint32_t limit_;
  uint64_t refusals_ = 0;
};

}  // namespace sipring::engine

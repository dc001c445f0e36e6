#include "engine/quota.h"

namespace sipring::engine {

EndpointKey EndpointKey::From(const sockaddr* sa) {
  EndpointKey k;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    k.family = AF_INET;
    k.port = in->sin_port;
    std::memcpy(k.addr, &in->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    k.family = AF_INET6;
    k.port = in6->sin6_port;
    std::memcpy(k.addr, &in6->sin6_addr, 16);
  }
  return k;
}

uint64_t EndpointKey::Hash() const {
  // Cheap mix of the 19 meaningful bytes; peers are not adversarial enough here to need SipHash
  // (a colliding flood only makes their own probes longer, bounded by the 50% load factor).
  uint64_t a, b;
  std::memcpy(&a, addr, 8);
  std::memcpy(&b, addr + 8, 8);
  uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;
  h ^= (uint64_t{port} << 8 | family) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

QuotaTable::QuotaTable(uint32_t capacity, uint32_t limit) : max_size_(capacity), limit_(limit) {
  uint64_t n = 16;
  while (n < uint64_t{capacity} * 2) n <<= 1;
  entries_.resize(n);
  mask_ = n - 1;
}

int64_t QuotaTable::Find(const EndpointKey& key) const {
  for (uint64_t i = key.Hash() & mask_;; i = (i + 1) & mask_) {
    const Entry& e = entries_[i];
    if (e.held == 0) return -1;
    if (e.key == key) return static_cast<int64_t>(i);
  }
}

bool QuotaTable::TryTake(const EndpointKey& key, uint32_t n) {
  uint64_t i = key.Hash() & mask_;
  for (;; i = (i + 1) & mask_) {
    Entry& e = entries_[i];
    if (e.held == 0) break;
    if (e.key == key) {
      if (e.held + n > limit_) {
        ++refusals_;
        return false;
      }
      e.held += n;
      return true;
    }
  }
  if (size_ >= max_size_ || n > limit_ || n == 0) {
    ++refusals_;
    return false;
  }
  entries_[i].key = key;
  entries_[i].held = n;
  ++size_;
  return true;
}

void QuotaTable::Give(const EndpointKey& key, uint32_t n) {
  int64_t i = Find(key);
  if (i < 0) return;
  Entry& e = entries_[i];
  if (n >= e.held) {
    Erase(static_cast<uint64_t>(i));
  } else {
    e.held -= n;
  }
}

uint32_t QuotaTable::Held(const EndpointKey& key) const {
  int64_t i = Find(key);
  return i < 0 ? 0 : entries_[i].held;
}

void QuotaTable::Erase(uint64_t hole) {
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  entries_[hole].held = 0;
  --size_;
  for (uint64_t j = (hole + 1) & mask_; entries_[j].held != 0; j = (j + 1) & mask_) {
    const uint64_t home = entries_[j].key.Hash() & mask_;
    // Move j into the hole if its home is not in the cyclic range (hole, j].
    const bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!in_range) {
      entries_[hole] = entries_[j];
      entries_[j].held = 0;
      hole = j;
    }
  }
}

}  // namespace sipring::engine

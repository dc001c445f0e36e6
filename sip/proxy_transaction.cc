#include "sip/proxy_transaction.h"

#include "engine/status.h"
#include "sip/internal/hash.h"

namespace sipring::sip {

ProxyTxnTable::ProxyTxnTable(uint32_t capacity)
    : capacity_(capacity),
      entries_(new ProxyTxn[capacity]),
      store_(new char[size_t{capacity} * kStoreBytes]) {
  uint32_t buckets = 1;
  while (buckets < capacity) buckets <<= 1;
  mask_ = buckets - 1;
  buckets_.assign(buckets, 0);
  // Free list in index order; Free() pushes on the front, so the most recently used entries (and
  // their store pages) are reused first.
  for (uint32_t i = capacity; i > 0; --i) {
    entries_[i - 1].next = free_head_;
    free_head_ = i;
  }
}

ProxyTxn* ProxyTxnTable::Allocate(uint64_t key) {
  if (free_head_ == 0) return nullptr;
  ProxyTxn* t = &entries_[free_head_ - 1];
  free_head_ = t->next;
  // The machines and the timer keep their bindings (Init once); the request's record starts over.
  static_cast<ProxyTxnRequest&>(*t) = ProxyTxnRequest{};
  t->key = key;
  t->in_use = true;
  ++t->generation;
  uint32_t& head = buckets_[Bucket(key)];
  t->next = head;
  head = IndexOf(t) + 1;
  ++size_;
  return t;
}

void ProxyTxnTable::Unlink(ProxyTxn* t) {
  uint32_t* link = &buckets_[Bucket(t->key)];
  const uint32_t self = IndexOf(t) + 1;
  while (*link != 0) {
    if (*link == self) {
      *link = t->next;
      return;
    }
    link = &entries_[*link - 1].next;
  }
  SIPRING_DCHECK(false);  // an entry in use is always on its chain
}

void ProxyTxnTable::Linger(ProxyTxn* t) {
  if (!t->in_use || t->lingering) return;
  const uint32_t self = IndexOf(t) + 1;
  t->lingering = true;
  t->linger_prev = linger_tail_;
  t->linger_next = 0;
  if (linger_tail_ != 0) {
    entries_[linger_tail_ - 1].linger_next = self;
  } else {
    linger_head_ = self;
  }
  linger_tail_ = self;
  ++lingering_;
}

void ProxyTxnTable::Free(ProxyTxn* t) {
  if (!t->in_use) return;
  if (t->lingering) {
    (t->linger_prev != 0 ? entries_[t->linger_prev - 1].linger_next : linger_head_) =
        t->linger_next;
    (t->linger_next != 0 ? entries_[t->linger_next - 1].linger_prev : linger_tail_) =
        t->linger_prev;
    t->lingering = false;
    --lingering_;
  }
  Unlink(t);
  t->in_use = false;
  t->next = free_head_;
  free_head_ = IndexOf(t) + 1;
  --size_;
}

ProxyTxn* ProxyTxnTable::Find(uint64_t key) {
  for (uint32_t i = buckets_[Bucket(key)]; i != 0; i = entries_[i - 1].next) {
    if (entries_[i - 1].key == key) return &entries_[i - 1];
  }
  return nullptr;
}

ProxyTxn* ProxyTxnTable::Match(uint32_t index, uint32_t generation) {
  if (index >= capacity_) return nullptr;
  ProxyTxn& t = entries_[index];
  return t.in_use && (t.generation & ((1u << kGenerationBits) - 1)) == generation ? &t : nullptr;
}

uint64_t ServerKey(const Message& request, std::string_view method) {
  uint64_t h = sip_internal::kFnvOffset;
  if (request.via_count > 0 && request.vias[0].HasRfc3261Branch()) {
    const Via& v = request.vias[0];
    h = sip_internal::Fnv1aField(v.branch, h);
    h = sip_internal::Fnv1aField(v.host, h);
    h = sip_internal::Fnv1aField(v.port_text, h);
  } else {
    // RFC 2543 peers (§17.2.3's fallback). The To tag is left out so that an ACK, which carries
    // the tag of our final response, still finds its INVITE.
    h = sip_internal::Fnv1aField(request.request_uri_text, h);
    h = sip_internal::Fnv1aField(request.from.tag, h);
    h = sip_internal::Fnv1aField(request.call_id, h);
    const uint32_t n = request.cseq.number;
    h = sip_internal::Fnv1aField(std::string_view(reinterpret_cast<const char*>(&n), 4), h);
    if (request.via_count > 0) h = sip_internal::Fnv1aField(request.vias[0].value, h);
  }
  h = sip_internal::Fnv1aField(method, h);
  // FNV's last multiply leaves the top bits (the bucket) weak for short inputs: mix once more.
  h ^= h >> 31;
  h *= 0x9e3779b97f4a7c15ull;
  h ^= h >> 29;
  return h;
}

}  // namespace sipring::sip

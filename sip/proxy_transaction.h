// File: sip/proxy_transaction.h
//
// ProxyTxn and ProxyTxnTable: the stateful proxy's per-request context (RFC 3261 §16's "response
// context") and the bounded table that holds one shard's contexts.
//
// A ProxyTxn pairs the server transaction towards the caller with the client transaction of the
// current try towards a backend (sip/transaction.h), plus what failover and CANCEL need: the
// backends tried, the deadline, and the request itself. We try backends one after another (serial
// failover), so one client transaction at a time is enough; a late answer from an abandoned try
// is recognised by the try number in its branch (see sip/proxy.h).
//
// Memory, bounded and preallocated when the shard starts (no allocation per request):
//  - the table: max_per_shard entries, sizeof(ProxyTxn) each;
//  - a store of kStoreBytes per entry for copies of what must be sent again after the message it
//    came from is gone: the last response to the caller (request retransmissions, Timer G) and the
//    ACK to the backend (Timer D). The store is allocated but not touched up front, so the kernel
//    only backs the pages that entries actually use (free entries are reused last-in first-out);
//  - the request's pool slot, held from arrival until its final response has been sent (it is
//    forwarded again on a retransmission timer and on failover, and CANCEL and ACK are built from
//    it). The pool's low watermark therefore also bounds the requests in progress.
// Lookup by server-transaction key (§17.2.3) is a chained hash over the entries (intrusive next
// index, power-of-two buckets); responses find their entry directly from the index in our branch.
//
// Lingering entries. Once a transaction has its final answer, its entry only absorbs
// retransmissions until Timer J, I, D or K ends it: over UDP a BYE's entry stays 64 x T1 = 32 s,
// so a table sized for live calls would fill with finished ones (max_per_shard / 32 s calls a
// second). The owner marks such entries (Linger); they wait in a first-in first-out list, and when
// the table is full the oldest is reclaimed for the new request (the owner retires it) rather
// than the request getting 503. Only live transactions can fill the table; under that pressure
// the absorbing window shrinks (a retransmission after reclaim is handled as a new request), and
// the owner counts every reclaim.
//
// Ownership and threads: one table per shard, owned by its Proxy; every call on that shard's
// thread.
//
// Example:
//   ProxyTxnTable table(4096);
//   ProxyTxn* t = table.Allocate(key);          // nullptr when full: answer 503
//   ... table.Find(key) ... table.At(index) ...
//   table.Free(t);
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/timer_wheel.h"
#include "sip/message.h"
#include "sip/transaction.h"

namespace sipring::sip {

// Most SIP answers a proxy must repeat (100 Trying, 180, 486, 200 to BYE or REGISTER) and the
// ACKs it builds are a few hundred bytes; one that does not fit is not stored, and its
// retransmissions go unanswered (counted), which costs the peer a retransmission, not the call.
inline constexpr size_t kStoredResponseBytes = 1024;
inline constexpr size_t kStoredAckBytes = 640;
inline constexpr size_t kStoreBytes = kStoredResponseBytes + kStoredAckBytes;
// Backends one request may try (the first choice and its failovers).
inline constexpr int kMaxTries = 8;

// What one request's context records; starts over (value-initialised) at each Allocate.
struct ProxyTxnRequest {
  uint64_t key = 0;          // server transaction key (ServerKey)
  uint64_t deadline_ms = 0;  // no new try after this (total deadline)
  sockaddr_in6 source{};     // where the request came from (IPv4 in the sockaddr_in prefix)
  sockaddr_in6 reply_to{};   // where our responses to the caller go (RFC 3261 §18.2.2)
  sockaddr_in6 next_hop{};   // where the current try goes
  uint32_t loop_hash = 0;    // the request's loop hash (part of every branch we send)
  uint16_t request_bid = 0xffff;  // the request's pool slot while held (kNoSlot otherwise)
  uint16_t request_offset = 0;  // where it starts in the slot (after the recvmsg header)
  uint16_t request_len = 0;  // its length
  uint16_t listener = 0;     // index of the listener it arrived on: our answers leave from it
  uint16_t response_len = 0; // bytes of the stored response (0: none)
  uint16_t ack_len = 0;      // bytes of the stored ACK (0: none)
  int16_t backend = -1;      // the current try's backend; -1: a routed next hop (no failover)
  uint8_t tries = 0;         // tries started; the current one is tries - 1
  uint8_t method = 0;        // MethodIndex
  int16_t failover_status = 0;   // the last failover-code final (to answer when out of tries)
  bool in_use = false;
  bool balanced = false;     // the balancer chose the backend: failover allowed
  bool heard = false;        // the current try has had a response
  bool cancelled = false;    // the caller cancelled: no more tries; CANCEL the current one
  bool cancel_sent = false;  // our CANCEL for the current try has been sent
  bool final_sent = false;   // a final response has gone to the caller
  bool skip_route = false;   // the request's top Route named us (popped when forwarding)
  uint8_t tried[kMaxTries] = {};  // backends tried, in order (indices < 256)
};

// A table entry: the request's record, plus what outlives one use of the entry (the machines
// and timer, bound once to the shard; the generation; the chain link).
struct ProxyTxn : ProxyTxnRequest {
  ServerTxn server;          // towards the caller
  ClientTxn client;          // the current try, towards its backend
  ClientTxn cancel;          // our CANCEL to the current try's backend (§9.1, §16.10)
  engine::Timer try_timer;   // per-try timeout until the first response; then Timer C (INVITE)
  uint32_t generation = 0;   // bumped at each Allocate: a stale branch never matches a new use
  uint32_t next = 0;         // hash chain / free list (index + 1; 0 = end)
  uint32_t linger_prev = 0;  // the lingering list (index + 1; 0 = end); kept by the table
  uint32_t linger_next = 0;
  bool lingering = false;
};

class ProxyTxnTable {
 public:
  explicit ProxyTxnTable(uint32_t capacity);
  ProxyTxnTable(const ProxyTxnTable&) = delete;
  ProxyTxnTable& operator=(const ProxyTxnTable&) = delete;

  // A free entry, indexed under `key`, with a new generation; nullptr when the table is full.
  ProxyTxn* Allocate(uint64_t key);
  // Unindexes the entry (and takes it off the lingering list) and returns it to the free list.
  // Its machines must be Reset and its request slot released by the caller first.
  void Free(ProxyTxn* t);
  // Marks an entry in use as lingering (only absorbing retransmissions): it joins the end of
  // the lingering list, once.
  void Linger(ProxyTxn* t);
  // The entry that has lingered longest, or nullptr: the one to retire when Allocate fails.
  ProxyTxn* OldestLingering() {
    return linger_head_ == 0 ? nullptr : &entries_[linger_head_ - 1];
  }
  uint32_t lingering() const { return lingering_; }
  // The entry in use with this key, or nullptr.
  ProxyTxn* Find(uint64_t key);
  // The entry at `index` if it is in use and the low kGenerationBits of its generation are
  // `generation`, else nullptr.
  ProxyTxn* Match(uint32_t index, uint32_t generation);
  static constexpr int kGenerationBits = 24;

  ProxyTxn& At(uint32_t index) { return entries_[index]; }
  uint32_t IndexOf(const ProxyTxn* t) const { return static_cast<uint32_t>(t - entries_.get()); }
  std::span<char> StoredResponse(const ProxyTxn* t) {
    return {store_.get() + size_t{IndexOf(t)} * kStoreBytes, kStoredResponseBytes};
  }
  std::span<char> StoredAck(const ProxyTxn* t) {
    return {store_.get() + size_t{IndexOf(t)} * kStoreBytes + kStoredResponseBytes,
            kStoredAckBytes};
  }
  uint32_t capacity() const { return capacity_; }
  uint32_t size() const { return size_; }
  // Bytes reserved per entry (table entry + store): the memory a transaction costs at most,
  // not counting the request's pool slot.
  static constexpr size_t BytesPerEntry() { return sizeof(ProxyTxn) + kStoreBytes; }

 private:
  uint32_t Bucket(uint64_t key) const { return static_cast<uint32_t>(key >> 32) & mask_; }
  void Unlink(ProxyTxn* t);

  uint32_t capacity_;
  uint32_t size_ = 0;
  uint32_t mask_;
  uint32_t free_head_ = 0;  // index + 1
  uint32_t linger_head_ = 0;  // index + 1: oldest lingering entry
  uint32_t linger_tail_ = 0;
  uint32_t lingering_ = 0;
  std::unique_ptr<ProxyTxn[]> entries_;
  std::unique_ptr<char[]> store_;       // uninitialised on purpose (see the file comment)
  std::vector<uint32_t> buckets_;       // index + 1 of the chain head; 0 = empty
};

// The server-transaction key of a request (RFC 3261 §17.2.3): with a magic-cookie branch, the
// branch, the top Via's sent-by and the method (ACK and CANCEL given as "INVITE" by the caller
// when it looks for the INVITE they belong to); otherwise the RFC 2543 fallback: Request-URI,
// From tag, Call-ID, CSeq number, the top Via and the method. A 64-bit hash stands for the
// fields: two live transactions of one shard collide with odds of about n / 2^64.
uint64_t ServerKey(const Message& request, std::string_view method);

}  // namespace sipring::sip

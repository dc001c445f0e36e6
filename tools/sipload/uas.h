// File: tools/sipload/uas.h
//
// UasApp: one shard of `sipload uas`, a SIP backend for load tests. All shards share the listen
// port (SO_REUSEPORT); the kernel's hash keeps one peer's datagrams, retransmissions included, on
// one shard.
//
// It answers without per-call state, from each request alone (sip::Parse, then
// sip::BuildResponse): INVITE -> 100, 180, 200 (To-tag derived from the request, so a
// retransmission gets the same one; Record-Route copied, Contact, SDP answer); BYE, OPTIONS,
// REGISTER and anything else -> 200; CANCEL -> 200, plus 487 for the INVITE when that INVITE is
// still waiting for its delayed answer or was dropped; ACK -> nothing.
//
// Behaviour for failover and overload tests, for INVITE and REGISTER only (OPTIONS are always
// answered at once, because proxies probe their backends with them): --drop-ratio of them are
// never answered, --fail-ratio get --fail-code, both chosen by a hash of the Call-ID so that a
// retransmission is treated like its original; --delay-ms holds the 180 and the final answer
// (the request is copied into a transmit slot, a wheel timer sends the answers). It does not
// retransmit its 2xx: a lost 200 is recovered by the caller's INVITE retransmission.
//
// By default a datagram wakes the shard and is answered at once, as a backend should; with
// --tick-us the shard works in ticks (ShardApp::NextWait), trading up to a tick of answer delay
// for fewer wake-ups.
//
// It counts every request by method, and separately those it has seen before (same Call-ID,
// CSeq, method and top Via branch: retransmissions), in a bounded two-generation set of hashes.
//
// Nothing is allocated per request: answers go out from transmit slots of the shard's pool;
// the pending table, its index and the seen-set are sized at Start.
//
// Ownership and threads: created by the ShardGroup factory, run on its shard thread; the caller
// owns the UasStats it writes (counters: read from any thread).
//
// Example:
//   engine::ShardGroup group(opts, [&](int i) {
//     return std::make_unique<UasApp>(options, stats[i].get(), &ports[i]);
//   });
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/shard.h"
#include "sip/message.h"
#include "sip/parser.h"
#include "sip/response_builder.h"
#include "tools/sipload/load_options.h"
#include "tools/sipload/load_stats.h"
#include "transports/udp_socket.h"

namespace sipring::sipload {

// A set of 64-bit keys that remembers at least the last `capacity / 2` insertions: two
// open-addressed tables, the older dropped wholesale when the newer is half full. Bounded
// memory, no allocation after construction, O(1) expected. Key 0 is stored as 1.
class SeenSet {
 public:
  explicit SeenSet(size_t capacity);  // slots per generation; rounded up to a power of two
  // Inserts `key`; false when it was already there.
  bool Insert(uint64_t key);

 private:
  static bool Find(const std::vector<uint64_t>& table, uint64_t key, size_t mask, size_t* at);
  std::vector<uint64_t> current_;
  std::vector<uint64_t> previous_;
  size_t mask_;
  size_t count_ = 0;
};

class UasApp : public engine::ShardApp, public transports::UdpSocket::Sink {
 public:
  // `stats` and `bound_port` outlive the app (a shard destroys its app when its thread ends);
  // the app stores the port it bound once started.
  UasApp(const UasOptions& options, UasStats* stats, std::atomic<uint16_t>* bound_port);
  ~UasApp() override;

  // ShardApp
  absl::Status Start(engine::Shard& shard) override;
  void OnLoop(uint64_t now_ms) override;
  Wait NextWait() override;
  void Stop() override;
  // UdpSocket::Sink
  void OnDatagram(transports::UdpSocket& socket, const transports::Datagram& d) override;

 private:
  // What a request gets, decided by the hash of its Call-ID.
  enum class Fate : uint8_t {
    kAnswer,  // the normal answer
    kFail,    // --fail-code
    kDrop,    // no answer at all
  };
  // An answer held for --delay-ms: the request's bytes in a transmit slot, where to send.
  // `timer` comes first: its callback finds the entry from the Timer's address.
  struct Pending {
    engine::Timer timer;
    uint64_t call_hash;
    uint16_t bid;
    uint16_t length;
    bool in_use;
    socklen_t peer_len;
    sockaddr_in6 peer;  // room for either family
  };

  static void OnPendingTimer(engine::Timer* t);
  Fate FateOf(uint64_t call_hash) const;
  void OnRequest(const sip::Message& req, const transports::Datagram& d);
  // Sends the 180 and final answer (200 with Record-Route, Contact and SDP, or the fail code).
  void AnswerFinal(const sip::Message& req, Fate fate, const sockaddr* peer, socklen_t len);
  bool Respond(const sip::Message& req, const sip::ResponseSpec& spec, const sockaddr* peer,
               socklen_t len);
  bool Hold(const transports::Datagram& d, uint64_t call_hash);
  void ReleasePending(uint32_t index);

  const UasOptions& options_;
  UasStats& stats_;
  std::atomic<uint16_t>& bound_port_;
  engine::Shard* shard_ = nullptr;
  std::unique_ptr<transports::UdpSocket> socket_;
  sip::Message message_;        // the request being answered; reused
  sip::ParseLimits limits_;
  char contact_[INET6_ADDRSTRLEN + 32];
  size_t contact_len_ = 0;
  char sdp_[256];
  size_t sdp_len_ = 0;
  std::vector<Pending> pending_;
  std::vector<uint32_t> free_pending_;
  absl::flat_hash_map<uint64_t, uint32_t> pending_by_call_;
  SeenSet seen_;
};

}  // namespace sipring::sipload

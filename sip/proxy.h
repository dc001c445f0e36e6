// File: sip/proxy.h
//
// Proxy: the per-shard SIP proxy over UDP, stateless (RFC 3261 §16.11). One instance per shard,
// created by the daemon's ShardGroup factory. It owns the shard's UDP sockets: one SO_REUSEPORT
// listener per configured address, and one outbound socket per address family from which every
// forwarded request leaves, so that a backend's answer (sent to our Via) comes back to this shard.
//
// Per datagram (no heap allocation, the message is never copied):
//   parse in place -> verdict (400/413/414/416/420/483/513... with a reason naming the fault)
//   -> OPTIONS to the proxy itself: 200 -> loop (our own Via with the same loop hash): 482
//   -> new work while the pool is below its low watermark, or the peer over its quota: fast 503
//      + Retry-After built in place in the received slot; in-progress work (ACK, CANCEL, in-dialog
//      requests, responses) still passes
//   -> next hop (see below) -> ForwardRequest gather list over the slot -> sendmsg.
//   Responses: pop our Via, send to the next Via (received/rport, else sent-by).
//
// Next hop of a request, in order:
//   1. a Route naming us is popped (its sr-be parameter remembered);
//   2. a remaining Route is the next hop (loose routing; IP literals only: no DNS on the data path);
//   3. a request from a backend (in-dialog, towards a caller) goes to its Request-URI;
//   4. sr-be=<tag> from our Record-Route names the dialog's backend: that one, unless it is down
//      (a draining backend still finishes its dialogs);
//   5. otherwise the balancer's stateless choice, a function of the Call-ID (PickStateless),
//      among the backends that take new work (up, or probing at start).
// Backend health comes from the health thread's BackendStates snapshot, copied into this shard's
// eligibility arrays once per loop turn when its generation moved (sip/backend_state.h).
// A 503 from a backend goes back as a PassiveSignal (at most one per backend per 100 ms) so the
// health thread probes it at once.
// Why a function of the Call-ID and no table: RFC 3261 §16.11 requires a stateless proxy to send
// a retransmission where it sent the original, so its choice cannot depend on time or order;
// a function of the Call-ID also sends CANCEL, ACK and in-dialog requests from peers that ignore
// Record-Route to the INVITE's backend, on any shard, across restarts, with no memory per dialog.
// The Record-Route tag (step 4) keeps a dialog on its backend even when the backend set changes
// mid-call (a backend added moves some Call-IDs' hash). Exact round-robin sequencing needs the
// transaction layer, which remembers its choice.
//
// Our Via branch is "z9hG4bKsr" + instance id (8 hex) + transaction hash (16 hex, §16.11: equal for
// retransmissions) + loop hash (8 hex over Request-URI, From tag, To tag, Call-ID, CSeq number and
// Route, §16.6 step 8). A request carrying a Via with our instance id and its own loop hash has
// been here before unchanged: a loop (482). A spiral (changed Request-URI or Route) passes.
//
// Threads: everything runs on the owning shard's thread. ProxyShared is read-only after start and
// shared by all shards; ProxyCounters are written by one shard and read by the admin thread
// (relaxed atomics).
//
// Example (daemon wiring):
//   sip::ProxyShared shared = ...;                 // listeners, backends, balancer, limits
//   std::vector<std::unique_ptr<sip::ProxyCounters>> counters = ...;  // one per shard
//   engine::ShardGroup group(options, [&](int i) {
//     return std::make_unique<sip::Proxy>(shared, counters[i].get());
//   });
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "engine/counter.h"
#include "engine/latency_histogram.h"
#include "engine/log.h"
#include "engine/quota.h"
#include "engine/shard.h"
#include "sip/backend_state.h"
#include "sip/balancer.h"
#include "sip/message.h"
#include "sip/parser.h"
#include "sip/proxy_transaction.h"
#include "sip/request_builder.h"
#include "sip/request_check.h"
#include "sip/transaction.h"
#include "transports/sock_addr.h"
#include "transports/socket_options.h"
#include "transports/udp_socket.h"

namespace sipring::sip {

// Methods counted separately in metrics; everything else is kOther.
enum class MethodIndex : uint8_t {
  kInvite, kAck, kBye, kCancel, kOptions, kRegister, kSubscribe, kNotify, kMessage, kInfo,
  kUpdate, kPrack, kRefer, kPublish,
  kOther,  // any other method, extension methods included
};
inline constexpr size_t kMethodIndexCount = 15;
std::string_view MethodIndexName(MethodIndex m);  // "INVITE"..., "other"
MethodIndex ClassifyMethod(std::string_view method);

// Why a request was answered by the proxy itself instead of being forwarded (metric label
// sipring_rejected_total{reason}). Named load-shedding points (STYLE.md rule 14).
enum class RejectReason : uint8_t {
  kPoolLow,        // "pool_low": shard's free buffers under the low watermark: 503
  kEndpointQuota,  // "endpoint_quota": the peer sent more new requests this turn than its quota: 503
  kNoBackend,      // "no_backend": no backend of the group is up: 503
  kBadRequest,     // "bad_request": malformed or unsupported (400/413/414/416/420/501/505/513)
  kTooManyHops,    // "too_many_hops": Max-Forwards reached 0: 483
  kLoop,           // "loop": the request came back unchanged: 482
  kBadNextHop,     // "bad_next_hop": a Route/Request-URI next hop that is not an IP literal: 502
  kTransactionLimit,  // "transaction_limit": stateful mode, the shard's table is full: 503
};
inline constexpr size_t kRejectReasonCount = 8;
std::string_view RejectReasonName(RejectReason r);

// Why a datagram was dropped without an answer (sipring_dropped_total{reason}).
enum class DropReason : uint8_t {
  kMalformedResponse,  // "malformed_response": a response that does not parse or has no Via
  kNotOurVia,          // "not_our_via": a response whose top Via is not ours
  kNoResponseRoute,    // "no_response_route": next Via has no usable address
  kUnanswerable,       // "unanswerable": a bad request we cannot answer (no Via, or an ACK)
  kSendFailed,         // "send_failed": send table full or no scratch slot
  kLateResponse,       // "late_response": stateful, from a try we gave up on or a transaction
                       // that has ended (a late 2xx is still relayed, RFC 3261 §16.7)
};
inline constexpr size_t kDropReasonCount = 6;

// Why a stateful request went on to another backend (sipring_failovers_total{reason}).
enum class FailoverReason : uint8_t {
  kTimeout,  // "timeout": no response within the per-try timeout (or Timer B/F)
  kStatus,   // "status": a final response with one of the failover codes (503 by default)
};
inline constexpr size_t kFailoverReasonCount = 2;
std::string_view FailoverReasonName(FailoverReason r);
std::string_view DropReasonName(DropReason r);

// One shard's counters; the admin thread sums them over shards at scrape time.
struct ProxyCounters {
  explicit ProxyCounters(size_t backends) : backend_requests(backends) {}
  std::array<engine::Counter, kMethodIndexCount> requests;        // received, by method
  std::array<engine::Counter, 6> responses;                       // forwarded, by class 1xx..6xx
  engine::Counter forwarded_requests;
  engine::Counter forwarded_responses;
  engine::Counter self_options;                                   // OPTIONS answered 200 by us
  engine::Counter absorbed_acks;  // ACKs for our own non-2xx answers, ended here
  // Stateful mode.
  engine::Counter transactions_live;        // gauge, published once per loop turn
  engine::Counter transactions_lingering;   // gauge: of those, finished and only absorbing
  engine::Counter transactions_started;
  engine::Counter transactions_reclaimed;   // lingering entries retired early for new requests
  engine::Counter retransmissions_absorbed; // request retransmissions answered from a transaction
  engine::Counter request_retransmissions;  // Timer A/E: requests sent again to a backend
  engine::Counter response_retransmissions; // responses sent again to a caller (G, or asked)
  engine::Counter not_stored;               // a response or ACK too big to keep for resending
  std::array<engine::Counter, kFailoverReasonCount> failovers;
  engine::Counter timeouts;                 // requests we answered 408 after every try
  engine::Counter cancels;                  // caller CANCELs matched to a transaction
  std::array<engine::Counter, kRejectReasonCount> rejected;
  std::array<engine::Counter, kDropReasonCount> dropped;
  std::vector<engine::Counter> backend_requests;                  // requests forwarded, per backend
  engine::LatencyHistogram added_latency;  // kernel arrival to send submitted, microseconds
  // Pool state, published by the shard once per loop turn.
  engine::Counter pool_free;
  engine::Counter pool_lowest_free;
  engine::Counter pool_enobufs;
  engine::Counter pool_total;
};

struct ProxyBackend {
  std::string name;
  transports::SockAddr address;  // resolved at start-up
};

// Read-only after start-up; shared by every shard.
struct ProxyShared {
  std::vector<transports::SockAddr> listen;  // UDP listeners (each shard binds each one)
  transports::SocketOptions listen_socket;   // rcvbuf/sndbuf of the listeners
  std::vector<ProxyBackend> backends;        // index = balancer index
  std::optional<Balancer> balancer;          // prototype: each shard copies it (cursors)
  int default_group = 0;
  ParseLimits limits;
  bool record_route = true;
  int retry_after_s = 5;                     // < 0: no Retry-After
  uint32_t endpoint_quota = 256;             // new requests per peer per loop turn
  uint32_t instance_id = 0;                  // random per process start: marks our Via branches
  // Published by the health thread; never null once the daemon starts shards.
  const BackendStates* states = nullptr;
  // Stateful mode ([balancer] mode = "stateful"): RFC 3261 transactions with failover.
  bool stateful = false;
  TxnTimerValues timers;
  uint32_t max_transactions = 32768;  // per shard
  uint32_t per_try_timeout_ms = 1000;
  uint32_t total_deadline_ms = 5000;
  std::vector<int> failover_codes = {503};
};


class Proxy : public engine::ShardApp, public transports::UdpSocket::Sink, public TxnUser {
 public:
  // `signals` (this shard's queue towards the health thread) may be null: no passive signals.
  Proxy(const ProxyShared& shared, ProxyCounters* counters, PassiveSignalQueue* signals = nullptr);
  ~Proxy() override;

  // ShardApp
  absl::Status Start(engine::Shard& shard) override;
  void OnLoop(uint64_t now_ms) override;
  void Stop() override;
  // UdpSocket::Sink
  void OnDatagram(transports::UdpSocket& socket, const transports::Datagram& d) override;
  // TxnUser (stateful mode; sip/proxy_stateful.cc)
  void RetransmitRequest(ClientTxn& t) override;
  void SendAck(ClientTxn& t) override;
  void ClientTimedOut(ClientTxn& t) override;
  void ClientTerminated(ClientTxn& t) override;
  void RetransmitResponse(ServerTxn& t) override;
  void ServerTimedOut(ServerTxn& t) override;
  void ServerTerminated(ServerTxn& t) override;

  // The bound listener addresses (port 0 resolved) and outbound sockets; valid after Start.
  std::vector<transports::SockAddr> listen_addresses() const;

 private:
  struct Family {
    std::unique_ptr<transports::UdpSocket> outbound;
    std::string via_host;       // our address as written in Via ("[::1]" for IPv6)
    uint16_t via_port = 0;
    transports::UdpSocket* listener = nullptr;  // first listener of the family: sends responses
  };
  struct Listener {
    std::unique_ptr<transports::UdpSocket> socket;
    std::string route_host;     // as written in Record-Route
    uint16_t route_port = 0;
  };

  void OnRequest(transports::UdpSocket& socket, const Listener* via_listener,
                 const transports::Datagram& d, ParseError perr);
  void OnResponse(const transports::Datagram& d, ParseError perr);
  // Sends the current response (msg_) on towards the next Via; false when it was dropped
  // (counted). With `store`, also keeps a flat copy in `txn`'s store for retransmissions.
  bool RelayResponse(const transports::Datagram& d, ProxyTxn* txn);
  void Reply(transports::UdpSocket& socket, const transports::Datagram& d, int status,
             std::string_view reason, int retry_after);
  void Reject(transports::UdpSocket& socket, const transports::Datagram& d, RejectReason why,
              int status, std::string_view reason, int retry_after = -1);
  // What Forward() sends: the request `msg` parsed from `payload` in pool slot `bid` (with `room`
  // free bytes after it for the inserted pieces), where, and with which branch.
  struct ForwardJob {
    const Message* msg;
    char* payload;
    uint32_t length;
    uint32_t room;
    uint16_t bid;
    const transports::SockAddr* to;
    const Listener* listener;
    const char* loop_hex;          // the request's loop hash (kLoopHex digits)
    std::string_view rr_param;     // Record-Route parameter naming the backend, or empty
    std::string_view source_host;  // the previous hop as seen on the wire (received/rport)
    uint16_t source_port;
    const char* tx_hex = nullptr;  // kTxHex digits of a transaction branch; null: stateless
  };
  bool Forward(const ForwardJob& job);
  std::string_view BackendParam(int backend, char* out) const;
  // Our Via branch (see sip/internal/proxy_branch.h) from its transaction and loop-hash digits,
  // written to out[0..kBranchSize).
  void WriteBranch(const char* tx_hex, const char* loop_hex, char* out) const;

  // Stateful mode (sip/proxy_stateful.cc).
  // A request that belongs to a live transaction: a retransmission, the ACK of our non-2xx or a
  // CANCEL. True when it was dealt with here; false: go on (a new transaction, or stateless).
  bool OnRequestInTransaction(transports::UdpSocket& socket, const transports::Datagram& d,
                              MethodIndex method, uint64_t key);
  void StartTransaction(transports::UdpSocket& socket, const Listener& listener,
                        const transports::Datagram& d, MethodIndex method, uint64_t key,
                        const transports::SockAddr& to, int backend, bool balanced,
                        uint32_t loop, bool skip_route);
  void OnTransactionResponse(const transports::Datagram& d, std::string_view tx_hex);
  bool StartTry(ProxyTxn* t, const Message& request, const transports::SockAddr& to);
  // Forwards the held request as try `try_index` (its branch) to `to`.
  bool ForwardTry(ProxyTxn* t, const Message& request, const transports::SockAddr& to,
                  int try_index);
  bool TryFailover(ProxyTxn* t, FailoverReason why);
  void OnTryTimer(ProxyTxn* t);
  static void TryTimerFired(engine::Timer* timer);
  // Our own final answer to the caller (408, 487, 500), built from the held request.
  void AnswerCaller(ProxyTxn* t, int status, std::string_view reason);
  // Builds `status` for the request `msg` of `t`, sends it to the caller, keeps a copy.
  bool SendOwnResponse(ProxyTxn* t, const Message& msg, int status, std::string_view reason);
  void SendCancel(ProxyTxn* t);
  // Sends what `build` writes into a fresh pool slot (it returns the size, 0 = nothing to send);
  // a failure is counted as send_failed.
  bool SendBuilt(transports::UdpSocket* socket, const sockaddr* to, socklen_t to_len,
                 absl::FunctionRef<size_t(std::span<char>)> build);
  // SendBuilt of a stored copy.
  bool SendCopy(transports::UdpSocket* socket, const sockaddr* to, socklen_t to_len,
                std::span<const char> data);
  transports::UdpSocket* Outbound(int family);  // this family's socket towards backends
  const Message* ParseHeldRequest(ProxyTxn* t);
  // Builds our CANCEL or ACK for try `try_index` of `t` (request: its held request; to: the
  // response's To for an ACK) into `out`. Returns its size, 0 when it does not fit.
  size_t BuildHop(const ProxyTxn* t, const Message& request, HopMethod method, int try_index,
                  std::string_view to, std::span<char> out) const;
  // Ends a transaction no backend answered: 408 (487 once cancelled) to the caller.
  void GiveUp(ProxyTxn* t);
  void TxHex(const ProxyTxn* t, int try_index, char* out) const;
  void ReleaseRequest(ProxyTxn* t);
  // Frees the entry once every machine is done; marks it lingering once it only absorbs.
  void MaybeFinish(ProxyTxn* t);
  // Ends the entry now, whatever its machines are doing (timers cancelled, slot released).
  void Retire(ProxyTxn* t);
  ProxyTxn* TxnOf(const ClientTxn& c) { return &table_->At(c.id() / 2); }
  transports::UdpSocket* ListenerSocket(const ProxyTxn* t);
  bool AddressedToUs(const Listener& listener) const;
  bool IsLoop(std::string_view loop_hex) const;
  int BackendBySource(const sockaddr* peer) const;
  void RecordLatency(const transports::Datagram& d);
  void RefreshBackendStates();
  void SignalBackend(const sockaddr* peer, PassiveSignal::Kind kind);
  void SignalBackend(int backend, PassiveSignal::Kind kind);
  // Where answers to a request go: its source, with the Via's port unless rport was asked for.
  static void ReplyAddress(const Via& via, const sockaddr* peer, socklen_t peer_len,
                           sockaddr_storage* to);
  void StartTransactions();  // stateful mode: the table, its machines bound to this shard
  void StopTransactions();   // cancels every timer and releases every held slot

  const ProxyShared& shared_;
  ProxyCounters* counters_;
  Balancer balancer_;  // this shard's copy (Pick() cursors are per copy)
  engine::Shard* shard_ = nullptr;
  std::unique_ptr<Message> msg_;
  std::vector<Listener> listeners_;
  Family v4_, v6_;
  CheckOptions check_options_;
  char instance_hex_[8];
  char tag_prefix_[10];  // "sr" + instance_hex_: starts the To tag of our own answers
  // Per-peer quota of new requests in this loop turn; cleared at the end of each turn.
  engine::QuotaTable quota_;
  engine::LogRateLimiter bad_request_log_{5, 20};
  engine::LogRateLimiter reject_log_{5, 20};
  engine::LogRateLimiter failover_log_{5, 20};
  uint64_t next_log_flush_ms_ = 0;
  std::vector<engine::EndpointKey> quota_taken_;
  // This shard's copy of the health snapshot: 1 = may take new work / dialog requests.
  std::vector<uint8_t> new_work_;
  std::vector<uint8_t> dialogs_;
  uint64_t states_seen_ = 0;
  PassiveSignalQueue* signals_;           // may be null
  std::vector<uint64_t> last_signal_ms_;  // per backend: rate limit of passive signals
  uint64_t now_ms_ = 0;                   // loop time, for the rate limit
  // Stateful mode: null in stateless mode.
  std::unique_ptr<ProxyTxnTable> table_;
  std::unique_ptr<Message> held_msg_;     // a held request, parsed again when it is needed
  std::vector<uint8_t> eligible_;         // scratch: backends a failover may choose
  std::vector<uint8_t> failover_code_;    // indexed by status code: 1 = try the next backend
};

}  // namespace sipring::sip

// The stateful half of Proxy (see sip/proxy.h, "Stateful mode"): RFC 3261 transactions under the
// proxy, serial failover across backends, CANCEL (§9.2, §16.10) and hop-by-hop ACK (§17.1.1.3).
// Everything here runs on the shard thread; the ProxyTxn table and its stores are this shard's.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/functional/function_ref.h"
#include "engine/log.h"
#include "sip/internal/hash.h"
#include "sip/internal/proxy_branch.h"
#include "sip/proxy.h"
#include "sip/request_builder.h"
#include "sip/response_builder.h"

namespace sipring::sip {
namespace {

using sip_internal::kBranchPrefix;
using sip_internal::kBranchSize;
using sip_internal::kInstanceHex;
using sip_internal::kLoopHex;
using sip_internal::kTxHex;
using sip_internal::kTxnGenerationHex;
using sip_internal::kTxnIndexHex;
using sip_internal::kTxnMark;
using sip_internal::kTxnTryHex;
using transports::Datagram;
using transports::SockAddr;
using transports::UdpSocket;

// RFC 3261 §16.6 step 11: Timer C, reset by every provisional, "MUST be larger than 3 minutes".
constexpr uint64_t kTimerCMs = 181000;

const sockaddr* Sa(const sockaddr_in6& a) { return reinterpret_cast<const sockaddr*>(&a); }
socklen_t SaLen(const sockaddr_in6& a) {
  return a.sin6_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}
void Keep(const sockaddr* sa, socklen_t len, sockaddr_in6* out) {
  *out = {};
  std::memcpy(out, sa, std::min<size_t>(len, sizeof(*out)));
}
bool IsInvite(const ProxyTxn* t) { return t->method == uint8_t(MethodIndex::kInvite); }

}  // namespace

void Proxy::StartTransactions() {
  table_ = std::make_unique<ProxyTxnTable>(shared_.max_transactions);
  held_msg_ = std::make_unique<Message>();
  eligible_.assign(shared_.backends.size(), 0);
  failover_code_.assign(700, 0);
  for (int c : shared_.failover_codes) {
    if (c >= 300 && c < 700) failover_code_[size_t(c)] = 1;
  }
  engine::TimerWheel* wheel = &shard_->timers();
  for (uint32_t i = 0; i < table_->capacity(); ++i) {
    ProxyTxn& t = table_->At(i);
    t.server.Init(this, wheel, &shared_.timers, i);
    // Client machines: 2i is the try, 2i + 1 our CANCEL of it (TxnOf() divides by two).
    t.client.Init(this, wheel, &shared_.timers, 2 * i);
    t.cancel.Init(this, wheel, &shared_.timers, 2 * i + 1);
    t.try_timer.on_expire = &TryTimerFired;
    t.try_timer.context = reinterpret_cast<uint64_t>(&t);
  }
}

void Proxy::StopTransactions() {
  if (table_ == nullptr) return;
  for (uint32_t i = 0; i < table_->capacity(); ++i) {
    ProxyTxn& t = table_->At(i);
    if (t.in_use) Retire(&t);
  }
}

bool Proxy::OnRequestInTransaction(UdpSocket& socket, const Datagram& d, MethodIndex method,
                                   uint64_t key) {
  ProxyTxn* t = table_->Find(key);
  if (method == MethodIndex::kAck) {
    // The ACK for our non-2xx final ends here (hop by hop); an ACK for a 2xx has a branch of its
    // own, matches nothing, and goes on end to end.
    if (t == nullptr || !t->server.OnAck()) return false;
    counters_->absorbed_acks.Add();
    MaybeFinish(t);
    return true;
  }
  if (method == MethodIndex::kCancel) {
    // §16.10: without a matching INVITE transaction the CANCEL is forwarded statelessly.
    if (t == nullptr) return false;
    counters_->cancels.Add();
    Reply(socket, d, 200, {}, -1);
    if (!t->final_sent && !t->cancelled) {
      t->cancelled = true;
      // §9.1: a CANCEL may only follow a provisional response; until one comes it waits.
      if (t->heard && !t->cancel_sent) SendCancel(t);
    }
    return true;
  }
  if (t == nullptr) return false;
  counters_->retransmissions_absorbed.Add();
  t->server.OnRetransmission();
  return true;
}

void Proxy::StartTransaction(UdpSocket& socket, const Listener& listener, const Datagram& d,
                             MethodIndex method, uint64_t key, const SockAddr& to, int backend,
                             bool balanced, uint32_t loop, bool skip_route) {
  ProxyTxn* t = table_->Allocate(key);
  if (t == nullptr) {
    // Full: a finished transaction that only absorbs retransmissions gives way to new work.
    if (ProxyTxn* oldest = table_->OldestLingering()) {
      Retire(oldest);
      counters_->transactions_reclaimed.Add();
      t = table_->Allocate(key);
    }
  }
  if (t == nullptr) {
    Reject(socket, d, RejectReason::kTransactionLimit, 503,
           "Service Unavailable (transaction limit)", shared_.retry_after_s);
    return;
  }
  const Message& msg = *msg_;
  counters_->transactions_started.Add();
  engine::BufferPool& pool = shard_->pool();
  t->method = uint8_t(method);
  t->listener = static_cast<uint16_t>(&listener - listeners_.data());
  Keep(d.peer, d.peer_len, &t->source);
  sockaddr_storage reply;
  ReplyAddress(msg.vias[0], d.peer, d.peer_len, &reply);
  Keep(reinterpret_cast<const sockaddr*>(&reply), d.peer_len, &t->reply_to);
  Keep(to.sa(), to.len(), &t->next_hop);
  t->loop_hash = loop;
  t->skip_route = skip_route;
  t->backend = static_cast<int16_t>(backend);
  t->balanced = balanced && backend != kNoBackend;
  t->deadline_ms = shard_->timers().now() + shared_.total_deadline_ms;
  pool.Ref(d.bid);
  t->request_bid = d.bid;
  t->request_offset = static_cast<uint16_t>(d.payload - pool.Data(d.bid));
  t->request_len = static_cast<uint16_t>(d.length);
  const bool invite = method == MethodIndex::kInvite;
  t->server.Start(invite, /*reliable=*/false);
  if (invite) {
    // 100 Trying at once (§16.2 allows it; §17.2.1 wants one within 200 ms): it stops the
    // caller's Timer A, so the INVITE is not retransmitted while backends are tried.
    SendOwnResponse(t, msg, 100, {});
    t->server.SentResponse(100);
  }
  StartTry(t, msg, to);
  RecordLatency(d);
}

void Proxy::TxHex(const ProxyTxn* t, int try_index, char* out) const {
  out[0] = kTxnMark;
  sip_internal::ToHex(table_->IndexOf(t), kTxnIndexHex, out + 1);
  sip_internal::ToHex(t->generation, kTxnGenerationHex, out + 1 + kTxnIndexHex);
  sip_internal::ToHex(static_cast<uint64_t>(try_index), kTxnTryHex,
                      out + 1 + kTxnIndexHex + kTxnGenerationHex);
}

size_t Proxy::BuildHop(const ProxyTxn* t, const Message& request, HopMethod method,
                       int try_index, std::string_view to, std::span<char> out) const {
  // Our Via exactly as the forwarder wrote it (sip/forwarder.cc), so the next hop matches our
  // CANCEL and ACK to its INVITE transaction by branch and sent-by.
  const Family& f = t->next_hop.sin6_family == AF_INET ? v4_ : v6_;
  char tx[kTxHex];
  TxHex(t, try_index, tx);
  char loop_hex[kLoopHex];
  sip_internal::ToHex(t->loop_hash, kLoopHex, loop_hex);
  char branch[kBranchSize];
  WriteBranch(tx, loop_hex, branch);
  char via[256];
  const int n = std::snprintf(via, sizeof(via), "SIP/2.0/UDP %.*s:%u;branch=%.*s",
                              int(f.via_host.size()), f.via_host.data(), unsigned{f.via_port},
                              int(kBranchSize), branch);
  if (n <= 0 || size_t(n) >= sizeof(via)) return 0;
  const HopRequestSpec spec{.method = method,
                            .via = std::string_view(via, size_t(n)),
                            .to = to,
                            .skip_routes = t->skip_route ? 1 : 0};
  size_t size = 0;
  return BuildHopRequest(request, spec, out, &size) == BuildError::kOk ? size : 0;
}

bool Proxy::StartTry(ProxyTxn* t, const Message& request, const SockAddr& to) {
  const int try_index = t->tries;
  if (t->tries < kMaxTries) {
    t->tried[t->tries] = static_cast<uint8_t>(t->backend < 0 ? 0 : t->backend);
    ++t->tries;
  }
  t->heard = false;
  t->cancel_sent = false;
  t->ack_len = 0;
  t->cancel.Reset();
  const bool sent = ForwardTry(t, request, to, try_index);
  if (t->backend >= 0) counters_->backend_requests[size_t(t->backend)].Add();
  // Started even when the send failed: Timer A/E sends it again.
  t->client.Start(IsInvite(t), /*reliable=*/false);
  const uint64_t now = shard_->timers().now();
  const uint64_t left = t->deadline_ms > now ? t->deadline_ms - now : 1;
  shard_->timers().Schedule(&t->try_timer, now + std::min<uint64_t>(shared_.per_try_timeout_ms,
                                                                     left));
  return sent;
}

bool Proxy::ForwardTry(ProxyTxn* t, const Message& request, const SockAddr& to, int try_index) {
  char tx[kTxHex];
  TxHex(t, try_index, tx);
  char loop_hex[kLoopHex];
  sip_internal::ToHex(t->loop_hash, kLoopHex, loop_hex);
  char rr_param[sip_internal::kBackendParam.size() + 1 + 8];
  char source_text[INET6_ADDRSTRLEN + 3];
  engine::BufferPool& pool = shard_->pool();
  // The inserted pieces go in the slot's tail again on every send: the previous send of this
  // slot has always left the kernel by then (a retransmission is T1 later, a failover follows a
  // response to it or its timeout).
  ForwardJob job{.msg = &request,
                 .payload = pool.Data(t->request_bid) + t->request_offset,
                 .length = t->request_len,
                 .room = pool.buffer_size() - t->request_offset - t->request_len,
                 .bid = t->request_bid,
                 .to = &to,
                 .listener = &listeners_[t->listener],
                 .loop_hex = loop_hex,
                 .rr_param = BackendParam(t->backend, rr_param),
                 .source_host = std::string_view(
                     source_text, transports::FormatHost(Sa(t->source), source_text,
                                                         sizeof(source_text))),
                 .source_port = SockAddr::PortOf(Sa(t->source)),
                 .tx_hex = tx};
  return Forward(job);
}

const Message* Proxy::ParseHeldRequest(ProxyTxn* t) {
  if (t->request_bid == transports::kNoSlot) return nullptr;
  const char* p = shard_->pool().Data(t->request_bid) + t->request_offset;
  (void)Parse(std::string_view(p, t->request_len), shared_.limits, held_msg_.get());
  return held_msg_.get();
}

void Proxy::ReleaseRequest(ProxyTxn* t) {
  if (t->request_bid == transports::kNoSlot) return;
  shard_->pool().Unref(t->request_bid);
  t->request_bid = transports::kNoSlot;
}

UdpSocket* Proxy::ListenerSocket(const ProxyTxn* t) {
  return listeners_[t->listener].socket.get();
}

namespace {

// Answered, and nothing left but absorbing retransmissions: the server has sent its final and
// waits only for Timer J (non-INVITE) or I (INVITE, ACK received; an INVITE still waiting for its
// ACK resends its final and is live), the clients are Completed (D, K) or done.
bool OnlyAbsorbing(const ProxyTxn& t) {
  using S = ServerTxn::State;
  const S s = t.server.state();
  const bool server = !t.server.active() || s == S::kConfirmed ||
                      (s == S::kCompleted && !t.server.invite());
  auto client = [](const ClientTxn& c) {
    return !c.active() || c.state() == ClientTxn::State::kCompleted;
  };
  return t.final_sent && server && client(t.client) && client(t.cancel);
}

}  // namespace

void Proxy::MaybeFinish(ProxyTxn* t) {
  if (!t->in_use) return;
  if (!t->server.active() && !t->client.active() && !t->cancel.active()) {
    Retire(t);
  } else if (!t->lingering && OnlyAbsorbing(*t)) {
    table_->Linger(t);
  }
}

void Proxy::Retire(ProxyTxn* t) {
  shard_->timers().Cancel(&t->try_timer);
  ReleaseRequest(t);
  t->server.Reset();
  t->client.Reset();
  t->cancel.Reset();
  table_->Free(t);
}

bool Proxy::SendBuilt(UdpSocket* socket, const sockaddr* to, socklen_t to_len,
                      absl::FunctionRef<size_t(std::span<char>)> build) {
  engine::BufferPool& pool = shard_->pool();
  std::optional<uint16_t> slot = pool.Take();
  if (!slot) slot = pool.TakeReply();
  const size_t n =
      slot && socket != nullptr ? build(std::span<char>(pool.Data(*slot), pool.buffer_size())) : 0;
  bool ok = false;
  if (n > 0) {
    const iovec iov{pool.Data(*slot), n};
    ok = socket->SendTo(to, to_len, &iov, 1, *slot);
  }
  if (slot) pool.Unref(*slot);
  if (!ok) counters_->dropped[size_t(DropReason::kSendFailed)].Add();
  return ok;
}

bool Proxy::SendCopy(UdpSocket* socket, const sockaddr* to, socklen_t to_len,
                     std::span<const char> data) {
  return SendBuilt(socket, to, to_len, [&](std::span<char> out) -> size_t {
    if (data.size() > out.size()) return 0;
    std::memcpy(out.data(), data.data(), data.size());
    return data.size();
  });
}

UdpSocket* Proxy::Outbound(int family) {
  return (family == AF_INET ? v4_ : v6_).outbound.get();
}

bool Proxy::SendOwnResponse(ProxyTxn* t, const Message& msg, int status, std::string_view reason) {
  ResponseSpec spec;
  spec.status = status;
  spec.reason = reason;
  spec.to_tag_prefix = std::string_view(tag_prefix_, sizeof(tag_prefix_));
  const std::span<char> store = table_->StoredResponse(t);
  const BuildResult r = BuildResponse(msg, spec, store);
  t->response_len = 0;
  if (r.error != BuildError::kOk) {
    counters_->not_stored.Add();
    return false;
  }
  t->response_len = static_cast<uint16_t>(r.size);
  return SendCopy(ListenerSocket(t), Sa(t->reply_to), SaLen(t->reply_to), store.first(r.size));
}

void Proxy::AnswerCaller(ProxyTxn* t, int status, std::string_view reason) {
  if (t->final_sent) return;
  if (const Message* request = ParseHeldRequest(t)) SendOwnResponse(t, *request, status, reason);
  t->server.SentResponse(status);
  t->final_sent = true;
  shard_->timers().Cancel(&t->try_timer);
  t->cancel.Reset();
  ReleaseRequest(t);
}

void Proxy::SendCancel(ProxyTxn* t) {
  const Message* request = ParseHeldRequest(t);
  if (request == nullptr) return;  // the final answer is in: nothing left to cancel
  SendBuilt(Outbound(t->next_hop.sin6_family), Sa(t->next_hop), SaLen(t->next_hop),
            [&](std::span<char> out) {
              return BuildHop(t, *request, HopMethod::kCancel, t->tries - 1, {}, out);
            });
  if (!t->cancel_sent) {
    t->cancel_sent = true;
    t->cancel.Start(/*invite=*/false, /*reliable=*/false);
    // The INVITE must now end with a 487 (or any final); if the backend never sends one, this
    // guard ends it after 64*T1 as Timer B would.
    shard_->timers().Schedule(&t->try_timer,
                              shard_->timers().now() + 64ull * shared_.timers.t1_ms);
  }
}

bool Proxy::TryFailover(ProxyTxn* t, FailoverReason why) {
  SignalBackend(t->backend, why == FailoverReason::kTimeout ? PassiveSignal::Kind::kTimeout
                                                            : PassiveSignal::Kind::k503);
  if (!t->balanced || t->cancelled || t->final_sent || t->tries >= kMaxTries ||
      shard_->timers().now() >= t->deadline_ms) {
    return false;
  }
  const Message* request = ParseHeldRequest(t);
  if (request == nullptr) return false;
  eligible_ = new_work_;
  for (int i = 0; i < t->tries; ++i) eligible_[t->tried[i]] = 0;
  const int next =
      balancer_.PickStateless(shared_.default_group, CallIdHash(request->call_id), eligible_);
  if (next == kNoBackend) return false;
  counters_->failovers[size_t(why)].Add();
  if (engine::LogEnabled(engine::LogLevel::kInfo)) {
    engine::LogLimited(failover_log_, engine::LogLevel::kInfo, "failover",
                       {{"shard", shard_->index()},
                        {"from", shared_.backends[size_t(t->backend)].name},
                        {"to", shared_.backends[size_t(next)].name},
                        {"why", FailoverReasonName(why)},
                        {"status", int(t->failover_status)},
                        {"try", int(t->tries) + 1}});
  }
  t->client.Reset();
  shard_->timers().Cancel(&t->try_timer);
  t->backend = static_cast<int16_t>(next);
  const SockAddr& to = shared_.backends[size_t(next)].address;
  Keep(to.sa(), to.len(), &t->next_hop);
  StartTry(t, *request, to);
  return true;
}

void Proxy::TryTimerFired(engine::Timer* timer) {
  ProxyTxn* t = reinterpret_cast<ProxyTxn*>(timer->context);
  static_cast<Proxy*>(t->client.user())->OnTryTimer(t);
}

void Proxy::OnTryTimer(ProxyTxn* t) {
  if (!t->heard) {
    // The per-try timeout: not a word from this backend.
    if (!TryFailover(t, FailoverReason::kTimeout)) GiveUp(t);
    return;
  }
  if (!t->cancel_sent && !t->final_sent) {
    SendCancel(t);  // Timer C: ringing too long (§16.8); the backend answers 487
    return;
  }
  GiveUp(t);  // our CANCEL brought no final answer either
}

void Proxy::GiveUp(ProxyTxn* t) {
  t->client.Reset();
  t->cancel.Reset();
  counters_->timeouts.Add();
  AnswerCaller(t, t->cancelled ? 487 : 408, {});
  MaybeFinish(t);
}

void Proxy::OnTransactionResponse(const Datagram& d, std::string_view tx) {
  const Message& msg = *msg_;
  uint32_t index = 0, generation = 0, try_index = 0;
  if (!sip_internal::FromHex(tx.substr(1, kTxnIndexHex), &index) ||
      !sip_internal::FromHex(tx.substr(1 + kTxnIndexHex, kTxnGenerationHex), &generation) ||
      !sip_internal::FromHex(tx.substr(1 + kTxnIndexHex + kTxnGenerationHex, kTxnTryHex),
                             &try_index)) {
    counters_->dropped[size_t(DropReason::kNotOurVia)].Add();
    return;
  }
  const int code = msg.status_code;
  const bool to_cancel = msg.cseq.method == "CANCEL";
  const bool invite_2xx = code >= 200 && code < 300 && msg.cseq.method == "INVITE";
  ProxyTxn* t = table_->Match(index, generation);
  if (t == nullptr) {
    // The transaction has ended. A 2xx to an INVITE is the callee retransmitting it until its
    // ACK arrives, and goes on statelessly (§16.7: every 2xx is forwarded).
    if (invite_2xx) {
      RelayResponse(d, nullptr);
    } else {
      counters_->dropped[size_t(DropReason::kLateResponse)].Add();
    }
    return;
  }
  const int current = t->tries - 1;
  if (to_cancel) {
    // The answer to our CANCEL: ours to absorb (we answered the caller's CANCEL ourselves).
    if (int(try_index) == current && t->cancel.active()) {
      (void)t->cancel.OnResponse(code);
      MaybeFinish(t);
    }
    return;
  }
  if (int(try_index) != current) {
    // A try we gave up on. Its 2xx still goes to the caller (a forking proxy does the same; the
    // caller ACKs it and may hang up, §13.2.2.4); its non-2xx gets our ACK so it stops.
    if (invite_2xx) {
      RelayResponse(d, nullptr);
      return;
    }
    if (IsInvite(t) && code >= 300) {
      if (const Message* request = ParseHeldRequest(t)) {
        const Header* to = msg.Find(HeaderId::kTo);
        SendBuilt(Outbound(d.peer->sa_family), d.peer, d.peer_len, [&](std::span<char> out) {
          return BuildHop(t, *request, HopMethod::kAck, int(try_index),
                          to != nullptr ? to->value : std::string_view(), out);
        });
      }
    }
    counters_->dropped[size_t(DropReason::kLateResponse)].Add();
    return;
  }

  const bool invite = IsInvite(t);
  if (!t->heard) {
    t->heard = true;
    shard_->timers().Cancel(&t->try_timer);
  }
  if (invite && code > 100 && code < 200 && !t->cancel_sent) {
    shard_->timers().Schedule(&t->try_timer, shard_->timers().now() + kTimerCMs);
  }
  // May call SendAck (a non-2xx final to an INVITE), which reads this response's To.
  if (t->client.OnResponse(code) == ClientTxn::Disposition::kAbsorb) {
    MaybeFinish(t);
    return;
  }
  if (code < 200) {
    if (t->cancelled && !t->cancel_sent) SendCancel(t);
    // §16.7 step 3 / §16.2: a 100 is hop by hop (we sent our own).
    if (code > 100 && !t->final_sent && RelayResponse(d, t)) t->server.SentResponse(code);
    return;
  }
  if (t->final_sent) {
    // We answered already (a timeout); only a 2xx still matters to the caller.
    if (invite_2xx) RelayResponse(d, nullptr);
    MaybeFinish(t);
    return;
  }
  if (code >= 300 && failover_code_[size_t(code)]) {
    t->failover_status = static_cast<int16_t>(code);
    if (TryFailover(t, FailoverReason::kStatus)) return;
  }
  if (code == 503) {
    // §16.7 step 6: a 503 says the backend is unavailable, not us; passed on, it would make the
    // caller's proxy take us out of service.
    AnswerCaller(t, 500, "Server Internal Error (no backend could take the request)");
  } else {
    // An INVITE 2xx ends both transactions: no copy to keep.
    RelayResponse(d, invite_2xx ? nullptr : t);
    t->server.SentResponse(code);
    t->final_sent = true;
    shard_->timers().Cancel(&t->try_timer);
    t->cancel.Reset();
    ReleaseRequest(t);
  }
  MaybeFinish(t);
}

// TxnUser

void Proxy::RetransmitRequest(ClientTxn& c) {
  ProxyTxn* t = TxnOf(c);
  if (&c == &t->cancel) {
    counters_->request_retransmissions.Add();
    SendCancel(t);
    return;
  }
  const Message* request = ParseHeldRequest(t);
  if (request == nullptr) return;
  counters_->request_retransmissions.Add();
  // Resend as the same try: this try's branch, to the same next hop.
  const SockAddr to = SockAddr::FromSockaddr(Sa(t->next_hop), SaLen(t->next_hop));
  (void)ForwardTry(t, *request, to, t->tries - 1);
}

void Proxy::SendAck(ClientTxn& c) {
  ProxyTxn* t = TxnOf(c);
  const std::span<char> store = table_->StoredAck(t);
  if (t->ack_len == 0) {
    // The first final: build the ACK from the request (still held) and this response's To.
    const Message* request = ParseHeldRequest(t);
    if (request == nullptr) return;
    const Header* to = msg_->Find(HeaderId::kTo);
    t->ack_len = static_cast<uint16_t>(
        BuildHop(t, *request, HopMethod::kAck, t->tries - 1,
                 to != nullptr ? to->value : std::string_view(), store));
    if (t->ack_len == 0) {
      counters_->not_stored.Add();
      return;
    }
  }
  SendCopy(Outbound(t->next_hop.sin6_family), Sa(t->next_hop), SaLen(t->next_hop),
           store.first(t->ack_len));
}

void Proxy::ClientTimedOut(ClientTxn& c) {
  ProxyTxn* t = TxnOf(c);
  if (&c == &t->cancel || t->final_sent) {
    MaybeFinish(t);
    return;
  }
  if (!t->heard && TryFailover(t, FailoverReason::kTimeout)) return;
  GiveUp(t);
}

void Proxy::ClientTerminated(ClientTxn& c) { MaybeFinish(TxnOf(c)); }

void Proxy::RetransmitResponse(ServerTxn& s) {
  ProxyTxn* t = &table_->At(s.id());
  if (t->response_len == 0) {
    counters_->not_stored.Add();
    return;
  }
  counters_->response_retransmissions.Add();
  SendCopy(ListenerSocket(t), Sa(t->reply_to), SaLen(t->reply_to),
           table_->StoredResponse(t).first(t->response_len));
}

void Proxy::ServerTimedOut(ServerTxn& s) { MaybeFinish(&table_->At(s.id())); }

void Proxy::ServerTerminated(ServerTxn& s) { MaybeFinish(&table_->At(s.id())); }

}  // namespace sipring::sip

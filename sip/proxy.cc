#include "sip/proxy.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/status.h"
#include "sip/forwarder.h"
#include "sip/internal/hash.h"
#include "sip/internal/lex.h"
#include "sip/internal/proxy_branch.h"
#include "sip/response_builder.h"

namespace sipring::sip {
namespace {

using transports::Datagram;
using transports::UdpSocket;

using sip_internal::kBackendParam;
using sip_internal::kBranchPrefix;
using sip_internal::kBranchSize;
using sip_internal::kInstanceHex;
using sip_internal::kLoopHex;
using sip_internal::kTxHex;
using sip_internal::kTxnMark;

void ToHex8(uint32_t v, char* out) { sip_internal::ToHex(v, 8, out); }

bool ParseHex8(std::string_view s, uint32_t* out) {
  return s.size() == 8 && sip_internal::FromHex(s, out);
}

// §16.6 step 8's loop-detection input: what a proxy would change when it spirals a request.
uint32_t LoopHash(const Message& msg) {
  uint64_t h = sip_internal::kFnvOffset;
  h = sip_internal::Fnv1aField(msg.request_uri_text, h);
  h = sip_internal::Fnv1aField(msg.from.tag, h);
  h = sip_internal::Fnv1aField(msg.to.tag, h);
  h = sip_internal::Fnv1aField(msg.call_id, h);
  const uint32_t cseq = msg.cseq.number;
  h = sip_internal::Fnv1aField(std::string_view(reinterpret_cast<const char*>(&cseq), 4), h);
  for (const Header* r = msg.Find(HeaderId::kRoute); r != nullptr; r = msg.NextSame(r)) {
    h = sip_internal::Fnv1aField(r->value, h);
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

using transports::SockAddr;

// Whether `host` (an IP literal) is the address of `sa`; a name never is.
bool HostIsAddress(std::string_view host, const sockaddr* sa) {
  SockAddr parsed;
  return SockAddr::FromLiteral(host, 0, &parsed) && parsed.SameIp(sa);
}

// Where a response to `via` goes (RFC 3261 §18.2.2, RFC 3581 §4): received (else sent-by) host;
// rport's value (else sent-by port, else 5060).
bool ResponseAddress(const Via& via, SockAddr* out) {
  uint16_t port = via.port != 0 ? via.port : 5060;
  uint64_t rport = 0;
  if (!via.rport.empty() && sip_internal::ParseDecimal(via.rport, 65535, &rport) && rport != 0) {
    port = static_cast<uint16_t>(rport);
  }
  return SockAddr::FromLiteral(via.received.empty() ? via.host : via.received, port, out);
}

// A concrete local address for a wildcard socket: the source the kernel picks towards `peer`
// (a UDP connect sends nothing). Start-up only.
std::string SourceTowards(const transports::SockAddr& peer) {
  const int fd = socket(peer.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  std::string out;
  if (connect(fd, peer.sa(), peer.len()) == 0) {
    transports::SockAddr local;
    socklen_t len = sizeof(sockaddr_storage);
    if (getsockname(fd, local.mutable_sa(), &len) == 0) {
      out = SockAddr::FromSockaddr(local.sa(), len).HostText();
    }
  }
  close(fd);
  return out;
}

bool IsNewWork(const Message& msg, MethodIndex method) {
  return method != MethodIndex::kAck && method != MethodIndex::kCancel && !msg.to.has_tag;
}

}  // namespace

std::string_view MethodIndexName(MethodIndex m) {
  static constexpr std::string_view kNames[kMethodIndexCount] = {
      "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "SUBSCRIBE", "NOTIFY",
      "MESSAGE", "INFO", "UPDATE", "PRACK", "REFER", "PUBLISH", "other"};
  return kNames[static_cast<size_t>(m)];
}

MethodIndex ClassifyMethod(std::string_view method) {
  // Methods are case-sensitive (RFC 3261 §7.1).
  for (size_t i = 0; i + 1 < kMethodIndexCount; ++i) {
    if (method == MethodIndexName(static_cast<MethodIndex>(i))) return static_cast<MethodIndex>(i);
  }
  return MethodIndex::kOther;
}

std::string_view RejectReasonName(RejectReason r) {
  static constexpr std::string_view kNames[kRejectReasonCount] = {
      "pool_low", "endpoint_quota", "no_backend", "bad_request", "too_many_hops", "loop",
      "bad_next_hop", "transaction_limit"};
  return kNames[static_cast<size_t>(r)];
}

std::string_view DropReasonName(DropReason r) {
  static constexpr std::string_view kNames[kDropReasonCount] = {
      "malformed_response", "not_our_via", "no_response_route", "unanswerable", "send_failed",
      "late_response"};
  return kNames[static_cast<size_t>(r)];
}

std::string_view FailoverReasonName(FailoverReason r) {
  static constexpr std::string_view kNames[kFailoverReasonCount] = {"timeout", "status"};
  return kNames[static_cast<size_t>(r)];
}

Proxy::Proxy(const ProxyShared& shared, ProxyCounters* counters, PassiveSignalQueue* signals)
    : shared_(shared),
      counters_(counters),
      balancer_(*shared.balancer),
      // Each new request takes one entry for the rest of the loop turn; a turn sees at most one
      // CQ's worth of datagrams, so 2x the largest CQ we set up never fills.
      quota_(16384, shared.endpoint_quota),
      signals_(signals) {
  ToHex8(shared.instance_id, instance_hex_);
  tag_prefix_[0] = 's';
  tag_prefix_[1] = 'r';
  std::memcpy(tag_prefix_ + 2, instance_hex_, kInstanceHex);
  quota_taken_.reserve(16384);
  new_work_.assign(shared.backends.size(), 1);
  dialogs_.assign(shared.backends.size(), 1);
  last_signal_ms_.assign(shared.backends.size(), 0);
  RefreshBackendStates();
}

void Proxy::RefreshBackendStates() {
  if (shared_.states == nullptr) return;
  const uint64_t g = shared_.states->generation();
  if (g == states_seen_) return;
  states_seen_ = g;
  shared_.states->CopyEligible(&new_work_, &dialogs_);
}

void Proxy::SignalBackend(const sockaddr* peer, PassiveSignal::Kind kind) {
  SignalBackend(BackendBySource(peer), kind);
}

void Proxy::SignalBackend(int b, PassiveSignal::Kind kind) {
  if (signals_ == nullptr || b == kNoBackend) return;
  // One signal per backend per 100 ms: an overloaded backend answering thousands of 503s needs
  // one probe, not a queue full of the same news.
  if (now_ms_ < last_signal_ms_[size_t(b)] + 100) return;
  last_signal_ms_[size_t(b)] = now_ms_;
  (void)signals_->TryPush(PassiveSignal{static_cast<uint16_t>(b), kind});
}

Proxy::~Proxy() = default;

absl::Status Proxy::Start(engine::Shard& shard) {
  shard_ = &shard;
  now_ms_ = engine::MonotonicMs();
  msg_ = std::make_unique<Message>();
  transports::SocketOptions listen_options = shared_.listen_socket;
  listen_options.rx_timestamps = true;
  for (const transports::SockAddr& addr : shared_.listen) {
    SIPRING_ASSIGN_OR_RETURN(auto socket, UdpSocket::Open(shard, addr, listen_options, this));
    Listener l;
    l.route_port = socket->local().port();
    l.socket = std::move(socket);
    listeners_.push_back(std::move(l));
  }
  // One outbound socket per family we have backends or listeners in, bound to the first
  // listener's address of that family (port 0: the kernel picks; no SO_REUSEPORT, it is ours).
  for (Family* f : {&v4_, &v6_}) {
    const int family = f == &v4_ ? AF_INET : AF_INET6;
    const transports::SockAddr* first_listen = nullptr;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      if (shared_.listen[i].family() == family) {
        first_listen = &shared_.listen[i];
        if (f->listener == nullptr) f->listener = listeners_[i].socket.get();
        break;
      }
    }
    const transports::SockAddr* first_backend = nullptr;
    for (const ProxyBackend& b : shared_.backends) {
      if (b.address.family() == family) {
        first_backend = &b.address;
        break;
      }
    }
    if (first_listen == nullptr && first_backend == nullptr) continue;
    transports::SockAddr bind_addr;
    if (first_listen != nullptr) {
      bind_addr = *first_listen;
      bind_addr.set_port(0);
    } else {
      // No listener of this family: bind the wildcard so any route works.
      auto any = transports::SockAddr::Parse(family == AF_INET ? "0.0.0.0:0" : "[::]:0");
      if (!any.ok()) return any.status();
      bind_addr = *any;
    }
    transports::SocketOptions out_options = shared_.listen_socket;
    out_options.reuseport = false;
    out_options.rx_timestamps = true;
    SIPRING_ASSIGN_OR_RETURN(f->outbound, UdpSocket::Open(shard, bind_addr, out_options, this));
    f->via_port = f->outbound->local().port();
    f->via_host = f->outbound->local().HostText();
    if (f->outbound->local().IsWildcard() && first_backend != nullptr) {
      f->via_host = SourceTowards(*first_backend);
    }
    if (f->via_host.empty()) {
      return absl::FailedPreconditionError(
          "cannot find a local address towards the backends for the Via header; listen on a "
          "specific address");
    }
  }
  for (size_t i = 0; i < listeners_.size(); ++i) {
    Listener& l = listeners_[i];
    l.route_host = l.socket->local().HostText();
    if (l.socket->local().IsWildcard()) {
      l.route_host = shared_.listen[i].family() == AF_INET ? v4_.via_host : v6_.via_host;
    }
  }
  for (auto& l : listeners_) l.socket->Start();
  if (v4_.outbound) v4_.outbound->Start();
  if (v6_.outbound) v6_.outbound->Start();
  counters_->pool_total.Set(shard.pool().total_slots());
  if (shared_.stateful) StartTransactions();
  return absl::OkStatus();
}

void Proxy::OnLoop(uint64_t now_ms) {
  now_ms_ = now_ms;
  RefreshBackendStates();
  // A flood that ends inside its burst leaves no later line to carry suppressed=N: say it once a
  // second instead, so the operator sees the size of every flood.
  if (now_ms >= next_log_flush_ms_) {
    next_log_flush_ms_ = now_ms + 1000;
    for (auto [limiter, event] : {std::pair{&bad_request_log_, "bad_request"},
                                  std::pair{&reject_log_, "rejected"}}) {
      if (const uint64_t n = limiter->TakeSuppressed(); n > 0) {
        engine::Log(engine::LogLevel::kWarn, event,
                    {{"shard", shard_->index()}, {"suppressed", n}, {"summary", true}});
      }
    }
  }
  for (const engine::EndpointKey& k : quota_taken_) quota_.Give(k);
  quota_taken_.clear();
  for (auto& l : listeners_) l.socket->Poll();
  if (v4_.outbound) v4_.outbound->Poll();
  if (v6_.outbound) v6_.outbound->Poll();
  const engine::BufferPool& pool = shard_->pool();
  counters_->pool_free.Set(pool.free_main());
  counters_->pool_lowest_free.Set(pool.counters().lowest_free_main.Get());
  counters_->pool_enobufs.Set(pool.counters().enobufs.Get());
  if (table_ != nullptr) {
    counters_->transactions_live.Set(table_->size());
    counters_->transactions_lingering.Set(table_->lingering());
  }
}

void Proxy::Stop() {
  StopTransactions();
  for (auto& l : listeners_) l.socket->Stop();
  if (v4_.outbound) v4_.outbound->Stop();
  if (v6_.outbound) v6_.outbound->Stop();
}

std::vector<transports::SockAddr> Proxy::listen_addresses() const {
  std::vector<transports::SockAddr> out;
  for (const auto& l : listeners_) out.push_back(l.socket->local());
  return out;
}

void Proxy::OnDatagram(UdpSocket& socket, const Datagram& d) {
  Message& msg = *msg_;
  const ParseError perr = Parse(std::string_view(d.payload, d.length), shared_.limits, &msg);
  if (msg.IsResponse()) {
    OnResponse(d, perr);
  } else {
    const Listener* listener = nullptr;
    for (const auto& l : listeners_) {
      if (l.socket.get() == &socket) listener = &l;
    }
    OnRequest(socket, listener, d, perr);
  }
  shard_->pool().Unref(d.bid);
}

void Proxy::OnResponse(const Datagram& d, ParseError perr) {
  const Message& msg = *msg_;
  const Verdict v = CheckResponse(msg, perr);
  if (v.action != Verdict::Action::kForward || msg.via_count == 0) {
    counters_->dropped[size_t(DropReason::kMalformedResponse)].Add();
    return;
  }
  const std::string_view top = msg.vias[0].branch;
  if (top.size() != kBranchSize || top.substr(0, kBranchPrefix) != "z9hG4bKsr" ||
      top.substr(kBranchPrefix, kInstanceHex) != std::string_view(instance_hex_, kInstanceHex)) {
    counters_->dropped[size_t(DropReason::kNotOurVia)].Add();
    return;
  }
  if (msg.status_code == 503) SignalBackend(d.peer, PassiveSignal::Kind::k503);
  const std::string_view tx = top.substr(kBranchPrefix + kInstanceHex, kTxHex);
  if (tx[0] == kTxnMark) {
    if (table_ != nullptr) {
      OnTransactionResponse(d, tx);
    } else {
      counters_->dropped[size_t(DropReason::kLateResponse)].Add();
    }
    return;
  }
  RelayResponse(d, nullptr);
}

bool Proxy::RelayResponse(const Datagram& d, ProxyTxn* txn) {
  const Message& msg = *msg_;
  SockAddr to;
  if (msg.via_count < 2 || !ResponseAddress(msg.vias[1], &to)) {
    counters_->dropped[size_t(DropReason::kNoResponseRoute)].Add();
    return false;
  }
  GatherList list;
  if (ForwardResponse(msg, &list) != ForwardError::kOk) {
    counters_->dropped[size_t(DropReason::kMalformedResponse)].Add();
    return false;
  }
  Family& f = to.family() == AF_INET ? v4_ : v6_;
  UdpSocket* out = f.listener != nullptr ? f.listener : f.outbound.get();
  if (txn != nullptr) out = ListenerSocket(txn);
  if (out == nullptr ||
      !out->SendTo(to.sa(), to.len(), list.iov.data(), static_cast<int>(list.count), d.bid)) {
    counters_->dropped[size_t(DropReason::kSendFailed)].Add();
    return false;
  }
  if (txn != nullptr) {
    // The caller may ask for it again (a retransmitted request, Timer G): keep a flat copy.
    txn->response_len = static_cast<uint16_t>(Flatten(list, table_->StoredResponse(txn)));
    if (txn->response_len == 0) counters_->not_stored.Add();
  }
  counters_->forwarded_responses.Add();
  const int cls = msg.status_code / 100;
  if (cls >= 1 && cls <= 6) counters_->responses[size_t(cls - 1)].Add();
  RecordLatency(d);
  return true;
}

void Proxy::OnRequest(UdpSocket& socket, const Listener* via_listener, const Datagram& d,
                      ParseError perr) {
  const Message& msg = *msg_;
  const Listener& listener = via_listener != nullptr ? *via_listener : listeners_.front();
  const MethodIndex method = msg.IsRequest() ? ClassifyMethod(msg.method) : MethodIndex::kOther;
  if (msg.IsRequest()) counters_->requests[size_t(method)].Add();

  // Which of our Routes is on top (popped by the forwarder) and what it says about the dialog.
  const bool top_route_is_us =
      perr == ParseError::kOk && msg.route_count > 0 &&
      RouteNamesUs(msg.routes[0], listener.route_host, listener.route_port);
  const int next_route = top_route_is_us ? 1 : 0;
  const bool more_routes = perr == ParseError::kOk && msg.route_count > next_route;

  // OPTIONS to the proxy itself (a peer's keep-alive ping): answered here, before Max-Forwards 0
  // would make it a 483.
  if (perr == ParseError::kOk && method == MethodIndex::kOptions && !more_routes &&
      AddressedToUs(listener) && (msg.max_forwards == 0 || msg.request_uri.user.empty()) &&
      msg.via_count > 0) {
    counters_->self_options.Add();
    Reply(socket, d, 200, {}, -1);
    return;
  }

  // The ACK for a non-2xx answer we made ourselves ends here (hop by hop, RFC 3261 §17.1.1.3).
  if (method == MethodIndex::kAck && msg.to.tag.size() == sizeof(tag_prefix_) + 16 &&
      msg.to.tag.substr(0, sizeof(tag_prefix_)) ==
          std::string_view(tag_prefix_, sizeof(tag_prefix_))) {
    counters_->absorbed_acks.Add();
    return;
  }

  const Verdict v = CheckRequest(msg, perr, check_options_);
  if (v.action == Verdict::Action::kDrop) {
    counters_->dropped[size_t(DropReason::kUnanswerable)].Add();
    return;
  }
  if (v.action == Verdict::Action::kRespond) {
    if (method == MethodIndex::kAck) {  // never answer an ACK (RFC 3261 §17.2.1)
      counters_->dropped[size_t(DropReason::kUnanswerable)].Add();
      return;
    }
    Reject(socket, d, v.status == 483 ? RejectReason::kTooManyHops : RejectReason::kBadRequest,
           v.status, v.reason);
    return;
  }

  const uint32_t loop = LoopHash(msg);
  char loop_hex[kLoopHex];
  ToHex8(loop, loop_hex);
  if (IsLoop(std::string_view(loop_hex, kLoopHex))) {
    if (method != MethodIndex::kAck) {
      Reject(socket, d, RejectReason::kLoop, 482, "Loop Detected");
    }
    return;
  }

  // Stateful: a request of a live transaction (a retransmission, the ACK for our non-2xx, a
  // CANCEL) is dealt with before the overload checks: it is work in progress.
  uint64_t key = 0;
  if (table_ != nullptr) {
    const bool to_invite = method == MethodIndex::kAck || method == MethodIndex::kCancel;
    key = ServerKey(msg, to_invite ? std::string_view("INVITE") : msg.method);
    if (OnRequestInTransaction(socket, d, method, key)) return;
  }

  // Overload: new work is refused fast; work in progress (ACK, CANCEL, in-dialog) goes on.
  if (IsNewWork(msg, method)) {
    if (d.from_reserve || shard_->pool().Overloaded()) {
      Reject(socket, d, RejectReason::kPoolLow, 503, "Service Unavailable (overloaded)",
             shared_.retry_after_s);
      return;
    }
    const engine::EndpointKey quota_key = engine::EndpointKey::From(d.peer);
    if (quota_taken_.size() < quota_taken_.capacity()) {
      if (!quota_.TryTake(quota_key)) {
        Reject(socket, d, RejectReason::kEndpointQuota, 503,
               "Service Unavailable (peer over quota)", shared_.retry_after_s);
        return;
      }
      quota_taken_.push_back(quota_key);
    }
  }

  // Next hop.
  SockAddr to;
  int backend = kNoBackend;
  bool balanced = false;  // the balancer chose among backends: another may be tried
  if (more_routes) {
    const Uri& uri = msg.routes[next_route].uri;
    if (!uri.IsSip() || !SockAddr::FromLiteral(uri.host, uri.PortOrDefault(), &to)) {
      Reject(socket, d, RejectReason::kBadNextHop, 502, "Bad Gateway (Route is not an IP literal)");
      return;
    }
  } else if (BackendBySource(d.peer) != kNoBackend && !AddressedToUs(listener)) {
    const Uri& uri = msg.request_uri;
    if (!uri.IsSip() || !SockAddr::FromLiteral(uri.host, uri.PortOrDefault(), &to)) {
      Reject(socket, d, RejectReason::kBadNextHop, 502,
             "Bad Gateway (Request-URI is not an IP literal)");
      return;
    }
  } else {
    const uint64_t hash = CallIdHash(msg.call_id);
    if (top_route_is_us) {
      if (auto tag = FindUriParam(msg.routes[0].uri.params, kBackendParam)) {
        uint32_t t = 0;
        if (ParseHex8(*tag, &t)) {
          const int named = balancer_.FindByTag(t);
          if (named != kNoBackend && dialogs_[size_t(named)]) backend = named;
        }
      }
    }
    if (backend == kNoBackend) {
      // In-dialog requests (and ACK, CANCEL) from peers that ignore Record-Route follow the
      // Call-ID hash over the backends that still serve dialogs, so a draining backend keeps
      // its calls; only new work is limited to the backends taking it. Stateful mode picks the
      // same way (its retransmissions are absorbed, but an in-dialog request from a peer that
      // ignores Record-Route must still find the backend the hash gave its INVITE).
      balanced = IsNewWork(msg, method);
      backend = balancer_.PickStateless(shared_.default_group, hash,
                                        balanced ? new_work_ : dialogs_);
    }
    if (backend == kNoBackend) {
      if (method != MethodIndex::kAck) {
        Reject(socket, d, RejectReason::kNoBackend, 503, "Service Unavailable (no backend up)",
               shared_.retry_after_s);
      }
      return;
    }
    to = shared_.backends[size_t(backend)].address;
  }

  if (table_ != nullptr && method != MethodIndex::kAck && method != MethodIndex::kCancel) {
    StartTransaction(socket, listener, d, method, key, to, backend, balanced, loop,
                     top_route_is_us);
    return;
  }

  char rr_param[kBackendParam.size() + 1 + 8];
  // The forwarder applies RFC 3261 §18.2.1 / RFC 3581 (received, rport) from the source.
  char source_text[INET6_ADDRSTRLEN + 3];
  ForwardJob job{.msg = &msg,
                 .payload = d.payload,
                 .length = d.length,
                 .room = d.room,
                 .bid = d.bid,
                 .to = &to,
                 .listener = &listener,
                 .loop_hex = loop_hex,
                 .rr_param = BackendParam(backend, rr_param),
                 .source_host = std::string_view(
                     source_text, transports::FormatHost(d.peer, source_text, sizeof(source_text))),
                 .source_port = SockAddr::PortOf(d.peer)};
  if (!Forward(job)) return;
  RecordLatency(d);
  if (backend != kNoBackend) counters_->backend_requests[size_t(backend)].Add();
}

void Proxy::WriteBranch(const char* tx_hex, const char* loop_hex, char* out) const {
  std::memcpy(out, "z9hG4bKsr", kBranchPrefix);
  std::memcpy(out + kBranchPrefix, instance_hex_, kInstanceHex);
  std::memcpy(out + kBranchPrefix + kInstanceHex, tx_hex, kTxHex);
  std::memcpy(out + kBranchPrefix + kInstanceHex + kTxHex, loop_hex, kLoopHex);
}

std::string_view Proxy::BackendParam(int backend, char* out) const {
  if (backend == kNoBackend) return {};
  std::memcpy(out, kBackendParam.data(), kBackendParam.size());
  out[kBackendParam.size()] = '=';
  ToHex8(balancer_.Tag(backend), out + kBackendParam.size() + 1);
  return std::string_view(out, kBackendParam.size() + 1 + 8);
}

bool Proxy::Forward(const ForwardJob& job) {
  const Message& msg = *job.msg;
  Family& f = job.to->family() == AF_INET ? v4_ : v6_;
  if (!f.outbound) {
    counters_->dropped[size_t(DropReason::kSendFailed)].Add();
    return false;
  }
  char branch[kBranchSize];
  if (job.tx_hex != nullptr) {
    WriteBranch(job.tx_hex, job.loop_hex, branch);
  } else {
    char tx[kStatelessBranchSize];
    StatelessBranch(msg, tx);
    WriteBranch(tx + kBranchPrefix, job.loop_hex, branch);
  }

  ForwardOptions o;
  o.local_host = f.via_host;
  o.local_port = f.via_port;
  o.route_host = job.listener->route_host;
  o.route_port = job.listener->route_port;
  o.transport = "UDP";
  o.branch = std::string_view(branch, kBranchSize);
  o.record_route = shared_.record_route && !msg.to.has_tag && msg.method != "REGISTER";
  o.record_route_param = job.rr_param;
  o.source_host = job.source_host;
  o.source_port = job.source_port;

  // Inserted pieces go in the slot's free tail; a second slot only when that is too small.
  GatherList list;
  uint16_t hold2 = transports::kNoSlot;
  ForwardError err =
      ForwardRequest(msg, o, std::span<char>(job.payload + job.length, job.room), &list);
  engine::BufferPool& pool = shard_->pool();
  if (err == ForwardError::kScratchTooSmall) {
    if (auto slot = pool.Take()) {
      hold2 = *slot;
      err = ForwardRequest(msg, o,
                           std::span<char>(pool.Data(hold2), pool.buffer_size()), &list);
    }
  }
  bool sent = err == ForwardError::kOk &&
              f.outbound->SendTo(job.to->sa(), job.to->len(), list.iov.data(),
                                 static_cast<int>(list.count), job.bid, hold2);
  if (hold2 != transports::kNoSlot) pool.Unref(hold2);
  if (!sent) {
    counters_->dropped[size_t(DropReason::kSendFailed)].Add();
    return false;
  }
  counters_->forwarded_requests.Add();
  return true;
}

void Proxy::ReplyAddress(const Via& via, const sockaddr* peer, socklen_t peer_len,
                         sockaddr_storage* to) {
  // RFC 3261 §18.2.2 / RFC 3581: to the source address; its port when rport was asked for (or
  // the Via names no port of its own that differs), else the Via's port.
  std::memcpy(to, peer, peer_len);
  if (!via.has_rport && via.port != 0 && via.port != SockAddr::PortOf(peer)) {
    if (to->ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(to)->sin_port = htons(via.port);
    else reinterpret_cast<sockaddr_in6*>(to)->sin6_port = htons(via.port);
  }
}

void Proxy::Reply(UdpSocket& socket, const Datagram& d, int status, std::string_view reason,
                  int retry_after) {
  const Message& msg = *msg_;
  ResponseSpec spec;
  spec.status = status;
  spec.reason = reason;
  spec.retry_after = retry_after;
  // Our To tags start "sr" + instance (the builder adds a hash equal for retransmissions): the
  // ACK for this answer carries it back, and OnRequest absorbs that ACK instead of sending it to
  // a backend that never saw the INVITE.
  spec.to_tag_prefix = std::string_view(tag_prefix_, sizeof(tag_prefix_));
  if (msg.via_count == 0) {
    counters_->dropped[size_t(DropReason::kUnanswerable)].Add();
    return;
  }
  sockaddr_storage to;
  ReplyAddress(msg.vias[0], d.peer, d.peer_len, &to);
  // In place: the response overwrites the request in its own slot (see response_builder.h).
  const BuildResult r = BuildResponse(msg, spec, std::span<char>(d.payload, d.length + d.room));
  if (r.error != BuildError::kOk) {
    counters_->dropped[size_t(DropReason::kUnanswerable)].Add();
    return;
  }
  const iovec iov{d.payload, r.size};
  if (!socket.SendTo(reinterpret_cast<const sockaddr*>(&to), d.peer_len, &iov, 1, d.bid)) {
    counters_->dropped[size_t(DropReason::kSendFailed)].Add();
  }
}

void Proxy::Reject(UdpSocket& socket, const Datagram& d, RejectReason why, int status,
                   std::string_view reason, int retry_after) {
  counters_->rejected[size_t(why)].Add();
  // One line per event class at most 5/s (burst 20): a flood of bad packets or an overload
  // cannot make the log the bottleneck; the next line says how many were suppressed.
  if (engine::LogEnabled(engine::LogLevel::kWarn)) {
    char peer[INET6_ADDRSTRLEN + 3];
    const size_t n = transports::FormatHost(d.peer, peer, sizeof(peer));
    engine::LogRateLimiter& limiter =
        why == RejectReason::kBadRequest ? bad_request_log_ : reject_log_;
    engine::LogLimited(limiter, engine::LogLevel::kWarn,
                       why == RejectReason::kBadRequest ? "bad_request" : "rejected",
                       {{"shard", shard_->index()},
                        {"peer", std::string_view(peer, n)},
                        {"port", SockAddr::PortOf(d.peer)},
                        {"status", status},
                        {"why", RejectReasonName(why)},
                        {"reason", reason.empty() ? DefaultReason(status) : reason}});
  }
  Reply(socket, d, status, reason, retry_after);
}

bool Proxy::AddressedToUs(const Listener& listener) const {
  const Uri& uri = msg_->request_uri;
  if (!uri.IsSip() || uri.PortOrDefault() != listener.route_port) return false;
  return sip_internal::EqualsIgnoreCase(sip_internal::StripBrackets(uri.host),
                                       sip_internal::StripBrackets(listener.route_host)) ||
         HostIsAddress(uri.host, listener.socket->local().sa());
}

bool Proxy::IsLoop(std::string_view loop_hex) const {
  const Message& msg = *msg_;
  const std::string_view instance(instance_hex_, kInstanceHex);
  for (size_t i = 0; i < msg.via_count; ++i) {
    const std::string_view b = msg.vias[i].branch;
    if (b.size() == kBranchSize && b.substr(kBranchPrefix, kInstanceHex) == instance &&
        b.substr(kBranchSize - kLoopHex) == loop_hex && b.substr(0, kBranchPrefix) == "z9hG4bKsr") {
      return true;
    }
  }
  return false;
}

int Proxy::BackendBySource(const sockaddr* peer) const {
  for (size_t i = 0; i < shared_.backends.size(); ++i) {
    if (shared_.backends[i].address.SameAddress(peer)) return static_cast<int>(i);
  }
  return kNoBackend;
}

void Proxy::RecordLatency(const Datagram& d) {
  if (d.rx_realtime_ns == 0) return;
  const uint64_t now = engine::RealtimeNs();
  counters_->added_latency.Record(now > d.rx_realtime_ns ? (now - d.rx_realtime_ns) / 1000 : 0);
}

}  // namespace sipring::sip

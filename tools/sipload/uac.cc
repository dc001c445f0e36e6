#include "tools/sipload/uac.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "engine/clock.h"
#include "engine/status.h"
#include "sip/uri.h"

namespace sipring::sipload {
namespace {

// Calls started in one loop turn at most: after a stall, the backlog goes out over a few turns
// instead of overrunning the sockets' send tables at once (its latency counts from due times).
constexpr int kMaxLaunchPerTurn = 512;
constexpr uint32_t kSendContexts = 4096;

}  // namespace

UacApp::UacApp(const UacOptions& options, int shard, uint32_t run,
               const std::atomic<uint64_t>& start_ns, const std::atomic<bool>& interrupt,
               UacStats* stats)
    : options_(options),
      index_(shard),
      run_(run),
      start_signal_(start_ns),
      interrupt_(interrupt),
      stats_(*stats) {}

UacApp::~UacApp() = default;

absl::Status UacApp::Start(engine::Shard& shard) {
  shard_ = &shard;
  const int threads = options_.threads;
  target_ = options_.target;
  transports::FormatHost(target_.sa(), target_host_, sizeof(target_host_));

  // Socket j of all --sources belongs to shard j % threads and binds source IP j % ips.
  int mine = 0;
  for (int j = index_; j < options_.sources; j += threads) ++mine;
  sources_.reserve(mine);
  for (int j = index_; j < options_.sources; j += threads) {
    Source& s = sources_.emplace_back();
    const transports::SockAddr& ip = options_.source_ips[j % options_.source_ips.size()];
    // A deep receive queue absorbs answers that arrive while the shard is busy starting calls.
    SIPRING_ASSIGN_OR_RETURN(
        s.socket, transports::UdpSocket::Open(shard, ip, {.rcvbuf = 4 << 20, .rx_timestamps = true},
                                              this, kSendContexts));
    transports::FormatHost(s.socket->local().sa(), s.host, sizeof(s.host));
    s.context = RequestContext{.service = options_.service,
                               .target_host = target_host_,
                               .target_port = target_.port(),
                               .local_host = s.host,
                               .local_port = s.socket->local().port(),
                               .ipv6 = target_.family() == AF_INET6};
  }

  const uint64_t table = (options_.MaxCallsInFlight() + threads - 1) / threads;
  calls_.resize(table);
  free_.reserve(table);
  for (uint64_t i = table; i-- > 0;) free_.push_back(static_cast<uint32_t>(i));
  for (Call& c : calls_) {
    c.retransmit.on_expire = &UacApp::OnRetransmitTimer;
    c.retransmit.context = reinterpret_cast<uint64_t>(this);
    c.deadline.on_expire = &UacApp::OnDeadlineTimer;
    c.deadline.context = reinterpret_cast<uint64_t>(this);
    c.state = CallState::kFree;
    c.generation = 0;
  }
  stats_.steps.resize(options_.steps.size());

  const uint64_t calls = options_.calls;
  calls_left_ = calls * uint64_t(index_ + 1) / threads - calls * uint64_t(index_) / threads;
  for (Source& s : sources_) s.socket->Start();
  return absl::OkStatus();
}

void UacApp::BeginSchedule(uint64_t start_ns) {
  start_ns_ = start_ns;
  realtime_offset_ns_ = int64_t(engine::RealtimeNs()) - int64_t(engine::MonotonicNs());
  end_ns_ = start_ns_ + static_cast<uint64_t>(options_.duration_s * 1e9);
  step_start_ns_ = start_ns_;
}

// ---- the schedule ----

bool UacApp::NextDue(uint64_t* due_ns) {
  while (!launching_done_) {
    if (calls_left_ == 0 || step_ >= options_.steps.size()) break;
    const RateStep& step = options_.steps[step_];
    // This shard takes every threads-th call of the step, phase-shifted by its index, so the
    // shards together send at the step's rate with their calls interleaved.
    const double n = double(in_step_) * options_.threads + index_;
    const uint64_t due = step_start_ns_ + static_cast<uint64_t>(n * 1e9 / step.rate);
    const uint64_t step_end = step_start_ns_ + static_cast<uint64_t>(step.duration_s * 1e9);
    if (due >= end_ns_) break;
    if (due >= step_end) {
      step_start_ns_ = step_end;
      in_step_ = 0;
      ++step_;
      continue;
    }
    *due_ns = due;
    return true;
  }
  if (!launching_done_) {
    launching_done_ = true;
    launch_end_ms_ = engine::MonotonicMs();
  }
  return false;
}

void UacApp::LaunchDue(uint64_t now_ns) {
  // Everything due before the next tick goes now: early by less than a tick rather than late
  // by up to one (the latency of an early call counts from its actual send).
  const uint64_t horizon = now_ns + uint64_t{options_.pace_us} * 1000;
  uint64_t due;
  for (int i = 0; i < kMaxLaunchPerTurn && NextDue(&due) && due < horizon; ++i) Launch(due, now_ns);
}

engine::ShardApp::Wait UacApp::NextWait() {
  if (done_ || start_ns_ == 0) return {};  // before the start: the shard's own 100 ms turns
  const uint64_t now = engine::MonotonicNs();
  const uint64_t pace = uint64_t{options_.pace_us} * 1000;
  uint64_t wake = open_ > 0 ? now + pace : UINT64_MAX;
  uint64_t due;
  if (NextDue(&due)) wake = std::min(wake, std::max(due, now + pace));
  if (wake == UINT64_MAX) return {};
  // Many completions may end the sleep early: a burst is worth handling before the tick.
  return {.max_us = int64_t((wake - now) / 1000), .min_completions = 512};
}

void UacApp::Launch(uint64_t due_ns, uint64_t now_ns) {
  --calls_left_;
  ++in_step_;
  StepStats& st = stats_.steps[step_];
  if (st.attempts == 0) st.first_due_ns = due_ns;
  st.last_due_ns = due_ns;
  st.send_lag_us.Record(now_ns > due_ns ? (now_ns - due_ns) / 1000 : 0);
  ++st.attempts;
  stats_.attempts.Add();
  if (free_.empty()) {
    ++st.failures;
    ++st.by_reason[size_t(FailReason::kNoSlot)];
    stats_.failures.Add();
    return;
  }
  const uint32_t slot = free_.back();
  free_.pop_back();
  Call& c = calls_[slot];
  ++c.generation;
  c.origin_ns = std::min(due_ns, now_ns);
  c.interval_ms = options_.t1_ms;
  c.source = static_cast<uint16_t>(next_source_++ % sources_.size());
  c.step = static_cast<uint8_t>(step_);
  c.provisional = false;
  c.to_tag_len = c.target_len = 0;
  c.route_len = 0;
  c.state = options_.scenario == Scenario::kCall ? CallState::kInviting : CallState::kRequesting;
  ++open_;
  stats_.in_flight.Set(open_);
  if (!SendRequest(c)) {
    Fail(c, FailReason::kSendFailed, 0);
    return;
  }
  const uint64_t now_ms = now_ns / 1'000'000;
  engine::TimerWheel& wheel = shard_->timers();
  wheel.Schedule(&c.retransmit, now_ms + c.interval_ms);
  wheel.Schedule(&c.deadline, now_ms + options_.TimeoutMs());
}

// ---- sending ----

CallKey UacApp::KeyOf(const Call& c) const {
  return CallKey{.run = run_,
                 .shard = static_cast<uint8_t>(index_),
                 .slot = static_cast<uint32_t>(&c - calls_.data()),
                 .generation = c.generation};
}

DialogView UacApp::DialogOf(const Call& c) const {
  const char* d = c.dialog;
  return DialogView{.to_tag = std::string_view(d, c.to_tag_len),
                    .remote_target = std::string_view(d + c.to_tag_len, c.target_len),
                    .route = std::string_view(d + c.to_tag_len + c.target_len, c.route_len)};
}

std::optional<UacApp::TxSlot> UacApp::TakeTx() {
  engine::BufferPool& pool = shard_->pool();
  std::optional<uint16_t> bid = pool.Take();
  if (!bid) return std::nullopt;
  return TxSlot{*bid, std::span<char>(pool.Data(*bid), pool.buffer_size())};
}

bool UacApp::Transmit(uint16_t source, const sockaddr* to, socklen_t to_len, TxSlot slot,
                      size_t size) {
  bool sent = false;
  if (size > 0) {
    iovec iov{slot.bytes.data(), size};
    sent = sources_[source].socket->SendTo(to, to_len, &iov, 1, slot.bid);
  }
  shard_->pool().Unref(slot.bid);
  return sent;
}

bool UacApp::SendRequest(Call& c) {
  std::optional<TxSlot> tx = TakeTx();
  if (!tx) return false;
  const RequestContext& ctx = sources_[c.source].context;
  size_t n = 0;
  switch (options_.scenario) {
    case Scenario::kCall: n = WriteInvite(ctx, KeyOf(c), tx->bytes); break;
    case Scenario::kOptions: n = WriteOptions(ctx, KeyOf(c), tx->bytes); break;
    case Scenario::kRegister: n = WriteRegister(ctx, KeyOf(c), tx->bytes); break;
  }
  return Transmit(c.source, target_.sa(), target_.len(), *tx, n);
}

bool UacApp::SendInDialog(Call& c, bool bye) {
  std::optional<TxSlot> tx = TakeTx();
  if (!tx) return false;
  const RequestContext& ctx = sources_[c.source].context;
  const size_t n = bye ? WriteBye(ctx, KeyOf(c), DialogOf(c), tx->bytes)
                       : WriteAck2xx(ctx, KeyOf(c), DialogOf(c), tx->bytes);
  return Transmit(c.source, reinterpret_cast<const sockaddr*>(&c.next_hop.v6), c.next_hop.len, *tx, n);
}

void UacApp::StartBye(Call& c, uint64_t now_ms) {
  c.state = CallState::kByeing;
  c.interval_ms = options_.t1_ms;
  c.provisional = false;
  // A BYE that cannot go now (no buffer) goes at its first retransmission.
  (void)SendInDialog(c, /*bye=*/true);
  engine::TimerWheel& wheel = shard_->timers();
  wheel.Schedule(&c.retransmit, now_ms + c.interval_ms);
  wheel.Schedule(&c.deadline, now_ms + options_.TimeoutMs());
}

// ---- timers ----

void UacApp::OnRetransmitTimer(engine::Timer* t) {
  // Call is standard-layout with `retransmit` first: the timer's address is the call's.
  Call& c = *reinterpret_cast<Call*>(t);
  UacApp& app = *reinterpret_cast<UacApp*>(t->context);
  const uint32_t t2 = app.options_.t2_ms;
  bool resent = false;
  switch (c.state) {
    case CallState::kInviting:
      resent = app.SendRequest(c);
      c.interval_ms *= 2;  // Timer A doubles without a cap; Timer B ends it
      break;
    case CallState::kRequesting:
      resent = app.SendRequest(c);
      c.interval_ms = c.provisional ? t2 : std::min(c.interval_ms * 2, t2);
      break;
    case CallState::kByeing:
      resent = app.SendInDialog(c, /*bye=*/true);
      c.interval_ms = c.provisional ? t2 : std::min(c.interval_ms * 2, t2);
      break;
    default:
      return;  // no request outstanding
  }
  if (resent) app.stats_.retransmissions.Add();
  app.shard_->timers().Schedule(&c.retransmit, app.shard_->timers().now() + c.interval_ms);
}

void UacApp::OnDeadlineTimer(engine::Timer* t) {
  Call& c = *reinterpret_cast<Call*>(reinterpret_cast<char*>(t) - offsetof(Call, deadline));
  UacApp& app = *reinterpret_cast<UacApp*>(t->context);
  switch (c.state) {
    case CallState::kInviting:
    case CallState::kProceeding:
    case CallState::kRequesting:
      app.Fail(c, FailReason::kTimeout, 0);
      break;
    case CallState::kHolding:
      app.StartBye(c, app.shard_->timers().now());
      break;
    case CallState::kByeing:
      app.Fail(c, FailReason::kByeTimeout, 0);
      break;
    case CallState::kFree:
      break;
  }
}

// ---- receiving ----

void UacApp::OnDatagram(transports::UdpSocket& socket, const transports::Datagram& d) {
  if (sip::Parse(std::string_view(d.payload, d.length), limits_, &message_) != sip::ParseError::kOk) {
    stats_.unparsable.Add();
  } else if (message_.IsResponse()) {
    // When it arrived, not when this turn got to it: the kernel's stamp on the monotonic clock.
    const uint64_t arrived = d.rx_realtime_ns != 0
                                 ? uint64_t(int64_t(d.rx_realtime_ns) - realtime_offset_ns_)
                                 : engine::MonotonicNs();
    OnResponse(socket, message_, arrived);
  } else {
    stats_.stale.Add();  // a request for a UAC (a BYE from the far end): not in our scenarios
  }
  socket.pool().Unref(d.bid);
}

bool UacApp::StoreDialog(Call& c, const sip::Message& ok) {
  if (!ok.to.has_tag || ok.contact_count == 0) return false;
  const std::string_view tag = ok.to.tag;
  const std::string_view target = ok.contacts[0].uri;
  // The route set is the Record-Route list reversed (RFC 3261 §12.1.2).
  size_t route = 0;
  for (int i = ok.record_route_count; i-- > 0;) {
    route += ok.record_routes[i].addr.value.size() + (i + 1 < ok.record_route_count ? 2 : 0);
  }
  if (tag.size() > 255 || target.size() > 255 || tag.size() + target.size() + route > kDialogBytes) {
    return false;
  }
  // In-dialog requests go to the first Route (a loose router: the lr all proxies in use set),
  // else to the remote target; either must be an IP literal (no DNS on this path).
  sip::Uri hop;
  if (ok.record_route_count > 0) {
    hop = ok.record_routes[ok.record_route_count - 1].uri;
  } else if (!sip::ParseUri(target, &hop)) {
    return false;
  }
  transports::SockAddr addr;
  if (!hop.IsSip() || !transports::SockAddr::FromLiteral(hop.host, hop.PortOrDefault(), &addr)) {
    return false;
  }
  std::memcpy(&c.next_hop.v6, addr.sa(), addr.len());
  c.next_hop.len = addr.len();
  char* p = c.dialog;
  std::memcpy(p, tag.data(), tag.size());
  p += tag.size();
  std::memcpy(p, target.data(), target.size());
  p += target.size();
  for (int i = ok.record_route_count; i-- > 0;) {
    const std::string_view v = ok.record_routes[i].addr.value;
    std::memcpy(p, v.data(), v.size());
    p += v.size();
    if (i > 0) {
      std::memcpy(p, ", ", 2);
      p += 2;
    }
  }
  c.to_tag_len = static_cast<uint8_t>(tag.size());
  c.target_len = static_cast<uint8_t>(target.size());
  c.route_len = static_cast<uint16_t>(route);
  return true;
}

void UacApp::RecordLatency(const Call& c, uint64_t arrived_ns) {
  stats_.steps[c.step].latency_us.Record((arrived_ns - std::min(arrived_ns, c.origin_ns)) / 1000);
}

void UacApp::OnResponse(transports::UdpSocket& socket, const sip::Message& msg,
                        uint64_t arrived_ns) {
  const int code = msg.status_code;
  if (code > 0 && code < kMaxStatus) ++stats_.responses[code];
  const std::string_view method = msg.cseq.method;
  const bool invite = method == "INVITE";
  CallKey key;
  Call* c = nullptr;
  if (DecodeCallId(msg.call_id, run_, &key) && key.shard == index_ && key.slot < calls_.size() &&
      calls_[key.slot].generation == key.generation && calls_[key.slot].state != CallState::kFree) {
    c = &calls_[key.slot];
  }
  const uint64_t now_ms = engine::MonotonicMs();
  if (c == nullptr) {
    stats_.stale.Add();
    // A final non-2xx to an INVITE is acknowledged even for a call that ended: a stateful peer
    // retransmits it until it sees the ACK.
    if (invite && code >= 300) {
      if (std::optional<TxSlot> tx = TakeTx()) {
        const RequestContext& ctx = sources_[0].context;
        const uint16_t source = static_cast<uint16_t>(
            std::find_if(sources_.begin(), sources_.end(),
                         [&](const Source& s) { return s.socket.get() == &socket; }) -
            sources_.begin());
        Transmit(source < sources_.size() ? source : 0, target_.sa(), target_.len(), *tx,
                 WriteAckForResponse(ctx, msg, tx->bytes));
      }
    }
    return;
  }
  engine::TimerWheel& wheel = shard_->timers();
  if (invite && options_.scenario == Scenario::kCall) {
    switch (c->state) {
      case CallState::kInviting:
      case CallState::kProceeding:
        if (code < 200) {
          c->state = CallState::kProceeding;  // Timer A stops; the timeout still runs
          wheel.Cancel(&c->retransmit);
        } else if (code < 300) {
          RecordLatency(*c, arrived_ns);
          wheel.Cancel(&c->retransmit);
          if (!StoreDialog(*c, msg)) {
            Fail(*c, FailReason::kBadDialog, 0);
            return;
          }
          (void)SendInDialog(*c, /*bye=*/false);  // a lost ACK is re-sent on the 2xx's retransmission
          if (options_.hold_ms > 0) {
            c->state = CallState::kHolding;
            wheel.Schedule(&c->deadline, now_ms + options_.hold_ms);
          } else {
            StartBye(*c, now_ms);
          }
        } else {
          std::optional<TxSlot> tx = TakeTx();
          if (tx) {
            Transmit(c->source, target_.sa(), target_.len(), *tx,
                     WriteAckForResponse(sources_[c->source].context, msg, tx->bytes));
          }
          Fail(*c, FailReason::kStatus, code);
        }
        return;
      case CallState::kHolding:
      case CallState::kByeing:
        // The 2xx again: our ACK was lost (or is late); the UAS retransmits until it sees one.
        if (code >= 200 && code < 300 && SendInDialog(*c, /*bye=*/false)) {
          stats_.retransmissions.Add();
        }
        return;
      default:
        break;
    }
    stats_.stale.Add();
    return;
  }
  const bool bye = method == "BYE";
  const bool first = c->state == CallState::kRequesting &&
                     method == (options_.scenario == Scenario::kOptions ? "OPTIONS" : "REGISTER");
  if (!(bye && c->state == CallState::kByeing) && !first) {
    stats_.stale.Add();
    return;
  }
  if (code < 200) {
    c->provisional = true;  // Timer E continues at T2 (RFC 3261 §17.1.2.2)
  } else if (code < 300) {
    if (first) RecordLatency(*c, arrived_ns);
    Succeed(*c);
  } else {
    Fail(*c, bye ? FailReason::kByeStatus : FailReason::kStatus, code);
  }
}

// ---- outcomes ----

void UacApp::Succeed(Call& c) {
  StepStats& st = stats_.steps[c.step];
  ++st.successes;
  st.last_success_ns = engine::MonotonicNs();
  stats_.successes.Add();
  Release(c);
}

void UacApp::Fail(Call& c, FailReason reason, int code) {
  StepStats& st = stats_.steps[c.step];
  ++st.failures;
  ++st.by_reason[size_t(reason)];
  if (code > 0 && code < kMaxStatus) {
    ++(reason == FailReason::kByeStatus ? st.bye_by_code : st.by_code)[code];
  }
  stats_.failures.Add();
  Release(c);
}

void UacApp::Release(Call& c) {
  engine::TimerWheel& wheel = shard_->timers();
  wheel.Cancel(&c.retransmit);
  wheel.Cancel(&c.deadline);
  c.state = CallState::kFree;
  free_.push_back(static_cast<uint32_t>(&c - calls_.data()));
  --open_;
  stats_.in_flight.Set(open_);
}

// ---- the end ----

void UacApp::FinishOpen(bool interrupted) {
  for (Call& c : calls_) {
    switch (c.state) {
      case CallState::kFree:
        break;
      case CallState::kHolding:
      case CallState::kByeing:
        Fail(c, interrupted ? FailReason::kInterrupted : FailReason::kByeTimeout, 0);
        break;
      default:
        Fail(c, interrupted ? FailReason::kInterrupted : FailReason::kTimeout, 0);
        break;
    }
  }
}

void UacApp::Finish() {
  done_ = true;
  stats_.finished.store(true, std::memory_order_release);
  shard_->RequestStop();
}

void UacApp::CheckEnd(uint64_t now_ms) {
  if (!launching_done_) return;
  if (open_ == 0) {
    Finish();
  } else if (now_ms >= launch_end_ms_ + options_.DrainMs()) {
    FinishOpen(/*interrupted=*/false);
    Finish();
  }
}

void UacApp::OnLoop(uint64_t now_ms) {
  if (done_) return;
  for (Source& s : sources_) s.socket->Poll();
  if (start_ns_ == 0) {
    // Waiting for the main thread's go (the loop turns at least every 100 ms meanwhile).
    const uint64_t go = start_signal_.load(std::memory_order_acquire);
    if (go == 0 && !interrupt_.load(std::memory_order_acquire)) return;
    BeginSchedule(go ? go : engine::MonotonicNs());
  }
  if (interrupt_.load(std::memory_order_acquire)) {
    launching_done_ = true;
    FinishOpen(/*interrupted=*/true);
    Finish();
    return;
  }
  LaunchDue(engine::MonotonicNs());
  CheckEnd(now_ms);
}

void UacApp::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Timers live in the calls: take them off the wheel before the table goes.
  engine::TimerWheel& wheel = shard_->timers();
  for (Call& c : calls_) {
    wheel.Cancel(&c.retransmit);
    wheel.Cancel(&c.deadline);
  }
  for (Source& s : sources_) s.socket->Stop();
}

}  // namespace sipring::sipload

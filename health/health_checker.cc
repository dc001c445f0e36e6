#include "health/health_checker.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/status.h"
#include "health/kernel_counters.h"
#include "sip/internal/hash.h"
#include "sip/parser.h"

namespace sipring::health {
namespace {

using engine::Log;
using engine::LogLevel;
using transports::SockAddr;

// Our probes' Via branch: magic cookie, "srhc", the proxy instance (8 hex), the target (4 hex)
// and the sequence number (8 hex). "srhc" never reads as the proxy's own "sr" + hex branch.
constexpr std::string_view kBranchPrefix = "z9hG4bKsrhc";
constexpr size_t kInstanceHex = 8;
constexpr size_t kBranchSize = kBranchPrefix.size() + kInstanceHex + 4 + 8;
constexpr uint32_t kSelfBit = 0x8000;  // in the target field: a self probe of listener (id & 0x7fff)

// Our own address as the target will see it: what the kernel would pick to reach it. Read once
// at start with a connected throwaway socket; nothing is sent.
std::string LocalHostTowards(const SockAddr& target) {
  std::string host;
  if (const int fd = socket(target.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0); fd >= 0) {
    SockAddr local = target;
    socklen_t len = sizeof(sockaddr_storage);
    if (connect(fd, target.sa(), target.len()) == 0 &&
        getsockname(fd, local.mutable_sa(), &len) == 0) {
      host = SockAddr::FromSockaddr(local.sa(), len).HostText();
    }
    close(fd);
  }
  if (host.empty()) host = target.family() == AF_INET6 ? "[::1]" : "127.0.0.1";
  return host;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// BackendHealth

bool BackendHealth::OnResult(bool alive) {
  const sip::BackendState before = state();
  if (alive) {
    failures_ = 0;
    ++successes_;
    if (base_ == sip::BackendState::kProbing ||
        (base_ == sip::BackendState::kDown && successes_ >= rise_)) {
      base_ = sip::BackendState::kUp;
    }
  } else {
    successes_ = 0;
    ++failures_;
    if (base_ != sip::BackendState::kDown && failures_ >= fall_) base_ = sip::BackendState::kDown;
  }
  return state() != before;
}

bool BackendHealth::SetDraining(bool draining) {
  const sip::BackendState before = state();
  draining_ = draining;
  return state() != before;
}

sip::BackendState BackendHealth::state() const {
  if (draining_ && base_ != sip::BackendState::kDown) return sip::BackendState::kDraining;
  return base_;
}

// ---------------------------------------------------------------------------------------------
// HealthChecker

const engine::Counter& HealthCounters::Kernel(uint64_t KernelCounters::*field) const {
  for (size_t i = 0; i < kKernelCounterCount; ++i) {
    if (kKernelCounters[i].field == field) return kernel[i];
  }
  return kernel[0];  // unreachable: every field is in kKernelCounters
}

engine::ShardOptions HealthChecker::ShardOptions() {
  engine::ShardOptions o;
  o.ring.sq_entries = 64;
  o.pool.buffer_size = 2048;
  o.pool.rx_main = 128;
  o.pool.rx_reserve = 0;
  o.pool.tx = 64;
  o.pool.tx_reserve = 0;
  return o;
}

HealthChecker::HealthChecker(const HealthOptions& options, sip::BackendStates* states,
                             std::vector<sip::PassiveSignalQueue*> signals,
                             HealthCounters* counters)
    : options_(options),
      states_(states),
      signals_(std::move(signals)),
      counters_(counters),
      drain_requested_(new std::atomic<uint8_t>[options.backends.size()]) {
  for (size_t i = 0; i < options_.backends.size(); ++i) {
    health_.emplace_back(options_.rise, options_.fall);
    drain_requested_[i].store(0, std::memory_order_relaxed);
  }
  drain_applied_.assign(options_.backends.size(), 0);
  sip_internal::ToHex(options_.instance_id, kInstanceHex, instance_hex_);
}

HealthChecker::~HealthChecker() = default;

void HealthChecker::RequestDrain(size_t i, bool draining) {
  if (i < options_.backends.size()) drain_requested_[i].store(draining ? 1 : 0, std::memory_order_relaxed);
}

absl::Status HealthChecker::Start(engine::Shard& shard) {
  shard_ = &shard;
  msg_ = std::make_unique<sip::Message>();
  // Probes must not queue behind the data path for a CPU: ask for more than the shards have.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -10) != 0) {
    Log(LogLevel::kInfo, "health_priority",
        {{"raised", false}, {"why", std::strerror(errno)}, {"fix", "CAP_SYS_NICE"}});
  }
  auto open = [&](int family) -> absl::StatusOr<std::unique_ptr<transports::UdpSocket>> {
    SIPRING_ASSIGN_OR_RETURN(SockAddr wildcard,
                             SockAddr::Parse(family == AF_INET ? "0.0.0.0:0" : "[::]:0"));
    transports::SocketOptions so;
    so.reuseport = false;
    return transports::UdpSocket::Open(shard, wildcard, so, this, 256);
  };
  std::vector<std::pair<SockAddr, bool>> all;
  for (const HealthTarget& b : options_.backends) all.push_back({b.address, false});
  if (options_.self_probe_interval_ms > 0) {
    for (const SockAddr& l : options_.listeners) {
      SockAddr to = l;
      // A wildcard listener is reached on loopback of its family.
      if (to.IsWildcard()) {
        to = to.family() == AF_INET ? SockAddr::Loopback4(l.port()) : SockAddr::Loopback6(l.port());
      }
      all.push_back({to, true});
    }
  }
  const uint64_t now = engine::Shard::NowMs();
  size_t self_index = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& [address, self] = all[i];
    std::unique_ptr<transports::UdpSocket>& sock = address.family() == AF_INET ? v4_ : v6_;
    if (!sock) {
      SIPRING_ASSIGN_OR_RETURN(sock, open(address.family()));
      sock->Start();
    }
    auto t = std::make_unique<Target>();
    t->owner = this;
    t->index = self ? self_index++ : i;
    t->self = self;
    t->address = address;
    t->address_text = address.ToString();
    t->via_host = LocalHostTowards(address);
    t->socket = sock.get();
    t->timer.on_expire = &HealthChecker::OnTimer;
    t->timer.context = reinterpret_cast<uintptr_t>(t.get());
    // Spread the first probes over the first interval so they never all leave in one burst;
    // backends go first so a restarted daemon judges them at once.
    // The first self probe goes after a second, not a whole period: a restarted daemon should
    // prove its data path at once.
    t->next_send_ms = now + (self ? std::min<uint64_t>(options_.self_probe_interval_ms, 1000)
                                  : (options_.interval_ms * i) / std::max<size_t>(1, all.size()));
    targets_.push_back(std::move(t));
  }
  for (auto& t : targets_) Schedule(*t);
  ReadKernelCounters(now);
  return absl::OkStatus();
}

void HealthChecker::Schedule(Target& t) {
  const uint64_t at = t.outstanding ? t.sent_us / 1000 + TimeoutMs(t) : t.next_send_ms;
  shard_->timers().Schedule(&t.timer, at);
}

void HealthChecker::OnTimer(engine::Timer* timer) {
  Target& t = *reinterpret_cast<Target*>(timer->context);
  HealthChecker& self = *t.owner;
  const uint64_t now = engine::Shard::NowMs();
  if (t.outstanding) {
    if (now >= t.sent_us / 1000 + self.TimeoutMs(t)) {
      self.Finish(t, now, /*status=*/0, /*from_backend=*/false);
      return;  // Finish reschedules
    }
  } else if (now >= t.next_send_ms) {
    self.Send(t, now);
  }
  self.Schedule(t);
}

uint64_t HealthChecker::TimeoutMs(const Target& t) const {
  return t.self ? options_.self_probe_timeout_ms : options_.timeout_ms;
}

void HealthChecker::Send(Target& t, uint64_t now_ms) {
  t.next_send_ms = now_ms + (t.self ? options_.self_probe_interval_ms : options_.interval_ms);
  engine::BufferPool& pool = shard_->pool();
  const std::optional<uint16_t> slot = pool.Take();
  if (!slot) {
    counters_->probe_send_failures.Add();
    return;
  }
  ++t.seq;
  char* buf = pool.Data(*slot);
  char branch_tail[4 + 8];
  sip_internal::ToHex(t.index | (t.self ? kSelfBit : 0u), 4, branch_tail);
  sip_internal::ToHex(t.seq, 8, branch_tail + 4);
  const std::string_view tail(branch_tail, sizeof(branch_tail));
  const uint16_t port = t.socket->local().port();
  // A self probe needs a user part, or sipring would answer it itself instead of balancing it.
  const int n = std::snprintf(
      buf, pool.buffer_size(),
      "OPTIONS sip:%s%s SIP/2.0\r\n"
      "Via: SIP/2.0/UDP %s:%u;branch=%.*s%.*s%.*s;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:health@%s>;tag=hc%.*s\r\n"
      "To: <sip:%s%s>\r\n"
      "Call-ID: hc%.*s%.*s@sipring\r\n"
      "CSeq: %u OPTIONS\r\n"
      "Accept: application/sdp\r\n"
      "User-Agent: sipring-health\r\n"
      "Content-Length: 0\r\n\r\n",
      t.self ? "sipring-self-probe@" : "", t.address_text.c_str(), t.via_host.c_str(),
      unsigned{port},
      int(kBranchPrefix.size()), kBranchPrefix.data(), int(kInstanceHex), instance_hex_,
      int(tail.size()), tail.data(), t.via_host.c_str(), int(kInstanceHex), instance_hex_,
      t.self ? "sipring-self-probe@" : "", t.address_text.c_str(), int(kInstanceHex),
      instance_hex_,
      int(tail.size()), tail.data(), t.seq);
  iovec iov{buf, static_cast<size_t>(std::max(n, 0))};
  if (n <= 0 || size_t(n) >= pool.buffer_size() ||
      !t.socket->SendTo(t.address.sa(), t.address.len(), &iov, 1, *slot)) {
    pool.Unref(*slot);
    counters_->probe_send_failures.Add();
    return;
  }
  pool.Unref(*slot);
  t.outstanding = true;
  t.sent_us = engine::MonotonicUs();
  if (!t.self) counters_->backends[t.index].probes_sent.Add();
}

bool HealthChecker::Alive(int status) const {
  if (status < 200) return false;
  if (options_.alive_codes.empty()) return true;
  return std::find(options_.alive_codes.begin(), options_.alive_codes.end(), status) !=
         options_.alive_codes.end();
}

void HealthChecker::Finish(Target& t, uint64_t now_ms, int status, bool from_backend) {
  t.outstanding = false;
  const uint64_t rtt_us = engine::MonotonicUs() - t.sent_us;
  if (t.self) {
    const bool ok = status >= 200 && from_backend;
    counters_->self_probe_ok.Set(ok ? 1 : 0);
    (ok ? counters_->self_probe_successes : counters_->self_probe_failures).Add();
    if (ok) {
      counters_->self_probe_rtt_us.Set(rtt_us);
    } else {
      Log(LogLevel::kWarn, "self_probe_failed",
          {{"listener", t.address.ToString()}, {"status", status},
           {"why", status == 0 ? "no answer in time" : "answered by sipring, not a backend"}});
    }
  } else {
    BackendHealthCounters& c = counters_->backends[t.index];
    const bool alive = Alive(status);
    (alive ? c.probes_ok : c.probes_failed).Add();
    if (alive) {
      c.last_rtt_us.Set(rtt_us);
      t.last_ok_ms = now_ms;
    }
    if (health_[t.index].OnResult(alive)) {
      Publish(t.index, status == 0 ? "probe timeout" : (alive ? "probe answered" : "probe code"),
              now_ms);
    }
  }
  Schedule(t);
}

void HealthChecker::Publish(size_t backend, const char* reason, uint64_t now_ms) {
  const sip::BackendState s = health_[backend].state();
  states_->Publish(backend, s);
  BackendHealthCounters& c = counters_->backends[backend];
  if (s == sip::BackendState::kDown) c.went_down.Add();
  if (s == sip::BackendState::kUp) c.went_up.Add();
  const Target& t = *targets_[backend];
  Log(s == sip::BackendState::kDown ? LogLevel::kWarn : LogLevel::kInfo, "backend_state",
      {{"backend", options_.backends[backend].name},
       {"state", sip::BackendStateName(s)},
       {"reason", reason},
       {"ms_since_last_ok", t.last_ok_ms == 0 ? int64_t{-1} : int64_t(now_ms - t.last_ok_ms)}});
}

void HealthChecker::OnDatagram(transports::UdpSocket& /*socket*/, const transports::Datagram& d) {
  engine::BufferPool& pool = shard_->pool();
  sip::Message& msg = *msg_;
  const sip::ParseError perr =
      sip::Parse(std::string_view(d.payload, d.length), sip::ParseLimits{}, &msg);
  const uint64_t now = engine::Shard::NowMs();
  Target* target = nullptr;
  uint32_t index = 0, seq = 0;
  if (perr == sip::ParseError::kOk && msg.IsResponse() && msg.via_count > 0) {
    const std::string_view b = msg.vias[0].branch;
    if (b.size() == kBranchSize && b.substr(0, kBranchPrefix.size()) == kBranchPrefix &&
        b.substr(kBranchPrefix.size(), kInstanceHex) == std::string_view(instance_hex_, kInstanceHex) &&
        sip_internal::FromHex(b.substr(kBranchPrefix.size() + kInstanceHex, 4), &index) &&
        sip_internal::FromHex(b.substr(kBranchPrefix.size() + kInstanceHex + 4), &seq)) {
      // Backends come first in targets_, then the self probes in listener order.
      const size_t at = (index & kSelfBit) ? options_.backends.size() + (index & ~kSelfBit) : index;
      if (at < targets_.size() && targets_[at]->self == ((index & kSelfBit) != 0)) {
        target = targets_[at].get();
      }
    }
  }
  if (target == nullptr || !target->outstanding || target->seq != seq) {
    counters_->stray_responses.Add();
  } else if (msg.status_code >= 200) {
    // The proxy's own answers carry a To tag starting "sr" + its instance id.
    const std::string_view tag = msg.to.tag;
    const bool by_proxy = tag.size() >= 2 + kInstanceHex && tag.substr(0, 2) == "sr" &&
                          tag.substr(2, kInstanceHex) == std::string_view(instance_hex_, kInstanceHex);
    shard_->timers().Cancel(&target->timer);
    Finish(*target, now, msg.status_code, !by_proxy);
  }
  pool.Unref(d.bid);
}

void HealthChecker::ApplyDrains() {
  const uint64_t now = engine::Shard::NowMs();
  for (size_t i = 0; i < health_.size(); ++i) {
    const uint8_t want = drain_requested_[i].load(std::memory_order_relaxed);
    if (want == drain_applied_[i]) continue;
    drain_applied_[i] = want;
    if (health_[i].SetDraining(want != 0)) {
      Publish(i, want ? "operator drain" : "operator undrain", now);
    }
  }
}

void HealthChecker::ReadKernelCounters(uint64_t now_ms) {
  if (now_ms < next_kernel_read_ms_) return;
  next_kernel_read_ms_ = now_ms + options_.kernel_counters_interval_ms;
  const absl::StatusOr<KernelCounters> k = health::ReadKernelCounters(options_.proc_root);
  counters_->kernel_read_ok.Set(k.ok() ? 1 : 0);
  if (!k.ok()) return;
  for (size_t i = 0; i < kKernelCounterCount; ++i) {
    counters_->kernel[i].Set((*k).*kKernelCounters[i].field);
  }
}

void HealthChecker::OnLoop(uint64_t now_ms) {
  ApplyDrains();
  for (sip::PassiveSignalQueue* q : signals_) {
    while (std::optional<sip::PassiveSignal> s = q->TryPop()) {
      if (s->backend >= options_.backends.size()) continue;
      counters_->backends[s->backend].passive_signals.Add();
      Target& t = *targets_[s->backend];
      // A suspect backend is probed now rather than at its next interval.
      if (!t.outstanding) {
        shard_->timers().Cancel(&t.timer);
        Send(t, now_ms);
        Schedule(t);
      }
    }
  }
  if (v4_) v4_->Poll();
  if (v6_) v6_->Poll();
  ReadKernelCounters(now_ms);
}

void HealthChecker::Stop() {
  for (auto& t : targets_) shard_->timers().Cancel(&t->timer);
  if (v4_) v4_->Stop();
  if (v6_) v6_->Stop();
}

}  // namespace sipring::health

#include "tools/sipload/uas.h"

#include <cstring>

#include "absl/hash/hash.h"
#include "engine/status.h"

namespace sipring::sipload {
namespace {

// Transactions remembered for duplicate counting, per shard: 2^20 slots a generation keeps at
// least half a million, far more than one T1..64*T1 retransmission window holds at our rates.
constexpr size_t kSeenSlots = size_t{1} << 20;

UasStats::Method MethodOf(std::string_view m) {
  if (m == "INVITE") return UasStats::kInvite;
  if (m == "ACK") return UasStats::kAck;
  if (m == "BYE") return UasStats::kBye;
  if (m == "CANCEL") return UasStats::kCancel;
  if (m == "OPTIONS") return UasStats::kOptions;
  if (m == "REGISTER") return UasStats::kRegister;
  return UasStats::kOtherMethod;
}

}  // namespace

// ---- SeenSet ----

SeenSet::SeenSet(size_t capacity) {
  size_t n = 16;
  while (n < capacity) n <<= 1;
  current_.assign(n, 0);
  previous_.assign(n, 0);
  mask_ = n - 1;
}

bool SeenSet::Find(const std::vector<uint64_t>& table, uint64_t key, size_t mask, size_t* at) {
  // Linear probing; the tables are at most half full, so an empty slot ends every search.
  for (size_t i = key & mask;; i = (i + 1) & mask) {
    if (table[i] == key) return true;
    if (table[i] == 0) {
      *at = i;
      return false;
    }
  }
}

bool SeenSet::Insert(uint64_t key) {
  if (key == 0) key = 1;
  size_t at;
  if (Find(previous_, key, mask_, &at)) return false;
  if (Find(current_, key, mask_, &at)) return false;
  current_[at] = key;
  if (++count_ > mask_ / 2) {
    // The newer generation is half full: it becomes the older one, the oldest is forgotten.
    current_.swap(previous_);
    std::fill(current_.begin(), current_.end(), 0);
    count_ = 0;
  }
  return true;
}

// ---- UasApp ----

UasApp::UasApp(const UasOptions& options, UasStats* stats, std::atomic<uint16_t>* bound_port)
    : options_(options), stats_(*stats), bound_port_(*bound_port), seen_(kSeenSlots) {}

UasApp::~UasApp() = default;

absl::Status UasApp::Start(engine::Shard& shard) {
  shard_ = &shard;
  // A deep queue: a burst from the load generator should not be dropped by the backend.
  SIPRING_ASSIGN_OR_RETURN(socket_, transports::UdpSocket::Open(shard, options_.listen,
                                                                {.rcvbuf = 4 << 20}, this, 4096));
  char host[INET6_ADDRSTRLEN + 2];
  transports::FormatHost(socket_->local().sa(), host, sizeof(host));
  const uint16_t port = socket_->local().port();
  bound_port_.store(port, std::memory_order_release);
  contact_len_ = static_cast<size_t>(
      std::snprintf(contact_, sizeof(contact_), "<sip:uas@%s:%u>", host, unsigned{port}));
  const char* ip = socket_->local().family() == AF_INET6 ? "IP6" : "IP4";
  sdp_len_ = static_cast<size_t>(std::snprintf(
      sdp_, sizeof(sdp_),
      "v=0\r\no=sipload 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\nm=audio 6002 RTP/AVP 0\r\n"
      "a=rtpmap:0 PCMU/8000\r\n",
      ip, host, ip, host));
  pending_.resize(options_.max_pending);
  free_pending_.reserve(options_.max_pending);
  for (uint32_t i = options_.max_pending; i-- > 0;) {
    pending_[i].timer.on_expire = &UasApp::OnPendingTimer;
    pending_[i].timer.context = reinterpret_cast<uint64_t>(this);
    free_pending_.push_back(i);
  }
  // Twice the entries: erasing leaves tombstones, and a table this roomy cleans them in place
  // instead of growing (no allocation after start).
  pending_by_call_.reserve(2 * size_t{options_.max_pending});
  socket_->Start();
  return absl::OkStatus();
}

void UasApp::OnLoop(uint64_t) { socket_->Poll(); }

engine::ShardApp::Wait UasApp::NextWait() {
  if (options_.tick_us == 0) return {};
  return {.max_us = int64_t{options_.tick_us}, .min_completions = 512};
}

void UasApp::Stop() {
  engine::TimerWheel& wheel = shard_->timers();
  for (uint32_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].in_use) {
      wheel.Cancel(&pending_[i].timer);
      ReleasePending(i);
    }
  }
  socket_->Stop();
}

UasApp::Fate UasApp::FateOf(uint64_t call_hash) const {
  // The top 53 bits as a fraction in [0, 1): drop below drop_ratio, fail in the next fail_ratio.
  const double u = static_cast<double>(call_hash >> 11) * 0x1.0p-53;
  if (u < options_.drop_ratio) return Fate::kDrop;
  if (u < options_.drop_ratio + options_.fail_ratio) return Fate::kFail;
  return Fate::kAnswer;
}

void UasApp::OnDatagram(transports::UdpSocket& socket, const transports::Datagram& d) {
  if (sip::Parse(std::string_view(d.payload, d.length), limits_, &message_) != sip::ParseError::kOk) {
    stats_.unparsable.Add();
  } else if (message_.IsResponse()) {
    stats_.responses_received.Add();
  } else {
    OnRequest(message_, d);
  }
  socket.pool().Unref(d.bid);
}

bool UasApp::Respond(const sip::Message& req, const sip::ResponseSpec& spec, const sockaddr* peer,
                     socklen_t len) {
  engine::BufferPool& pool = shard_->pool();
  std::optional<uint16_t> bid = pool.Take();
  if (!bid) {
    stats_.send_failed.Add();
    return false;
  }
  const sip::BuildResult r = sip::BuildResponse(req, spec, std::span<char>(pool.Data(*bid), pool.buffer_size()));
  bool sent = false;
  if (r.error == sip::BuildError::kOk) {
    iovec iov{pool.Data(*bid), r.size};
    sent = socket_->SendTo(peer, len, &iov, 1, *bid);
  }
  pool.Unref(*bid);
  if (sent) {
    stats_.responses_sent.Add();
  } else {
    stats_.send_failed.Add();
  }
  return sent;
}

void UasApp::AnswerFinal(const sip::Message& req, Fate fate, const sockaddr* peer, socklen_t len) {
  sip::ResponseSpec spec;
  if (fate == Fate::kFail) {
    spec.status = options_.fail_code;
    Respond(req, spec, peer, len);
    return;
  }
  const bool invite = req.method == "INVITE";
  if (invite) {
    spec.status = 180;
    spec.copy_record_route = true;
    spec.contact = std::string_view(contact_, contact_len_);
    Respond(req, spec, peer, len);
    spec.content_type = "application/sdp";
    spec.body = std::string_view(sdp_, sdp_len_);
  }
  spec.status = 200;
  Respond(req, spec, peer, len);
}

bool UasApp::Hold(const transports::Datagram& d, uint64_t call_hash) {
  if (free_pending_.empty()) return false;
  engine::BufferPool& pool = shard_->pool();
  std::optional<uint16_t> bid = pool.Take();
  if (!bid) return false;
  const uint32_t index = free_pending_.back();
  free_pending_.pop_back();
  Pending& p = pending_[index];
  std::memcpy(pool.Data(*bid), d.payload, d.length);
  p.bid = *bid;
  p.length = static_cast<uint16_t>(d.length);
  p.call_hash = call_hash;
  p.in_use = true;
  std::memcpy(&p.peer, d.peer, d.peer_len);
  p.peer_len = d.peer_len;
  pending_by_call_[call_hash] = index;
  shard_->timers().Schedule(&p.timer, shard_->timers().now() + options_.delay_ms);
  return true;
}

void UasApp::ReleasePending(uint32_t index) {
  Pending& p = pending_[index];
  shard_->pool().Unref(p.bid);
  pending_by_call_.erase(p.call_hash);
  p.in_use = false;
  free_pending_.push_back(index);
}

void UasApp::OnPendingTimer(engine::Timer* t) {
  // Pending is standard-layout with `timer` first: the timer's address is the entry's.
  Pending& p = *reinterpret_cast<Pending*>(t);
  UasApp& app = *reinterpret_cast<UasApp*>(t->context);
  const uint32_t index = static_cast<uint32_t>(&p - app.pending_.data());
  const std::string_view bytes(app.shard_->pool().Data(p.bid), p.length);
  if (sip::Parse(bytes, app.limits_, &app.message_) == sip::ParseError::kOk) {
    app.AnswerFinal(app.message_, app.FateOf(p.call_hash), reinterpret_cast<const sockaddr*>(&p.peer),
                     p.peer_len);
  }
  app.ReleasePending(index);
}

void UasApp::OnRequest(const sip::Message& req, const transports::Datagram& d) {
  const UasStats::Method method = MethodOf(req.method);
  stats_.received[method].Add();
  const std::string_view branch = req.via_count > 0 ? req.vias[0].branch : std::string_view();
  const bool first = seen_.Insert(
      absl::HashOf(req.call_id, req.cseq.number, req.cseq.method, req.method, branch));
  if (!first) stats_.duplicates[method].Add();

  const uint64_t call_hash = absl::HashOf(req.call_id);
  sip::ResponseSpec spec;
  switch (method) {
    case UasStats::kAck:
      return;
    case UasStats::kInvite:
    case UasStats::kRegister: {
      const Fate fate = FateOf(call_hash);
      if (fate == Fate::kDrop) {
        if (first) stats_.dropped.Add();
        return;
      }
      if (fate == Fate::kFail && first) stats_.failed.Add();
      if (method == UasStats::kInvite && options_.trying) {
        spec.status = 100;
        Respond(req, spec, d.peer, d.peer_len);
      }
      if (options_.delay_ms > 0) {
        // A retransmission of a request still waiting: its answer is on the way already.
        if (pending_by_call_.contains(call_hash)) return;
        if (Hold(d, call_hash)) return;
        stats_.delay_overflow.Add();
      }
      AnswerFinal(req, fate, d.peer, d.peer_len);
      return;
    }
    case UasStats::kCancel: {
      spec.status = 200;
      Respond(req, spec, d.peer, d.peer_len);
      // 487 only for an INVITE still unanswered: one waiting for its delayed answer, or one this
      // UAS drops. An answered INVITE cannot be cancelled (RFC 3261 §9.2).
      bool unanswered = FateOf(call_hash) == Fate::kDrop;
      if (auto it = pending_by_call_.find(call_hash); it != pending_by_call_.end()) {
        shard_->timers().Cancel(&pending_[it->second].timer);
        ReleasePending(it->second);
        unanswered = true;
      }
      if (unanswered) {
        spec.status = 487;
        spec.reason = "Request Terminated";
        spec.cseq_method = "INVITE";
        if (Respond(req, spec, d.peer, d.peer_len) && first) stats_.cancelled.Add();
      }
      return;
    }
    default:
      spec.status = 200;  // BYE, OPTIONS and anything else
      Respond(req, spec, d.peer, d.peer_len);
      return;
  }
}

}  // namespace sipring::sipload

#include "transports/udp_socket.h"

#include <unistd.h>

#include <cstring>

#include "engine/status.h"

namespace sipring::transports {

using engine::OpTag;

UdpSocket::UdpSocket(engine::Shard& shard, int fd, Sink* sink, uint32_t send_contexts)
    : shard_(shard), fd_(fd), sink_(sink), sends_(send_contexts) {
  free_sends_.reserve(send_contexts);
  for (uint32_t i = send_contexts; i-- > 0;) free_sends_.push_back(i);
  // Room for either family's source address, rounded up to 8 bytes: the kernel lays the control
  // area right after the name in the buffer, and a cmsghdr must be 8-aligned (UBSan caught the
  // unrounded 28). A control area only for timestamps (Open).
  recv_template_.msg_namelen = (sizeof(sockaddr_in6) + 7) & ~size_t{7};
  recv_template_.msg_controllen = 0;
}

absl::StatusOr<std::unique_ptr<UdpSocket>> UdpSocket::Open(engine::Shard& shard,
                                                           const SockAddr& addr,
                                                           const SocketOptions& options, Sink* sink,
                                                           uint32_t send_contexts) {
  std::vector<std::string> warnings;
  SockAddr bound;
  SIPRING_ASSIGN_OR_RETURN(int fd, OpenUdpSocket(addr, options, &warnings, &bound));
  std::unique_ptr<UdpSocket> s(new UdpSocket(shard, fd, sink, send_contexts));
  s->local_ = bound;
  s->warnings_ = std::move(warnings);
  s->handler_ = shard.RegisterHandler(s.get());
  if (options.rx_timestamps) s->recv_template_.msg_controllen = CMSG_SPACE(sizeof(timespec));
  return s;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

void UdpSocket::Start() { Arm(); }

void UdpSocket::Arm() {
  if (stopped_ || armed_ != Armed::kNone) return;
  engine::BufferPool& pool = shard_.pool();
  uint16_t group;
  if (pool.MainArmable()) {
    armed_ = Armed::kMain;
    group = pool.main_group();
  } else if (pool.ReserveArmable()) {
    armed_ = Armed::kReserve;
    group = pool.reserve_group();
  } else {
    return;  // both empty: Poll() retries when slots come back
  }
  io_uring_sqe* sqe = shard_.ring().GetSqe();
  io_uring_prep_recvmsg_multishot(sqe, fd_, &recv_template_, MSG_TRUNC);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = group;
  ++recv_generation_;
  sqe->user_data = OpTag{handler_, kOpRecv, recv_generation_, 0}.Pack();
}

void UdpSocket::Poll() {
  if (stopped_) return;
  if (armed_ == Armed::kNone) {
    Arm();
    if (armed_ != Armed::kNone) pool().NoteRearm();
    return;
  }
  // Back from the reserve ring once main has recovered past its high watermark: cancel; the
  // final CQE of the reserve receive re-arms on main.
  if (armed_ == Armed::kReserve && !cancelling_ && !pool().Overloaded() && pool().MainArmable()) {
    cancelling_ = true;
    io_uring_sqe* sqe = shard_.ring().GetSqe();
    io_uring_prep_cancel64(sqe, OpTag{handler_, kOpRecv, recv_generation_, 0}.Pack(), 0);
    sqe->user_data = OpTag{handler_, kOpCancel, 0, 0}.Pack();
  }
}

bool UdpSocket::SendTo(const sockaddr* peer, socklen_t peer_len, const iovec* iov, int n,
                       uint16_t hold, uint16_t hold2) {
  if (free_sends_.empty() || n > kMaxIov || n <= 0) {
    counters_.send_table_full.Add();
    return false;
  }
  const uint32_t index = free_sends_.back();
  free_sends_.pop_back();
  SendContext& c = sends_[index];
  std::memcpy(&c.dest, peer, peer_len);
  std::memcpy(c.iov, iov, sizeof(iovec) * n);
  c.msg = {};
  c.msg.msg_name = &c.dest;
  c.msg.msg_namelen = peer_len;
  c.msg.msg_iov = c.iov;
  c.msg.msg_iovlen = n;
  c.bid = hold;
  c.bid2 = hold2;
  ++c.generation;
  if (hold != kNoSlot) shard_.pool().BeginSend(hold);
  if (hold2 != kNoSlot) shard_.pool().BeginSend(hold2);
  io_uring_sqe* sqe = shard_.ring().GetSqe();
  io_uring_prep_sendmsg(sqe, fd_, &c.msg, 0);
  sqe->user_data = OpTag{handler_, kOpSend, c.generation, index}.Pack();
  return true;
}

void UdpSocket::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (armed_ != Armed::kNone) {
    io_uring_sqe* sqe = shard_.ring().GetSqe();
    io_uring_prep_cancel_fd(sqe, fd_, IORING_ASYNC_CANCEL_ALL);
    sqe->user_data = OpTag{handler_, kOpCancel, 0, 0}.Pack();
    shard_.ring().Submit();
  }
}

void UdpSocket::OnCompletion(OpTag tag, const io_uring_cqe& cqe) {
  switch (tag.op) {
    case kOpRecv:
      if (tag.generation == recv_generation_) OnRecv(cqe);
      break;
    case kOpSend: {
      SendContext& c = sends_[tag.index];
      if (cqe.res < 0) {
        counters_.send_errors.Add();
      } else {
        counters_.sent.Add();
      }
      if (c.bid != kNoSlot) shard_.pool().EndSend(c.bid);
      if (c.bid2 != kNoSlot) shard_.pool().EndSend(c.bid2);
      free_sends_.push_back(tag.index);
      break;
    }
    default:
      break;  // cancel results: the cancelled receive reports itself
  }
}

void UdpSocket::OnRecv(const io_uring_cqe& cqe) {
  engine::BufferPool& pool = shard_.pool();
  const bool more = cqe.flags & IORING_CQE_F_MORE;
  if (cqe.res >= 0 && (cqe.flags & IORING_CQE_F_BUFFER)) {
    const uint16_t bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    char* buf = pool.OnReceived(bid);
    auto* out = io_uring_recvmsg_validate(buf, cqe.res, &recv_template_);
    if (out == nullptr || (out->flags & MSG_TRUNC)) {
      if (out) pool.NoteTruncated();
      pool.Unref(bid);
    } else {
      counters_.received.Add();
      Datagram d;
      d.bid = bid;
      d.payload = static_cast<char*>(io_uring_recvmsg_payload(out, &recv_template_));
      d.length = io_uring_recvmsg_payload_length(out, cqe.res, &recv_template_);
      d.room = static_cast<uint32_t>(buf + pool.buffer_size() - (d.payload + d.length));
      d.peer = static_cast<const sockaddr*>(io_uring_recvmsg_name(out));
      d.peer_len = out->namelen;
      d.from_reserve = pool.ClassOf(bid) == engine::SlotClass::kRxReserve;
      d.rx_realtime_ns = 0;
      if (recv_template_.msg_controllen != 0) {
        for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(out, &recv_template_); c != nullptr;
             c = io_uring_recvmsg_cmsg_nexthdr(out, &recv_template_, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts;
            std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            d.rx_realtime_ns = uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
          }
        }
      }
      sink_->OnDatagram(*this, d);
    }
  } else if (cqe.res == -ENOBUFS) {
    pool.NoteEnobufs();
  }
  if (!more) {
    armed_ = Armed::kNone;
    cancelling_ = false;
    if (!stopped_) {
      Arm();
      if (armed_ != Armed::kNone) pool.NoteRearm();
    }
  }
}

}  // namespace sipring::transports

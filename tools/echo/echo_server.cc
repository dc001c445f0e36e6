#include "tools/echo/echo_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "engine/status.h"

namespace sipring::echo {

using engine::OpTag;
using transports::kNoSlot;

// ---- UDP ----

absl::Status UdpEchoApp::Start(engine::Shard& shard) {
  // A deep socket queue absorbs bursts while the receive switches rings (IOURING.md §9.4.5).
  SIPRING_ASSIGN_OR_RETURN(socket_,
                           transports::UdpSocket::Open(shard, addr_, {.rcvbuf = 4 << 20}, this));
  bound_port.store(socket_->local().port());
  socket_->Start();
  return absl::OkStatus();
}

void UdpEchoApp::OnLoop(uint64_t) { socket_->Poll(); }

void UdpEchoApp::Stop() { socket_->Stop(); }

void UdpEchoApp::OnDatagram(transports::UdpSocket& socket, const transports::Datagram& d) {
  engine::BufferPool& pool = socket.pool();
  if (d.from_reserve) {
    // Overload: answer from a tx-reserve slot and give the rx slot straight back.
    pool.Unref(d.bid);
    auto reply = pool.TakeReply();
    if (!reply) return;
    char* p = pool.Data(*reply);
    std::memcpy(p, "BUSY\n", 5);
    iovec iov{p, 5};
    if (socket.SendTo(d.peer, d.peer_len, &iov, 1, *reply)) busy_replies.Add();
    pool.Unref(*reply);
    return;
  }
  iovec iov{d.payload, d.length};
  if (socket.SendTo(d.peer, d.peer_len, &iov, 1, d.bid)) echoed.Add();
  pool.Unref(d.bid);
}

// ---- TCP ----

absl::Status TcpEchoApp::Start(engine::Shard& shard) {
  shard_ = &shard;
  std::vector<std::string> warnings;
  transports::SockAddr bound;
  SIPRING_ASSIGN_OR_RETURN(listen_fd_,
                           transports::OpenTcpListener(addr_, {}, &warnings, &bound));
  bound_port.store(bound.port());
  handler_ = shard.RegisterHandler(this);
  conns_.resize(max_connections_);
  for (uint32_t i = max_connections_; i-- > 0;) {
    Conn& c = conns_[i];
    c.quota.set_limit(quota_limit_);
    c.queue_bid.resize(queue_capacity_);
    c.queue_len.resize(queue_capacity_);
    c.queue_off.resize(queue_capacity_);
    free_conns_.push_back(i);
  }
  ArmAccept();
  return absl::OkStatus();
}

void TcpEchoApp::ArmAccept() {
  io_uring_sqe* sqe = shard_->ring().GetSqe();
  io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  sqe->user_data = OpTag{handler_, kOpAccept, 0, 0}.Pack();
}

void TcpEchoApp::ArmRecv(uint32_t index) {
  Conn& c = conns_[index];
  if (c.recv_armed || c.closing) return;
  engine::BufferPool& pool = shard_->pool();
  if (!pool.MainArmable()) return;  // retried when the queue drains
  c.recv_armed = true;
  io_uring_sqe* sqe = shard_->ring().GetSqe();
  io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = pool.main_group();
  sqe->user_data = OpTag{handler_, kOpRecv, c.generation, index}.Pack();
}

void TcpEchoApp::SendNext(uint32_t index) {
  Conn& c = conns_[index];
  if (c.sending || c.count == 0) return;
  const uint32_t q = c.head % queue_capacity_;
  const uint16_t bid = c.queue_bid[q];
  engine::BufferPool& pool = shard_->pool();
  // One send in flight per connection keeps the byte order (several in flight may reorder).
  c.sending = true;
  pool.BeginSend(bid);
  io_uring_sqe* sqe = shard_->ring().GetSqe();
  io_uring_prep_send(sqe, c.fd, pool.Data(bid) + c.queue_off[q], c.queue_len[q], MSG_NOSIGNAL);
  sqe->user_data = OpTag{handler_, kOpSend, c.generation, index}.Pack();
}

void TcpEchoApp::Close(uint32_t index) {
  Conn& c = conns_[index];
  if (c.closing) return;
  c.closing = true;
  if (c.recv_armed) {
    io_uring_sqe* sqe = shard_->ring().GetSqe();
    io_uring_prep_cancel_fd(sqe, c.fd, IORING_ASYNC_CANCEL_ALL);
    sqe->user_data = OpTag{handler_, kOpCancel, c.generation, index}.Pack();
  }
  MaybeFinishClose(index);
}

void TcpEchoApp::MaybeFinishClose(uint32_t index) {
  Conn& c = conns_[index];
  if (!c.closing || c.recv_armed || c.sending) return;
  engine::BufferPool& pool = shard_->pool();
  while (c.count) {
    pool.Unref(c.queue_bid[c.head % queue_capacity_]);
    ++c.head;
    --c.count;
    c.quota.Give();
  }
  // Nothing refers to the fd any more (IOURING.md §5), so close() really releases it.
  close(c.fd);
  c.fd = -1;
  c.closing = false;
  ++c.generation;
  free_conns_.push_back(index);
}

void TcpEchoApp::OnLoop(uint64_t) {
  // Connections whose receive could not be armed because the ring was short of slots get
  // another chance each turn (a linear scan: the echo server has few connections).
  if (stopped_ || !shard_->pool().MainArmable()) return;
  for (uint32_t i = 0; i < conns_.size(); ++i) {
    Conn& c = conns_[i];
    if (c.fd >= 0 && !c.recv_armed && !c.closing && !c.quota.AtLimit()) ArmRecv(i);
  }
}

void TcpEchoApp::Stop() {
  stopped_ = true;
  io_uring_sqe* sqe = shard_->ring().GetSqe();
  io_uring_prep_cancel_fd(sqe, listen_fd_, IORING_ASYNC_CANCEL_ALL);
  sqe->user_data = OpTag{handler_, kOpCancel, 0, 0}.Pack();
  for (uint32_t i = 0; i < conns_.size(); ++i) {
    if (conns_[i].fd >= 0) Close(i);
  }
  shard_->ring().Submit();
}

void TcpEchoApp::OnCompletion(OpTag tag, const io_uring_cqe& cqe) {
  engine::BufferPool& pool = shard_->pool();
  switch (tag.op) {
    case kOpAccept: {
      if (cqe.res >= 0) {
        if (free_conns_.empty() || stopped_) {
          close(cqe.res);  // at the connection limit: refuse rather than grow
        } else {
          const uint32_t index = free_conns_.back();
          free_conns_.pop_back();
          Conn& c = conns_[index];
          c.fd = cqe.res;
          c.head = c.count = 0;
          accepted.Add();
          ArmRecv(index);
        }
      }
      if (!(cqe.flags & IORING_CQE_F_MORE) && !stopped_) ArmAccept();
      break;
    }
    case kOpRecv: {
      Conn& c = conns_[tag.index];
      if (tag.generation != c.generation) break;
      const bool more = cqe.flags & IORING_CQE_F_MORE;
      if (cqe.res > 0 && (cqe.flags & IORING_CQE_F_BUFFER)) {
        const uint16_t bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
        pool.OnReceived(bid);
        const bool was_at_limit = c.quota.AtLimit();
        if (!c.quota.TryTake()) c.quota.ForceTake();
        if (c.count == queue_capacity_) {
          // More than the in-flight slack allows: a peer we cannot keep up with. Drop it.
          pool.Unref(bid);
          c.quota.Give();
          Close(tag.index);
        } else {
          const uint32_t q = (c.head + c.count) % queue_capacity_;
          c.queue_bid[q] = bid;
          c.queue_off[q] = 0;
          c.queue_len[q] = static_cast<uint32_t>(cqe.res);
          ++c.count;
          SendNext(tag.index);
          if (c.quota.AtLimit() && !was_at_limit && more) {
            // Back-pressure: stop reading this peer; its TCP window closes.
            paused.Add();
            io_uring_sqe* sqe = shard_->ring().GetSqe();
            io_uring_prep_cancel64(sqe, OpTag{handler_, kOpRecv, c.generation, tag.index}.Pack(), 0);
            sqe->user_data = OpTag{handler_, kOpCancel, c.generation, tag.index}.Pack();
          }
        }
      } else if (cqe.res == -ENOBUFS) {
        pool.NoteEnobufs();
      } else if (cqe.res == 0 || (cqe.res < 0 && cqe.res != -ECANCELED)) {
        if (!more) c.recv_armed = false;
        Close(tag.index);
        break;
      }
      if (!more) {
        c.recv_armed = false;
        if (c.closing) {
          MaybeFinishClose(tag.index);
        } else if (!c.quota.AtLimit()) {
          pool.NoteRearm();
          ArmRecv(tag.index);
        }
      }
      break;
    }
    case kOpSend: {
      Conn& c = conns_[tag.index];
      const uint32_t q = c.head % queue_capacity_;
      const uint16_t bid = c.queue_bid[q];
      pool.EndSend(bid);
      c.sending = false;
      if (cqe.res > 0 && static_cast<uint32_t>(cqe.res) < c.queue_len[q]) {
        // Short send: resubmit the rest from the same slot.
        c.queue_off[q] += cqe.res;
        c.queue_len[q] -= cqe.res;
        bytes_echoed.Add(cqe.res);
      } else {
        if (cqe.res > 0) bytes_echoed.Add(cqe.res);
        pool.Unref(bid);
        ++c.head;
        --c.count;
        c.quota.Give();
        if (cqe.res < 0) Close(tag.index);
      }
      if (c.closing) {
        MaybeFinishClose(tag.index);
        break;
      }
      SendNext(tag.index);
      if (!c.recv_armed && !c.quota.AtLimit()) ArmRecv(tag.index);
      break;
    }
    default:
      break;
  }
}

}  // namespace sipring::echo

// File: transports/udp_socket.h
//
// UdpSocket: one shard's UDP socket on the io_uring engine. Receives with one multishot recvmsg
// into the shard's provided-buffer rings; sends with SENDMSG straight from pool slots (gather
// lists allowed), so a datagram is never copied in user space.
//
// Receive rules (../shared/IOURING.md §4, §9.4):
//  - arm on the main ring while it has slots; when it runs dry (-ENOBUFS, no F_MORE) re-arm on
//    the reserve ring, whose datagrams the sink must answer with a fast 503 only; when main has
//    recovered past its high watermark, cancel the reserve receive and go back to main;
//  - never arm on an empty ring (it just returns -ENOBUFS); if both are empty, Poll() re-arms
//    once a slot comes back;
//  - every CQE without F_MORE ends the multishot: re-arm (counted);
//  - datagrams larger than a slot (MSG_TRUNC) are counted and dropped.
//
// Sends: each send needs a msghdr, a destination and an iovec array that live until the kernel
// has taken them, so they come from a fixed table of send contexts; when the table is full
// SendTo() returns false and the caller counts a drop (a bound, not a queue).
//
// Ownership and threads: owned by one ShardApp on one shard; every call on that shard's thread.
// Stop() cancels the receive before the fd is closed (§5: close with requests pending never
// releases the socket).
//
// Example:
//   class Echo : public UdpSocket::Sink {
//     void OnDatagram(UdpSocket& s, const Datagram& d) override {
//       iovec iov{d.payload, d.length};
//       s.SendTo(d.peer, d.peer_len, &iov, 1, d.bid);   // reply from the same slot
//       s.pool().Unref(d.bid);
//     }
//   };
//   SIPRING_ASSIGN_OR_RETURN(auto sock, UdpSocket::Open(shard, addr, {}, &echo));
//   sock->Start();
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/counter.h"
#include "engine/shard.h"
#include "transports/sock_addr.h"
#include "transports/socket_options.h"

namespace sipring::transports {

inline constexpr uint16_t kNoSlot = 0xffff;
inline constexpr int kMaxIov = 16;

struct Datagram {
  uint16_t bid;             // the pool slot holding it; the sink holds one reference
  char* payload;            // inside the slot
  uint32_t length;
  uint32_t room;            // bytes after the payload still inside the slot (scratch space)
  const sockaddr* peer;
  socklen_t peer_len;
  bool from_reserve;        // landed in the reserve ring: answer with a fast reject only
  // Kernel arrival time (CLOCK_REALTIME, ns) when the socket was opened with rx_timestamps;
  // 0 otherwise.
  uint64_t rx_realtime_ns;
};

struct UdpSocketCounters {
  engine::Counter received;
  engine::Counter sent;
  engine::Counter send_errors;
  engine::Counter send_table_full;
};

class UdpSocket : public engine::CompletionHandler {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    // The sink owns one reference to d.bid and must Unref it (possibly after its sends).
    virtual void OnDatagram(UdpSocket& socket, const Datagram& d) = 0;
  };

  // Opens and binds the socket (SO_REUSEPORT) and registers with the shard. Does not arm yet.
  static absl::StatusOr<std::unique_ptr<UdpSocket>> Open(engine::Shard& shard,
                                                         const SockAddr& addr,
                                                         const SocketOptions& options, Sink* sink,
                                                         uint32_t send_contexts = 1024);
  ~UdpSocket() override;

  void Start();
  // Re-arms a receive that could not be armed (both rings empty) or moves back from the reserve
  // ring; call once per loop turn (ShardApp::OnLoop).
  void Poll();
  // Sends iov[0..n) to `peer`. `hold` and `hold2` (or kNoSlot) are pool slots the iovecs point
  // into (a received message and, rarely, a second slot for inserted headers that did not fit
  // after it): each is referenced until the send completes. False when the send-context table is
  // full (nothing is held then).
  bool SendTo(const sockaddr* peer, socklen_t peer_len, const iovec* iov, int n, uint16_t hold,
              uint16_t hold2 = kNoSlot);
  // Cancels the receive and closes the socket.
  void Stop();

  // CompletionHandler
  void OnCompletion(engine::OpTag tag, const io_uring_cqe& cqe) override;

  engine::BufferPool& pool() { return shard_.pool(); }
  engine::Shard& shard() { return shard_; }
  const SockAddr& local() const { return local_; }
  int fd() const { return fd_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const UdpSocketCounters& counters() const { return counters_; }

 private:
  enum Op : uint8_t { kOpRecv = 1, kOpSend = 2, kOpCancel = 3 };
  // Which ring the receive is armed on.
  enum class Armed : uint8_t {
    kNone,     // not armed: waiting for a slot to come back, or stopped
    kMain,     // on the main ring
    kReserve,  // on the reserve ring (overload: reject only)
  };
  struct SendContext {
    msghdr msg;
    sockaddr_storage dest;
    iovec iov[kMaxIov];
    uint16_t bid;
    uint16_t bid2;
    uint16_t generation;
  };

  UdpSocket(engine::Shard& shard, int fd, Sink* sink, uint32_t send_contexts);
  void Arm();
  void OnRecv(const io_uring_cqe& cqe);

  engine::Shard& shard_;
  int fd_;
  Sink* sink_;
  uint8_t handler_ = 0;
  SockAddr local_;
  std::vector<std::string> warnings_;
  msghdr recv_template_{};
  Armed armed_ = Armed::kNone;
  bool cancelling_ = false;
  bool stopped_ = false;
  uint16_t recv_generation_ = 0;
  std::vector<SendContext> sends_;
  std::vector<uint32_t> free_sends_;
  UdpSocketCounters counters_;
};

}  // namespace sipring::transports

// File: tools/echo/echo_server.h
//
// Echo servers on the engine: the smallest real applications of a shard, used by the engine's
// tests, the echo benchmark and the quick-start demo. Each reply is sent from the very slot the
// request was received into (no user-space copy).
//
//  - UdpEchoApp: one SO_REUSEPORT UdpSocket per shard; reply to the sender. Datagrams that land
//    in the reserve ring (pool exhausted) are not echoed: they are answered with the 5-byte
//    "BUSY\n" from a tx-reserve slot, the way the proxy will answer 503.
//  - TcpEchoApp: multishot accept; per connection a multishot recv, one send in flight and a
//    bounded queue of received slots; past the connection's quota it stops reading (cancels its
//    recv) so TCP flow control slows the peer, and resumes when the queue drains.
//
// Ownership and threads: one app per shard, created by the ShardGroup factory; everything runs
// on the shard thread.
//
// Example:
//   ShardGroup group(opts, [&](int) { return std::make_unique<UdpEchoApp>(addr); });
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/quota.h"
#include "engine/shard.h"
#include "transports/udp_socket.h"

namespace sipring::echo {

class UdpEchoApp : public engine::ShardApp, public transports::UdpSocket::Sink {
 public:
  explicit UdpEchoApp(transports::SockAddr addr) : addr_(addr) {}

  // ShardApp
  absl::Status Start(engine::Shard& shard) override;
  void OnLoop(uint64_t now_ms) override;
  void Stop() override;
  // UdpSocket::Sink
  void OnDatagram(transports::UdpSocket& socket, const transports::Datagram& d) override;

  // Bound address (port 0 resolved), valid after Start.
  std::atomic<uint16_t> bound_port{0};
  engine::Counter echoed;
  engine::Counter busy_replies;
  transports::UdpSocket* socket() { return socket_.get(); }

 private:
  transports::SockAddr addr_;
  std::unique_ptr<transports::UdpSocket> socket_;
};

class TcpEchoApp : public engine::ShardApp, public engine::CompletionHandler {
 public:
  // quota: slots one connection may hold (received, waiting to be echoed) before reading stops.
  TcpEchoApp(transports::SockAddr addr, uint32_t max_connections = 256, uint32_t quota = 8)
      : addr_(addr),
        max_connections_(max_connections),
        quota_limit_(quota),
        queue_capacity_(quota + kInFlightSlack) {}

  // ShardApp
  absl::Status Start(engine::Shard& shard) override;
  void OnLoop(uint64_t now_ms) override;
  void Stop() override;
  // CompletionHandler
  void OnCompletion(engine::OpTag tag, const io_uring_cqe& cqe) override;

  std::atomic<uint16_t> bound_port{0};
  engine::Counter accepted;
  engine::Counter bytes_echoed;
  engine::Counter paused;  // times a connection hit its quota and stopped reading

 private:
  enum Op : uint8_t { kOpAccept = 1, kOpRecv, kOpSend, kOpCancel, kOpClose };
  struct Conn {
    int fd = -1;
    uint16_t generation = 0;
    bool recv_armed = false;
    bool sending = false;
    bool closing = false;
    engine::Quota quota;
    // Received slots waiting to be echoed, in order: a bounded ring of queue_capacity_ entries.
    std::vector<uint16_t> queue_bid;
    std::vector<uint32_t> queue_len;
    std::vector<uint32_t> queue_off;
    uint32_t head = 0, count = 0;
  };
  void ArmAccept();
  void ArmRecv(uint32_t index);
  void SendNext(uint32_t index);
  void Close(uint32_t index);
  void MaybeFinishClose(uint32_t index);

  transports::SockAddr addr_;
  uint32_t max_connections_;
  uint32_t quota_limit_;
  // Receives already under way when we stop reading still complete: room for them beyond the
  // quota, after which the connection is dropped.
  static constexpr uint32_t kInFlightSlack = 64;
  uint32_t queue_capacity_;
  engine::Shard* shard_ = nullptr;
  uint8_t handler_ = 0;
  int listen_fd_ = -1;
  bool stopped_ = false;
  std::vector<Conn> conns_;
  std::vector<uint32_t> free_conns_;
};

}  // namespace sipring::echo

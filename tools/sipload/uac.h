// File: tools/sipload/uac.h
//
// UacApp: one shard of `sipload uac`. It starts its share of the calls on an open-loop schedule
// (the n-th call of a step is due at step start + n / rate, whatever the target does), runs each
// call's RFC 3261 client transactions over UDP, and tallies outcomes and latencies.
//
//  - Schedule: the shard works in ticks of --pace-us (ShardApp::NextWait): it sleeps until the
//    next call is due, or the next tick while calls are open, and a datagram arriving meanwhile
//    does not wake it (on this VM a wake-up costs about 20 us of CPU, more than the datagrams
//    of a call; sipp works in 1 ms ticks too, but also wakes for every datagram). Each turn starts every call
//    due before the next tick. Latency counts from the call's due time (or its actual send, when
//    that was earlier) to the kernel's receive timestamp of the answer (SO_TIMESTAMPNS): neither
//    the tick nor a stalled target can hide, a call sent late (a backlog, a slow sipload) shows
//    as latency (no coordinated omission).
//  - Calls live in a table allocated at Start (sized by UacOptions::MaxCallsInFlight, split over
//    shards); a call due when the table is full fails as no_slot. Nothing is allocated per call:
//    requests are written into transmit slots of the shard's buffer pool, and a retransmission
//    writes the same bytes again from the call's few numbers (request_writer.h).
//  - Timers on the shard's wheel: Timer A/E (retransmit from T1, doubling; non-INVITE capped at
//    T2, and at T2 once a provisional arrived), Timer B/F (give up after the timeout), and the
//    hold timer between ACK and BYE.
//  - Several source sockets per shard (from --source-ips, port 0), calls spread over them round
//    robin, so the target's SO_REUSEPORT hash spreads them over its shards.
//  - A response finds its call through its Call-ID (run, shard, slot, generation), parsed by
//    sip::Parse; one for a call that already ended is counted stale (and a non-2xx final to an
//    INVITE is acknowledged all the same, so a stateful peer stops retransmitting it).
//  - The end: once every call was started (or the duration is over) and none is open, or when
//    the drain time passed (open calls fail as timeout) or Interrupt() was called (they fail as
//    interrupted), the app marks itself done and stops its shard.
//
// Ownership and threads: created by the ShardGroup factory, run on its shard thread. The caller
// owns the UacStats it writes (the counters may be read at any time, the rest after the shard
// thread ended) and the start/interrupt flags it reads.
//
// Example:
//   std::atomic<uint64_t> start{0};
//   std::atomic<bool> interrupt{false};
//   engine::ShardGroup group(opts, [&](int i) {
//     return std::make_unique<UacApp>(options, i, run, start, interrupt, stats[i].get());
//   });
//   group.Start();  start = engine::MonotonicNs() + 100'000'000;  ... until stats[i]->finished
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/shard.h"
#include "sip/message.h"
#include "sip/parser.h"
#include "tools/sipload/load_options.h"
#include "tools/sipload/load_stats.h"
#include "tools/sipload/request_writer.h"
#include "transports/udp_socket.h"

namespace sipring::sipload {

class UacApp : public engine::ShardApp, public transports::UdpSocket::Sink {
 public:
  // Everything here outlives the app (a shard destroys its app when its thread ends): `start_ns`
  // (CLOCK_MONOTONIC) is when the schedule starts, the same for every shard, 0 until the main
  // thread sets it once all shards are up; `interrupt` ends the run at the next loop turn; the
  // app writes `stats` and sets stats->finished at its end.
  UacApp(const UacOptions& options, int shard, uint32_t run, const std::atomic<uint64_t>& start_ns,
         const std::atomic<bool>& interrupt, UacStats* stats);
  ~UacApp() override;

  // ShardApp
  absl::Status Start(engine::Shard& shard) override;
  void OnLoop(uint64_t now_ms) override;
  Wait NextWait() override;
  void Stop() override;
  // UdpSocket::Sink
  void OnDatagram(transports::UdpSocket& socket, const transports::Datagram& d) override;


 private:
  // Where a call stands. kFree slots are on the free list.
  enum class CallState : uint8_t {
    kFree,        // unused
    kInviting,    // INVITE sent, nothing back yet: Timer A retransmits, the timeout runs
    kProceeding,  // a provisional arrived: no more INVITE retransmissions, the timeout runs
    kHolding,     // 2xx acknowledged; the hold timer runs until the BYE
    kByeing,      // BYE sent: Timer E retransmits, the timeout runs
    kRequesting,  // OPTIONS/REGISTER sent: Timer E retransmits, the timeout runs
  };
  // Where in-dialog requests go: the first Route, else the remote target.
  struct NextHop {
    union {
      sockaddr_in v4;
      sockaddr_in6 v6;
    };
    socklen_t len;
  };
  // Room per call for its dialog (To tag, remote target, route set).
  static constexpr size_t kDialogBytes = 256;
  // The timers come first and the struct stays standard-layout: a timer callback finds its call
  // from the Timer's address (offsetof).
  struct Call {
    engine::Timer retransmit;    // Timer A/E
    engine::Timer deadline;      // Timer B/F, or the end of the hold
    uint64_t origin_ns;          // latency counts from here: the due time, or the send when
                                 // the call went out early (within a tick of its due time)
    uint32_t interval_ms;        // next retransmission interval
    uint16_t generation;         // bumped at each reuse: late answers to a previous call miss
    uint16_t source;             // index of the socket the call uses
    CallState state;
    uint8_t step;                // rate step it belongs to
    bool provisional;            // non-INVITE: a 1xx arrived, retransmit at T2
    uint8_t to_tag_len;
    uint8_t target_len;
    uint16_t route_len;
    NextHop next_hop;
    char dialog[kDialogBytes];   // to tag | remote target | route
  };
  struct Source {
    std::unique_ptr<transports::UdpSocket> socket;
    char host[INET6_ADDRSTRLEN + 2];
    RequestContext context;
  };

  static void OnRetransmitTimer(engine::Timer* t);
  static void OnDeadlineTimer(engine::Timer* t);

  void Launch(uint64_t due_ns, uint64_t now_ns);
  void LaunchDue(uint64_t now_ns);
  bool NextDue(uint64_t* due_ns);
  void CheckEnd(uint64_t now_ms);
  void FinishOpen(bool interrupted);
  void Finish();
  void BeginSchedule(uint64_t start_ns);

  CallKey KeyOf(const Call& c) const;
  DialogView DialogOf(const Call& c) const;
  // A transmit slot of the shard's pool to write one request into; nullopt when none is free.
  struct TxSlot {
    uint16_t bid;
    std::span<char> bytes;
  };
  std::optional<TxSlot> TakeTx();
  // Sends the first `size` bytes of `slot` from `source` and lets go of the slot (the send holds
  // it until it completes). False when size is 0 (the request did not fit) or the send could
  // not start.
  bool Transmit(uint16_t source, const sockaddr* to, socklen_t to_len, TxSlot slot, size_t size);
  // The call's first request (again, for a retransmission) / its ACK for the 2xx / its BYE.
  bool SendRequest(Call& c);
  bool SendInDialog(Call& c, bool bye);
  void StartBye(Call& c, uint64_t now_ms);
  bool StoreDialog(Call& c, const sip::Message& ok);
  // `arrived_ns`: when the kernel received it (CLOCK_MONOTONIC).
  void OnResponse(transports::UdpSocket& socket, const sip::Message& msg, uint64_t arrived_ns);
  void RecordLatency(const Call& c, uint64_t arrived_ns);
  void Succeed(Call& c);
  void Fail(Call& c, FailReason reason, int code);
  void Release(Call& c);

  const UacOptions& options_;
  const int index_;
  const uint32_t run_;
  const std::atomic<uint64_t>& start_signal_;
  const std::atomic<bool>& interrupt_;
  UacStats& stats_;
  uint64_t start_ns_ = 0;      // copied from start_signal_ once set
  engine::Shard* shard_ = nullptr;
  std::vector<Source> sources_;
  std::vector<Call> calls_;
  std::vector<uint32_t> free_;
  sip::Message message_;        // one parse target per shard, reused
  sip::ParseLimits limits_;
  transports::SockAddr target_;
  char target_host_[INET6_ADDRSTRLEN + 2];

  // The schedule: this shard's rate (its share of the step's), its position in the steps.
  uint64_t calls_left_ = 0;     // this shard's share of --calls not started yet
  uint64_t end_ns_ = 0;         // --duration-s after start
  size_t step_ = 0;
  uint64_t step_start_ns_ = 0;
  uint64_t in_step_ = 0;        // calls started in this step
  bool launching_done_ = false;
  uint64_t launch_end_ms_ = 0;  // when launching ended (drain counts from here)
  uint32_t next_source_ = 0;
  uint64_t open_ = 0;           // calls open now

  // CLOCK_REALTIME minus CLOCK_MONOTONIC at start: the kernel stamps datagrams on the
  // realtime clock (SO_TIMESTAMPNS), due times are monotonic.
  int64_t realtime_offset_ns_ = 0;
  bool stopped_ = false;
  bool done_ = false;
};

}  // namespace sipring::sipload

// File: sip/transaction.h
//
// The RFC 3261 §17 transaction state machines, without I/O: ClientTxn (INVITE, §17.1.1, and
// non-INVITE, §17.1.2) and ServerTxn (INVITE, §17.2.1, and non-INVITE, §17.2.2). Each machine
// keeps its state and its timers on the shard's TimerWheel, and asks its owner (a TxnUser) to do
// the sending: the proxy holds the bytes (a pool slot, a stored copy), the machine only knows
// when they must go out again. So the same machines serve UDP and, later, TCP and TLS: on a
// reliable transport the timers that exist only to fight datagram loss (A, E, G) never run and
// the wait timers (D, I, J, K) are zero, as §17 specifies.
//
// Timers (T1, T2, T4 from TxnTimerValues):
//   A  INVITE client, Calling: retransmit the request; T1, doubling without a cap.   UDP only
//   B  INVITE client, Calling: give up, no response at all; 64*T1.
//   D  INVITE client, Completed: absorb retransmitted finals (re-ACK); 32 s; reliable 0.
//   E  non-INVITE client, Trying/Proceeding: retransmit; T1 doubling to T2; T2 once
//      a provisional came.                                                          UDP only
//   F  non-INVITE client: give up, no final response; 64*T1.
//   K  non-INVITE client, Completed: absorb retransmitted responses; T4; reliable 0.
//   G  INVITE server, Completed: retransmit the final response; T1 doubling to T2. UDP only
//   H  INVITE server, Completed: give up waiting for the ACK; 64*T1.
//   I  INVITE server, Confirmed: absorb ACK retransmissions; T4; reliable 0.
//   J  non-INVITE server, Completed: answer request retransmissions from the stored final
//      response; 64*T1; reliable 0.
// RFC 3261 §17.2.1 ends an INVITE server transaction on a 2xx (2xx retransmissions are the UAS
// core's job and a proxy forwards them statelessly, §16.7); we follow it rather than RFC 6026's
// Accepted state, which changes nothing on the wire for a proxy that forwards stray 2xx.
//
// Callbacks: a machine calls its TxnUser only from timer expiry, and for the two sends that a
// received message triggers inside the machine (SendAck on a non-2xx final, RetransmitResponse on
// a retransmitted request). State changes that the owner's own call causes (OnResponse,
// SentResponse, OnAck) are not reported back through callbacks: the owner reads state()
// after the call. So a callback never runs while the owner is half way through its own update.
//
// Ownership and threads: the machines live inside their owner's storage (a fixed table: they must
// not move while a timer is armed, since the Timer points back at them) and are used only on the
// shard thread that owns the TimerWheel. Reset() cancels every timer; call it before reuse.
//
// Example:
//   ClientTxn c;
//   c.Init(&user, &shard.timers(), &timer_values, /*id=*/index);
//   send(request); c.Start(/*invite=*/true, /*reliable=*/false);   // Timer A at T1, B at 64*T1
//   if (c.OnResponse(180) == ClientTxn::Disposition::kPassUp) forward_180();
//   c.OnResponse(486);    // Completed: user.SendAck(c) was called, Timer D armed
#pragma once

#include <cstdint>

#include "engine/timer_wheel.h"

namespace sipring::sip {

// RFC 3261 §17.1.1.1 timer values in milliseconds ([transactions] t1_ms, t2_ms, t4_ms).
struct TxnTimerValues {
  uint32_t t1_ms = 500;   // RTT estimate
  uint32_t t2_ms = 4000;  // longest retransmit interval for non-INVITE requests and INVITE responses
  uint32_t t4_ms = 5000;  // longest time a message stays in the network
};

// Timer D's value on an unreliable transport (§17.1.1.2: "at least 32 seconds").
inline constexpr uint32_t kTimerDMs = 32000;

class ClientTxn;
class ServerTxn;

// What a transaction asks of its owner. Every call is on the shard thread.
class TxnUser {
 public:
  virtual ~TxnUser() = default;
  // Timer A or E fired: send the request again, unchanged.
  virtual void RetransmitRequest(ClientTxn& t) = 0;
  // INVITE client: a non-2xx final response arrived (the first one, or a retransmission of it in
  // Completed): send the hop-by-hop ACK (§17.1.1.3). Called from inside OnResponse, so the
  // response that caused it is still the owner's current message.
  virtual void SendAck(ClientTxn& t) = 0;
  // Timer B or F fired before any final response: the transaction is now Terminated.
  virtual void ClientTimedOut(ClientTxn& t) = 0;
  // Timer D or K fired: Completed is over, the transaction is now Terminated.
  virtual void ClientTerminated(ClientTxn& t) = 0;
  // Timer G fired, or a retransmitted request arrived while a response is on record: send the
  // last response again.
  virtual void RetransmitResponse(ServerTxn& t) = 0;
  // Timer H fired: no ACK came for the non-2xx final response. The transaction is Terminated.
  virtual void ServerTimedOut(ServerTxn& t) = 0;
  // Timer I or J fired: the transaction is now Terminated.
  virtual void ServerTerminated(ServerTxn& t) = 0;
};

// What both machines share: their owner, wheel, timer values, id and three timers (a
// retransmission timer, a timeout, and a wait before Terminated).
class TxnCommon {
 public:
  // Binds the machine to its owner, wheel and timer values; `id` is free for the owner (an index
  // into its table). Call once, before any other call.
  void Init(TxnUser* user, engine::TimerWheel* wheel, const TxnTimerValues* timers, uint32_t id);
  uint32_t id() const { return id_; }
  TxnUser* user() const { return user_; }

 protected:
  void CancelTimers();

  TxnUser* user_ = nullptr;
  engine::TimerWheel* wheel_ = nullptr;
  const TxnTimerValues* timers_ = nullptr;
  uint32_t id_ = 0;
  uint32_t interval_ms_ = 0;  // the next A, E or G interval
  engine::Timer retransmit_;  // A, E or G
  engine::Timer timeout_;     // B, F or H
  engine::Timer wait_;        // D, K, I or J
};

class ClientTxn : public TxnCommon {
 public:
  enum class State : uint8_t {
    kIdle,        // not started (or Reset): no timers
    kCalling,     // INVITE sent, nothing heard: Timers A (UDP) and B run
    kTrying,      // non-INVITE sent, nothing heard: Timers E (UDP) and F run
    kProceeding,  // a provisional response came: INVITE waits (the proxy's Timer C is the
                  // owner's), non-INVITE keeps E (at T2) and F
    kCompleted,   // a final response came: D (INVITE) or K (non-INVITE) absorbs retransmissions
    kTerminated,  // done: 2xx to INVITE, a timer fired, or Completed ended
  };
  // What the owner does with a response handed to OnResponse.
  enum class Disposition : uint8_t {
    kPassUp,  // new information (a provisional, or the first final): the owner acts on it
    kAbsorb,  // a retransmission, or too late: the machine dealt with it (re-ACK), drop it
  };

  // The request has just been sent for the first time.
  void Start(bool invite, bool reliable);
  // A response to this transaction's request, by status code (100..699).
  Disposition OnResponse(int status);
  // Cancels every timer and goes back to kIdle (the owner abandons or reuses the machine).
  void Reset();

  State state() const { return state_; }
  bool invite() const { return invite_; }
  // Retransmissions of the request sent since Start.
  uint32_t retransmissions() const { return retransmissions_; }
  // Whether the transaction is still running (started and not Terminated).
  bool active() const { return state_ != State::kIdle && state_ != State::kTerminated; }

 private:
  static void OnRetransmitTimer(engine::Timer* t);
  static void OnTimeoutTimer(engine::Timer* t);
  static void OnWaitTimer(engine::Timer* t);
  void EnterCompleted();
  void Terminate();

  uint32_t retransmissions_ = 0;
  State state_ = State::kIdle;
  bool invite_ = false;
  bool reliable_ = false;
};

class ServerTxn : public TxnCommon {
 public:
  enum class State : uint8_t {
    kIdle,        // not started (or Reset)
    kTrying,      // non-INVITE received, nothing sent: retransmissions are absorbed silently
    kProceeding,  // a provisional was sent (INVITE starts here): retransmissions get it again
    kCompleted,   // a final was sent: G (INVITE, UDP) resends it; H (INVITE) or J ends it
    kConfirmed,   // INVITE only: the ACK came; I absorbs ACK retransmissions
    kTerminated,  // done
  };

  // The request arrived and the owner created the transaction for it.
  void Start(bool invite, bool reliable);
  // The owner has sent a response with `status` (it keeps the bytes, for RetransmitResponse).
  void SentResponse(int status);
  // The same request arrived again: calls RetransmitResponse when a response is on record
  // (Proceeding with one sent, or Completed); otherwise absorbs it silently.
  void OnRetransmission();
  // An ACK matched this (INVITE) transaction. True when it was absorbed here (Completed or
  // Confirmed); false when it is no concern of this machine (the owner forwards it).
  bool OnAck();
  // As ClientTxn::Reset.
  void Reset();

  State state() const { return state_; }
  bool invite() const { return invite_; }
  // Whether any response has been sent (so one can be retransmitted).
  bool responded() const { return responded_; }
  bool active() const { return state_ != State::kIdle && state_ != State::kTerminated; }

 private:
  static void OnRetransmitTimer(engine::Timer* t);
  static void OnTimeoutTimer(engine::Timer* t);
  static void OnWaitTimer(engine::Timer* t);
  void Terminate();

  State state_ = State::kIdle;
  bool invite_ = false;
  bool reliable_ = false;
  bool responded_ = false;
};

}  // namespace sipring::sip

#include "sip/transaction.h"

#include <algorithm>

namespace sipring::sip {
namespace {

template <typename T>
T* Owner(engine::Timer* t) {
  return reinterpret_cast<T*>(t->context);
}

template <typename T>
void Bind(engine::Timer& timer, T* owner, engine::Timer::Callback cb) {
  timer.on_expire = cb;
  timer.context = reinterpret_cast<uint64_t>(owner);
}

}  // namespace

void TxnCommon::Init(TxnUser* user, engine::TimerWheel* wheel, const TxnTimerValues* timers,
                     uint32_t id) {
  user_ = user;
  wheel_ = wheel;
  timers_ = timers;
  id_ = id;
}

void TxnCommon::CancelTimers() {
  if (wheel_ == nullptr) return;
  wheel_->Cancel(&retransmit_);
  wheel_->Cancel(&timeout_);
  wheel_->Cancel(&wait_);
}

// ---------------------------------------------------------------------------------------------
// ClientTxn

void ClientTxn::Start(bool invite, bool reliable) {
  Reset();
  Bind(retransmit_, this, &OnRetransmitTimer);
  Bind(timeout_, this, &OnTimeoutTimer);
  Bind(wait_, this, &OnWaitTimer);
  invite_ = invite;
  reliable_ = reliable;
  state_ = invite ? State::kCalling : State::kTrying;
  const uint64_t now = wheel_->now();
  interval_ms_ = timers_->t1_ms;
  if (!reliable) wheel_->Schedule(&retransmit_, now + interval_ms_);  // A or E
  wheel_->Schedule(&timeout_, now + 64ull * timers_->t1_ms);          // B or F
}

ClientTxn::Disposition ClientTxn::OnResponse(int status) {
  const bool provisional = status < 200;
  switch (state_) {
    case State::kCalling:
    case State::kTrying:
    case State::kProceeding:
      if (provisional) {
        if (invite_) {
          // §17.1.1.2: a provisional stops A and B; the proxy's Timer C takes over.
          wheel_->Cancel(&retransmit_);
          wheel_->Cancel(&timeout_);
        }
        state_ = State::kProceeding;
        return Disposition::kPassUp;
      }
      if (invite_ && status < 300) {
        Terminate();  // 2xx: the ACK is end to end, not ours
        return Disposition::kPassUp;
      }
      EnterCompleted();
      if (invite_) user_->SendAck(*this);
      return Disposition::kPassUp;
    case State::kCompleted:
      // A retransmitted final: an INVITE client ACKs it again (§17.1.1.2), the rest is silence.
      if (invite_ && status >= 300) user_->SendAck(*this);
      return Disposition::kAbsorb;
    case State::kIdle:
    case State::kTerminated:
      return Disposition::kAbsorb;
  }
  return Disposition::kAbsorb;
}

void ClientTxn::EnterCompleted() {
  wheel_->Cancel(&retransmit_);
  wheel_->Cancel(&timeout_);
  const uint32_t wait = reliable_ ? 0 : (invite_ ? kTimerDMs : timers_->t4_ms);
  if (wait == 0) {
    state_ = State::kTerminated;
    return;
  }
  state_ = State::kCompleted;
  wheel_->Schedule(&wait_, wheel_->now() + wait);
}

void ClientTxn::Terminate() {
  CancelTimers();
  state_ = State::kTerminated;
}

void ClientTxn::Reset() {
  CancelTimers();
  state_ = State::kIdle;
  retransmissions_ = 0;
}

void ClientTxn::OnRetransmitTimer(engine::Timer* t) {
  ClientTxn* c = Owner<ClientTxn>(t);
  if (c->state_ != State::kCalling && c->state_ != State::kTrying &&
      c->state_ != State::kProceeding) {
    return;
  }
  ++c->retransmissions_;
  if (c->invite_) {
    c->interval_ms_ *= 2;  // Timer A: doubles, no cap (B ends it)
  } else if (c->state_ == State::kProceeding) {
    c->interval_ms_ = c->timers_->t2_ms;  // Timer E in Proceeding: T2
  } else {
    c->interval_ms_ = std::min(c->interval_ms_ * 2, c->timers_->t2_ms);
  }
  c->wheel_->Schedule(&c->retransmit_, c->wheel_->now() + c->interval_ms_);
  c->user_->RetransmitRequest(*c);
}

void ClientTxn::OnTimeoutTimer(engine::Timer* t) {
  ClientTxn* c = Owner<ClientTxn>(t);
  c->Terminate();
  c->user_->ClientTimedOut(*c);
}

void ClientTxn::OnWaitTimer(engine::Timer* t) {
  ClientTxn* c = Owner<ClientTxn>(t);
  c->Terminate();
  c->user_->ClientTerminated(*c);
}

// ---------------------------------------------------------------------------------------------
// ServerTxn

void ServerTxn::Start(bool invite, bool reliable) {
  Reset();
  Bind(retransmit_, this, &OnRetransmitTimer);
  Bind(timeout_, this, &OnTimeoutTimer);
  Bind(wait_, this, &OnWaitTimer);
  invite_ = invite;
  reliable_ = reliable;
  state_ = invite ? State::kProceeding : State::kTrying;
}

void ServerTxn::SentResponse(int status) {
  if (state_ != State::kTrying && state_ != State::kProceeding) return;  // too late: ignored
  responded_ = true;
  if (status < 200) {
    state_ = State::kProceeding;
    return;
  }
  const uint64_t now = wheel_->now();
  if (invite_) {
    if (status < 300) {
      Terminate();
      return;
    }
    state_ = State::kCompleted;
    interval_ms_ = timers_->t1_ms;
    if (!reliable_) wheel_->Schedule(&retransmit_, now + interval_ms_);  // G
    wheel_->Schedule(&timeout_, now + 64ull * timers_->t1_ms);           // H
    return;
  }
  if (reliable_) {
    Terminate();  // J = 0
    return;
  }
  state_ = State::kCompleted;
  wheel_->Schedule(&wait_, now + 64ull * timers_->t1_ms);  // J
}

void ServerTxn::OnRetransmission() {
  if ((state_ == State::kProceeding || state_ == State::kCompleted) && responded_) {
    user_->RetransmitResponse(*this);
  }
}

bool ServerTxn::OnAck() {
  if (!invite_) return false;
  if (state_ == State::kConfirmed) return true;  // an ACK retransmission: Timer I absorbs it
  if (state_ != State::kCompleted) return false;
  wheel_->Cancel(&retransmit_);
  wheel_->Cancel(&timeout_);
  if (reliable_) {
    Terminate();  // I = 0
    return true;
  }
  state_ = State::kConfirmed;
  wheel_->Schedule(&wait_, wheel_->now() + timers_->t4_ms);  // I
  return true;
}

void ServerTxn::Terminate() {
  CancelTimers();
  state_ = State::kTerminated;
}

void ServerTxn::Reset() {
  CancelTimers();
  state_ = State::kIdle;
  responded_ = false;
}

void ServerTxn::OnRetransmitTimer(engine::Timer* t) {
  ServerTxn* s = Owner<ServerTxn>(t);
  if (s->state_ != State::kCompleted) return;
  s->interval_ms_ = std::min(s->interval_ms_ * 2, s->timers_->t2_ms);
  s->wheel_->Schedule(&s->retransmit_, s->wheel_->now() + s->interval_ms_);
  s->user_->RetransmitResponse(*s);
}

void ServerTxn::OnTimeoutTimer(engine::Timer* t) {
  ServerTxn* s = Owner<ServerTxn>(t);
  s->Terminate();
  s->user_->ServerTimedOut(*s);
}

void ServerTxn::OnWaitTimer(engine::Timer* t) {
  ServerTxn* s = Owner<ServerTxn>(t);
  s->Terminate();
  s->user_->ServerTerminated(*s);
}

}  // namespace sipring::sip

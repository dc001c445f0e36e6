// The RFC 3261 §17 state machines against the RFC's timer tables (§17.1.1.2, §17.1.2.2,
// §17.2.1, §17.2.2, Table 4 of Appendix A), on a virtual clock: a TimerWheel advanced by hand.
#include "sip/transaction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipring::sip {
namespace {

using CState = ClientTxn::State;
using SState = ServerTxn::State;
using Disposition = ClientTxn::Disposition;

// Records every callback with the virtual time it came at.
class Recorder : public TxnUser {
 public:
  explicit Recorder(engine::TimerWheel* wheel) : wheel_(wheel) {}
  void RetransmitRequest(ClientTxn&) override { Add("retransmit"); }
  void SendAck(ClientTxn&) override { Add("ack"); }
  void ClientTimedOut(ClientTxn&) override { Add("client_timeout"); }
  void ClientTerminated(ClientTxn&) override { Add("client_terminated"); }
  void RetransmitResponse(ServerTxn&) override { Add("response"); }
  void ServerTimedOut(ServerTxn&) override { Add("server_timeout"); }
  void ServerTerminated(ServerTxn&) override { Add("server_terminated"); }

  // Times of the events named `what`.
  std::vector<uint64_t> Times(const std::string& what) const {
    std::vector<uint64_t> out;
    for (const auto& [name, at] : events_) {
      if (name == what) out.push_back(at);
    }
    return out;
  }
  size_t Count(const std::string& what) const { return Times(what).size(); }

 private:
  void Add(std::string what) { events_.push_back({std::move(what), wheel_->now()}); }
  engine::TimerWheel* wheel_;
  std::vector<std::pair<std::string, uint64_t>> events_;
};

class TransactionTest : public ::testing::Test {
 protected:
  TransactionTest() : wheel_(0), user_(&wheel_) {
    client_.Init(&user_, &wheel_, &timers_, 1);
    server_.Init(&user_, &wheel_, &timers_, 2);
  }
  void RunTo(uint64_t ms) { wheel_.Advance(ms); }

  TxnTimerValues timers_;  // T1 500, T2 4000, T4 5000
  engine::TimerWheel wheel_;
  Recorder user_;
  ClientTxn client_;
  ServerTxn server_;
};

// §17.1.1.2: Timer A at T1, 2T1, 4T1... (no cap); Timer B at 64*T1 ends Calling.
TEST_F(TransactionTest, InviteClientTimerAAndB) {
  client_.Start(/*invite=*/true, /*reliable=*/false);
  EXPECT_EQ(client_.state(), CState::kCalling);
  RunTo(40000);
  EXPECT_EQ(user_.Times("retransmit"),
            (std::vector<uint64_t>{500, 1500, 3500, 7500, 15500, 31500}));
  EXPECT_EQ(user_.Times("client_timeout"), (std::vector<uint64_t>{32000}));
  EXPECT_EQ(client_.state(), CState::kTerminated);
  EXPECT_EQ(client_.retransmissions(), 6u);
}

// A provisional stops A and B; a non-2xx final is ACKed, and each retransmission of it is ACKed
// again during Timer D (32 s), after which the transaction ends.
TEST_F(TransactionTest, InviteClientProceedingCompletedTimerD) {
  client_.Start(true, false);
  RunTo(600);  // one retransmission at 500
  EXPECT_EQ(client_.OnResponse(180), Disposition::kPassUp);
  EXPECT_EQ(client_.state(), CState::kProceeding);
  RunTo(60000);
  EXPECT_EQ(user_.Count("retransmit"), 1u);
  EXPECT_EQ(user_.Count("client_timeout"), 0u) << "B must not run in Proceeding";
  EXPECT_EQ(client_.OnResponse(486), Disposition::kPassUp);
  EXPECT_EQ(client_.state(), CState::kCompleted);
  EXPECT_EQ(user_.Times("ack"), (std::vector<uint64_t>{60000}));
  RunTo(61000);
  EXPECT_EQ(client_.OnResponse(486), Disposition::kAbsorb);  // a retransmitted final
  EXPECT_EQ(user_.Times("ack"), (std::vector<uint64_t>{60000, 61000}));
  RunTo(60000 + kTimerDMs - 1);
  EXPECT_EQ(client_.state(), CState::kCompleted);
  RunTo(60000 + kTimerDMs);
  EXPECT_EQ(client_.state(), CState::kTerminated);
  EXPECT_EQ(user_.Times("client_terminated"), (std::vector<uint64_t>{60000 + kTimerDMs}));
}

// A 2xx ends the INVITE client at once (its ACK is end to end, not the transaction's).
TEST_F(TransactionTest, InviteClient2xxTerminates) {
  client_.Start(true, false);
  EXPECT_EQ(client_.OnResponse(200), Disposition::kPassUp);
  EXPECT_EQ(client_.state(), CState::kTerminated);
  RunTo(100000);
  EXPECT_EQ(user_.Count("retransmit"), 0u);
  EXPECT_EQ(user_.Count("ack"), 0u);
  EXPECT_EQ(user_.Count("client_terminated"), 0u);
}

// Crossing: the final response and Timer A due in the same millisecond. The response is
// processed first (the owner reads the socket before advancing the wheel): no retransmission.
TEST_F(TransactionTest, InviteClientResponseCrossesTimerA) {
  client_.Start(true, false);
  RunTo(499);
  EXPECT_EQ(client_.OnResponse(503), Disposition::kPassUp);
  RunTo(500);
  EXPECT_EQ(user_.Count("retransmit"), 0u);
  EXPECT_EQ(user_.Count("ack"), 1u);
}

// Reliable transport: no A; D is zero (the transaction ends with the final response).
TEST_F(TransactionTest, InviteClientReliable) {
  client_.Start(true, /*reliable=*/true);
  RunTo(10000);
  EXPECT_EQ(user_.Count("retransmit"), 0u);
  EXPECT_EQ(client_.OnResponse(486), Disposition::kPassUp);
  EXPECT_EQ(user_.Count("ack"), 1u);
  EXPECT_EQ(client_.state(), CState::kTerminated);
  RunTo(32000);
  EXPECT_EQ(user_.Times("client_timeout"), (std::vector<uint64_t>{}));
}

// §17.1.2.2: Timer E at T1 doubling to T2; F at 64*T1.
TEST_F(TransactionTest, NonInviteClientTimerEAndF) {
  client_.Start(/*invite=*/false, false);
  EXPECT_EQ(client_.state(), CState::kTrying);
  RunTo(40000);
  EXPECT_EQ(user_.Times("retransmit"),
            (std::vector<uint64_t>{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500,
                                   31500}));
  EXPECT_EQ(user_.Times("client_timeout"), (std::vector<uint64_t>{32000}));
}

// In Proceeding, E fires every T2; a final response stops E and F; K (T4) absorbs what follows.
TEST_F(TransactionTest, NonInviteClientProceedingAndTimerK) {
  client_.Start(false, false);
  RunTo(100);
  EXPECT_EQ(client_.OnResponse(100), Disposition::kPassUp);
  EXPECT_EQ(client_.state(), CState::kProceeding);
  RunTo(10000);
  // E was already due at 500 (T1); from then on each interval is T2.
  EXPECT_EQ(user_.Times("retransmit"), (std::vector<uint64_t>{500, 4500, 8500}));
  EXPECT_EQ(client_.OnResponse(200), Disposition::kPassUp);
  EXPECT_EQ(client_.state(), CState::kCompleted);
  EXPECT_EQ(client_.OnResponse(200), Disposition::kAbsorb);
  RunTo(10000 + timers_.t4_ms);
  EXPECT_EQ(client_.state(), CState::kTerminated);
  EXPECT_EQ(user_.Times("client_terminated"), (std::vector<uint64_t>{15000}));
  RunTo(40000);
  EXPECT_EQ(user_.Count("retransmit"), 3u);
  EXPECT_EQ(user_.Count("client_timeout"), 0u);
}

TEST_F(TransactionTest, NonInviteClientReliableHasNoEAndNoK) {
  client_.Start(false, true);
  RunTo(31999);
  EXPECT_EQ(user_.Count("retransmit"), 0u);
  EXPECT_EQ(client_.OnResponse(200), Disposition::kPassUp);
  EXPECT_EQ(client_.state(), CState::kTerminated);
}

// §17.2.1: a retransmitted INVITE in Proceeding gets the last provisional again; a non-2xx
// final is retransmitted by G (T1 doubling to T2) until the ACK; H (64*T1) gives up.
TEST_F(TransactionTest, InviteServerTimersGAndH) {
  server_.Start(/*invite=*/true, false);
  EXPECT_EQ(server_.state(), SState::kProceeding);
  server_.OnRetransmission();  // nothing sent yet: absorbed silently
  EXPECT_EQ(user_.Count("response"), 0u);
  server_.SentResponse(100);
  server_.OnRetransmission();
  EXPECT_EQ(user_.Count("response"), 1u);
  RunTo(1000);
  server_.SentResponse(486);
  EXPECT_EQ(server_.state(), SState::kCompleted);
  RunTo(40000);
  EXPECT_EQ(user_.Times("response"),
            (std::vector<uint64_t>{0, 1500, 2500, 4500, 8500, 12500, 16500, 20500, 24500,
                                   28500, 32500}));
  EXPECT_EQ(user_.Times("server_timeout"), (std::vector<uint64_t>{33000}));
  EXPECT_EQ(server_.state(), SState::kTerminated);
}

// The ACK stops G and H; I (T4) absorbs ACK retransmissions, then the transaction ends.
TEST_F(TransactionTest, InviteServerAckAndTimerI) {
  server_.Start(true, false);
  server_.SentResponse(503);
  RunTo(700);  // G at 500
  EXPECT_TRUE(server_.OnAck());
  EXPECT_EQ(server_.state(), SState::kConfirmed);
  EXPECT_TRUE(server_.OnAck());  // retransmitted ACK: still absorbed
  server_.OnRetransmission();    // a late INVITE copy in Confirmed: nothing sent
  RunTo(700 + timers_.t4_ms);
  EXPECT_EQ(server_.state(), SState::kTerminated);
  EXPECT_EQ(user_.Times("response"), (std::vector<uint64_t>{500}));
  EXPECT_EQ(user_.Times("server_terminated"), (std::vector<uint64_t>{5700}));
  EXPECT_EQ(user_.Count("server_timeout"), 0u);
}

// Crossing: the INVITE is retransmitted while the final is in Completed: the final goes again.
TEST_F(TransactionTest, InviteServerRetransmissionInCompleted) {
  server_.Start(true, false);
  server_.SentResponse(180);
  server_.SentResponse(404);
  server_.OnRetransmission();
  EXPECT_EQ(user_.Times("response"), (std::vector<uint64_t>{0}));
}

// A 2xx ends the INVITE server transaction (RFC 3261); an ACK then is not its business.
TEST_F(TransactionTest, InviteServer2xxTerminates) {
  server_.Start(true, false);
  server_.SentResponse(200);
  EXPECT_EQ(server_.state(), SState::kTerminated);
  EXPECT_FALSE(server_.OnAck());
  RunTo(60000);
  EXPECT_EQ(user_.Count("response"), 0u);
}

TEST_F(TransactionTest, InviteServerReliable) {
  server_.Start(true, true);
  server_.SentResponse(486);
  RunTo(10000);
  EXPECT_EQ(user_.Count("response"), 0u) << "no Timer G over a reliable transport";
  EXPECT_TRUE(server_.OnAck());
  EXPECT_EQ(server_.state(), SState::kTerminated) << "Timer I is zero";
}

// §17.2.2: Trying absorbs retransmissions silently; Proceeding and Completed answer them with
// the last response; J (64*T1) ends Completed.
TEST_F(TransactionTest, NonInviteServerTimerJ) {
  server_.Start(/*invite=*/false, false);
  EXPECT_EQ(server_.state(), SState::kTrying);
  server_.OnRetransmission();
  EXPECT_EQ(user_.Count("response"), 0u);
  server_.SentResponse(200);
  EXPECT_EQ(server_.state(), SState::kCompleted);
  RunTo(1000);
  server_.OnRetransmission();
  EXPECT_EQ(user_.Times("response"), (std::vector<uint64_t>{1000}));
  EXPECT_FALSE(server_.OnAck());
  RunTo(31999);
  EXPECT_EQ(server_.state(), SState::kCompleted);
  RunTo(32000);
  EXPECT_EQ(server_.state(), SState::kTerminated);
  EXPECT_EQ(user_.Times("server_terminated"), (std::vector<uint64_t>{32000}));
  EXPECT_EQ(user_.Count("response"), 1u) << "no Timer G for non-INVITE";
}

TEST_F(TransactionTest, NonInviteServerReliableEndsAtFinal) {
  server_.Start(false, true);
  server_.SentResponse(100);
  EXPECT_EQ(server_.state(), SState::kProceeding);
  server_.SentResponse(200);
  EXPECT_EQ(server_.state(), SState::kTerminated);
}

// Configured timer values are honoured (T1 = 100 ms, T2 = 400 ms).
TEST_F(TransactionTest, ConfiguredT1AndT2) {
  timers_.t1_ms = 100;
  timers_.t2_ms = 400;
  client_.Start(false, false);
  RunTo(7000);
  EXPECT_EQ(user_.Times("retransmit").front(), 100u);
  EXPECT_EQ(user_.Times("retransmit")[3], 1100u);  // 100, 300, 700, 1100: capped at T2
  EXPECT_EQ(user_.Times("client_timeout"), (std::vector<uint64_t>{6400}));
}

// Reset cancels every timer: nothing fires afterwards.
TEST_F(TransactionTest, ResetCancelsTimers) {
  client_.Start(true, false);
  server_.Start(true, false);
  server_.SentResponse(500);
  client_.Reset();
  server_.Reset();
  EXPECT_EQ(wheel_.size(), 0u);
  RunTo(100000);
  EXPECT_EQ(user_.Count("retransmit") + user_.Count("response") + user_.Count("client_timeout") +
                user_.Count("server_timeout"),
            0u);
}

}  // namespace
}  // namespace sipring::sip

// Tests of the health thread: the rise/fall machine on its own, then the real HealthChecker on a
// real one-shard group (io_uring, UDP) probing a real UDP backend played by a thread of the
// test that answers OPTIONS (or stays silent, or answers a chosen code).
#include "health/health_checker.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "sip/parser.h"
#include "tests/testing/fake_proc.h"
#include "tests/testing/loopback.h"
#include "tests/testing/process.h"

namespace sipring::health {
namespace {

using sip::BackendState;

TEST(BackendHealthTest, OneLostProbeNeverFlips) {
  BackendHealth h(/*rise=*/2, /*fall=*/3);
  EXPECT_EQ(h.state(), BackendState::kProbing);
  EXPECT_TRUE(h.OnResult(true));
  EXPECT_EQ(h.state(), BackendState::kUp);
  for (int round = 0; round < 10; ++round) {
    EXPECT_FALSE(h.OnResult(false));
    EXPECT_FALSE(h.OnResult(false));
    EXPECT_FALSE(h.OnResult(true));  // two failures, then a success: the count starts again
    EXPECT_EQ(h.state(), BackendState::kUp);
  }
}

TEST(BackendHealthTest, FallThenRise) {
  BackendHealth h(2, 3);
  h.OnResult(true);
  EXPECT_FALSE(h.OnResult(false));
  EXPECT_FALSE(h.OnResult(false));
  EXPECT_TRUE(h.OnResult(false));
  EXPECT_EQ(h.state(), BackendState::kDown);
  EXPECT_FALSE(h.OnResult(false));
  EXPECT_FALSE(h.OnResult(true));   // one success is not enough to come back
  EXPECT_FALSE(h.OnResult(false));  // and a failure resets the rise count
  EXPECT_FALSE(h.OnResult(true));
  EXPECT_TRUE(h.OnResult(true));
  EXPECT_EQ(h.state(), BackendState::kUp);
}

TEST(BackendHealthTest, ProbingGoesDownAfterFall) {
  BackendHealth h(2, 2);
  EXPECT_FALSE(h.OnResult(false));
  EXPECT_EQ(h.state(), BackendState::kProbing);
  EXPECT_TRUE(h.OnResult(false));
  EXPECT_EQ(h.state(), BackendState::kDown);
}

TEST(BackendHealthTest, DrainingOverlaysUpButNotDown) {
  BackendHealth h(1, 1);
  h.OnResult(true);
  EXPECT_TRUE(h.SetDraining(true));
  EXPECT_EQ(h.state(), BackendState::kDraining);
  EXPECT_FALSE(h.OnResult(true));
  EXPECT_TRUE(h.OnResult(false));  // a draining backend that dies is down: no dialogs either
  EXPECT_EQ(h.state(), BackendState::kDown);
  EXPECT_TRUE(h.OnResult(true));
  EXPECT_EQ(h.state(), BackendState::kDraining);
  EXPECT_TRUE(h.SetDraining(false));
  EXPECT_EQ(h.state(), BackendState::kUp);
}

TEST(BackendStatesTest, GenerationMovesOnPublishAndCopiesEligibility) {
  sip::BackendStates s(3);
  const uint64_t g0 = s.generation();
  s.Publish(1, BackendState::kDown);
  s.Publish(2, BackendState::kDraining);
  EXPECT_GT(s.generation(), g0);
  std::vector<uint8_t> fresh(3), dialogs(3);
  s.CopyEligible(&fresh, &dialogs);
  EXPECT_EQ(fresh, (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(dialogs, (std::vector<uint8_t>{1, 0, 1}));
}

// A UDP backend on loopback: answers each OPTIONS with `code` (0 = silence), echoing Via, From,
// To, Call-ID and CSeq as RFC 3261 §8.2.6 requires.
class FakeBackend {
 public:
  FakeBackend() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const transports::SockAddr a = transports::SockAddr::Loopback4(0);
    EXPECT_EQ(bind(fd_, a.sa(), a.len()), 0);
    transports::SockAddr bound = a;
    socklen_t len = sizeof(sockaddr_storage);
    getsockname(fd_, bound.mutable_sa(), &len);
    address_ = transports::SockAddr::FromSockaddr(bound.sa(), len);
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeBackend() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  const transports::SockAddr& address() const { return address_; }
  void set_code(int code) { code_ = code; }
  int received() const { return received_; }

 private:
  void Run() {
    auto msg = std::make_unique<sip::Message>();
    char buf[4096];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      sockaddr_storage peer;
      socklen_t plen = sizeof(peer);
      const ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n <= 0) continue;
      ++received_;
      const int code = code_;
      if (code == 0) continue;
      if (sip::Parse(std::string_view(buf, size_t(n)), {}, msg.get()) != sip::ParseError::kOk) continue;
      std::string r = "SIP/2.0 " + std::to_string(code) + " Whatever\r\n";
      for (sip::HeaderId id : {sip::HeaderId::kVia, sip::HeaderId::kFrom, sip::HeaderId::kTo,
                               sip::HeaderId::kCallId, sip::HeaderId::kCSeq}) {
        for (const sip::Header* h = msg->Find(id); h != nullptr; h = msg->NextSame(h)) {
          r += std::string(h->name) + ": " + std::string(h->value) + "\r\n";
        }
      }
      r += "Content-Length: 0\r\n\r\n";
      sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
    }
  }

  int fd_ = -1;
  transports::SockAddr address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> code_{200};
  std::atomic<int> received_{0};
  std::thread thread_;
};

class HealthCheckerTest : public ::testing::Test {
 protected:
  void Start(HealthOptions options) {
    options.instance_id = 0x1234abcd;
    for (size_t i = 0; i < backends_.size(); ++i) {
      options.backends.push_back({"b" + std::to_string(i), backends_[i]->address()});
    }
    states_ = std::make_unique<sip::BackendStates>(backends_.size());
    counters_ = std::make_unique<HealthCounters>(backends_.size());
    queue_ = std::make_unique<sip::PassiveSignalQueue>(16);
    group_ = std::make_unique<engine::ShardGroup>(
        engine::ShardGroupOptions{.shards = 1, .shard = HealthChecker::ShardOptions()},
        [this, options](int) {
          auto c = std::make_unique<HealthChecker>(options, states_.get(),
                                                   std::vector{queue_.get()}, counters_.get());
          checker_ = c.get();
          return c;
        });
    ASSERT_TRUE(group_->Start().ok());
  }
  void TearDown() override {
    if (group_) {
      group_->StopAll();
      group_->Join();
    }
  }
  BackendState State(size_t i) const { return states_->Get(i); }

  std::vector<std::unique_ptr<FakeBackend>> backends_;
  std::unique_ptr<sip::BackendStates> states_;
  std::unique_ptr<HealthCounters> counters_;
  std::unique_ptr<sip::PassiveSignalQueue> queue_;
  std::unique_ptr<engine::ShardGroup> group_;
  HealthChecker* checker_ = nullptr;
};

TEST_F(HealthCheckerTest, DetectsDeathWithinFallTimesIntervalPlusTimeoutAndComesBack) {
  backends_.push_back(std::make_unique<FakeBackend>());
  backends_.push_back(std::make_unique<FakeBackend>());
  Start({.interval_ms = 100, .timeout_ms = 80, .rise = 2, .fall = 3, .self_probe_interval_ms = 0});
  ASSERT_TRUE(testing::WaitFor([&] { return State(0) == BackendState::kUp && State(1) == BackendState::kUp; }, 2000));

  backends_[1]->set_code(0);  // stops answering
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(testing::WaitFor([&] { return State(1) == BackendState::kDown; }, 3000));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
  // Bound: fall * interval + timeout = 380 ms, plus scheduling slack on a shared machine.
  EXPECT_LT(ms, 380 + 150) << "detection took " << ms << " ms";
  EXPECT_EQ(State(0), BackendState::kUp);
  EXPECT_EQ(counters_->backends[0].went_down.Get(), 0u);
  EXPECT_EQ(counters_->backends[1].went_down.Get(), 1u);

  backends_[1]->set_code(200);
  ASSERT_TRUE(testing::WaitFor([&] { return State(1) == BackendState::kUp; }, 2000));
  EXPECT_EQ(counters_->backends[1].went_up.Get(), 2u);  // probing -> up, then down -> up
  EXPECT_GT(counters_->backends[0].last_rtt_us.Get(), 0u);
}

TEST_F(HealthCheckerTest, AliveCodesDecide) {
  backends_.push_back(std::make_unique<FakeBackend>());
  backends_.push_back(std::make_unique<FakeBackend>());
  backends_[0]->set_code(503);
  backends_[1]->set_code(503);
  // Default: any final response proves the process answers.
  Start({.interval_ms = 100, .timeout_ms = 80, .rise = 1, .fall = 2, .self_probe_interval_ms = 0});
  ASSERT_TRUE(testing::WaitFor([&] { return counters_->backends[0].probes_ok.Get() >= 3; }, 2000));
  EXPECT_EQ(State(0), BackendState::kUp);
  TearDown();
  group_.reset();

  Start({.interval_ms = 100, .timeout_ms = 80, .rise = 1, .fall = 2, .alive_codes = {200},
         .self_probe_interval_ms = 0});
  ASSERT_TRUE(testing::WaitFor([&] { return State(0) == BackendState::kDown; }, 2000));
  EXPECT_GE(counters_->backends[0].probes_failed.Get(), 2u);
  backends_[0]->set_code(200);
  ASSERT_TRUE(testing::WaitFor([&] { return State(0) == BackendState::kUp; }, 2000));
}

TEST_F(HealthCheckerTest, PassiveSignalProbesAtOnce) {
  backends_.push_back(std::make_unique<FakeBackend>());
  // A long interval: without the signal the next probe is seconds away.
  Start({.interval_ms = 10000, .timeout_ms = 500, .rise = 1, .fall = 1, .self_probe_interval_ms = 0});
  ASSERT_TRUE(testing::WaitFor([&] { return counters_->backends[0].probes_ok.Get() == 1; }, 2000));
  testing::SleepMs(100);
  ASSERT_EQ(counters_->backends[0].probes_sent.Get(), 1u);
  backends_[0]->set_code(0);
  ASSERT_TRUE(queue_->TryPush(sip::PassiveSignal{0, sip::PassiveSignal::Kind::k503}));
  // Probed within a loop turn, and with fall = 1 the silent backend is down after its timeout.
  ASSERT_TRUE(testing::WaitFor([&] { return counters_->backends[0].probes_sent.Get() == 2; }, 300));
  EXPECT_EQ(counters_->backends[0].passive_signals.Get(), 1u);
  ASSERT_TRUE(testing::WaitFor([&] { return State(0) == BackendState::kDown; }, 1500));
}

TEST_F(HealthCheckerTest, OperatorDrainIsPublished) {
  backends_.push_back(std::make_unique<FakeBackend>());
  Start({.interval_ms = 100, .timeout_ms = 80, .rise = 1, .fall = 2, .self_probe_interval_ms = 0});
  ASSERT_TRUE(testing::WaitFor([&] { return State(0) == BackendState::kUp; }, 2000));
  checker_->RequestDrain(0, true);
  ASSERT_TRUE(testing::WaitFor([&] { return State(0) == BackendState::kDraining; }, 500));
  std::vector<uint8_t> fresh(1), dialogs(1);
  states_->CopyEligible(&fresh, &dialogs);
  EXPECT_EQ(fresh[0], 0);
  EXPECT_EQ(dialogs[0], 1);
  checker_->RequestDrain(0, false);
  ASSERT_TRUE(testing::WaitFor([&] { return State(0) == BackendState::kUp; }, 500));
}

TEST_F(HealthCheckerTest, KernelCountersReadFromProcRoot) {
  backends_.push_back(std::make_unique<FakeBackend>());
  testing::FakeProc proc;
  proc.Set("net/netstat",
           "TcpExt: ListenOverflows ListenDrops SyncookiesSent SyncookiesRecv SyncookiesFailed "
           "TCPTimeWaitOverflow\nTcpExt: 11 12 13 14 15 16\n");
  proc.Set("net/snmp", "Udp: InDatagrams InErrors RcvbufErrors SndbufErrors\nUdp: 1 21 22 23\n");
  Start({.interval_ms = 1000, .timeout_ms = 500, .self_probe_interval_ms = 0,
         .proc_root = proc.root()});
  ASSERT_TRUE(testing::WaitFor([&] { return counters_->kernel_read_ok.Get() == 1; }, 1000));
  EXPECT_EQ(counters_->Kernel(&KernelCounters::tcp_listen_overflows).Get(), 11u);
  EXPECT_EQ(counters_->Kernel(&KernelCounters::tcp_timewait_overflow).Get(), 16u);
  EXPECT_EQ(counters_->Kernel(&KernelCounters::udp_rcvbuf_errors).Get(), 22u);
  EXPECT_EQ(counters_->Kernel(&KernelCounters::udp_in_errors).Get(), 21u);
}

}  // namespace
}  // namespace sipring::health

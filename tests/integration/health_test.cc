// End-to-end tests of health and supervision (issue: health, watchdog, systemd), on the real
// daemon with real sipp backends and callers on loopback:
//  - NotifiesSystemdAndFeedsWatchdog: READY=1 once listening, WATCHDOG=1 at half WATCHDOG_USEC,
//    STOPPING=1 on SIGTERM, over a real NOTIFY_SOCKET (abstract unix datagram socket);
//  - DetectsDeadBackendUnderLoad: a backend killed while calls flow is out of rotation within
//    1 s (the default probe settings), the survivor never goes down, nothing more is sent to the
//    dead one, and the self probe through the data path stays good;
//  - OperatorDrainFinishesDialogs: POST /backends/b1/drain: dialogs already on b1 end there (their
//    BYEs carry b1's Record-Route tag), new calls all go to b0; undrain brings b1 back;
//  - BackendAnswering503IsProbedAtOnce: a 503 relayed from a backend is a passive signal: the
//    health thread probes that backend at once, not at its next (10 s) interval;
//  - RestartAfterSigkillAnswersAtOnce: SIGKILL, start again at once, time to the first answered
//    request (the proxy's own 200, and a backend's 200 through the balancer). Prints the figures.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/daemon_fixture.h"
#include "tests/testing/loopback.h"
#include "tests/testing/process.h"

namespace sipring {
namespace {

using integration::DaemonTest;
using testing::Process;
using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

std::string State(const std::string& backend, const std::string& state) {
  return "sipring_backend_state{backend=\"" + backend + "\",state=\"" + state + "\"}";
}

TEST_F(DaemonTest, NotifiesSystemdAndFeedsWatchdog) {
  const std::string name = "@sipring-notify-" + std::to_string(getpid());
  const int fd = testing::MakeUnixDatagramServer(name);
  ASSERT_GE(fd, 0);
  // The daemon inherits these, as it would from systemd.
  setenv("NOTIFY_SOCKET", name.c_str(), 1);
  setenv("WATCHDOG_USEC", "400000", 1);  // WATCHDOG=1 every 200 ms
  Start("hash-call-id", {1, 1}, "shards = 2");
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");

  std::vector<std::string> got;
  auto receive = [&](int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    char buf[512];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) got.emplace_back(buf, size_t(n));
    return n > 0;
  };
  const auto t0 = Clock::now();
  while (MsSince(t0) < 1500 && receive(500)) {
  }
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].rfind("READY=1", 0), 0u) << got[0];
  int watchdogs = 0;
  for (const std::string& m : got) watchdogs += m == "WATCHDOG=1";
  EXPECT_GE(watchdogs, 4) << "in 1.5 s at a 200 ms period";

  daemon_->Signal(SIGTERM);
  bool stopping = false;
  while (!stopping && receive(2000)) stopping = got.back() == "STOPPING=1";
  EXPECT_TRUE(stopping);
  close(fd);
}

TEST_F(DaemonTest, DetectsDeadBackendUnderLoad) {
  // The default probe settings, written out: detection within fall * interval + timeout = 800 ms.
  Start("hash-call-id", {1, 1}, "shards = 2",
        "[health]\ninterval_ms = 200\ntimeout_ms = 200\nrise = 2\nfall = 3\n"
        "self_probe_interval_ms = 300\n");
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto m = Metrics();
        return m[State("b0", "up")] == 1 && m[State("b1", "up")] == 1;
      },
      3000));
  // Calls flow throughout: 300 calls/s for 8 s.
  // -recv_timeout: a call whose INVITE or BYE went to the dead backend fails after 5 s instead of
  // waiting out Timer B/F (32 s), so the run ends in bounded time even under ASan.
  auto uac = StartUac({"-sn", "uac", "-recv_timeout", "5000"}, 2400, 300, "uac");
  testing::SleepMs(2500);
  uas_[1]->Signal(SIGKILL);
  const auto killed = Clock::now();
  ASSERT_TRUE(testing::WaitFor([&] { return Metrics()[State("b1", "down")] == 1; }, 3000));
  const int64_t detection_ms = MsSince(killed);
  std::printf("[ figures  ] dead backend out of rotation after %lld ms under 300 calls/s\n",
              static_cast<long long>(detection_ms));
  EXPECT_LT(detection_ms, 1000);

  // Nothing new reaches the dead backend once it is down. Shards apply a published state at
  // their next loop turn (at most 100 ms when idle, far less under load): give them that.
  testing::SleepMs(150);
  const std::string b1 = "sipring_backend_requests_total{backend=\"b1\"}";
  const double sent_to_b1 = Metrics()[b1];
  testing::SleepMs(1000);
  auto m = Metrics();
  EXPECT_EQ(m[b1], sent_to_b1);
  EXPECT_EQ(m["sipring_backend_transitions_total{backend=\"b0\",to=\"down\"}"], 0);
  EXPECT_EQ(m["sipring_self_probe_ok"], 1);
  EXPECT_GT(m["sipring_self_probes_total{result=\"ok\"}"], 0);
  UacResult r = FinishUac(*uac, "uac");
  std::printf("[ figures  ] calls: %ld ok, %ld failed (those on the dead backend while it was "
              "being detected; stateless mode has no failover)\n",
              r.counts.successful, r.counts.failed);
  EXPECT_GT(r.counts.successful, 0);
}

TEST_F(DaemonTest, OperatorDrainFinishesDialogs) {
  Start("hash-call-id", {1, 1}, "shards = 2");
  const std::string b0 = "sipring_backend_requests_total{backend=\"b0\"}";
  const std::string b1 = "sipring_backend_requests_total{backend=\"b1\"}";
  // 200 calls at 100/s, each held 2 s: the drain lands while b1 holds dialogs.
  auto held = StartUac({"-sf", Scenario("uac_routes.xml"), "-d", "2000"}, 200, 100, "held");
  testing::SleepMs(1000);
  EXPECT_EQ(testing::HttpRequest(admin_, "POST", "/backends/nobody/drain").status, 404);
  EXPECT_EQ(testing::HttpRequest(admin_, "GET", "/backends/b1/drain").status, 404);
  ASSERT_EQ(testing::HttpRequest(admin_, "POST", "/backends/b1/drain").status, 200);
  ASSERT_TRUE(testing::WaitFor([&] { return Metrics()[State("b1", "draining")] == 1; }, 1000));
  const double b1_at_drain = Metrics()[b1];
  UacResult r = FinishUac(*held, "held");
  EXPECT_EQ(r.counts.successful, 200) << r.log;
  EXPECT_EQ(r.counts.failed, 0) << r.log;
  EXPECT_GT(Metrics()[b1], b1_at_drain) << "the held dialogs' BYEs reached b1";

  // New calls while draining: all on b0.
  const double b1_before = Metrics()[b1], b0_before = Metrics()[b0];
  r = RunUac({"-sf", Scenario("uac_routes.xml")}, 200, 200, "fresh");
  EXPECT_EQ(r.counts.successful, 200) << r.log;
  EXPECT_EQ(Metrics()[b1], b1_before);
  EXPECT_GE(Metrics()[b0], b0_before + 200 * 3);  // INVITE, ACK, BYE (+ any retransmission)

  ASSERT_EQ(testing::HttpRequest(admin_, "POST", "/backends/b1/undrain").status, 200);
  ASSERT_TRUE(testing::WaitFor([&] { return Metrics()[State("b1", "up")] == 1; }, 1000));
  // Every call each UAS saw ended well: no BYE of a held dialog went astray.
  const std::vector<long> calls = UasCalls();
  EXPECT_EQ(calls[0] + calls[1], 400);
}

TEST_F(DaemonTest, BackendAnswering503IsProbedAtOnce) {
  uas_scenario_ = "uas_503.xml";
  Start("hash-call-id", {1}, "shards = 1",
        "[health]\ninterval_ms = 10000\ntimeout_ms = 1000\nself_probe_interval_ms = 0\n");
  const std::string ok = "sipring_health_probes_total{backend=\"b0\",result=\"ok\"}";
  const std::string signals = "sipring_backend_passive_signals_total{backend=\"b0\"}";
  ASSERT_TRUE(testing::WaitFor([&] { return Metrics()[ok] == 1; }, 3000));
  testing::SleepMs(200);
  ASSERT_EQ(Metrics()[ok], 1) << "no second probe before 10 s without a signal";
  auto uac = StartUac({"-sn", "uac"}, 1, 1, "uac");
  const auto t0 = Clock::now();
  ASSERT_TRUE(testing::WaitFor([&] { return Metrics()[signals] == 1; }, 5000));
  ASSERT_TRUE(testing::WaitFor([&] { return Metrics()[ok] == 2; }, 1000));
  EXPECT_LT(MsSince(t0), 3000);
  EXPECT_GE(Metrics()["sipring_responses_forwarded_total{class=\"5xx\"}"], 1);
  // A backend that answers probes stays up: 503s alone are a load signal, not death.
  EXPECT_EQ(Metrics()[State("b0", "up")], 1);
  uac->Signal(SIGKILL);
}

TEST_F(DaemonTest, RestartAfterSigkillAnswersAtOnce) {
  Start("hash-call-id", {1, 1}, "shards = 2");
  // Send OPTIONS every 2 ms until a 200 arrives: to the proxy itself (no user part), or through
  // the balancer to a backend (user part). Returns ms from `t0`, or -1 after 5 s.
  auto first_answer = [&](bool through_backend, Clock::time_point t0) -> int64_t {
    const int fd = testing::MakeUdpClient(AF_INET, 2);
    const std::string user = through_backend ? "someone" : "";
    int n = 0;
    while (MsSince(t0) < 5000) {
      ++n;
      if (StatusOf(RoundTrip(fd, Options(user, "restart" + std::to_string(n)))) == 200) {
        close(fd);
        return MsSince(t0);
      }
    }
    close(fd);
    return -1;
  };
  ASSERT_GE(first_answer(true, Clock::now()), 0) << "no backend answers through the proxy";

  const std::vector<std::string> argv = {SIPRING_BINARY, "-c", dir_.path() + "/sipring.toml",
                                         "--run-seconds", "120"};
  daemon_->Signal(SIGKILL);
  ASSERT_TRUE(daemon_->Wait(5000).has_value());
  const auto killed = Clock::now();
  daemon_ = std::make_unique<Process>(argv, dir_.path() + "/sipring2.log");
  const int64_t own = first_answer(false, killed);
  const int64_t via_backend = first_answer(true, killed);
  std::printf("[ figures  ] restart after SIGKILL: first answer from sipring after %lld ms, "
              "first answer from a backend through it after %lld ms\n",
              static_cast<long long>(own), static_cast<long long>(via_backend));
  ASSERT_GE(own, 0) << daemon_->Output();
  ASSERT_GE(via_backend, 0) << daemon_->Output();
  EXPECT_LT(own, 1000);
  EXPECT_LT(via_backend, 1000);
}

}  // namespace
}  // namespace sipring

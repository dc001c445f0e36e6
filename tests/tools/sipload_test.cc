// sipload end to end on loopback, as black boxes: its UAC against its UAS (with failures and drops
// the two sides' counts must agree exactly), against a real sipp UAS, a real sipp UAC against its
// UAS, RFC 3261 retransmissions against a UAS that drops, CANCEL, the bounds of every run.
// Every process is bounded in time (the tools' own limits, and Wait() timeouts here).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/testing/loopback.h"
#include "tests/testing/process.h"

namespace sipring {
namespace {

using testing::Process;

// The number after "key": that follows every key of `path` in turn (a key path into the one-line
// JSON report: {"total", "successes"}); -1 when absent.
long JsonNumber(const std::string& json, std::initializer_list<std::string_view> path) {
  size_t at = 0;
  for (std::string_view key : path) {
    at = json.find("\"" + std::string(key) + "\":", at);
    if (at == std::string::npos) return -1;
    at += key.size() + 3;
  }
  return std::strtol(json.c_str() + at, nullptr, 10);
}

// The JSON report line of a finished run.
std::string ReportOf(const std::string& output) {
  const size_t at = output.find("{\"tool\": \"sipload\"");
  return at == std::string::npos ? std::string() : output.substr(at, output.find('\n', at) - at);
}

class SiploadTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  // Starts a sipload UAS and waits until it listens.
  std::unique_ptr<Process> StartUas(uint16_t port, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {SIPLOAD_BINARY, "uas", "--listen",
                                     "127.0.0.1:" + std::to_string(port), "--json", "--quiet",
                                     "--duration-s", "60"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<Process>(argv, dir_.path() + "/uas" + std::to_string(port) + ".log");
    const bool up = testing::WaitFor(
        [&] { return p->Output().find("listening on") != std::string::npos || !p->Running(); }, 10000);
    EXPECT_TRUE(up && p->Running()) << p->Output();
    return p;
  }
  // Stops a UAS with SIGTERM and returns its JSON report.
  std::string StopUas(Process& p) {
    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(10000), std::optional<int>(0)) << p.Output();
    return ReportOf(p.Output());
  }
  // Runs a sipload UAC to its end and returns its JSON report.
  std::string RunUac(uint16_t port, std::vector<std::string> extra, const std::string& tag = "uac") {
    std::vector<std::string> argv = {SIPLOAD_BINARY, "uac", "--target",
                                     "127.0.0.1:" + std::to_string(port), "--json", "--quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Process p(argv, dir_.path() + "/" + tag + ".log");
    EXPECT_EQ(p.Wait(60000), std::optional<int>(0)) << p.Output();
    const std::string report = ReportOf(p.Output());
    EXPECT_FALSE(report.empty()) << p.Output();
    return report;
  }

  testing::TempDir dir_;
};

TEST_F(SiploadTest, CallsAgainstItsOwnUasAddUpWithFailuresAndDrops) {
  const uint16_t port = testing::FreePort();
  auto uas = StartUas(port, {"--fail-ratio", "0.2", "--drop-ratio", "0.1"});
  constexpr long kCalls = 600;
  // T1 = 20 ms and a 1 s timeout: a dropped INVITE is sent again at 20, 60, 140, 300 and 620 ms
  // (Timer A doubles, no cap), far from the timeout on either side.
  const std::string uac = RunUac(port, {"--rate", "300", "--calls", std::to_string(kCalls),
                                        "--t1-ms", "20", "--timeout-ms", "1000", "--threads", "2",
                                        "--sources", "4"});
  const std::string uasr = StopUas(*uas);
  const long ok = JsonNumber(uac, {"total", "successes"});
  const long failed = JsonNumber(uac, {"total", "failures"});
  const long f503 = JsonNumber(uac, {"total", "failures_by_code", "503"});
  const long timeouts = JsonNumber(uac, {"total", "failures_by_reason", "timeout"});
  const long retrans = JsonNumber(uac, {"retransmissions"});
  EXPECT_EQ(JsonNumber(uac, {"total", "attempts"}), kCalls);
  EXPECT_EQ(ok + failed, kCalls);
  EXPECT_EQ(f503 + timeouts, failed) << uac;
  // Each side decided or saw the same calls.
  EXPECT_EQ(JsonNumber(uasr, {"failed"}), f503) << uasr;
  EXPECT_EQ(JsonNumber(uasr, {"dropped"}), timeouts) << uasr;
  EXPECT_EQ(retrans, 5 * timeouts) << "five INVITE retransmissions per dropped call";
  EXPECT_EQ(JsonNumber(uasr, {"duplicates", "INVITE"}), retrans);
  EXPECT_EQ(JsonNumber(uasr, {"received", "INVITE"}), kCalls + retrans);
  // ACK for every 2xx and every 503; a BYE for every answered call.
  EXPECT_EQ(JsonNumber(uasr, {"received", "ACK"}), ok + f503);
  EXPECT_EQ(JsonNumber(uasr, {"received", "BYE"}), ok);
  // The ratios hold roughly (a hash of the Call-ID decides): 60 +- 40 drops, 120 +- 60 fails.
  EXPECT_NEAR(timeouts, 60, 40);
  EXPECT_NEAR(f503, 120, 60);
  EXPECT_EQ(JsonNumber(uac, {"latency_us", "count"}), ok);
}

TEST_F(SiploadTest, NonInviteRetransmissionsAreCappedAtT2) {
  const uint16_t port = testing::FreePort();
  auto uas = StartUas(port, {"--drop-ratio", "1"});
  // T1 20, T2 80: REGISTER again at 20, 60, 140, 220, 300, 380, 460, 540 and 620 ms, then the
  // 660 ms timeout: 9 per call.
  const std::string uac = RunUac(port, {"--scenario", "register", "--rate", "100", "--calls", "10",
                                        "--t1-ms", "20", "--t2-ms", "80", "--timeout-ms", "660"});
  const std::string uasr = StopUas(*uas);
  EXPECT_EQ(JsonNumber(uac, {"total", "failures_by_reason", "timeout"}), 10) << uac;
  const long retrans = JsonNumber(uac, {"retransmissions"});
  EXPECT_GE(retrans, 10 * 8) << uac;
  EXPECT_LE(retrans, 10 * 9) << uac;
  EXPECT_EQ(JsonNumber(uasr, {"duplicates", "REGISTER"}), retrans) << uasr;
  EXPECT_EQ(JsonNumber(uasr, {"dropped"}), 10);
}

TEST_F(SiploadTest, OptionsAndRegisterScenarios) {
  const uint16_t port = testing::FreePort();
  auto uas = StartUas(port);
  for (const char* scenario : {"options", "register"}) {
    const std::string uac = RunUac(port, {"--scenario", scenario, "--rate", "500", "--calls", "300"},
                                   scenario);
    EXPECT_EQ(JsonNumber(uac, {"total", "successes"}), 300) << uac;
    EXPECT_EQ(JsonNumber(uac, {"responses_by_code", "200"}), 300) << uac;
  }
  const std::string uasr = StopUas(*uas);
  EXPECT_EQ(JsonNumber(uasr, {"received", "OPTIONS"}), 300);
  EXPECT_EQ(JsonNumber(uasr, {"received", "REGISTER"}), 300);
}

TEST_F(SiploadTest, RateStepsAreReportedPerStep) {
  const uint16_t port = testing::FreePort();
  auto uas = StartUas(port);
  const std::string uac =
      RunUac(port, {"--scenario", "options", "--rate-steps", "100,300", "--step-s", "1", "--calls", "100000"});
  StopUas(*uas);
  // Each step's calls: its rate x its second (the boundaries are exact: due times, not clocks).
  const size_t steps = uac.find("\"steps\"");
  ASSERT_NE(steps, std::string::npos);
  const std::string per_step = uac.substr(steps);
  EXPECT_EQ(JsonNumber(per_step, {"attempts"}), 100) << per_step;
  const size_t second = per_step.find("\"offered_rate\"", per_step.find("\"offered_rate\"") + 1);
  ASSERT_NE(second, std::string::npos) << per_step;
  EXPECT_EQ(JsonNumber(per_step.substr(second), {"attempts"}), 300) << per_step;
  EXPECT_EQ(JsonNumber(uac, {"total", "attempts"}), 400);
}

TEST_F(SiploadTest, EveryRunIsBounded) {
  // Nobody answers: every call times out, and the run ends by itself after the drain.
  const uint16_t port = testing::FreePort();
  std::string uac = RunUac(port, {"--rate", "50", "--calls", "10", "--t1-ms", "50", "--timeout-ms",
                                  "300"}, "blackhole");
  EXPECT_EQ(JsonNumber(uac, {"total", "failures_by_reason", "timeout"}), 10) << uac;
  // --duration-s bounds a run with far more --calls than it can start.
  auto uas = StartUas(port);
  uac = RunUac(port, {"--scenario", "options", "--rate", "20", "--calls", "1000000", "--duration-s", "1"},
               "duration");
  EXPECT_EQ(JsonNumber(uac, {"total", "attempts"}), 20) << uac;
  // A full call table: calls due then fail as no_slot, never sent.
  uac = RunUac(port, {"--rate", "200", "--calls", "20", "--hold-ms", "500", "--max-calls-in-flight", "5"},
               "noslot");
  EXPECT_EQ(JsonNumber(uac, {"total", "successes"}), 5) << uac;
  EXPECT_EQ(JsonNumber(uac, {"total", "failures_by_reason", "no_slot"}), 15) << uac;
  StopUas(*uas);
}

TEST_F(SiploadTest, InterruptReportsOpenCalls) {
  const uint16_t port = testing::FreePort();
  auto uas = StartUas(port);
  Process p({SIPLOAD_BINARY, "uac", "--target", "127.0.0.1:" + std::to_string(port), "--json",
             "--quiet", "--rate", "100", "--calls", "1000", "--hold-ms", "30000"},
            dir_.path() + "/interrupted.log");
  testing::SleepMs(700);
  p.Signal(SIGINT);
  ASSERT_EQ(p.Wait(10000), std::optional<int>(0)) << p.Output();
  const std::string uac = ReportOf(p.Output());
  const long attempts = JsonNumber(uac, {"total", "attempts"});
  EXPECT_GT(attempts, 20) << uac;
  EXPECT_LT(attempts, 1000) << uac;
  EXPECT_EQ(JsonNumber(uac, {"total", "failures_by_reason", "interrupted"}), attempts) << uac;
  StopUas(*uas);
}

TEST_F(SiploadTest, CancelEndsAPendingInvite) {
  const uint16_t port = testing::FreePort();
  auto uas = StartUas(port, {"--delay-ms", "400"});
  const int fd = testing::MakeUdpClient(AF_INET, 1000);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto send = [&](const std::string& m) {
    sendto(fd, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  };
  auto recv_one = [&]() {
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
  };
  const std::string common =
      "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKcancel1\r\nFrom: <sip:a@127.0.0.1>;tag=f\r\n"
      "To: <sip:b@127.0.0.1>\r\nCall-ID: cancel-test\r\nMax-Forwards: 70\r\n";
  send("INVITE sip:b@127.0.0.1 SIP/2.0\r\n" + common + "CSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(recv_one().rfind("SIP/2.0 100 ", 0), 0u);
  send("CANCEL sip:b@127.0.0.1 SIP/2.0\r\n" + common + "CSeq: 5 CANCEL\r\nContent-Length: 0\r\n\r\n");
  const std::string ok = recv_one();
  EXPECT_EQ(ok.rfind("SIP/2.0 200 ", 0), 0u) << ok;
  EXPECT_NE(ok.find("CSeq: 5 CANCEL"), std::string::npos) << ok;
  const std::string terminated = recv_one();
  EXPECT_EQ(terminated.rfind("SIP/2.0 487 ", 0), 0u) << terminated;
  EXPECT_NE(terminated.find("CSeq: 5 INVITE"), std::string::npos) << terminated;
  // The delayed 180/200 never come.
  EXPECT_EQ(recv_one(), "");
  close(fd);
  const std::string uasr = StopUas(*uas);
  EXPECT_EQ(JsonNumber(uasr, {"cancelled"}), 1);
  EXPECT_EQ(JsonNumber(uasr, {"received", "CANCEL"}), 1);
}

TEST_F(SiploadTest, UasCopiesRecordRouteIntoItsAnswers) {
  const uint16_t port = testing::FreePort();
  auto uas = StartUas(port);
  const int fd = testing::MakeUdpClient(AF_INET, 1000);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string invite =
      "INVITE sip:b@127.0.0.1 SIP/2.0\r\nRecord-Route: <sip:127.0.0.1:5999;lr;sr-be=b0>\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKp\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKc\r\n"
      "From: <sip:a@127.0.0.1>;tag=f\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: rr-test\r\n"
      "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  sendto(fd, invite.data(), invite.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  std::vector<std::string> answers;
  char buf[4096];
  for (int i = 0; i < 3; ++i) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) answers.emplace_back(buf, size_t(n));
  }
  close(fd);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].rfind("SIP/2.0 100 ", 0), 0u);
  EXPECT_EQ(answers[0].find("Record-Route"), std::string::npos);
  for (int i : {1, 2}) {
    EXPECT_NE(answers[i].find("Record-Route: <sip:127.0.0.1:5999;lr;sr-be=b0>"), std::string::npos)
        << answers[i];
    EXPECT_NE(answers[i].find("Contact: <sip:uas@127.0.0.1:" + std::to_string(port) + ">"),
              std::string::npos);
  }
  EXPECT_EQ(answers[2].rfind("SIP/2.0 200 ", 0), 0u);
  EXPECT_NE(answers[2].find("application/sdp"), std::string::npos);
  StopUas(*uas);
}

class SiploadSippTest : public SiploadTest {
 protected:
  void SetUp() override {
    SiploadTest::SetUp();
    sipp_ = testing::FindOnPath("sipp");
    if (sipp_.empty()) GTEST_SKIP() << "sipp (Debian package sip-tester) is not installed";
  }
  // sipp's final screen: total successful and failed calls.
  static std::pair<long, long> Calls(const std::string& screen) {
    std::smatch m;
    long ok = -1, failed = -1;
    static const std::regex kOk(R"(Successful call\s*\|\s*\d+\s*\|\s*(\d+))");
    static const std::regex kFail(R"(Failed call\s*\|\s*\d+\s*\|\s*(\d+))");
    if (std::regex_search(screen, m, kOk)) ok = std::stol(m[1]);
    if (std::regex_search(screen, m, kFail)) failed = std::stol(m[1]);
    return {ok, failed};
  }
  std::string sipp_;
};

TEST_F(SiploadSippTest, SiploadUacAgainstSippUas) {
  const uint16_t port = testing::FreePort();
  const std::string screen = dir_.path() + "/sipp-uas.screen";
  Process uas({sipp_, "-sn", "uas", "-i", "127.0.0.1", "-p", std::to_string(port), "-nostdin",
               "-timeout", "60s", "-trace_screen", "-screen_file", screen},
              dir_.path() + "/sipp-uas.log");
  testing::SleepMs(300);
  const std::string uac = RunUac(port, {"--rate", "200", "--calls", "300", "--sources", "1"});
  EXPECT_EQ(JsonNumber(uac, {"total", "successes"}), 300) << uac;
  EXPECT_EQ(JsonNumber(uac, {"retransmissions"}), 0) << uac;
  uas.Signal(SIGUSR1);  // sipp writes its screen and quits
  ASSERT_TRUE(uas.Wait(10000).has_value());
  EXPECT_EQ(Calls(testing::ReadFile(screen)), std::make_pair(300L, 0L)) << testing::ReadFile(screen);
}

TEST_F(SiploadSippTest, SippUacAgainstSiploadUas) {
  const uint16_t port = testing::FreePort();
  auto uas = StartUas(port);
  const std::string screen = dir_.path() + "/sipp-uac.screen";
  Process uac({sipp_, "127.0.0.1:" + std::to_string(port), "-sn", "uac", "-i", "127.0.0.1", "-m",
               "300", "-r", "200", "-nostdin", "-timeout", "60s", "-trace_screen", "-screen_file",
               screen},
              dir_.path() + "/sipp-uac.log");
  ASSERT_EQ(uac.Wait(70000), std::optional<int>(0)) << uac.Output() << testing::ReadFile(screen);
  EXPECT_EQ(Calls(testing::ReadFile(screen)), std::make_pair(300L, 0L));
  const std::string uasr = StopUas(*uas);
  EXPECT_EQ(JsonNumber(uasr, {"received", "INVITE"}), 300) << uasr;
  EXPECT_EQ(JsonNumber(uasr, {"received", "ACK"}), 300);
  EXPECT_EQ(JsonNumber(uasr, {"received", "BYE"}), 300);
  EXPECT_EQ(JsonNumber(uasr, {"duplicates", "INVITE"}), 0);
}

}  // namespace
}  // namespace sipring

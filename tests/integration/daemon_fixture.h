// File: tests/integration/daemon_fixture.h
//
// DaemonTest: the fixture of the end-to-end tests. It runs the real sipring binary on loopback
// with a generated config, real sipp (sip-tester) UAS backends and UACs, raw UDP for pings, and
// reads /metrics over HTTP. Every sipp run is bounded in calls and time; TearDown stops the
// daemon with SIGTERM and expects a clean exit.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/loopback.h"
#include "tests/testing/process.h"

namespace sipring::integration {

using testing::Process;

struct Backend {
  uint16_t port;
  int weight;
};

// sipp's final screen: the cumulative "Successful call" / "Failed call" counts.
struct SippCounts {
  long successful = -1;
  long failed = -1;
  long options = 0;  // OPTIONS a UAS answered (health probes), each a "call" of its own
};
inline SippCounts ParseScreen(const std::string& screen) {
  SippCounts c;
  std::smatch m;
  static const std::regex kOk(R"(Successful call\s*\|\s*\d+\s*\|\s*(\d+))");
  static const std::regex kFail(R"(Failed call\s*\|\s*\d+\s*\|\s*(\d+))");
  if (std::regex_search(screen, m, kOk)) c.successful = std::stol(m[1]);
  if (std::regex_search(screen, m, kFail)) c.failed = std::stol(m[1]);
  static const std::regex kOptions(R"(-+>?\s+OPTIONS\s+(\d+))");
  if (std::regex_search(screen, m, kOptions)) c.options = std::stol(m[1]);
  return c;
}

// One message line of sipp's final screen, by its method or status ("INVITE", "200"; the first
// such line): how many it sent or received, and the retransmissions among them (sent by a UAC,
// or received as duplicates by a UAS). {-1, -1} when the line is missing.
struct SippMessageCount {
  long messages = -1;
  long retransmissions = -1;
};
inline SippMessageCount ParseScreenMessage(const std::string& screen, const std::string& name) {
  // "INVITE ---------->  100  12" (sent), "----------> INVITE  100  3" or
  // "100 <----------  100  0" (received).
  const std::regex line("(?:-+>\\s+" + name + "|" + name + "\\s+(?:-+>|<-+))\\s+(\\d+)\\s+(\\d+)");
  std::smatch m;
  SippMessageCount c;
  if (std::regex_search(screen, m, line)) {
    c.messages = std::stol(m[1]);
    c.retransmissions = std::stol(m[2]);
  }
  return c;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sipp_ = testing::FindOnPath("sipp");
    if (sipp_.empty()) GTEST_SKIP() << "sipp (Debian package sip-tester) is not installed";
    ASSERT_FALSE(dir_.path().empty());
  }

  void TearDown() override {
    if (daemon_) {
      daemon_->Signal(SIGTERM);
      const std::optional<int> rc = daemon_->Wait(10000);
      EXPECT_EQ(rc, std::optional<int>(0)) << "sipring did not stop cleanly:\n"
                                           << daemon_->Output();
    }
    for (auto& u : uas_) u->Signal(SIGKILL);
  }

  // Starts two sipp UAS and the daemon on free loopback ports; waits until the daemon answers
  // an OPTIONS ping. `extra` is appended to the generated config.
  void Start(const std::string& algorithm, std::vector<int> weights, const std::string& engine,
             const std::string& extra = "") {
    if (port_ == 0) port_ = testing::FreePort();
    admin_ = testing::FreePort();
    std::string cfg = "[engine]\n" + engine + "\n";
    cfg += "[[listen]]\naddress = \"127.0.0.1:" + std::to_string(port_) + "\"\n";
    for (size_t i = 0; i < weights.size(); ++i) {
      const uint16_t p = testing::FreePort();
      backends_.push_back({p, weights[i]});
      cfg += "[[backend]]\nuri = \"sip:127.0.0.1:" + std::to_string(p) + "\"\nname = \"b" +
             std::to_string(i) + "\"\nweight = " + std::to_string(weights[i]) + "\n";
      const std::string scenario =
          i < uas_scenarios_.size() ? uas_scenarios_[i] : uas_scenario_;
      if (scenario.empty()) continue;  // the test serves this backend's port itself
      uas_.push_back(std::make_unique<Process>(
          std::vector<std::string>{sipp_, "-sf", Scenario(scenario), "-i", "127.0.0.1", "-p", std::to_string(p),
                                   "-nostdin", "-aa", "-trace_screen", "-screen_file",
                                   dir_.path() + "/uas" + std::to_string(i) + ".screen"},
          dir_.path() + "/uas" + std::to_string(i) + ".log"));
    }
    cfg += "[balancer]\nalgorithm = \"" + algorithm + "\"\n" + balancer_extra_;
    cfg += "[admin]\naddress = \"127.0.0.1:" + std::to_string(admin_) + "\"\n";
    cfg += "[log]\nlevel = \"warn\"\n" + extra;
    const std::string path = dir_.Write("sipring.toml", cfg);
    daemon_ = std::make_unique<Process>(
        std::vector<std::string>{SIPRING_BINARY, "-c", path, "--run-seconds", "120"},
        dir_.path() + "/sipring.log");
    const bool up = testing::WaitFor([&] { return Ping() == 200 || !daemon_->Running(); }, 10000);
    ASSERT_TRUE(up && daemon_->Running()) << daemon_->Output();
  }

  // An OPTIONS to the proxy, with branch and Call-ID from `id`. Without a user part the proxy
  // answers it itself; with one ("someone") it is balanced to a backend.
  std::string Options(const std::string& user, const std::string& id) const {
    const std::string u = user.empty() ? "" : user + "@";
    return "OPTIONS sip:" + u + "127.0.0.1:" + std::to_string(port_) +
           " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" + id +
           ";rport\r\nMax-Forwards: 70\r\nTo: <sip:" + u +
           "127.0.0.1>\r\nFrom: <sip:t@127.0.0.1>;tag=p\r\nCall-ID: " + id +
           "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  }

  // OPTIONS sip:127.0.0.1:port (no user part): the proxy answers it itself.
  int Ping() {
    const int fd = testing::MakeUdpClient(AF_INET, 200);
    const std::string r = RoundTrip(fd, Options("", "ping"));
    close(fd);
    return StatusOf(r);
  }

  sockaddr_in Proxy() const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  std::string RoundTrip(int fd, const std::string& m) {
    const sockaddr_in a = Proxy();
    sendto(fd, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

  static int StatusOf(const std::string& r) {
    if (r.compare(0, 8, "SIP/2.0 ") != 0 || r.size() < 11) return 0;
    return std::stoi(r.substr(8, 3));
  }

  std::map<std::string, double> Metrics() {
    auto text = testing::HttpGet(admin_, "/metrics");
    EXPECT_TRUE(text.has_value());
    return testing::ParseMetrics(text.value_or(""));
  }

  // Runs a sipp UAC to completion (bounded by -timeout); returns its exit status and counts.
  struct UacResult {
    int rc = -1;
    SippCounts counts;
    std::string log;
  };
  std::unique_ptr<Process> StartUac(const std::vector<std::string>& scenario, int calls, int rate,
                                    const std::string& tag) {
    std::vector<std::string> argv{sipp_, "127.0.0.1:" + std::to_string(port_)};
    argv.insert(argv.end(), scenario.begin(), scenario.end());
    const std::vector<std::string> common = {
        "-i", "127.0.0.1", "-m", std::to_string(calls), "-r", std::to_string(rate), "-l", "2000",
        "-nostdin", "-timeout", "60s", "-trace_screen", "-screen_file",
        dir_.path() + "/" + tag + ".screen", "-trace_err", "-error_file",
        dir_.path() + "/" + tag + ".errors"};
    argv.insert(argv.end(), common.begin(), common.end());
    return std::make_unique<Process>(argv, dir_.path() + "/" + tag + ".log");
  }
  UacResult FinishUac(Process& p, const std::string& tag) {
    UacResult r;
    r.rc = p.Wait(90000).value_or(-1);
    r.log = testing::ReadFile(dir_.path() + "/" + tag + ".screen");
    r.counts = ParseScreen(r.log);
    r.log += testing::ReadFile(dir_.path() + "/" + tag + ".errors");
    return r;
  }
  UacResult RunUac(const std::vector<std::string>& scenario, int calls, int rate,
                   const std::string& tag) {
    auto p = StartUac(scenario, calls, rate, tag);
    return FinishUac(*p, tag);
  }

  // Successful calls each UAS counted (SIGUSR1 makes sipp write its screen and quit); every
  // call a UAS saw must have ended well (a stray ACK or BYE is a failed call there).
  std::vector<long> UasCalls() {
    std::vector<long> out;
    for (size_t i = 0; i < uas_.size(); ++i) {
      uas_[i]->Signal(SIGUSR1);
      EXPECT_TRUE(uas_[i]->Wait(10000).has_value()) << "sipp UAS " << i << " did not quit";
      const std::string screen =
          testing::ReadFile(dir_.path() + "/uas" + std::to_string(i) + ".screen");
      // sipring's health probes end as short successful "calls" at the UAS: not calls.
      const SippCounts counts = ParseScreen(screen);
      out.push_back(counts.successful < 0 ? -1 : counts.successful - counts.options);
      EXPECT_EQ(ParseScreen(screen).failed, 0) << "UAS " << i << ":\n" << screen;
      EXPECT_GE(out.back(), 0) << "no final screen from UAS " << i << ":\n" << screen
                               << uas_[i]->Output();
    }
    return out;
  }

  // UAS i's final screen (after UasCalls() made it quit).
  std::string UasScreen(size_t i) {
    return testing::ReadFile(dir_.path() + "/uas" + std::to_string(i) + ".screen");
  }

  long RssKb() {
    const std::string status = testing::ReadFile("/proc/" + std::to_string(daemon_->pid()) + "/status");
    const size_t at = status.find("VmRSS:");
    return at == std::string::npos ? -1 : std::stol(status.substr(at + 6));
  }

  std::string Scenario(const std::string& name) {
    return testing::SourceDir() + "/tests/integration/scenarios/" + name;
  }

  std::string sipp_;
  // The backends' sipp scenario (tests/integration/scenarios/); set before Start().
  std::string uas_scenario_ = "uas_rr.xml";
  // Per backend, overriding uas_scenario_; "" = no sipp: the test binds that port itself.
  std::vector<std::string> uas_scenarios_;
  // More [balancer] keys ("mode = ..."), written after the algorithm; set before Start().
  std::string balancer_extra_;
  testing::TempDir dir_;
  uint16_t port_ = 0;
  uint16_t admin_ = 0;
  std::vector<Backend> backends_;
  std::vector<std::unique_ptr<Process>> uas_;
  std::unique_ptr<Process> daemon_;
};

}  // namespace sipring::integration

// End-to-end tests of the sipring daemon as a black box (STYLE.md rule 45): the real binary on
// loopback, real sipp (sip-tester) as the caller and as two UAS backends, a raw UDP socket for
// hostile traffic, and /metrics read over HTTP. Every load is bounded in calls and time.
//
// What each test proves (issue: UDP load-balancing proxy):
//  - CallsCompleteAndFollowWeights: thousands of calls, zero failed, split within 5% of weights
//    3:1 (hash-call-id, stock sipp UAC that ignores Record-Route: in-dialog ACK/BYE follow the
//    Call-ID hash to the INVITE's backend, or sipp would count a failed call);
//  - WeightedWithRecordRoute: weighted, with a UAC that honours Record-Route and UASes that echo
//    it (scenarios/uas_rr.xml, the fixture's backends): ACK and BYE carry
//    our Route with the backend's tag and reach the dialog's backend; every UAS ends every call
//    (a misrouted ACK or BYE shows as a failed call at a UAS: sipp's UAC would not notice, as
//    sipp answers a stray BYE 200 by itself);
//  - RecordRouteTagBeatsHash: an in-dialog request whose Call-ID hashes to one backend but whose
//    Route names the other goes where the Route says;
//  - MalformedBurstGets400sBesideCalls: bad requests each get the right status and a reason,
//    while calls beside them complete;
//  - TinyPoolBurstSheds503: a pool of 64 buffers under a burst answers 503 + Retry-After, stays
//    up, and the calls it admitted complete;
//  - ProtocolAnswers: OPTIONS to the proxy itself 200, Max-Forwards 0 -> 483, a loop -> 482.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/loopback.h"
#include "tests/testing/process.h"
#include "tests/integration/daemon_fixture.h"
#include "sip/balancer.h"

namespace sipring {
namespace {

using testing::Process;
using integration::DaemonTest;
using integration::SippCounts;
using integration::ParseScreen;

void ExpectSplit(const std::vector<long>& calls, const std::vector<int>& weights, long total) {
  int wsum = 0;
  for (int w : weights) wsum += w;
  long sum = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    sum += calls[i];
    const double want = double(weights[i]) / wsum;
    const double got = double(calls[i]) / double(total);
    // The bar: within 5 points of the weight's share. A stateless proxy's split is a hash of the
    // Call-ID, so also hold it to what a hash can promise: 4 binomial standard deviations.
    const double sigma = std::sqrt(want * (1 - want) / double(total));
    EXPECT_NEAR(got, want, 0.05) << "backend " << i << " took " << calls[i] << " of " << total;
    EXPECT_NEAR(got, want, 4 * sigma) << "backend " << i << " took " << calls[i] << " of " << total;
  }
  EXPECT_EQ(sum, total) << "calls counted at the backends";
}

TEST_F(DaemonTest, CallsCompleteAndFollowWeights) {
  Start("hash-call-id", {3, 1}, "shards = 2");
  const int kCalls = 3000;
  UacResult r = RunUac({"-sn", "uac"}, kCalls, 400, "uac");
  EXPECT_EQ(r.rc, 0) << r.log;
  EXPECT_EQ(r.counts.successful, kCalls) << r.log;
  EXPECT_EQ(r.counts.failed, 0) << r.log;
  ExpectSplit(UasCalls(), {3, 1}, kCalls);
  auto m = Metrics();
  EXPECT_EQ(m["sipring_requests_total{method=\"INVITE\"}"], kCalls);
  EXPECT_GT(m["sipring_added_latency_seconds_count"], 0);
}

TEST_F(DaemonTest, WeightedWithRecordRoute) {
  Start("weighted", {3, 1}, "shards = 2");
  const int kCalls = 2000;
  UacResult r = RunUac({"-sf", Scenario("uac_routes.xml")}, kCalls, 400, "uac");
  EXPECT_EQ(r.rc, 0) << r.log;
  EXPECT_EQ(r.counts.successful, kCalls) << r.log;
  EXPECT_EQ(r.counts.failed, 0) << r.log;
  ExpectSplit(UasCalls(), {3, 1}, kCalls);
}

TEST_F(DaemonTest, MalformedBurstGets400sBesideCalls) {
  Start("hash-call-id", {1, 1}, "shards = 2");
  const int kCalls = 1000;
  auto uac = StartUac({"-sn", "uac"}, kCalls, 250, "uac");

  struct Bad {
    std::string text;
    int status;
    std::string reason;
  };
  auto req = [](const std::string& n, const std::string& headers) {
    return "INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" + n +
           ";rport\r\n" + headers + "\r\n";
  };
  const std::vector<Bad> bad = {
      {req("a", "To: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n"),
       400, "missing Call-ID"},
      {req("b", "To: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n"
                "Content-Length: 0\r\n"),
       400, "CSeq method mismatch"},
      {req("c", "Max-Forwards: 0\r\nTo: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: y\r\n"
                "CSeq: 1 INVITE\r\nContent-Length: 0\r\n"),
       483, "Too Many Hops"},
      {req("d", "To: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: z\r\nCSeq: 1 INVITE\r\n"
                "Content-Length: 99\r\n"),
       400, ""},
  };
  // Paced in windows so the loopback socket never overflows: every datagram must be answered.
  const int fd = testing::MakeUdpClient(AF_INET, 2000);
  const sockaddr_in a = Proxy();
  int sent = 0, answered = 0, wrong = 0;
  std::string first_wrong;
  for (int round = 0; round < 500; ++round) {
    for (const Bad& b : bad) {
      sendto(fd, b.text.data(), b.text.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
      ++sent;
    }
    for (size_t i = 0; i < bad.size(); ++i) {
      char buf[4096];
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      ++answered;
      const std::string resp(buf, static_cast<size_t>(n));
      // Answers come back in order on one socket from one shard; match by branch.
      bool ok = false;
      for (const Bad& b : bad) {
        const std::string branch = b.text.substr(b.text.find("branch="), 17);
        if (resp.find(branch) != std::string::npos) {
          ok = StatusOf(resp) == b.status && resp.find(b.reason) != std::string::npos;
        }
      }
      if (!ok && ++wrong == 1) first_wrong = resp;
    }
  }
  close(fd);
  EXPECT_EQ(answered, sent);
  EXPECT_EQ(wrong, 0) << first_wrong;

  UacResult r = FinishUac(*uac, "uac");
  EXPECT_EQ(r.counts.successful, kCalls) << r.log;
  EXPECT_EQ(r.counts.failed, 0) << r.log;
  auto m = Metrics();
  EXPECT_EQ(m["sipring_rejected_total{reason=\"bad_request\"}"], 1500);
  EXPECT_EQ(m["sipring_rejected_total{reason=\"too_many_hops\"}"], 500);
  // The flood was logged, but rate-limited: far fewer lines than bad requests.
  const std::string log = daemon_->Output();
  size_t lines = 0;
  for (size_t p = log.find("event=bad_request"); p != std::string::npos;
       p = log.find("event=bad_request", p + 1)) {
    ++lines;
  }
  EXPECT_GT(lines, 0u);
  EXPECT_LT(lines, 200u);
  EXPECT_NE(log.find("suppressed="), std::string::npos) << log;
}

TEST_F(DaemonTest, TinyPoolBurstSheds503) {
  // One shard, 64 buffers: a burst outruns it; low watermark at a quarter.
  Start("hash-call-id", {1, 1},
        "shards = 1\nbuffers_per_shard = 64\nreserve_buffers = 16\nlow_watermark = 0.25\n"
        "high_watermark = 0.5\nendpoint_quota = 64");
  const int kCalls = 400;
  const long rss_before = RssKb();
  auto uac = StartUac({"-sf", Scenario("uac_routes.xml")}, kCalls, 100, "uac");
  const sockaddr_in a = Proxy();
  int got503 = 0, retry_after = 0, got200 = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) fds.push_back(testing::MakeUdpClient(AF_INET, 200));
  int n = 0;
  while (std::chrono::steady_clock::now() < end) {
    // Bursts of new requests. Their Route sends what the proxy admits to a loopback port nobody
    // listens on, so the burst loads the proxy alone: the sipp backends (whose sockets would
    // otherwise overflow and drop the calls' own messages) never see it.
    for (int k = 0; k < 2000; ++k, ++n) {
      const std::string m = "OPTIONS sip:load@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;"
                            "branch=z9hG4bKb" + std::to_string(n) +
                            ";rport\r\nMax-Forwards: 70\r\nRoute: <sip:127.0.0.1:9;lr>\r\n"
                            "To: <sip:load@h>\r\nFrom: <sip:a@h>;tag=1\r\n"
                            "Call-ID: burst" + std::to_string(n) +
                            "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
      sendto(fds[size_t(k % 4)], m.data(), m.size(), MSG_DONTWAIT,
             reinterpret_cast<const sockaddr*>(&a), sizeof(a));
    }
    for (int fd : fds) {
      char buf[4096];
      ssize_t r;
      while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        const std::string resp(buf, static_cast<size_t>(r));
        if (StatusOf(resp) == 503) {
          ++got503;
          if (resp.find("\r\nRetry-After: 5\r\n") != std::string::npos) ++retry_after;
        } else if (StatusOf(resp) == 200) {
          ++got200;
        }
      }
    }
  }
  for (int fd : fds) close(fd);
  EXPECT_GT(got503, 0) << "the burst never pushed the pool under its low watermark";
  EXPECT_EQ(retry_after, got503) << "every 503 carries Retry-After";

  UacResult r = FinishUac(*uac, "uac");
  // Calls either completed or were refused with a 503 on their INVITE (acknowledged, and the
  // ACK absorbed by the proxy); none failed: admitted calls finish.
  EXPECT_EQ(r.counts.failed, 0) << r.log;
  EXPECT_EQ(r.counts.successful, kCalls) << r.log;
  EXPECT_EQ(Ping(), 200) << "the daemon is still up";
  // Bounded memory: the burst is refused, never queued, so RSS does not grow with it.
  const long rss_after = RssKb();
  EXPECT_LT(rss_after, rss_before + 2048) << "RSS " << rss_before << " -> " << rss_after << " KiB";
  auto m = Metrics();
  EXPECT_GT(m["sipring_rejected_total{reason=\"pool_low\"}"], 0);
  EXPECT_GT(m["sipring_pool_enobufs_total{shard=\"0\"}"], 0);
  std::cout << "burst: " << n << " sent, " << got503 << " x 503, " << got200 << " x 200; "
            << "ENOBUFS " << m["sipring_pool_enobufs_total{shard=\"0\"}"] << ", absorbed ACKs "
            << m["sipring_absorbed_acks_total"] << "; RSS " << rss_before << " -> " << rss_after
            << " KiB\n";
}

TEST_F(DaemonTest, ProtocolAnswers) {
  Start("hash-call-id", {1, 1}, "shards = 2");
  EXPECT_EQ(Ping(), 200);

  const int fd = testing::MakeUdpClient(AF_INET, 2000);
  const std::string mf0 =
      "OPTIONS sip:127.0.0.1:" + std::to_string(port_) +
      " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKmf0;rport\r\nMax-Forwards: 0\r\n"
      "To: <sip:a@h>\r\nFrom: <sip:b@h>;tag=1\r\nCall-ID: mf0\r\nCSeq: 1 OPTIONS\r\n"
      "Content-Length: 0\r\n\r\n";
  EXPECT_EQ(StatusOf(RoundTrip(fd, mf0)), 200) << "OPTIONS to the proxy with Max-Forwards 0";

  const std::string invite_mf0 =
      "INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKimf0;rport\r\n"
      "Max-Forwards: 0\r\nTo: <sip:bob@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: imf0\r\n"
      "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  const std::string r483 = RoundTrip(fd, invite_mf0);
  EXPECT_EQ(StatusOf(r483), 483) << r483;
  // The ACK for our own 483 stays with us.
  const size_t tag_at = r483.find("tag=sr");
  ASSERT_NE(tag_at, std::string::npos) << r483;
  const std::string to_tag = r483.substr(tag_at + 4, r483.find("\r\n", tag_at) - tag_at - 4);
  const std::string ack =
      "ACK sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKimf0;rport\r\n"
      "Max-Forwards: 70\r\nTo: <sip:bob@h>;tag=" + to_tag + "\r\nFrom: <sip:a@h>;tag=1\r\n"
      "Call-ID: imf0\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
  const sockaddr_in a = Proxy();
  sendto(fd, ack.data(), ack.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  EXPECT_TRUE(testing::WaitFor([&] { return Metrics()["sipring_absorbed_acks_total"] == 1; }, 2000));

  close(fd);
}

TEST_F(DaemonTest, RecordRouteTagBeatsHash) {
  Start("hash-call-id", {1, 1}, "shards = 2");
  // The daemon's balancer as the test can build it: same names, same algorithm.
  absl::StatusOr<sip::Balancer> b = sip::Balancer::Create(
      {{.name = "b0"}, {.name = "b1"}}, sip::LbAlgorithm::kHashCallId);
  ASSERT_TRUE(b.ok());
  const std::vector<uint8_t> up = {1, 1};
  std::string call_id;
  for (int i = 0; call_id.empty(); ++i) {
    const std::string c = "rr-" + std::to_string(i);
    if (b->PickStateless(0, sip::CallIdHash(c), up) == 0) call_id = c;
  }
  char tag[9];
  snprintf(tag, sizeof(tag), "%08x", b->Tag(1));
  const std::string bye =
      "BYE sip:uas@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKrr1;rport\r\n"
      "Max-Forwards: 70\r\nRoute: <sip:127.0.0.1:" + std::to_string(port_) + ";lr;sr-be=" + tag +
      ">\r\nTo: <sip:uas@h>;tag=x\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: " + call_id +
      "\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
  const int fd = testing::MakeUdpClient(AF_INET, 2000);
  const sockaddr_in a = Proxy();
  sendto(fd, bye.data(), bye.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  close(fd);
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Metrics()["sipring_backend_requests_total{backend=\"b1\"}"] == 1; }, 3000));
  EXPECT_EQ(Metrics()["sipring_backend_requests_total{backend=\"b0\"}"], 0);
}

TEST_F(DaemonTest, Ipv6ListenerToIpv4Backends) {
  // A caller on ::1, backends on 127.0.0.1: the request leaves from the IPv4 outbound socket and
  // the answer goes back from the IPv6 listener.
  const uint16_t v6port = testing::FreePort();
  Start("hash-call-id", {1, 1}, "shards = 2",
        "[[listen]]\naddress = \"[::1]:" + std::to_string(v6port) + "\"\n");
  const double self_before = Metrics()["sipring_self_options_total"];  // Start()'s pings
  const int fd = testing::MakeUdpClient(AF_INET6, 2000);
  if (fd < 0) GTEST_SKIP() << "no IPv6 loopback";
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(v6port);
  a.sin6_addr = in6addr_loopback;
  for (const bool to_self : {true, false}) {
    const std::string uri = to_self ? "sip:[::1]:" + std::to_string(v6port) : "sip:svc@[::1]";
    const std::string m = "OPTIONS " + uri + " SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:9;branch=z9hG4bKv6" +
                          std::to_string(to_self) + ";rport\r\nMax-Forwards: 70\r\nTo: <sip:svc@h>\r\n"
                          "From: <sip:a@h>;tag=1\r\nCall-ID: v6-" + std::to_string(to_self) +
                          "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    sendto(fd, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    const std::string r = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    EXPECT_EQ(StatusOf(r), 200) << (to_self ? "self" : "via a backend") << ": " << r;
  }
  close(fd);
  auto m = Metrics();
  EXPECT_EQ(m["sipring_self_options_total"], self_before + 1);
  EXPECT_EQ(m["sipring_forwarded_total{kind=\"response\"}"], 1);
}

TEST_F(DaemonTest, LoopGets482) {
  // The only backend is the proxy itself: a request comes back unchanged, finds our own Via with
  // its loop hash, and is answered 482; the answer travels back through the first pass.
  port_ = testing::FreePort();
  Start("hash-call-id", {}, "shards = 2",
        "[[backend]]\nuri = \"sip:127.0.0.1:" + std::to_string(port_) + "\"\nname = \"self\"\n");
  const int fd = testing::MakeUdpClient(AF_INET, 2000);
  const std::string invite =
      "INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKloop;rport\r\n"
      "Max-Forwards: 70\r\nTo: <sip:bob@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: loop\r\n"
      "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  const std::string r = RoundTrip(fd, invite);
  close(fd);
  EXPECT_EQ(StatusOf(r), 482) << r;
  EXPECT_NE(r.find("branch=z9hG4bKloop"), std::string::npos) << "our Via was popped on the way back";
  EXPECT_EQ(Metrics()["sipring_rejected_total{reason=\"loop\"}"], 1);
}

}  // namespace
}  // namespace sipring

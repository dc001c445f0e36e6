// Stateful mode end to end: the real daemon with real sipp callers and backends (and, where a
// test must count every datagram a backend gets, a plain UDP socket as the backend).
#include <poll.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/integration/daemon_fixture.h"

namespace sipring::integration {
namespace {

class StatefulTest : public DaemonTest {
 protected:
  // Stateful, one shard; a short per-try timeout by default, so a hung backend costs 300 ms.
  void StartStateful(std::vector<std::string> scenarios, const std::string& extra = "",
                     int per_try_ms = 300) {
    uas_scenarios_ = std::move(scenarios);
    balancer_extra_ =
        "mode = \"stateful\"\nper_try_timeout_ms = " + std::to_string(per_try_ms) + "\n";
    std::vector<int> weights(uas_scenarios_.size(), 1);
    Start("round-robin", weights, "shards = 1", extra);
  }
  double Metric(const std::string& name) {
    const auto m = Metrics();
    auto it = m.find(name);
    return it == m.end() ? -1 : it->second;
  }
};

// A caller that honours Record-Route, so ACK and BYE reach the backend that answered (after a
// failover that is not the one the Call-ID hash would name).
std::string Uac() { return "uac_routes.xml"; }

// A backend that never answers INVITE: every call it gets goes on to the other one after the
// per-try timeout, and every call completes.
TEST_F(StatefulTest, HungBackendFailsOver) {
  StartStateful({"uas_silent.xml", "uas_rr.xml"});
  const auto r = RunUac({"-sf", Scenario(Uac())}, 100, 50, "uac");
  EXPECT_EQ(r.rc, 0) << r.log;
  EXPECT_EQ(r.counts.successful, 100) << r.log;
  EXPECT_EQ(r.counts.failed, 0) << r.log;
  EXPECT_GT(Metric("sipring_failovers_total{reason=\"timeout\"}"), 0);
  EXPECT_EQ(Metric("sipring_rejected_total{reason=\"no_backend\"}"), 0);
}

// A backend answering 503: the caller never sees it; the call goes to the other backend.
TEST_F(StatefulTest, BackendAnswering503FailsOver) {
  StartStateful({"uas_503.xml", "uas_rr.xml"});
  const auto r = RunUac({"-sf", Scenario(Uac())}, 200, 100, "uac");
  EXPECT_EQ(r.rc, 0) << r.log;
  EXPECT_EQ(r.counts.successful, 200) << r.log;
  const double failovers = Metric("sipring_failovers_total{reason=\"status\"}");
  EXPECT_GT(failovers, 0);
  // The uac scenario would accept a 503 as a rejected call; the 200s at the good backend prove
  // that every call was really connected there.
  const std::vector<long> calls = UasCalls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1], 200);
  // Each 503 was ACKed hop by hop by sipring: the 503 backend ended every call well (UasCalls
  // checks its failed count is 0).
  EXPECT_EQ(calls[0], static_cast<long>(failovers));
}

// CANCEL while ringing (RFC 3261 §9, §16.10): sipring answers the caller's CANCEL, cancels the
// backend's INVITE, relays its 487 and absorbs the caller's ACK.
TEST_F(StatefulTest, CancelWhileRinging) {
  StartStateful({"uas_cancel.xml", "uas_cancel.xml"});
  const auto r = RunUac({"-sf", Scenario("uac_cancel.xml")}, 40, 20, "uac");
  EXPECT_EQ(r.rc, 0) << r.log;
  EXPECT_EQ(r.counts.successful, 40) << r.log;
  EXPECT_EQ(Metric("sipring_cancels_total"), 40);
  // The callers' ACKs for the 487s end at sipring (hop by hop); the backends get sipring's own.
  EXPECT_EQ(Metric("sipring_absorbed_acks_total"), 40);
  const std::vector<long> calls = UasCalls();
  EXPECT_EQ(calls[0] + calls[1], 40);
}

// A lossy path between caller and proxy: sipp's caller drops 10% of what it sends and of what it
// receives, so it retransmits INVITEs (its 100 Trying lost) and BYEs (the BYE or its 200 lost).
// Every call completes, and each backend, counting with sipp's own screen, receives every INVITE
// and BYE once: no retransmission of the caller's is forwarded twice.
TEST_F(StatefulTest, LossyCallerRetransmissionsReachBackendOnce) {
  StartStateful({"uas_rr.xml", "uas_rr.xml"});
  const int calls = 200;
  const auto r = RunUac({"-sf", Scenario("uac_lossy.xml"), "-lost", "10"}, calls, 50, "uac");
  EXPECT_EQ(r.rc, 0) << r.log;
  EXPECT_EQ(r.counts.successful, calls) << r.log;
  const SippMessageCount invites = ParseScreenMessage(r.log, "INVITE");
  const SippMessageCount byes = ParseScreenMessage(r.log, "BYE");
  ASSERT_GE(invites.retransmissions, 0) << r.log;
  ASSERT_GE(byes.retransmissions, 0) << r.log;
  // With 10% loss each way, 200 calls without a single retransmission would be a broken test.
  EXPECT_GT(invites.retransmissions + byes.retransmissions, 10) << r.log;
  const std::vector<long> answered = UasCalls();
  ASSERT_EQ(answered.size(), 2u);
  EXPECT_EQ(answered[0] + answered[1], calls);
  long backend_invites = 0, backend_byes = 0;
  for (size_t i = 0; i < 2; ++i) {
    const std::string screen = UasScreen(i);
    const SippMessageCount inv = ParseScreenMessage(screen, "INVITE");
    const SippMessageCount bye = ParseScreenMessage(screen, "BYE");
    EXPECT_EQ(inv.retransmissions, 0) << "UAS " << i << " got an INVITE twice:\n" << screen;
    EXPECT_EQ(bye.retransmissions, 0) << "UAS " << i << " got a BYE twice:\n" << screen;
    backend_invites += inv.messages;
    backend_byes += bye.messages;
  }
  EXPECT_EQ(backend_invites, calls);
  EXPECT_EQ(backend_byes, calls);
  // The retransmissions that reached sipring inside a transaction were answered there.
  EXPECT_GT(Metric("sipring_retransmissions_absorbed_total"), 0);
}

// A backend the test serves itself, to count every datagram it gets.
class CountingBackend {
 public:
  explicit CountingBackend(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~CountingBackend() { close(fd_); }
  bool bound() const { return bound_; }
  // Reads for `ms`; returns the requests (not health OPTIONS) that arrived, in order.
  std::vector<std::string> Drain(int ms, sockaddr_in* from = nullptr) {
    std::vector<std::string> out;
    pollfd p{fd_, POLLIN, 0};
    while (poll(&p, 1, ms) > 0) {
      char buf[4096];
      sockaddr_in peer{};
      socklen_t len = sizeof(peer);
      const ssize_t n =
          recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &len);
      if (n <= 0) break;
      std::string m(buf, size_t(n));
      // Health probes, and the daemon's self probe of its data path, which a backend gets too.
      if (m.rfind("OPTIONS ", 0) == 0) continue;
      if (from != nullptr) *from = peer;
      out.push_back(std::move(m));
    }
    return out;
  }
  void Send(const std::string& m, const sockaddr_in& to) {
    sendto(fd_, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

std::string Invite(uint16_t proxy_port, const std::string& id) {
  return "INVITE sip:bob@127.0.0.1:" + std::to_string(proxy_port) +
         " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" + id +
         ";rport\r\nMax-Forwards: 70\r\nTo: <sip:bob@127.0.0.1>\r\nFrom: <sip:a@127.0.0.1>;tag=" +
         id + "\r\nCall-ID: " + id + "\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:9>\r\n"
         "Content-Length: 0\r\n\r\n";
}

// The reply to `request` from the backend: its Vias, From, To (+tag), Call-ID and CSeq.
std::string Answer(const std::string& request, const std::string& status) {
  std::string out = "SIP/2.0 " + status + "\r\n";
  size_t at = request.find("\r\n") + 2;
  while (at < request.size()) {
    const size_t end = request.find("\r\n", at);
    const std::string line = request.substr(at, end - at);
    if (line.empty()) break;
    for (const char* h : {"Via:", "From:", "Call-ID:", "CSeq:"}) {
      if (line.rfind(h, 0) == 0) out += line + "\r\n";
    }
    if (line.rfind("To:", 0) == 0) out += line + ";tag=be\r\n";
    at = end + 2;
  }
  return out + "Content-Length: 0\r\n\r\n";
}

// Caller retransmissions are answered from the transaction and reach the backend once: in
// Proceeding (our 100 Trying again) and in Completed (the backend's final again).
TEST_F(StatefulTest, RetransmissionsReachBackendOnce) {
  // Health probes every 60 s: the silent test backend must not be called down mid-test.
  StartStateful({""}, "[health]\ninterval_ms = 60000\ntimeout_ms = 1000\n");
  CountingBackend backend(backends_[0].port);
  ASSERT_TRUE(backend.bound());
  const int caller = testing::MakeUdpClient(AF_INET, 300);
  const std::string invite = Invite(port_, "rtx1");
  const sockaddr_in proxy = Proxy();
  auto send = [&](const std::string& m) {
    sendto(caller, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&proxy),
           sizeof(proxy));
  };
  auto recv_status = [&]() {
    char buf[4096];
    const ssize_t n = recv(caller, buf, sizeof(buf), 0);
    return n > 0 ? StatusOf(std::string(buf, size_t(n))) : 0;
  };
  for (int i = 0; i < 3; ++i) send(invite);  // the original and two retransmissions
  for (int i = 0; i < 3; ++i) EXPECT_EQ(recv_status(), 100) << "copy " << i;
  sockaddr_in from{};
  const std::vector<std::string> got = backend.Drain(200, &from);  // < T1: no Timer A yet
  ASSERT_EQ(got.size(), 1u) << "the backend must see the INVITE once";
  backend.Send(Answer(got[0], "486 Busy Here"), from);
  EXPECT_EQ(recv_status(), 486);
  // The backend gets our hop-by-hop ACK for its 486.
  const std::vector<std::string> ack = backend.Drain(200);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(ack[0].rfind("ACK ", 0), 0u) << ack[0];
  // A late copy of the INVITE gets the 486 again from the transaction; the backend sees nothing.
  send(invite);
  EXPECT_EQ(recv_status(), 486);
  EXPECT_TRUE(backend.Drain(200).empty());
  EXPECT_EQ(Metric("sipring_retransmissions_absorbed_total"), 3);
  close(caller);
}

std::string Cancel(uint16_t proxy_port, const std::string& id) {
  return "CANCEL sip:bob@127.0.0.1:" + std::to_string(proxy_port) +
         " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" + id +
         ";rport\r\nMax-Forwards: 70\r\nTo: <sip:bob@127.0.0.1>\r\nFrom: <sip:a@127.0.0.1>;tag=" +
         id + "\r\nCall-ID: " + id + "\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n";
}

// The caller's ACK for a non-2xx final: the INVITE's branch, and the To tag of Answer().
std::string AckForFinal(uint16_t proxy_port, const std::string& id) {
  return "ACK sip:bob@127.0.0.1:" + std::to_string(proxy_port) +
         " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" + id +
         ";rport\r\nMax-Forwards: 70\r\nTo: <sip:bob@127.0.0.1>;tag=be\r\nFrom: <sip:a@127.0.0.1>;tag=" +
         id + "\r\nCall-ID: " + id + "\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
}

// "200 INVITE", "487 INVITE", "200 CANCEL": a response's status and CSeq method.
std::string StatusAndMethod(const std::string& m) {
  const size_t at = m.find("\r\nCSeq: ");
  if (m.rfind("SIP/2.0 ", 0) != 0 || at == std::string::npos) return "?";
  const size_t method = m.find(' ', at + 8) + 1;
  return m.substr(8, 3) + " " + m.substr(method, m.find("\r\n", method) - method);
}

// A caller's CANCEL crossing a final response (RFC 3261 §9.2, §16.10): the CANCEL gets its own
// 200 and changes nothing; the final the backend sent is what the caller gets, never a 487 of
// ours; a CANCEL the proxy has already forwarded does not stop the 2xx that crossed it.
TEST_F(StatefulTest, CancelCrossingTheFinal) {
  StartStateful({""}, "[health]\ninterval_ms = 60000\ntimeout_ms = 1000\n");
  CountingBackend backend(backends_[0].port);
  ASSERT_TRUE(backend.bound());
  const int caller = testing::MakeUdpClient(AF_INET, 300);
  const sockaddr_in proxy = Proxy();
  auto send = [&](const std::string& m) {
    sendto(caller, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&proxy),
           sizeof(proxy));
  };
  // What the caller gets within `ms`, as "status method" in arrival order.
  auto received = [&](int ms) {
    std::vector<std::string> out;
    pollfd p{caller, POLLIN, 0};
    while (poll(&p, 1, ms) > 0) {
      char buf[4096];
      const ssize_t n = recv(caller, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.push_back(StatusAndMethod(std::string(buf, size_t(n))));
    }
    return out;
  };
  auto count = [](const std::vector<std::string>& v, const std::string& what) {
    return std::count(v.begin(), v.end(), what);
  };
  sockaddr_in from{};

  // 1. The backend's 486 reaches the proxy first; the caller's CANCEL, sent before the 486
  // reached it, gets 200 and goes no further: the backend sees only our ACK for its 486.
  send(Invite(port_, "cx1"));
  std::vector<std::string> got = backend.Drain(200, &from);
  ASSERT_EQ(got.size(), 1u);
  backend.Send(Answer(got[0], "486 Busy Here"), from);
  ASSERT_EQ(backend.Drain(200).size(), 1u);  // our ACK: the 486 has passed the proxy
  send(Cancel(port_, "cx1"));
  std::vector<std::string> answers = received(200);
  send(AckForFinal(port_, "cx1"));  // the caller reads its 486 and ACKs it (ending Timer G)
  EXPECT_EQ(count(answers, "100 INVITE"), 1);
  EXPECT_EQ(count(answers, "486 INVITE"), 1);
  EXPECT_EQ(count(answers, "200 CANCEL"), 1);
  EXPECT_EQ(count(answers, "487 INVITE"), 0);
  got = backend.Drain(200);
  EXPECT_TRUE(got.empty()) << "a CANCEL after the final must not go on: " << got[0];
  EXPECT_TRUE(received(600).empty()) << "the ACK ended the 486's retransmissions";

  // 2. The CANCEL reaches the proxy while the call rings and goes on to the backend, whose 200 to
  // the INVITE was already on its way (it crosses our CANCEL): the caller gets that 200, and
  // no 487; the backend's 200 to our CANCEL ends at the proxy.
  send(Invite(port_, "cx2"));
  got = backend.Drain(200, &from);
  ASSERT_EQ(got.size(), 1u);
  const std::string invite2 = got[0];
  backend.Send(Answer(invite2, "180 Ringing"), from);
  EXPECT_EQ(received(300), (std::vector<std::string>{"100 INVITE", "180 INVITE"}));
  send(Cancel(port_, "cx2"));
  got = backend.Drain(100);  // answered within T1: no retransmission of our CANCEL
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].rfind("CANCEL ", 0), 0u) << got[0];
  backend.Send(Answer(invite2, "200 OK"), from);
  backend.Send(Answer(got[0], "200 OK"), from);
  EXPECT_EQ(received(300), (std::vector<std::string>{"200 CANCEL", "200 INVITE"}));

  // 3. The 2xx reaches the proxy first: the INVITE transaction has ended with it, so the
  // caller's late CANCEL matches nothing and is forwarded statelessly (§16.10); the backend's
  // answer to it comes back, and the call stays up.
  send(Invite(port_, "cx3"));
  got = backend.Drain(200, &from);
  ASSERT_EQ(got.size(), 1u);
  backend.Send(Answer(got[0], "200 OK"), from);
  EXPECT_EQ(received(300), (std::vector<std::string>{"100 INVITE", "200 INVITE"}));
  send(Cancel(port_, "cx3"));
  got = backend.Drain(200, &from);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].rfind("CANCEL ", 0), 0u) << got[0];
  backend.Send(Answer(got[0], "200 OK"), from);
  EXPECT_EQ(received(300), (std::vector<std::string>{"200 CANCEL"}));
  EXPECT_EQ(Metric("sipring_cancels_total"), 2);  // 1 and 2: the third matched nothing
  close(caller);
}

// A table far smaller than the calls a second times Timer J: each call's BYE transaction lingers
// 32 s after its 200 (Timer J, absorbing retransmissions), so without reclaiming those entries
// the table would be full after a few calls and the rest would get 503. Finished entries give
// way to new requests; every call completes and the reclaims are counted.
TEST_F(StatefulTest, FinishedTransactionsGiveWayAtTheLimit) {
  StartStateful({"uas_rr.xml", "uas_rr.xml"}, "[transactions]\nmax_per_shard = 8\n");
  const auto r = RunUac({"-sf", Scenario(Uac())}, 60, 30, "uac");
  EXPECT_EQ(r.rc, 0) << r.log;
  EXPECT_EQ(r.counts.successful, 60) << r.log;
  const std::vector<long> calls = UasCalls();
  EXPECT_EQ(calls[0] + calls[1], 60) << "every call connected at a backend, none refused";
  EXPECT_EQ(Metric("sipring_rejected_total{reason=\"transaction_limit\"}"), 0);
  EXPECT_GE(Metric("sipring_transactions_reclaimed_total"), 60 - 8);
  EXPECT_LE(Metric("sipring_transactions"), 8);
}

// At the transaction limit new requests get 503 (transaction limit); nothing crashes, the
// proxy still answers its pings, and the transactions end by their timeouts.
TEST_F(StatefulTest, TransactionLimitGives503) {
  // A per-try timeout beyond the test: no 408 arrives while we count the 503s.
  StartStateful({""}, "[health]\ninterval_ms = 60000\ntimeout_ms = 1000\n"
                      "[transactions]\nmax_per_shard = 4\n", /*per_try_ms=*/4000);
  CountingBackend backend(backends_[0].port);  // never answers
  const int caller = testing::MakeUdpClient(AF_INET, 300);
  int rejected = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string r = RoundTrip(caller, Options("someone", "lim" + std::to_string(i)));
    if (StatusOf(r) == 503 && r.find("transaction limit") != std::string::npos) ++rejected;
  }
  // At least 6: the daemon's own self probe may hold one of the four entries.
  EXPECT_GE(rejected, 6);
  EXPECT_EQ(Ping(), 200);
  EXPECT_EQ(Metric("sipring_rejected_total{reason=\"transaction_limit\"}"), rejected);
  EXPECT_EQ(Metric("sipring_transactions"), 4);
  close(caller);
}

}  // namespace
}  // namespace sipring::integration

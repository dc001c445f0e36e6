#include "sip/proxy_transaction.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sip/parser.h"
#include "sip/request_builder.h"

namespace sipring::sip {
namespace {

TEST(ProxyTxnTableTest, BoundedAllocateFindFree) {
  ProxyTxnTable table(4);
  std::vector<ProxyTxn*> live;
  for (uint64_t k = 1; k <= 4; ++k) {
    ProxyTxn* t = table.Allocate(k << 40);
    ASSERT_NE(t, nullptr);
    live.push_back(t);
  }
  EXPECT_EQ(table.Allocate(99), nullptr) << "full: the caller answers 503";
  EXPECT_EQ(table.size(), 4u);
  for (uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(table.Find(k << 40), live[k - 1]);
  EXPECT_EQ(table.Find(5ull << 40), nullptr);
  const uint32_t index = table.IndexOf(live[1]);
  const uint32_t generation = live[1]->generation;
  EXPECT_EQ(table.Match(index, generation), live[1]);
  table.Free(live[1]);
  EXPECT_EQ(table.Find(2ull << 40), nullptr);
  EXPECT_EQ(table.Match(index, generation), nullptr) << "a freed entry matches no branch";
  ProxyTxn* again = table.Allocate(7);
  EXPECT_EQ(again, live[1]) << "the most recently freed entry is reused first";
  EXPECT_NE(again->generation, generation);
  EXPECT_EQ(table.Match(index, generation), nullptr) << "an old branch never matches a reuse";
  EXPECT_EQ(table.Find(7), again);
}

TEST(ProxyTxnTableTest, SameBucketChains) {
  ProxyTxnTable table(8);
  // Keys equal in the bucket bits (the high half), different below.
  ProxyTxn* a = table.Allocate(0x0000000100000001ull);
  ProxyTxn* b = table.Allocate(0x0000000100000002ull);
  ProxyTxn* c = table.Allocate(0x0000000100000003ull);
  table.Free(b);
  EXPECT_EQ(table.Find(0x0000000100000001ull), a);
  EXPECT_EQ(table.Find(0x0000000100000003ull), c);
  EXPECT_EQ(table.Find(0x0000000100000002ull), nullptr);
}

Message ParseOk(const std::string& text) {
  Message m;
  EXPECT_EQ(Parse(text, ParseLimits{}, &m), ParseError::kOk) << text;
  return m;
}

const std::string kInvite =
    "INVITE sip:bob@10.0.0.9 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKcaller\r\n"
    "Max-Forwards: 70\r\n"
    "Route: <sip:10.0.0.2;lr>, <sip:10.0.0.3;lr>\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: c1@10.0.0.1\r\n"
    "CSeq: 42 INVITE\r\n"
    "Contact: <sip:alice@10.0.0.1>\r\n"
    "Content-Length: 0\r\n\r\n";

// Server-transaction keys (RFC 3261 §17.2.3): ACK and CANCEL find their INVITE by branch and
// sent-by; another method or branch is another transaction.
// Entries marked lingering queue oldest first, once each; freeing one anywhere in the list
// unlinks it; a reused entry starts outside the list.
TEST(ProxyTxnTableTest, LingeringListIsFirstInFirstOut) {
  ProxyTxnTable table(4);
  ProxyTxn* t[4];
  for (uint64_t k = 0; k < 4; ++k) t[k] = table.Allocate((k + 1) << 40);
  EXPECT_EQ(table.OldestLingering(), nullptr);
  table.Linger(t[2]);
  table.Linger(t[0]);
  table.Linger(t[3]);
  table.Linger(t[2]);  // once only
  EXPECT_EQ(table.lingering(), 3u);
  EXPECT_EQ(table.OldestLingering(), t[2]);
  table.Free(t[0]);  // from the middle
  EXPECT_EQ(table.lingering(), 2u);
  EXPECT_EQ(table.OldestLingering(), t[2]);
  table.Free(t[2]);  // the head
  EXPECT_EQ(table.OldestLingering(), t[3]);
  ProxyTxn* reused = table.Allocate(9);
  EXPECT_EQ(reused, t[2]);
  EXPECT_FALSE(reused->lingering);
  table.Linger(reused);
  table.Free(t[3]);  // the head, then the only one left
  EXPECT_EQ(table.OldestLingering(), reused);
  table.Free(reused);
  EXPECT_EQ(table.OldestLingering(), nullptr);
  EXPECT_EQ(table.lingering(), 0u);
  table.Free(t[1]);  // never lingered: the list is untouched
  EXPECT_EQ(table.size(), 0u);
}

TEST(ServerKeyTest, MatchesPerRfc3261) {
  const Message invite = ParseOk(kInvite);
  std::string cancel = kInvite;
  cancel.replace(0, 6, "CANCEL");
  cancel.replace(cancel.find("42 INVITE"), 9, "42 CANCEL");
  const Message c = ParseOk(cancel);
  EXPECT_EQ(ServerKey(invite, "INVITE"), ServerKey(c, "INVITE"));
  EXPECT_NE(ServerKey(c, "INVITE"), ServerKey(c, c.method));
  std::string other = kInvite;
  other.replace(other.find("z9hG4bKcaller"), 13, "z9hG4bKcallex");
  EXPECT_NE(ServerKey(ParseOk(other), "INVITE"), ServerKey(invite, "INVITE"));
  std::string port = kInvite;
  port.replace(port.find("10.0.0.1:5060"), 13, "10.0.0.1:5062");
  EXPECT_NE(ServerKey(ParseOk(port), "INVITE"), ServerKey(invite, "INVITE"));
}

// RFC 2543 fallback: no magic cookie; the ACK (with the To tag of our answer) still matches.
TEST(ServerKeyTest, Rfc2543Fallback) {
  std::string old = kInvite;
  old.replace(old.find(";branch=z9hG4bKcaller"), 21, "");
  const Message invite = ParseOk(old);
  std::string ack = old;
  ack.replace(0, 6, "ACK");
  ack.replace(ack.find("42 INVITE"), 9, "42 ACK");
  ack.replace(ack.find("To: <sip:bob@example.com>"), 25, "To: <sip:bob@example.com>;tag=x");
  EXPECT_EQ(ServerKey(invite, "INVITE"), ServerKey(ParseOk(ack), "INVITE"));
  std::string later = old;
  later.replace(later.find("CSeq: 42"), 8, "CSeq: 43");
  EXPECT_NE(ServerKey(ParseOk(later), "INVITE"), ServerKey(invite, "INVITE"));
}

// CANCEL (§9.1) and ACK (§17.1.1.3) built from the INVITE: same Request-URI, From, Call-ID,
// CSeq number; only our Via; the Routes we did not pop; To from the INVITE or the response.
TEST(RequestBuilderTest, CancelAndAck) {
  const Message invite = ParseOk(kInvite);
  const std::string via = "SIP/2.0/UDP 10.0.0.2:40000;branch=z9hG4bKsrours";
  char buf[1024];
  size_t n = 0;
  ASSERT_EQ(BuildHopRequest(invite,
                            {.method = HopMethod::kCancel, .via = via, .skip_routes = 1}, buf, &n),
            BuildError::kOk);
  const std::string cancel(buf, n);
  EXPECT_EQ(cancel,
            "CANCEL sip:bob@10.0.0.9 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 10.0.0.2:40000;branch=z9hG4bKsrours\r\n"
            "Max-Forwards: 70\r\n"
            "Route: <sip:10.0.0.3;lr>\r\n"
            "From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"
            "To: <sip:bob@example.com>\r\n"
            "Call-ID: c1@10.0.0.1\r\n"
            "CSeq: 42 CANCEL\r\n"
            "Content-Length: 0\r\n\r\n");
  const Message c = ParseOk(cancel);
  EXPECT_EQ(c.cseq.number, 42u);
  EXPECT_EQ(c.vias[0].branch, "z9hG4bKsrours");

  ASSERT_EQ(BuildHopRequest(invite,
                            {.method = HopMethod::kAck,
                             .via = via,
                             .to = "<sip:bob@example.com>;tag=b2",
                             .skip_routes = 0},
                            buf, &n),
            BuildError::kOk);
  const std::string ack(buf, n);
  const Message a = ParseOk(ack);
  EXPECT_EQ(a.method, "ACK");
  EXPECT_EQ(a.cseq.method, "ACK");
  EXPECT_EQ(a.to.tag, "b2");
  EXPECT_EQ(a.route_count, 2);
  EXPECT_EQ(a.request_uri_text, "sip:bob@10.0.0.9");
  EXPECT_EQ(a.via_count, 1);

  char tiny[64];
  EXPECT_EQ(BuildHopRequest(invite, {.method = HopMethod::kCancel, .via = via}, tiny, &n),
            BuildError::kNoSpace);
}

}  // namespace
}  // namespace sipring::sip

// sipload's requests (tools/sipload/request_writer.h): each one sip::Parse accepts with the
// fields a proxy and a UAS act on; identifiers round-trip through DecodeCallId; a retransmission
// is byte for byte the original; the ACK for a non-2xx is built from the response.
#include "tools/sipload/request_writer.h"

#include <gtest/gtest.h>

#include <string>

#include "sip/parser.h"

namespace sipring::sipload {
namespace {

const RequestContext kContext{.service = "bob",
                              .target_host = "127.0.0.1",
                              .target_port = 5060,
                              .local_host = "127.0.0.3",
                              .local_port = 40001};
const CallKey kKey{.run = 0xdeadbeef, .shard = 3, .slot = 123456, .generation = 7};

std::string Written(size_t (*write)(const RequestContext&, const CallKey&, std::span<char>)) {
  char buf[2048];
  const size_t n = write(kContext, kKey, std::span<char>(buf));
  EXPECT_GT(n, 0u);
  return std::string(buf, n);
}

void ExpectOurs(const sip::Message& m, std::string_view method) {
  EXPECT_EQ(m.method, method);
  EXPECT_EQ(m.cseq.method, method == "ACK" ? "ACK" : method);
  ASSERT_EQ(m.via_count, 1);
  EXPECT_EQ(m.vias[0].host, "127.0.0.3");
  EXPECT_EQ(m.vias[0].port, 40001);
  EXPECT_TRUE(m.vias[0].HasRfc3261Branch());
  EXPECT_TRUE(m.vias[0].has_rport);
  EXPECT_EQ(m.max_forwards, 70);
  CallKey back;
  ASSERT_TRUE(DecodeCallId(m.call_id, kKey.run, &back)) << m.call_id;
  EXPECT_EQ(back.shard, kKey.shard);
  EXPECT_EQ(back.slot, kKey.slot);
  EXPECT_EQ(back.generation, kKey.generation);
  EXPECT_FALSE(DecodeCallId(m.call_id, kKey.run + 1, &back)) << "another run's call";
}

TEST(RequestWriterTest, InviteParsesWithItsOffer) {
  const std::string invite = Written(&WriteInvite);
  sip::Message m;
  ASSERT_EQ(sip::Parse(invite, sip::ParseLimits(), &m), sip::ParseError::kOk) << invite;
  ExpectOurs(m, "INVITE");
  EXPECT_EQ(m.request_uri_text, "sip:bob@127.0.0.1:5060");
  EXPECT_EQ(m.cseq.number, 1u);
  EXPECT_TRUE(m.from.has_tag);
  EXPECT_FALSE(m.to.has_tag);
  EXPECT_EQ(m.contact_count, 1);
  EXPECT_EQ(m.content_length, static_cast<int64_t>(m.body.size()));
  EXPECT_NE(m.body.find("c=IN IP4 127.0.0.3"), std::string_view::npos);
  // A retransmission is the same bytes.
  EXPECT_EQ(Written(&WriteInvite), invite);
}

TEST(RequestWriterTest, OptionsAndRegister) {
  sip::Message m;
  const std::string options = Written(&WriteOptions);
  ASSERT_EQ(sip::Parse(options, sip::ParseLimits(), &m), sip::ParseError::kOk);
  ExpectOurs(m, "OPTIONS");
  EXPECT_EQ(m.request_uri.user, "bob") << "a user part, so a proxy balances it";
  const std::string reg = Written(&WriteRegister);
  ASSERT_EQ(sip::Parse(reg, sip::ParseLimits(), &m), sip::ParseError::kOk);
  ExpectOurs(m, "REGISTER");
  EXPECT_EQ(m.request_uri_text, "sip:127.0.0.1:5060");
  EXPECT_EQ(m.expires, 3600);
}

TEST(RequestWriterTest, InDialogRequestsFollowTheDialog) {
  const DialogView dialog{.to_tag = "uas-tag",
                          .remote_target = "sip:uas@127.0.0.9:5070",
                          .route = "<sip:127.0.0.1:5060;lr;sr-be=b1>, <sip:10.0.0.1;lr>"};
  char buf[2048];
  size_t n = WriteAck2xx(kContext, kKey, dialog, buf);
  ASSERT_GT(n, 0u);
  sip::Message ack;
  ASSERT_EQ(sip::Parse(std::string_view(buf, n), sip::ParseLimits(), &ack), sip::ParseError::kOk);
  ExpectOurs(ack, "ACK");
  EXPECT_EQ(ack.request_uri_text, "sip:uas@127.0.0.9:5070");
  EXPECT_EQ(ack.to.tag, "uas-tag");
  EXPECT_EQ(ack.cseq.number, 1u);
  ASSERT_EQ(ack.route_count, 2);
  EXPECT_EQ(ack.routes[0].uri.host, "127.0.0.1");
  const std::string ack_branch(ack.vias[0].branch);

  n = WriteBye(kContext, kKey, dialog, buf);
  ASSERT_GT(n, 0u);
  sip::Message bye;
  ASSERT_EQ(sip::Parse(std::string_view(buf, n), sip::ParseLimits(), &bye), sip::ParseError::kOk);
  ExpectOurs(bye, "BYE");
  EXPECT_EQ(bye.cseq.number, 2u);
  EXPECT_EQ(bye.route_count, 2);
  EXPECT_NE(bye.vias[0].branch, ack_branch) << "each transaction has its own branch";

  // Without a route set there is no Route header.
  n = WriteBye(kContext, kKey, {.to_tag = "t", .remote_target = "sip:127.0.0.9"}, buf);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(std::string_view(buf, n).find("Route:"), std::string_view::npos);
}

TEST(RequestWriterTest, AckForANon2xxComesFromTheResponse) {
  const std::string invite = Written(&WriteInvite);
  sip::Message req;
  ASSERT_EQ(sip::Parse(invite, sip::ParseLimits(), &req), sip::ParseError::kOk);
  const std::string response = "SIP/2.0 503 Service Unavailable\r\nVia: " + std::string(req.vias[0].value) +
                               "\r\nFrom: " + std::string(req.Find(sip::HeaderId::kFrom)->value) +
                               "\r\nTo: <sip:bob@127.0.0.1:5060>;tag=x9\r\nCall-ID: " +
                               std::string(req.call_id) + "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  sip::Message resp;
  ASSERT_EQ(sip::Parse(response, sip::ParseLimits(), &resp), sip::ParseError::kOk);
  char buf[2048];
  const size_t n = WriteAckForResponse(kContext, resp, buf);
  ASSERT_GT(n, 0u);
  sip::Message ack;
  ASSERT_EQ(sip::Parse(std::string_view(buf, n), sip::ParseLimits(), &ack), sip::ParseError::kOk);
  EXPECT_EQ(ack.method, "ACK");
  EXPECT_EQ(ack.vias[0].branch, req.vias[0].branch) << "part of the INVITE transaction";
  EXPECT_EQ(ack.request_uri_text, req.request_uri_text);
  EXPECT_EQ(ack.to.tag, "x9");
  EXPECT_EQ(ack.call_id, req.call_id);
  EXPECT_EQ(ack.cseq.number, 1u);
  EXPECT_EQ(ack.cseq.method, "ACK");

  sip::Message no_via;
  ASSERT_EQ(sip::Parse("SIP/2.0 503 x\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
                       sip::ParseLimits(), &no_via),
            sip::ParseError::kOk);
  EXPECT_EQ(WriteAckForResponse(kContext, no_via, buf), 0u);
}

TEST(RequestWriterTest, TooSmallABufferWritesNothing) {
  char buf[100];
  EXPECT_EQ(WriteInvite(kContext, kKey, buf), 0u);
  EXPECT_EQ(WriteOptions(kContext, kKey, buf), 0u);
}

TEST(RequestWriterTest, ForeignCallIdsAreRejected) {
  CallKey k;
  EXPECT_FALSE(DecodeCallId("", 1, &k));
  EXPECT_FALSE(DecodeCallId("a84b4c76e66710@pc33.atlanta.com", 0xa84b4c76, &k));
  EXPECT_FALSE(DecodeCallId("deadbeef03zz01e2400007@sipload", 0xdeadbeef, &k));
}

}  // namespace
}  // namespace sipring::sipload

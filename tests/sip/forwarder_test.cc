// Tests sip/forwarder.h and sip/gather_list.h: exact output bytes for the forwarding edits,
// response Via popping, and the round trip over the torture corpus (parse, rewrite, re-parse:
// Call-ID, CSeq, From/To tags and body preserved; the intended changes and nothing else).
#include "sip/forwarder.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sip/parser.h"
#include "sip/request_check.h"
#include "tests/sip/torture_corpus.h"

namespace sipring::sip {
namespace {

std::string Flat(const GatherList& list) {
  std::string s(list.total, '\0');
  EXPECT_EQ(Flatten(list, std::span<char>(s.data(), s.size())), list.total);
  return s;
}

ForwardOptions Options() {
  ForwardOptions o;
  o.local_host = "lb.example.net";
  o.local_port = 5060;
  o.transport = "UDP";
  return o;
}

constexpr std::string_view kRequest =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "Route: <sip:lb.example.net;lr>, <sip:p2.example.com;lr>\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n"
    "junk after the body";

TEST(ForwarderTest, ForwardsRequestWithAllEdits) {
  Message m;
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &m), ParseError::kOk);
  ForwardOptions o = Options();
  o.branch = "z9hG4bKtx1";
  o.record_route = true;
  o.record_route_param = "be=3";
  char scratch[kForwardScratchSize];
  GatherList list;
  ASSERT_EQ(ForwardRequest(m, o, scratch, &list), ForwardError::kOk);
  EXPECT_EQ(Flat(list),
            "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP lb.example.net:5060;branch=z9hG4bKtx1\r\n"
            "Record-Route: <sip:lb.example.net:5060;lr;be=3>\r\n"
            "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
            "Max-Forwards: 69\r\n"
            "Route: <sip:p2.example.com;lr>\r\n"
            "To: Bob <sip:bob@biloxi.example.com>\r\n"
            "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
            "Call-ID: a84b4c76e66710\r\n"
            "CSeq: 314159 INVITE\r\n"
            "Content-Length: 4\r\n"
            "\r\n"
            "v=0\n");
  // The body is referenced, not copied.
  const iovec& last = list.iov[list.count - 1];
  EXPECT_EQ(static_cast<const char*>(last.iov_base) + last.iov_len, m.body.data() + m.body.size());
  EXPECT_LE(list.count, 8u);
}

TEST(ForwarderTest, AddsReceivedAndRport) {
  constexpr std::string_view kNat =
      "OPTIONS sip:bob@b.example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.7:5062;rport;branch=z9hG4bK1\r\n"
      "Max-Forwards: 5\r\n"
      "To: <sip:bob@b.example.com>\r\n"
      "From: <sip:a@a.example.com>;tag=1\r\n"
      "Call-ID: nat1\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "Content-Length: 0\r\n\r\n";
  Message m;
  ASSERT_EQ(Parse(kNat, ParseLimits(), &m), ParseError::kOk);
  ForwardOptions o = Options();
  o.branch = "z9hG4bKx";
  o.source_host = "192.0.2.9";
  o.source_port = 40000;
  char scratch[kForwardScratchSize];
  GatherList list;
  ASSERT_EQ(ForwardRequest(m, o, scratch, &list), ForwardError::kOk);
  const std::string out = Flat(list);
  EXPECT_NE(out.find("Via: SIP/2.0/UDP 10.0.0.7:5062;rport=40000;branch=z9hG4bK1;received=192.0.2.9\r\n"),
            std::string::npos) << out;
  Message again;
  ASSERT_EQ(Parse(out, ParseLimits(), &again), ParseError::kOk);
  EXPECT_EQ(again.vias[1].received, "192.0.2.9");
  EXPECT_EQ(again.vias[1].rport, "40000");

  // Same host and no rport: nothing added. A different host: received only; IPv6 unbracketed.
  o.source_host = "10.0.0.7";
  constexpr std::string_view kPlain =
      "OPTIONS sip:bob@b.example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bK1\r\n"
      "To: <sip:bob@b.example.com>\r\nFrom: <sip:a@a>;tag=1\r\nCall-ID: c\r\n"
      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(Parse(kPlain, ParseLimits(), &m), ParseError::kOk);
  ASSERT_EQ(ForwardRequest(m, o, scratch, &list), ForwardError::kOk);
  EXPECT_NE(Flat(list).find("Via: SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bK1\r\n"), std::string::npos);
  o.source_host = "[2001:db8::1]";
  ASSERT_EQ(ForwardRequest(m, o, scratch, &list), ForwardError::kOk);
  EXPECT_NE(Flat(list).find("branch=z9hG4bK1;received=2001:db8::1\r\n"), std::string::npos)
      << Flat(list);
}

TEST(ForwarderTest, RouteIdentitySeparateFromVia) {
  Message m;
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &m), ParseError::kOk);
  ForwardOptions o = Options();
  o.local_host = "127.0.0.1";
  o.local_port = 40001;  // per-shard socket
  o.route_host = "lb.example.net";
  o.route_port = 5060;   // the listener peers know
  o.branch = "z9hG4bKy";
  o.record_route = true;
  char scratch[kForwardScratchSize];
  GatherList list;
  ASSERT_EQ(ForwardRequest(m, o, scratch, &list), ForwardError::kOk);
  const std::string out = Flat(list);
  EXPECT_NE(out.find("Via: SIP/2.0/UDP 127.0.0.1:40001;branch=z9hG4bKy\r\n"), std::string::npos);
  EXPECT_NE(out.find("Record-Route: <sip:lb.example.net:5060;lr>\r\n"), std::string::npos);
  EXPECT_NE(out.find("Route: <sip:p2.example.com;lr>\r\n"), std::string::npos);
  EXPECT_EQ(out.find("<sip:lb.example.net;lr>"), std::string::npos) << "our Route was not popped";
}

TEST(ForwarderTest, RouteHandling) {
  char scratch[kForwardScratchSize];
  GatherList list;
  Message m;
  // A Route header holding only us disappears; a Route naming someone else stays.
  std::string one(kRequest);
  one.replace(one.find(", <sip:p2.example.com;lr>"), 25, "");
  ASSERT_EQ(Parse(one, ParseLimits(), &m), ParseError::kOk);
  ASSERT_EQ(ForwardRequest(m, Options(), scratch, &list), ForwardError::kOk);
  EXPECT_EQ(Flat(list).find("Route:"), std::string::npos);

  ForwardOptions other = Options();
  other.local_port = 5070;  // the route names port 5060: not us
  ASSERT_EQ(ForwardRequest(m, other, scratch, &list), ForwardError::kOk);
  EXPECT_NE(Flat(list).find("Route: <sip:lb.example.net;lr>\r\n"), std::string::npos);

  EXPECT_TRUE(RouteNamesUs(m.routes[0], "LB.example.NET", 5060));
  EXPECT_FALSE(RouteNamesUs(m.routes[0], "lb.example.net", 5061));
}

TEST(ForwarderTest, MaxForwardsAndContentLengthAdded) {
  Message m;
  const std::string_view bare =
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
      "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\nbody";
  ASSERT_EQ(Parse(bare, ParseLimits(), &m), ParseError::kOk);
  char scratch[kForwardScratchSize];
  GatherList list;
  ASSERT_EQ(ForwardRequest(m, Options(), scratch, &list), ForwardError::kOk);
  const std::string out = Flat(list);
  Message r;
  ASSERT_EQ(Parse(out, ParseLimits(), &r), ParseError::kOk) << out;
  EXPECT_EQ(r.max_forwards, 70);
  EXPECT_EQ(r.content_length, 4);
  EXPECT_EQ(r.body, "body");
  // The stateless branch is the RFC 2543 hash: stable for the same request.
  char b1[kStatelessBranchSize], b2[kStatelessBranchSize];
  EXPECT_EQ(StatelessBranch(m, b1), StatelessBranch(m, b2));
  EXPECT_EQ(r.vias[0].branch, StatelessBranch(m, b1));
  EXPECT_TRUE(r.vias[0].HasRfc3261Branch());
}

TEST(ForwarderTest, ErrorsAndSmallScratch) {
  Message m;
  char scratch[kForwardScratchSize];
  GatherList list;
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &m), ParseError::kOk);
  EXPECT_EQ(ForwardRequest(m, Options(), std::span<char>(scratch, 20), &list), ForwardError::kScratchTooSmall);
  EXPECT_EQ(list.count, 0u);
  EXPECT_EQ(ForwardResponse(m, &list), ForwardError::kNotResponse);
  ASSERT_EQ(Parse(std::string(kRequest).replace(kRequest.find("70"), 2, "0"), ParseLimits(), &m), ParseError::kOk);
  EXPECT_EQ(ForwardRequest(m, Options(), scratch, &list), ForwardError::kTooManyHops);
  // A message that did not parse is not forwarded on a guess.
  EXPECT_NE(Parse("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nMax-Forwards: x\r\n\r\n", ParseLimits(), &m),
            ParseError::kOk);
  EXPECT_EQ(ForwardRequest(m, Options(), scratch, &list), ForwardError::kIncomplete);
  char small[10];
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &m), ParseError::kOk);
  ASSERT_EQ(ForwardRequest(m, Options(), scratch, &list), ForwardError::kOk);
  EXPECT_EQ(Flatten(list, small), 0u);
}

// A request already at Message's Via capacity is not forwarded (its responses could not be
// parsed on the way back); the verdict answers it with 513.
TEST(ForwarderTest, RefusesToExceedCapacity) {
  std::string m = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (size_t i = 0; i < kMaxVias; ++i) m += "Via: SIP/2.0/UDP h" + std::to_string(i) + ";branch=z9hG4bK" + std::to_string(i) + "\r\n";
  m += "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  auto msg = std::make_unique<Message>();
  ParseLimits limits;
  limits.max_headers = kMaxHeaders;
  ASSERT_EQ(Parse(m, limits, msg.get()), ParseError::kOk);
  ASSERT_EQ(msg->via_count, kMaxVias);
  char scratch[kForwardScratchSize];
  GatherList list;
  EXPECT_EQ(ForwardRequest(*msg, Options(), scratch, &list), ForwardError::kTooManyValues);
  const Verdict v = CheckRequest(*msg, ParseError::kOk, CheckOptions());
  EXPECT_EQ(v.action, Verdict::Action::kRespond);
  EXPECT_EQ(v.status, 513);
}

TEST(ForwarderTest, ResponsePopsTopVia) {
  Message m;
  GatherList list;
  const std::string_view multi =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP lb;branch=z9hG4bKa , SIP/2.0/UDP c;branch=z9hG4bKb\r\n"
      "Via: SIP/2.0/UDP d\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(Parse(multi, ParseLimits(), &m), ParseError::kOk);
  ASSERT_EQ(ForwardResponse(m, &list), ForwardError::kOk);
  EXPECT_EQ(Flat(list),
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP c;branch=z9hG4bKb\r\n"
            "Via: SIP/2.0/UDP d\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  const std::string_view single =
      "SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP lb\r\nv: SIP/2.0/UDP c\r\nl: 0\r\n\r\n";
  ASSERT_EQ(Parse(single, ParseLimits(), &m), ParseError::kOk);
  ASSERT_EQ(ForwardResponse(m, &list), ForwardError::kOk);
  EXPECT_EQ(Flat(list), "SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP c\r\nl: 0\r\n\r\n");
}

// Counts the headers of each id, so the round trip can check that only intended ones changed.
std::vector<std::string> HeaderLines(const Message& m) {
  std::vector<std::string> lines;
  for (uint16_t i = 0; i < m.header_count; ++i) {
    lines.emplace_back(m.buffer.substr(m.headers[i].offset, m.headers[i].length));
  }
  return lines;
}

TEST(ForwarderTest, TortureRoundTrip) {
  auto in = std::make_unique<Message>();
  auto out = std::make_unique<Message>();
  int requests = 0, responses = 0;
  for (const auto& e : testing::ReadTortureManifest()) {
    SCOPED_TRACE(e.file);
    const std::string bytes = testing::ReadTortureFile(e.file);
    const ParseError err = Parse(bytes, ParseLimits(), in.get());
    if (err != ParseError::kOk) continue;
    char scratch[kForwardScratchSize];
    GatherList list;
    if (in->IsRequest()) {
      if (in->max_forwards == 0) continue;
      ForwardOptions o = Options();
      o.record_route = true;
      o.record_route_param = "be=1";
      ASSERT_EQ(ForwardRequest(*in, o, scratch, &list), ForwardError::kOk);
      ++requests;
    } else {
      ASSERT_EQ(ForwardResponse(*in, &list), ForwardError::kOk);
      ++responses;
    }
    const std::string flat = Flat(list);
    ASSERT_EQ(Parse(flat, ParseLimits(), out.get()), ParseError::kOk) << flat;
    // Preserved.
    EXPECT_EQ(out->call_id, in->call_id);
    EXPECT_EQ(out->cseq.number, in->cseq.number);
    EXPECT_EQ(out->cseq.method, in->cseq.method);
    EXPECT_EQ(out->from.has_tag, in->from.has_tag);
    EXPECT_EQ(out->from.tag, in->from.tag);
    EXPECT_EQ(out->to.tag, in->to.tag);
    EXPECT_EQ(out->body, in->body);
    EXPECT_TRUE(out->trailing.empty());
    EXPECT_EQ(out->start_line, in->start_line);
    // Changed as intended, and nothing else: every original header line survives byte for byte
    // except the edited ones, in order.
    const std::vector<std::string> before = HeaderLines(*in);
    const std::vector<std::string> after = HeaderLines(*out);
    size_t j = 0;
    size_t unmatched_before = 0;
    for (const std::string& line : before) {
      size_t k = j;
      while (k < after.size() && after[k] != line) ++k;
      if (k == after.size()) {
        ++unmatched_before;
        continue;
      }
      j = k + 1;
    }
    if (in->IsRequest()) {
      ASSERT_EQ(out->via_count, in->via_count + 1);
      EXPECT_EQ(out->vias[0].host, "lb.example.net");
      for (int i = 0; i < in->via_count; ++i) EXPECT_EQ(out->vias[i + 1].value, in->vias[i].value);
      EXPECT_EQ(out->max_forwards, in->max_forwards < 0 ? 70 : in->max_forwards - 1);
      ASSERT_GE(out->record_route_count, 1);
      EXPECT_EQ(out->record_routes[0].uri.host, "lb.example.net");
      EXPECT_EQ(FindUriParam(out->record_routes[0].uri.params, "be"), "1");
      EXPECT_EQ(out->record_route_count, in->record_route_count + 1);
      EXPECT_EQ(out->route_count, in->route_count);  // no corpus Route names us
      // Only Max-Forwards may have changed among the original lines.
      EXPECT_LE(unmatched_before, in->max_forwards < 0 ? 0u : 1u);
      const size_t added = 2 + (in->max_forwards < 0 ? 1 : 0) + (in->content_length < 0 ? 1 : 0);
      EXPECT_EQ(after.size(), before.size() + added);
    } else {
      ASSERT_EQ(out->via_count, in->via_count - 1);
      for (int i = 1; i < in->via_count; ++i) EXPECT_EQ(out->vias[i - 1].value, in->vias[i].value);
      EXPECT_LE(unmatched_before, 1u);
    }
  }
  EXPECT_GT(requests, 30);
  EXPECT_GE(responses, 2);
}

}  // namespace
}  // namespace sipring::sip

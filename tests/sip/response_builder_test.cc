// Tests sip/response_builder.h: required headers, To-tag rules, Retry-After/Unsupported, reason
// override, partial requests, no-Via, too-small buffers, and building in place.
#include "sip/response_builder.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "sip/parser.h"

namespace sipring::sip {
namespace {

constexpr std::string_view kRequest =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP pc33.example.com;branch=z9hG4bKa\r\n"
    "Via: SIP/2.0/TCP first.example.com;branch=z9hG4bKf\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Content-Length: 0\r\n\r\n";

TEST(ResponseBuilderTest, BuildsRequiredHeaders) {
  Message req;
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &req), ParseError::kOk);
  ResponseSpec spec;
  spec.status = 503;
  spec.retry_after = 30;
  spec.to_tag = "xyz";
  char out[1024];
  const BuildResult r = BuildResponse(req, spec, out);
  ASSERT_EQ(r.error, BuildError::kOk);
  EXPECT_EQ(std::string_view(out, r.size),
            "SIP/2.0 503 Service Unavailable\r\n"
            "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP pc33.example.com;branch=z9hG4bKa\r\n"
            "Via: SIP/2.0/TCP first.example.com;branch=z9hG4bKf\r\n"
            "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
            "To: Bob <sip:bob@biloxi.example.com>;tag=xyz\r\n"
            "Call-ID: a84b4c76e66710\r\n"
            "CSeq: 314159 INVITE\r\n"
            "Retry-After: 30\r\n"
            "Content-Length: 0\r\n\r\n");
  Message resp;
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  ASSERT_EQ(resp.via_count, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(resp.vias[i].value, req.vias[i].value);
}

TEST(ResponseBuilderTest, UasAnswerCopiesRecordRouteAndCarriesContactAndBody) {
  constexpr std::string_view kViaProxy =
      "INVITE sip:bob@192.0.2.9 SIP/2.0\r\n"
      "Record-Route: <sip:p2.example.com;lr>\r\n"
      "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\r\n"
      "Record-Route: <sip:p1.example.com;lr;sr-be=b0>, <sip:p0.example.com;lr>\r\n"
      "To: <sip:bob@192.0.2.9>\r\n"
      "From: <sip:alice@192.0.2.1>;tag=88\r\n"
      "Call-ID: rr1\r\n"
      "CSeq: 7 INVITE\r\n"
      "Content-Length: 0\r\n\r\n";
  Message req;
  ASSERT_EQ(Parse(kViaProxy, ParseLimits(), &req), ParseError::kOk);
  ResponseSpec spec;
  spec.status = 200;
  spec.to_tag = "t1";
  spec.copy_record_route = true;
  spec.contact = "<sip:uas@192.0.2.9:5070>";
  spec.content_type = "application/sdp";
  spec.body = "v=0\r\n";
  char out[1024];
  BuildResult r = BuildResponse(req, spec, out);
  ASSERT_EQ(r.error, BuildError::kOk);
  EXPECT_EQ(std::string_view(out, r.size),
            "SIP/2.0 200 OK\r\n"
            "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\r\n"
            "Record-Route: <sip:p2.example.com;lr>\r\n"
            "Record-Route: <sip:p1.example.com;lr;sr-be=b0>, <sip:p0.example.com;lr>\r\n"
            "From: <sip:alice@192.0.2.1>;tag=88\r\n"
            "To: <sip:bob@192.0.2.9>;tag=t1\r\n"
            "Call-ID: rr1\r\n"
            "CSeq: 7 INVITE\r\n"
            "Contact: <sip:uas@192.0.2.9:5070>\r\n"
            "Content-Type: application/sdp\r\n"
            "Content-Length: 5\r\n\r\n"
            "v=0\r\n");
  Message resp;
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  EXPECT_EQ(resp.record_route_count, 3);
  EXPECT_EQ(resp.body, "v=0\r\n");

  // Without copy_record_route the Record-Routes stay out (a 100, a BYE's 200).
  spec = ResponseSpec();
  spec.status = 100;
  r = BuildResponse(req, spec, out);
  ASSERT_EQ(r.error, BuildError::kOk);
  EXPECT_EQ(std::string_view(out, r.size).find("Record-Route"), std::string_view::npos);
}

TEST(ResponseBuilderTest, CSeqMethodOverrideKeepsTheNumber) {
  constexpr std::string_view kCancel =
      "CANCEL sip:bob@192.0.2.9 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1\r\n"
      "To: <sip:bob@192.0.2.9>\r\n"
      "From: <sip:alice@192.0.2.1>;tag=88\r\n"
      "Call-ID: c1\r\n"
      "CSeq: 4711 CANCEL\r\n"
      "Content-Length: 0\r\n\r\n";
  Message req;
  ASSERT_EQ(Parse(kCancel, ParseLimits(), &req), ParseError::kOk);
  ResponseSpec spec;
  spec.status = 487;
  spec.reason = "Request Terminated";
  spec.cseq_method = "INVITE";
  char out[1024];
  const BuildResult r = BuildResponse(req, spec, out);
  ASSERT_EQ(r.error, BuildError::kOk);
  Message resp;
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  EXPECT_EQ(resp.status_code, 487);
  EXPECT_EQ(resp.cseq.number, 4711u);
  EXPECT_EQ(resp.cseq.method, "INVITE");
}

TEST(ResponseBuilderTest, ToTagRules) {
  Message req;
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &req), ParseError::kOk);
  char out[1024];
  ResponseSpec spec;
  spec.status = 100;  // 100 never gets a To-tag
  BuildResult r = BuildResponse(req, spec, out);
  ASSERT_EQ(r.error, BuildError::kOk);
  Message resp;
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  EXPECT_FALSE(resp.to.has_tag);
  EXPECT_EQ(resp.reason, "Trying");

  spec.status = 404;  // derived tag: stable across retransmissions
  r = BuildResponse(req, spec, out);
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  ASSERT_TRUE(resp.to.has_tag);
  const std::string tag1(resp.to.tag);
  EXPECT_EQ(tag1.size(), 16u);
  r = BuildResponse(req, spec, out);
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  EXPECT_EQ(resp.to.tag, tag1);

  // A prefix goes before the same derived hash (the proxy marks its own answers with it).
  spec.to_tag_prefix = "sr0123abcd";
  r = BuildResponse(req, spec, out);
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  EXPECT_EQ(resp.to.tag, "sr0123abcd" + tag1);
  spec.to_tag_prefix = {};

  // An existing To-tag is kept, not doubled.
  std::string tagged(kRequest);
  tagged.replace(tagged.find("biloxi.example.com>"), 19, "biloxi.example.com>;tag=have");
  ASSERT_EQ(Parse(tagged, ParseLimits(), &req), ParseError::kOk);
  r = BuildResponse(req, spec, out);
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  EXPECT_EQ(resp.to.tag, "have");
}

TEST(ResponseBuilderTest, EveryProxyStatus) {
  Message req;
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &req), ParseError::kOk);
  for (int status : {100, 400, 403, 404, 408, 413, 414, 416, 420, 480, 482, 483, 500, 501, 503, 505, 513}) {
    char out[1024];
    ResponseSpec spec;
    spec.status = status;
    const BuildResult r = BuildResponse(req, spec, out);
    ASSERT_EQ(r.error, BuildError::kOk) << status;
    Message resp;
    ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk) << status;
    EXPECT_EQ(resp.status_code, status);
    EXPECT_EQ(resp.reason, DefaultReason(status));
    EXPECT_NE(resp.reason, "Unknown");
    EXPECT_EQ(resp.cseq.number, 314159u);
    EXPECT_EQ(resp.call_id, "a84b4c76e66710");
    EXPECT_EQ(resp.from.tag, "1928301774");
  }
}

TEST(ResponseBuilderTest, ReasonOverrideAndUnsupported) {
  Message req;
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &req), ParseError::kOk);
  ResponseSpec spec;
  spec.status = 420;
  const std::string_view tags[] = {"foo", "bar"};
  spec.unsupported = tags;
  spec.reason = "Bad Extension (foo)";
  char out[1024];
  const BuildResult r = BuildResponse(req, spec, out);
  ASSERT_EQ(r.error, BuildError::kOk);
  Message resp;
  ASSERT_EQ(Parse(std::string_view(out, r.size), ParseLimits(), &resp), ParseError::kOk);
  EXPECT_EQ(resp.reason, "Bad Extension (foo)");
  ASSERT_NE(resp.Find(HeaderId::kUnsupported), nullptr);
  EXPECT_EQ(resp.Find(HeaderId::kUnsupported)->value, "foo, bar");
}

TEST(ResponseBuilderTest, PartialRequestsAndErrors) {
  Message req;
  char out[1024];
  ResponseSpec spec;
  spec.status = 400;
  // Bad CSeq and an unfinished header section: still answerable.
  const std::string_view partial =
      "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nCSeq: banana\r\nCall-ID: c\r\n";
  EXPECT_NE(Parse(partial, ParseLimits(), &req), ParseError::kOk);
  BuildResult r = BuildResponse(req, spec, out);
  ASSERT_EQ(r.error, BuildError::kOk);
  EXPECT_NE(std::string_view(out, r.size).find("CSeq: banana\r\n"), std::string_view::npos);
  EXPECT_NE(std::string_view(out, r.size).find("Call-ID: c\r\n"), std::string_view::npos);
  // No Via: no response possible.
  EXPECT_NE(Parse("INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n", ParseLimits(), &req), ParseError::kIncomplete);
  EXPECT_EQ(BuildResponse(req, spec, out).error, BuildError::kNoVia);
  // Garbage start line, but a Via: still answerable.
  EXPECT_EQ(Parse("garbage\r\nVia: SIP/2.0/UDP h\r\n\r\n", ParseLimits(), &req), ParseError::kBadStartLine);
  EXPECT_EQ(BuildResponse(req, spec, out).error, BuildError::kOk);
  // Too small.
  ASSERT_EQ(Parse(kRequest, ParseLimits(), &req), ParseError::kOk);
  EXPECT_EQ(BuildResponse(req, spec, std::span<char>(out, 40)).error, BuildError::kNoSpace);
  spec.status = 99;
  EXPECT_EQ(BuildResponse(req, spec, out).error, BuildError::kBadStatus);
}

// Building into the request's own buffer gives the same bytes as building elsewhere, both when
// direct memmove is safe and when the builder must use its scratch (headers out of order).
TEST(ResponseBuilderTest, InPlace) {
  const std::string reordered =
      "OPTIONS sip:a@b SIP/2.0\r\n"
      "Call-ID: early-call-id\r\n"
      "CSeq: 7 OPTIONS\r\n"
      "To: <sip:a@b>\r\n"
      "From: <sip:c@d>;tag=f\r\n"
      "Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
      "Content-Length: 0\r\n\r\n";
  for (const std::string& original : {std::string(kRequest), reordered}) {
    for (int status : {100, 483, 503}) {
      Message req;
      ASSERT_EQ(Parse(original, ParseLimits(), &req), ParseError::kOk);
      ResponseSpec spec;
      spec.status = status;
      spec.retry_after = status == 503 ? 5 : -1;
      spec.reason = status == 483 ? "Too Many Hops (a long reason phrase to push the start line past the request line)" : "";
      char separate[2048];
      const BuildResult want = BuildResponse(req, spec, separate);
      ASSERT_EQ(want.error, BuildError::kOk);
      std::string buffer = original;
      buffer.resize(std::max(buffer.size(), want.size) + 16, '#');
      ASSERT_EQ(Parse(std::string_view(buffer.data(), original.size()), ParseLimits(), &req), ParseError::kOk);
      const BuildResult got = BuildResponse(req, spec, std::span<char>(buffer.data(), buffer.size()));
      ASSERT_EQ(got.error, BuildError::kOk);
      EXPECT_EQ(std::string_view(buffer.data(), got.size), std::string_view(separate, want.size))
          << "status " << status;
    }
  }
}

}  // namespace
}  // namespace sipring::sip

// Tests sip/parser.h: start lines, header indexing (full/compact names, case, folding), the
// structured headers a proxy needs, body framing, limits, and the torture corpus' values.
#include "sip/parser.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/sip/torture_corpus.h"

namespace sipring::sip {
namespace {

using testing::ReadTortureFile;

constexpr std::string_view kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Route: <sip:p1.example.com;lr>, <sip:p2.example.com:5070;lr;x=1>\r\n"
    "X-Custom: hello\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

TEST(ParserTest, ParsesRequest) {
  Message m;
  ASSERT_EQ(Parse(kInvite, ParseLimits(), &m), ParseError::kOk);
  EXPECT_TRUE(m.IsRequest());
  EXPECT_EQ(m.method, "INVITE");
  EXPECT_EQ(m.request_uri_text, "sip:bob@biloxi.example.com");
  EXPECT_EQ(m.request_uri.user, "bob");
  EXPECT_EQ(m.request_uri.host, "biloxi.example.com");
  EXPECT_EQ(m.header_count, 11);
  ASSERT_EQ(m.via_count, 1);
  EXPECT_EQ(m.vias[0].transport, "UDP");
  EXPECT_EQ(m.vias[0].host, "pc33.atlanta.example.com");
  EXPECT_EQ(m.vias[0].port, 5060);
  EXPECT_EQ(m.vias[0].branch, "z9hG4bK776asdhds");
  EXPECT_TRUE(m.vias[0].has_rport);
  EXPECT_EQ(m.max_forwards, 70);
  EXPECT_EQ(m.to.display_name, "Bob");
  EXPECT_FALSE(m.to.has_tag);
  EXPECT_EQ(m.from.tag, "1928301774");
  EXPECT_EQ(m.from.display_name, "\"Alice\"");
  EXPECT_EQ(m.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
  EXPECT_EQ(m.cseq.number, 314159u);
  EXPECT_EQ(m.cseq.method, "INVITE");
  ASSERT_EQ(m.contact_count, 1);
  EXPECT_EQ(m.contacts[0].uri, "sip:alice@pc33.atlanta.example.com");
  ASSERT_EQ(m.route_count, 2);
  EXPECT_EQ(m.routes[0].uri.host, "p1.example.com");
  EXPECT_TRUE(m.routes[0].uri.lr);
  EXPECT_EQ(m.routes[1].uri.port, 5070);
  EXPECT_EQ(m.routes[1].addr.header_index, m.routes[0].addr.header_index);
  EXPECT_EQ(m.content_length, 4);
  EXPECT_EQ(m.body, "v=0\n");
  EXPECT_TRUE(m.trailing.empty());
  ASSERT_NE(m.FindByName("x-custom"), nullptr);
  EXPECT_EQ(m.FindByName("X-CUSTOM")->value, "hello");
  EXPECT_EQ(m.FindByName("call-id"), m.Find(HeaderId::kCallId));
  EXPECT_EQ(m.FindByName("i"), m.Find(HeaderId::kCallId));
  EXPECT_EQ(m.FindByName("X-Absent"), nullptr);
  // Header offsets cover whole lines.
  const Header* h = m.Find(HeaderId::kMaxForwards);
  EXPECT_EQ(kInvite.substr(h->offset, h->length), "Max-Forwards: 70\r\n");
}

TEST(ParserTest, ParsesResponse) {
  constexpr std::string_view kOk =
      "SIP/2.0 200 OK\r\n"
      "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2;received=192.0.2.1\r\n"
      "f: <sip:a@example.com>;tag=1\r\n"
      "t: <sip:b@example.com>;tag=2\r\n"
      "i: abc\r\n"
      "CSeq: 1 INVITE\r\n"
      "l: 0\r\n"
      "\r\n";
  Message m;
  ASSERT_EQ(Parse(kOk, ParseLimits(), &m), ParseError::kOk);
  EXPECT_TRUE(m.IsResponse());
  EXPECT_EQ(m.status_code, 200);
  EXPECT_EQ(m.reason, "OK");
  ASSERT_EQ(m.via_count, 2);
  EXPECT_EQ(m.vias[1].host, "[2001:db8::1]");
  EXPECT_EQ(m.vias[1].port, 5061);
  EXPECT_EQ(m.vias[1].received, "192.0.2.1");
  EXPECT_EQ(m.Count(HeaderId::kVia), 1);
  EXPECT_EQ(m.to.tag, "2");
  EXPECT_EQ(m.content_length, 0);
}

TEST(ParserTest, HeaderNamesAreCaseInsensitiveWithCompactForms) {
  constexpr std::string_view kMsg =
      "OPTIONS sip:x@example.com SIP/2.0\r\n"
      "VIA: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
      "v: SIP/2.0/UDP h2;branch=z9hG4bKb\r\n"
      "f: <sip:a@b>;tag=t\r\nT: <sip:c@d>\r\nI: id\r\ncseq: 2 OPTIONS\r\nL: 0\r\n\r\n";
  Message m;
  ASSERT_EQ(Parse(kMsg, ParseLimits(), &m), ParseError::kOk);
  EXPECT_EQ(m.Count(HeaderId::kVia), 2);
  EXPECT_EQ(m.via_count, 2);
  EXPECT_EQ(m.vias[1].host, "h2");
  EXPECT_EQ(m.NextSame(m.Find(HeaderId::kVia))->name, "v");
  EXPECT_EQ(m.call_id, "id");
}

// The 16-byte name match (a known name, optional SP/HT, ':') and the byte loop it falls back to
// must index the same lines: names at and past 16 bytes, space before the colon, a line end or
// a fold before the colon, extension headers, and lines too close to the buffer's end for a
// 16-byte load.
TEST(ParserTest, HeaderNamesAtTheFastPathEdges) {
  constexpr std::string_view kMsg =
      "OPTIONS sip:x@example.com SIP/2.0\r\n"
      "Content-Encoding: gzip\r\n"              // 16 bytes: ':' is the 17th
      "Session-Expires \t : 90\r\n"           // ':' past 16 bytes after LWS
      "Expires \t: 5\r\n"                       // LWS before ':' within 16 bytes
      "Max-Forwards:70\r\n"
      "X-Very-Long-Extension-Name: 1\r\n"
      "Via: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
      "f: <sip:a@b>;tag=t\r\nt: <sip:c@d>\r\ni: id\r\nCSeq: 2 OPTIONS\r\n"
      "l:0\r\n\r\n";
  Message m;
  ASSERT_EQ(Parse(kMsg, ParseLimits(), &m), ParseError::kOk);
  ASSERT_NE(m.Find(HeaderId::kContentEncoding), nullptr);
  EXPECT_EQ(m.Find(HeaderId::kContentEncoding)->value, "gzip");
  ASSERT_NE(m.Find(HeaderId::kSessionExpires), nullptr);
  EXPECT_EQ(m.Find(HeaderId::kSessionExpires)->name, "Session-Expires");
  EXPECT_EQ(m.Find(HeaderId::kSessionExpires)->value, "90");
  EXPECT_EQ(m.Find(HeaderId::kExpires)->name, "Expires");
  EXPECT_EQ(m.expires, 5);
  EXPECT_EQ(m.max_forwards, 70);
  EXPECT_EQ(m.FindByName("x-very-long-extension-name")->value, "1");
  EXPECT_EQ(m.content_length, 0);

  // A name whose line ends (or folds) before the colon is a bad line, not "Via".
  EXPECT_EQ(Parse("OPTIONS sip:x@y SIP/2.0\r\nVia\r\n : SIP/2.0/UDP h\r\n\r\n", ParseLimits(), &m),
            ParseError::kBadHeaderLine);
  EXPECT_EQ(Parse("OPTIONS sip:x@y SIP/2.0\r\nTo\r\nCSeq: 1 OPTIONS\r\n\r\n", ParseLimits(), &m),
            ParseError::kBadHeaderLine);
  EXPECT_EQ(m.Count(HeaderId::kCSeq), 1);
  // A CR inside a name never matches the '-' of a known one.
  EXPECT_EQ(Parse("OPTIONS sip:x@y SIP/2.0\r\nCall\rID: a\r\n\r\n", ParseLimits(), &m),
            ParseError::kBadHeaderLine);
  EXPECT_EQ(m.Count(HeaderId::kCallId), 0);
  // The last lines of a buffer with no body: fewer than 16 bytes left for the name.
  ASSERT_EQ(Parse("OPTIONS sip:x@y SIP/2.0\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n", ParseLimits(), &m),
            ParseError::kOk);
  EXPECT_EQ(m.content_length, 0);
}

TEST(ParserTest, WsinvValuesAcrossFoldsAndLws) {
  const std::string bytes = ReadTortureFile("wsinv.dat");
  Message m;
  ASSERT_EQ(Parse(bytes, ParseLimits(), &m), ParseError::kOk);
  EXPECT_EQ(m.max_forwards, 68);
  EXPECT_EQ(m.cseq.number, 9u);
  EXPECT_EQ(m.cseq.method, "INVITE");
  EXPECT_EQ(m.content_length, 150);
  EXPECT_EQ(m.body.size(), 150u);
  ASSERT_EQ(m.via_count, 3);
  EXPECT_EQ(m.vias[0].host, "192.0.2.2");
  EXPECT_EQ(m.vias[0].branch, "390skdjuw");
  EXPECT_EQ(m.vias[1].transport, "TCP");
  EXPECT_EQ(m.vias[1].host, "spindle.example.com");
  EXPECT_EQ(m.vias[1].branch, "z9hG4bK9ikj8");
  EXPECT_EQ(m.vias[2].host, "192.168.255.111");
  EXPECT_EQ(m.vias[2].branch, "z9hG4bK30239");
  EXPECT_EQ(m.to.tag, "1918181833n");
  EXPECT_EQ(m.from.tag, "98asjd8");
  EXPECT_EQ(m.from.display_name, "\"J Rosenberg \\\\\\\"\"");
  ASSERT_NE(m.FindByName("UnknownHeaderWithUnusualValue"), nullptr);
  EXPECT_EQ(m.FindByName("UnknownHeaderWithUnusualValue")->value, ";;,,;;,;");
  ASSERT_NE(m.Find(HeaderId::kSubject), nullptr);
  EXPECT_EQ(m.Find(HeaderId::kSubject)->value, "");
  ASSERT_EQ(m.route_count, 1);
  EXPECT_TRUE(m.routes[0].uri.lr);
  EXPECT_EQ(m.routes[0].uri.host, "services.example.com");
  ASSERT_EQ(m.contact_count, 1);
  EXPECT_EQ(m.contacts[0].uri, "sip:jdrosen@example.com");
}

TEST(ParserTest, TortureSpecificValues) {
  Message m;
  const ParseLimits limits;
  std::string b = ReadTortureFile("longreq.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.via_count, 34);
  EXPECT_EQ(m.content_length, 150);

  b = ReadTortureFile("dblreq.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.method, "REGISTER");
  EXPECT_TRUE(m.body.empty());
  EXPECT_GT(m.trailing.size(), 400u);

  b = ReadTortureFile("semiuri.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.request_uri.user, "user;par=u%40example.net");
  EXPECT_EQ(m.request_uri.host, "example.com");

  b = ReadTortureFile("transports.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  ASSERT_EQ(m.via_count, 5);
  EXPECT_EQ(m.vias[0].transport, "UDP");
  EXPECT_EQ(m.vias[1].transport, "SCTP");
  EXPECT_EQ(m.vias[2].transport, "TLS");
  EXPECT_EQ(m.vias[3].transport, "UNKNOWN");
  EXPECT_EQ(m.vias[4].transport, "TCP");

  b = ReadTortureFile("mpart01.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.body.size(), 553u);

  b = ReadTortureFile("noreason.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.status_code, 100);
  EXPECT_EQ(m.reason, "");

  b = ReadTortureFile("inv2543.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.content_length, -1);
  EXPECT_EQ(m.body.size(), 105u);
  EXPECT_TRUE(m.vias[0].branch.empty());
  EXPECT_EQ(m.max_forwards, -1);

  b = ReadTortureFile("esc02.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.method, "RE%47IST%45R");
  EXPECT_EQ(m.contact_count, 2);  // C%6Fntact is an extension header
  EXPECT_NE(m.FindByName("C%6Fntact"), nullptr);

  b = ReadTortureFile("port-ambiguous.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.request_uri.host, "[2001:db8::10:5070]");
  EXPECT_EQ(m.request_uri.port, 0);

  b = ReadTortureFile("port-unambiguous.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.request_uri.host, "[2001:db8::10]");
  EXPECT_EQ(m.request_uri.port, 5070);

  b = ReadTortureFile("via-received-param-with-delim.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.vias[0].received, "[2001:db8::9:255]");
  b = ReadTortureFile("via-received-param-no-delim.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.vias[0].received, "2001:db8::9:255");

  b = ReadTortureFile("mult-ip-in-header.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  ASSERT_EQ(m.via_count, 3);
  EXPECT_EQ(m.vias[0].host, "[2001:db8::9:1]");
  EXPECT_EQ(m.vias[0].port, 6050);
  EXPECT_EQ(m.vias[2].received, "192.0.2.200");

  b = ReadTortureFile("intmeth.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  EXPECT_EQ(m.request_uri.host, "example.com");
  EXPECT_EQ(m.from.tag, "_token~1'+`*%!-.");

  b = ReadTortureFile("lwsdisp.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kOk);
  EXPECT_EQ(m.from.display_name, "caller");
  EXPECT_EQ(m.from.tag, "323");

  // RFC 5118 §4.6's published Content-Length (268) exceeds the 251-octet body: framing by
  // Content-Length reads it as truncated, but every header still parses (IPv6 everywhere).
  b = ReadTortureFile("ipv6-in-sdp.dat");
  ASSERT_EQ(Parse(b, limits, &m), ParseError::kBodyTruncated);
  EXPECT_TRUE(m.headers_complete);
  EXPECT_EQ(m.request_uri.host, "[2001:db8::10]");
  EXPECT_EQ(m.vias[0].host, "[2001:db8::20]");
}

TEST(ParserTest, BodyFraming) {
  Message m;
  std::string msg(kInvite);
  msg += "trailing";
  ASSERT_EQ(Parse(msg, ParseLimits(), &m), ParseError::kOk);
  EXPECT_EQ(m.body, "v=0\n");
  EXPECT_EQ(m.trailing, "trailing");
  // Short body.
  const std::string_view shorter = kInvite.substr(0, kInvite.size() - 2);
  EXPECT_EQ(Parse(shorter, ParseLimits(), &m), ParseError::kBodyTruncated);
  EXPECT_EQ(m.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
}

TEST(ParserTest, MalformedInputs) {
  Message m;
  const ParseLimits l;
  EXPECT_EQ(Parse("", l, &m), ParseError::kIncomplete);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\n", l, &m), ParseError::kIncomplete);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n", l, &m), ParseError::kIncomplete);
  EXPECT_EQ(m.via_count, 1);  // best effort: what was there is indexed
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/3.0\r\n\r\n", l, &m), ParseError::kBadVersion);
  EXPECT_EQ(Parse("INVITE sip:a@b HTTP/1.1\r\n\r\n", l, &m), ParseError::kBadStartLine);
  EXPECT_EQ(Parse("INVITE <sip:a@b> SIP/2.0\r\n\r\n", l, &m), ParseError::kBadRequestUri);
  EXPECT_EQ(Parse("SIP/2.0 1000 Huge\r\n\r\n", l, &m), ParseError::kBadStatusCode);
  EXPECT_EQ(Parse("SIP/2.0 099 Low\r\n\r\n", l, &m), ParseError::kBadStatusCode);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n", l, &m), ParseError::kBadHeaderLine);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nCSeq: x INVITE\r\n\r\n", l, &m), ParseError::kBadCSeq);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nCSeq: 4294967296 INVITE\r\n\r\n", l, &m), ParseError::kBadCSeq);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nCSeq: 4294967295 INVITE\r\n\r\n", l, &m), ParseError::kOk);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nMax-Forwards: 256\r\n\r\n", l, &m), ParseError::kBadMaxForwards);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nl: -1\r\n\r\n", l, &m), ParseError::kBadContentLength);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nRoute: sip:x@y\r\n\r\n", l, &m), ParseError::kBadRoute);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nRecord-Route: <sip:x@y:99999>\r\n\r\n", l, &m),
            ParseError::kBadRecordRoute);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP\r\n\r\n", l, &m), ParseError::kBadVia);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h,\r\n\r\n", l, &m), ParseError::kBadVia);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nTo: \"x <sip:a@b>\r\n\r\n", l, &m), ParseError::kBadTo);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nFrom: x\r\n\r\n", l, &m), ParseError::kBadFrom);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nCall-ID: a b\r\n\r\n", l, &m), ParseError::kBadCallId);
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nExpires: 99999999999\r\n\r\n", l, &m), ParseError::kBadExpires);
  // A NUL inside the start line or a lone CR never reads past the buffer.
  const std::string nul("INVITE sip:a@b\0 SIP/2.0\r\n\r\n", 27);
  EXPECT_NE(Parse(nul, l, &m), ParseError::kOk);
  EXPECT_NE(Parse("\r", l, &m), ParseError::kOk);
  EXPECT_NE(Parse("\n\n", l, &m), ParseError::kOk);
}

TEST(ParserTest, LimitsAreDistinctErrors) {
  Message m;
  ParseLimits l;
  l.max_message_size = 200;
  EXPECT_EQ(Parse(kInvite, l, &m), ParseError::kMessageTooLarge);
  EXPECT_EQ(ResponseFor(ParseError::kMessageTooLarge).status, 513);
  EXPECT_GE(m.via_count, 1);  // enough was indexed to answer

  l = ParseLimits();
  l.max_headers = 5;
  EXPECT_EQ(Parse(kInvite, l, &m), ParseError::kTooManyHeaders);
  EXPECT_EQ(m.header_count, 5);
  EXPECT_EQ(ResponseFor(ParseError::kTooManyHeaders).status, 513);

  l = ParseLimits();
  l.max_header_length = 40;
  EXPECT_EQ(Parse(kInvite, l, &m), ParseError::kHeaderTooLong);
  EXPECT_EQ(ResponseFor(ParseError::kHeaderTooLong).status, 513);

  l = ParseLimits();
  l.max_uri_length = 10;
  EXPECT_EQ(Parse(kInvite, l, &m), ParseError::kUriTooLong);
  EXPECT_EQ(ResponseFor(ParseError::kUriTooLong).status, 414);

  l = ParseLimits();
  l.max_body_size = 3;
  EXPECT_EQ(Parse(kInvite, l, &m), ParseError::kBodyTooLarge);
  EXPECT_EQ(ResponseFor(ParseError::kBodyTooLarge).status, 413);

  // Over the compile-time capacity of Via values.
  std::string many = "OPTIONS sip:a@b SIP/2.0\r\nVia: ";
  for (size_t i = 0; i <= kMaxVias; ++i) many += (i ? ", " : "") + std::string("SIP/2.0/UDP h");
  many += "\r\n\r\n";
  EXPECT_EQ(Parse(many, ParseLimits(), &m), ParseError::kTooManyValues);

  // The limit error wins over a syntax error met earlier.
  l = ParseLimits();
  l.max_message_size = 60;
  EXPECT_EQ(Parse("INVITE sip:a@b SIP/2.0\r\nCSeq: x\r\nX: " + std::string(100, 'a') + "\r\n\r\n", l, &m),
            ParseError::kMessageTooLarge);
}

TEST(ParserTest, StatusAtTheBoundary) {
  EXPECT_TRUE(ToStatus(ParseError::kOk).ok());
  EXPECT_EQ(ToStatus(ParseError::kBodyTooLarge).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ToStatus(ParseError::kBadVia).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseErrorName(ParseError::kBadCSeq), "bad CSeq");
}

}  // namespace
}  // namespace sipring::sip

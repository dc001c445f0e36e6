// Tests sip/request_check.h, and walks the whole torture corpus (MANIFEST.tsv): every message
// must have an expected parse result and verdict here, and the verdict must match. Messages the
// RFC says an element answers get their response built and checked (response_builder.h).
#include "sip/request_check.h"

#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "sip/parser.h"
#include "sip/response_builder.h"
#include "tests/sip/torture_corpus.h"

namespace sipring::sip {
namespace {

using testing::ReadTortureFile;
using testing::ReadTortureManifest;
using testing::TortureEntry;
using Action = Verdict::Action;

struct Expectation {
  ParseError parse;     // what Parse() must return
  Action action;        // the verdict
  int status;           // kRespond: the status code
  const char* reason;   // kRespond: substring the reason must contain ("" = any)
};

constexpr Expectation Fwd() { return {ParseError::kOk, Action::kForward, 0, ""}; }

// One row per corpus file. Why each verdict is right is in MANIFEST.tsv's note; where the RFC
// lets an element choose, the choice is commented.
const std::map<std::string, Expectation>& Expected() {
  static const auto* table = new std::map<std::string, Expectation>{
      // RFC 4475 3.1.1: valid.
      {"wsinv.dat", Fwd()},
      {"intmeth.dat", Fwd()},  // a proxy forwards unknown methods
      {"esc01.dat", Fwd()},
      {"escnull.dat", Fwd()},
      {"esc02.dat", Fwd()},
      {"lwsdisp.dat", Fwd()},
      {"longreq.dat", Fwd()},
      {"dblreq.dat", Fwd()},  // trailing octets ignored (checked in forwarder_test)
      {"semiuri.dat", Fwd()},
      {"transports.dat", Fwd()},
      {"mpart01.dat", Fwd()},
      {"unreason.dat", Fwd()},
      {"noreason.dat", Fwd()},
      // RFC 4475 3.1.2: invalid.
      {"badinv01.dat", {ParseError::kBadVia, Action::kRespond, 400, "Via"}},
      {"clerr.dat", {ParseError::kBodyTruncated, Action::kRespond, 400, "Content-Length"}},
      {"ncl.dat", {ParseError::kBadContentLength, Action::kRespond, 400, "Content-Length"}},
      {"scalar02.dat", {ParseError::kBadCSeq, Action::kRespond, 400, "CSeq"}},
      {"scalarlg.dat", {ParseError::kBadCSeq, Action::kDrop, 0, ""}},
      {"quotbal.dat", {ParseError::kBadTo, Action::kRespond, 400, "To"}},
      {"ltgtruri.dat", {ParseError::kBadRequestUri, Action::kRespond, 400, "Request-URI"}},
      // lwsruri, lwsstart, trws: the strict choice (400) the RFC calls reasonable.
      {"lwsruri.dat", {ParseError::kBadStartLine, Action::kRespond, 400, "request line"}},
      {"lwsstart.dat", {ParseError::kBadStartLine, Action::kRespond, 400, "request line"}},
      {"trws.dat", {ParseError::kBadStartLine, Action::kRespond, 400, "request line"}},
      {"escruri.dat", {ParseError::kOk, Action::kRespond, 400, "Request-URI"}},
      {"baddate.dat", {ParseError::kOk, Action::kRespond, 400, "Date"}},
      {"regbadct.dat", {ParseError::kBadContact, Action::kRespond, 400, "Contact"}},
      {"badaspec.dat", {ParseError::kBadTo, Action::kRespond, 400, "To"}},
      {"baddn.dat", {ParseError::kBadFrom, Action::kRespond, 400, "From"}},
      {"badvers.dat", {ParseError::kBadVersion, Action::kRespond, 505, "Version"}},
      {"mismatch01.dat", {ParseError::kOk, Action::kRespond, 400, "CSeq"}},
      {"mismatch02.dat", {ParseError::kOk, Action::kRespond, 501, "Not Implemented"}},
      {"bigcode.dat", {ParseError::kBadStatusCode, Action::kDrop, 0, ""}},
      // RFC 4475 3.2 / 3.3: parse, then the transaction/application layer decides.
      {"badbranch.dat", {ParseError::kOk, Action::kRespond, 400, "branch"}},
      {"insuf.dat", {ParseError::kOk, Action::kRespond, 400, "missing"}},
      {"unkscm.dat", {ParseError::kOk, Action::kRespond, 416, "Scheme"}},
      {"novelsc.dat", {ParseError::kOk, Action::kRespond, 416, "Scheme"}},
      {"unksm2.dat", Fwd()},  // proxies treat it normally
      {"bext01.dat", {ParseError::kOk, Action::kRespond, 420, "Extension"}},
      {"invut.dat", Fwd()},
      {"regaut01.dat", Fwd()},
      {"multi01.dat", {ParseError::kOk, Action::kRespond, 400, "duplicate"}},
      // Framing is impossible: the parser itself reports it (the headers are all indexed).
      {"mcl01.dat", {ParseError::kBadContentLength, Action::kRespond, 400, "Content-Length"}},
      {"bcast.dat", {ParseError::kOk, Action::kDrop, 0, ""}},
      {"zeromf.dat", {ParseError::kOk, Action::kRespond, 483, "Too Many Hops"}},
      {"cparam01.dat", Fwd()},
      {"cparam02.dat", Fwd()},
      {"regescrt.dat", Fwd()},
      {"sdp01.dat", Fwd()},  // 406 is a UAS's answer; a proxy does not read Accept
      {"inv2543.dat", Fwd()},
      // RFC 5118.
      {"ipv6-good.dat", Fwd()},
      {"ipv6-bad.dat", {ParseError::kBadRequestUri, Action::kRespond, 400, "Request-URI"}},
      {"port-ambiguous.dat", Fwd()},
      {"port-unambiguous.dat", Fwd()},
      {"via-received-param-with-delim.dat", Fwd()},
      {"via-received-param-no-delim.dat", Fwd()},
      // Published Content-Length 268 > 251 body octets (an RFC defect, see README): framing by
      // Content-Length over a datagram reads it as truncated. Its headers are checked in
      // parser_test (TortureSpecificValues).
      {"ipv6-in-sdp.dat", {ParseError::kBodyTruncated, Action::kRespond, 400, "Content-Length"}},
      {"mult-ip-in-header.dat", Fwd()},
      {"mult-ip-in-sdp.dat", Fwd()},    // Content-Length shorter than the body: rest is trailing
      {"ipv4-mapped-ipv6.dat", Fwd()},  // same
      {"ipv6-bug-abnf-3-colons.dat", Fwd()},
      {"ipv6-correct-abnf-2-colons.dat", Fwd()},
  };
  return *table;
}

Verdict Judge(const Message& m, ParseError err) {
  static const CheckOptions options;
  return m.IsResponse() ? CheckResponse(m, err) : CheckRequest(m, err, options);
}

TEST(RequestCheckTest, EveryTortureMessageGetsItsVerdict) {
  const std::vector<TortureEntry> manifest = ReadTortureManifest();
  ASSERT_EQ(manifest.size(), 61u) << "manifest not found under " << testing::TortureDir();
  std::set<std::string> covered;
  auto message = std::make_unique<Message>();
  for (const TortureEntry& e : manifest) {
    SCOPED_TRACE(e.file + " (" + e.expected + "): " + e.note);
    const auto it = Expected().find(e.file);
    ASSERT_NE(it, Expected().end()) << "no expectation for " << e.file;
    covered.insert(e.file);
    const Expectation& want = it->second;
    const std::string bytes = ReadTortureFile(e.file);
    ASSERT_FALSE(bytes.empty());
    const ParseError err = Parse(bytes, ParseLimits(), message.get());
    EXPECT_EQ(err, want.parse) << ParseErrorName(err);
    // The manifest's categories: valid messages parse (bar the RFC 5118 defect), and a message
    // with only a semantic error has every header indexed.
    if (e.expected == "valid" && e.file != "ipv6-in-sdp.dat") {
      EXPECT_EQ(err, ParseError::kOk);
    }
    if (e.expected == "valid-but-semantic-error") {
      EXPECT_TRUE(message->headers_complete);
    }
    if (e.expected == "invalid") {
      EXPECT_NE(want.action, Action::kForward);
    }
    const Verdict v = Judge(*message, err);
    EXPECT_EQ(v.action, want.action);
    if (want.action != Action::kRespond) continue;
    EXPECT_EQ(v.status, want.status);
    EXPECT_NE(v.reason.find(want.reason), std::string_view::npos) << v.reason;

    // The response the builder makes for it: right status line, re-parses, matches the request.
    char out[8192];
    const BuildResult r = BuildResponse(*message, ResponseSpecFor(v), std::span<char>(out));
    ASSERT_EQ(r.error, BuildError::kOk) << e.file;
    const std::string_view response(out, r.size);
    const std::string status_line = "SIP/2.0 " + std::to_string(want.status) + " " + std::string(v.reason) + "\r\n";
    EXPECT_EQ(response.substr(0, status_line.size()), status_line);
    auto parsed = std::make_unique<Message>();
    // The response echoes the request's headers; a malformed one (the fault being answered)
    // re-parses with the same error, anything else must parse cleanly.
    const ParseError reparse = Parse(response, ParseLimits(), parsed.get());
    EXPECT_TRUE(reparse == ParseError::kOk || reparse == err) << ParseErrorName(reparse) << "\n" << response;
    EXPECT_EQ(parsed->status_code, want.status);
    EXPECT_EQ(parsed->via_count, message->via_count);
    EXPECT_EQ(parsed->content_length, 0);
    if (message->Count(HeaderId::kCallId) > 0) {
      EXPECT_EQ(parsed->call_id, message->call_id);
    }
    if (want.status == 420) {
      const Header* u = parsed->Find(HeaderId::kUnsupported);
      ASSERT_NE(u, nullptr);
      EXPECT_EQ(u->value, "noProxiesSupportThis, norDoAnyProxiesSupportThis");
    }
    if (message->Count(HeaderId::kTo) == 1 && err == ParseError::kOk) {
      EXPECT_TRUE(parsed->to.has_tag) << response;
    }
  }
  EXPECT_EQ(covered.size(), Expected().size()) << "table names a file the manifest does not";
}

TEST(RequestCheckTest, SupportedProxyRequireTagsPass) {
  constexpr std::string_view kMsg =
      "OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
      "From: <sip:a@b>;tag=t\r\nTo: <sip:c@d>\r\nCall-ID: id\r\nCSeq: 2 OPTIONS\r\n"
      "Proxy-Require: foo, bar\r\nContent-Length: 0\r\n\r\n";
  Message m;
  ASSERT_EQ(Parse(kMsg, ParseLimits(), &m), ParseError::kOk);
  const std::string_view both[] = {"foo", "BAR"};
  CheckOptions options;
  options.supported_option_tags = both;
  EXPECT_EQ(CheckRequest(m, ParseError::kOk, options).action, Action::kForward);
  const std::string_view one[] = {"foo"};
  options.supported_option_tags = one;
  const Verdict v = CheckRequest(m, ParseError::kOk, options);
  ASSERT_EQ(v.action, Action::kRespond);
  EXPECT_EQ(v.status, 420);
  ASSERT_EQ(v.unsupported_count, 1);
  EXPECT_EQ(v.unsupported[0], "bar");
}

TEST(RequestCheckTest, ResponsesAreNeverAnswered) {
  Message m;
  const std::string_view bad = "SIP/2.0 200 OK\r\nCSeq: x\r\n\r\n";
  const ParseError err = Parse(bad, ParseLimits(), &m);
  EXPECT_EQ(CheckResponse(m, err).action, Action::kDrop);
  EXPECT_EQ(CheckRequest(m, err, CheckOptions()).action, Action::kDrop);
}

}  // namespace
}  // namespace sipring::sip

// Tests sip/stream_framer.h: whole/partial messages, keep-alive CRLFs, pipelining, Content-Length
// (compact, folded, absent, conflicting, negative) and limits, on every split of a message.
#include "sip/stream_framer.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/sip/torture_corpus.h"

namespace sipring::sip {
namespace {

using State = FrameResult::State;

constexpr std::string_view kMsg =
    "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKa\r\nl: 5\r\n\r\nhello";

TEST(StreamFramerTest, WholeAndPartial) {
  const ParseLimits l;
  FrameResult f = FrameStream(kMsg, l);
  ASSERT_EQ(f.state, State::kMessage);
  EXPECT_EQ(f.skip, 0u);
  EXPECT_EQ(f.length, kMsg.size());
  for (size_t cut = 0; cut < kMsg.size(); ++cut) {
    EXPECT_EQ(FrameStream(kMsg.substr(0, cut), l).state, State::kNeedMore) << cut;
  }
}

TEST(StreamFramerTest, KeepAlivesAndPipelining) {
  const std::string stream = "\r\n\r\n" + std::string(kMsg) + "\r\n" + std::string(kMsg);
  FrameResult f = FrameStream(stream, ParseLimits());
  ASSERT_EQ(f.state, State::kMessage);
  EXPECT_EQ(f.skip, 4u);
  EXPECT_EQ(stream.substr(f.skip, f.length), kMsg);
  const std::string rest = stream.substr(f.skip + f.length);
  f = FrameStream(rest, ParseLimits());
  ASSERT_EQ(f.state, State::kMessage);
  EXPECT_EQ(f.skip, 2u);
  EXPECT_EQ(rest.substr(f.skip, f.length), kMsg);
  f = FrameStream("\r\n\r\n", ParseLimits());
  EXPECT_EQ(f.state, State::kNeedMore);
  EXPECT_EQ(f.skip, 4u);
}

TEST(StreamFramerTest, ContentLengthForms) {
  const ParseLimits l;
  EXPECT_EQ(FrameStream("OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\nextra", l).length,
            std::string_view("OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n").size());  // absent: 0
  FrameResult f = FrameStream("OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n  3\r\n\r\nabc", l);
  ASSERT_EQ(f.state, State::kMessage);
  EXPECT_EQ(f.length, 52u);
  f = FrameStream("OPTIONS sip:a@b SIP/2.0\r\ncontent-length : 3\r\nCONTENT-LENGTH: 3\r\n\r\nabc", l);
  EXPECT_EQ(f.state, State::kMessage);
  f = FrameStream("OPTIONS sip:a@b SIP/2.0\r\nl: 3\r\nl: 4\r\n\r\nabcd", l);
  EXPECT_EQ(f.state, State::kError);
  EXPECT_EQ(f.error, ParseError::kBadContentLength);
  f = FrameStream("OPTIONS sip:a@b SIP/2.0\r\nl: -3\r\n\r\n", l);
  EXPECT_EQ(f.state, State::kError);
  // A header that only starts with "l" or "c" is not Content-Length.
  f = FrameStream("OPTIONS sip:a@b SIP/2.0\r\nContact: <sip:x>\r\nLocation: 9\r\n\r\n", l);
  EXPECT_EQ(f.state, State::kMessage);
}

// Bare-LF line ends frame where Parse() ends the header section (found by the fuzzer).
TEST(StreamFramerTest, BareLineFeedsAgreeWithParser) {
  const ParseLimits l;
  for (std::string_view m : {std::string_view("OPTIONS sip:a@b SIP/2.0\nl: 2\n\nab"),
                             std::string_view("OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\n\nab"),
                             std::string_view("OPTIONS sip:a@b SIP/2.0\nl: 2\n\r\nab")}) {
    const FrameResult f = FrameStream(m, l);
    ASSERT_EQ(f.state, State::kMessage) << m;
    EXPECT_EQ(f.length, m.size()) << m;
    Message msg;
    ASSERT_EQ(Parse(m, l, &msg), ParseError::kOk);
    EXPECT_EQ(msg.body, "ab");
  }
}

TEST(StreamFramerTest, Limits) {
  ParseLimits l;
  l.max_body_size = 4;
  EXPECT_EQ(FrameStream(kMsg, l).error, ParseError::kBodyTooLarge);
  l = ParseLimits();
  l.max_message_size = 40;
  EXPECT_EQ(FrameStream(kMsg, l).error, ParseError::kMessageTooLarge);
  const std::string endless = "OPTIONS sip:a@b SIP/2.0\r\n" + std::string(100, 'x');
  EXPECT_EQ(FrameStream(endless, l).error, ParseError::kMessageTooLarge);
}

TEST(StreamFramerTest, TortureFraming) {
  const ParseLimits l;
  // mpart01's body holds bare CR/LF and NUL: framing is by Content-Length only.
  std::string b = testing::ReadTortureFile("mpart01.dat");
  FrameResult f = FrameStream(b, l);
  ASSERT_EQ(f.state, State::kMessage);
  EXPECT_EQ(f.length, b.size());
  // clerr over a stream: wait for more.
  EXPECT_EQ(FrameStream(testing::ReadTortureFile("clerr.dat"), l).state, State::kNeedMore);
  EXPECT_EQ(FrameStream(testing::ReadTortureFile("ncl.dat"), l).state, State::kError);
  EXPECT_EQ(FrameStream(testing::ReadTortureFile("mcl01.dat"), l).state, State::kError);
  b = testing::ReadTortureFile("dblreq.dat");
  f = FrameStream(b, l);
  ASSERT_EQ(f.state, State::kMessage);
  EXPECT_LT(f.length, b.size());  // the REGISTER only
}

}  // namespace
}  // namespace sipring::sip

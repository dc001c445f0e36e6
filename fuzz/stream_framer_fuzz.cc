// libFuzzer target: the stream framer. Asserts the frame lies inside the input, that framing is
// stable as more bytes arrive (a prefix never yields a different message), and that the framed
// message parses without reading outside its frame.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "sip/parser.h"
#include "sip/stream_framer.h"

namespace sip = sipring::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* msg = new sip::Message();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  sip::ParseLimits limits;
  limits.max_message_size = 8192;
  const sip::FrameResult f = sip::FrameStream(in, limits);
  FUZZ_ASSERT(f.skip <= in.size());
  if (f.state == sip::FrameResult::State::kMessage) {
    FUZZ_ASSERT(f.length > 0 && f.skip + f.length <= in.size());
    FUZZ_ASSERT(f.length <= limits.max_message_size);
    // The same bytes plus more still frame the same message.
    const sip::FrameResult again = sip::FrameStream(in.substr(0, f.skip + f.length), limits);
    FUZZ_ASSERT(again.state == sip::FrameResult::State::kMessage);
    FUZZ_ASSERT(again.skip == f.skip && again.length == f.length);
    const std::string_view frame = in.substr(f.skip, f.length);
    const sip::ParseError err = sip::Parse(frame, limits, msg);
    if (err == sip::ParseError::kOk) {
      // Parse and framer agree on where the message ends.
      FUZZ_ASSERT(msg->body_offset + msg->body.size() == frame.size() || msg->content_length < 0);
    }
  } else if (f.state == sip::FrameResult::State::kNeedMore && f.skip < in.size()) {
    // Any prefix of an incomplete message is incomplete too.
    const sip::FrameResult half = sip::FrameStream(in.substr(0, f.skip + (in.size() - f.skip) / 2), limits);
    FUZZ_ASSERT(half.state != sip::FrameResult::State::kMessage);
  }
  return 0;
}

// File: sip/stream_framer.h
//
// FrameStream(): for stream transports (TCP, TLS), tells from the bytes received so far whether a
// whole SIP message is there and how long it is (RFC 3261 §18.3: the header section ends at the
// first empty line, the body is Content-Length bytes). Keep-alive CRLFs between messages
// (RFC 5626 §3.5.1 "\r\n\r\n" pings, stray CRLFs) are reported as bytes to skip.
//
// It only frames: the transport then hands [skip, skip + length) to Parse(). A message without
// Content-Length is framed with an empty body (RFC 3261 says streams MUST carry it; treating its
// absence as 0 is what deployed stacks do and keeps the stream in sync). Pure function, no
// allocation, any thread; the caller owns the buffer.
//
// Example:
//   sip::FrameResult f = sip::FrameStream(conn.bytes(), limits);
//   switch (f.state) {
//     case sip::FrameResult::State::kNeedMore: break;                // read more
//     case sip::FrameResult::State::kMessage:
//       Handle(conn.bytes().substr(f.skip, f.length));
//       conn.Consume(f.skip + f.length);
//       break;
//     case sip::FrameResult::State::kError: conn.Close(); break;     // unrecoverable framing
//   }
#pragma once

#include <cstddef>
#include <string_view>

#include "sip/parse_error.h"
#include "sip/parser.h"

namespace sipring::sip {

struct FrameResult {
  enum class State {
    kNeedMore,  // no whole message yet; `skip` keep-alive bytes may already be discarded
    kMessage,   // a whole message is at [skip, skip + length)
    kError,     // framing is impossible (bad or conflicting Content-Length, over a limit):
                // answer if possible, then close the connection (RFC 4475 ncl, mcl01)
  };
  State state = State::kNeedMore;
  size_t skip = 0;    // leading CR/LF bytes (keep-alives) before the message
  size_t length = 0;  // kMessage: the message's length, headers and body
  ParseError error = ParseError::kOk;  // kError: why (kBadContentLength, kMessageTooLarge, ...)
};

// Frames the first message in `bytes`. Never reads past `bytes`; looks at most at
// limits.max_message_size bytes after the keep-alives.
[[nodiscard]] FrameResult FrameStream(std::string_view bytes, const ParseLimits& limits);

}  // namespace sipring::sip

// File: sip/parser.h
//
// Parse(): one pass over a SIP message (a UDP datagram, or one message the StreamFramer cut out
// of a stream) into a Message of views. It checks the start line, splits every header line (line
// folds and other LWS per RFC 3261 §7.3.1 / §25), indexes every header by name, parses the
// headers a proxy acts on (message.h), enforces the configured ParseLimits, and sizes the body by
// Content-Length.
//
// Best effort on failure: Parse() returns the first error it met (a limit error takes precedence
// over a syntax error, so an oversized message gets 513 rather than 400), but it keeps going and
// leaves every header it could index in the Message, so response_builder.h can still answer with
// the request's Vias, From, To, Call-ID and CSeq. Reads never go past `bytes`.
//
// Ownership and threads: as message.h; no allocation, no shared state, any thread.
//
// Example:
//   sip::ParseLimits limits;              // from config, once
//   limits.max_message_size = 8192;
//   sip::Message msg;                     // once per shard, reused
//   sip::ParseError err = sip::Parse(payload, limits, &msg);
//   if (err != sip::ParseError::kOk) {
//     sip::ErrorResponse r = sip::ResponseFor(err);  // what to answer, see request_check.h
//   }
#pragma once

#include <cstdint>
#include <string_view>

#include "sip/message.h"
#include "sip/parse_error.h"

namespace sipring::sip {

// Configurable limits; each must stay at or below the compile-time capacity it names.
struct ParseLimits {
  uint32_t max_message_size = 65535;  // bytes of the whole message; over -> kMessageTooLarge (513)
  uint32_t max_headers = 96;          // header lines, <= kMaxHeaders; over -> kTooManyHeaders (513)
  uint32_t max_header_length = 4096;  // bytes of one header incl. folds; over -> kHeaderTooLong (513)
  uint32_t max_uri_length = 1024;     // bytes of the Request-URI; over -> kUriTooLong (414)
  uint32_t max_body_size = 65535;     // Content-Length value; over -> kBodyTooLarge (413)
};

// Parses `bytes` into `*msg` (which is reset first). Returns kOk or the first error; see the file
// comment for what the Message holds after an error. Datagram semantics: without Content-Length
// the body is the rest of `bytes` (RFC 3261 §18.3); with it, the bytes after the body land in
// Message::trailing and are ignored.
[[nodiscard]] ParseError Parse(std::string_view bytes, const ParseLimits& limits, Message* msg);

}  // namespace sipring::sip

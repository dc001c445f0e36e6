// File: sip/request_check.h
//
// The proxy's verdict on a parsed message, as a pure function the daemon calls after Parse():
// forward it, answer it (status, reason, and for 420 the Unsupported option tags), or drop it.
// It applies RFC 3261 §16.3 request validation in the RFC's order (syntax, URI scheme,
// Max-Forwards, Proxy-Require) plus the RFC 4475 torture-test rules (missing or duplicate
// single-value headers, CSeq/method mismatch, a bare magic-cookie branch, headers in the
// Request-URI, a non-GMT Date), and §18.1.2's "responses that fail to parse are dropped".
//
// Pure: no state, no allocation, any thread. The Verdict's views point into the message buffer
// (the reason text is static).
//
// Example:
//   sip::ParseError err = sip::Parse(payload, limits, &msg);
//   sip::Verdict v = msg.IsResponse() ? sip::CheckResponse(msg, err)
//                                     : sip::CheckRequest(msg, err, check_options);
//   if (v.action == sip::Verdict::Action::kRespond) {
//     sip::ResponseSpec spec = sip::ResponseSpecFor(v);   // response_builder.h
//     ...BuildResponse(msg, spec, out)...
//   }
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "sip/message.h"
#include "sip/parse_error.h"

namespace sipring::sip {

// Most unsupported option tags a 420 lists; more are answered with the first ones.
inline constexpr size_t kMaxUnsupportedTags = 8;

struct Verdict {
  enum class Action : uint8_t {
    kForward,  // pass it on (requests: forwarder.h; responses: pop our Via)
    kRespond,  // answer with `status` / `reason` (requests only)
    kDrop,     // discard silently: a malformed response, a response to a broadcast address,
               // or a request that cannot be answered
  };
  Action action = Action::kForward;
  int status = 0;           // kRespond: 400, 413, 414, 416, 420, 483, 501, 505, 513
  std::string_view reason;  // kRespond: reason phrase naming the fault
  // kRespond with 420: the option tags to list in Unsupported (views into the request).
  std::array<std::string_view, kMaxUnsupportedTags> unsupported{};
  uint8_t unsupported_count = 0;
};

struct CheckOptions {
  // Proxy-Require option tags this proxy supports; any other tag gets a 420.
  std::span<const std::string_view> supported_option_tags;
  // Accept tel: Request-URIs (RFC 3966) besides sip: and sips:; any other scheme gets a 416.
  bool allow_tel_uri = true;
};

// Verdict for a request. `parse_result` is what Parse() returned for `msg`.
[[nodiscard]] Verdict CheckRequest(const Message& msg, ParseError parse_result,
                                   const CheckOptions& options);

// Verdict for a response: kForward or kDrop (a proxy never answers a response).
[[nodiscard]] Verdict CheckResponse(const Message& msg, ParseError parse_result);

}  // namespace sipring::sip

// File: sip/request_builder.h
//
// BuildHopRequest(): the two requests a stateful proxy makes itself towards the next hop of an
// INVITE it forwarded: the CANCEL (RFC 3261 §9.1) and the ACK for a non-2xx final response
// (§17.1.1.3). Both copy the INVITE's Request-URI, From, Call-ID and CSeq number, carry only the
// proxy's own Via (the same value, branch included, as the forwarded INVITE, so the next hop
// matches them to its INVITE transaction) and the Route headers the forwarded INVITE carried.
// To is the INVITE's for CANCEL and the response's (with its tag) for ACK.
//
// No allocation: written into the caller's buffer (a pool slot, a stored copy); any thread.
//
// Example:
//   HopRequestSpec spec{.method = HopMethod::kAck, .via = our_via, .to = response_to_value,
//                       .skip_routes = 1};
//   size_t n = 0;
//   if (BuildHopRequest(invite, spec, slot_span, &n) == BuildError::kOk) send(slot_span.first(n));
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "sip/message.h"
#include "sip/response_builder.h"

namespace sipring::sip {

enum class HopMethod : uint8_t {
  kCancel,  // "CANCEL": To as in the INVITE
  kAck,     // "ACK": To from the non-2xx final response (it carries the callee's tag)
};

struct HopRequestSpec {
  HopMethod method = HopMethod::kCancel;
  // The Via value the forwarded INVITE got from us ("SIP/2.0/UDP 10.0.0.1:5060;branch=...").
  std::string_view via;
  // kAck: the response's To header value. kCancel: ignored (the INVITE's To is used).
  std::string_view to;
  // Route headers of the INVITE that we popped before forwarding it (0 or 1): not repeated.
  int skip_routes = 0;
};

// Writes the request into `out` and its size into `*size`. kNoVia when `invite` lacks From,
// Call-ID or CSeq (it could not have been forwarded); kNoSpace when `out` is too small.
[[nodiscard]] BuildError BuildHopRequest(const Message& invite, const HopRequestSpec& spec,
                                         std::span<char> out, size_t* size);

}  // namespace sipring::sip

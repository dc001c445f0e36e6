// File: sip/forwarder.h
//
// The rewriter: turns a parsed message into the GatherList a proxy sends on.
//
//  - ForwardRequest(): RFC 3261 §16.6 for a loose-routing proxy: add our Via on top (branch from
//    the caller, e.g. a transaction's own, or computed statelessly per §16.11), decrement
//    Max-Forwards (add "Max-Forwards: 70" when absent), pop the top Route when it names us (host
//    and port as the caller says), add Record-Route when asked (with an optional extra URI
//    parameter such as a backend id), add Content-Length when the datagram had none, and leave
//    out any bytes after the body (RFC 4475 dblreq).
//  - ForwardResponse(): §16.7 step 3: remove the top Via value.
//
// Everything else (untouched headers, the body) is referenced in place: only the inserted pieces
// (our Via, Record-Route, the new Max-Forwards digits) are written, into the caller's small
// scratch buffer. New headers go right after the start line: our Via must be the top Via, and a
// Record-Route placed before every other header is also the top Record-Route, as §16.6 step 4
// requires. We do not do strict routing (a Route without lr towards a pre-RFC 3261 element):
// such a top Route is left in place and the request is forwarded as is.
//
// No allocation; pure functions of their inputs; any thread. The GatherList points into the
// message buffer and `scratch`: keep both alive until the send completes.
//
// Example:
//   sip::ForwardOptions fwd{.local_host = "lb.example.net", .local_port = 5060,
//                           .transport = "UDP", .record_route = true,
//                           .record_route_param = "be=7"};
//   char scratch[sip::kForwardScratchSize];
//   sip::GatherList list;
//   if (sip::ForwardRequest(msg, fwd, scratch, &list) == sip::ForwardError::kOk) Send(list);
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sip/gather_list.h"
#include "sip/message.h"

namespace sipring::sip {

// Scratch that always suffices when local_host, transport, branch and record_route_param are
// each at most 255 bytes.
inline constexpr size_t kForwardScratchSize = 1280;

// Length of a stateless branch: magic cookie + "sr" + 16 hex digits.
inline constexpr size_t kStatelessBranchSize = 7 + 2 + 16;

struct ForwardOptions {
  std::string_view local_host;       // our Via sent-by host ("[::1]" for IPv6)
  uint16_t local_port = 5060;        // our Via port; 0 leaves it out
  // Where peers reach us (Record-Route URI, and the top Route we pop when it names us). A proxy
  // that sends from its own per-shard socket has a Via address that differs from its listener,
  // so the two are separate; empty route_host means "same as local_host / local_port".
  std::string_view route_host;
  uint16_t route_port = 0;
  // The previous hop's source address as seen on the wire (numeric host, IPv6 in brackets; port).
  // When set, the top Via gets ";received=" if its sent-by host differs (RFC 3261 §18.2.1), and a
  // valueless ";rport" gets the port (RFC 3581 §4), so responses find their way back through NAT.
  std::string_view source_host;
  uint16_t source_port = 0;
  std::string_view transport = "UDP";  // Via transport towards the next hop
  std::string_view branch;           // empty: stateless branch (StatelessBranch below)
  bool record_route = false;         // add "Record-Route: <sip:host:port;lr[;param]>"
  std::string_view record_route_param;  // e.g. "be=3" (no leading ';'); empty: none
};

enum class ForwardError {
  kOk,              // `list` holds the message to send
  kNotRequest,      // ForwardRequest on a response (or unparsed start line)
  kNotResponse,     // ForwardResponse on a request
  kNoVia,           // ForwardResponse: nothing to pop
  kTooManyHops,     // Max-Forwards is 0: answer 483 instead (request_check.h does)
  kScratchTooSmall, // `scratch` cannot hold the inserted pieces
  kTooManyPieces,   // the GatherList is full (cannot happen with kMaxGatherPieces; defensive)
  kIncomplete,      // the message did not parse cleanly (no end of headers, bad Max-Forwards)
  kTooManyValues,   // adding our Via or Record-Route would exceed what Message can hold
                    // (kMaxVias, kMaxRecordRoutes), so the result, or the response coming back
                    // through us, could not be parsed: answer 513 instead
};

// Builds the forwarded request. `msg` must have parsed (Parse() == kOk, or at least
// headers_complete). On error `list` is left empty.
[[nodiscard]] ForwardError ForwardRequest(const Message& msg, const ForwardOptions& options,
                                          std::span<char> scratch, GatherList* list);

// Builds the forwarded response: the message without its top Via value.
[[nodiscard]] ForwardError ForwardResponse(const Message& msg, GatherList* list);

// The §16.11 stateless branch for `msg`, written to out[0..kStatelessBranchSize): a hash of the
// incoming top Via branch when it carries the magic cookie (so a retransmission, its CANCEL and
// its non-2xx ACK all map to the same branch), else of the RFC 2543 fields (To tag, From tag,
// Call-ID, Request-URI, top Via, CSeq number).
std::string_view StatelessBranch(const Message& msg, std::span<char, kStatelessBranchSize> out);

// True when this Route value names us: same host (case-insensitive) and port (an absent port
// means 5060 for sip:, 5061 for sips:).
bool RouteNamesUs(const RouteValue& route, std::string_view host, uint16_t port);

}  // namespace sipring::sip

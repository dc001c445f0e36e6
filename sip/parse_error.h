// File: sip/parse_error.h
//
// ParseError: why a message failed to parse, as a small enum for the hot path (STYLE.md rule 22),
// plus what a proxy answers for each (ErrorResponse: 400, 413, 414, 505 or 513 with a reason
// phrase naming the fault) and a conversion to absl::Status for module boundaries (rule 24).
//
// Pure functions over constant tables; any thread. The absl::Status from ToStatus() carries a
// message and therefore allocates: call it off the per-message path (logs, admin API).
//
// Example:
//   ParseError err = Parse(datagram, limits, &msg);
//   if (err != ParseError::kOk) {
//     ErrorResponse r = ResponseFor(err);  // e.g. {513, "Message Too Large"}
//   }
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace sipring::sip {

enum class ParseError : uint8_t {
  kOk = 0,               // the whole message parsed; every header indexed and checked
  kIncomplete,           // no empty line ends the header section (datagram: malformed)
  kBadStartLine,         // request or status line does not follow the grammar (extra SP, ...)
  kBadRequestUri,        // the Request-URI is not a URI (<...>, LWS inside, bad host or port)
  kBadVersion,           // SIP-Version is well formed but not SIP/2.0 (505 for requests)
  kBadStatusCode,        // status code not three digits in 100..699 (bigcode)
  kBadHeaderLine,        // a header line without a token name and ':'
  kBadVia,               // a Via value is malformed
  kBadFrom,              // From is malformed
  kBadTo,                // To is malformed
  kBadCallId,            // Call-ID is empty or holds LWS
  kBadCSeq,              // CSeq number not a 32-bit value, or method not a token
  kBadMaxForwards,       // Max-Forwards not a number in 0..255
  kBadContentLength,     // Content-Length not a number, or two that disagree (mcl01)
  kBadExpires,           // Expires not a 32-bit delta-seconds
  kBadRoute,             // a Route value is not name-addr with a valid URI
  kBadRecordRoute,       // a Record-Route value is not name-addr with a valid URI
  kBadContact,           // a Contact value is malformed
  kBodyTruncated,        // fewer body bytes than Content-Length says (clerr)
  kMessageTooLarge,      // over ParseLimits::max_message_size (513)
  kTooManyHeaders,       // over ParseLimits::max_headers (513)
  kHeaderTooLong,        // one header (with its folds) over ParseLimits::max_header_length (513)
  kUriTooLong,           // Request-URI over ParseLimits::max_uri_length (414)
  kBodyTooLarge,         // Content-Length over ParseLimits::max_body_size (413)
  kTooManyValues,        // more Via/Route/Record-Route/Contact values than Message holds (513)
};

// The status line a proxy answers a request with when parsing failed this way.
struct ErrorResponse {
  int status;               // 400, 413, 414, 505 or 513
  std::string_view reason;  // reason phrase naming the fault, e.g. "Bad Request (bad CSeq)"
};

// Maps a parse error to its response. kOk maps to {0, ""}. Responses that fail to parse are
// never answered (RFC 3261 §18.1.2): the caller drops them; see request_check.h.
ErrorResponse ResponseFor(ParseError error);

// True for the errors that mean "a configured limit was passed" (size, header count, header or
// URI length, body, values per header) rather than "the syntax is wrong".
bool IsLimitError(ParseError error);

// A short name for logs and test messages, e.g. "bad CSeq".
std::string_view ParseErrorName(ParseError error);

// absl::Status at module boundaries: kOk -> OkStatus; limit errors -> kResourceExhausted;
// the rest -> kInvalidArgument. Allocates (message text); not for the per-message path.
absl::Status ToStatus(ParseError error);

}  // namespace sipring::sip

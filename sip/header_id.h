// File: sip/header_id.h
//
// HeaderId names the header fields sipring looks at, so the parser indexes them once and the
// proxy finds them by number instead of comparing names per message. LookupHeaderId() maps a
// header name as received (full or compact form, any case, RFC 3261 §7.3.3 / §20) to its id;
// everything else is HeaderId::kOther and is still indexed by name (Message::FindByName).
//
// Pure functions over constant tables: no ownership, no allocation, any thread.
//
// Example:
//   HeaderId id = LookupHeaderId("v");        // HeaderId::kVia
//   std::string_view n = CanonicalName(id);   // "Via"
#pragma once

#include <cstdint>
#include <string_view>

namespace sipring::sip {

enum class HeaderId : uint8_t {
  kOther = 0,          // any header without an id: extension headers, or ones the proxy ignores
  kVia,                // Via / v: the response path; parsed into Message::vias
  kFrom,               // From / f: parsed into Message::from (tag)
  kTo,                 // To / t: parsed into Message::to (tag)
  kCallId,             // Call-ID / i: dialog and transaction key
  kCSeq,               // CSeq: number and method, parsed into Message::cseq
  kMaxForwards,        // Max-Forwards: loop guard, decremented when forwarding
  kRoute,              // Route: loose-route set, parsed into Message::routes
  kRecordRoute,        // Record-Route: parsed into Message::record_routes
  kContact,            // Contact / m: parsed into Message::contacts
  kContentLength,      // Content-Length / l: frames the body
  kContentType,        // Content-Type / c: indexed only
  kExpires,            // Expires: delta-seconds, parsed into Message::expires
  kRequire,            // Require: option tags a UAS must support
  kProxyRequire,       // Proxy-Require: option tags a proxy must support (420 if not)
  kSupported,          // Supported / k: indexed only
  kUnsupported,        // Unsupported: indexed only (we write it in 420 responses)
  kDate,               // Date: checked by the request verdict (GMT only, RFC 3261 §25.1)
  kRetryAfter,         // Retry-After: indexed only (we write it in 503 responses)
  kContentEncoding,    // Content-Encoding / e
  kSubject,            // Subject / s
  kEvent,              // Event / o (RFC 6665)
  kAllowEvents,        // Allow-Events / u (RFC 6665)
  kReferTo,            // Refer-To / r (RFC 3515)
  kReferredBy,         // Referred-By / b (RFC 3892)
  kSessionExpires,     // Session-Expires / x (RFC 4028)
  kAllow,              // Allow: indexed only
  kAccept,             // Accept: indexed only
  kWarning,            // Warning: indexed only
  kCount,              // number of ids; not a header
};

inline constexpr int kHeaderIdCount = static_cast<int>(HeaderId::kCount);

// Maps a header name to its id, case-insensitively, accepting the compact forms. Exact for any
// bytes: a name holding a non-token byte is kOther. Returns kOther for names without an id.
HeaderId LookupHeaderId(std::string_view name);

// The full name used when sipring writes a header with this id ("Via", "Call-ID"...); empty for
// kOther and kCount.
std::string_view CanonicalName(HeaderId id);

// True for headers that RFC 3261 §7.3 allows as comma-separated lists (Via, Route, Contact...),
// which the parser splits into values.
bool IsListHeader(HeaderId id);

}  // namespace sipring::sip

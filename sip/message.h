// File: sip/message.h
//
// Message: one parsed SIP request or response (RFC 3261 §7) as views into the buffer it was
// parsed from: the start line, every header indexed in order and by HeaderId, the structured
// values a proxy needs (Via list, From/To with tags, Call-ID, CSeq, Max-Forwards, Route and
// Record-Route with parsed URIs, Contact, Content-Length, Expires) and the body.
//
// Ownership: a Message owns nothing. It points into the caller's buffer (a pool slot), which must
// outlive it and stay unmodified while the Message is used. All storage is fixed-capacity arrays
// inside the struct (about 30 KiB), so parsing never allocates: keep one Message per shard (on its
// stack or in a preallocated slot) and reuse it; Parse() resets it. The capacities are the
// compile-time maxima; ParseLimits (parser.h) sets the configurable limits below them.
// Thread: a Message belongs to the shard thread that parsed it; it has no internal locking.
//
// Example:
//   sip::Message msg;  // once per shard
//   if (sip::Parse(payload, limits, &msg) == sip::ParseError::kOk && msg.IsRequest()) {
//     msg.method;             // "INVITE"
//     msg.vias[0].branch;     // top Via branch
//     msg.cseq.number;        // 314159
//     msg.FindByName("X-Backend");  // any header, by name
//   }
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/header_id.h"
#include "sip/name_addr.h"
#include "sip/uri.h"
#include "sip/via.h"

namespace sipring::sip {

// Compile-time capacities. A message beyond one of them is rejected with kTooManyHeaders or
// kTooManyValues (513), never truncated silently: forwarding a message with headers we did not
// see would break the "untouched headers are forwarded" promise.
inline constexpr size_t kMaxHeaders = 128;
inline constexpr size_t kMaxVias = 64;
inline constexpr size_t kMaxRoutes = 16;
inline constexpr size_t kMaxRecordRoutes = 16;
inline constexpr size_t kMaxContacts = 16;

// Index meaning "no header".
inline constexpr uint16_t kNoHeader = 0xffff;

// One header field line, possibly folded over several physical lines.
struct Header {
  std::string_view name;   // as received ("v", "MaX-fOrWaRdS"), without trailing LWS
  std::string_view value;  // trimmed; interior folds (CRLF SP) kept as received
  uint32_t offset = 0;     // offset of the line's first byte in Message::buffer
  uint32_t length = 0;     // bytes of the whole line including its final CRLF
  HeaderId id = HeaderId::kOther;
  uint16_t next_same = kNoHeader;  // next header with the same id (kOther: not linked)
};

// CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16).
struct CSeq {
  uint32_t number = 0;
  std::string_view method;
};

// A Route or Record-Route value with its URI parsed (the proxy needs host, port and lr).
struct RouteValue {
  NameAddr addr;
  Uri uri;
};

struct Message {
  // What the start line said.
  enum class Kind : uint8_t {
    kUnknown,   // the start line did not parse (headers may still be indexed, best effort)
    kRequest,   // Request-Line: method, request_uri, version
    kResponse,  // Status-Line: status_code, reason
  };

  // Scalars first, arrays last: Parse() touches every scalar on every message but only the
  // first few elements of each array, so this keeps its working set in a few cache lines
  // instead of spread over the ~30 KiB struct (measured: Reset alone went from 9% of parse time).
  std::string_view buffer;      // everything parsed (a datagram, or one framed stream message)
  Kind kind = Kind::kUnknown;
  bool headers_complete = false;  // the empty line ending the header section was found
  bool contact_star = false;      // "Contact: *" (REGISTER removal)
  uint16_t header_count = 0;
  uint16_t via_count = 0;
  uint16_t route_count = 0;
  uint16_t record_route_count = 0;
  uint16_t contact_count = 0;
  int status_code = 0;          // responses, 100..699
  std::string_view start_line;  // without its CRLF
  std::string_view method;      // requests
  std::string_view request_uri_text;  // requests, as written
  std::string_view version;     // "SIP/2.0"
  std::string_view reason;      // responses, may be empty (noreason)

  // Per HeaderId: first and last header index (kNoHeader if none) and how many headers had it.
  std::array<uint16_t, kHeaderIdCount> first{};
  std::array<uint16_t, kHeaderIdCount> last{};
  std::array<uint8_t, kHeaderIdCount> count{};

  std::string_view call_id;
  CSeq cseq;
  int max_forwards = -1;        // -1 when absent
  int64_t content_length = -1;  // -1 when absent
  int64_t expires = -1;         // -1 when absent
  uint32_t header_end = 0;   // offset of the empty line ending the headers
  uint32_t body_offset = 0;  // offset of the first body byte
  std::string_view body;     // sized by Content-Length (or the rest of the datagram without one)
  std::string_view trailing; // bytes after the body in the datagram: ignored (RFC 4475 dblreq)
  NameAddr from;  // first From; valid when count[kFrom] > 0
  NameAddr to;    // first To
  Uri request_uri;  // requests, parsed

  std::array<Header, kMaxHeaders> headers;  // [0, header_count) in message order
  std::array<Via, kMaxVias> vias;           // [0, via_count): all Via values, top first
  std::array<RouteValue, kMaxRoutes> routes;
  std::array<RouteValue, kMaxRecordRoutes> record_routes;
  std::array<NameAddr, kMaxContacts> contacts;

  bool IsRequest() const { return kind == Kind::kRequest; }
  bool IsResponse() const { return kind == Kind::kResponse; }

  // First header with this id, or nullptr.
  const Header* Find(HeaderId id) const {
    const uint16_t i = first[static_cast<size_t>(id)];
    return i == kNoHeader ? nullptr : &headers[i];
  }
  // Number of headers with this id (capped at 255).
  int Count(HeaderId id) const { return count[static_cast<size_t>(id)]; }
  // First header whose name matches (case-insensitive, full or compact form), or nullptr.
  const Header* FindByName(std::string_view name) const;
  // The header after `h` with the same id (nullptr at the end). `h` must have an id.
  const Header* NextSame(const Header* h) const {
    return h->next_same == kNoHeader ? nullptr : &headers[h->next_same];
  }
};

}  // namespace sipring::sip

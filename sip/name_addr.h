// File: sip/name_addr.h
//
// NameAddr: one value of From, To, Contact, Route or Record-Route (RFC 3261 §25.1:
// `( name-addr / addr-spec ) *( SEMI generic-param )`): the optional display name, the URI text,
// the header parameters after it, and the tag parameter that From/To carry.
//
// Ownership: views into the parsed buffer. The URI itself is left as text (`uri`); call ParseUri()
// when its parts are needed. The parser does so eagerly for Route and Record-Route, where the proxy
// needs host/port/lr on every request, and leaves From/To/Contact URIs to whoever needs them.
// Thread: pure functions, any thread.
//
// Example:
//   NameAddr na;
//   if (ParseNameAddr("\"Bob\" <sip:bob@example.com>;tag=a48s", &na)) {
//     na.display_name;  // "\"Bob\"" (quotes kept, escapes not undone)
//     na.uri;           // "sip:bob@example.com"
//     na.tag;           // "a48s"
//   }
#pragma once

#include <cstdint>
#include <string_view>

namespace sipring::sip {

struct NameAddr {
  std::string_view value;         // the whole value, trimmed
  std::string_view display_name;  // as written (quoted-string keeps its quotes); may be empty
  std::string_view uri;           // the URI text, without < >
  bool bracketed = false;         // the URI was in < > (name-addr form)
  std::string_view params;        // header parameters after the URI (raw, from the first ';')
  std::string_view tag;           // value of the tag parameter
  bool has_tag = false;           // a tag parameter is present
  uint16_t header_index = 0;      // index into Message::headers of the header holding it
};

// Parses one value (no top-level commas). Returns false when it is malformed: unterminated
// quoted string (quotbal), display name with non-token characters (baddn), missing '>', LWS
// inside < > (badaspec), a URI that does not start with a scheme, '?' or ',' in an addr-spec that
// is not in < > (regbadct), or bad parameters (badinv01 ";;;;").
[[nodiscard]] bool ParseNameAddr(std::string_view value, NameAddr* out);

}  // namespace sipring::sip

// File: sip/uri.h
//
// Uri: a SIP/SIPS URI split into its RFC 3261 §19.1 / §25.1 parts (user, password, host with
// IPv6 references, port, parameters, headers), or, for any other scheme (tel:, http:, the
// torture tests' nobodyKnowsThisScheme:), the scheme and its opaque remainder.
//
// Ownership: every field is a view into the text given to ParseUri(); nothing is copied or
// unescaped (%HH stays as received: RFC 4475 esc01 wants the application to unescape exactly
// once, and a proxy forwards the bytes untouched). Keep the buffer alive as long as the Uri.
// Thread: pure functions, any thread.
//
// Example:
//   Uri uri;
//   if (ParseUri("sip:alice@[2001:db8::1]:5070;transport=tcp;lr", &uri)) {
//     uri.host;                        // "[2001:db8::1]"
//     uri.port;                        // 5070
//     uri.lr;                          // true
//     FindUriParam(uri.params, "transport");  // "tcp"
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sipring::sip {

struct Uri {
  // Which grammar the URI followed; selects the fields that are meaningful.
  enum class Scheme : uint8_t {
    kSip,    // "sip:" (case-insensitive); the SIP-URI fields are set
    kSips,   // "sips:"; the SIP-URI fields are set
    kOther,  // any other absoluteURI scheme; only `scheme` and `opaque` are set
  };

  std::string_view text;      // the whole URI as parsed
  Scheme kind = Scheme::kOther;
  std::string_view scheme;    // as written, without ':'
  std::string_view user;      // escaped user part, may contain ';' (RFC 4475 semiuri); empty if none
  std::string_view password;  // empty if none
  bool has_userinfo = false;  // true when an '@' separated userinfo was present
  std::string_view host;      // hostname, IPv4, or IPv6 reference including the brackets
  std::string_view port_text; // digits as written; empty if no port
  uint16_t port = 0;          // 0 when absent (the default port applies)
  std::string_view params;    // uri-parameters after the first ';', without it; empty if none
  std::string_view headers;   // after '?', without it; empty if none
  std::string_view opaque;    // kOther only: everything after "scheme:"
  bool lr = false;            // the lr parameter is present (loose routing, RFC 3261 §16.4)

  bool IsSip() const { return kind != Scheme::kOther; }
  // The port, or the scheme's default when absent (5061 for sips:, 5060 otherwise).
  uint16_t PortOrDefault() const { return port != 0 ? port : (kind == Scheme::kSips ? 5061 : 5060); }
};

// Parses `text` (exactly the URI: no surrounding LWS, no angle brackets). Returns false when it is
// not a URI: empty, no scheme, LWS or <>" inside, an unterminated IPv6 reference, a bad port
// (ipv6-bad: "sip:2001:db8::10" reads as host 2001, port "db8::10"), an empty host, or empty
// parameters. On false, `uri` holds whatever was parsed and must not be used.
[[nodiscard]] bool ParseUri(std::string_view text, Uri* uri);

// Looks a parameter up by name (case-insensitive) in a ';'-separated list such as Uri::params.
// Returns its value (empty for a valueless parameter) or nullopt when absent.
std::optional<std::string_view> FindUriParam(std::string_view params, std::string_view name);

}  // namespace sipring::sip

#include "sip/request_check.h"

#include <array>

#include "sip/internal/lex.h"

namespace sipring::sip {
namespace {

using sip_internal::EqualsIgnoreCase;

Verdict Respond(int status, std::string_view reason) {
  Verdict v;
  v.action = Verdict::Action::kRespond;
  v.status = status;
  v.reason = reason;
  return v;
}

Verdict Drop() {
  Verdict v;
  v.action = Verdict::Action::kDrop;
  return v;
}

// Methods of RFC 3261 and its common extensions; an unknown one with a mismatching CSeq gets
// 501 rather than 400 (RFC 4475 mismatch02).
bool IsKnownMethod(std::string_view m) {
  static constexpr std::array<std::string_view, 14> kKnown = {
      "INVITE", "ACK",    "BYE",     "CANCEL", "OPTIONS", "REGISTER", "PRACK",
      "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"};
  for (std::string_view k : kKnown) {
    if (k == m) return true;
  }
  return false;
}

bool IsSupportedTag(std::string_view tag, const CheckOptions& options) {
  for (std::string_view s : options.supported_option_tags) {
    if (EqualsIgnoreCase(s, tag)) return true;
  }
  return false;
}

}  // namespace

Verdict CheckRequest(const Message& msg, ParseError parse_result, const CheckOptions& options) {
  if (msg.IsResponse()) return Drop();
  if (parse_result != ParseError::kOk) {
    const ErrorResponse r = ResponseFor(parse_result);
    return Respond(r.status, r.reason);
  }
  // Single-value headers that appear twice (RFC 4475 multi01), and the ones every request
  // needs (RFC 3261 §8.1.1; insuf).
  if (msg.Count(HeaderId::kCallId) > 1) return Respond(400, "Bad Request (duplicate Call-ID)");
  if (msg.Count(HeaderId::kCSeq) > 1) return Respond(400, "Bad Request (duplicate CSeq)");
  if (msg.Count(HeaderId::kFrom) > 1) return Respond(400, "Bad Request (duplicate From)");
  if (msg.Count(HeaderId::kTo) > 1) return Respond(400, "Bad Request (duplicate To)");
  if (msg.Count(HeaderId::kMaxForwards) > 1) return Respond(400, "Bad Request (duplicate Max-Forwards)");
  if (msg.Count(HeaderId::kContentLength) > 1) return Respond(400, "Bad Request (duplicate Content-Length)");
  if (msg.via_count == 0) return Respond(400, "Bad Request (missing Via)");
  // Our own Via would make it one more than Message holds: neither the forwarded request nor
  // its responses could be parsed again (found by the round-trip fuzzer).
  if (msg.via_count >= kMaxVias) return Respond(513, "Message Too Large (too many Via)");
  if (msg.Count(HeaderId::kCallId) == 0) return Respond(400, "Bad Request (missing Call-ID)");
  if (msg.Count(HeaderId::kFrom) == 0) return Respond(400, "Bad Request (missing From)");
  if (msg.Count(HeaderId::kTo) == 0) return Respond(400, "Bad Request (missing To)");
  if (msg.Count(HeaderId::kCSeq) == 0) return Respond(400, "Bad Request (missing CSeq)");
  if (msg.cseq.method != msg.method) {
    return IsKnownMethod(msg.method) ? Respond(400, "Bad Request (CSeq method mismatch)")
                                     : Respond(501, "Not Implemented");
  }
  // A branch that is only the magic cookie identifies no transaction (RFC 4475 badbranch).
  if (msg.vias[0].branch == kBranchMagicCookie) return Respond(400, "Bad Request (bad branch)");
  // Date must be in GMT (RFC 3261 §20.17; RFC 4475 baddate).
  if (const Header* date = msg.Find(HeaderId::kDate)) {
    const std::string_view v = date->value;
    if (v.size() < 4 || v.substr(v.size() - 4) != " GMT") return Respond(400, "Bad Request (bad Date)");
  }
  // §16.3 step 2: URI scheme.
  const bool scheme_ok = msg.request_uri.IsSip() ||
                         (options.allow_tel_uri && EqualsIgnoreCase(msg.request_uri.scheme, "tel"));
  if (!scheme_ok) return Respond(416, "Unsupported URI Scheme");
  // Escaped headers in a Request-URI must never be forwarded or acted on (RFC 4475 escruri).
  if (!msg.request_uri.headers.empty()) return Respond(400, "Bad Request (headers in Request-URI)");
  // §16.3 step 3: Max-Forwards.
  if (msg.max_forwards == 0) return Respond(483, "Too Many Hops");
  // §16.3 step 5: Proxy-Require.
  Verdict unsupported = Respond(420, "Bad Extension");
  for (const Header* h = msg.Find(HeaderId::kProxyRequire); h != nullptr; h = msg.NextSame(h)) {
    std::string_view rest = h->value;
    do {
      const std::string_view tag = sip_internal::TrimLws(sip_internal::NextListElement(&rest));
      if (tag.empty() || IsSupportedTag(tag, options)) continue;
      if (unsupported.unsupported_count < kMaxUnsupportedTags) {
        unsupported.unsupported[unsupported.unsupported_count++] = tag;
      }
    } while (rest.data() != nullptr);
  }
  if (unsupported.unsupported_count > 0) return unsupported;
  return Verdict();
}

Verdict CheckResponse(const Message& msg, ParseError parse_result) {
  if (parse_result != ParseError::kOk || !msg.IsResponse()) return Drop();
  if (msg.via_count == 0 || msg.Count(HeaderId::kCSeq) != 1 || msg.Count(HeaderId::kCallId) != 1 ||
      msg.Count(HeaderId::kFrom) != 1 || msg.Count(HeaderId::kTo) != 1) {
    return Drop();
  }
  // Never send towards a broadcast sent-by or received address (RFC 4475 bcast).
  for (uint16_t i = 0; i < msg.via_count; ++i) {
    if (msg.vias[i].host == "255.255.255.255" || msg.vias[i].received == "255.255.255.255") {
      return Drop();
    }
  }
  return Verdict();
}

}  // namespace sipring::sip

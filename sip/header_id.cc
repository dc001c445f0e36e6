#include "sip/header_id.h"

#include <array>

#include "sip/internal/lex.h"

namespace sipring::sip {
namespace {

using sip_internal::EqualsIgnoreCase;
using sip_internal::ToLower;

struct NameEntry {
  std::string_view name;
  HeaderId id;
};

// Full names, grouped by nothing in particular: lookup filters by length and first letter before
// comparing, which keeps it to one or two comparisons per header without a hash.
constexpr std::array<NameEntry, 28> kNames = {{
    {"Via", HeaderId::kVia},
    {"From", HeaderId::kFrom},
    {"To", HeaderId::kTo},
    {"Call-ID", HeaderId::kCallId},
    {"CSeq", HeaderId::kCSeq},
    {"Max-Forwards", HeaderId::kMaxForwards},
    {"Route", HeaderId::kRoute},
    {"Record-Route", HeaderId::kRecordRoute},
    {"Contact", HeaderId::kContact},
    {"Content-Length", HeaderId::kContentLength},
    {"Content-Type", HeaderId::kContentType},
    {"Expires", HeaderId::kExpires},
    {"Require", HeaderId::kRequire},
    {"Proxy-Require", HeaderId::kProxyRequire},
    {"Supported", HeaderId::kSupported},
    {"Unsupported", HeaderId::kUnsupported},
    {"Date", HeaderId::kDate},
    {"Retry-After", HeaderId::kRetryAfter},
    {"Content-Encoding", HeaderId::kContentEncoding},
    {"Subject", HeaderId::kSubject},
    {"Event", HeaderId::kEvent},
    {"Allow-Events", HeaderId::kAllowEvents},
    {"Refer-To", HeaderId::kReferTo},
    {"Referred-By", HeaderId::kReferredBy},
    {"Session-Expires", HeaderId::kSessionExpires},
    {"Allow", HeaderId::kAllow},
    {"Accept", HeaderId::kAccept},
    {"Warning", HeaderId::kWarning},
}};

}  // namespace

HeaderId LookupHeaderId(std::string_view name) {
  if (name.size() == 1) {
    // Compact forms, RFC 3261 §7.3.3 and the IANA registry.
    switch (ToLower(name[0])) {
      case 'v': return HeaderId::kVia;
      case 'f': return HeaderId::kFrom;
      case 't': return HeaderId::kTo;
      case 'i': return HeaderId::kCallId;
      case 'm': return HeaderId::kContact;
      case 'l': return HeaderId::kContentLength;
      case 'c': return HeaderId::kContentType;
      case 'k': return HeaderId::kSupported;
      case 'e': return HeaderId::kContentEncoding;
      case 's': return HeaderId::kSubject;
      case 'o': return HeaderId::kEvent;
      case 'u': return HeaderId::kAllowEvents;
      case 'r': return HeaderId::kReferTo;
      case 'b': return HeaderId::kReferredBy;
      case 'x': return HeaderId::kSessionExpires;
      default: return HeaderId::kOther;
    }
  }
  if (name.empty()) return HeaderId::kOther;
  const char first = ToLower(name[0]);
  for (const NameEntry& e : kNames) {
    if (e.name.size() == name.size() && ToLower(e.name[0]) == first &&
        EqualsIgnoreCase(e.name, name)) {
      return e.id;
    }
  }
  return HeaderId::kOther;
}

std::string_view CanonicalName(HeaderId id) {
  for (const NameEntry& e : kNames) {
    if (e.id == id) return e.name;
  }
  return {};
}

bool IsListHeader(HeaderId id) {
  switch (id) {
    case HeaderId::kVia:
    case HeaderId::kRoute:
    case HeaderId::kRecordRoute:
    case HeaderId::kContact:
    case HeaderId::kRequire:
    case HeaderId::kProxyRequire:
    case HeaderId::kSupported:
    case HeaderId::kUnsupported:
    case HeaderId::kAllow:
    case HeaderId::kAccept:
    case HeaderId::kWarning:
    case HeaderId::kContentEncoding:
    case HeaderId::kAllowEvents:
      return true;
    default:
      return false;
  }
}

}  // namespace sipring::sip

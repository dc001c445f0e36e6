#include "sip/header_id.h"

#include <array>
#include <cstdint>
#include <cstring>


namespace sipring::sip {
namespace {


struct NameEntry {
  std::string_view name;
  HeaderId id;
};

// Full names, for CanonicalName(); LookupHeaderId() below is the same table as a switch.
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

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Compares a token with a lowercase name made of letters and '-' of the same length, eight bytes
// at a time. OR-ing 0x20 lowercases letters and leaves '-' alone, and maps no other token byte
// onto a letter or '-' (CR would become '-', but CR is not a token byte), so for token input
// this is an exact case-insensitive comparison. Lengths are 2..16 here.
bool TokenEquals(std::string_view name, std::string_view lower) {
  const size_t n = lower.size();
  const char* a = name.data();
  const char* b = lower.data();
  if (n >= 8) {
    constexpr uint64_t kMask = 0x2020202020202020ull;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if ((Load64(a + i) | kMask) != Load64(b + i)) return false;
    }
    return (Load64(a + n - 8) | kMask) == Load64(b + n - 8);
  }
  if (n >= 4) {
    constexpr uint32_t kMask = 0x20202020u;
    return (Load32(a) | kMask) == Load32(b) && (Load32(a + n - 4) | kMask) == Load32(b + n - 4);
  }
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<char>(a[i] | 0x20) != b[i]) return false;
  }
  return true;
}

HeaderId Candidate(std::string_view name, std::string_view lower, HeaderId id) {
  return TokenEquals(name, lower) ? id : HeaderId::kOther;
}

}  // namespace

HeaderId LookupHeaderId(std::string_view name) {
  // Dispatch on length, then first letter: at most one full comparison per header, since the
  // parser calls this for every header of every message.
  const char first = static_cast<char>(name.empty() ? 0 : (name[0] | 0x20));
  switch (name.size()) {
    case 1:
      // Compact forms, RFC 3261 §7.3.3 and the IANA registry.
      switch (first) {
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
    case 2: return Candidate(name, "to", HeaderId::kTo);
    case 3: return Candidate(name, "via", HeaderId::kVia);
    case 4:
      switch (first) {
        case 'f': return Candidate(name, "from", HeaderId::kFrom);
        case 'c': return Candidate(name, "cseq", HeaderId::kCSeq);
        case 'd': return Candidate(name, "date", HeaderId::kDate);
        default: return HeaderId::kOther;
      }
    case 5:
      switch (first) {
        case 'r': return Candidate(name, "route", HeaderId::kRoute);
        case 'e': return Candidate(name, "event", HeaderId::kEvent);
        case 'a': return Candidate(name, "allow", HeaderId::kAllow);
        default: return HeaderId::kOther;
      }
    case 6: return Candidate(name, "accept", HeaderId::kAccept);
    case 7:
      switch (first) {
        case 'c':
          if (TokenEquals(name, "call-id")) return HeaderId::kCallId;
          return Candidate(name, "contact", HeaderId::kContact);
        case 'e': return Candidate(name, "expires", HeaderId::kExpires);
        case 'r': return Candidate(name, "require", HeaderId::kRequire);
        case 's': return Candidate(name, "subject", HeaderId::kSubject);
        case 'w': return Candidate(name, "warning", HeaderId::kWarning);
        default: return HeaderId::kOther;
      }
    case 8: return Candidate(name, "refer-to", HeaderId::kReferTo);
    case 9: return Candidate(name, "supported", HeaderId::kSupported);
    case 11:
      switch (first) {
        case 'u': return Candidate(name, "unsupported", HeaderId::kUnsupported);
        case 'r':
          if (TokenEquals(name, "retry-after")) return HeaderId::kRetryAfter;
          return Candidate(name, "referred-by", HeaderId::kReferredBy);
        default: return HeaderId::kOther;
      }
    case 12:
      switch (first) {
        case 'm': return Candidate(name, "max-forwards", HeaderId::kMaxForwards);
        case 'r': return Candidate(name, "record-route", HeaderId::kRecordRoute);
        case 'c': return Candidate(name, "content-type", HeaderId::kContentType);
        case 'a': return Candidate(name, "allow-events", HeaderId::kAllowEvents);
        default: return HeaderId::kOther;
      }
    case 13: return Candidate(name, "proxy-require", HeaderId::kProxyRequire);
    case 14: return Candidate(name, "content-length", HeaderId::kContentLength);
    case 15: return Candidate(name, "session-expires", HeaderId::kSessionExpires);
    case 16: return Candidate(name, "content-encoding", HeaderId::kContentEncoding);
    default: return HeaderId::kOther;
  }
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

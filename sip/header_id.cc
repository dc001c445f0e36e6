#include "sip/header_id.h"

#include <cstring>

#include "sip/internal/header_names.h"

namespace sipring::sip {

HeaderId LookupHeaderId(std::string_view name) {
  // MatchHeaderName reads 16 bytes; a name longer than that has no id anyway.
  if (name.size() > 16) return HeaderId::kOther;
  char padded[16] = {};
  if (!name.empty()) std::memcpy(padded, name.data(), name.size());
  return sip_internal::MatchHeaderName(padded, name.size());
}

std::string_view CanonicalName(HeaderId id) {
  for (const sip_internal::HeaderNameEntry& e : sip_internal::kHeaderNames) {
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

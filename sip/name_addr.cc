#include "sip/name_addr.h"

#include <cstring>

#include "sip/internal/lex.h"

namespace sipring::sip {
namespace {

using sip_internal::IsLws;
using sip_internal::TrimLeftLws;

// A cheap plausibility check of a URI in a header (the full grammar is ParseUri()'s job, run
// eagerly only where the proxy needs the parts): starts with a scheme letter, has a ':', and does
// not end in LWS (RFC 4475 badaspec puts spaces inside the brackets).
bool LooksLikeUri(std::string_view u) {
  return u.size() >= 2 && sip_internal::IsAlpha(u[0]) &&
         !sip_internal::Is(u.back(), sip_internal::kClassUriStop) &&
         std::memchr(u.data(), ':', u.size()) != nullptr;
}

}  // namespace

bool ParseNameAddr(std::string_view value, NameAddr* out) {
  sip_internal::ResetToDefault(out);
  std::string_view s = sip_internal::TrimLws(value);
  out->value = s;
  if (s.empty()) return false;
  size_t pos = 0;
  if (s[0] == '"') {
    const size_t q = sip_internal::QuotedStringLength(s);
    if (q == 0) return false;
    out->display_name = s.substr(0, q);
    pos = q;
    while (pos < s.size() && IsLws(s[pos])) ++pos;
    if (pos >= s.size() || s[pos] != '<') return false;
  } else {
    // Either *(token LWS) "<" (display name made of tokens; lwsdisp has no LWS before '<') or an
    // addr-spec. Scan the leading token/LWS run: stopping at '<' means name-addr.
    size_t i = 0;
    while (i < s.size() && (sip_internal::IsToken(s[i]) || IsLws(s[i]))) ++i;
    if (i < s.size() && s[i] == '<') {
      out->display_name = sip_internal::TrimRightLws(s.substr(0, i));
      pos = i;
    } else {
      // addr-spec: the URI runs to the first ';' (header parameters) or LWS; it may not hold
      // '?' or ',' because those would be ambiguous without brackets (RFC 3261 §20).
      size_t e = 0;
      while (e < s.size() && !sip_internal::Is(s[e], sip_internal::kClassAddrSpecStop)) ++e;
      if (e < s.size() && (s[e] == '?' || s[e] == ',')) return false;
      out->uri = s.substr(0, e);
      if (!LooksLikeUri(out->uri)) return false;
      s = s.substr(e);
      pos = std::string_view::npos;
    }
  }
  if (pos != std::string_view::npos) {
    const void* gt = std::memchr(s.data() + pos, '>', s.size() - pos);
    if (gt == nullptr) return false;
    const size_t close = static_cast<size_t>(static_cast<const char*>(gt) - s.data());
    out->uri = s.substr(pos + 1, close - pos - 1);
    out->bracketed = true;
    if (!LooksLikeUri(out->uri)) return false;
    s = s.substr(close + 1);
  }
  out->params = sip_internal::TrimLws(s);
  return sip_internal::ForEachParam(s, [out](std::string_view name, std::string_view pvalue,
                                             bool has_value) {
    if (sip_internal::ClassifyParam(name) != sip_internal::ParamName::kTag) return true;
    if (!has_value) return false;
    out->tag = pvalue;
    out->has_tag = true;
    return true;
  });
}

}  // namespace sipring::sip

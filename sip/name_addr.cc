#include "sip/name_addr.h"

#include "sip/internal/lex.h"
#include "sip/internal/parse_within.h"
#include "sip/internal/scan.h"

namespace sipring::sip_internal {
namespace {

// A cheap plausibility check of a URI in a header (the full grammar is ParseUri()'s job, run
// eagerly only where the proxy needs the parts): starts with a scheme letter, has a ':', and does
// not end in LWS (RFC 4475 badaspec puts spaces inside the brackets).
bool LooksLikeUri(std::string_view u, const char* limit) {
  const char* const end = u.data() + u.size();
  if (u.size() < 2 || !IsAlpha(u[0]) || Is(u.back(), kClassUriStop)) return false;
  // Nearly every URI here starts "sip:": that settles the ':' without a scan.
  return (u.size() >= 4 && IsSipThen(u.data(), ':')) || FindFirst<ByteIs<':'>>(u.data(), end, limit) != end;
}

}  // namespace

bool ParseNameAddrWithin(std::string_view value, const char* limit, sip::NameAddr* out) {
  return ParseTrimmedNameAddrWithin(TrimLws(value), limit, out);
}

bool ParseTrimmedNameAddrWithin(std::string_view value, const char* limit, sip::NameAddr* out) {
  ResetToDefault(out);
  std::string_view s = value;
  out->value = s;
  if (s.empty()) return false;
  size_t pos = 0;
  if (s[0] == '<') {
    // No display name, the usual case: what the token/LWS scan below would find at once.
    out->display_name = s.substr(0, 0);
  } else if (s[0] == '"') {
    const size_t q = QuotedStringLength(s, limit);
    if (q == 0) return false;
    out->display_name = s.substr(0, q);
    pos = q;
    while (pos < s.size() && IsLws(s[pos])) ++pos;
    if (pos >= s.size() || s[pos] != '<') return false;
  } else {
    // Either *(token LWS) "<" (display name made of tokens; lwsdisp has no LWS before '<') or an
    // addr-spec. Scan the leading token/LWS run: stopping at '<' means name-addr.
    size_t i = 0;
    while (i < s.size() && (IsToken(s[i]) || IsLws(s[i]))) ++i;
    if (i < s.size() && s[i] == '<') {
      out->display_name = TrimRightLws(s.substr(0, i));
      pos = i;
    } else {
      // addr-spec: the URI runs to the first ';' (header parameters) or LWS; it may not hold
      // '?' or ',' because those would be ambiguous without brackets (RFC 3261 §20).
      const char* const stop = FindFirst<AddrSpecStopByte>(s.data(), s.data() + s.size(), limit);
      const size_t e = static_cast<size_t>(stop - s.data());
      if (e < s.size() && (s[e] == '?' || s[e] == ',')) return false;
      out->uri = s.substr(0, e);
      if (!LooksLikeUri(out->uri, limit)) return false;
      s = s.substr(e);
      pos = std::string_view::npos;
    }
  }
  if (pos != std::string_view::npos) {
    const char* const end = s.data() + s.size();
    const char* const gt = FindFirst<ByteIs<'>'>>(s.data() + pos, end, limit);
    if (gt == end) return false;
    const size_t close = static_cast<size_t>(gt - s.data());
    out->uri = s.substr(pos + 1, close - pos - 1);
    out->bracketed = true;
    if (!LooksLikeUri(out->uri, limit)) return false;
    s = s.substr(close + 1);
  }
  out->params = TrimLws(s);
  return ForEachParam(s, limit, [out](ParamName kind, std::string_view, std::string_view pvalue,
                                      bool has_value) {
    if (kind != ParamName::kTag) return true;
    if (!has_value) return false;
    out->tag = pvalue;
    out->has_tag = true;
    return true;
  });
}

}  // namespace sipring::sip_internal

namespace sipring::sip {

bool ParseNameAddr(std::string_view value, NameAddr* out) {
  return sip_internal::ParseNameAddrWithin(value, value.data() + value.size(), out);
}

}  // namespace sipring::sip

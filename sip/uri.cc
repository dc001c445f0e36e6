#include "sip/uri.h"

#include <cstdint>
#include <cstring>

#include "sip/internal/lex.h"
#include "sip/internal/parse_within.h"
#include "sip/internal/scan.h"

namespace sipring::sip_internal {
namespace {

// Where a uri-parameter ends (';' or '?'), or a byte no URI holds.
using UriParamEndByte = AnyOf<ByteIsEither<';', '?'>, UriStopByte>;

}  // namespace

// One pass over the bytes: every byte is looked at by exactly one of the scans below.
bool ParseUriWithin(std::string_view text, const char* limit, sip::Uri* uri) {
  using sip::Uri;
  ResetToDefault(uri);
  uri->text = text;
  const char* p = text.data();
  const char* const end = p + text.size();
  if (p == end || !IsAlpha(*p)) return false;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). "sip:" in any case is one word compare,
  // giving what the byte loop would.
  if (end - p >= 4 && IsSipThen(p, ':')) {
    uri->scheme = std::string_view(p, 3);
    uri->kind = Uri::Scheme::kSip;
    p += 4;
  } else {
    const char* q = p + 1;
    while (q < end && (IsAlpha(*q) || IsDigit(*q) || *q == '+' || *q == '-' || *q == '.')) ++q;
    if (q == end || *q != ':') return false;
    uri->scheme = std::string_view(p, static_cast<size_t>(q - p));
    p = q + 1;
    if (LowerNameEquals(uri->scheme, "sip")) {
      uri->kind = Uri::Scheme::kSip;
    } else if (LowerNameEquals(uri->scheme, "sips")) {
      uri->kind = Uri::Scheme::kSips;
    } else {
      uri->opaque = std::string_view(p, static_cast<size_t>(end - p));
      return p != end && FindFirst<UriStopByte>(p, end, limit) == end;
    }
  }

  // userinfo ends at the first '@': neither hostport, uri-parameters nor headers may hold a raw
  // '@', while the user part may hold ';', '?', ',' and ':' (RFC 4475 intmeth, semiuri).
  if (const char* const at = FindFirst<ByteIs<'@'>>(p, end, limit); at != end) {
    if (FindFirst<UriStopByte>(p, at, limit) != at) return false;
    // The password is after the first ':' of the userinfo; a user part may not contain ':'.
    const char* const user_end = FindFirst<ByteIs<':'>>(p, at, limit);
    uri->user = std::string_view(p, static_cast<size_t>(user_end - p));
    if (user_end != at) uri->password = std::string_view(user_end + 1, static_cast<size_t>(at - user_end - 1));
    if (uri->user.empty()) return false;
    uri->has_userinfo = true;
    p = at + 1;
  }

  // host = hostname / IPv4address / IPv6reference
  const char* const host = p;
  if (p < end && *p == '[') {
    ++p;
    while (p < end && (IsDigit(*p) || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') ||
                       *p == ':' || *p == '.')) {
      ++p;
    }
    if (p == end || *p != ']' || p - host < 3) return false;
    ++p;
  } else {
    p = FindFirst<NotHostByte>(p, end, limit);
  }
  if (p == host) return false;
  uri->host = std::string_view(host, static_cast<size_t>(p - host));
  if (p < end && *p == ':') {
    const char* const digits = ++p;
    uint64_t port = 0;
    bool ok = false;
    p = ScanDecimal(p, end, 65535, &port, &ok);
    uri->port_text = std::string_view(digits, static_cast<size_t>(p - digits));
    if (!ok || port == 0) return false;
    uri->port = static_cast<uint16_t>(port);
  }
  if (p == end) return true;
  // Whatever follows the hostport must be parameters or headers.
  if (*p == ';') {
    const char* const params = ++p;
    // uri-parameters = *( ";" uri-parameter ): every element needs a name.
    while (true) {
      const char* const element = p;
      p = FindFirst<UriParamEndByte>(p, end, limit);
      if (p != end && *p != ';' && *p != '?') return false;  // a byte no URI holds
      const char* const name_end = FindFirst<ByteIs<'='>>(element, p, limit);
      if (name_end == element) return false;  // ";;", ";=x" or a trailing ';'
      if (name_end - element == 2 && (element[0] | 0x20) == 'l' && (element[1] | 0x20) == 'r') {
        uri->lr = true;
      }
      if (p == end || *p == '?') break;
      ++p;
    }
    uri->params = std::string_view(params, static_cast<size_t>(p - params));
  }
  if (p == end) return true;
  if (*p != '?') return false;
  ++p;
  uri->headers = std::string_view(p, static_cast<size_t>(end - p));
  return p != end && FindFirst<UriStopByte>(p, end, limit) == end;
}

}  // namespace sipring::sip_internal

namespace sipring::sip {

bool ParseUri(std::string_view text, Uri* uri) {
  return sip_internal::ParseUriWithin(text, text.data() + text.size(), uri);
}

std::optional<std::string_view> FindUriParam(std::string_view params, std::string_view name) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view one = params.substr(0, semi);
    const size_t eq = one.find('=');
    const std::string_view n = sip_internal::TrimLws(one.substr(0, eq));
    if (sip_internal::EqualsIgnoreCase(n, name)) {
      return eq == std::string_view::npos ? std::string_view() : sip_internal::TrimLws(one.substr(eq + 1));
    }
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

}  // namespace sipring::sip

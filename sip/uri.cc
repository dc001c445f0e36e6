#include "sip/uri.h"

#include <cstring>

#include "sip/internal/lex.h"

namespace sipring::sip {
namespace {

using sip_internal::EqualsIgnoreCase;
using sip_internal::Is;
using sip_internal::kClassHost;
using sip_internal::kClassUriStop;

bool HasUriStop(std::string_view s) {
  for (char c : s) {
    if (Is(c, kClassUriStop)) return true;
  }
  return false;
}

bool ValidParams(std::string_view params) {
  // uri-parameters = *( ";" uri-parameter ): every element needs a name.
  while (true) {
    const size_t semi = params.find(';');
    const std::string_view one = params.substr(0, semi);
    if (one.empty() || one[0] == '=') return false;
    if (semi == std::string_view::npos) return true;
    params.remove_prefix(semi + 1);
  }
}

}  // namespace

bool ParseUri(std::string_view text, Uri* uri) {
  *uri = Uri();
  uri->text = text;
  if (text.empty() || !sip_internal::IsAlpha(text[0]) || HasUriStop(text)) return false;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  size_t i = 1;
  while (i < text.size() && (sip_internal::IsAlpha(text[i]) || sip_internal::IsDigit(text[i]) ||
                             text[i] == '+' || text[i] == '-' || text[i] == '.')) {
    ++i;
  }
  if (i >= text.size() || text[i] != ':') return false;
  uri->scheme = text.substr(0, i);
  std::string_view rest = text.substr(i + 1);
  if (EqualsIgnoreCase(uri->scheme, "sip")) {
    uri->kind = Uri::Scheme::kSip;
  } else if (EqualsIgnoreCase(uri->scheme, "sips")) {
    uri->kind = Uri::Scheme::kSips;
  } else {
    uri->opaque = rest;
    return !rest.empty();
  }

  // userinfo ends at the first '@': neither hostport, uri-parameters nor headers may hold a raw
  // '@', while the user part may hold ';', '?', ',' and ':' (RFC 4475 intmeth, semiuri).
  if (const void* at = std::memchr(rest.data(), '@', rest.size())) {
    const size_t a = static_cast<size_t>(static_cast<const char*>(at) - rest.data());
    std::string_view userinfo = rest.substr(0, a);
    // The password is after the first ':' of the userinfo; a user part may not contain ':'.
    const size_t colon = userinfo.find(':');
    uri->user = userinfo.substr(0, colon);
    if (colon != std::string_view::npos) uri->password = userinfo.substr(colon + 1);
    if (uri->user.empty()) return false;
    uri->has_userinfo = true;
    rest.remove_prefix(a + 1);
  }

  // host = hostname / IPv4address / IPv6reference
  size_t h = 0;
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (size_t k = 1; k < close; ++k) {
      const char c = rest[k];
      const bool hex = sip_internal::IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.') return false;
    }
    h = close + 1;
  } else {
    while (h < rest.size() && Is(rest[h], kClassHost) && rest[h] != ':' && rest[h] != '[' &&
           rest[h] != ']') {
      ++h;
    }
  }
  if (h == 0) return false;
  uri->host = rest.substr(0, h);
  rest.remove_prefix(h);
  if (!rest.empty() && rest[0] == ':') {
    size_t p = 1;
    while (p < rest.size() && sip_internal::IsDigit(rest[p])) ++p;
    uri->port_text = rest.substr(1, p - 1);
    uint64_t port = 0;
    if (!sip_internal::ParseDecimal(uri->port_text, 65535, &port) || port == 0) return false;
    uri->port = static_cast<uint16_t>(port);
    rest.remove_prefix(p);
  }
  // Whatever follows the hostport must be parameters or headers.
  if (!rest.empty() && rest[0] != ';' && rest[0] != '?') return false;
  const size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    uri->headers = rest.substr(q + 1);
    if (uri->headers.empty()) return false;
    rest = rest.substr(0, q);
  }
  if (!rest.empty()) {
    uri->params = rest.substr(1);
    if (!ValidParams(uri->params)) return false;
    uri->lr = FindUriParam(uri->params, "lr").has_value();
  }
  return true;
}

std::optional<std::string_view> FindUriParam(std::string_view params, std::string_view name) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view one = params.substr(0, semi);
    const size_t eq = one.find('=');
    const std::string_view n = sip_internal::TrimLws(one.substr(0, eq));
    if (EqualsIgnoreCase(n, name)) {
      return eq == std::string_view::npos ? std::string_view() : sip_internal::TrimLws(one.substr(eq + 1));
    }
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

}  // namespace sipring::sip

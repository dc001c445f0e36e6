#include "sip/via.h"

#include "sip/internal/lex.h"

namespace sipring::sip {
namespace {

using sip_internal::EqualsIgnoreCase;
using sip_internal::TokenLength;
using sip_internal::TrimLeftLws;

// Reads a token, then the SWS "/" SWS separator when `slash` is set.
bool TakeToken(std::string_view* s, std::string_view* out, bool slash) {
  *s = TrimLeftLws(*s);
  const size_t n = TokenLength(*s);
  if (n == 0) return false;
  *out = s->substr(0, n);
  *s = TrimLeftLws(s->substr(n));
  if (slash) {
    if (s->empty() || (*s)[0] != '/') return false;
    s->remove_prefix(1);
  }
  return true;
}

}  // namespace

bool ParseVia(std::string_view value, Via* via) {
  *via = Via();
  via->value = value;
  std::string_view s = value;
  if (!TakeToken(&s, &via->protocol_name, true) || !TakeToken(&s, &via->protocol_version, true) ||
      !TakeToken(&s, &via->transport, false)) {
    return false;
  }
  // sent-by = host [ COLON port ]
  size_t h = 0;
  if (!s.empty() && s[0] == '[') {
    h = s.find(']');
    if (h == std::string_view::npos) return false;
    ++h;
  } else {
    while (h < s.size() && sip_internal::Is(s[h], sip_internal::kClassHost) && s[h] != ':' &&
           s[h] != '[' && s[h] != ']') {
      ++h;
    }
  }
  if (h == 0) return false;
  via->host = s.substr(0, h);
  s = TrimLeftLws(s.substr(h));
  if (!s.empty() && s[0] == ':') {
    s = TrimLeftLws(s.substr(1));
    size_t p = 0;
    while (p < s.size() && sip_internal::IsDigit(s[p])) ++p;
    uint64_t port = 0;
    if (!sip_internal::ParseDecimal(s.substr(0, p), 65535, &port)) return false;
    via->port_text = s.substr(0, p);
    via->port = static_cast<uint16_t>(port);
    s = s.substr(p);
  }
  via->params = sip_internal::TrimLws(s);
  std::string_view name, pvalue;
  bool has_value = false;
  while (true) {
    switch (sip_internal::NextParam(&s, &name, &pvalue, &has_value)) {
      case sip_internal::ParamStep::kEnd:
        return true;
      case sip_internal::ParamStep::kError:
        return false;
      case sip_internal::ParamStep::kParam:
        break;
    }
    if (EqualsIgnoreCase(name, "branch")) {
      if (!has_value) return false;
      via->branch = pvalue;
    } else if (EqualsIgnoreCase(name, "received")) {
      if (!has_value) return false;
      via->received = pvalue;
    } else if (EqualsIgnoreCase(name, "rport")) {
      via->has_rport = true;
      via->rport = pvalue;
    } else if (EqualsIgnoreCase(name, "maddr")) {
      if (!has_value) return false;
      via->maddr = pvalue;
    } else if (EqualsIgnoreCase(name, "ttl")) {
      uint64_t ttl = 0;
      if (!sip_internal::ParseDecimal(pvalue, 255, &ttl)) return false;
      via->ttl = pvalue;
    }
  }
}

}  // namespace sipring::sip

#include "sip/via.h"

#include <cstring>

#include "sip/internal/lex.h"

namespace sipring::sip {
namespace {

using sip_internal::IsLws;

// Cursor over a via-parm; all scans are bounded by `end`.
struct Cursor {
  const char* p;
  const char* end;

  void SkipLws() {
    while (p < end && IsLws(*p)) ++p;
  }
  bool Token(std::string_view* out) {
    SkipLws();
    const char* const begin = p;
    while (p < end && sip_internal::IsToken(*p)) ++p;
    *out = std::string_view(begin, static_cast<size_t>(p - begin));
    return p != begin;
  }
  bool Expect(char c) {
    SkipLws();
    if (p == end || *p != c) return false;
    ++p;
    return true;
  }
};

}  // namespace

bool ParseVia(std::string_view value, Via* via) {
  sip_internal::ResetToDefault(via);
  via->value = value;
  Cursor c{value.data(), value.data() + value.size()};
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport (SLASH = SWS "/" SWS)
  if (!c.Token(&via->protocol_name) || !c.Expect('/') || !c.Token(&via->protocol_version) ||
      !c.Expect('/') || !c.Token(&via->transport)) {
    return false;
  }
  c.SkipLws();
  // sent-by = host [ COLON port ]
  const char* const host = c.p;
  if (c.p < c.end && *c.p == '[') {
    const void* close = std::memchr(c.p, ']', static_cast<size_t>(c.end - c.p));
    if (close == nullptr) return false;
    c.p = static_cast<const char*>(close) + 1;
  } else {
    while (c.p < c.end && sip_internal::Is(*c.p, sip_internal::kClassHost)) ++c.p;
  }
  if (c.p == host) return false;
  via->host = std::string_view(host, static_cast<size_t>(c.p - host));
  c.SkipLws();
  if (c.p < c.end && *c.p == ':') {
    ++c.p;
    c.SkipLws();
    const char* const digits = c.p;
    while (c.p < c.end && sip_internal::IsDigit(*c.p)) ++c.p;
    uint64_t port = 0;
    via->port_text = std::string_view(digits, static_cast<size_t>(c.p - digits));
    if (!sip_internal::ParseDecimal(via->port_text, 65535, &port)) return false;
    via->port = static_cast<uint16_t>(port);
  }
  std::string_view s(c.p, static_cast<size_t>(c.end - c.p));
  via->params = sip_internal::TrimLws(s);
  return sip_internal::ForEachParam(s, [via](std::string_view name, std::string_view pvalue,
                                             bool has_value) {
    switch (sip_internal::ClassifyParam(name)) {
      case sip_internal::ParamName::kBranch:
        if (!has_value) return false;
        via->branch = pvalue;
        return true;
      case sip_internal::ParamName::kReceived:
        if (!has_value) return false;
        via->received = pvalue;
        return true;
      case sip_internal::ParamName::kRport:
        via->has_rport = true;
        via->rport = pvalue;
        return true;
      case sip_internal::ParamName::kMaddr:
        if (!has_value) return false;
        via->maddr = pvalue;
        return true;
      case sip_internal::ParamName::kTtl: {
        uint64_t ttl = 0;
        if (!sip_internal::ParseDecimal(pvalue, 255, &ttl)) return false;
        via->ttl = pvalue;
        return true;
      }
      default:
        return true;
    }
  });
}

}  // namespace sipring::sip

#include "sip/via.h"

#include <cstring>

#include "sip/internal/lex.h"
#include "sip/internal/parse_within.h"
#include "sip/internal/scan.h"

namespace sipring::sip_internal {
namespace {

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
    while (p < end && IsToken(*p)) ++p;
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

bool ParseViaWithin(std::string_view value, const char* limit, sip::Via* via) {
  ResetToDefault(via);
  via->value = value;
  Cursor c{value.data(), value.data() + value.size()};
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport (SLASH = SWS "/" SWS).
  // Nearly every sender writes "SIP/2.0/" without LWS: compare it as one word, which yields the
  // same views as the token-by-token path.
  uint64_t head = 0;
  if (c.end - c.p >= 8) std::memcpy(&head, c.p, 8);
  static constexpr uint64_t kSip20 = WordOf("SIP/2.0/");
  if (head == kSip20) {
    via->protocol_name = std::string_view(c.p, 3);
    via->protocol_version = std::string_view(c.p + 4, 3);
    c.p += 8;
    // The usual transports followed by SP: the token loop would stop at the same SP.
    uint32_t word = 0;
    if (c.end - c.p >= 4) std::memcpy(&word, c.p, 4);
    static constexpr uint64_t kUdp = WordOf("UDP "), kTcp = WordOf("TCP "), kTls = WordOf("TLS ");
    if (word == kUdp || word == kTcp || word == kTls) {
      via->transport = std::string_view(c.p, 3);
      c.p += 4;
    } else if (!c.Token(&via->transport)) {
      return false;
    }
  } else if (!c.Token(&via->protocol_name) || !c.Expect('/') || !c.Token(&via->protocol_version) ||
             !c.Expect('/') || !c.Token(&via->transport)) {
    return false;
  }
  c.SkipLws();
  // sent-by = host [ COLON port ]
  const char* const host = c.p;
  if (c.p < c.end && *c.p == '[') {
    const char* const close = FindFirst<ByteIs<']'>>(c.p, c.end, limit);
    if (close == c.end) return false;
    c.p = close + 1;
  } else {
    c.p = FindFirst<NotHostByte>(c.p, c.end, limit);
  }
  if (c.p == host) return false;
  via->host = std::string_view(host, static_cast<size_t>(c.p - host));
  c.SkipLws();
  if (c.p < c.end && *c.p == ':') {
    ++c.p;
    c.SkipLws();
    const char* const digits = c.p;
    uint64_t port = 0;
    bool ok = false;
    c.p = ScanDecimal(c.p, c.end, 65535, &port, &ok);
    via->port_text = std::string_view(digits, static_cast<size_t>(c.p - digits));
    if (!ok) return false;
    via->port = static_cast<uint16_t>(port);
  }
  std::string_view s(c.p, static_cast<size_t>(c.end - c.p));
  via->params = TrimLws(s);
  return ForEachParam(s, limit, [via](ParamName kind, std::string_view, std::string_view pvalue,
                                      bool has_value) {
    switch (kind) {
      case ParamName::kBranch:
        if (!has_value) return false;
        via->branch = pvalue;
        return true;
      case ParamName::kReceived:
        if (!has_value) return false;
        via->received = pvalue;
        return true;
      case ParamName::kRport:
        via->has_rport = true;
        via->rport = pvalue;
        return true;
      case ParamName::kMaddr:
        if (!has_value) return false;
        via->maddr = pvalue;
        return true;
      case ParamName::kTtl: {
        uint64_t ttl = 0;
        if (!ParseDecimal(pvalue, 255, &ttl)) return false;
        via->ttl = pvalue;
        return true;
      }
      default:
        return true;
    }
  });
}

}  // namespace sipring::sip_internal

namespace sipring::sip {

bool ParseVia(std::string_view value, Via* via) {
  return sip_internal::ParseViaWithin(value, value.data() + value.size(), via);
}

}  // namespace sipring::sip

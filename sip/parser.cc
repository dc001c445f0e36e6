#include "sip/parser.h"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sip/internal/header_names.h"
#include "sip/internal/lex.h"
#include "sip/internal/parse_within.h"
#include "sip/internal/scan.h"

namespace sipring::sip {
namespace {

using sip_internal::NextListElement;
using sip_internal::ParseDecimal;
using sip_internal::TrimLws;

constexpr uint64_t kMaxUint32 = 0xffffffffu;

// How far the sub-parsers may read (sip/internal/scan.h): every view they get lies inside the
// buffer being parsed, so its end bounds their 16-byte steps.
const char* Limit(const Message& m) { return m.buffer.data() + m.buffer.size(); }

// Keeps the first syntax error and the first limit error; the limit error wins at the end.
struct ErrorSink {
  ParseError syntax = ParseError::kOk;
  ParseError limit = ParseError::kOk;
  void Note(ParseError e) {
    ParseError& slot = IsLimitError(e) ? limit : syntax;
    if (slot == ParseError::kOk) slot = e;
  }
  ParseError Result() const { return limit != ParseError::kOk ? limit : syntax; }
};

// Offset of the first SP in line[from..), or npos; `line` lies inside m's buffer.
size_t FindSpace(std::string_view line, size_t from, const Message& m) {
  const char* const end = line.data() + line.size();
  const char* const sp = sip_internal::FindFirst<sip_internal::ByteIs<' '>>(line.data() + from, end, Limit(m));
  return sp == end ? std::string_view::npos : static_cast<size_t>(sp - line.data());
}

// "SIP/" in any case at the start of `s`.
bool StartsWithSipSlash(std::string_view s) { return s.size() >= 4 && sip_internal::IsSipThen(s.data(), '/'); }

// "SIP/2.0" in any case: two overlapping word compares.
bool IsSip20(std::string_view v) {
  if (v.size() != 7 || !sip_internal::IsSipThen(v.data(), '/')) return false;
  uint32_t tail;
  std::memcpy(&tail, v.data() + 3, 4);
  return tail == ('/' | '2' << 8 | '.' << 16 | static_cast<uint32_t>('0') << 24);
}

// "SIP/" 1*DIGIT "." 1*DIGIT: a version we recognise as one, just not ours (505, not 400).
bool LooksLikeSipVersion(std::string_view v) {
  if (v.size() < 7 || !StartsWithSipSlash(v)) return false;
  v.remove_prefix(4);
  const size_t dot = v.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot + 1 == v.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i != dot && !sip_internal::IsDigit(v[i])) return false;
  }
  return true;
}

void ParseStartLine(const ParseLimits& limits, Message* m, ErrorSink* errors) {
  const std::string_view line = m->start_line;
  if (StartsWithSipSlash(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
    m->kind = Message::Kind::kResponse;
    const size_t sp = FindSpace(line, 0, *m);
    if (sp == std::string_view::npos) return errors->Note(ParseError::kBadStartLine);
    m->version = line.substr(0, sp);
    if (!IsSip20(m->version)) errors->Note(ParseError::kBadVersion);
    std::string_view rest = line.substr(sp + 1);
    size_t d = 0;
    while (d < rest.size() && sip_internal::IsDigit(rest[d])) ++d;
    uint64_t code = 0;
    // Exactly three digits (bigcode sends ten); then SP, or nothing when a sender dropped the SP
    // before an empty reason.
    if (d != 3 || !ParseDecimal(rest.substr(0, 3), 699, &code) || code < 100 ||
        (rest.size() > 3 && rest[3] != ' ')) {
      return errors->Note(ParseError::kBadStatusCode);
    }
    m->status_code = static_cast<int>(code);
    m->reason = rest.size() > 3 ? rest.substr(4) : std::string_view();
    return;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF, single SPs only (RFC 4475 lwsstart,
  // trws, lwsruri are rejected: a liberal parse could not be forwarded faithfully anyway).
  m->kind = Message::Kind::kRequest;
  const size_t sp1 = FindSpace(line, 0, *m);
  if (sp1 == std::string_view::npos) return errors->Note(ParseError::kBadStartLine);
  const size_t sp2 = FindSpace(line, sp1 + 1, *m);
  if (sp2 == std::string_view::npos) return errors->Note(ParseError::kBadStartLine);
  m->method = line.substr(0, sp1);
  m->request_uri_text = line.substr(sp1 + 1, sp2 - sp1 - 1);
  m->version = line.substr(sp2 + 1);
  if (m->request_uri_text.size() > limits.max_uri_length) errors->Note(ParseError::kUriTooLong);
  if (!sip_internal::IsTokenString(m->method) || m->request_uri_text.empty() ||
      FindSpace(line, sp2 + 1, *m) != std::string_view::npos) {
    return errors->Note(ParseError::kBadStartLine);
  }
  if (!IsSip20(m->version)) {
    return errors->Note(LooksLikeSipVersion(m->version) ? ParseError::kBadVersion
                                                        : ParseError::kBadStartLine);
  }
  if (!sip_internal::ParseUriWithin(m->request_uri_text, Limit(*m), &m->request_uri)) {
    errors->Note(ParseError::kBadRequestUri);
  }
}

void ParseViaHeader(std::string_view value, uint16_t index, Message* m, ErrorSink* errors) {
  std::string_view rest = value;
  do {
    // A value without a ',' comes back whole, and the header loop has already trimmed it.
    const std::string_view raw = NextListElement(&rest, Limit(*m));
    const std::string_view element = raw.size() == value.size() ? raw : TrimLws(raw);
    if (m->via_count == kMaxVias) return errors->Note(ParseError::kTooManyValues);
    Via& via = m->vias[m->via_count];
    if (element.empty() || !sip_internal::ParseViaWithin(element, Limit(*m), &via)) {
      return errors->Note(ParseError::kBadVia);
    }
    via.header_index = index;
    ++m->via_count;
  } while (rest.data() != nullptr);
}

// One element of a name-addr list. An element as long as the whole (trimmed) header value is
// the value itself: no ',' split it off, so it needs no trim.
bool ParseElementNameAddr(std::string_view element, std::string_view value, const char* limit,
                          NameAddr* out) {
  return element.size() == value.size() ? sip_internal::ParseTrimmedNameAddrWithin(element, limit, out)
                                        : sip_internal::ParseNameAddrWithin(element, limit, out);
}

void ParseRouteHeader(std::string_view value, uint16_t index, const char* limit, RouteValue* values,
                      uint16_t* count, size_t capacity, ParseError bad, ErrorSink* errors) {
  std::string_view rest = value;
  do {
    const std::string_view element = NextListElement(&rest, limit);
    if (*count == capacity) return errors->Note(ParseError::kTooManyValues);
    RouteValue& rv = values[*count];
    // Route and Record-Route values are always name-addr (RFC 3261 §20.30, §20.34).
    if (!ParseElementNameAddr(element, value, limit, &rv.addr) || !rv.addr.bracketed ||
        !sip_internal::ParseUriWithin(rv.addr.uri, limit, &rv.uri)) {
      return errors->Note(bad);
    }
    rv.addr.header_index = index;
    ++*count;
  } while (rest.data() != nullptr);
}

void ParseContactHeader(std::string_view value, uint16_t index, Message* m, ErrorSink* errors) {
  if (value == "*") {
    m->contact_star = true;
    return;
  }
  std::string_view rest = value;
  do {
    const std::string_view element = NextListElement(&rest, Limit(*m));
    if (m->contact_count == kMaxContacts) return errors->Note(ParseError::kTooManyValues);
    NameAddr& na = m->contacts[m->contact_count];
    if (!ParseElementNameAddr(element, value, Limit(*m), &na)) {
      return errors->Note(ParseError::kBadContact);
    }
    na.header_index = index;
    ++m->contact_count;
  } while (rest.data() != nullptr);
}

bool ParseCSeq(std::string_view value, CSeq* out) {
  uint64_t number = 0;
  bool ok = false;
  const size_t d = static_cast<size_t>(
      sip_internal::ScanDecimal(value.data(), value.data() + value.size(), kMaxUint32, &number, &ok) -
      value.data());
  if (!ok) return false;
  const std::string_view method = TrimLws(value.substr(d));
  if (method.size() == value.size() - d) return false;  // no LWS between number and method
  if (!sip_internal::IsTokenString(method)) return false;
  out->number = static_cast<uint32_t>(number);
  out->method = method;
  return true;
}

// Structured parse of the headers the proxy acts on; the others are only indexed.
// `first`: no header with this id came before it.
void ParseKnownHeader(const Header& h, HeaderId id, bool first, uint16_t index, Message* m,
                      ErrorSink* errors) {
  uint64_t n = 0;
  switch (id) {
    case HeaderId::kVia:
      return ParseViaHeader(h.value, index, m, errors);
    case HeaderId::kFrom:
      if (!first) return;
      if (!sip_internal::ParseTrimmedNameAddrWithin(h.value, Limit(*m), &m->from)) {
        errors->Note(ParseError::kBadFrom);
      }
      m->from.header_index = index;
      return;
    case HeaderId::kTo:
      if (!first) return;
      if (!sip_internal::ParseTrimmedNameAddrWithin(h.value, Limit(*m), &m->to)) {
        errors->Note(ParseError::kBadTo);
      }
      m->to.header_index = index;
      return;
    case HeaderId::kCallId:
      if (!first) return;
      m->call_id = h.value;
      // callid = word [ "@" word ]: no LWS inside. The value is trimmed and any CR/LF inside it
      // belongs to a fold, which always carries SP or HT, so looking for SP and HT decides it.
      if (h.value.empty() ||
          sip_internal::FindFirst<sip_internal::ByteIsEither<' ', '\t'>>(
              h.value.data(), h.value.data() + h.value.size(), Limit(*m)) !=
              h.value.data() + h.value.size()) {
        errors->Note(ParseError::kBadCallId);
      }
      return;
    case HeaderId::kCSeq:
      if (first && !ParseCSeq(h.value, &m->cseq)) errors->Note(ParseError::kBadCSeq);
      return;
    case HeaderId::kMaxForwards:
      if (!first) return;
      if (!ParseDecimal(h.value, 255, &n)) return errors->Note(ParseError::kBadMaxForwards);
      m->max_forwards = static_cast<int>(n);
      return;
    case HeaderId::kContentLength:
      if (!ParseDecimal(h.value, kMaxUint32, &n)) return errors->Note(ParseError::kBadContentLength);
      // Two Content-Lengths that disagree make framing impossible (RFC 4475 mcl01).
      if (m->content_length >= 0 && m->content_length != static_cast<int64_t>(n)) {
        return errors->Note(ParseError::kBadContentLength);
      }
      m->content_length = static_cast<int64_t>(n);
      return;
    case HeaderId::kExpires:
      if (!first) return;
      if (!ParseDecimal(h.value, kMaxUint32, &n)) return errors->Note(ParseError::kBadExpires);
      m->expires = static_cast<int64_t>(n);
      return;
    case HeaderId::kRoute:
      return ParseRouteHeader(h.value, index, Limit(*m), m->routes.data(), &m->route_count,
                              kMaxRoutes, ParseError::kBadRoute, errors);
    case HeaderId::kRecordRoute:
      return ParseRouteHeader(h.value, index, Limit(*m), m->record_routes.data(),
                              &m->record_route_count, kMaxRecordRoutes, ParseError::kBadRecordRoute,
                              errors);
    case HeaderId::kContact:
      return ParseContactHeader(h.value, index, m, errors);
    default:
      return;
  }
}

void Reset(std::string_view bytes, Message* m) {
  m->buffer = bytes;
  m->kind = Message::Kind::kUnknown;
  m->start_line = m->method = m->request_uri_text = m->version = m->reason = {};
  sip_internal::ResetToDefault(&m->request_uri);
  m->status_code = 0;
  m->header_count = 0;
  m->headers_complete = false;
  m->first.fill(kNoHeader);
  m->last.fill(kNoHeader);
  // Copied from a constant: count.fill(0) became a memset call for these 29 bytes.
  static constexpr std::array<uint8_t, kHeaderIdCount> kNoCounts{};
  m->count = kNoCounts;
  m->via_count = m->route_count = m->record_route_count = m->contact_count = 0;
  m->contact_star = false;
  // From and To are reset by whoever parses them (ParseKnownHeader, the first of each) or, when
  // the message has none, by Parse() at the end: resetting them here too cost a third copy.
  m->call_id = {};
  m->cseq = CSeq();
  m->max_forwards = -1;
  m->content_length = -1;
  m->expires = -1;
  m->header_end = m->body_offset = 0;
  m->body = m->trailing = {};
}

ParseError ParseMessage(std::string_view input, const ParseLimits& limits, Message* m) {
  Reset(input, m);
  ErrorSink errors;
  std::string_view bytes = input;
  if (bytes.size() > limits.max_message_size) {
    // Still index what fits, so the 513 can carry the Vias.
    errors.Note(ParseError::kMessageTooLarge);
    bytes = bytes.substr(0, limits.max_message_size);
  }
  // Offsets are 32-bit; a message this large is over any sane limit anyway.
  if (bytes.size() >= kMaxUint32) return ParseError::kMessageTooLarge;
  const char* const base = bytes.data();
  const size_t n = bytes.size();

  const char* const nl = sip_internal::FindFirst<sip_internal::ByteIs<'\n'>>(base, base + n, Limit(*m));
  if (nl == base + n) {
    errors.Note(ParseError::kIncomplete);
    return errors.Result();
  }
  const size_t start_eol = static_cast<size_t>(nl - base);
  m->start_line = bytes.substr(0, start_eol > 0 && base[start_eol - 1] == '\r' ? start_eol - 1 : start_eol);
  ParseStartLine(limits, m, &errors);

  // Pointer-based: this loop runs for every header of every message. Every header line found
  // ends at a '\n' inside the buffer, which stops the token and SP/HT scans without a bounds
  // check. The count and the limits live in locals: through the stores into *m the compiler
  // cannot tell that they (or the input bytes) did not change, and would reload them per line.
  const char* p = base + start_eol + 1;
  const char* const end = base + n;
  const size_t max_headers = limits.max_headers < kMaxHeaders ? limits.max_headers : kMaxHeaders;
  const uint32_t max_header_length = limits.max_header_length;
  uint16_t header_count = 0;
  while (true) {
    if (p >= end) {
      errors.Note(ParseError::kIncomplete);
      break;
    }
    // The empty line ends the header section (a bare LF is tolerated like the line ends below).
    if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
      m->header_end = static_cast<uint32_t>(p - base);
      m->body_offset = static_cast<uint32_t>(p - base + (*p == '\n' ? 1 : 2));
      m->headers_complete = true;
      break;
    }
    // Fast path: a name we have an id for, then optional SP/HT and ':', all in the first 16
    // bytes. A matched name is made of letters and '-' only, so it is a token and holds no line
    // end; anything else (extension headers, odd spacing, bad lines) takes the byte loop below,
    // which finds the same name and colon for every line the fast path accepts.
    const char* name_end = nullptr;
    const char* colon = nullptr;
    HeaderId name_id = HeaderId::kOther;
#if defined(__SSE2__)
    if (end - p >= 16) {
      const unsigned colons = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8(':'))));
      if (colons != 0) {
        const char* const c = p + std::countr_zero(colons);
        const char* e = c;
        // c[-1] is readable even when c == p (the previous line's '\n'), and SP/HT are <= SP.
        if (static_cast<uint8_t>(e[-1]) <= ' ') {
          while (e > p && (e[-1] == ' ' || e[-1] == '\t')) --e;
        }
        name_id = sip_internal::MatchHeaderName(p, static_cast<size_t>(e - p));
        if (name_id != HeaderId::kOther) {
          name_end = e;
          colon = c;
        }
      }
    }
#endif
    // The end of this header: a LF not followed by SP/HT (which would be a fold).
    const char* const eol = sip_internal::FindLineEnd(colon != nullptr ? colon + 1 : p, end);
    if (eol == nullptr) {
      errors.Note(ParseError::kIncomplete);
      break;
    }
    const size_t line_length = static_cast<size_t>(eol + 1 - p);
    if (line_length > max_header_length || header_count == max_headers) [[unlikely]] {
      if (line_length > max_header_length) errors.Note(ParseError::kHeaderTooLong);
      if (header_count == max_headers) {
        errors.Note(ParseError::kTooManyHeaders);
        break;
      }
    }
    const char* const content_end = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
    if (colon == nullptr) {
      name_end = p;
      while (sip_internal::IsToken(*name_end)) ++name_end;
      colon = name_end;
      while (*colon == ' ' || *colon == '\t') ++colon;
      if (name_end == p || colon >= content_end || *colon != ':') {
        errors.Note(ParseError::kBadHeaderLine);
        p = eol + 1;
        continue;
      }
      name_id = LookupHeaderId(std::string_view(p, static_cast<size_t>(name_end - p)));
    }
    const char* value_begin = colon + 1;
    // Nearly every sender writes one SP after the colon: then the next byte ends the skip (no LWS
    // byte is above SP, and the line's CR/LF is not, so value_begin + 1 is inside the line).
    if (value_begin < content_end && *value_begin == ' ' &&
        static_cast<uint8_t>(value_begin[1]) > ' ') {
      ++value_begin;
    } else {
      while (value_begin < content_end && sip_internal::IsLws(*value_begin)) ++value_begin;
    }
    const char* value_end = content_end;
    while (value_end > value_begin && sip_internal::IsLws(value_end[-1])) --value_end;

    const uint16_t index = header_count++;
    Header& h = m->headers[index];
    h.name = std::string_view(p, static_cast<size_t>(name_end - p));
    h.value = std::string_view(value_begin, static_cast<size_t>(value_end - value_begin));
    h.offset = static_cast<uint32_t>(p - base);
    h.length = static_cast<uint32_t>(line_length);
    h.id = name_id;
    h.next_same = kNoHeader;
    if (name_id != HeaderId::kOther) {
      const size_t id = static_cast<size_t>(name_id);
      const uint16_t last = m->last[id];
      if (last == kNoHeader) {
        m->first[id] = index;
      } else {
        m->headers[last].next_same = index;
      }
      m->last[id] = index;
      const uint8_t count = m->count[id];
      if (count < 255) m->count[id] = static_cast<uint8_t>(count + 1);
      ParseKnownHeader(h, name_id, count == 0, index, m, &errors);
    }
    p = eol + 1;
  }
  m->header_count = header_count;

  if (m->headers_complete) {
    // Body bytes come from the whole input, not the truncated view: a message over the size
    // limit has already failed, and its body is never used.
    const size_t available = input.size() - m->body_offset;
    if (m->content_length < 0) {
      m->body = input.substr(m->body_offset);
    } else if (static_cast<uint64_t>(m->content_length) > limits.max_body_size) {
      errors.Note(ParseError::kBodyTooLarge);
    } else if (static_cast<size_t>(m->content_length) > available) {
      errors.Note(ParseError::kBodyTruncated);
      m->body = input.substr(m->body_offset);
    } else {
      m->body = input.substr(m->body_offset, static_cast<size_t>(m->content_length));
      m->trailing = input.substr(m->body_offset + static_cast<size_t>(m->content_length));
    }
  }
  return errors.Result();
}

}  // namespace

ParseError Parse(std::string_view input, const ParseLimits& limits, Message* m) {
  const ParseError result = ParseMessage(input, limits, m);
  if (m->count[static_cast<size_t>(HeaderId::kFrom)] == 0) sip_internal::ResetToDefault(&m->from);
  if (m->count[static_cast<size_t>(HeaderId::kTo)] == 0) sip_internal::ResetToDefault(&m->to);
  return result;
}

}  // namespace sipring::sip

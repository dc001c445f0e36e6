// File: sip/internal/lex.h
//
// Character classes and tiny scanning helpers shared by the sip/ parsers (RFC 3261 §25.1).
// Internal to sip/: nobody outside the folder may include it (STYLE.md rule 4).
//
// Everything here is a pure function over bytes: no state, no allocation, callable from any
// thread. Header values handed to these helpers still contain their line folds (CRLF followed by
// SP/HT), because the parser returns views and never rewrites the buffer; inside a value a CR or
// LF can only be part of a fold, so the helpers treat CR and LF as whitespace (LWS).
//
// Example:
//   std::string_view v = "  SIP / 2.0";
//   v = sip_internal::TrimLws(v);  // "SIP / 2.0"
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sip/internal/scan.h"

namespace sipring::sip_internal {

// Bit flags of the character-class table.
inline constexpr uint8_t kClassToken = 1;   // RFC 3261 token: alphanum / "-.!%*_+`'~"
inline constexpr uint8_t kClassLws = 2;     // SP, HT, CR, LF (LWS inside a folded value)
inline constexpr uint8_t kClassDigit = 4;   // 0-9
inline constexpr uint8_t kClassAlpha = 8;   // A-Z a-z
inline constexpr uint8_t kClassHost = 16;   // hostname / IPv4 characters: alphanum - . (not : [ ])
inline constexpr uint8_t kClassUriStop = 32;  // bytes that never occur in a URI (LWS, <>", CTLs)
inline constexpr uint8_t kClassValueStop = 64;  // ends an unquoted parameter value: LWS ; , "
inline constexpr uint8_t kClassAddrSpecStop = 128;  // ends / breaks an addr-spec: LWS ; ? ,

constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t f = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha) f |= kClassAlpha | kClassToken | kClassHost;
    if (digit) f |= kClassDigit | kClassToken | kClassHost;
    switch (c) {
      case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`':
      case '\'': case '~':
        f |= kClassToken;
        break;
      default:
        break;
    }
    if (c == '-' || c == '.') f |= kClassHost;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') f |= kClassLws;
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"') f |= kClassUriStop;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == ',' || c == '"') {
      f |= kClassValueStop;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '?' || c == ',') {
      f |= kClassAddrSpecStop;
    }
    t[static_cast<size_t>(c)] = f;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kCharClass = MakeClassTable();

inline bool Is(char c, uint8_t cls) { return (kCharClass[static_cast<uint8_t>(c)] & cls) != 0; }
inline bool IsToken(char c) { return Is(c, kClassToken); }
inline bool IsLws(char c) { return Is(c, kClassLws); }
inline bool IsDigit(char c) { return Is(c, kClassDigit); }
inline bool IsAlpha(char c) { return Is(c, kClassAlpha); }

// ASCII lower case; other bytes unchanged.
inline char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }

// Case-insensitive equality of two ASCII strings (SIP tokens, schemes, parameter names).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

// Whether p[0..4) is "sip" in any case followed by `then` (a scheme's "sip:", a version's
// "SIP/"): one word compare, OR-ing 0x20 into the three letters (only 'S' and 's' OR to 's'). The
// caller guarantees four readable bytes.
inline bool IsSipThen(const char* p, char then) {
  uint32_t word;
  std::memcpy(&word, p, 4);
  const uint32_t sip = 's' | 'i' << 8 | 'p' << 16 | static_cast<uint32_t>(static_cast<uint8_t>(then)) << 24;
  return (word | 0x00202020u) == sip;
}

// An IPv6 reference without its brackets ("[::1]" -> "::1"); anything else unchanged.
inline std::string_view StripBrackets(std::string_view h) {
  return h.size() >= 2 && h.front() == '[' && h.back() == ']' ? h.substr(1, h.size() - 2) : h;
}

inline std::string_view TrimLeftLws(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsLws(s[i])) ++i;
  return s.substr(i);
}

inline std::string_view TrimRightLws(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && IsLws(s[n - 1])) --n;
  return s.substr(0, n);
}

inline std::string_view TrimLws(std::string_view s) { return TrimRightLws(TrimLeftLws(s)); }

// Length of the token run at the start of `s`.
inline size_t TokenLength(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsToken(s[i])) ++i;
  return i;
}

inline bool IsTokenString(std::string_view s) { return !s.empty() && TokenLength(s) == s.size(); }

// Resets a parser's result struct (Via, Uri, NameAddr) to its defaults by copying a constant
// default object: plain 16-byte moves. `*via = Via()` makes GCC 12 build a temporary on the stack
// with `rep stos` and copy it through 16-byte loads of 8-byte stores (a store-forwarding stall),
// once per value on every message.
template <typename T>
[[gnu::always_inline]] inline void ResetToDefault(T* obj) {
  static constexpr T kDefault{};
  *obj = kDefault;
}

// Reads the run of digits starting at p (up to end) as an unsigned decimal: returns the end of
// the run, and sets *ok to whether the run is non-empty and its value at most `max`, and *out to
// the value when it is. Leading zeros are allowed, as RFC 3261 permits them, and a long run never
// wraps: the torture tests (scalar02, scalarlg, bigcode) send 20+ digit numbers on purpose. One
// pass where a digit loop and a conversion would take two (ports, CSeq). `max` < 2^60.
inline const char* ScanDecimal(const char* p, const char* end, uint64_t max, uint64_t* out,
                               bool* ok) {
  const char* const begin = p;
  uint64_t v = 0;
  bool over = false;
  for (; p < end; ++p) {
    // One unsigned compare tests for a digit: any other byte wraps to above 9.
    const uint64_t digit = static_cast<uint8_t>(*p) - uint64_t{'0'};
    if (digit > 9) break;
    v = v * 10 + digit;
    if (v > max) {
      over = true;
      v = max;  // keeps v * 10 + 9 from wrapping while the rest of the run is skipped
    }
  }
  *ok = p != begin && !over;
  *out = v;
  return p;
}

// Parses `s` as a whole as an unsigned decimal of at most `max` (ScanDecimal's rules); false when
// it is empty, holds a non-digit, or is over max.
inline bool ParseDecimal(std::string_view s, uint64_t max, uint64_t* out) {
  bool ok = false;
  uint64_t v = 0;
  if (ScanDecimal(s.data(), s.data() + s.size(), max, &v, &ok) != s.data() + s.size() || !ok) {
    return false;
  }
  *out = v;
  return true;
}

// Scans a quoted-string that starts at s[0] == '"'. Returns the length including both quotes, or
// 0 when it is unterminated. quoted-pair (backslash + any octet but CR/LF) is skipped as a unit so
// an escaped quote does not close the string (wsinv: "J Rosenberg \\\""). Bytes up to `limit`
// (>= the end of `s`) may be read, as scan.h explains.
inline size_t QuotedStringLength(std::string_view s, const char* limit) {
  const char* const end = s.data() + s.size();
  const char* p = s.data() + 1;
  while (true) {
    p = FindFirst<ByteIsEither<'"', '\\'>>(p, end, limit);
    if (p == end) return 0;
    if (*p == '"') return static_cast<size_t>(p - s.data()) + 1;
    if (end - p <= 2) return 0;  // the backslash escapes the last byte, or nothing
    p += 2;
  }
}

// Splits a comma-separated header value at its first top-level comma: commas inside
// quoted-strings and <...> do not count (a URI in angle brackets may carry a comma in its user
// part, intmeth). Returns the first element untrimmed and advances `rest` past the comma; `rest`
// becomes empty (data() == nullptr) when there is no further element. Bytes up to `limit` may be
// read (scan.h).
[[gnu::always_inline]] inline std::string_view NextListElement(std::string_view* rest,
                                                              const char* limit) {
  std::string_view s = *rest;
  // Fast path: most values (a single Via, Route, Contact) have no comma at all.
  if (s.empty() || FindFirst<ByteIs<','>>(s.data(), s.data() + s.size(), limit) == s.data() + s.size()) {
    *rest = std::string_view();
    return s;
  }
  bool in_angle = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      const size_t q = QuotedStringLength(s.substr(i), limit);
      if (q == 0) break;  // unterminated: the element runs to the end, its parser rejects it
      i += q - 1;
    } else if (c == '<') {
      in_angle = true;
    } else if (c == '>') {
      in_angle = false;
    } else if (c == ',' && !in_angle) {
      *rest = s.substr(i + 1);
      return s.substr(0, i);
    }
  }
  *rest = std::string_view();
  return s;
}

[[gnu::always_inline]] inline std::string_view NextListElement(std::string_view* rest) {
  return NextListElement(rest, rest->data() + rest->size());
}

}  // namespace sipring::sip_internal

namespace sipring::sip_internal {

// Byte classes of the table above for FindFirst (scan.h), each with its SSE2 form.

// LWS inside a folded value: SP, HT, CR, LF (kClassLws).
struct LwsByte {
  static bool Scalar(char c) { return Is(c, kClassLws); }
#if defined(__SSE2__)
  static __m128i Simd(__m128i v) {
    return _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
  }
#endif
};

// Ends an unquoted parameter value: LWS ; , " (kClassValueStop).
using ValueStopByte = AnyOf<LwsByte, ByteIsEither<';', ','>, ByteIs<'"'>>;

// Ends or breaks an addr-spec outside < >: LWS ; ? , (kClassAddrSpecStop).
using AddrSpecStopByte = AnyOf<LwsByte, ByteIsEither<';', '?'>, ByteIs<','>>;

// Not a hostname / IPv4 byte (kClassHost: alphanum, '-', '.'): where a sent-by or URI host ends.
struct NotHostByte {
  static bool Scalar(char c) { return !Is(c, kClassHost); }
#if defined(__SSE2__)
  static __m128i Simd(__m128i v) {
    // Signed compares: bytes >= 0x80 are negative and fall outside both ranges.
    const __m128i l = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
                                         _mm_cmplt_epi8(l, _mm_set1_epi8('z' + 1)));
    // '-' '.' '/' '0'..'9' is one range; '/' is taken out again.
    const __m128i range = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('-' - 1)),
                                        _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    const __m128i digit_dash_dot = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')), range);
    return _mm_xor_si128(_mm_or_si128(letter, digit_dash_dot), _mm_set1_epi8(-1));
  }
#endif
};

// A byte that never occurs in a URI: CTLs, SP, DEL, '<', '>', '"' (kClassUriStop).
struct UriStopByte {
  static bool Scalar(char c) { return Is(c, kClassUriStop); }
#if defined(__SSE2__)
  static __m128i Simd(__m128i v) {
    const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v);  // unsigned <= 0x20
    return _mm_or_si128(_mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
                        AnyOf<ByteIsEither<'<', '>'>, ByteIs<'"'>>::Simd(v));
  }
#endif
};

// The '\n' ending the header line that starts at or before `p`: the first '\n' in [p, end) not
// followed by SP or HT (those are line folds, RFC 3261 §7.3.1; a '\n' that is the last byte
// ends its line), or nullptr when there is none. The parser calls this for every header line, so
// it tests 32 bytes per step with SSE2 while they last, then 16, and only looks at the byte after
// each '\n' it finds; the last partial block goes to memchr. (The two loops' hit handling is the
// same by hand: as a shared lambda GCC 12 emitted ~75 more instructions per INVITE.)
inline const char* FindLineEnd(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i nl16 = _mm_set1_epi8('\n');
  // A header line is ~50 bytes: 32-byte steps halve the loop overhead of 16-byte ones.
  while (end - p >= 32) {
    uint32_t mask =
        static_cast<uint32_t>(_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), nl16))) |
        static_cast<uint32_t>(_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)), nl16)))
            << 16;
    while (mask != 0) {
      const char* const q = p + std::countr_zero(mask);
      if (q + 1 >= end || (q[1] != ' ' && q[1] != '\t')) return q;
      mask &= mask - 1;
    }
    p += 32;
  }
  while (end - p >= 16) {
    unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), nl16)));
    while (mask != 0) {
      const char* const q = p + std::countr_zero(mask);
      if (q + 1 >= end || (q[1] != ' ' && q[1] != '\t')) return q;
      mask &= mask - 1;
    }
    p += 16;
  }
#endif
  while (p < end) {
    const char* const q = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (q == nullptr || q + 1 >= end || (q[1] != ' ' && q[1] != '\t')) return q;
    p = q + 1;
  }
  return nullptr;
}

// Compares a token (NextParam only returns tokens) with a lowercase name made of letters and '-'.
// OR-ing 0x20 lowercases letters and leaves '-' alone; no other token byte maps onto a letter or
// '-', so this is an exact case-insensitive comparison without a branch per byte on case.
inline bool LowerNameEquals(std::string_view name, std::string_view lower) {
  const size_t n = lower.size();
  if (name.size() != n) return false;
  if (n >= 4 && n <= 8) {
    // Two overlapping 4-byte words; parameter names are tokens, so OR 0x20 folds case exactly
    // (no token byte maps onto a letter or '-' except the letters themselves).
    uint32_t a0, a1, b0, b1;
    std::memcpy(&a0, name.data(), 4);
    std::memcpy(&a1, name.data() + n - 4, 4);
    std::memcpy(&b0, lower.data(), 4);
    std::memcpy(&b1, lower.data() + n - 4, 4);
    return ((a0 | 0x20202020u) == b0) & ((a1 | 0x20202020u) == b1);
  }
  for (size_t i = 0; i < n; ++i) {
    const char c = name[i];
    if (static_cast<char>(c | 0x20) != lower[i] || c == '\r') return false;
  }
  return true;
}

// The parameters the Via and name-addr parsers act on, recognised with one comparison.
enum class ParamName {
  kOther,     // any other parameter: kept in the raw params view only
  kBranch,    // Via branch
  kReceived,  // Via received
  kRport,     // Via rport (RFC 3581)
  kMaddr,     // Via / URI maddr
  kTtl,       // Via ttl
  kTag,       // From / To tag
};

// `name` must be a token (as NextParam returns).
[[gnu::always_inline]] inline ParamName ClassifyParam(std::string_view name) {
  switch (name.size()) {
    case 3:
      if (LowerNameEquals(name, "tag")) return ParamName::kTag;
      return LowerNameEquals(name, "ttl") ? ParamName::kTtl : ParamName::kOther;
    case 5:
      if (LowerNameEquals(name, "rport")) return ParamName::kRport;
      return LowerNameEquals(name, "maddr") ? ParamName::kMaddr : ParamName::kOther;
    case 6:
      return LowerNameEquals(name, "branch") ? ParamName::kBranch : ParamName::kOther;
    case 8:
      return LowerNameEquals(name, "received") ? ParamName::kReceived : ParamName::kOther;
    default:
      return ParamName::kOther;
  }
}

// The little-endian word of up to 8 bytes of `s`, zero above them; consteval, so the compares
// below get constants (as constexpr it was computed at run time, ~200 instructions per INVITE).
consteval uint64_t WordOf(std::string_view s) {
  uint64_t w = 0;
  for (size_t i = 0; i < s.size() && i < 8; ++i) w |= uint64_t{static_cast<uint8_t>(s[i])} << (8 * i);
  return w;
}

// The known parameter name (ClassifyParam) at p, without the token loop: when the bytes there
// spell one in any case and the byte after it is not a token byte, the token run is exactly that
// name, since the names are letters only (OR 0x20 maps only 'B' and 'b' onto 'b'). Returns its
// length and sets *kind, or 0 for any other name. Reads p[0..8): the caller checks p + 8 <= limit.
// A switch on the first letters rather than a table of slots hashed on them: the table's load of
// the slot depends on the word just loaded, and measured ~6% slower per INVITE.
[[gnu::always_inline]] inline size_t MatchParamName(const char* p, const char* end, ParamName* kind) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  word |= 0x2020202020202020ull;
  size_t n = 0;
  uint64_t expect = 0;
  ParamName k = ParamName::kOther;
  switch (static_cast<uint8_t>(word)) {
    case 'b':
      n = 6, expect = WordOf("branch"), k = ParamName::kBranch;
      break;
    case 'r':
      if (static_cast<uint8_t>(word >> 8) == 'e') {
        n = 8, expect = WordOf("received"), k = ParamName::kReceived;
      } else {
        n = 5, expect = WordOf("rport"), k = ParamName::kRport;
      }
      break;
    case 'm':
      n = 5, expect = WordOf("maddr"), k = ParamName::kMaddr;
      break;
    case 't':
      if (static_cast<uint8_t>(word >> 8) == 'a') {
        n = 3, expect = WordOf("tag"), k = ParamName::kTag;
      } else {
        n = 3, expect = WordOf("ttl"), k = ParamName::kTtl;
      }
      break;
    default:
      return 0;
  }
  const uint64_t mask = n == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
  if ((word & mask) != expect || static_cast<size_t>(end - p) < n) return 0;
  if (static_cast<size_t>(end - p) > n && IsToken(p[n])) return 0;  // a longer name: "branches"
  *kind = k;
  return n;
}

// One step of a `*( SEMI generic-param )` list, RFC 3261 §25.1 (SEMI = SWS ";" SWS, generic-param
// = token [ EQUAL gen-value ], gen-value = token / host / quoted-string).
enum class ParamStep {
  kParam,  // one parameter was read into name/value; call again
  kEnd,    // no more parameters (only LWS was left)
  kError,  // malformed: empty parameter (";;"), bad name, or junk where ';' was expected
};

// Reads the next parameter from `*rest`, which must start (after optional LWS) with ';'. A value
// is a quoted-string or a run of bytes up to LWS or ';' (so received=[2001:db8::9:255] and
// bracket-less IPv6 both pass, RFC 5118 §4.5). `value` is empty and `has_value` false for a
// parameter without "=". Pointer-based and always inlined: it runs for every parameter of every
// Via and name-addr, and inlined its out-parameters stay in registers. Bytes up to `limit` may be
// read (scan.h).
[[gnu::always_inline]] inline ParamStep NextParam(std::string_view* rest, const char* limit,
                                                 ParamName* kind, std::string_view* name,
                                                 std::string_view* value, bool* has_value) {
  const char* p = rest->data();
  const char* const end = p + rest->size();
  // The usual layout is ";name=value" without LWS: each LWS loop below is entered only when the
  // byte at hand is not what that layout has there (no LWS byte is above SP).
  if (p == end || *p != ';') {
    while (p < end && IsLws(*p)) ++p;
    if (p == end) {
      *rest = std::string_view(end, 0);
      return ParamStep::kEnd;
    }
    if (*p != ';') return ParamStep::kError;
  }
  ++p;
  if (p < end && static_cast<uint8_t>(*p) <= ' ') {
    while (p < end && IsLws(*p)) ++p;
  }
  const char* const name_begin = p;
  *kind = ParamName::kOther;
  if (limit - p >= 8) {
    // A known name costs one word compare instead of the token loop and ClassifyParam; when it
    // is not one, ClassifyParam could only say kOther.
    p += MatchParamName(p, end, kind);
    if (p == name_begin) {
      while (p < end && IsToken(*p)) ++p;
    }
    if (p == name_begin) return ParamStep::kError;
    *name = std::string_view(name_begin, static_cast<size_t>(p - name_begin));
  } else {
    while (p < end && IsToken(*p)) ++p;
    if (p == name_begin) return ParamStep::kError;
    *name = std::string_view(name_begin, static_cast<size_t>(p - name_begin));
    *kind = ClassifyParam(*name);
  }
  *has_value = false;
  *value = std::string_view();
  const char* q = p;
  if (q < end && static_cast<uint8_t>(*q) <= ' ') {
    while (q < end && IsLws(*q)) ++q;
  }
  if (q < end && *q == '=') {
    ++q;
    if (q < end && static_cast<uint8_t>(*q) <= ' ') {
      while (q < end && IsLws(*q)) ++q;
    }
    const char* const value_begin = q;
    if (q < end && *q == '"') {
      const size_t n = QuotedStringLength(std::string_view(q, static_cast<size_t>(end - q)), limit);
      if (n == 0) return ParamStep::kError;
      q += n;
    } else {
      q = FindFirst<ValueStopByte>(q, end, limit);
      if (q == value_begin) return ParamStep::kError;
    }
    *value = std::string_view(value_begin, static_cast<size_t>(q - value_begin));
    *has_value = true;
    p = q;
  }
  *rest = std::string_view(p, static_cast<size_t>(end - p));
  return ParamStep::kParam;
}

// Walks a `*( SEMI generic-param )` list, calling f(kind, name, value, has_value) for each
// parameter (kind: ClassifyParam(name));
// f returns false to refuse the list (a parameter that must have a value, a bad ttl). Returns
// false on a malformed list or a refusal. The one loop over NextParam: Via, name-addr and the
// forwarder all read parameters through it. Bytes up to `limit` (>= the end of `s`) may be read
// (scan.h).
template <typename F>
[[gnu::always_inline]] inline bool ForEachParam(std::string_view s, const char* limit, F&& f) {
  ParamName kind = ParamName::kOther;
  std::string_view name, value;
  bool has_value = false;
  while (true) {
    switch (NextParam(&s, limit, &kind, &name, &value, &has_value)) {
      case ParamStep::kEnd:
        return true;
      case ParamStep::kError:
        return false;
      case ParamStep::kParam:
        break;
    }
    if (!f(kind, name, value, has_value)) return false;
  }
}

template <typename F>
[[gnu::always_inline]] inline bool ForEachParam(std::string_view s, F&& f) {
  return ForEachParam(s, s.data() + s.size(), static_cast<F&&>(f));
}

}  // namespace sipring::sip_internal

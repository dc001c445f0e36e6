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
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipring::sip_internal {

// Bit flags of the character-class table.
inline constexpr uint8_t kClassToken = 1;   // RFC 3261 token: alphanum / "-.!%*_+`'~"
inline constexpr uint8_t kClassLws = 2;     // SP, HT, CR, LF (LWS inside a folded value)
inline constexpr uint8_t kClassDigit = 4;   // 0-9
inline constexpr uint8_t kClassAlpha = 8;   // A-Z a-z
inline constexpr uint8_t kClassHost = 16;   // hostname / IPv4 / IPv6-reference characters
inline constexpr uint8_t kClassUriStop = 32;  // bytes that never occur in a URI (LWS, <>", CTLs)

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
    if (c == '-' || c == '.' || c == ':' || c == '[' || c == ']') f |= kClassHost;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') f |= kClassLws;
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"') f |= kClassUriStop;
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

// Parses an unsigned decimal of 1..n digits (leading zeros allowed, as RFC 3261 permits them)
// whose value must not exceed `max`. Rejects empty input, non-digits and overflow without ever
// wrapping: the torture tests (scalar02, scalarlg, bigcode) send 20+ digit numbers on purpose.
inline bool ParseDecimal(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > max) return false;
  }
  *out = v;
  return true;
}

// Scans a quoted-string that starts at s[0] == '"'. Returns the length including both quotes, or
// 0 when it is unterminated. quoted-pair (backslash + any octet but CR/LF) is skipped as a unit so
// an escaped quote does not close the string (wsinv: "J Rosenberg \\\"").
inline size_t QuotedStringLength(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == '"') return i + 1;
  }
  return 0;
}

// Splits a comma-separated header value at its first top-level comma: commas inside
// quoted-strings and <...> do not count (a URI in angle brackets may carry a comma in its user
// part, intmeth). Returns the first element untrimmed and advances `rest` past the comma; `rest`
// becomes empty (data() == nullptr) when there is no further element.
inline std::string_view NextListElement(std::string_view* rest) {
  std::string_view s = *rest;
  bool in_angle = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      const size_t q = QuotedStringLength(s.substr(i));
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

}  // namespace sipring::sip_internal

namespace sipring::sip_internal {

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
// parameter without "=".
inline ParamStep NextParam(std::string_view* rest, std::string_view* name, std::string_view* value,
                           bool* has_value) {
  std::string_view s = TrimLeftLws(*rest);
  if (s.empty()) {
    *rest = s;
    return ParamStep::kEnd;
  }
  if (s[0] != ';') return ParamStep::kError;
  s = TrimLeftLws(s.substr(1));
  const size_t n = TokenLength(s);
  if (n == 0) return ParamStep::kError;
  *name = s.substr(0, n);
  s = TrimLeftLws(s.substr(n));
  *has_value = false;
  *value = std::string_view();
  if (!s.empty() && s[0] == '=') {
    s = TrimLeftLws(s.substr(1));
    size_t v = 0;
    if (!s.empty() && s[0] == '"') {
      v = QuotedStringLength(s);
      if (v == 0) return ParamStep::kError;
    } else {
      while (v < s.size() && !IsLws(s[v]) && s[v] != ';' && s[v] != ',' && s[v] != '"') ++v;
      if (v == 0) return ParamStep::kError;
    }
    *value = s.substr(0, v);
    *has_value = true;
    s = s.substr(v);
  }
  *rest = s;
  return ParamStep::kParam;
}

}  // namespace sipring::sip_internal

// File: sip/internal/scan.h
//
// FindFirst<Class>(p, end, limit): the first byte of a character class in [p, end), 16 bytes per
// step with SSE2, for the scans the sip/ parsers run on every message (hosts, URI stops, '@',
// '>', quotes, parameter values). Internal to sip/ (STYLE.md rule 4).
//
// Why `limit`: the views the parsers scan are short (a host, a tag, a URI: 3..60 bytes), and a
// 16-byte step cannot start on a view shorter than 16 without reading past it. The parser knows
// that every view lies inside the message buffer, so it passes the buffer's end as `limit`: any
// byte before it may be read, only bytes before `end` are ever reported. A caller that knows
// nothing beyond the view passes limit == end and gets the byte loop for the last 15 bytes.
//
// Pure functions over bytes: no state, no allocation, any thread.
//
// Example:
//   // in "sip:alice@example.com" inside a message buffer [buf, buf_end):
//   const char* at = sip_internal::FindFirst<sip_internal::ByteIs<'@'>>(p, end, buf_end);
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sipring::sip_internal {

// Byte classes for FindFirst: Simd() sets 0xff in each lane whose byte is in the class, Scalar()
// says the same for one byte. The two must agree on all 256 byte values (scan_test.cc checks
// these and the classes lex.h builds on its character table).

template <char C>
struct ByteIs {
  static bool Scalar(char c) { return c == C; }
#if defined(__SSE2__)
  static __m128i Simd(__m128i v) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(C)); }
#endif
};

template <char A, char B>
struct ByteIsEither {
  static bool Scalar(char c) { return c == A || c == B; }
#if defined(__SSE2__)
  static __m128i Simd(__m128i v) {
    return _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(A)), _mm_cmpeq_epi8(v, _mm_set1_epi8(B)));
  }
#endif
};

// Any byte of any of the classes.
template <typename... Classes>
struct AnyOf {
  static bool Scalar(char c) { return (Classes::Scalar(c) || ...); }
#if defined(__SSE2__)
  static __m128i Simd(__m128i v) {
    __m128i hit = _mm_setzero_si128();
    ((hit = _mm_or_si128(hit, Classes::Simd(v))), ...);
    return hit;
  }
#endif
};

// First byte of `Class` in [p, end), or `end`. Bytes in [end, limit) may be read but are never
// reported; limit >= end.
template <typename Class>
[[gnu::always_inline]] inline const char* FindFirst(const char* p, const char* end, const char* limit) {
#if defined(__SSE2__)
  while (p < end && limit - p >= 16) {
    const unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(Class::Simd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
    if (mask != 0) {
      const char* const q = p + std::countr_zero(mask);
      return q < end ? q : end;
    }
    p += 16;
  }
#else
  (void)limit;
#endif
  while (p < end && !Class::Scalar(*p)) ++p;
  return p < end ? p : end;
}

}  // namespace sipring::sip_internal

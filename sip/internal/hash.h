// File: sip/internal/hash.h
//
// A small, fast, non-cryptographic hash (64-bit FNV-1a) and hex formatting and parsing, used to derive
// stateless branch parameters (RFC 3261 §16.11) and To-tags for stateless responses. The outputs
// only need to be stable and well spread, not secret: §16.11 asks that a retransmission map to
// the same branch, nothing more. Pure functions, any thread.
//
// Example:
//   uint64_t h = sip_internal::Fnv1a("abc");
//   char hex[16];
//   sip_internal::ToHex16(h, hex);
#pragma once

#include <cstdint>
#include <string_view>

namespace sipring::sip_internal {

inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;

inline uint64_t Fnv1a(std::string_view s, uint64_t h = kFnvOffset) {
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Mixes a separator so ("ab","c") and ("a","bc") hash differently.
inline uint64_t Fnv1aField(std::string_view s, uint64_t h) { return Fnv1a(s, Fnv1a("\x1f", h)); }

// Writes `digits` lowercase hex digits of v (its low 4*digits bits) into out[0..digits).
inline void ToHex(uint64_t v, int digits, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kDigits[v & 0xf];
    v >>= 4;
  }
}
inline void ToHex16(uint64_t v, char* out) { ToHex(v, 16, out); }

// The inverse of ToHex for up to 8 digits (either case): false on any other character.
inline bool FromHex(std::string_view s, uint32_t* out) {
  if (s.size() > 8) return false;
  uint32_t v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
    else return false;
  }
  *out = v;
  return true;
}

}  // namespace sipring::sip_internal

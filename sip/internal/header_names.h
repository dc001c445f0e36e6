// File: sip/internal/header_names.h
//
// The header names sipring knows (header_id.h) as constant tables: the canonical spellings, the
// compact forms, and a perfect hash over the full names whose slots hold 16-byte patterns, so one
// SSE2 compare decides a name. The parser calls MatchHeaderName() for every header of every
// message; LookupHeaderId() is the same lookup on any string_view. Internal to sip/ (STYLE.md
// rule 4).
//
// Constant tables and pure functions: no state, no allocation, any thread.
//
// Example:
//   char name[16] = "Max-Forwards";  // 16 readable bytes from the name's first one
//   HeaderId id = sip_internal::MatchHeaderName(name, 12);  // HeaderId::kMaxForwards
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sip/header_id.h"

namespace sipring::sip_internal {

struct HeaderNameEntry {
  std::string_view name;  // canonical spelling, the one sipring writes
  sip::HeaderId id;
};

// Full names, one per id (CanonicalName() reads them; the hash table below is built from them).
inline constexpr std::array<HeaderNameEntry, 28> kHeaderNames = {{
    {"Via", sip::HeaderId::kVia},
    {"From", sip::HeaderId::kFrom},
    {"To", sip::HeaderId::kTo},
    {"Call-ID", sip::HeaderId::kCallId},
    {"CSeq", sip::HeaderId::kCSeq},
    {"Max-Forwards", sip::HeaderId::kMaxForwards},
    {"Route", sip::HeaderId::kRoute},
    {"Record-Route", sip::HeaderId::kRecordRoute},
    {"Contact", sip::HeaderId::kContact},
    {"Content-Length", sip::HeaderId::kContentLength},
    {"Content-Type", sip::HeaderId::kContentType},
    {"Expires", sip::HeaderId::kExpires},
    {"Require", sip::HeaderId::kRequire},
    {"Proxy-Require", sip::HeaderId::kProxyRequire},
    {"Supported", sip::HeaderId::kSupported},
    {"Unsupported", sip::HeaderId::kUnsupported},
    {"Date", sip::HeaderId::kDate},
    {"Retry-After", sip::HeaderId::kRetryAfter},
    {"Content-Encoding", sip::HeaderId::kContentEncoding},
    {"Subject", sip::HeaderId::kSubject},
    {"Event", sip::HeaderId::kEvent},
    {"Allow-Events", sip::HeaderId::kAllowEvents},
    {"Refer-To", sip::HeaderId::kReferTo},
    {"Referred-By", sip::HeaderId::kReferredBy},
    {"Session-Expires", sip::HeaderId::kSessionExpires},
    {"Allow", sip::HeaderId::kAllow},
    {"Accept", sip::HeaderId::kAccept},
    {"Warning", sip::HeaderId::kWarning},
}};

// A 256-entry table, indexed by the byte as received, where both cases of each listed lowercase
// letter hold its value and every other byte holds T{}.
template <typename T, size_t N>
constexpr std::array<T, 256> LetterTable(const std::pair<char, T> (&entries)[N]) {
  std::array<T, 256> t{};
  for (const auto& [c, value] : entries) {
    t[static_cast<uint8_t>(c)] = value;
    t[static_cast<uint8_t>(c - 'a' + 'A')] = value;
  }
  return t;
}

// Compact forms (RFC 3261 §7.3.3 and the IANA registry).
inline constexpr std::pair<char, sip::HeaderId> kCompactForms[] = {
    {'v', sip::HeaderId::kVia},             {'f', sip::HeaderId::kFrom},
    {'t', sip::HeaderId::kTo},              {'i', sip::HeaderId::kCallId},
    {'m', sip::HeaderId::kContact},         {'l', sip::HeaderId::kContentLength},
    {'c', sip::HeaderId::kContentType},     {'k', sip::HeaderId::kSupported},
    {'e', sip::HeaderId::kContentEncoding}, {'s', sip::HeaderId::kSubject},
    {'o', sip::HeaderId::kEvent},           {'u', sip::HeaderId::kAllowEvents},
    {'r', sip::HeaderId::kReferTo},         {'b', sip::HeaderId::kReferredBy},
    {'x', sip::HeaderId::kSessionExpires},
};
inline constexpr std::array<sip::HeaderId, 256> kCompactHeaders = LetterTable(kCompactForms);

// Perfect hash of a full name (lengths 2..16) on its length and the weights of its first and
// last letters; collision-free over kHeaderNames, which the static_assert after the table proves.
// The weights came from a seeded random search; a letter's two cases weigh the same and any
// other byte weighs 0 (such a name never matches its slot anyway). Two table loads and an add
// instead of the multiplies of an arithmetic hash: the parser hashes every header name.
inline constexpr std::pair<char, uint8_t> kNameLetterWeights[] = {
    {'a', 46}, {'c', 60}, {'d', 47}, {'e', 14}, {'f', 9},  {'g', 11}, {'h', 51}, {'m', 8},  {'o', 47},
    {'p', 39}, {'q', 47}, {'r', 32}, {'s', 2},  {'t', 26}, {'u', 16}, {'v', 8},  {'w', 30}, {'y', 47},
};
inline constexpr std::array<uint8_t, 256> kLetterWeights = LetterTable(kNameLetterWeights);

constexpr size_t HeaderNameSlot(size_t size, uint8_t first, uint8_t last) {
  return (size + kLetterWeights[first] + 2u * kLetterWeights[last]) & 63u;
}

// A slot: the name as 16 bytes that a received name must equal after OR-ing `fold` into it.
// fold is 0x20 on letters (so both cases match, and no other byte can: only 'A' and 'a' OR to
// 'a'), 0 on '-' (matched exactly), and 0xff past the name, where `expect` is 0xff too, so the
// bytes after the name (':' , SP, the value) always compare equal. The size is compared apart.
struct HeaderPattern {
  alignas(16) std::array<uint8_t, 16> expect{};
  alignas(16) std::array<uint8_t, 16> fold{};
  uint8_t size = 0;                       // 0: empty slot
  sip::HeaderId id = sip::HeaderId::kOther;
};

constexpr std::array<HeaderPattern, 64> MakeHeaderPatterns() {
  std::array<HeaderPattern, 64> t{};
  for (const HeaderNameEntry& e : kHeaderNames) {
    const std::string_view n = e.name;
    HeaderPattern& slot = t[HeaderNameSlot(n.size(), static_cast<uint8_t>(n.front()),
                                           static_cast<uint8_t>(n.back()))];
    for (size_t i = 0; i < 16; ++i) {
      if (i >= n.size()) {
        slot.expect[i] = slot.fold[i] = 0xff;
        continue;
      }
      const char c = n[i];
      const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      slot.expect[i] = static_cast<uint8_t>(letter ? (c | 0x20) : c);
      slot.fold[i] = letter ? 0x20 : 0x00;
    }
    slot.size = static_cast<uint8_t>(n.size());
    slot.id = e.id;
  }
  return t;
}
inline constexpr std::array<HeaderPattern, 64> kHeaderPatterns = MakeHeaderPatterns();

// A collision would leave a name in nobody's slot: every name must come back from its own.
constexpr bool EveryHeaderNameHasItsSlot() {
  for (const HeaderNameEntry& e : kHeaderNames) {
    const HeaderPattern& slot = kHeaderPatterns[HeaderNameSlot(
        e.name.size(), static_cast<uint8_t>(e.name.front()), static_cast<uint8_t>(e.name.back()))];
    if (slot.id != e.id) return false;
  }
  return true;
}
static_assert(EveryHeaderNameHasItsSlot(), "HeaderNameSlot collides: search new weights");

// The id of the `size`-byte name at `p` (any bytes: a name with a non-token byte never matches),
// or kOther. Reads p[0..16) whatever `size` is, so 16 bytes from `p` must be readable; callers
// with less copy the name into a 16-byte buffer first (LookupHeaderId does).
inline sip::HeaderId MatchHeaderName(const char* p, size_t size) {
  // One unsigned compare sends 0, 1 and over 16 aside.
  if (size - 2 > 14) return size == 1 ? kCompactHeaders[static_cast<uint8_t>(p[0])] : sip::HeaderId::kOther;
  const HeaderPattern& slot = kHeaderPatterns[HeaderNameSlot(
      size, static_cast<uint8_t>(p[0]), static_cast<uint8_t>(p[size - 1]))];
  if (slot.size != size) return sip::HeaderId::kOther;
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i folded = _mm_or_si128(v, _mm_load_si128(reinterpret_cast<const __m128i*>(slot.fold.data())));
  const __m128i eq = _mm_cmpeq_epi8(folded, _mm_load_si128(reinterpret_cast<const __m128i*>(slot.expect.data())));
  return _mm_movemask_epi8(eq) == 0xffff ? slot.id : sip::HeaderId::kOther;
#else
  for (size_t i = 0; i < 16; ++i) {
    if ((static_cast<uint8_t>(p[i]) | slot.fold[i]) != slot.expect[i]) return sip::HeaderId::kOther;
  }
  return slot.id;
#endif
}

}  // namespace sipring::sip_internal

// Tests sip/internal/scan.h and the byte classes lex.h builds on it: every class's SSE2 form
// agrees with its scalar form on all 256 bytes, and FindFirst finds what a byte loop finds for
// any start, end and readable limit, never reporting a byte at or past `end`.
#include "sip/internal/scan.h"

#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "sip/internal/lex.h"

namespace sipring::sip_internal {
namespace {

template <typename Class>
void ExpectSimdMatchesScalar() {
#if defined(__SSE2__)
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const unsigned mask =
        static_cast<unsigned>(_mm_movemask_epi8(Class::Simd(_mm_set1_epi8(c))));
    EXPECT_EQ(mask, Class::Scalar(c) ? 0xffffu : 0u) << "byte " << b;
  }
#endif
}

template <typename Class>
const char* ByteLoop(const char* p, const char* end) {
  while (p < end && !Class::Scalar(*p)) ++p;
  return p;
}

// Random bytes drawn mostly from SIP's alphabet, so every class has hits and misses.
std::string RandomBytes(std::mt19937* rng, size_t n) {
  static constexpr std::string_view kAlphabet =
      "abcXYZ019-._!%*+`'~ \t\r\n;,\"?:@<>[]/=\\\x7f\x80\xff\x01";
  std::string s(n, '\0');
  for (char& c : s) c = kAlphabet[(*rng)() % kAlphabet.size()];
  return s;
}

template <typename Class>
void ExpectFindFirstMatchesByteLoop() {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    const std::string s = RandomBytes(&rng, 1 + rng() % 80);
    const char* const base = s.data();
    const size_t begin = rng() % s.size();
    const size_t end = begin + rng() % (s.size() - begin + 1);
    const size_t limit = end + rng() % (s.size() - end + 1);
    EXPECT_EQ(FindFirst<Class>(base + begin, base + end, base + limit),
              ByteLoop<Class>(base + begin, base + end))
        << "round " << round << " [" << begin << ", " << end << ") limit " << limit;
  }
}

template <typename Class>
void ExpectClass() {
  ExpectSimdMatchesScalar<Class>();
  ExpectFindFirstMatchesByteLoop<Class>();
}

TEST(ScanTest, ClassesAgreeAndFindFirstMatchesAByteLoop) {
  ExpectClass<ByteIs<'@'>>();
  ExpectClass<ByteIsEither<'"', '\\'>>();
  ExpectClass<LwsByte>();
  ExpectClass<ValueStopByte>();
  ExpectClass<AddrSpecStopByte>();
  ExpectClass<NotHostByte>();
  ExpectClass<UriStopByte>();
}

TEST(ScanTest, ClassesMatchTheCharacterTable) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    EXPECT_EQ(NotHostByte::Scalar(c), !Is(c, kClassHost)) << b;
    EXPECT_EQ(UriStopByte::Scalar(c), Is(c, kClassUriStop)) << b;
    EXPECT_EQ(ValueStopByte::Scalar(c), Is(c, kClassValueStop)) << b;
    EXPECT_EQ(AddrSpecStopByte::Scalar(c), Is(c, kClassAddrSpecStop)) << b;
  }
}

TEST(ScanTest, NeverReportsPastEnd) {
  const std::string s = "abcdefgh@ijklmnopqrstuvwxyz@";
  const char* const p = s.data();
  // The '@' at 8 is past end: end is returned even though the 16-byte step saw it.
  EXPECT_EQ(FindFirst<ByteIs<'@'>>(p, p + 8, p + s.size()), p + 8);
  EXPECT_EQ(FindFirst<ByteIs<'@'>>(p, p + 9, p + s.size()), p + 8);
  EXPECT_EQ(FindFirst<ByteIs<'@'>>(p + 9, p + 20, p + 20), p + 20);
  EXPECT_EQ(FindFirst<ByteIs<'@'>>(p + 9, p + s.size(), p + s.size()), p + s.size() - 1);
  EXPECT_EQ(FindFirst<ByteIs<'@'>>(p, p, p + s.size()), p);
}

}  // namespace
}  // namespace sipring::sip_internal

// Tests sip/header_id.h: full and compact names, any case, unknown names.
#include "sip/header_id.h"

#include "gtest/gtest.h"

namespace sipring::sip {
namespace {

TEST(HeaderIdTest, FullAndCompactNames) {
  EXPECT_EQ(LookupHeaderId("Via"), HeaderId::kVia);
  EXPECT_EQ(LookupHeaderId("v"), HeaderId::kVia);
  EXPECT_EQ(LookupHeaderId("V"), HeaderId::kVia);
  EXPECT_EQ(LookupHeaderId("MaX-fOrWaRdS"), HeaderId::kMaxForwards);
  EXPECT_EQ(LookupHeaderId("i"), HeaderId::kCallId);
  EXPECT_EQ(LookupHeaderId("CALL-ID"), HeaderId::kCallId);
  EXPECT_EQ(LookupHeaderId("l"), HeaderId::kContentLength);
  EXPECT_EQ(LookupHeaderId("m"), HeaderId::kContact);
  EXPECT_EQ(LookupHeaderId("f"), HeaderId::kFrom);
  EXPECT_EQ(LookupHeaderId("t"), HeaderId::kTo);
  EXPECT_EQ(LookupHeaderId("k"), HeaderId::kSupported);
  EXPECT_EQ(LookupHeaderId("record-route"), HeaderId::kRecordRoute);
  EXPECT_EQ(LookupHeaderId("Proxy-Require"), HeaderId::kProxyRequire);
  EXPECT_EQ(LookupHeaderId("C%6Fntact"), HeaderId::kOther);
  EXPECT_EQ(LookupHeaderId("X-Foo"), HeaderId::kOther);
  EXPECT_EQ(LookupHeaderId(""), HeaderId::kOther);
  EXPECT_EQ(LookupHeaderId("z"), HeaderId::kOther);
  // Exact for any bytes, not only tokens: CR must not stand in for '-', nor '@' for '`'.
  EXPECT_EQ(LookupHeaderId("Call\rID"), HeaderId::kOther);
  EXPECT_EQ(LookupHeaderId("Content-Length-"), HeaderId::kOther);
  EXPECT_EQ(LookupHeaderId("Content-Lengt"), HeaderId::kOther);
  EXPECT_EQ(LookupHeaderId("Content-Encoding-X"), HeaderId::kOther);
}

TEST(HeaderIdTest, CanonicalNamesRoundTrip) {
  for (int i = 1; i < kHeaderIdCount; ++i) {
    const HeaderId id = static_cast<HeaderId>(i);
    ASSERT_FALSE(CanonicalName(id).empty()) << i;
    EXPECT_EQ(LookupHeaderId(CanonicalName(id)), id);
  }
  EXPECT_TRUE(IsListHeader(HeaderId::kVia));
  EXPECT_FALSE(IsListHeader(HeaderId::kCallId));
}

}  // namespace
}  // namespace sipring::sip

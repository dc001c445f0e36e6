// Tests sip/uri.h against the RFC 3261 §25 grammar: user/password, hosts (names, IPv4, IPv6
// references), ports, parameters, headers, other schemes, and rejects.
#include "sip/uri.h"

#include "gtest/gtest.h"

namespace sipring::sip {
namespace {

TEST(UriTest, FullSipUri) {
  Uri u;
  ASSERT_TRUE(ParseUri("sips:alice:secret@[2001:db8::1]:5071;transport=tcp;lr;maddr=239.1.1.1?subject=hi&x=y", &u));
  EXPECT_EQ(u.kind, Uri::Scheme::kSips);
  EXPECT_EQ(u.user, "alice");
  EXPECT_EQ(u.password, "secret");
  EXPECT_EQ(u.host, "[2001:db8::1]");
  EXPECT_EQ(u.port, 5071);
  EXPECT_EQ(u.port_text, "5071");
  EXPECT_EQ(u.params, "transport=tcp;lr;maddr=239.1.1.1");
  EXPECT_EQ(u.headers, "subject=hi&x=y");
  EXPECT_TRUE(u.lr);
  EXPECT_EQ(FindUriParam(u.params, "TRANSPORT"), "tcp");
  EXPECT_EQ(FindUriParam(u.params, "lr"), "");
  EXPECT_FALSE(FindUriParam(u.params, "ttl").has_value());
}

TEST(UriTest, HostForms) {
  Uri u;
  ASSERT_TRUE(ParseUri("sip:example.com", &u));
  EXPECT_EQ(u.host, "example.com");
  EXPECT_FALSE(u.has_userinfo);
  EXPECT_EQ(u.port, 0);
  ASSERT_TRUE(ParseUri("SIP:192.0.2.1:5060", &u));
  EXPECT_EQ(u.kind, Uri::Scheme::kSip);
  EXPECT_EQ(u.host, "192.0.2.1");
  ASSERT_TRUE(ParseUri("sip:user@[2001:db8:::192.0.2.1]", &u));  // RFC 5118 §4.10 tolerance
  ASSERT_TRUE(ParseUri("sip:[::ffff:192.0.2.10]:5070;lr", &u));
  EXPECT_EQ(u.host, "[::ffff:192.0.2.10]");
  EXPECT_TRUE(u.lr);
  ASSERT_TRUE(ParseUri("sip:user;par=u%40example.net@example.com", &u));
  EXPECT_EQ(u.user, "user;par=u%40example.net");
}

TEST(UriTest, OtherSchemes) {
  Uri u;
  ASSERT_TRUE(ParseUri("tel:+1-201-555-0123", &u));
  EXPECT_EQ(u.kind, Uri::Scheme::kOther);
  EXPECT_EQ(u.scheme, "tel");
  EXPECT_EQ(u.opaque, "+1-201-555-0123");
  ASSERT_TRUE(ParseUri("soap.beep://192.0.2.103:3002", &u));
  EXPECT_EQ(u.scheme, "soap.beep");
}

TEST(UriTest, Rejects) {
  Uri u;
  for (std::string_view bad : {"", "sip:", "sip:@host", "<sip:a@b>", "sip:a@b c", "sip:2001:db8::10",
                               "sip:a@b:0", "sip:a@b:65536", "sip:a@[2001:db8::1", "sip:a@b;",
                               "sip:a@b;;lr", "sip:a@b?", "1sip:a@b", "sip:a@b:5060x", "nocolon",
                               "sip:a@[zz::1]"}) {
    EXPECT_FALSE(ParseUri(bad, &u)) << bad;
  }
}

}  // namespace
}  // namespace sipring::sip

// Tests for conf/socket_address.h: IP-literal "host:port" parsing for listeners and admin.
#include "conf/socket_address.h"

#include <string>

#include "gtest/gtest.h"

namespace sipring::conf {
namespace {

TEST(SocketAddressTest, ParsesIpv4AndIpv6) {
  absl::StatusOr<SocketAddress> a = ParseSocketAddress("127.0.0.1:5060");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 5060);
  EXPECT_EQ(a->family, AddressFamily::kIpv4);
  EXPECT_FALSE(a->IsWildcard());
  EXPECT_EQ(a->ToString(), "127.0.0.1:5060");

  absl::StatusOr<SocketAddress> b = ParseSocketAddress("[::1]:65535");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 65535);
  EXPECT_EQ(b->family, AddressFamily::kIpv6);
  EXPECT_EQ(b->ToString(), "[::1]:65535");

  EXPECT_TRUE(ParseSocketAddress("0.0.0.0:5060")->IsWildcard());
  EXPECT_TRUE(ParseSocketAddress("[::]:5060")->IsWildcard());
}

TEST(SocketAddressTest, CanonicalisesIpv6SoSpellingsCompareEqual) {
  absl::StatusOr<SocketAddress> longhand = ParseSocketAddress("[0:0:0:0:0:0:0:1]:5060");
  ASSERT_TRUE(longhand.ok());
  EXPECT_EQ(*longhand, *ParseSocketAddress("[::1]:5060"));
  EXPECT_EQ(ParseSocketAddress("[2001:DB8::5]:1")->host, "2001:db8::5");
}

TEST(SocketAddressTest, RefusesWhatIsNotAnIpLiteralWithPort) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:+5", "127.0.0.1:50a", "localhost:5060", "::1:5060", "[::1]", "[::1]5060",
        "[::1:5060", "[127.0.0.1]:5060", "256.0.0.1:5060", ":5060", "[]:5060",
        "1.2.3.4.5:5060"}) {
    EXPECT_FALSE(ParseSocketAddress(bad).ok()) << bad;
  }
}

TEST(SocketAddressTest, MessagesQuoteTheInput) {
  const absl::StatusOr<SocketAddress> a = ParseSocketAddress("localhost:5060");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(std::string(a.status().message()).find("\"localhost:5060\""), std::string::npos);
}

}  // namespace
}  // namespace sipring::conf

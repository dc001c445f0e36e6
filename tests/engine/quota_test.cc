#include "engine/quota.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace sipring::engine {
namespace {

EndpointKey Peer(uint32_t ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(ip);
  a.sin_port = htons(port);
  return EndpointKey::From(reinterpret_cast<sockaddr*>(&a));
}

TEST(QuotaTest, TakePastLimitFailsAndTakesNothing) {
  Quota q(3);
  EXPECT_TRUE(q.TryTake(2));
  EXPECT_FALSE(q.TryTake(2));
  EXPECT_EQ(q.held(), 2u);
  EXPECT_TRUE(q.TryTake());
  EXPECT_TRUE(q.AtLimit());
  q.Give(3);
  EXPECT_EQ(q.held(), 0u);
}

TEST(QuotaTableTest, PerEndpointAccounting) {
  QuotaTable t(16, 2);
  const EndpointKey a = Peer(0x7f000001, 5060), b = Peer(0x7f000001, 5061);
  EXPECT_TRUE(t.TryTake(a));
  EXPECT_TRUE(t.TryTake(a));
  EXPECT_FALSE(t.TryTake(a)) << "third slot for one peer is over quota";
  EXPECT_TRUE(t.TryTake(b)) << "another peer is unaffected";
  EXPECT_EQ(t.Held(a), 2u);
  EXPECT_EQ(t.size(), 2u);
  t.Give(a);
  EXPECT_TRUE(t.TryTake(a));
  t.Give(a, 2);
  EXPECT_EQ(t.Held(a), 0u);
  EXPECT_EQ(t.size(), 1u) << "entries holding nothing are removed";
  EXPECT_EQ(t.refusals(), 1u);
}

TEST(QuotaTableTest, FullTableRefusesNewEndpointsNeverGrows) {
  QuotaTable t(8, 4);
  for (uint16_t p = 0; p < 8; ++p) EXPECT_TRUE(t.TryTake(Peer(1, p)));
  EXPECT_FALSE(t.TryTake(Peer(1, 100)));
  EXPECT_TRUE(t.TryTake(Peer(1, 3))) << "known endpoints still work";
  t.Give(Peer(1, 0));
  EXPECT_TRUE(t.TryTake(Peer(1, 100)));
}

TEST(QuotaTableTest, ChurnKeepsProbeChainsIntact) {
  QuotaTable t(512, 1);
  for (int round = 0; round < 20; ++round) {
    for (uint16_t p = 0; p < 500; ++p) ASSERT_TRUE(t.TryTake(Peer(round, p))) << round << " " << p;
    for (uint16_t p = 0; p < 500; p += 2) t.Give(Peer(round, p));
    for (uint16_t p = 1; p < 500; p += 2) ASSERT_EQ(t.Held(Peer(round, p)), 1u);
    for (uint16_t p = 1; p < 500; p += 2) t.Give(Peer(round, p));
    ASSERT_EQ(t.size(), 0u);
  }
}

TEST(QuotaTableTest, Ipv6KeysDistinct) {
  sockaddr_in6 a{}, b{};
  a.sin6_family = b.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  b.sin6_addr = in6addr_loopback;
  b.sin6_addr.s6_addr[0] = 0xfe;
  a.sin6_port = b.sin6_port = htons(5060);
  QuotaTable t(16, 1);
  EXPECT_TRUE(t.TryTake(EndpointKey::From(reinterpret_cast<sockaddr*>(&a))));
  EXPECT_TRUE(t.TryTake(EndpointKey::From(reinterpret_cast<sockaddr*>(&b))));
}

}  // namespace
}  // namespace sipring::engine

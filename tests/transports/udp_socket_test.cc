// UDP echo on the engine over real loopback sockets: multishot recvmsg into pool slots, reply
// sent from the same slot. With a tiny pool, ENOBUFS is observed, counted and recovered from.
#include "transports/udp_socket.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/shard.h"
#include "tests/testing/loopback.h"
#include "tests/testing/process.h"
#include "tools/echo/echo_server.h"

namespace sipring::transports {
namespace {

using engine::ShardGroup;
using engine::ShardGroupOptions;

class UdpEchoTest : public ::testing::TestWithParam<int> {
 protected:
  SockAddr Any() const { return GetParam() == AF_INET6 ? SockAddr::Loopback6(0) : SockAddr::Loopback4(0); }
  // One shard running the UDP echo on an ephemeral loopback port with the given pool.
  absl::Status StartEcho(const engine::BufferPoolOptions& pool) {
    ShardGroupOptions o;
    o.shards = 1;
    o.shard.pool = pool;
    group_ = std::make_unique<ShardGroup>(o, [this](int) {
      auto a = std::make_unique<echo::UdpEchoApp>(Any());
      app_ = a.get();
      return a;
    });
    return group_->Start();
  }
  void TearDown() override {
    if (group_) {
      group_->StopAll();
      group_->Join();
    }
  }
  std::unique_ptr<ShardGroup> group_;
  echo::UdpEchoApp* app_ = nullptr;
};

TEST_P(UdpEchoTest, EchoesFromTheReceiveSlot) {
  absl::Status st =
      StartEcho({.buffer_size = 2048, .rx_main = 256, .rx_reserve = 16, .tx = 8, .tx_reserve = 4});
  if (!st.ok()) GTEST_SKIP() << st;
  echo::UdpEchoApp* app = app_;
  int fd = testing::MakeUdpClient(GetParam());
  auto r = testing::UdpRoundTrips(fd, GetParam(), app->bound_port, 5000, 900, 64, 10000);
  close(fd);
  EXPECT_EQ(r.received, 5000);
  EXPECT_EQ(r.mismatched, 0);
  EXPECT_EQ(app->echoed.Get(), 5000u);
  EXPECT_EQ(app->socket()->counters().send_errors.Get(), 0u);
}

TEST_P(UdpEchoTest, TinyPoolExhaustsCountsAndRecovers) {
  // 8 main slots, 8 reserve; the shard's sends hold slots until completion, so a burst of 2000
  // datagrams outruns the ring many times.
  absl::Status st = StartEcho({.buffer_size = 2048, .rx_main = 8, .rx_reserve = 8, .tx = 4,
                               .tx_reserve = 4, .min_rearm = 1});
  if (!st.ok()) GTEST_SKIP() << st;
  echo::UdpEchoApp* app = app_;
  int fd = testing::MakeUdpClient(GetParam());
  auto r = testing::UdpRoundTrips(fd, GetParam(), app->bound_port, 2000, 900, 500, 10000);
  const auto& c = group_->shard(0).pool().counters();
  EXPECT_GT(c.enobufs.Get(), 0u) << "the ring must have run dry";
  EXPECT_GT(c.rearms.Get(), 0u);
  // Every datagram is answered: echoed, or BUSY from the reserve. The socket buffer (default
  // rmem) holds what the rings cannot, so nothing is lost on loopback.
  EXPECT_EQ(r.received + r.other, 2000) << "echoed " << r.received << " busy " << r.other;
  EXPECT_EQ(r.mismatched, 0);
  // And the ring is still alive afterwards: a plain round trip works. Late replies to the burst
  // may still be queued on the client: drain them first so they are not taken for answers.
  testing::DrainSocket(fd, 200);
  auto after = testing::UdpRoundTrips(fd, GetParam(), app->bound_port, 100, 200, 1, 5000);
  EXPECT_EQ(after.received, 100);
  close(fd);
}

INSTANTIATE_TEST_SUITE_P(IpVersions, UdpEchoTest, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& p) { return p.param == AF_INET ? "v4" : "v6"; });

TEST(SockAddrTest, ParsesAndPrints) {
  auto a = SockAddr::Parse("127.0.0.1:5060");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ToString(), "127.0.0.1:5060");
  auto b = SockAddr::Parse("[::1]:5061");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->family(), AF_INET6);
  EXPECT_EQ(b->ToString(), "[::1]:5061");
  EXPECT_FALSE(SockAddr::Parse("127.0.0.1:70000").ok());
  EXPECT_FALSE(SockAddr::Parse("example.com:5060").ok());
  EXPECT_FALSE(SockAddr::Parse("[::1]5060").ok());
  EXPECT_FALSE(SockAddr::Parse("127.0.0.1").ok());
}

TEST(SockAddrTest, LiteralsCompareAndFormatWithoutAllocating) {
  SockAddr a, b;
  ASSERT_TRUE(SockAddr::FromLiteral("192.0.2.7", 5070, &a));
  EXPECT_EQ(a.ToString(), "192.0.2.7:5070");
  ASSERT_TRUE(SockAddr::FromLiteral("[2001:db8::1]", 5060, &b));
  EXPECT_EQ(b.HostText(), "[2001:db8::1]");
  ASSERT_TRUE(SockAddr::FromLiteral("2001:db8::1", 0, &b));  // brackets optional
  EXPECT_FALSE(SockAddr::FromLiteral("pbx.example.net", 5060, &b));
  EXPECT_FALSE(SockAddr::FromLiteral("", 5060, &b));
  SockAddr c;
  ASSERT_TRUE(SockAddr::FromLiteral("192.0.2.7", 9, &c));
  EXPECT_TRUE(a.SameIp(c.sa()));
  EXPECT_FALSE(a.SameAddress(c.sa()));
  EXPECT_EQ(SockAddr::PortOf(c.sa()), 9);
  EXPECT_FALSE(a.SameIp(SockAddr::Loopback6(0).sa()));
  EXPECT_TRUE(SockAddr::Parse("0.0.0.0:1")->IsWildcard());
  EXPECT_TRUE(SockAddr::Parse("[::]:1")->IsWildcard());
  EXPECT_FALSE(a.IsWildcard());
  char buf[8];
  EXPECT_EQ(FormatHost(SockAddr::Loopback6(0).sa(), buf, sizeof(buf)), 5u);  // "[::1]"
  EXPECT_EQ(FormatHost(b.sa(), buf, sizeof(buf)), 0u) << "does not fit";
}

TEST(SocketOptionsTest, WarnsWhenBufferClampedAndPortInEphemeralRange) {
  // A fake /proc root: rmem_max tiny, the ephemeral range covering our port.
  std::string root = ::testing::TempDir() + "/fakeproc";
  system(("mkdir -p " + root + "/sys/net/core " + root + "/sys/net/ipv4").c_str());
  system(("echo 212992 > " + root + "/sys/net/core/rmem_max").c_str());
  system(("echo '1024 65535' > " + root + "/sys/net/ipv4/ip_local_port_range").c_str());
  std::vector<std::string> warnings;
  SockAddr bound;
  // Find a free port first, then bind to it explicitly so the range check applies.
  int probe = testing::MakeUdpClient(AF_INET);
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(probe, reinterpret_cast<sockaddr*>(&sa), &len);
  close(probe);
  auto fd = OpenUdpSocket(SockAddr::Loopback4(ntohs(sa.sin_port)),
                          {.rcvbuf = 64 << 20, .proc_root = root}, &warnings, &bound);
  ASSERT_TRUE(fd.ok()) << fd.status();
  close(*fd);
  bool clamped = false, range = false;
  for (auto& w : warnings) {
    clamped |= w.find("rmem_max") != std::string::npos;
    range |= w.find("ip_local_port_range") != std::string::npos;
  }
  EXPECT_TRUE(clamped);
  EXPECT_TRUE(range);
}

TEST(SocketOptionsTest, NoPortRangeWarningWhenThePortIsReserved) {
  // The same ephemeral range, but ip_local_reserved_ports lists our port inside a range: the
  // kernel will not hand it to a connect, so there is nothing to warn about.
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/sys/net/ipv4");
  dir.Write("sys/net/ipv4/ip_local_port_range", "1024\t65535\n");
  int probe = testing::MakeUdpClient(AF_INET);
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(probe, reinterpret_cast<sockaddr*>(&sa), &len);
  close(probe);
  const uint16_t port = ntohs(sa.sin_port);
  const auto bind_warnings = [&]() {
    std::vector<std::string> warnings;
    auto fd = OpenUdpSocket(SockAddr::Loopback4(port), {.proc_root = dir.path()}, &warnings);
    EXPECT_TRUE(fd.ok()) << fd.status();
    if (fd.ok()) close(*fd);
    return warnings;
  };
  dir.Write("sys/net/ipv4/ip_local_reserved_ports", "80," + std::to_string(port - 1) + "-" +
                                                        std::to_string(port + 1) + "\n");
  EXPECT_EQ(bind_warnings(), std::vector<std::string>{});
  // Reserving some other port leaves ours exposed, and the fix keeps the other one reserved.
  dir.Write("sys/net/ipv4/ip_local_reserved_ports", "80\n");
  const std::vector<std::string> warnings = bind_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("sysctl -w net.ipv4.ip_local_reserved_ports=80," +
                             std::to_string(port)),
            std::string::npos)
      << warnings[0];
}

}  // namespace
}  // namespace sipring::transports

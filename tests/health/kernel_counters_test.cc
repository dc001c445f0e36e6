#include "health/kernel_counters.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "tests/testing/fake_proc.h"

namespace sipring::health {
namespace {

std::unique_ptr<testing::FakeProc> NetProc(const std::string& netstat, const std::string& snmp) {
  auto proc = std::make_unique<testing::FakeProc>();
  proc->Set("net/netstat", netstat);
  proc->Set("net/snmp", snmp);
  return proc;
}

TEST(KernelCountersTest, ReadsByNameNotPosition) {
  // Columns in an unusual order, with extra ones around: values must follow their names.
  const auto proc = NetProc(
      "TcpExt: SyncookiesSent Foo ListenDrops ListenOverflows SyncookiesRecv SyncookiesFailed "
      "TCPTimeWaitOverflow\nTcpExt: 3 99 8 7 2 1 5\nIpExt: InNoRoutes\nIpExt: 0\n",
      "Ip: Forwarding\nIp: 1\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors "
      "SndbufErrors\nUdp: 10 0 42 10 40 2\n");
  auto k = ReadKernelCounters(proc->root());
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->tcp_listen_overflows, 7u);
  EXPECT_EQ(k->tcp_listen_drops, 8u);
  EXPECT_EQ(k->tcp_syncookies_sent, 3u);
  EXPECT_EQ(k->tcp_syncookies_recv, 2u);
  EXPECT_EQ(k->tcp_syncookies_failed, 1u);
  EXPECT_EQ(k->tcp_timewait_overflow, 5u);
  EXPECT_EQ(k->udp_in_errors, 42u);
  EXPECT_EQ(k->udp_rcvbuf_errors, 40u);
  EXPECT_EQ(k->udp_sndbuf_errors, 2u);
}

TEST(KernelCountersTest, MissingCounterIsNamed) {
  const auto proc = NetProc("TcpExt: ListenDrops\nTcpExt: 1\n", "Udp: InErrors\nUdp: 0\n");
  auto k = ReadKernelCounters(proc->root());
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("ListenOverflows"), absl::string_view::npos) << k.status();
  EXPECT_FALSE(ReadKernelCounters("/nonexistent").ok());
}

TEST(KernelCountersTest, GarbageValueIsAnErrorNotACrash) {
  const auto proc = NetProc(
      "TcpExt: ListenOverflows ListenDrops SyncookiesSent SyncookiesRecv SyncookiesFailed "
      "TCPTimeWaitOverflow\nTcpExt: 1 2 x 4 5 6\n",
      "Udp: InErrors RcvbufErrors SndbufErrors\nUdp: 0 0 0\n");
  auto k = ReadKernelCounters(proc->root());
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("SyncookiesSent"), absl::string_view::npos) << k.status();
}

// On the real kernel: a UDP socket with a tiny receive buffer that nobody reads makes
// RcvbufErrors grow.
TEST(KernelCountersTest, RealKernelCountsRcvbufErrors) {
  auto before = ReadKernelCounters("/proc");
  if (!before.ok()) GTEST_SKIP() << before.status();
  int rx = socket(AF_INET, SOCK_DGRAM, 0);
  int small = 1;  // the kernel rounds it up to its minimum
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len);
  int tx = socket(AF_INET, SOCK_DGRAM, 0);
  char buf[1000] = {};
  for (int i = 0; i < 200; ++i) sendto(tx, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  close(tx);
  close(rx);
  auto after = ReadKernelCounters("/proc");
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->udp_rcvbuf_errors, before->udp_rcvbuf_errors);
  EXPECT_GE(after->udp_in_errors, before->udp_in_errors + (after->udp_rcvbuf_errors - before->udp_rcvbuf_errors));
}

}  // namespace
}  // namespace sipring::health

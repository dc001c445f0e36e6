// TCP echo on the engine over real loopback connections: multishot accept and recv, one send in
// flight per connection from the receive slot, and per-connection quota back-pressure.
#include "tools/echo/echo_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "tests/testing/loopback.h"

namespace sipring::echo {
namespace {

class TcpEchoTest : public ::testing::TestWithParam<int> {};

TEST_P(TcpEchoTest, ManyConnectionsEchoEveryByteInOrder) {
  TcpEchoApp* app = nullptr;
  engine::ShardGroupOptions o;
  o.shards = 1;
  o.shard.pool = {.buffer_size = 2048, .rx_main = 64, .rx_reserve = 0, .tx = 0, .tx_reserve = 0};
  const auto any = GetParam() == AF_INET6 ? transports::SockAddr::Loopback6(0)
                                          : transports::SockAddr::Loopback4(0);
  engine::ShardGroup g(o, [&](int) {
    auto a = std::make_unique<TcpEchoApp>(any, 64, 4);
    app = a.get();
    return a;
  });
  absl::Status st = g.Start();
  if (!st.ok()) GTEST_SKIP() << st;

  constexpr int kConns = 8;
  constexpr size_t kBytes = 256 * 1024;  // far more than 4 slots: forces quota pauses
  std::vector<std::thread> clients;
  std::vector<int> ok(kConns, 0);
  for (int i = 0; i < kConns; ++i) {
    clients.emplace_back([&, i] {
      int fd = testing::MakeTcpClient(GetParam(), app->bound_port, 5000);
      if (fd < 0) return;
      std::string out(kBytes, 0);
      for (size_t k = 0; k < kBytes; ++k) out[k] = static_cast<char>('a' + (k * 7 + i) % 26);
      std::string in;
      in.reserve(kBytes);
      size_t sent = 0;
      char buf[16384];
      while (in.size() < kBytes) {
        pollfd p{fd, static_cast<short>(POLLIN | (sent < kBytes ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 5000) <= 0) break;
        if ((p.revents & POLLOUT) && sent < kBytes) {
          ssize_t n = send(fd, out.data() + sent, std::min<size_t>(8192, kBytes - sent), MSG_DONTWAIT);
          if (n > 0) sent += n;
        }
        if (p.revents & POLLIN) {
          ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
          if (n <= 0) break;
          in.append(buf, n);
        }
      }
      ok[i] = in == out ? 1 : -static_cast<int>(in.size());
      close(fd);
    });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < kConns; ++i) EXPECT_EQ(ok[i], 1) << "connection " << i;
  EXPECT_EQ(app->accepted.Get(), uint64_t{kConns});
  // The peers have every byte; the shard may reap the last send completions a moment later.
  testing::WaitFor([&] { return app->bytes_echoed.Get() == uint64_t{kConns} * kBytes; }, 2000);
  EXPECT_EQ(app->bytes_echoed.Get(), uint64_t{kConns} * kBytes);
  EXPECT_GT(app->paused.Get(), 0u) << "a fast sender must hit its connection quota";
  g.StopAll();
  g.Join();
}

INSTANTIATE_TEST_SUITE_P(IpVersions, TcpEchoTest, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& p) { return p.param == AF_INET ? "v4" : "v6"; });

}  // namespace
}  // namespace sipring::echo

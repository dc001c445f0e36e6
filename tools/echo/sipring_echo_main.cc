// sipring-echo: the engine's UDP and TCP echo service, the quick start's demo until the SIP
// daemon lands. Prints a line a second (echoes, pool state, ENOBUFS) so the engine's work is
// visible; with --demo-seconds N it also runs a loopback client for N seconds.
//
//   sipring-echo [--listen 127.0.0.1:5060] [--shards N] [--demo-seconds N] [--run-seconds N]
#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "engine/shard.h"
#include "tools/echo/echo_server.h"

using namespace sipring;

namespace {

void DemoClient(transports::SockAddr to, int seconds, std::atomic<bool>* stop) {
  int fd = socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const std::string msg =
      "OPTIONS sip:demo@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKdemo\r\n"
      "Max-Forwards: 70\r\nCall-ID: demo\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  char buf[2048];
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int inflight = 0;
  while (!*stop && std::chrono::steady_clock::now() < end) {
    while (inflight < 32) {
      sendto(fd, msg.data(), msg.size(), 0, to.sa(), to.len());
      ++inflight;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) --inflight;
    } else {
      inflight = 0;  // lost: start a fresh window
    }
  }
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:5060";
  int shards = 0, demo_seconds = 0, run_seconds = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sipring-echo: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--listen") listen = next();
    else if (a == "--shards") shards = std::atoi(next());
    else if (a == "--demo-seconds") demo_seconds = std::atoi(next());
    else if (a == "--run-seconds") run_seconds = std::atoi(next());
    else {
      std::fprintf(stderr,
                   "usage: sipring-echo [--listen ADDR:PORT] [--shards N] [--demo-seconds N] "
                   "[--run-seconds N]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  auto addr = transports::SockAddr::Parse(listen);
  if (!addr.ok()) {
    std::fprintf(stderr, "sipring-echo: %s\n", std::string(addr.status().message()).c_str());
    return 2;
  }
  engine::ShardGroup::BlockStopSignals();
  std::vector<echo::UdpEchoApp*> udp;
  std::vector<echo::TcpEchoApp*> tcp;
  engine::ShardGroupOptions o;
  o.shards = shards;
  // Two apps per shard would need two ShardApps; the demo runs UDP on every shard and TCP too.
  struct Both : engine::ShardApp {
    echo::UdpEchoApp u;
    echo::TcpEchoApp t;
    Both(transports::SockAddr a) : u(a), t(a) {}
    absl::Status Start(engine::Shard& s) override {
      auto st = u.Start(s);
      return st.ok() ? t.Start(s) : st;
    }
    void OnLoop(uint64_t now) override {
      u.OnLoop(now);
      t.OnLoop(now);
    }
    void Stop() override {
      u.Stop();
      t.Stop();
    }
  };
  std::vector<Both*> apps;
  engine::ShardGroup group(o, [&](int) {
    auto b = std::make_unique<Both>(*addr);
    apps.push_back(b.get());
    return b;
  });
  if (absl::Status st = group.Start(); !st.ok()) {
    std::fprintf(stderr, "sipring-echo: start-up failed: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("sipring-echo: %d shard(s) echoing UDP and TCP on %s (Ctrl-C stops)\n", group.size(),
              addr->ToString().c_str());
  std::fflush(stdout);

  std::atomic<bool> stop{false};
  std::thread client;
  if (demo_seconds > 0) client = std::thread(DemoClient, *addr, demo_seconds, &stop);
  std::thread reporter([&] {
    uint64_t last = 0;
    while (!stop) {
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      uint64_t echoed = 0, enobufs = 0, free_main = 0, low = ~0ull;
      for (int i = 0; i < group.size(); ++i) {
        echoed += apps[i]->u.echoed.Get();
        const auto& c = group.shard(i).pool().counters();
        enobufs += c.enobufs.Get();
        free_main += c.free_main.Get();
        low = std::min<uint64_t>(low, c.lowest_free_main.Get());
      }
      std::printf("echoed/s %-8llu total %-10llu pool free %-6llu lowest %-6llu enobufs %llu\n",
                  (unsigned long long)(echoed - last), (unsigned long long)echoed,
                  (unsigned long long)free_main, (unsigned long long)low,
                  (unsigned long long)enobufs);
      std::fflush(stdout);
      last = echoed;
    }
  });
  const int sig = group.WaitForSignal(run_seconds >= 0 ? run_seconds * 1000 : -1);
  // The reporter reads shard counters: stop it before the shards tear their pools down.
  stop = true;
  if (client.joinable()) client.join();
  reporter.join();
  group.Shutdown(sig, /*drain_ms=*/2000);
  std::printf("sipring-echo: stopped\n");
  return 0;
}

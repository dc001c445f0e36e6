// udp_echo_bench: the engine's UDP echo against a plain epoll + recvmmsg/sendmmsg echo written
// for the comparison, in one run, alternating rounds so machine noise hits both alike.
//
// Server pinned to CPU 0, client to CPU 1 (sendmmsg/recvmmsg, `window` datagrams in flight).
// Server CPU per echo = the server thread's utime+stime (from /proc/self/task/TID/stat) over the
// measured window / echoes in that window. Prints each round, the medians and the ratios.
//
//   udp_echo_bench [--seconds 3] [--rounds 3] [--size 1000] [--window 256]
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/shard.h"
#include "tools/echo/echo_server.h"

using namespace sipring;

namespace {

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)), &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// utime+stime of one thread, in nanoseconds (clock-tick resolution).
uint64_t ThreadCpuNs(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(f, line);
  auto close_paren = line.rfind(')');
  std::vector<std::string> fields;
  size_t pos = close_paren + 2;
  while (pos < line.size()) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string::npos) sp = line.size();
    fields.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  // fields[0] is state (field 3); utime is field 14, stime 15.
  const uint64_t ticks = std::stoull(fields[11]) + std::stoull(fields[12]);
  return ticks * (1000000000ull / sysconf(_SC_CLK_TCK));
}

struct Result {
  double echoes_per_s;
  double cpu_ns_per_echo;
};

// The client: keeps `window` datagrams in flight; counts echoes in the measured window.
uint64_t RunClient(uint16_t port, int size, int window, double warmup_s, double seconds,
                   std::atomic<int>* phase) {
  Pin(1);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  timeval tv{0, 20000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  constexpr int kBatch = 64;
  std::vector<char> payload(size, 'x');
  std::vector<std::vector<char>> rx(kBatch, std::vector<char>(2048));
  mmsghdr tx[kBatch]{}, rxm[kBatch]{};
  iovec txiov[kBatch], rxiov[kBatch];
  for (int i = 0; i < kBatch; ++i) {
    txiov[i] = {payload.data(), payload.size()};
    tx[i].msg_hdr.msg_iov = &txiov[i];
    tx[i].msg_hdr.msg_iovlen = 1;
    rxiov[i] = {rx[i].data(), rx[i].size()};
    rxm[i].msg_hdr.msg_iov = &rxiov[i];
    rxm[i].msg_hdr.msg_iovlen = 1;
  }
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const auto t_measure = t0 + std::chrono::duration<double>(warmup_s);
  const auto t_end = t_measure + std::chrono::duration<double>(seconds);
  int64_t inflight = 0;
  uint64_t counted = 0;
  bool measuring = false;
  while (true) {
    const auto now = Clock::now();
    if (!measuring && now >= t_measure) {
      measuring = true;
      phase->store(1);
    }
    if (now >= t_end) break;
    while (inflight < window) {
      int n = sendmmsg(fd, tx, std::min<int64_t>(kBatch, window - inflight), 0);
      if (n <= 0) break;
      inflight += n;
    }
    int n = recvmmsg(fd, rxm, kBatch, MSG_WAITFORONE, nullptr);
    if (n > 0) {
      inflight -= n;
      if (measuring) counted += n;
    } else {
      inflight = 0;  // timed out: losses; refill the window
    }
  }
  phase->store(2);
  close(fd);
  return counted;
}

// ---- the epoll baseline: recvmmsg(64) + sendmmsg back to each sender ----
void EpollServer(int fd, std::atomic<bool>* stop, std::atomic<pid_t>* tid) {
  Pin(0);
  tid->store(static_cast<pid_t>(syscall(SYS_gettid)));
  int ep = epoll_create1(0);
  epoll_event ev{EPOLLIN, {.fd = fd}};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  constexpr int kBatch = 64;
  static char bufs[kBatch][2048];
  sockaddr_storage addrs[kBatch];
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  while (!stop->load(std::memory_order_relaxed)) {
    epoll_event out;
    if (epoll_wait(ep, &out, 1, 50) <= 0) continue;
    while (true) {
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i], sizeof(bufs[i])};
        msgs[i].msg_hdr = {};
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      for (int i = 0; i < n; ++i) iov[i].iov_len = msgs[i].msg_len;
      sendmmsg(fd, msgs, n, 0);
    }
  }
  close(ep);
}

Result RoundEpoll(int size, int window, double seconds) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::atomic<bool> stop{false};
  std::atomic<pid_t> tid{0};
  std::thread server(EpollServer, fd, &stop, &tid);
  while (!tid) std::this_thread::yield();
  std::atomic<int> phase{0};
  uint64_t cpu0 = 0, cpu1 = 0, echoes = 0;
  std::thread client([&] { echoes = RunClient(ntohs(a.sin_port), size, window, 0.5, seconds, &phase); });
  while (phase == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cpu0 = ThreadCpuNs(tid);
  while (phase == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cpu1 = ThreadCpuNs(tid);
  client.join();
  stop = true;
  server.join();
  close(fd);
  return {echoes / seconds, echoes ? double(cpu1 - cpu0) / echoes : 0};
}

// ---- the engine: one shard pinned to CPU 0 running the UDP echo app ----
class TimedEcho : public echo::UdpEchoApp {
 public:
  using UdpEchoApp::UdpEchoApp;
  absl::Status Start(engine::Shard& shard) override {
    tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
    return UdpEchoApp::Start(shard);
  }
  std::atomic<pid_t> tid{0};
};

Result RoundEngine(int size, int window, double seconds) {
  engine::ShardGroupOptions o;
  o.shards = 1;
  o.pin_cpus = true;
  o.shard.pool = {.buffer_size = 2048, .rx_main = 1024, .rx_reserve = 64, .tx = 16, .tx_reserve = 16};
  TimedEcho* app = nullptr;
  engine::ShardGroup g(o, [&](int) {
    auto a = std::make_unique<TimedEcho>(transports::SockAddr::Loopback4(0));
    app = a.get();
    return a;
  });
  if (absl::Status st = g.Start(); !st.ok()) {
    std::fprintf(stderr, "engine start failed: %s\n", std::string(st.message()).c_str());
    std::exit(1);
  }
  std::atomic<int> phase{0};
  uint64_t cpu0 = 0, cpu1 = 0, echoes = 0;
  std::thread client([&] { echoes = RunClient(app->bound_port, size, window, 0.5, seconds, &phase); });
  while (phase == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cpu0 = ThreadCpuNs(app->tid);
  while (phase == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cpu1 = ThreadCpuNs(app->tid);
  client.join();
  g.StopAll();
  g.Join();
  return {echoes / seconds, echoes ? double(cpu1 - cpu0) / echoes : 0};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  int rounds = 3, size = 1000, window = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (a == "--size") size = std::atoi(argv[i + 1]);
    else if (a == "--window") window = std::atoi(argv[i + 1]);
  }
  std::printf("UDP echo, %d-byte datagrams, window %d, %d round(s) of %.1f s; server CPU 0, client CPU 1\n",
              size, window, rounds, seconds);
  std::printf("%-8s %-7s %14s %18s\n", "round", "server", "echoes/s", "server ns/echo");
  std::vector<double> e_rate, e_cpu, p_rate, p_cpu;
  for (int r = 0; r < rounds; ++r) {
    Result p = RoundEpoll(size, window, seconds);
    std::printf("%-8d %-7s %14.0f %18.0f\n", r + 1, "epoll", p.echoes_per_s, p.cpu_ns_per_echo);
    Result e = RoundEngine(size, window, seconds);
    std::printf("%-8d %-7s %14.0f %18.0f\n", r + 1, "engine", e.echoes_per_s, e.cpu_ns_per_echo);
    std::fflush(stdout);
    p_rate.push_back(p.echoes_per_s);
    p_cpu.push_back(p.cpu_ns_per_echo);
    e_rate.push_back(e.echoes_per_s);
    e_cpu.push_back(e.cpu_ns_per_echo);
  }
  const double er = Median(e_rate), ec = Median(e_cpu), pr = Median(p_rate), pc = Median(p_cpu);
  std::printf("median   epoll   %14.0f %18.0f\n", pr, pc);
  std::printf("median   engine  %14.0f %18.0f\n", er, ec);
  std::printf("ratio engine/epoll: throughput %.2fx, CPU per echo %.2fx (echoes per CPU-second %.2fx)\n",
              er / pr, ec / pc, pc / ec);
  return 0;
}

// Micro-benchmarks of the engine's per-message data structures: buffer pool take/give, SPSC queue
// push/pop, timer wheel insert/cancel/expire, quota table take/give.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>

#include <memory>
#include <vector>

#include "engine/buffer_pool.h"
#include "engine/quota.h"
#include "engine/spsc_queue.h"
#include "engine/timer_wheel.h"

namespace sipring::engine {
namespace {

void BM_PoolTakeGive(benchmark::State& state) {
  auto ring = Ring::Create({.sq_entries = 64});
  if (!ring.ok()) {
    state.SkipWithError("no io_uring");
    return;
  }
  auto pool = BufferPool::Create(**ring, {.rx_main = 64, .rx_reserve = 0, .tx = 256});
  for (auto _ : state) {
    auto b = (*pool)->Take();
    benchmark::DoNotOptimize(b);
    (*pool)->Unref(*b);
  }
}
BENCHMARK(BM_PoolTakeGive);

void BM_PoolReceiveSendRecycle(benchmark::State& state) {
  // The per-datagram bookkeeping of an echo: received, a send from it, released, flushed.
  auto ring = Ring::Create({.sq_entries = 64});
  if (!ring.ok()) {
    state.SkipWithError("no io_uring");
    return;
  }
  auto pool = BufferPool::Create(**ring, {.rx_main = 1024, .rx_reserve = 0, .tx = 0, .tx_reserve = 0});
  uint16_t bid = 0;
  for (auto _ : state) {
    (*pool)->OnReceived(bid);
    (*pool)->BeginSend(bid);
    (*pool)->Unref(bid);
    (*pool)->EndSend(bid);
    (*pool)->Flush();
    bid = (bid + 1) & 1023;
  }
}
BENCHMARK(BM_PoolReceiveSendRecycle);

void BM_SpscPushPop(benchmark::State& state) {
  SpscQueue<uint64_t> q(1024);
  uint64_t i = 0;
  for (auto _ : state) {
    (void)q.TryPush(i++);
    benchmark::DoNotOptimize(q.TryPop());
  }
}
BENCHMARK(BM_SpscPushPop);

void BM_TimerScheduleCancel(benchmark::State& state) {
  TimerWheel wheel(0);
  std::vector<Timer> timers(4096);
  size_t i = 0;
  for (auto _ : state) {
    Timer& t = timers[i++ & 4095];
    wheel.Schedule(&t, 500 + (i & 31999));
    wheel.Cancel(&t);
  }
}
BENCHMARK(BM_TimerScheduleCancel);

void BM_TimerExpire(benchmark::State& state) {
  // 50k timers spread over 32 s, then the wheel advanced through them: cost per expiry.
  const int n = 50000;
  std::vector<Timer> timers(n);
  for (auto& t : timers) t.on_expire = [](Timer* x) { benchmark::DoNotOptimize(x); };
  for (auto _ : state) {
    state.PauseTiming();
    TimerWheel wheel(0);
    for (int i = 0; i < n; ++i) wheel.Schedule(&timers[i], 1 + (uint64_t(i) * 7919) % 32000);
    state.ResumeTiming();
    wheel.Advance(32001);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_TimerExpire)->Unit(benchmark::kMillisecond);

void BM_QuotaTakeGive(benchmark::State& state) {
  QuotaTable t(4096, 64);
  std::vector<EndpointKey> keys;
  for (int i = 0; i < 1000; ++i) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000000 + i);
    a.sin_port = htons(5060);
    keys.push_back(EndpointKey::From(reinterpret_cast<sockaddr*>(&a)));
  }
  size_t i = 0;
  for (auto _ : state) {
    const EndpointKey& k = keys[i++ % keys.size()];
    (void)t.TryTake(k);
    t.Give(k);
  }
}
BENCHMARK(BM_QuotaTakeGive);

}  // namespace
}  // namespace sipring::engine

BENCHMARK_MAIN();

#include "engine/shard.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "engine/clock.h"
#include "engine/status.h"

namespace sipring::engine {
namespace {

constexpr uint8_t kOpWake = 1;
// Longest the loop sleeps with nothing to do: bounds how stale the heartbeat can be, so the
// watchdog can tell an idle shard from a stuck one.
constexpr int64_t kMaxWaitMs = 100;

}  // namespace

// Re-arms a read on the shard's eventfd: the one way other threads interrupt the ring wait.
class Shard::Waker : public CompletionHandler {
 public:
  explicit Waker(Shard& shard) : shard_(shard) {}
  void OnCompletion(OpTag, const io_uring_cqe&) override { shard_.ArmWake(); }
  uint64_t value = 0;

 private:
  Shard& shard_;
};

uint64_t Shard::NowMs() { return MonotonicMs(); }

Shard::Shard(int index, const ShardOptions& options, std::unique_ptr<ShardApp> app)
    : index_(index), options_(options), app_(std::move(app)) {}

Shard::~Shard() {
  if (event_fd_ >= 0) close(event_fd_);
}

uint8_t Shard::RegisterHandler(CompletionHandler* handler) {
  SIPRING_DCHECK(IsCurrentThread());
  SIPRING_CHECK(next_handler_ < kMaxHandlers);
  handlers_[next_handler_] = handler;
  return static_cast<uint8_t>(next_handler_++);
}

void Shard::ArmWake() {
  io_uring_sqe* sqe = ring_->GetSqe();
  io_uring_prep_read(sqe, event_fd_, &waker_->value, sizeof(waker_->value), 0);
  sqe->user_data = OpTag{kEngineHandler, kOpWake, 0, 0}.Pack();
}

void Shard::RequestDrain(uint64_t deadline_ms) {
  drain_deadline_.store(deadline_ms ? deadline_ms : 1, std::memory_order_release);
  if (event_fd_ >= 0) eventfd_write(event_fd_, 1);
}

void Shard::RequestStop() {
  stop_.store(true, std::memory_order_release);
  if (event_fd_ >= 0) eventfd_write(event_fd_, 1);
}

void Shard::Dispatch(const io_uring_cqe& cqe) {
  const OpTag tag = OpTag::Unpack(cqe.user_data);
  CompletionHandler* h = handlers_[tag.handler];
  if (__builtin_expect(h != nullptr, 1)) h->OnCompletion(tag, cqe);
}

absl::Status Shard::Run(const std::function<void(const absl::Status&)>& started) {
  thread_id_ = std::this_thread::get_id();
  auto start = [&]() -> absl::Status {
    if (options_.cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(options_.cpu, &set);
      // Pinning is a preference: a cgroup may forbid the CPU; run unpinned then.
      (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }
    event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd_ < 0) return ErrnoStatus(errno, "eventfd");
    // CQ sized so it cannot overflow: every ring slot can produce one CQE, plus SQEs in flight.
    RingOptions ro = options_.ring;
    if (ro.cq_entries == 0) {
      uint32_t need = options_.pool.rx_main + options_.pool.rx_reserve + ro.sq_entries * 2;
      uint32_t cq = 1;
      while (cq < need) cq <<= 1;
      ro.cq_entries = cq;
    }
    SIPRING_ASSIGN_OR_RETURN(ring_, Ring::Create(ro));
    SIPRING_ASSIGN_OR_RETURN(pool_, BufferPool::Create(*ring_, options_.pool));
    timers_ = std::make_unique<TimerWheel>(NowMs());
    waker_ = std::make_unique<Waker>(*this);
    handlers_[kEngineHandler] = waker_.get();
    ArmWake();
    return app_->Start(*this);
  };
  absl::Status st = start();
  if (started) started(st);
  if (!st.ok()) {
    app_.reset();
    pool_.reset();
    ring_.reset();
    return st;
  }

  while (!stop_.load(std::memory_order_acquire)) {
    const ShardApp::Wait app_wait = app_->NextWait();
    int64_t wait_us = timers_->MsUntilNext(kMaxWaitMs) * 1000;
    if (app_wait.max_us >= 0) wait_us = std::min(wait_us, app_wait.max_us);
    ring_->SubmitAndWaitUs(wait_us, app_wait.min_completions);
    ring_->ForEachCompletion([this](const io_uring_cqe& cqe) { Dispatch(cqe); });
    const uint64_t now = NowMs();
    timers_->Advance(now);
    app_->OnLoop(now);
    pool_->Flush();
    heartbeat_.store(heartbeat_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);

    const uint64_t deadline = drain_deadline_.load(std::memory_order_acquire);
    if (deadline) {
      if (!draining_) {
        draining_ = true;
        app_->OnDrain();
      }
      if (app_->Idle() || now >= deadline) break;
    }
  }

  // Teardown order matters (IOURING.md §5): the app cancels its operations and closes its
  // sockets, we reap what completes for a moment, then the pool and ring go.
  app_->Stop();
  const uint64_t until = NowMs() + 50;
  while (NowMs() < until) {
    ring_->SubmitAndWait(5);
    if (ring_->ForEachCompletion([this](const io_uring_cqe& cqe) { Dispatch(cqe); }) == 0) break;
  }
  app_.reset();
  pool_.reset();
  ring_.reset();
  return absl::OkStatus();
}

ShardGroup::ShardGroup(const ShardGroupOptions& options, AppFactory factory)
    : options_(options), factory_(std::move(factory)) {}

ShardGroup::~ShardGroup() {
  StopAll();
  Join();
}

void ShardGroup::BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::Status ShardGroup::Start() {
  int n = options_.shards;
  if (n <= 0) n = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  const long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  BlockStopSignals();

  std::mutex mu;
  std::condition_variable cv;
  int reported = 0;
  absl::Status first_error = absl::OkStatus();
  for (int i = 0; i < n; ++i) {
    ShardOptions so = options_.shard;
    so.cpu = options_.pin_cpus ? static_cast<int>(i % cpus) : -1;
    shards_.push_back(std::make_unique<Shard>(i, so, factory_(i)));
  }
  for (int i = 0; i < n; ++i) {
    Shard* shard = shards_[i].get();
    threads_.emplace_back([shard, &mu, &cv, &reported, &first_error] {
      absl::Status st = shard->Run([&](const absl::Status& s) {
        std::lock_guard<std::mutex> lock(mu);
        if (!s.ok() && first_error.ok()) {
          first_error = absl::Status(s.code(), absl::StrCat("shard ", shard->index(), ": ", s.message()));
        }
        ++reported;
        cv.notify_all();
      });
      (void)st;
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return reported == n; });
  if (!first_error.ok()) {
    lock.unlock();
    StopAll();
    Join();
    return first_error;
  }
  return absl::OkStatus();
}

void ShardGroup::DrainAll(uint64_t drain_ms) {
  const uint64_t deadline = Shard::NowMs() + drain_ms;
  for (auto& s : shards_) s->RequestDrain(deadline);
}

void ShardGroup::StopAll() {
  for (auto& s : shards_) s->RequestStop();
}

void ShardGroup::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

int ShardGroup::WaitForSignal(int64_t stop_after_ms, int64_t tick_ms,
                              const std::function<void()>& tick) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const bool ticking = tick && tick_ms > 0;
  const uint64_t start = MonotonicMs();
  uint64_t next_tick = start + (ticking ? uint64_t(tick_ms) : 0);
  for (;;) {
    const uint64_t now = MonotonicMs();
    if (ticking && now >= next_tick) {
      tick();
      next_tick = now + uint64_t(tick_ms);
    }
    int64_t wait = ticking ? int64_t(next_tick - now) : -1;
    if (stop_after_ms >= 0) {
      const int64_t left = stop_after_ms - int64_t(now - start);
      if (left <= 0) return SIGTERM;  // time is up: behave as an orderly stop
      wait = wait < 0 ? left : std::min(wait, left);
    }
    int sig;
    if (wait >= 0) {
      timespec ts{.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000};
      sig = sigtimedwait(&set, nullptr, &ts);
    } else {
      sig = sigwaitinfo(&set, nullptr);
    }
    if (sig > 0) return sig;  // else timed out (EAGAIN) or interrupted (EINTR): look again
  }
}

void ShardGroup::Shutdown(int signal, uint64_t drain_ms) {
  if (signal == SIGINT) {
    StopAll();
  } else {
    DrainAll(drain_ms);
  }
  Join();
}

}  // namespace sipring::engine

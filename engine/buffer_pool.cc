#include "engine/buffer_pool.h"

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

#include "engine/status.h"

namespace sipring::engine {
namespace {

bool IsPowerOfTwo(uint32_t v) { return v && !(v & (v - 1)); }

size_t PageRound(size_t n) {
  const size_t page = 4096;
  return (n + page - 1) / page * page;
}

absl::StatusOr<io_uring_buf_ring*> MapBufRing(uint32_t entries, size_t* bytes) {
  *bytes = PageRound(size_t{entries} * sizeof(io_uring_buf));
  void* mem = mmap(nullptr, *bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return ErrnoStatus(errno, "mmap (buffer ring)");
  auto* br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(br);
  return br;
}

std::string MemlockText() {
  rlimit rl{};
  getrlimit(RLIMIT_MEMLOCK, &rl);
  auto fmt = [](rlim_t v) {
    return v == RLIM_INFINITY ? std::string("unlimited") : absl::StrCat(v / 1024, " KiB");
  };
  return absl::StrCat("RLIMIT_MEMLOCK is ", fmt(rl.rlim_cur), " (hard ", fmt(rl.rlim_max), ")");
}

}  // namespace

BufferPool::BufferPool(Ring& ring, const BufferPoolOptions& options)
    : ring_(ring), options_(options) {}

absl::StatusOr<std::unique_ptr<BufferPool>> BufferPool::Create(Ring& ring,
                                                               const BufferPoolOptions& o) {
  if (o.buffer_size < 256 || o.buffer_size % 64 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("buffer_size must be a multiple of 64 and >= 256 (got ", o.buffer_size, ")"));
  }
  if (!IsPowerOfTwo(o.rx_main) || o.rx_main > 32768) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rx_main must be a power of two between 1 and 32768 (got ", o.rx_main, ")"));
  }
  if (o.rx_reserve != 0 && (!IsPowerOfTwo(o.rx_reserve) || o.rx_reserve > 32768)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rx_reserve must be 0 or a power of two (got ", o.rx_reserve, ")"));
  }
  const uint64_t total = uint64_t{o.rx_main} + o.rx_reserve + o.tx + o.tx_reserve;
  if (total > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("a pool holds at most 65536 slots (buffer ids are 16 bits); got ", total));
  }
  if (!(o.low_watermark > 0 && o.low_watermark < o.high_watermark && o.high_watermark < 1)) {
    return absl::InvalidArgumentError("watermarks must satisfy 0 < low < high < 1");
  }
  if (o.main_group == o.reserve_group) {
    return absl::InvalidArgumentError("main and reserve buffer groups must differ");
  }

  std::unique_ptr<BufferPool> pool(new BufferPool(ring, o));
  pool->total_ = static_cast<uint32_t>(total);
  pool->slab_bytes_ = PageRound(total * o.buffer_size);
  void* mem = mmap(nullptr, pool->slab_bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (mem == MAP_FAILED) return ErrnoStatus(errno, "mmap (buffer slab)");
  pool->slab_ = static_cast<char*>(mem);
  pool->slots_.resize(total);
  pool->low_mark_ = static_cast<uint32_t>(std::ceil(o.rx_main * o.low_watermark));
  pool->high_mark_ = static_cast<uint32_t>(std::ceil(o.rx_main * o.high_watermark));

  if (o.register_fixed) {
    iovec iov{pool->slab_, pool->slab_bytes_};
    int rc = io_uring_register_buffers(ring.raw(), &iov, 1);
    if (rc == -ENOMEM) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "registering the ", pool->slab_bytes_ / 1024, " KiB buffer slab as a fixed buffer "
          "failed with ENOMEM: ", MemlockText(), ". Raise it (systemd LimitMEMLOCK=, ulimit -l) "
          "or grant CAP_IPC_LOCK, or turn fixed-buffer registration off"));
    }
    if (rc < 0) return ErrnoStatus(rc, "io_uring_register_buffers");
    pool->fixed_registered_ = true;
  }

  SIPRING_ASSIGN_OR_RETURN(pool->main_br_, MapBufRing(o.rx_main, &pool->main_br_bytes_));
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(pool->main_br_);
  reg.ring_entries = o.rx_main;
  reg.bgid = o.main_group;
  int rc = io_uring_register_buf_ring(ring.raw(), &reg, 0);
  if (rc < 0) return ErrnoStatus(rc, "io_uring_register_buf_ring (main)");
  pool->main_registered_ = true;

  if (o.rx_reserve) {
    SIPRING_ASSIGN_OR_RETURN(pool->reserve_br_,
                             MapBufRing(o.rx_reserve, &pool->reserve_br_bytes_));
    reg = {};
    reg.ring_addr = reinterpret_cast<uint64_t>(pool->reserve_br_);
    reg.ring_entries = o.rx_reserve;
    reg.bgid = o.reserve_group;
    rc = io_uring_register_buf_ring(ring.raw(), &reg, 0);
    if (rc < 0) return ErrnoStatus(rc, "io_uring_register_buf_ring (reserve)");
    pool->reserve_registered_ = true;
  }

  // Publish every ring slot; keep tx slots on their stacks (highest id at the bottom, so the
  // first Take() returns the lowest id: deterministic for tests).
  uint32_t bid = 0;
  for (uint32_t i = 0; i < o.rx_main; ++i, ++bid) pool->Recycle(static_cast<uint16_t>(bid));
  for (uint32_t i = 0; i < o.rx_reserve; ++i, ++bid) pool->Recycle(static_cast<uint16_t>(bid));
  const uint32_t tx_begin = bid;
  pool->tx_free_.reserve(o.tx);
  pool->tx_reserve_free_.reserve(o.tx_reserve);
  bid += o.tx;
  for (uint32_t b = bid; b-- > tx_begin;) {
    pool->slots_[b].state = SlotState::kFree;
    pool->tx_free_.push_back(static_cast<uint16_t>(b));
  }
  for (uint32_t b = bid + o.tx_reserve; b-- > bid;) {
    pool->slots_[b].state = SlotState::kFree;
    pool->tx_reserve_free_.push_back(static_cast<uint16_t>(b));
  }
  pool->Flush();
  pool->counters_.lowest_free_main.Set(pool->free_main_);
  return pool;
}

BufferPool::~BufferPool() {
  if (main_registered_) io_uring_unregister_buf_ring(ring_.raw(), options_.main_group);
  if (reserve_registered_) io_uring_unregister_buf_ring(ring_.raw(), options_.reserve_group);
  if (fixed_registered_) io_uring_unregister_buffers(ring_.raw());
  if (main_br_) munmap(main_br_, main_br_bytes_);
  if (reserve_br_) munmap(reserve_br_, reserve_br_bytes_);
  if (slab_) munmap(slab_, slab_bytes_);
}

SlotClass BufferPool::ClassOf(uint16_t bid) const {
  if (bid < options_.rx_main) return SlotClass::kRxMain;
  if (bid < options_.rx_main + options_.rx_reserve) return SlotClass::kRxReserve;
  if (bid < options_.rx_main + options_.rx_reserve + options_.tx) return SlotClass::kTx;
  return SlotClass::kTxReserve;
}

char* BufferPool::OnReceived(uint16_t bid) {
  SIPRING_DCHECK(bid < total_);
  Slot& s = slots_[bid];
  SIPRING_DCHECK(s.state == SlotState::kInRing);
  s.state = SlotState::kApp;
  s.refs = 1;
  if (ClassOf(bid) == SlotClass::kRxMain) {
    --free_main_;
    counters_.free_main.Set(free_main_);
    if (free_main_ < counters_.lowest_free_main.Get()) counters_.lowest_free_main.Set(free_main_);
    UpdateOverload();
  } else {
    --free_reserve_;
    counters_.reserve_receives.Add();
  }
  return Data(bid);
}

std::optional<uint16_t> BufferPool::Take() {
  if (tx_free_.empty()) {
    counters_.take_failures.Add();
    return std::nullopt;
  }
  uint16_t bid = tx_free_.back();
  tx_free_.pop_back();
  slots_[bid] = Slot{SlotState::kApp, 1, 0};
  return bid;
}

std::optional<uint16_t> BufferPool::TakeReply() {
  if (!tx_reserve_free_.empty()) {
    uint16_t bid = tx_reserve_free_.back();
    tx_reserve_free_.pop_back();
    slots_[bid] = Slot{SlotState::kApp, 1, 0};
    return bid;
  }
  return Take();
}

void BufferPool::Ref(uint16_t bid) {
  SIPRING_DCHECK(slots_[bid].refs > 0);
  ++slots_[bid].refs;
}

void BufferPool::Unref(uint16_t bid) {
  Slot& s = slots_[bid];
  SIPRING_DCHECK(s.refs > 0);
  if (--s.refs == 0) Recycle(bid);
}

void BufferPool::BeginSend(uint16_t bid) {
  Slot& s = slots_[bid];
  SIPRING_DCHECK(s.refs > 0);
  ++s.refs;
  ++s.sends;
  s.state = SlotState::kTxInFlight;
}

void BufferPool::EndSend(uint16_t bid) {
  Slot& s = slots_[bid];
  SIPRING_DCHECK(s.sends > 0);
  if (--s.sends == 0) s.state = SlotState::kApp;
  Unref(bid);
}

void BufferPool::Recycle(uint16_t bid) {
  Slot& s = slots_[bid];
  s.refs = 0;
  s.sends = 0;
  switch (ClassOf(bid)) {
    case SlotClass::kRxMain:
      s.state = SlotState::kInRing;
      io_uring_buf_ring_add(main_br_, Data(bid), options_.buffer_size, bid,
                            io_uring_buf_ring_mask(options_.rx_main), pending_main_++);
      break;
    case SlotClass::kRxReserve:
      s.state = SlotState::kInRing;
      io_uring_buf_ring_add(reserve_br_, Data(bid), options_.buffer_size, bid,
                            io_uring_buf_ring_mask(options_.rx_reserve), pending_reserve_++);
      break;
    case SlotClass::kTx:
      s.state = SlotState::kFree;
      tx_free_.push_back(bid);
      break;
    case SlotClass::kTxReserve:
      s.state = SlotState::kFree;
      tx_reserve_free_.push_back(bid);
      break;
  }
}

void BufferPool::Flush() {
  if (pending_main_) {
    io_uring_buf_ring_advance(main_br_, pending_main_);
    free_main_ += pending_main_;
    pending_main_ = 0;
    counters_.free_main.Set(free_main_);
    UpdateOverload();
  }
  if (pending_reserve_) {
    io_uring_buf_ring_advance(reserve_br_, pending_reserve_);
    free_reserve_ += pending_reserve_;
    pending_reserve_ = 0;
  }
}

void BufferPool::UpdateOverload() {
  if (!overloaded_ && free_main_ < low_mark_) {
    overloaded_ = true;
    counters_.overload_entries.Add();
  } else if (overloaded_ && free_main_ > high_mark_) {
    overloaded_ = false;
  }
}

}  // namespace sipring::engine

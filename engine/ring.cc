#include "engine/ring.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/status.h"

namespace sipring::engine {
namespace {

std::string KernelRelease() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return u.release;
}

absl::Status SetupError(int err) {
  const std::string kernel = KernelRelease();
  switch (-err) {
    case EPERM:
      return absl::PermissionDeniedError(absl::StrCat(
          "io_uring_setup: EPERM: io_uring is blocked on this host (a container seccomp profile, "
          "or sysctl kernel.io_uring_disabled / kernel.io_uring_group); kernel ",
          kernel));
    case ENOSYS:
      return absl::UnimplementedError(
          absl::StrCat("io_uring_setup: ENOSYS: kernel ", kernel, " is built without io_uring"));
    case EINVAL:
      return absl::FailedPreconditionError(absl::StrCat(
          "io_uring_setup: EINVAL for the engine's setup flags: sipring needs Linux >= 6.1 "
          "(DEFER_TASKRUN, multishot recvmsg); this kernel is ",
          kernel));
    default:
      return ErrnoStatus(err, "io_uring_setup");
  }
}

struct FeatureBit {
  uint32_t bit;
  const char* name;
  const char* since;
};

constexpr FeatureBit kRequiredFeatures[] = {
    {IORING_FEAT_NODROP, "IORING_FEAT_NODROP", "5.5"},
    {IORING_FEAT_FAST_POLL, "IORING_FEAT_FAST_POLL", "5.7"},
    {IORING_FEAT_EXT_ARG, "IORING_FEAT_EXT_ARG", "5.11"},
};

// Flags cannot be seen through the opcode probe (IOURING.md §7 step 4): arm a multishot recvmsg
// with a one-slot buffer ring on a throw-away UDP socket, send it one datagram, and expect a
// buffer-carrying CQE. Kernels before 6.0 fail the SQE with -EINVAL.
absl::Status ProbeMultishotRecv(io_uring* ring) {
  constexpr uint16_t kProbeGroup = 0xfff0;
  const size_t ring_bytes = 4096;
  void* mem = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return ErrnoStatus(errno, "mmap (probe buffer ring)");
  auto* br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(br);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br);
  reg.ring_entries = 1;
  reg.bgid = kProbeGroup;
  int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc < 0) {
    munmap(mem, ring_bytes);
    return absl::FailedPreconditionError(absl::StrCat(
        "io_uring_register_buf_ring failed (", std::strerror(-rc),
        "): provided buffer rings need Linux >= 5.19; this kernel is ", KernelRelease()));
  }
  alignas(16) static thread_local char slot[512];
  io_uring_buf_ring_add(br, slot, sizeof(slot), 0, io_uring_buf_ring_mask(1), 0);
  io_uring_buf_ring_advance(br, 1);

  absl::Status result = absl::OkStatus();
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  msghdr tmpl{};
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    result = ErrnoStatus(errno, "probe socket");
  } else {
    tmpl.msg_namelen = sizeof(sockaddr_in6);
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    io_uring_prep_recvmsg_multishot(sqe, fd, &tmpl, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kProbeGroup;
    sqe->user_data = 1;
    io_uring_submit(ring);
    const char ping = 'p';
    (void)sendto(fd, &ping, 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{.tv_sec = 1, .tv_nsec = 0};
    rc = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
    if (rc < 0) {
      result = ErrnoStatus(rc, "multishot recvmsg probe: no completion");
    } else {
      if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER)) {
        result = absl::FailedPreconditionError(absl::StrCat(
            "multishot recvmsg with provided buffers is unsupported (res ", cqe->res,
            "): sipring needs Linux >= 6.0; this kernel is ", KernelRelease()));
      }
      const bool more = cqe->flags & IORING_CQE_F_MORE;
      io_uring_cqe_seen(ring, cqe);
      if (more) {
        // Cancel, then wait for the terminal CQE before the socket and ring go away (IOURING.md
        // §5: never close an fd with requests pending).
        sqe = io_uring_get_sqe(ring);
        io_uring_prep_cancel64(sqe, 1, 0);
        sqe->user_data = 2;
        io_uring_submit(ring);
        for (int seen = 0; seen < 2;) {
          if (io_uring_wait_cqe_timeout(ring, &cqe, &ts) < 0) break;
          if (cqe->user_data == 2 || !(cqe->flags & IORING_CQE_F_MORE)) ++seen;
          io_uring_cqe_seen(ring, cqe);
        }
      }
    }
  }
  if (fd >= 0) close(fd);
  io_uring_unregister_buf_ring(ring, kProbeGroup);
  munmap(mem, ring_bytes);
  return result;
}

}  // namespace

const std::vector<RingRequirement>& RequiredOpcodes() {
  static const std::vector<RingRequirement> kOps = {
      {IORING_OP_RECVMSG, "IORING_OP_RECVMSG", "5.3"},
      {IORING_OP_SENDMSG, "IORING_OP_SENDMSG", "5.3"},
      {IORING_OP_SEND, "IORING_OP_SEND", "5.6"},
      {IORING_OP_RECV, "IORING_OP_RECV", "5.6"},
      {IORING_OP_ACCEPT, "IORING_OP_ACCEPT", "5.5"},
      {IORING_OP_CONNECT, "IORING_OP_CONNECT", "5.5"},
      {IORING_OP_LINK_TIMEOUT, "IORING_OP_LINK_TIMEOUT", "5.5"},
      {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL", "5.5"},
      {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT", "5.4"},
      {IORING_OP_SHUTDOWN, "IORING_OP_SHUTDOWN", "5.11"},
      {IORING_OP_READ, "IORING_OP_READ", "5.6"},
      {IORING_OP_CLOSE, "IORING_OP_CLOSE", "5.6"},
      {IORING_OP_MSG_RING, "IORING_OP_MSG_RING", "5.18"},
  };
  return kOps;
}

absl::Status CheckProbe(const io_uring_probe* probe, const std::vector<RingRequirement>& required) {
  if (probe == nullptr) {
    return absl::FailedPreconditionError(
        "io_uring opcode probe failed (IORING_REGISTER_PROBE needs Linux >= 5.6)");
  }
  for (const RingRequirement& r : required) {
    if (!io_uring_opcode_supported(probe, r.opcode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "io_uring opcode ", r.name, " is not supported by kernel ", KernelRelease(),
          "; it needs Linux >= ", r.since));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Ring>> Ring::Create(const RingOptions& options) {
  std::unique_ptr<Ring> ring(new Ring());
  const uint32_t cq = options.cq_entries ? options.cq_entries : options.sq_entries * 4;
  struct Attempt {
    unsigned flags;
    bool defer, coop, single;
  };
  const unsigned base = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
  const Attempt attempts[] = {
      {base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, true, false, true},
      {base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
       false, true, true},
      {base | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, false, true, false},
  };
  int rc = -EINVAL;
  for (const Attempt& a : attempts) {
    if (a.defer && !options.defer_taskrun) continue;
    io_uring_params p{};
    p.flags = a.flags;
    p.cq_entries = cq;
    rc = io_uring_queue_init_params(options.sq_entries, &ring->ring_, &p);
    if (rc == 0) {
      ring->initialized_ = true;
      ring->features_.defer_taskrun = a.defer;
      ring->features_.coop_taskrun = a.coop;
      ring->features_.single_issuer = a.single;
      ring->features_.features = p.features;
      break;
    }
    if (rc != -EINVAL) break;  // EPERM, ENOMEM...: another flag set will not help.
  }
  if (rc != 0) return SetupError(rc);

  for (const FeatureBit& f : kRequiredFeatures) {
    if (!(ring->features_.features & f.bit)) {
      return absl::FailedPreconditionError(absl::StrCat("io_uring feature ", f.name,
                                                        " is missing on kernel ", KernelRelease(),
                                                        "; it needs Linux >= ", f.since));
    }
  }
  io_uring_probe* probe = io_uring_get_probe_ring(&ring->ring_);
  absl::Status st = CheckProbe(probe, RequiredOpcodes());
  if (probe) {
    ring->features_.send_zc = io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
    io_uring_free_probe(probe);
  }
  SIPRING_RETURN_IF_ERROR(st);
  SIPRING_RETURN_IF_ERROR(ProbeMultishotRecv(&ring->ring_));
  return ring;
}

Ring::~Ring() {
  if (initialized_) io_uring_queue_exit(&ring_);
}

io_uring_sqe* Ring::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (__builtin_expect(sqe != nullptr, 1)) return sqe;
  // SQ full: hand what we have to the kernel and take the freed entries.
  io_uring_submit(&ring_);
  sqe = io_uring_get_sqe(&ring_);
  SIPRING_CHECK(sqe != nullptr);
  return sqe;
}

int Ring::Submit() { return io_uring_submit(&ring_); }

int Ring::SubmitAndWait(int64_t timeout_ms) {
  return SubmitAndWaitUs(timeout_ms < 0 ? -1 : timeout_ms * 1000, 1);
}

int Ring::SubmitAndWaitUs(int64_t timeout_us, unsigned min_completions) {
  if (timeout_us < 0) return io_uring_submit(&ring_);
  __kernel_timespec ts{.tv_sec = timeout_us / 1'000'000, .tv_nsec = (timeout_us % 1'000'000) * 1000};
  io_uring_cqe* cqe = nullptr;
  return io_uring_submit_and_wait_timeout(&ring_, &cqe, std::max(1u, min_completions), &ts, nullptr);
}

bool Ring::CqOverflowed() const {
  return (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_CQ_OVERFLOW) != 0 ||
         IO_URING_READ_ONCE(*ring_.cq.koverflow) != 0;
}

}  // namespace sipring::engine

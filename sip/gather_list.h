// File: sip/gather_list.h
//
// GatherList: a fixed-capacity iovec list describing an outgoing message as pieces of the
// received buffer plus small inserted pieces (forwarder.h), ready for sendmsg()/io_uring
// IORING_OP_SENDMSG without copying the body or untouched headers. Flatten() copies it into one
// contiguous caller buffer for the transports that need that (TLS records, a retransmission
// arena).
//
// Ownership: the iovecs point into the received buffer and the caller's scratch buffer; both must
// stay alive and unchanged until the send completes. No heap; a GatherList lives on the shard's
// stack or in its send slot. Thread: the owning shard's.
//
// Example:
//   sip::GatherList list;
//   if (sip::ForwardRequest(msg, options, scratch, &list) == sip::ForwardError::kOk) {
//     msghdr mh{};
//     mh.msg_iov = list.iov.data();
//     mh.msg_iovlen = list.count;
//   }
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace sipring::sip {

// Enough for the worst forwarding edit set (start line, 4 inserts, 3 replaced/removed ranges,
// body) with room to spare; below IOV_MAX so one sendmsg takes it.
inline constexpr size_t kMaxGatherPieces = 16;

struct GatherList {
  std::array<iovec, kMaxGatherPieces> iov{};
  size_t count = 0;  // iovecs in use
  size_t total = 0;  // bytes over all of them

  // Appends a piece, merging it into the previous iovec when contiguous. Empty pieces are
  // skipped. Returns false (and adds nothing) when the list is full.
  [[nodiscard]] bool Add(std::string_view piece) {
    if (piece.empty()) return true;
    if (count > 0) {
      iovec& last = iov[count - 1];
      if (static_cast<const char*>(last.iov_base) + last.iov_len == piece.data()) {
        last.iov_len += piece.size();
        total += piece.size();
        return true;
      }
    }
    if (count == kMaxGatherPieces) return false;
    iov[count].iov_base = const_cast<char*>(piece.data());  // iovec is not const-correct
    iov[count].iov_len = piece.size();
    ++count;
    total += piece.size();
    return true;
  }

  std::span<const iovec> pieces() const { return std::span<const iovec>(iov.data(), count); }
};

// Copies the list into `out`. Returns the bytes written, or 0 when `out` is too small (a SIP
// message is never empty). `out` must not overlap the pieces.
size_t Flatten(const GatherList& list, std::span<char> out);

}  // namespace sipring::sip

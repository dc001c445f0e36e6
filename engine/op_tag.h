// File: engine/op_tag.h
//
// OpTag packs what a completion needs to find its owner into io_uring's 64-bit user_data, so
// completions are dispatched without a heap object per operation (STYLE.md rule 33).
//
//   [ handler:8 | op:8 | generation:16 | index:32 ]
//
//  - handler: which registered CompletionHandler of the shard owns the operation (Shard keeps a
//    small table, so dispatch is one array load, no virtual lookup by pointer in user_data).
//  - op: the handler's own operation kind (recv, send, accept...).
//  - generation: bumped by the owner whenever it reuses `index` (a connection slot, a socket slot),
//    so a late completion for the previous occupant is recognised and dropped. Cancellation and
//    close make such late completions normal, not exceptional.
//  - index: the owner's slot (a buffer id, a connection index...).
//
// Thread-safety: a value type; no state.
//
// Example:
//   sqe->user_data = OpTag{.handler = h, .op = kOpSend, .generation = g, .index = bid}.Pack();
//   OpTag t = OpTag::Unpack(cqe->user_data);
#pragma once

#include <cstdint>

namespace sipring::engine {

struct OpTag {
  uint8_t handler = 0;
  uint8_t op = 0;
  uint16_t generation = 0;
  uint32_t index = 0;

  constexpr uint64_t Pack() const {
    return (uint64_t{handler} << 56) | (uint64_t{op} << 48) | (uint64_t{generation} << 32) |
           uint64_t{index};
  }
  static constexpr OpTag Unpack(uint64_t v) {
    return OpTag{static_cast<uint8_t>(v >> 56), static_cast<uint8_t>(v >> 48),
                 static_cast<uint16_t>(v >> 32), static_cast<uint32_t>(v)};
  }
};

// Handler ids the engine itself reserves. Handler 0 is never registered, so a zero user_data
// (e.g. from a stray NOP) can never reach application code.
inline constexpr uint8_t kNoHandler = 0;
inline constexpr uint8_t kEngineHandler = 1;
inline constexpr int kMaxHandlers = 256;

}  // namespace sipring::engine

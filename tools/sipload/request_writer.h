// File: tools/sipload/request_writer.h
//
// The requests sipload's UAC sends, written straight into a transmit slot: INVITE (with a small
// SDP offer, as sipp's), OPTIONS, REGISTER, the ACK for a 2xx and the BYE (both in the dialog:
// Request-URI = the remote target, Route = the reversed Record-Route set, RFC 3261 §12.2.1.1),
// and the ACK for a non-2xx final response, which is built from the response itself (§17.1.1.3:
// same Via, From, Call-ID and CSeq number as the INVITE, the response's To) so that even a
// response for a call that already ended can be acknowledged.
//
// Every identifier of a call is a function of {run, shard, slot, generation}: the Call-ID, the
// From tag and the branches (one per transaction kind), so a retransmission is the same bytes
// written again and nothing per call is stored but those four numbers. DecodeCallId() reads them
// back from a response, which is how a response finds its call without a hash table.
//
// No allocation; pure functions over caller buffers; any thread.
//
// Example:
//   CallKey key{.run = run, .shard = 0, .slot = 17, .generation = 3};
//   RequestContext ctx{...};                  // local and target addresses as text
//   size_t n = WriteInvite(ctx, key, std::span<char>(slot, 2048));   // 0: did not fit
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sip/message.h"

namespace sipring::sipload {

// What identifies a call: the run (random per process, so a late answer to an earlier run is
// not taken for one of ours), the shard, the call-table slot and its reuse count.
struct CallKey {
  uint32_t run = 0;
  uint8_t shard = 0;
  uint32_t slot = 0;
  uint16_t generation = 0;
};

// Hex characters of the call id: run (8) shard (2) slot (8) generation (4).
inline constexpr size_t kCallIdHex = 22;

// The transactions of a call; each has its own branch suffix.
enum class TxnKind : char {
  kInvite = 'i',    // the INVITE, its retransmissions, and the ACK for a non-2xx answer
  kAck = 'a',       // the ACK for the 2xx (a transaction of its own, §17.1.1.3)
  kBye = 'b',       // the BYE
  kOptions = 'o',   // an OPTIONS scenario request
  kRegister = 'r',  // a REGISTER scenario request
};

// Text the writers need besides the key. Views must outlive the call.
struct RequestContext {
  std::string_view service;      // user part of Request-URI and To
  std::string_view target_host;  // "127.0.0.1" or "[::1]"
  uint16_t target_port = 0;
  std::string_view local_host;   // the sending socket's address, as SIP writes it
  uint16_t local_port = 0;
  bool ipv6 = false;             // for the SDP's address type
};

// The dialog state the ACK for a 2xx and the BYE need (from the 2xx).
struct DialogView {
  std::string_view to_tag;
  std::string_view remote_target;  // the 2xx's Contact URI
  std::string_view route;          // "<sip:p1;lr>, <sip:p2;lr>" (reversed Record-Route), or empty
};

// Each writes one request into `out` and returns its size, or 0 when it did not fit.
size_t WriteInvite(const RequestContext& ctx, const CallKey& key, std::span<char> out);
size_t WriteOptions(const RequestContext& ctx, const CallKey& key, std::span<char> out);
size_t WriteRegister(const RequestContext& ctx, const CallKey& key, std::span<char> out);
size_t WriteAck2xx(const RequestContext& ctx, const CallKey& key, const DialogView& dialog,
                   std::span<char> out);
size_t WriteBye(const RequestContext& ctx, const CallKey& key, const DialogView& dialog,
                std::span<char> out);
// The ACK for a non-2xx final response to an INVITE, from that response. 0 when the response
// lacks a Via, From, To, Call-ID or CSeq, or it did not fit.
size_t WriteAckForResponse(const RequestContext& ctx, const sip::Message& response,
                           std::span<char> out);

// Reads a Call-ID written by the writers back into its key. False when it is not one of ours
// (another format or `run`).
bool DecodeCallId(std::string_view call_id, uint32_t run, CallKey* key);

}  // namespace sipring::sipload

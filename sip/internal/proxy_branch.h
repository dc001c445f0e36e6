// File: sip/internal/proxy_branch.h
//
// The layout of the Via branch the proxy puts on every request it forwards, shared by its
// stateless path (sip/proxy.cc) and its transaction path (sip/proxy_stateful.cc):
//
//   "z9hG4bK" "sr" <instance: 8 hex> <transaction: 16> <loop hash: 8 hex>
//
// The transaction field is either the RFC 3261 §16.11 stateless hash (16 hex digits, equal for
// retransmissions) or, in stateful mode, kTxnMark + table index (7 hex) + generation (6 hex) +
// try number (2 hex): a response finds its transaction and its try without any lookup, and a
// response to an abandoned try or an ended transaction is recognised as such. kTxnMark is not a
// hex digit, so the two forms never mix up. Constants only; any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace sipring::sip_internal {

inline constexpr size_t kBranchPrefix = 9;  // "z9hG4bKsr"
inline constexpr size_t kInstanceHex = 8;
inline constexpr size_t kTxHex = 16;
inline constexpr size_t kLoopHex = 8;
inline constexpr size_t kBranchSize = kBranchPrefix + kInstanceHex + kTxHex + kLoopHex;
inline constexpr char kTxnMark = 't';
inline constexpr size_t kTxnIndexHex = 7;
inline constexpr size_t kTxnGenerationHex = 6;
inline constexpr size_t kTxnTryHex = 2;
static_assert(1 + kTxnIndexHex + kTxnGenerationHex + kTxnTryHex == kTxHex);
// Record-Route parameter naming the dialog's backend: "sr-be=" + 8 hex digits.
inline constexpr std::string_view kBackendParam = "sr-be";

}  // namespace sipring::sip_internal

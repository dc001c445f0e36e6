// File: sip/via.h
//
// Via: one via-parm of a Via header (RFC 3261 §20.42, §25.1): sent-protocol, sent-by and the
// parameters a proxy acts on (branch, received, rport, maddr, ttl). A Via header with several
// comma-separated values yields one Via per value, in order (Message::vias).
//
// Ownership: views into the parsed buffer, nothing copied; LWS and line folds inside the value
// are allowed everywhere the grammar allows them (RFC 4475 wsinv) and skipped, never rewritten.
// Thread: pure functions, any thread.
//
// Example:
//   Via via;
//   if (ParseVia("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport", &via)) {
//     via.transport;  // "UDP"
//     via.port;       // 5060
//     via.branch;     // "z9hG4bK776"
//     via.has_rport;  // true, via.rport empty
//   }
#pragma once

#include <cstdint>
#include <string_view>

namespace sipring::sip {

// The RFC 3261 magic cookie that starts every compliant branch (§8.1.1.7).
inline constexpr std::string_view kBranchMagicCookie = "z9hG4bK";

struct Via {
  std::string_view value;          // the whole via-parm, trimmed
  std::string_view protocol_name;  // "SIP"
  std::string_view protocol_version;  // "2.0"
  std::string_view transport;      // "UDP", "TCP", "TLS", "SCTP", "WS"... or any token
  std::string_view host;           // sent-by host; an IPv6 reference keeps its brackets
  std::string_view port_text;      // empty when absent
  uint16_t port = 0;               // 0 when absent
  std::string_view params;         // everything from the first ';' (raw, may hold LWS)
  std::string_view branch;         // empty when absent (RFC 2543 peers, inv2543)
  std::string_view received;       // with or without [ ] (RFC 5118 §4.5)
  std::string_view rport;          // value of rport=; empty when valueless or absent
  bool has_rport = false;          // rport present, with or without a value (RFC 3581)
  std::string_view maddr;
  std::string_view ttl;
  uint16_t header_index = 0;       // index into Message::headers of the header holding it

  // True when the branch carries the RFC 3261 magic cookie (a compliant transaction id).
  bool HasRfc3261Branch() const { return branch.substr(0, kBranchMagicCookie.size()) == kBranchMagicCookie; }
};

// Parses one via-parm (no surrounding comma). Returns false when it is malformed: bad
// sent-protocol, no host, bad port, empty parameters (RFC 4475 badinv01 ";;"), a ttl outside
// 0..255, or a branch/received/maddr parameter without a value.
[[nodiscard]] bool ParseVia(std::string_view value, Via* via);

}  // namespace sipring::sip

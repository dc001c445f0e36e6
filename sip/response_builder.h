// File: sip/response_builder.h
//
// BuildResponse(): writes a response to a request into a caller buffer (a pool slot), with the
// headers RFC 3261 §8.2.6.2 requires: every Via value in order, From, To (a To-tag added when
// absent, except for 100), Call-ID, CSeq, then optional Retry-After (503) and Unsupported (420),
// and Content-Length: 0. Used for the proxy's own answers (400, 403, 404, 408, 413, 414, 416, 420,
// 480, 482, 483, 500, 501, 503, 505, 513) and 100 Trying.
//
// Fault reporting: we name the fault in the reason phrase ("400 Bad Request (bad CSeq)"), which
// RFC 3261 §21 allows (the phrase is for humans) and which every SIP trace tool shows; a Warning
// header would need a warn-agent host and a 3-digit code that RFC 3261 does not define for most
// syntax faults. Pass `reason` to override the default phrase.
//
// Best effort: it works on a request that only partly parsed. It copies the raw values of the
// headers the parser indexed (Message::headers), so a request with a bad CSeq still gets its
// CSeq echoed (a cseq_method override needs the parsed number); headers that are missing are left
// out. Without any Via there is nowhere to send
// a response: kNoVia, and the caller drops the request.
//
// In place: `out` may be the request's own buffer (answering from the RX slot without another
// slot). The builder first measures; if no piece copied from the request would be overwritten
// before it is read (the usual case: the status line is shorter than the request line and the
// headers keep their order), it writes directly with memmove; otherwise it builds in a 8 KiB
// stack buffer and copies that over (kNoSpace if the response is larger).
//
// No allocation; any thread; the Message and its buffer are only read.
//
// Example:
//   sip::ResponseSpec spec;
//   spec.status = 503;
//   spec.retry_after = 5;
//   sip::BuildResult r = sip::BuildResponse(msg, spec, slot_span);
//   if (r.error == sip::BuildError::kOk) SendTo(peer, slot_span.first(r.size));
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "sip/message.h"
#include "sip/request_check.h"

namespace sipring::sip {

inline constexpr size_t kMaxToTagPrefix = 16;

struct ResponseSpec {
  int status = 0;            // 100..699
  std::string_view reason;   // empty: DefaultReason(status)
  std::string_view to_tag;   // empty: derived from Call-ID, From tag and top Via branch, so a
                             // retransmitted request gets the same tag (stateless answers)
  // Written before a derived tag (at most kMaxToTagPrefix bytes, more is cut): lets the sender
  // recognise the ACK for its own answer by the tag it comes back with.
  std::string_view to_tag_prefix;
  int retry_after = -1;      // >= 0: add "Retry-After: N" (503, 480...)
  std::span<const std::string_view> unsupported;  // non-empty: add "Unsupported: a, b" (420)
  // What a UAS adds (tools/sipload answers as a backend):
  // copy every Record-Route of the request, in order: a UAS's dialog-creating responses must
  // (RFC 3261 §12.1.1), so the caller's ACK and BYE come back through the proxy.
  bool copy_record_route = false;
  std::string_view contact;      // non-empty: "Contact: <contact>" (§12.1.1, 18x/2xx to INVITE)
  // Non-empty: written instead of the request's CSeq method, with its number: the 487 for the
  // INVITE that a CANCEL ended is built from the CANCEL (§9.2: same number, method INVITE).
  std::string_view cseq_method;
  std::string_view content_type;  // with `body`: "Content-Type: ..." (a 200's SDP answer)
  std::string_view body;          // non-empty: sent after the headers, Content-Length sized to it
};

enum class BuildError {
  kOk,         // written; BuildResult::size bytes
  kNoVia,      // the request has no Via header: no response is possible, drop it
  kNoSpace,    // `out` (or the in-place scratch) is too small
  kBadStatus,  // status outside 100..699
};

struct BuildResult {
  BuildError error = BuildError::kOk;
  size_t size = 0;
};

// Builds the response to `request` described by `spec` into `out`. See the file comment.
[[nodiscard]] BuildResult BuildResponse(const Message& request, const ResponseSpec& spec,
                                        std::span<char> out);

// The RFC 3261 §21 reason phrase for a status code ("Bad Request"), or "Unknown".
std::string_view DefaultReason(int status);

// The ResponseSpec for a kRespond verdict. It points into `verdict` (the unsupported tags): keep
// the Verdict alive while the spec is used.
ResponseSpec ResponseSpecFor(const Verdict& verdict);

}  // namespace sipring::sip

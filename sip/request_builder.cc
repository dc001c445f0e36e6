#include "sip/request_builder.h"

#include "sip/internal/scratch_writer.h"

namespace sipring::sip {

BuildError BuildHopRequest(const Message& invite, const HopRequestSpec& spec,
                           std::span<char> out, size_t* size) {
  const Header* from = invite.Find(HeaderId::kFrom);
  const Header* to = invite.Find(HeaderId::kTo);
  if (from == nullptr || to == nullptr || invite.call_id.empty() || invite.cseq.method.empty()) {
    return BuildError::kNoVia;
  }
  const std::string_view method = spec.method == HopMethod::kAck ? "ACK" : "CANCEL";
  sip_internal::ScratchWriter w(out);
  w.Append(method);
  w.Append(" ");
  w.Append(invite.request_uri_text);
  w.Append(" SIP/2.0\r\nVia: ");
  w.Append(spec.via);
  w.Append("\r\nMax-Forwards: 70\r\n");
  int route = 0;
  for (const Header* r = invite.Find(HeaderId::kRoute); r != nullptr; r = invite.NextSame(r)) {
    // A Route header may hold several values; the one we popped is the first value of the first
    // header, and the forwarder removes it alone, so the rest of that header stays.
    std::string_view value = r->value;
    if (route++ == 0 && spec.skip_routes > 0) {
      const size_t comma = invite.routes[0].addr.value.size();
      const size_t start = static_cast<size_t>(invite.routes[0].addr.value.data() - value.data());
      const size_t rest = value.find(',', start + comma);
      if (rest == std::string_view::npos) continue;
      value = value.substr(rest + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    }
    w.Append("Route: ");
    w.Append(value);
    w.Append("\r\n");
  }
  w.Append("From: ");
  w.Append(from->value);
  w.Append("\r\nTo: ");
  w.Append(spec.method == HopMethod::kAck ? spec.to : to->value);
  w.Append("\r\nCall-ID: ");
  w.Append(invite.call_id);
  w.Append("\r\nCSeq: ");
  w.AppendNumber(invite.cseq.number);
  w.Append(" ");
  w.Append(method);
  w.Append("\r\nContent-Length: 0\r\n\r\n");
  if (w.overflow()) return BuildError::kNoSpace;
  *size = w.size();
  return BuildError::kOk;
}

}  // namespace sipring::sip

#include "sip/forwarder.h"

#include <cstring>

#include "sip/internal/hash.h"
#include "sip/internal/lex.h"
#include "sip/internal/scratch_writer.h"

namespace sipring::sip {
namespace {

using sip_internal::ScratchWriter;

// One change to the received bytes: at `offset`, drop `remove` bytes and insert `insert`.
struct Edit {
  size_t offset = 0;
  size_t remove = 0;
  std::string_view insert;
};

// Emits the buffer with the edits applied (edits sorted by offset), up to `end`.
ForwardError Assemble(const Message& msg, Edit* edits, size_t n, size_t end, GatherList* list) {
  // Insertion sort, stable: inserts at the same offset keep the order they were made in.
  for (size_t i = 1; i < n; ++i) {
    for (size_t j = i; j > 0 && edits[j - 1].offset > edits[j].offset; --j) {
      const Edit t = edits[j];
      edits[j] = edits[j - 1];
      edits[j - 1] = t;
    }
  }
  *list = GatherList();
  size_t pos = 0;
  bool ok = true;
  for (size_t i = 0; i < n; ++i) {
    ok &= list->Add(msg.buffer.substr(pos, edits[i].offset - pos));
    ok &= list->Add(edits[i].insert);
    pos = edits[i].offset + edits[i].remove;
  }
  ok &= list->Add(msg.buffer.substr(pos, end - pos));
  if (!ok) {
    *list = GatherList();
    return ForwardError::kTooManyPieces;
  }
  return ForwardError::kOk;
}

// Offset of a view that points into msg.buffer.
size_t OffsetOf(const Message& msg, std::string_view v) {
  return static_cast<size_t>(v.data() - msg.buffer.data());
}

// Same host, with IPv6 brackets ignored on either side ("[::1]" == "::1"). Textual, as RFC 3261
// §18.2.1 asks: a sent-by that is a name always differs from the numeric source.
bool SameHost(std::string_view a, std::string_view b) {
  return sip_internal::EqualsIgnoreCase(sip_internal::StripBrackets(a),
                                        sip_internal::StripBrackets(b));
}

// Adds received= (and fills a valueless rport) on the top Via. False when the Via's parameters do
// not parse (Parse() would have refused the message already).
bool AddReceived(const Message& msg, const ForwardOptions& options, ScratchWriter* w, Edit* edits,
                 size_t* n) {
  const Via& v0 = msg.vias[0];
  const bool fill_rport = v0.has_rport && v0.rport.empty() && options.source_port != 0;
  if (fill_rport) {
    // Find the valueless rport token to append "=port" to it.
    size_t at = 0;
    const bool ok = sip_internal::ForEachParam(
        v0.params, msg.buffer.data() + msg.buffer.size(),
        [&](sip_internal::ParamName kind, std::string_view name, std::string_view, bool has_value) {
          if (at == 0 && !has_value && kind == sip_internal::ParamName::kRport) {
            at = OffsetOf(msg, name) + name.size();
          }
          return true;
        });
    if (!ok) return false;
    if (at != 0) {
      const size_t mark = w->Mark();
      w->Append("=");
      w->AppendNumber(options.source_port);
      edits[(*n)++] = {at, 0, w->Since(mark)};
    }
  }
  // RFC 3581 §4: with rport, received is added even when the host matches.
  if (fill_rport || (v0.received.empty() && !SameHost(v0.host, options.source_host))) {
    if (!v0.received.empty()) return true;  // already there (a previous hop's view); keep it
    const size_t mark = w->Mark();
    w->Append(";received=");
    w->Append(sip_internal::StripBrackets(options.source_host));  // RFC 3261's grammar: IPv6address, no [ ]
    edits[(*n)++] = {OffsetOf(msg, v0.value) + v0.value.size(), 0, w->Since(mark)};
  }
  return true;
}

}  // namespace

std::string_view StatelessBranch(const Message& msg, std::span<char, kStatelessBranchSize> out) {
  uint64_t h = sip_internal::kFnvOffset;
  const Via* top = msg.via_count > 0 ? &msg.vias[0] : nullptr;
  if (top != nullptr && top->HasRfc3261Branch()) {
    h = sip_internal::Fnv1aField(top->branch, h);
  } else {
    h = sip_internal::Fnv1aField(msg.to.tag, h);
    h = sip_internal::Fnv1aField(msg.from.tag, h);
    h = sip_internal::Fnv1aField(msg.call_id, h);
    h = sip_internal::Fnv1aField(msg.request_uri_text, h);
    h = sip_internal::Fnv1aField(top != nullptr ? top->value : std::string_view(), h);
    const uint32_t cseq = msg.cseq.number;
    h = sip_internal::Fnv1aField(std::string_view(reinterpret_cast<const char*>(&cseq), sizeof(cseq)), h);
  }
  std::memcpy(out.data(), kBranchMagicCookie.data(), kBranchMagicCookie.size());
  out[7] = 's';
  out[8] = 'r';
  sip_internal::ToHex16(h, out.data() + 9);
  return std::string_view(out.data(), out.size());
}

bool RouteNamesUs(const RouteValue& route, std::string_view host, uint16_t port) {
  if (!route.uri.IsSip() || !sip_internal::EqualsIgnoreCase(route.uri.host, host)) return false;
  return route.uri.PortOrDefault() == port;
}

ForwardError ForwardRequest(const Message& msg, const ForwardOptions& options,
                            std::span<char> scratch, GatherList* list) {
  *list = GatherList();
  if (!msg.IsRequest()) return ForwardError::kNotRequest;
  if (!msg.headers_complete) return ForwardError::kIncomplete;
  if (msg.max_forwards == 0) return ForwardError::kTooManyHops;
  if (msg.via_count >= kMaxVias ||
      (options.record_route && msg.record_route_count >= kMaxRecordRoutes)) {
    return ForwardError::kTooManyValues;
  }

  ScratchWriter w(scratch);
  Edit edits[8];
  size_t n = 0;
  // New headers go after the start line (see the header comment).
  const size_t top = msg.start_line.size() + (msg.buffer[msg.start_line.size()] == '\r' ? 2 : 1);

  char branch_buffer[kStatelessBranchSize];
  const std::string_view branch = options.branch.empty()
                                      ? StatelessBranch(msg, branch_buffer)
                                      : options.branch;
  size_t mark = w.Mark();
  w.Append("Via: SIP/2.0/");
  w.Append(options.transport);
  w.Append(" ");
  w.Append(options.local_host);
  if (options.local_port != 0) {
    w.Append(":");
    w.AppendNumber(options.local_port);
  }
  w.Append(";branch=");
  w.Append(branch);
  w.Append("\r\n");
  edits[n++] = {top, 0, w.Since(mark)};

  const std::string_view route_host =
      options.route_host.empty() ? options.local_host : options.route_host;
  const uint16_t route_port = options.route_host.empty() ? options.local_port : options.route_port;
  if (options.record_route) {
    mark = w.Mark();
    w.Append("Record-Route: <sip:");
    w.Append(route_host);
    if (route_port != 0) {
      w.Append(":");
      w.AppendNumber(route_port);
    }
    w.Append(";lr");
    if (!options.record_route_param.empty()) {
      w.Append(";");
      w.Append(options.record_route_param);
    }
    w.Append(">\r\n");
    edits[n++] = {top, 0, w.Since(mark)};
  }

  if (const Header* mf = msg.Find(HeaderId::kMaxForwards)) {
    // A Max-Forwards that did not parse means Parse() failed: never forward a guess.
    if (msg.max_forwards < 0) return ForwardError::kIncomplete;
    mark = w.Mark();
    w.AppendNumber(static_cast<uint64_t>(msg.max_forwards - 1));
    edits[n++] = {OffsetOf(msg, mf->value), mf->value.size(), w.Since(mark)};
  } else {
    mark = w.Mark();
    w.Append("Max-Forwards: 70\r\n");
    edits[n++] = {top, 0, w.Since(mark)};
  }

  if (!options.source_host.empty() && msg.via_count > 0) {
    if (!AddReceived(msg, options, &w, edits, &n)) return ForwardError::kIncomplete;
  }

  if (msg.route_count > 0 && RouteNamesUs(msg.routes[0], route_host, route_port)) {
    const RouteValue& r0 = msg.routes[0];
    if (msg.route_count > 1 && msg.routes[1].addr.header_index == r0.addr.header_index) {
      // "Route: <us>, <next>" -> "Route: <next>": drop the value, its comma and the LWS.
      const size_t from = OffsetOf(msg, r0.addr.value);
      edits[n++] = {from, OffsetOf(msg, msg.routes[1].addr.value) - from, {}};
    } else {
      const Header& h = msg.headers[r0.addr.header_index];
      edits[n++] = {h.offset, h.length, {}};
    }
  }

  if (msg.content_length < 0) {
    // A datagram may omit Content-Length (its body is the rest of the datagram, RFC 3261
    // §18.3); the next hop may be a stream, where it is mandatory.
    mark = w.Mark();
    w.Append("Content-Length: ");
    w.AppendNumber(msg.body.size());
    w.Append("\r\n");
    edits[n++] = {msg.header_end, 0, w.Since(mark)};
  }
  if (w.overflow()) return ForwardError::kScratchTooSmall;
  return Assemble(msg, edits, n, msg.body_offset + msg.body.size(), list);
}

ForwardError ForwardResponse(const Message& msg, GatherList* list) {
  *list = GatherList();
  if (!msg.IsResponse()) return ForwardError::kNotResponse;
  if (!msg.headers_complete) return ForwardError::kIncomplete;
  if (msg.via_count == 0) return ForwardError::kNoVia;
  Edit edit;
  const Via& v0 = msg.vias[0];
  if (msg.via_count > 1 && msg.vias[1].header_index == v0.header_index) {
    const size_t from = OffsetOf(msg, v0.value);
    edit = {from, OffsetOf(msg, msg.vias[1].value) - from, {}};
  } else {
    const Header& h = msg.headers[v0.header_index];
    edit = {h.offset, h.length, {}};
  }
  return Assemble(msg, &edit, 1, msg.body_offset + msg.body.size(), list);
}

}  // namespace sipring::sip

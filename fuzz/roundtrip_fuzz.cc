// libFuzzer target (differential, STYLE.md rule 44): parse -> rewrite for forwarding -> re-parse.
// Asserts that a message that parsed still parses after the rewrite, with Call-ID, CSeq,
// From/To tags and body preserved and exactly the intended changes (one more / one less Via,
// Max-Forwards decremented, our Record-Route on top).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "sip/forwarder.h"
#include "sip/parser.h"

namespace sip = sipring::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* in = new sip::Message();
  static auto* out = new sip::Message();
  static char flat[20000];
  static char scratch[sip::kForwardScratchSize];
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  sip::ParseLimits limits;
  limits.max_message_size = 16384;
  if (sip::Parse(bytes, limits, in) != sip::ParseError::kOk) return 0;
  // The rewrite adds up to four header lines and a few hundred bytes.
  sip::ParseLimits after = limits;
  after.max_message_size = sizeof(flat);
  after.max_headers = limits.max_headers + 4;

  sip::GatherList list;
  if (in->IsRequest()) {
    sip::ForwardOptions o;
    o.local_host = "lb.example.net";
    o.local_port = 5062;
    o.record_route = true;
    o.record_route_param = "be=9";
    const sip::ForwardError e = sip::ForwardRequest(*in, o, scratch, &list);
    if (in->max_forwards == 0) {
      FUZZ_ASSERT(e == sip::ForwardError::kTooManyHops);
      return 0;
    }
    if (in->via_count >= sip::kMaxVias || in->record_route_count >= sip::kMaxRecordRoutes) {
      FUZZ_ASSERT(e == sip::ForwardError::kTooManyValues);
      return 0;
    }
    FUZZ_ASSERT(e == sip::ForwardError::kOk);
  } else {
    const sip::ForwardError e = sip::ForwardResponse(*in, &list);
    if (in->via_count == 0) {
      FUZZ_ASSERT(e == sip::ForwardError::kNoVia);
      return 0;
    }
    FUZZ_ASSERT(e == sip::ForwardError::kOk);
  }
  const size_t n = sip::Flatten(list, flat);
  FUZZ_ASSERT(n == list.total && n > 0);
  const sip::ParseError err = sip::Parse(std::string_view(flat, n), after, out);
  FUZZ_ASSERT(err == sip::ParseError::kOk);
  FUZZ_ASSERT(out->start_line == in->start_line);
  FUZZ_ASSERT(out->call_id == in->call_id);
  FUZZ_ASSERT(out->cseq.number == in->cseq.number && out->cseq.method == in->cseq.method);
  FUZZ_ASSERT(out->from.tag == in->from.tag && out->to.tag == in->to.tag);
  FUZZ_ASSERT(out->body == in->body);
  FUZZ_ASSERT(out->trailing.empty());
  if (in->IsRequest()) {
    FUZZ_ASSERT(out->via_count == in->via_count + 1);
    FUZZ_ASSERT(out->vias[0].host == "lb.example.net" && out->vias[0].port == 5062);
    for (uint16_t i = 0; i < in->via_count; ++i) FUZZ_ASSERT(out->vias[i + 1].value == in->vias[i].value);
    FUZZ_ASSERT(out->max_forwards == (in->max_forwards < 0 ? 70 : in->max_forwards - 1));
    FUZZ_ASSERT(out->record_route_count == in->record_route_count + 1);
    FUZZ_ASSERT(out->record_routes[0].uri.host == "lb.example.net");
    const bool popped = in->route_count > 0 && sip::RouteNamesUs(in->routes[0], "lb.example.net", 5062);
    FUZZ_ASSERT(out->route_count == in->route_count - (popped ? 1 : 0));
  } else {
    FUZZ_ASSERT(out->via_count == in->via_count - 1);
    for (uint16_t i = 1; i < in->via_count; ++i) FUZZ_ASSERT(out->vias[i - 1].value == in->vias[i].value);
  }
  return 0;
}

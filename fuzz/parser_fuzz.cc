// libFuzzer target: the whole-message parser, the verdict and the response builder. Asserts that
// every result is a view into the input, counts stay within capacity, and that a response built
// for any answerable request re-parses as a response.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "sip/parser.h"
#include "sip/request_check.h"
#include "sip/response_builder.h"

using sipring::fuzz::Within;
namespace sip = sipring::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* msg = new sip::Message();
  static auto* reply = new sip::Message();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  sip::ParseLimits limits;
  limits.max_message_size = 16384;
  const sip::ParseError err = sip::Parse(in, limits, msg);

  FUZZ_ASSERT(msg->header_count <= limits.max_headers);
  FUZZ_ASSERT(msg->via_count <= sip::kMaxVias);
  FUZZ_ASSERT(Within(msg->start_line, in) && Within(msg->body, in) && Within(msg->trailing, in));
  for (uint16_t i = 0; i < msg->header_count; ++i) {
    const sip::Header& h = msg->headers[i];
    FUZZ_ASSERT(Within(h.name, in) && Within(h.value, in));
    FUZZ_ASSERT(static_cast<size_t>(h.offset) + h.length <= in.size());
  }
  for (uint16_t i = 0; i < msg->via_count; ++i) {
    FUZZ_ASSERT(Within(msg->vias[i].branch, in) && Within(msg->vias[i].host, in));
  }
  for (uint16_t i = 0; i < msg->route_count; ++i) FUZZ_ASSERT(Within(msg->routes[i].uri.host, in));
  if (err == sip::ParseError::kOk) {
    FUZZ_ASSERT(msg->headers_complete);
    FUZZ_ASSERT(msg->content_length < 0 ||
                msg->body.size() == static_cast<size_t>(msg->content_length));
  }

  const sip::Verdict v = msg->IsResponse() ? sip::CheckResponse(*msg, err)
                                           : sip::CheckRequest(*msg, err, sip::CheckOptions());
  if (v.action == sip::Verdict::Action::kRespond) {
    FUZZ_ASSERT(v.status >= 400 && v.status <= 599);
    static char out[32768];
    const sip::BuildResult r = sip::BuildResponse(*msg, sip::ResponseSpecFor(v), out);
    FUZZ_ASSERT(r.error == sip::BuildError::kOk || r.error == sip::BuildError::kNoVia);
    if (r.error == sip::BuildError::kOk) {
      sip::ParseLimits loose;
      loose.max_message_size = sizeof(out);
      loose.max_headers = sip::kMaxHeaders;
      loose.max_header_length = sizeof(out);
      (void)sip::Parse(std::string_view(out, r.size), loose, reply);
      FUZZ_ASSERT(reply->IsResponse() && reply->status_code == v.status);
      FUZZ_ASSERT(reply->headers_complete);
    }
  }
  return 0;
}

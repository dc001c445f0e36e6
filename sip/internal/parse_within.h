// File: sip/internal/parse_within.h
//
// ParseUri(), ParseVia() and ParseNameAddr() for a view that lies inside a larger buffer whose
// bytes up to `limit` may be read: the parser passes the message buffer's end, so the 16-byte
// scans of scan.h run on short views too. Results and failures are exactly those of the public
// functions (uri.h, via.h, name_addr.h), which call these with limit == the view's end. Internal
// to sip/ (STYLE.md rule 4).
//
// Pure functions, no allocation, any thread.
//
// Example:
//   // value is a header value inside msg.buffer
//   Via via;
//   bool ok = sip_internal::ParseViaWithin(value, msg.buffer.data() + msg.buffer.size(), &via);
#pragma once

#include <string_view>

#include "sip/name_addr.h"
#include "sip/uri.h"
#include "sip/via.h"

namespace sipring::sip_internal {

// `limit` >= text.data() + text.size(); see the file comment.
[[nodiscard]] bool ParseUriWithin(std::string_view text, const char* limit, sip::Uri* uri);
[[nodiscard]] bool ParseViaWithin(std::string_view value, const char* limit, sip::Via* via);
[[nodiscard]] bool ParseNameAddrWithin(std::string_view value, const char* limit, sip::NameAddr* out);
// The same for a value with no LWS at either end (a header value, which the parser trims, or the
// one element of a value without ','), saving the trim.
[[nodiscard]] bool ParseTrimmedNameAddrWithin(std::string_view value, const char* limit,
                                              sip::NameAddr* out);

}  // namespace sipring::sip_internal

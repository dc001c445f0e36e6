#include "sip/stream_framer.h"

#include <cstring>

#include "sip/internal/lex.h"

namespace sipring::sip {
namespace {

constexpr size_t kNotFound = static_cast<size_t>(-1);

// Finds the empty line that ends the header section, exactly as Parse() does: a line end ('\n')
// followed by "\r\n" or a bare "\n" (the parser tolerates bare LF line ends, so the framer
// must, or the two would disagree about where a message ends). Returns the offset of the empty
// line and sets *body_offset, or returns kNotFound.
size_t FindHeaderEnd(std::string_view s, size_t* body_offset) {
  size_t from = 0;
  while (from < s.size()) {
    const void* p = std::memchr(s.data() + from, '\n', s.size() - from);
    if (p == nullptr) return kNotFound;
    const size_t i = static_cast<size_t>(static_cast<const char*>(p) - s.data());
    if (i + 1 < s.size() && s[i + 1] == '\n') {
      *body_offset = i + 2;
      return i + 1;
    }
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      *body_offset = i + 3;
      return i + 1;
    }
    from = i + 1;
  }
  return kNotFound;
}

}  // namespace

FrameResult FrameStream(std::string_view bytes, const ParseLimits& limits) {
  FrameResult r;
  while (r.skip < bytes.size() && (bytes[r.skip] == '\r' || bytes[r.skip] == '\n')) ++r.skip;
  std::string_view s = bytes.substr(r.skip);
  const std::string_view window = s.substr(0, limits.max_message_size);
  size_t body_offset = 0;
  const size_t header_end = FindHeaderEnd(window, &body_offset);
  if (header_end == kNotFound) {
    if (s.size() >= limits.max_message_size) {
      r.state = FrameResult::State::kError;
      r.error = ParseError::kMessageTooLarge;
    }
    return r;
  }
  // Look for Content-Length / l among the header lines (the first line is the start line).
  int64_t content_length = -1;
  size_t pos = s.find('\n') + 1;
  // Every header line ends with a '\n' before header_end, so the memchr calls always find one.
  while (pos < header_end) {
    const void* p = std::memchr(s.data() + pos, '\n', header_end - pos);
    size_t eol = p ? static_cast<size_t>(static_cast<const char*>(p) - s.data()) : header_end - 1;
    // Include folded continuation lines in the value.
    while (eol + 1 < header_end && (s[eol + 1] == ' ' || s[eol + 1] == '\t')) {
      const void* q = std::memchr(s.data() + eol + 1, '\n', header_end - (eol + 1));
      eol = q ? static_cast<size_t>(static_cast<const char*>(q) - s.data()) : header_end - 1;
    }
    const std::string_view line = s.substr(pos, eol - pos);
    const char c = sip_internal::ToLower(line.empty() ? '\0' : line[0]);
    if (c == 'c' || c == 'l') {
      const size_t name_length = sip_internal::TokenLength(line);
      size_t colon = name_length;
      while (colon < line.size() && (line[colon] == ' ' || line[colon] == '\t')) ++colon;
      if (colon < line.size() && line[colon] == ':' &&
          LookupHeaderId(line.substr(0, name_length)) == HeaderId::kContentLength) {
        uint64_t n = 0;
        if (!sip_internal::ParseDecimal(sip_internal::TrimLws(line.substr(colon + 1)), 0xffffffffu,
                                        &n) ||
            (content_length >= 0 && content_length != static_cast<int64_t>(n))) {
          r.state = FrameResult::State::kError;
          r.error = ParseError::kBadContentLength;
          return r;
        }
        content_length = static_cast<int64_t>(n);
      }
    }
    pos = eol + 1;
  }
  const uint64_t body = content_length < 0 ? 0 : static_cast<uint64_t>(content_length);
  if (body > limits.max_body_size) {
    r.state = FrameResult::State::kError;
    r.error = ParseError::kBodyTooLarge;
    return r;
  }
  const uint64_t total = body_offset + body;
  if (total > limits.max_message_size) {
    r.state = FrameResult::State::kError;
    r.error = ParseError::kMessageTooLarge;
    return r;
  }
  if (total > s.size()) return r;
  r.state = FrameResult::State::kMessage;
  r.length = static_cast<size_t>(total);
  return r;
}

}  // namespace sipring::sip

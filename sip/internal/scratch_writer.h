// File: sip/internal/scratch_writer.h
//
// ScratchWriter: appends text to a caller's fixed buffer (a pool slot's free tail, a stored
// copy) and hands back views of what it wrote. It never allocates and never writes past the
// buffer: an append that does not fit sets overflow() and writes nothing, so the caller checks
// once at the end. Used by the forwarder (inserted Via / Record-Route pieces) and the request
// builder (CANCEL, ACK). Any thread; one writer per buffer.
//
// Example:
//   ScratchWriter w(std::span<char>(buf, sizeof(buf)));
//   w.Append("CSeq: "); w.AppendNumber(1); w.Append(" ACK\r\n");
//   if (w.overflow()) return kNoSpace;
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace sipring::sip_internal {

class ScratchWriter {
 public:
  explicit ScratchWriter(std::span<char> scratch) : scratch_(scratch) {}
  void Append(std::string_view s) {
    if (used_ + s.size() > scratch_.size()) {
      overflow_ = true;
      return;
    }
    std::memcpy(scratch_.data() + used_, s.data(), s.size());
    used_ += s.size();
  }
  void AppendNumber(uint64_t v) {
    char digits[20];
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    char out[20];
    for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
    Append(std::string_view(out, n));
  }
  size_t Mark() const { return used_; }
  std::string_view Since(size_t mark) const {
    return std::string_view(scratch_.data() + mark, used_ - mark);
  }
  size_t size() const { return used_; }
  bool overflow() const { return overflow_; }

 private:
  std::span<char> scratch_;
  size_t used_ = 0;
  bool overflow_ = false;
};

}  // namespace sipring::sip_internal

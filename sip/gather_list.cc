#include "sip/gather_list.h"

#include <cstring>

namespace sipring::sip {

size_t Flatten(const GatherList& list, std::span<char> out) {
  if (list.total > out.size()) return 0;
  size_t at = 0;
  for (const iovec& v : list.pieces()) {
    std::memcpy(out.data() + at, v.iov_base, v.iov_len);
    at += v.iov_len;
  }
  return at;
}

}  // namespace sipring::sip

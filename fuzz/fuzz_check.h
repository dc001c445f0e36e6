// File: fuzz/fuzz_check.h
//
// FUZZ_ASSERT: an invariant check for libFuzzer targets that aborts (so libFuzzer records the
// input as a crash) in every build type, with the failed expression on stderr. Fuzz-only; the
// daemon never asserts on network input (STYLE.md rule 29). Single-threaded, like libFuzzer.
//
// Example:
//   FUZZ_ASSERT(out.call_id == in.call_id);
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_ASSERT(cond)                                                               \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n", __FILE__, __LINE__, \
                   #cond);                                                              \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace sipring::fuzz {

// True when `view` lies inside `buffer` (an empty view with a null pointer counts as inside):
// the parser's results must all be views into the input.
inline bool Within(std::string_view view, std::string_view buffer) {
  if (view.data() == nullptr) return view.empty();
  return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

}  // namespace sipring::fuzz

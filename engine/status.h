// File: engine/status.h
//
// The project's one base header for errors and assertions (STYLE.md rules 21-30).
//
//  - SIPRING_RETURN_IF_ERROR / SIPRING_ASSIGN_OR_RETURN: Debian's abseil 20220623 has no
//    status_macros.h, so we carry our own.
//  - ErrnoStatus(): converts a kernel result (0 / -errno, or errno) into an absl::Status at the
//    boundary, so raw negative ints never travel.
//  - SIPRING_CHECK (always on, crashes: "cannot happen after init") and SIPRING_DCHECK (debug
//    builds only). Never assert on network input: that is an error value, not a crash.
//
// Thread-safety: everything here is stateless and callable from any thread.
//
// Example:
//   absl::StatusOr<int> OpenSocket();
//   absl::Status Start() {
//     SIPRING_ASSIGN_OR_RETURN(int fd, OpenSocket());
//     SIPRING_RETURN_IF_ERROR(Bind(fd));
//     return absl::OkStatus();
//   }
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace sipring {

// Debian's abseil 20220623 is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so absl::string_view
// is its own type: std::string_view does not convert implicitly. Convert at the abseil boundary.
inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Maps an errno value (positive or negative) to the closest absl::StatusCode and attaches
// "what: strerror". Allocates (it builds a message): use it on start-up and slow paths only.
absl::Status ErrnoStatus(int err, std::string_view what);

}  // namespace sipring

#define SIPRING_INTERNAL_CONCAT2(a, b) a##b
#define SIPRING_INTERNAL_CONCAT(a, b) SIPRING_INTERNAL_CONCAT2(a, b)

#define SIPRING_RETURN_IF_ERROR(expr)                    \
  do {                                                   \
    ::absl::Status sipring_status_ = (expr);             \
    if (!sipring_status_.ok()) return sipring_status_;   \
  } while (0)

#define SIPRING_ASSIGN_OR_RETURN(lhs, expr) \
  SIPRING_INTERNAL_ASSIGN_OR_RETURN(SIPRING_INTERNAL_CONCAT(sipring_statusor_, __LINE__), lhs, expr)

#define SIPRING_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  if (!tmp.ok()) return std::move(tmp).status();          \
  lhs = std::move(tmp).value()

// Unrecoverable invariant: logs and aborts in every build type.
#define SIPRING_CHECK(cond)                                                           \
  do {                                                                                \
    if (__builtin_expect(!(cond), 0)) {                                               \
      std::fprintf(stderr, "sipring: CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, \
                   #cond);                                                            \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

#ifdef NDEBUG
#define SIPRING_DCHECK(cond) \
  do {                       \
  } while (false && (cond))
#else
#define SIPRING_DCHECK(cond) SIPRING_CHECK(cond)
#endif

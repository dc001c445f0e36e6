#include "engine/status.h"

namespace sipring {

absl::Status ErrnoStatus(int err, std::string_view what) {
  if (err < 0) err = -err;
  absl::StatusCode code = absl::StatusCode::kUnknown;
  switch (err) {
    case 0:
      return absl::OkStatus();
    case EPERM:
    case EACCES:
      code = absl::StatusCode::kPermissionDenied;
      break;
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
    case EAGAIN:
      code = absl::StatusCode::kResourceExhausted;
      break;
    case EINVAL:
      code = absl::StatusCode::kInvalidArgument;
      break;
    case ENOSYS:
    case EOPNOTSUPP:
      code = absl::StatusCode::kUnimplemented;
      break;
    case EADDRINUSE:
    case EEXIST:
      code = absl::StatusCode::kAlreadyExists;
      break;
    case ENOENT:
      code = absl::StatusCode::kNotFound;
      break;
    case ETIME:
    case ETIMEDOUT:
      code = absl::StatusCode::kDeadlineExceeded;
      break;
    case ECANCELED:
      code = absl::StatusCode::kCancelled;
      break;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENETUNREACH:
    case EHOSTUNREACH:
      code = absl::StatusCode::kUnavailable;
      break;
    default:
      break;
  }
  return absl::Status(code, absl::StrCat(ToAbsl(what), ": ", std::strerror(err)));
}

}  // namespace sipring

#include "health/admin_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "engine/clock.h"
#include "engine/status.h"
#include "transports/socket_options.h"

namespace sipring::health {
namespace {

constexpr std::string_view kDefaultContentType = "text/plain; charset=utf-8";
// After answering, unread request bytes are drained for at most this long (and this much) before
// close: closing a socket with unread data makes the kernel send RST, and the client may then
// lose the answer it has not read yet (the 431 of an oversized request, typically).
constexpr int kMaxLingerMs = 1000;
constexpr size_t kMaxLingerBytes = 1 << 20;

// Index just past the blank line ending the request head, or npos. Bare LF line ends are
// accepted too (RFC 9112 §2.2 allows a recipient to).
size_t FindHeadEnd(std::string_view buf, size_t from) {
  for (size_t i = from; i < buf.size(); ++i) {
    if (buf[i] != '\n') continue;
    if (i >= 1 && buf[i - 1] == '\n') return i + 1;
    if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n') return i + 1;
  }
  return std::string_view::npos;
}

bool IsTokenChar(char c) { return c >= 'A' && c <= 'Z'; }

// The parts of a request line we use.
struct RequestLine {
  std::string_view method;
  std::string_view target;
};

// "METHOD SP target SP HTTP/1.x"; false on anything else.
bool ParseRequestLine(std::string_view head, RequestLine* out) {
  size_t eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!std::all_of(method.begin(), method.end(), IsTokenChar)) return false;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return false;
  if (target.find(' ') != std::string_view::npos) return false;
  out->method = method;
  out->target = target;
  return true;
}

}  // namespace

std::string_view HttpReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Create(
    const transports::SockAddr& addr, AdminHandler handler, const AdminServerOptions& options) {
  if (!handler) return absl::InvalidArgumentError("admin server: no handler");
  if (options.read_timeout_ms <= 0 || options.write_timeout_ms <= 0 ||
      options.max_request_bytes < 16 || options.backlog <= 0) {
    return absl::InvalidArgumentError("admin server: deadlines, request cap and backlog must be positive");
  }
  transports::SockAddr bound;
  SIPRING_ASSIGN_OR_RETURN(
      int listen_fd,
      transports::OpenTcpListener(addr, {.backlog = options.backlog, .reuseport = false},
                                  /*warnings=*/nullptr, &bound));
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    const int err = errno;
    close(listen_fd);
    return ErrnoStatus(err, "eventfd");
  }
  return std::unique_ptr<AdminServer>(
      new AdminServer(listen_fd, wake_fd, bound, std::move(handler), options));
}

AdminServer::AdminServer(int listen_fd, int wake_fd, const transports::SockAddr& bound,
                         AdminHandler handler, const AdminServerOptions& options)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      bound_(bound),
      handler_(std::move(handler)),
      options_(options) {}

AdminServer::~AdminServer() {
  Stop();
  close(listen_fd_);
  close(wake_fd_);
}

void AdminServer::Start() {
  SIPRING_CHECK(!thread_.joinable() && !stopping_.load());
  thread_ = std::thread([this] { Run(); });
}

void AdminServer::Stop() {
  stopping_.store(true, std::memory_order_relaxed);
  if (!thread_.joinable()) return;
  SIPRING_DCHECK(thread_.get_id() != std::this_thread::get_id());
  // The eventfd sits in every poll the admin thread makes, so this ends the wait at once.
  eventfd_write(wake_fd_, 1);
  thread_.join();
}

void AdminServer::Run() {
  while (!stopping_.load(std::memory_order_relaxed)) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int r = poll(fds, 2, -1);
    if (r < 0) {
      // EINTR: a signal; anything else (ENOMEM) is transient too: pause rather than spin.
      if (errno != EINTR) usleep(10'000);
      continue;
    }
    if (fds[1].revents != 0) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // EAGAIN/ECONNABORTED: the client left first. EMFILE/ENFILE: out of descriptors; the
      // pending connection stays queued, so pause instead of spinning on it.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        usleep(10'000);
      }
      continue;
    }
    stats_.connections.Add();
    Serve(fd);
    close(fd);
  }
}

AdminServer::Wait AdminServer::WaitFor(int fd, short events, uint64_t deadline_ms) {
  while (true) {
    if (stopping_.load(std::memory_order_relaxed)) return Wait::kStopping;
    const uint64_t now = engine::MonotonicMs();
    if (now >= deadline_ms) return Wait::kTimedOut;
    pollfd fds[2] = {{fd, events, 0}, {wake_fd_, POLLIN, 0}};
    const int r = poll(fds, 2, static_cast<int>(std::min<uint64_t>(deadline_ms - now, 60'000)));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Wait::kTimedOut;
    }
    if (fds[1].revents != 0) return Wait::kStopping;
    // An error or hang-up counts as ready: the read or write that follows reports it.
    if (fds[0].revents != 0) return Wait::kReady;
  }
}

bool AdminServer::WriteAll(int fd, std::string_view data, uint64_t deadline_ms) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const Wait w = WaitFor(fd, POLLOUT, deadline_ms);
      if (w == Wait::kReady) continue;
      if (w == Wait::kTimedOut) stats_.timeouts.Add();
      return false;
    }
    return false;  // EPIPE, ECONNRESET: the client is gone
  }
  return true;
}

void AdminServer::Respond(int fd, int status, std::string_view content_type, std::string_view body,
                          bool head_only, std::string_view extra_headers) {
  std::string out;
  out.reserve(160 + extra_headers.size() + (head_only ? 0 : body.size()));
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(HttpReasonPhrase(status));
  out.append("\r\nContent-Type: ");
  out.append(content_type);
  out.append("\r\nContent-Length: ");
  out.append(std::to_string(body.size()));
  out.append("\r\nConnection: close\r\n");
  out.append(extra_headers);
  out.append("\r\n");
  if (!head_only) out.append(body);
  if (WriteAll(fd, out, engine::MonotonicMs() + static_cast<uint64_t>(options_.write_timeout_ms))) {
    stats_.responses.Add();
  }
}

void AdminServer::Serve(int fd) {
  const uint64_t read_deadline = engine::MonotonicMs() + static_cast<uint64_t>(options_.read_timeout_ms);
  // One byte past the cap, so "exactly at the cap" and "over it" can be told apart.
  std::string buf(options_.max_request_bytes + 1, '\0');
  size_t len = 0;
  size_t head_end = std::string_view::npos;
  auto reject = [&](int status, std::string_view extra_headers = {}) {
    stats_.rejected.Add();
    Respond(fd, status, kDefaultContentType,
            std::string(HttpReasonPhrase(status)).append("\n"), /*head_only=*/false,
            extra_headers);
  };
  while (true) {
    const Wait w = WaitFor(fd, POLLIN, read_deadline);
    if (w == Wait::kStopping) return;
    if (w == Wait::kTimedOut) {
      stats_.timeouts.Add();
      if (len > 0) reject(408);  // a client that sent nothing gets no answer, only the close
      return;
    }
    const ssize_t n = read(fd, buf.data() + len, buf.size() - len);
    if (n == 0) return;  // the client closed before finishing its request
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return;
    }
    const size_t from = len >= 3 ? len - 3 : 0;
    len += static_cast<size_t>(n);
    head_end = FindHeadEnd(std::string_view(buf.data(), len), from);
    if (head_end != std::string_view::npos && head_end <= options_.max_request_bytes) break;
    if (len > options_.max_request_bytes) {
      reject(431);
      break;
    }
  }

  if (head_end != std::string_view::npos && head_end <= options_.max_request_bytes) {
    RequestLine req;
    if (!ParseRequestLine(std::string_view(buf.data(), head_end), &req)) {
      reject(400);
    } else if (req.method != "GET" && req.method != "HEAD" &&
               !(req.method == "POST" && options_.post_handler)) {
      reject(405, options_.post_handler ? "Allow: GET, HEAD, POST\r\n" : "Allow: GET, HEAD\r\n");
    } else {
      std::string_view path = req.target;
      path = path.substr(0, path.find_first_of("?#"));
      if (path.empty() || path[0] != '/') {
        reject(400);
      } else {
        std::string body;
        std::string content_type(kDefaultContentType);
        int status = (req.method == "POST" ? options_.post_handler : handler_)(path, &body, &content_type);
        if (status < 100 || status > 599) status = 500;
        Respond(fd, status, content_type, body, req.method == "HEAD", {});
      }
    }
  }

  // Lingering close: stop sending, then read away what the client still sends (the rest of an
  // oversized request, a body) until it closes, within a bound. Skipped when nothing is pending,
  // which is the normal case: the whole request was read.
  shutdown(fd, SHUT_WR);
  char sink[4096];
  const uint64_t linger_deadline =
      engine::MonotonicMs() + static_cast<uint64_t>(std::min(options_.read_timeout_ms, kMaxLingerMs));
  size_t drained = 0;
  while (drained < kMaxLingerBytes) {
    const ssize_t n = read(fd, sink, sizeof(sink));
    if (n == 0) return;
    if (n > 0) {
      drained += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return;
    if (drained == 0 && head_end != std::string_view::npos && len == head_end) return;
    if (WaitFor(fd, POLLIN, linger_deadline) != Wait::kReady) return;
  }
}

}  // namespace sipring::health

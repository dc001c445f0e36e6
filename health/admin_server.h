// File: health/admin_server.h
//
// AdminServer: a tiny HTTP/1.1 server for /metrics (and later the admin API) on its own thread.
// It is off the data path on purpose: plain blocking-style sockets driven by poll() with short
// deadlines, one connection at a time, no io_uring and no shard involvement. A scrape every few
// seconds needs nothing more, and a slow or hostile client can cost the admin thread at most one
// deadline per connection, never a shard.
//
// Protocol, deliberately small:
//  - Reads one request head (request line + headers, up to the blank line) within
//    `read_timeout_ms` in total and `max_request_bytes`; any request body is ignored.
//    Over the cap: 431; garbage request line or version: 400; deadline passed: 408.
//  - GET and HEAD (HEAD gets GET's headers, no body); POST only when options.post_handler is
//    set (operator actions); 405 with an Allow header otherwise.
//  - The handler gets the path without its query string and fills body and content type; its
//    return value is the status code. Every answer carries Content-Length and
//    "Connection: close", and the connection is closed after it (no keep-alive, no pipelining).
//  - The answer is written within `write_timeout_ms`; a client that stops reading loses it.
//
// Restart fast: the listener has SO_REUSEADDR (not SO_REUSEPORT: a second daemon must fail to
// bind rather than silently share the scrapes).
//
// Ownership and threads: Create() and Start() on the main thread at start-up; Start() spawns the
// one admin thread, which runs the handler (so the handler may read shards' atomics but must not
// block). Stop() from any thread except the admin thread: it wakes the poll through an eventfd and
// joins. The destructor stops.
//
// Example:
//   SIPRING_ASSIGN_OR_RETURN(transports::SockAddr addr, transports::SockAddr::Parse("127.0.0.1:9090"));
//   SIPRING_ASSIGN_OR_RETURN(
//       std::unique_ptr<AdminServer> admin,
//       AdminServer::Create(addr, [&](std::string_view path, std::string* body, std::string* type) {
//         if (path != "/metrics") return 404;
//         *body = RenderMetrics();
//         *type = kPrometheusContentType;
//         return 200;
//       }));
//   admin->Start();
//   ...
//   admin->Stop();
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "engine/counter.h"
#include "transports/sock_addr.h"

namespace sipring::health {

// Fills `body` and `content_type` (preset to "text/plain; charset=utf-8") for `path` and
// returns the HTTP status code. Runs on the admin thread.
using AdminHandler =
    std::function<int(std::string_view path, std::string* body, std::string* content_type)>;

struct AdminServerOptions {
  // Whole-request deadline, from accept to the end of the request head. A client that connects
  // and sends nothing delays the next one by at most this.
  int read_timeout_ms = 2000;
  // Deadline for writing the answer.
  int write_timeout_ms = 2000;
  // Largest request head accepted (431 above it).
  size_t max_request_bytes = 8192;
  // Listen backlog: scrapers are few; a small queue is enough.
  int backlog = 16;
  // Operator actions (POST /backends/NAME/drain...); null: POST gets 405. Any request body is
  // ignored: the path names the action, so a stray POST cannot smuggle arguments.
  AdminHandler post_handler;
};

// What the server has done, for its own /metrics lines. Written by the admin thread only.
struct AdminServerStats {
  engine::Counter connections;  // accepted connections
  engine::Counter responses;    // answers written whole (any status)
  engine::Counter rejected;     // 4xx answers the server made itself (400, 405, 408, 431)
  engine::Counter timeouts;     // connections closed at a read or write deadline
};

class AdminServer {
 public:
  // Binds and listens on `addr` (port 0: the kernel picks; see bound_port()). Does not start
  // the thread. Fails with the ErrnoStatus of socket/bind/listen/eventfd, e.g. kAlreadyExists
  // for an address in use; kInvalidArgument for an empty handler or a non-positive deadline.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Create(const transports::SockAddr& addr,
                                                             AdminHandler handler,
                                                             const AdminServerOptions& options = {});
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Spawns the admin thread. Call once.
  void Start();
  // Wakes the admin thread and joins it; a connection in progress is dropped unanswered.
  // Idempotent; safe if Start() was never called.
  void Stop();

  const transports::SockAddr& bound_address() const { return bound_; }
  uint16_t bound_port() const { return bound_.port(); }
  const AdminServerStats& stats() const { return stats_; }

 private:
  AdminServer(int listen_fd, int wake_fd, const transports::SockAddr& bound, AdminHandler handler,
              const AdminServerOptions& options);

  // Result of waiting for a socket.
  enum class Wait : uint8_t {
    kReady,     // the socket is ready for the requested direction
    kTimedOut,  // the deadline passed first
    kStopping,  // Stop() was called: drop the connection
  };

  void Run();
  // Handles one accepted connection to the end, then closes it.
  void Serve(int fd);
  // Waits until `fd` is ready for `events` or `deadline_ms` (monotonic) passes, watching the wake
  // eventfd as well.
  Wait WaitFor(int fd, short events, uint64_t deadline_ms);
  // Writes all of `data` by `deadline_ms`; false if the client went away or the deadline passed.
  bool WriteAll(int fd, std::string_view data, uint64_t deadline_ms);
  // Builds and writes the answer. `body` is dropped for HEAD.
  void Respond(int fd, int status, std::string_view content_type, std::string_view body,
               bool head_only, std::string_view extra_headers);

  const int listen_fd_;
  const int wake_fd_;  // eventfd: Stop() writes it, the poll wakes
  const transports::SockAddr bound_;
  const AdminHandler handler_;
  const AdminServerOptions options_;
  AdminServerStats stats_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Reason phrase for the status codes the server uses ("OK", "Not Found", ...); "Unknown" else.
std::string_view HttpReasonPhrase(int status);

}  // namespace sipring::health

#include "health/admin_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "health/metrics.h"
#include "tests/testing/loopback.h"

namespace sipring::health {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Sends `request` (may be empty) and reads until the server closes. The socket has a 5 s receive
// timeout, so a server that never answers fails the test instead of hanging it.
std::string Exchange(int family, uint16_t port, std::string_view request) {
  const int fd = testing::MakeTcpClient(family, port, /*timeout_ms=*/5000);
  if (fd < 0) return "connect failed";
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  return response;
}

std::string Body(const std::string& response) {
  const size_t pos = response.find("\r\n\r\n");
  return pos == std::string::npos ? "" : response.substr(pos + 4);
}

class AdminServerTest : public ::testing::TestWithParam<int> {
 protected:
  int family() const { return GetParam(); }

  // Starts a server on loopback port 0 with a handler serving /metrics; skips when the address
  // family is unavailable (no IPv6 on the host).
  void StartServer(AdminServerOptions options = {}) {
    const transports::SockAddr addr = family() == AF_INET ? transports::SockAddr::Loopback4(0)
                                                          : transports::SockAddr::Loopback6(0);
    auto server = AdminServer::Create(
        addr,
        [this](std::string_view path, std::string* body, std::string* content_type) {
          handler_calls_.fetch_add(1);
          std::lock_guard<std::mutex> lock(mu_);
          last_path_ = std::string(path);
          if (path == "/metrics") {
            *body = "sipring_up 1\n";
            *content_type = kPrometheusContentType;
            return 200;
          }
          if (path == "/bogus-status") return 42;
          *body = "no such page\n";
          return 404;
        },
        options);
    if (!server.ok() && family() == AF_INET6) GTEST_SKIP() << server.status();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    ASSERT_NE(server_->bound_port(), 0);
    server_->Start();
  }

  std::string Get(std::string_view request) {
    return Exchange(family(), server_->bound_port(), request);
  }

  std::string last_path() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_path_;
  }

  std::unique_ptr<AdminServer> server_;
  std::atomic<int> handler_calls_{0};
  std::mutex mu_;
  std::string last_path_;  // written by the handler on the admin thread
};

INSTANTIATE_TEST_SUITE_P(IpVersions, AdminServerTest, ::testing::Values(AF_INET, AF_INET6),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return p.param == AF_INET ? std::string("IPv4") : std::string("IPv6");
                         });

TEST_P(AdminServerTest, GetMetrics) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string r = Get("GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n");
  EXPECT_EQ(r,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 13\r\n"
            "Connection: close\r\n"
            "\r\n"
            "sipring_up 1\n");
  EXPECT_EQ(last_path(), "/metrics");
  EXPECT_EQ(server_->stats().responses.Get(), 1u);
  EXPECT_EQ(server_->stats().rejected.Get(), 0u);
}

TEST_P(AdminServerTest, QueryIsStrippedAndBareLfAccepted) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string r = Get("GET /metrics?name[]=x HTTP/1.0\n\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_EQ(last_path(), "/metrics");
}

TEST_P(AdminServerTest, HandlerDecidesUnknownPaths) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string r = Get("GET /nope HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length: 13\r\n"), std::string::npos) << r;
  EXPECT_EQ(Body(r), "no such page\n");
  // A status outside 100..599 from the handler becomes 500.
  EXPECT_EQ(Get("GET /bogus-status HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 500 ", 0), 0u);
}

TEST_P(AdminServerTest, HeadHasHeadersButNoBody) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string r = Get("HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length: 13\r\n"), std::string::npos) << r;
  EXPECT_EQ(Body(r), "");
}

TEST_P(AdminServerTest, OtherMethodsGet405) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string r =
      Get("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(r.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
  EXPECT_EQ(handler_calls_.load(), 0);
  EXPECT_EQ(server_->stats().rejected.Get(), 1u);
}

TEST_P(AdminServerTest, GarbageGets400) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_EQ(Get("HELLO\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(Get("GET /metrics HTTP/2.0\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(Get("GET metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(Get("get /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(handler_calls_.load(), 0);
}

TEST_P(AdminServerTest, OversizedRequestIsRefusedAndTheNextClientServed) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  std::string big = "GET /metrics HTTP/1.1\r\nX-Fill: " + std::string(16 * 1024, 'a') + "\r\n\r\n";
  const std::string r = Get(big);
  EXPECT_EQ(r.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << r.substr(0, 200);
  EXPECT_EQ(handler_calls_.load(), 0);
  // A head of exactly the cap is fine.
  std::string exact = "GET /metrics HTTP/1.1\r\nX-Fill: ";
  exact += std::string(8192 - exact.size() - 4, 'b') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 8192u);
  EXPECT_EQ(Get(exact).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(Get("GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST_P(AdminServerTest, SilentClientCostsTheNextOneAtMostTheDeadline) {
  StartServer({.read_timeout_ms = 200});
  if (IsSkipped() || HasFatalFailure()) return;
  const int silent = testing::MakeTcpClient(family(), server_->bound_port(), 5000);
  ASSERT_GE(silent, 0);
  // Let the server accept the silent client first, so the next one really queues behind it.
  ASSERT_TRUE(testing::WaitFor([&] { return server_->stats().connections.Get() == 1; }, 2000));
  const auto start = Clock::now();
  const std::string r = Get("GET /metrics HTTP/1.1\r\n\r\n");
  const int64_t waited = MsSince(start);
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_GE(waited, 150);
  EXPECT_LT(waited, 1500);
  // The silent client was closed without an answer.
  char c;
  EXPECT_EQ(read(silent, &c, 1), 0);
  close(silent);
  EXPECT_EQ(server_->stats().timeouts.Get(), 1u);
}

TEST_P(AdminServerTest, PartialRequestGets408AtTheDeadline) {
  StartServer({.read_timeout_ms = 200});
  if (IsSkipped() || HasFatalFailure()) return;
  const auto start = Clock::now();
  const std::string r = Get("GET /metr");
  EXPECT_EQ(r.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << r;
  EXPECT_LT(MsSince(start), 1500);
}

TEST_P(AdminServerTest, StopIsPromptEvenWithAClientHoldingTheServer) {
  StartServer({.read_timeout_ms = 30'000});
  if (IsSkipped() || HasFatalFailure()) return;
  const int silent = testing::MakeTcpClient(family(), server_->bound_port(), 5000);
  ASSERT_GE(silent, 0);
  ASSERT_TRUE(testing::WaitFor([&] { return server_->stats().connections.Get() == 1; }, 2000));
  const auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(MsSince(start), 500);
  close(silent);
  server_->Stop();  // idempotent
}

TEST_P(AdminServerTest, StopWhenIdleIsPrompt) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  const auto start = Clock::now();
  server_.reset();  // the destructor stops
  EXPECT_LT(MsSince(start), 500);
}

TEST(AdminServerCreateTest, RefusesAPortInUseAndBadOptions) {
  auto handler = [](std::string_view, std::string*, std::string*) { return 200; };
  auto first = AdminServer::Create(transports::SockAddr::Loopback4(0), handler);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second =
      AdminServer::Create(transports::SockAddr::Loopback4((*first)->bound_port()), handler);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
  EXPECT_FALSE(AdminServer::Create(transports::SockAddr::Loopback4(0), nullptr).ok());
  EXPECT_FALSE(
      AdminServer::Create(transports::SockAddr::Loopback4(0), handler, {.read_timeout_ms = 0}).ok());
  // Never started: destroying it must not hang.
}

}  // namespace
}  // namespace sipring::health

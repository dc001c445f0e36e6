// File: tests/testing/loopback.h
//
// Test helpers for real sockets on loopback (STYLE.md rule 46: one naming scheme, Make*/Run*).
//
//  - MakeUdpClient(family): a blocking UDP socket bound to an ephemeral loopback port.
//  - MakeUnixDatagramServer(path): a bound unix datagram socket (a fake NOTIFY_SOCKET).
//  - UdpRoundTrips(...): sends N datagrams to a port and counts replies within a deadline.
//  - SourceDir(): the repository root (SIPRING_SOURCE_DIR from ctest, or derived from __FILE__).
//
// Thread-safety: plain functions.
#pragma once

#include <cstdint>
#include <string>

namespace sipring::testing {

// A UDP socket on 127.0.0.1 (AF_INET) or ::1 (AF_INET6), ephemeral port, with a receive timeout.
int MakeUdpClient(int family, int timeout_ms = 1000);
// A TCP socket connected to loopback:port (blocking, with timeouts).
int MakeTcpClient(int family, uint16_t port, int timeout_ms = 2000);
// A unix datagram socket bound to `path` ("@name": the abstract namespace), as systemd's
// NOTIFY_SOCKET is; -1 on failure.
int MakeUnixDatagramServer(const std::string& path);

struct RoundTrips {
  int sent = 0;
  int received = 0;
  int mismatched = 0;  // replies whose bytes differ from what was sent
  int other = 0;       // replies with a different payload class (e.g. "BUSY\n")
};
// Sends `count` datagrams of `size` bytes (each tagged with its sequence number) to
// loopback:port, `window` at a time, and reads replies until all came back or `deadline_ms`.
RoundTrips UdpRoundTrips(int fd, int family, uint16_t port, int count, int size, int window,
                         int deadline_ms);

// Reads and discards whatever arrives on `fd` until it has been quiet for `quiet_ms`.
void DrainSocket(int fd, int quiet_ms);

void SleepMs(int ms);

// Polls `pred` every millisecond until it holds or `timeout_ms` passes; returns its last value.
// For counters a shard updates after the peer already saw the effect (a send's completion is
// reaped after the bytes arrived).
template <typename Pred>
bool WaitFor(Pred pred, int timeout_ms) {
  for (int i = 0; i < timeout_ms && !pred(); ++i) SleepMs(1);
  return pred();
}

std::string SourceDir();

}  // namespace sipring::testing

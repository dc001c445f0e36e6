// File: tests/testing/process.h
//
// Black-box helpers for tests that drive real binaries: a child process with its output captured
// to a file, a free loopback port, a tiny HTTP GET, Prometheus text parsing, and a temporary
// directory. Used by the daemon's CLI and integration tests (sipring itself, sipp as peers).
//
// Ownership: a Process kills (SIGKILL) and reaps its child in the destructor if still running.
// Threads: any, but one Process is used from one thread.
//
// Example:
//   testing::TempDir dir;
//   testing::Process p({"/usr/bin/sipp", "-sn", "uas", "-p", "5070"}, dir.path() + "/uas.log");
//   ...
//   p.Signal(SIGTERM);
//   std::optional<int> rc = p.Wait(5000);   // exit status, nullopt on timeout
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sipring::testing {

class Process {
 public:
  // Starts argv[0] (a path) with its stdout and stderr appended to `log_path` and stdin from
  // /dev/null. pid() < 0 when fork/exec failed.
  Process(const std::vector<std::string>& argv, const std::string& log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Exit status (128 + signal when killed), or nullopt if still running after timeout_ms.
  std::optional<int> Wait(int timeout_ms);
  bool Running();
  // Everything the child wrote so far.
  std::string Output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// A mkdtemp directory under $TMPDIR (or /tmp), removed with its files in the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::string Write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// A loopback port free for UDP and TCP right now (bind port 0, read it, close).
uint16_t FreePort();

// GET http://127.0.0.1:port/path; the body, or nullopt on any failure or non-200 status.
std::optional<std::string> HttpGet(uint16_t port, const std::string& path, int timeout_ms = 2000);
// Any method, no request body; status 0 when the exchange failed.
struct HttpResult {
  int status = 0;
  std::string body;
};
HttpResult HttpRequest(uint16_t port, const std::string& method, const std::string& path,
                       int timeout_ms = 2000);

// Prometheus text -> {"name{labels}": value}; HELP/TYPE lines skipped.
std::map<std::string, double> ParseMetrics(const std::string& text);

// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

// Path of an executable on PATH, or "" when absent.
std::string FindOnPath(const std::string& name);

}  // namespace sipring::testing

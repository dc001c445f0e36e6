// File: tests/testing/fake_proc.h
//
// FakeProc: a temporary directory laid out like the parts of /proc that the host check reads
// (health/host_check.h), for tests that point a proc_root or `sipring doctor --proc-root` at it.
// It starts as a host with nothing to fix for a modest config (Linux 6.1, io_uring open,
// somaxconn 4096, ephemeral range 32768-60999 with nothing reserved, 4 MiB socket buffer maxima,
// 65536 open files, 64 MiB locked memory, an unprivileged uid 1000); a test then spoils the one
// file it is about with Set() or Remove().
//
// Ownership: the directory and its files are removed in the destructor (TempDir).
// Threads: one test thread.
//
// Example:
//   testing::FakeProc proc;
//   proc.Set("sys/net/core/somaxconn", "128\n");
//   proc.SetLimits("1024", "unlimited");
//   in.proc_root = proc.root();
#pragma once

#include <string>

#include "tests/testing/process.h"

namespace sipring::testing {

class FakeProc {
 public:
  FakeProc();

  // Writes `text` to root()/path, creating the folders on the way.
  void Set(const std::string& path, const std::string& text);
  void Remove(const std::string& path);
  // self/limits as Linux writes it, with these soft limits ("1024", "unlimited") for
  // "Max open files" and "Max locked memory" (bytes).
  void SetLimits(const std::string& nofile_soft, const std::string& memlock_soft);
  // self/status with this gid (real, effective, saved, fs), supplementary `groups`
  // ("1000 2001") and CapEff (16 hex digits).
  void SetStatus(const std::string& gid, const std::string& groups, const std::string& cap_eff);

  const std::string& root() const { return dir_.path(); }

  // CapEff values.
  static constexpr const char* kNoCaps = "0000000000000000";
  static constexpr const char* kCapSysAdmin = "0000000000200000";  // bit 21
  static constexpr const char* kCapIpcLock = "0000000000004000";   // bit 14

 private:
  TempDir dir_;
};

}  // namespace sipring::testing

// Tests for health/host_check.h: every check against a fake /proc tree, both ways (a host that is
// fine, then the one file changed that makes it wrong), plus missing and garbled files, which
// must become findings of their own and never a crash.
#include "health/host_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/fake_proc.h"

namespace sipring::health {
namespace {

using testing::FakeProc;

// tcp and udp on 5060 (outside the default ephemeral range), buffers within the default limits.
HostCheckInput Input(const FakeProc& proc) {
  HostCheckInput in;
  in.listeners = {
      {.name = "tcp:0.0.0.0:5060", .stream = true, .port = 5060, .backlog = 1024},
      {.name = "udp:0.0.0.0:5060",
       .port = 5060,
       .backlog = 1024,
       .rcvbuf = 1 << 20,
       .sndbuf = 1 << 20},
  };
  in.shards = 2;
  in.pool_bytes_per_shard = 8 << 20;
  in.pool_registered = true;
  in.max_connections = 10000;
  in.proc_root = proc.root();
  return in;
}

std::vector<HostFinding> Named(const std::vector<HostFinding>& all, const std::string& check) {
  std::vector<HostFinding> out;
  for (const HostFinding& f : all) {
    if (f.check == check) out.push_back(f);
  }
  return out;
}

// The one finding named `check` (a test failure when there is not exactly one).
HostFinding One(const HostCheckInput& in, const std::string& check) {
  const std::vector<HostFinding> found = Named(CheckHost(in), check);
  EXPECT_EQ(found.size(), 1u) << check;
  return found.empty() ? HostFinding{Severity::kOk, "none", "none", ""} : found[0];
}

std::string Describe(const std::vector<HostFinding>& all) {
  std::string s;
  for (const HostFinding& f : all) {
    s += std::string(SeverityName(f.severity)) + " " + f.check + ": " + f.found + " -> " + f.fix +
         "\n";
  }
  return s;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(HostCheckTest, AGoodHostHasEveryCheckOkAndInOrder) {
  FakeProc proc;
  const std::vector<HostFinding> all = CheckHost(Input(proc));
  EXPECT_FALSE(AnyProblem(all)) << Describe(all);
  std::vector<std::string> checks;
  for (const HostFinding& f : all) {
    checks.push_back(f.check);
    EXPECT_EQ(f.severity, Severity::kOk) << f.check << ": " << f.found;
    EXPECT_EQ(f.fix, "") << f.check;
  }
  // One finding per listener for the per-listener checks; stream ones for tcp only.
  EXPECT_EQ(checks, (std::vector<std::string>{"kernel", "io_uring_disabled", "nofile", "memlock",
                                              "somaxconn", "tcp_max_syn_backlog", "rmem_max",
                                              "wmem_max", "tcp_syncookies", "ip_local_port_range",
                                              "ip_local_port_range"}))
      << Describe(all);
}

TEST(HostCheckTest, KernelVersion) {
  FakeProc proc;
  const HostCheckInput in = Input(proc);
  HostFinding f = One(in, "kernel");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_EQ(f.found, "Linux 6.1.0-18-amd64 >= 6.1");

  proc.Set("sys/kernel/osrelease", "5.15.0-91-generic\n");
  f = One(in, "kernel");
  EXPECT_EQ(f.severity, Severity::kError);
  EXPECT_TRUE(Contains(f.found, "5.15.0-91-generic < 6.0")) << f.found;
  EXPECT_EQ(f.fix, "upgrade to Linux >= 6.1");

  proc.Set("sys/kernel/osrelease", "6.0.19\n");
  f = One(in, "kernel");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "DEFER_TASKRUN")) << f.found;

  // Minor versions compare as numbers, not text: 6.18 is newer than 6.2.
  proc.Set("sys/kernel/osrelease", "6.18.44-fc-v669\n");
  EXPECT_EQ(One(in, "kernel").severity, Severity::kOk);
  proc.Set("sys/kernel/osrelease", "10.0\n");
  EXPECT_EQ(One(in, "kernel").severity, Severity::kOk);

  proc.Set("sys/kernel/osrelease", "linux\n");
  f = One(in, "kernel");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "not a kernel version (got \"linux\")")) << f.found;

  proc.Remove("sys/kernel/osrelease");
  f = One(in, "kernel");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "cannot read " + proc.root() + "/sys/kernel/osrelease")) << f.found;
  EXPECT_EQ(f.fix, "");
}

TEST(HostCheckTest, IoUringDisabled) {
  FakeProc proc;
  const HostCheckInput in = Input(proc);
  EXPECT_EQ(One(in, "io_uring_disabled").severity, Severity::kOk);

  proc.Set("sys/kernel/io_uring_disabled", "2\n");
  HostFinding f = One(in, "io_uring_disabled");
  EXPECT_EQ(f.severity, Severity::kError);
  EXPECT_EQ(f.fix, "sysctl -w kernel.io_uring_disabled=0");

  // 1: allowed for CAP_SYS_ADMIN and kernel.io_uring_group only.
  proc.Set("sys/kernel/io_uring_disabled", "1\n");
  f = One(in, "io_uring_disabled");
  EXPECT_EQ(f.severity, Severity::kWarn) << f.found;
  EXPECT_TRUE(Contains(f.fix, "sysctl -w kernel.io_uring_disabled=0")) << f.fix;
  EXPECT_TRUE(Contains(f.fix, "kernel.io_uring_group")) << f.fix;

  proc.SetStatus("1000", "1000", FakeProc::kCapSysAdmin);
  f = One(in, "io_uring_disabled");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_TRUE(Contains(f.found, "CAP_SYS_ADMIN")) << f.found;

  // A supplementary group counts; a different group does not.
  proc.SetStatus("1000", "1000 2001", FakeProc::kNoCaps);
  proc.Set("sys/kernel/io_uring_group", "2001\n");
  f = One(in, "io_uring_disabled");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_TRUE(Contains(f.found, "in group 2001")) << f.found;
  proc.Set("sys/kernel/io_uring_group", "2002\n");
  EXPECT_EQ(One(in, "io_uring_disabled").severity, Severity::kWarn);

  proc.Remove("self/status");
  f = One(in, "io_uring_disabled");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "cannot tell")) << f.found;

  proc.Set("sys/kernel/io_uring_disabled", "7\n");
  f = One(in, "io_uring_disabled");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "expected 0, 1 or 2 (got 7)")) << f.found;

  // A missing sysctl is an older kernel (fine), but on 6.6+ it means io_uring is not built in.
  proc.Remove("sys/kernel/io_uring_disabled");
  f = One(in, "io_uring_disabled");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_TRUE(Contains(f.found, "absent")) << f.found;
  proc.Set("sys/kernel/osrelease", "6.6.0\n");
  f = One(in, "io_uring_disabled");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.fix, "CONFIG_IO_URING")) << f.fix;
}

TEST(HostCheckTest, OpenFilesAgainstShardsAndConnections) {
  FakeProc proc;
  HostCheckInput in = Input(proc);
  // 2 shards x (2 listeners + kFdsPerShard) + headroom + 10000 connections.
  const uint64_t base = 2 * (2 + kFdsPerShard) + kFdHeadroom;
  const uint64_t need = base + 10000;
  HostFinding f = One(in, "nofile");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_TRUE(Contains(f.found, "soft limit 65536 >= " + std::to_string(need))) << f.found;

  proc.SetLimits("1024", "67108864");
  f = One(in, "nofile");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "soft limit 1024 < " + std::to_string(need))) << f.found;
  EXPECT_TRUE(Contains(f.found, "max_connections 10000")) << f.found;
  EXPECT_EQ(f.fix, "LimitNOFILE=" + std::to_string(need) + " (systemd unit) or ulimit -n " +
                       std::to_string(need));

  // Exactly enough is enough.
  proc.SetLimits(std::to_string(need), "67108864");
  EXPECT_EQ(One(in, "nofile").severity, Severity::kOk);
  proc.SetLimits(std::to_string(need - 1), "67108864");
  EXPECT_EQ(One(in, "nofile").severity, Severity::kWarn);

  // Too few even for the shards' own sockets: they cannot start.
  proc.SetLimits(std::to_string(base - 1), "67108864");
  EXPECT_EQ(One(in, "nofile").severity, Severity::kError);

  proc.SetLimits("unlimited", "67108864");
  f = One(in, "nofile");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_TRUE(Contains(f.found, "unlimited")) << f.found;

  // udp only: no connections, so max_connections does not count.
  proc.SetLimits("1024", "67108864");
  in.listeners[0].stream = false;
  f = One(in, "nofile");
  EXPECT_EQ(f.severity, Severity::kOk) << f.found;
  EXPECT_FALSE(Contains(f.found, "max_connections")) << f.found;
}

TEST(HostCheckTest, LockedMemoryAgainstRegisteredSlabs) {
  FakeProc proc;
  HostCheckInput in = Input(proc);  // 2 shards x 8 MiB registered, 64 MiB allowed
  HostFinding f = One(in, "memlock");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_TRUE(Contains(f.found, "soft limit 64 MiB >= 16 MiB")) << f.found;

  proc.SetLimits("65536", "8388608");
  f = One(in, "memlock");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "soft limit 8 MiB < 16 MiB of buffer slabs (2 shards x 8 MiB)"))
      << f.found;
  EXPECT_TRUE(Contains(f.fix, "LimitMEMLOCK=16777216")) << f.fix;
  EXPECT_TRUE(Contains(f.fix, "ulimit -l 16384")) << f.fix;

  // CAP_IPC_LOCK: registered memory is not charged.
  proc.SetStatus("1000", "1000", FakeProc::kCapIpcLock);
  f = One(in, "memlock");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_TRUE(Contains(f.found, "CAP_IPC_LOCK")) << f.found;
  proc.SetStatus("1000", "1000", FakeProc::kNoCaps);

  proc.SetLimits("65536", "unlimited");
  EXPECT_EQ(One(in, "memlock").severity, Severity::kOk);

  // Slabs that are not registered are not pinned: no limit applies, whatever it is.
  proc.SetLimits("65536", "8388608");
  in.pool_registered = false;
  f = One(in, "memlock");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_TRUE(Contains(f.found, "not registered")) << f.found;
}

TEST(HostCheckTest, LimitsFileMissingOrWithoutTheRow) {
  FakeProc proc;
  const HostCheckInput in = Input(proc);
  proc.Remove("self/limits");
  for (const char* check : {"nofile", "memlock"}) {
    const HostFinding f = One(in, check);
    EXPECT_EQ(f.severity, Severity::kWarn) << check;
    EXPECT_TRUE(Contains(f.found, "cannot read " + proc.root() + "/self/limits")) << f.found;
  }
  proc.Set("self/limits",
           "Limit  Soft Limit  Hard Limit  Units\nMax open files  lots  lots  files\n");
  HostFinding f = One(in, "nofile");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "\"Max open files\" has no soft limit")) << f.found;
  f = One(in, "memlock");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "no \"Max locked memory\" row")) << f.found;
}

TEST(HostCheckTest, SomaxconnAndSynBacklogAgainstEachStreamBacklog) {
  FakeProc proc;
  HostCheckInput in = Input(proc);
  in.listeners.push_back(
      {.name = "tls:0.0.0.0:5061", .stream = true, .port = 5061, .backlog = 8192});
  proc.Set("sys/net/core/somaxconn", "1024\n");
  proc.Set("sys/net/ipv4/tcp_max_syn_backlog", "128\n");
  const std::vector<HostFinding> all = CheckHost(in);
  const std::vector<HostFinding> somaxconn = Named(all, "somaxconn");
  ASSERT_EQ(somaxconn.size(), 2u) << Describe(all);  // the udp listener's backlog is ignored
  EXPECT_EQ(somaxconn[0].severity, Severity::kOk);
  EXPECT_EQ(somaxconn[0].found, "1024 >= backlog 1024 of tcp:0.0.0.0:5060");
  EXPECT_EQ(somaxconn[1].severity, Severity::kWarn);
  EXPECT_EQ(somaxconn[1].found, "1024 < backlog 8192 of tls:0.0.0.0:5061");
  EXPECT_EQ(somaxconn[1].fix, "sysctl -w net.core.somaxconn=8192");
  const std::vector<HostFinding> syn = Named(all, "tcp_max_syn_backlog");
  ASSERT_EQ(syn.size(), 2u);
  EXPECT_EQ(syn[0].severity, Severity::kWarn);
  EXPECT_EQ(syn[0].found, "128 < backlog 1024 of tcp:0.0.0.0:5060");
  EXPECT_EQ(syn[0].fix, "sysctl -w net.ipv4.tcp_max_syn_backlog=1024");

  proc.Remove("sys/net/core/somaxconn");
  const HostFinding f = One(in, "somaxconn");  // one finding for the file, not one per listener
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "cannot read " + proc.root() + "/sys/net/core/somaxconn"))
      << f.found;
  proc.Set("sys/net/core/somaxconn", "many\n");
  EXPECT_TRUE(Contains(One(in, "somaxconn").found, "not an integer (got \"many\")"));
}

TEST(HostCheckTest, StreamChecksNeedAStreamListener) {
  FakeProc proc;
  HostCheckInput in = Input(proc);
  in.listeners.erase(in.listeners.begin());  // udp only
  proc.Set("sys/net/core/somaxconn", "16\n");
  proc.Set("sys/net/ipv4/tcp_syncookies", "0\n");
  const std::vector<HostFinding> all = CheckHost(in);
  EXPECT_TRUE(Named(all, "somaxconn").empty()) << Describe(all);
  EXPECT_TRUE(Named(all, "tcp_max_syn_backlog").empty()) << Describe(all);
  EXPECT_TRUE(Named(all, "tcp_syncookies").empty()) << Describe(all);
  EXPECT_FALSE(AnyProblem(all)) << Describe(all);
}

TEST(HostCheckTest, Syncookies) {
  FakeProc proc;
  const HostCheckInput in = Input(proc);
  EXPECT_EQ(One(in, "tcp_syncookies").severity, Severity::kOk);
  for (const char* value : {"0", "2", "9"}) {
    proc.Set("sys/net/ipv4/tcp_syncookies", std::string(value) + "\n");
    const HostFinding f = One(in, "tcp_syncookies");
    EXPECT_EQ(f.severity, Severity::kWarn) << value;
    EXPECT_EQ(f.fix, "sysctl -w net.ipv4.tcp_syncookies=1") << value;
  }
  proc.Remove("sys/net/ipv4/tcp_syncookies");
  EXPECT_TRUE(Contains(One(in, "tcp_syncookies").found, "cannot read"));
}

TEST(HostCheckTest, ListeningPortsAgainstTheEphemeralRangeAndReservedPorts) {
  FakeProc proc;
  HostCheckInput in = Input(proc);
  in.listeners[0].port = 40000;
  in.listeners[0].name = "tcp:0.0.0.0:40000";
  in.listeners[1].port = 40001;
  in.listeners[1].name = "udp:0.0.0.0:40001";
  proc.Set("sys/net/ipv4/ip_local_reserved_ports", "8000-8010\n");
  std::vector<HostFinding> ports = Named(CheckHost(in), "ip_local_port_range");
  ASSERT_EQ(ports.size(), 2u);
  for (const HostFinding& f : ports) {
    EXPECT_EQ(f.severity, Severity::kWarn);
    EXPECT_TRUE(Contains(f.found, "inside the ephemeral range 32768-60999 and not reserved"))
        << f.found;
    // One fix for both ports that keeps what is reserved already.
    EXPECT_EQ(f.fix, "sysctl -w net.ipv4.ip_local_reserved_ports=8000-8010,40000,40001");
  }
  EXPECT_TRUE(Contains(ports[0].found, "port 40000 of tcp:0.0.0.0:40000")) << ports[0].found;

  // Reserved alone and inside a range: ok, and said so.
  proc.Set("sys/net/ipv4/ip_local_reserved_ports", "40000,39990-40005\n");
  ports = Named(CheckHost(in), "ip_local_port_range");
  ASSERT_EQ(ports.size(), 2u);
  for (const HostFinding& f : ports) {
    EXPECT_EQ(f.severity, Severity::kOk) << f.found;
    EXPECT_TRUE(Contains(f.found, "but reserved")) << f.found;
  }

  // A narrower range leaves the ports outside it.
  proc.Set("sys/net/ipv4/ip_local_port_range", "50000\t60999\n");
  ports = Named(CheckHost(in), "ip_local_port_range");
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_TRUE(Contains(ports[0].found, "is outside the ephemeral range 50000-60999"))
      << ports[0].found;

  // No reserved list: a finding of its own, and nothing is taken as reserved.
  proc.Set("sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
  proc.Remove("sys/net/ipv4/ip_local_reserved_ports");
  ports = Named(CheckHost(in), "ip_local_port_range");
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_TRUE(Contains(ports[0].found,
                       "cannot read " + proc.root() + "/sys/net/ipv4/ip_local_reserved_ports"))
      << ports[0].found;
  EXPECT_EQ(ports[1].severity, Severity::kWarn);
  EXPECT_EQ(ports[1].fix, "sysctl -w net.ipv4.ip_local_reserved_ports=40000,40001");

  proc.Remove("sys/net/ipv4/ip_local_port_range");
  const HostFinding f = One(in, "ip_local_port_range");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_TRUE(Contains(f.found, "cannot read")) << f.found;
}

TEST(HostCheckTest, SocketBuffersAgainstRmemAndWmemMax) {
  FakeProc proc;
  HostCheckInput in = Input(proc);
  in.listeners[1].rcvbuf = 8 << 20;
  HostFinding f = One(in, "rmem_max");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_EQ(f.found, "4194304 < rcvbuf 8388608 of udp:0.0.0.0:5060");
  EXPECT_EQ(f.fix, "sysctl -w net.core.rmem_max=8388608");
  f = One(in, "wmem_max");
  EXPECT_EQ(f.severity, Severity::kOk);
  EXPECT_EQ(f.found, "4194304 >= sndbuf 1048576 of udp:0.0.0.0:5060");

  proc.Set("sys/net/core/wmem_max", "65536\n");
  f = One(in, "wmem_max");
  EXPECT_EQ(f.severity, Severity::kWarn);
  EXPECT_EQ(f.fix, "sysctl -w net.core.wmem_max=1048576");

  // Kernel-default buffers (0) are not checked, and the files are then not even read.
  in.listeners[1].rcvbuf = 0;
  in.listeners[1].sndbuf = 0;
  proc.Remove("sys/net/core/rmem_max");
  const std::vector<HostFinding> all = CheckHost(in);
  EXPECT_TRUE(Named(all, "rmem_max").empty()) << Describe(all);
  EXPECT_TRUE(Named(all, "wmem_max").empty()) << Describe(all);
}

TEST(HostCheckTest, RealProcParses) {
  // The real files' formats: every finding that reads a file that always exists on Linux must
  // have parsed it (whatever the verdict on this host).
  HostCheckInput in;
  in.listeners = {{.name = "tcp:127.0.0.1:5060",
                   .stream = true,
                   .port = 5060,
                   .backlog = 16,
                   .rcvbuf = 4096,
                   .sndbuf = 4096}};
  in.pool_bytes_per_shard = 4096;
  in.pool_registered = true;
  in.max_connections = 1;
  const std::vector<HostFinding> all = CheckHost(in);
  for (const char* check : {"kernel", "nofile", "memlock", "somaxconn", "tcp_max_syn_backlog",
                            "tcp_syncookies", "ip_local_port_range", "rmem_max", "wmem_max"}) {
    const std::vector<HostFinding> found = Named(all, check);
    ASSERT_FALSE(found.empty()) << check << "\n" << Describe(all);
    for (const HostFinding& f : found) {
      EXPECT_FALSE(Contains(f.found, "cannot read")) << check << ": " << f.found;
    }
  }
}

}  // namespace
}  // namespace sipring::health

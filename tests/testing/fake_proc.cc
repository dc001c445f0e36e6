#include "tests/testing/fake_proc.h"

#include <filesystem>

namespace sipring::testing {

FakeProc::FakeProc() {
  Set("sys/kernel/osrelease", "6.1.0-18-amd64\n");
  Set("sys/kernel/io_uring_disabled", "0\n");
  Set("sys/kernel/io_uring_group", "-1\n");
  Set("sys/net/core/somaxconn", "4096\n");
  Set("sys/net/core/rmem_max", "4194304\n");
  Set("sys/net/core/wmem_max", "4194304\n");
  Set("sys/net/ipv4/tcp_max_syn_backlog", "4096\n");
  Set("sys/net/ipv4/tcp_syncookies", "1\n");
  Set("sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
  Set("sys/net/ipv4/ip_local_reserved_ports", "\n");
  SetLimits("65536", "67108864");
  SetStatus("1000", "1000", kNoCaps);
}

void FakeProc::Set(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(root() + "/" + path).parent_path());
  dir_.Write(path, text);
}

void FakeProc::Remove(const std::string& path) { std::filesystem::remove(root() + "/" + path); }

void FakeProc::SetLimits(const std::string& nofile_soft, const std::string& memlock_soft) {
  // A header row and padded columns as fs/proc/base.c writes them (widths are approximate:
  // readers split on spaces).
  Set("self/limits",
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            " +
          nofile_soft +
          "                1048576              files     \n"
          "Max locked memory         " +
          memlock_soft +
          "              unlimited            bytes     \n"
          "Max msgqueue size         819200               819200               bytes     \n");
}

void FakeProc::SetStatus(const std::string& gid, const std::string& groups,
                         const std::string& cap_eff) {
  Set("self/status", "Name:\tsipring\nUid:\t1000\t1000\t1000\t1000\nGid:\t" + gid + "\t" + gid +
                         "\t" + gid + "\t" + gid + "\nGroups:\t" + groups +
                         " \nCapInh:\t0000000000000000\nCapPrm:\t" + cap_eff + "\nCapEff:\t" +
                         cap_eff + "\n");
}

}  // namespace sipring::testing

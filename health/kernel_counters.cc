#include "health/kernel_counters.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sipring::health {
namespace {

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Finds `prefix` ("TcpExt:") header/value line pairs in `path` and fills `wanted` by name.
absl::Status ReadPairs(const std::string& path, const std::string& prefix,
                       std::vector<std::pair<const char*, uint64_t*>> wanted) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string header, values;
  while (std::getline(f, header)) {
    if (header.rfind(prefix, 0) != 0) continue;
    if (!std::getline(f, values)) break;
    const auto names = Split(header), nums = Split(values);
    for (auto& [name, out] : wanted) {
      for (size_t i = 1; i < names.size() && i < nums.size(); ++i) {
        if (names[i] == name) {
          *out = std::stoull(nums[i]);
          name = nullptr;  // found
          break;
        }
      }
    }
    for (auto& [name, out] : wanted) {
      if (name) return absl::NotFoundError(absl::StrCat(path, ": no counter ", prefix, name));
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat(path, ": no ", prefix, " lines"));
}

}  // namespace

absl::StatusOr<KernelCounters> ReadKernelCounters(const std::string& proc_root) {
  KernelCounters k;
  absl::Status st = ReadPairs(proc_root + "/net/netstat", "TcpExt:",
                              {{"ListenOverflows", &k.tcp_listen_overflows},
                               {"ListenDrops", &k.tcp_listen_drops},
                               {"SyncookiesSent", &k.tcp_syncookies_sent},
                               {"SyncookiesRecv", &k.tcp_syncookies_recv},
                               {"SyncookiesFailed", &k.tcp_syncookies_failed},
                               {"TCPTimeWaitOverflow", &k.tcp_timewait_overflow}});
  if (!st.ok()) return st;
  st = ReadPairs(proc_root + "/net/snmp", "Udp:",
                 {{"RcvbufErrors", &k.udp_rcvbuf_errors},
                  {"SndbufErrors", &k.udp_sndbuf_errors},
                  {"InErrors", &k.udp_in_errors}});
  if (!st.ok()) return st;
  return k;
}

}  // namespace sipring::health

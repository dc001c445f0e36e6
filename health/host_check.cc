#include "health/host_check.h"

#include <linux/capability.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/status.h"
#include "transports/ephemeral_ports.h"
#include "transports/socket_options.h"

namespace sipring::health {
namespace {

using transports::ReadProcFile;
using transports::ReadSysctl;

// The kernel sipring is built for (IOURING.md §7): multishot recvmsg is 6.0, below which the
// start-up probe refuses; DEFER_TASKRUN is 6.1, below which the rings fall back to COOP_TASKRUN.
constexpr std::pair<int, int> kMinKernel = {6, 0};
constexpr std::pair<int, int> kGoodKernel = {6, 1};
// kernel.io_uring_disabled appeared in 6.6; from then on a kernel with io_uring always has it.
constexpr std::pair<int, int> kIoUringSysctlKernel = {6, 6};

HostFinding Ok(std::string check, std::string found) {
  return {Severity::kOk, std::move(check), std::move(found), ""};
}
HostFinding Warn(std::string check, std::string found, std::string fix) {
  return {Severity::kWarn, std::move(check), std::move(found), std::move(fix)};
}
// A file the check needs could not be read or parsed: the check cannot judge, which is itself
// worth a look (a hardened /proc, a container without sysfs), but never a crash.
HostFinding Unreadable(std::string check, const absl::Status& status) {
  return Warn(std::move(check), absl::StrCat("cannot read ", status.message()), "");
}

// Only stream listeners have a backlog and accept connections.
bool AnyStream(const HostCheckInput& in) {
  return std::any_of(in.listeners.begin(), in.listeners.end(),
                     [](const HostListener& l) { return l.stream; });
}

// "16 MiB", "512 KiB", "1000 bytes": limits are set in whole units, so show the one that fits.
std::string Bytes(uint64_t n) {
  if (n != 0 && n % (1024 * 1024) == 0) return absl::StrCat(n / (1024 * 1024), " MiB");
  if (n != 0 && n % 1024 == 0) return absl::StrCat(n / 1024, " KiB");
  return absl::StrCat(n, " bytes");
}

// One row of self/limits: "Max open files            1024                 1048576   files".
struct Limit {
  bool unlimited = false;
  uint64_t soft = 0;
};

absl::StatusOr<Limit> ParseLimit(const std::string& proc_root, const std::string& limits_text,
                                 std::string_view name) {
  for (absl::string_view line : absl::StrSplit(limits_text, '\n')) {
    if (!absl::StartsWith(line, ToAbsl(name))) continue;
    line.remove_prefix(name.size());
    const std::vector<absl::string_view> cols =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    Limit limit;
    if (!cols.empty() && cols[0] == "unlimited") {
      limit.unlimited = true;
      return limit;
    }
    if (!cols.empty() && absl::SimpleAtoi(cols[0], &limit.soft)) return limit;
    return absl::InvalidArgumentError(absl::StrCat(proc_root, "/self/limits: \"", ToAbsl(name),
                                                   "\" has no soft limit (got \"",
                                                   absl::StripAsciiWhitespace(line), "\")"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(proc_root, "/self/limits: no \"", ToAbsl(name), "\" row"));
}

// Who this process is, from self/status: effective capabilities and every group it is in.
struct Credentials {
  uint64_t cap_eff = 0;
  std::vector<int64_t> gids;  // real, effective, saved, fs, then supplementary

  bool HasCap(int cap) const { return (cap_eff >> cap) & 1; }
  bool InGroup(int64_t gid) const { return std::find(gids.begin(), gids.end(), gid) != gids.end(); }
};

absl::StatusOr<Credentials> ReadCredentials(const std::string& proc_root) {
  SIPRING_ASSIGN_OR_RETURN(const std::string text, ReadProcFile(proc_root, "self/status"));
  Credentials c;
  bool have_caps = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (kv.first == "CapEff") {
      have_caps = absl::SimpleHexAtoi(absl::StripAsciiWhitespace(kv.second), &c.cap_eff);
    } else if (kv.first == "Gid" || kv.first == "Groups") {
      for (absl::string_view g :
           absl::StrSplit(kv.second, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
        int64_t gid = 0;
        if (absl::SimpleAtoi(g, &gid)) c.gids.push_back(gid);
      }
    }
  }
  if (!have_caps) {
    return absl::InvalidArgumentError(absl::StrCat(proc_root, "/self/status: no CapEff line"));
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// The checks, each appending its findings.

// Returns the kernel's (major, minor) when it could be read, for the io_uring check.
std::optional<std::pair<int, int>> CheckKernel(const std::string& root,
                                               std::vector<HostFinding>* out) {
  const absl::StatusOr<std::string> text = ReadProcFile(root, "sys/kernel/osrelease");
  if (!text.ok()) {
    out->push_back(Unreadable("kernel", text.status()));
    return std::nullopt;
  }
  const std::string release(absl::StripAsciiWhitespace(*text));
  // "6.1.0-18-amd64", "5.15.0-91-generic": the first two dot-separated numbers.
  const std::vector<absl::string_view> parts = absl::StrSplit(release, absl::MaxSplits('.', 2));
  std::pair<int, int> v;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &v.first) ||
      !absl::SimpleAtoi(parts[1].substr(0, parts[1].find_first_not_of("0123456789")), &v.second)) {
    out->push_back(
        Unreadable("kernel", absl::InvalidArgumentError(absl::StrCat(root,
                                                                     "/sys/kernel/osrelease: not a "
                                                                     "kernel version (got \"",
                                                                     release, "\")"))));
    return std::nullopt;
  }
  if (v < kMinKernel) {
    out->push_back(
        {Severity::kError, "kernel",
         absl::StrCat("Linux ", release, " < 6.0: no multishot recvmsg, so sipring cannot start"),
         "upgrade to Linux >= 6.1"});
  } else if (v < kGoodKernel) {
    out->push_back(Warn("kernel",
                        absl::StrCat("Linux ", release,
                                     " < 6.1: no DEFER_TASKRUN, the rings fall back to "
                                     "COOP_TASKRUN (more wake-ups)"),
                        "upgrade to Linux >= 6.1"));
  } else {
    out->push_back(Ok("kernel", absl::StrCat("Linux ", release, " >= 6.1")));
  }
  return v;
}

void CheckIoUring(const std::string& root, std::optional<std::pair<int, int>> kernel,
                  std::vector<HostFinding>* out) {
  constexpr const char* kCheck = "io_uring_disabled";
  const absl::StatusOr<int64_t> disabled = ReadSysctl(root, "sys/kernel/io_uring_disabled");
  if (absl::IsNotFound(disabled.status())) {
    if (kernel && *kernel >= kIoUringSysctlKernel) {
      out->push_back(Warn(kCheck,
                          "no kernel.io_uring_disabled on Linux >= 6.6: a kernel built without "
                          "io_uring?",
                          "a kernel with CONFIG_IO_URING=y"));
    } else {
      out->push_back(Ok(kCheck, "absent (Linux < 6.6): io_uring is not restricted by sysctl"));
    }
    return;
  }
  if (!disabled.ok()) return out->push_back(Unreadable(kCheck, disabled.status()));
  const std::string enable = "sysctl -w kernel.io_uring_disabled=0";
  switch (*disabled) {
    case 0:
      return out->push_back(Ok(kCheck, "0: io_uring is open to every process"));
    case 2:
      return out->push_back({Severity::kError, kCheck,
                             "2: io_uring is disabled for every process, so sipring cannot start",
                             enable});
    case 1:
      break;
    default:
      return out->push_back(Unreadable(
          kCheck,
          absl::InvalidArgumentError(absl::StrCat(
              root, "/sys/kernel/io_uring_disabled: expected 0, 1 or 2 (got ", *disabled, ")"))));
  }
  // 1: only CAP_SYS_ADMIN or members of kernel.io_uring_group (-1 = no group) may create rings.
  const absl::StatusOr<int64_t> group = ReadSysctl(root, "sys/kernel/io_uring_group");
  const int64_t gid = group.ok() ? *group : -1;
  const std::string restricted =
      absl::StrCat("1: io_uring only for CAP_SYS_ADMIN and kernel.io_uring_group (", gid, ")");
  const std::string fix = absl::StrCat(
      enable, ", or run sipring in a group and sysctl -w kernel.io_uring_group=<that gid>");
  const absl::StatusOr<Credentials> creds = ReadCredentials(root);
  if (!creds.ok()) {
    out->push_back(Warn(kCheck,
                        absl::StrCat(restricted, "; cannot tell whether this process may use it: ",
                                     creds.status().message()),
                        fix));
  } else if (creds->HasCap(CAP_SYS_ADMIN)) {
    out->push_back(Ok(kCheck, absl::StrCat(restricted, "; this process has CAP_SYS_ADMIN")));
  } else if (gid >= 0 && creds->InGroup(gid)) {
    out->push_back(Ok(kCheck, absl::StrCat(restricted, "; this process is in group ", gid)));
  } else {
    out->push_back(Warn(kCheck, absl::StrCat(restricted, ", and this process has neither"), fix));
  }
}

void CheckNofile(const HostCheckInput& in, const absl::StatusOr<std::string>& limits,
                 std::vector<HostFinding>* out) {
  constexpr const char* kCheck = "nofile";
  if (!limits.ok()) return out->push_back(Unreadable(kCheck, limits.status()));
  const absl::StatusOr<Limit> limit = ParseLimit(in.proc_root, *limits, "Max open files");
  if (!limit.ok()) return out->push_back(Unreadable(kCheck, limit.status()));
  const uint64_t per_shard = in.listeners.size() + kFdsPerShard;
  const uint64_t base = in.shards * per_shard + kFdHeadroom;
  // Only stream listeners accept connections; a udp-only config holds none, and counting the
  // limit anyway would fail hosts that are fine.
  const bool stream = AnyStream(in);
  const uint64_t need = base + (stream ? in.max_connections : 0);
  std::string why = absl::StrCat(need, " needed (", in.shards, " shards x ", per_shard, " + ",
                                 kFdHeadroom, " headroom");
  absl::StrAppend(&why, stream ? absl::StrCat(" + max_connections ", in.max_connections) : "", ")");
  if (limit->unlimited || limit->soft >= need) {
    return out->push_back(
        Ok(kCheck,
           absl::StrCat("soft limit ", limit->unlimited ? "unlimited" : absl::StrCat(limit->soft),
                        " >= ", why)));
  }
  out->push_back({limit->soft < base ? Severity::kError : Severity::kWarn, kCheck,
                  absl::StrCat("soft limit ", limit->soft, " < ", why),
                  absl::StrCat("LimitNOFILE=", need, " (systemd unit) or ulimit -n ", need)});
}

void CheckMemlock(const HostCheckInput& in, const absl::StatusOr<std::string>& limits,
                  std::vector<HostFinding>* out) {
  constexpr const char* kCheck = "memlock";
  const uint64_t need = uint64_t{in.shards} * in.pool_bytes_per_shard;
  const std::string what = absl::StrCat(Bytes(need), " of buffer slabs (", in.shards, " shards x ",
                                        Bytes(in.pool_bytes_per_shard), ")");
  if (!in.pool_registered) {
    return out->push_back(
        Ok(kCheck, absl::StrCat(what, " are not registered as fixed buffers: nothing to lock")));
  }
  if (!limits.ok()) return out->push_back(Unreadable(kCheck, limits.status()));
  const absl::StatusOr<Limit> limit = ParseLimit(in.proc_root, *limits, "Max locked memory");
  if (!limit.ok()) return out->push_back(Unreadable(kCheck, limit.status()));
  if (limit->unlimited || limit->soft >= need) {
    return out->push_back(
        Ok(kCheck, absl::StrCat("soft limit ", limit->unlimited ? "unlimited" : Bytes(limit->soft),
                                " >= ", what, " registered")));
  }
  const absl::StatusOr<Credentials> creds = ReadCredentials(in.proc_root);
  const std::string found =
      absl::StrCat("soft limit ", Bytes(limit->soft), " < ", what, " registered");
  if (creds.ok() && creds->HasCap(CAP_IPC_LOCK)) {
    return out->push_back(Ok(kCheck, absl::StrCat(found, ", but CAP_IPC_LOCK lifts the limit")));
  }
  out->push_back(Warn(kCheck, found,
                      absl::StrCat("LimitMEMLOCK=", need, " (systemd unit) or ulimit -l ",
                                   (need + 1023) / 1024, ", or AmbientCapabilities=CAP_IPC_LOCK")));
}

// A sysctl that must be at least what some listeners ask for (their backlog, their buffer).
struct Minimum {
  const char* check;   // the finding's name
  const char* path;    // under proc_root
  const char* sysctl;  // as sysctl -w spells it
  const char* wants;   // what a listener asks for, in messages
  bool (*applies)(const HostListener&);
  uint32_t (*want)(const HostListener&);
};

// The kernel caps a listen backlog at somaxconn (and a SYN queue near tcp_max_syn_backlog)
// and clamps SO_RCVBUF / SO_SNDBUF at [rw]mem_max, all silently.
constexpr Minimum kMinimums[] = {
    {"somaxconn", "sys/net/core/somaxconn", "net.core.somaxconn", "backlog",
     [](const HostListener& l) { return l.stream; },
     [](const HostListener& l) { return l.backlog; }},
    {"tcp_max_syn_backlog", "sys/net/ipv4/tcp_max_syn_backlog", "net.ipv4.tcp_max_syn_backlog",
     "backlog", [](const HostListener& l) { return l.stream; },
     [](const HostListener& l) { return l.backlog; }},
    {"rmem_max", "sys/net/core/rmem_max", "net.core.rmem_max", "rcvbuf",
     [](const HostListener& l) { return l.rcvbuf > 0; },
     [](const HostListener& l) { return l.rcvbuf; }},
    {"wmem_max", "sys/net/core/wmem_max", "net.core.wmem_max", "sndbuf",
     [](const HostListener& l) { return l.sndbuf > 0; },
     [](const HostListener& l) { return l.sndbuf; }},
};

// One finding per listener the minimum applies to; the file is read once, and only then.
void CheckMinimum(const HostCheckInput& in, const Minimum& m, std::vector<HostFinding>* out) {
  if (std::none_of(in.listeners.begin(), in.listeners.end(), m.applies)) return;
  const absl::StatusOr<int64_t> have = ReadSysctl(in.proc_root, m.path);
  if (!have.ok()) return out->push_back(Unreadable(m.check, have.status()));
  for (const HostListener& l : in.listeners) {
    if (!m.applies(l)) continue;
    const int64_t need = m.want(l);
    if (*have >= need) {
      out->push_back(Ok(m.check, absl::StrCat(*have, " >= ", m.wants, " ", need, " of ", l.name)));
    } else {
      out->push_back(Warn(m.check, absl::StrCat(*have, " < ", m.wants, " ", need, " of ", l.name),
                          absl::StrCat("sysctl -w ", m.sysctl, "=", need)));
    }
  }
}

void CheckSyncookies(const HostCheckInput& in, std::vector<HostFinding>* out) {
  constexpr const char* kCheck = "tcp_syncookies";
  if (!AnyStream(in)) return;
  const absl::StatusOr<int64_t> v = ReadSysctl(in.proc_root, "sys/net/ipv4/tcp_syncookies");
  if (!v.ok()) return out->push_back(Unreadable(kCheck, v.status()));
  const std::string fix = "sysctl -w net.ipv4.tcp_syncookies=1";
  switch (*v) {
    case 1:
      return out->push_back(Ok(kCheck, "1: a full SYN queue is answered with cookies"));
    case 0:
      return out->push_back(Warn(kCheck,
                                 "0: a SYN flood fills the SYN queue and real callers' "
                                 "connects are dropped",
                                 fix));
    case 2:
      return out->push_back(Warn(kCheck,
                                 "2: cookies for every connection, which loses TCP "
                                 "options (window scaling, SACK) even without a flood",
                                 fix));
    default:
      return out->push_back(Warn(kCheck, absl::StrCat(*v, ": not a known setting"), fix));
  }
}

void CheckPorts(const HostCheckInput& in, std::vector<HostFinding>* out) {
  constexpr const char* kCheck = "ip_local_port_range";
  if (in.listeners.empty()) return;
  const absl::StatusOr<transports::EphemeralPorts> ports =
      transports::EphemeralPorts::Read(in.proc_root);
  if (!ports.ok()) return out->push_back(Unreadable(kCheck, ports.status()));
  if (!ports->reserved_status().ok()) {
    out->push_back(Warn(kCheck,
                        absl::StrCat("cannot read ", ports->reserved_status().message(),
                                     "; taking no port as reserved"),
                        ""));
  }
  // One fix for every exposed port: the sysctl replaces the whole list (EphemeralPorts).
  std::vector<uint32_t> exposed;
  for (const HostListener& l : in.listeners) {
    if (ports->MayTake(l.port) &&
        std::find(exposed.begin(), exposed.end(), l.port) == exposed.end()) {
      exposed.push_back(l.port);
    }
  }
  const std::string range = absl::StrCat("the ephemeral range ", ports->RangeText());
  for (const HostListener& l : in.listeners) {
    const std::string port = absl::StrCat("port ", l.port, " of ", l.name);
    if (ports->MayTake(l.port)) {
      out->push_back(Warn(kCheck,
                          absl::StrCat(port, " is inside ", range, " and not reserved: an ",
                                       "outgoing connection may take it while sipring restarts"),
                          ports->ReserveCommand(exposed)));
    } else if (ports->InRange(l.port)) {
      out->push_back(Ok(kCheck, absl::StrCat(port, " is inside ", range, " but reserved")));
    } else {
      out->push_back(Ok(kCheck, absl::StrCat(port, " is outside ", range)));
    }
  }
}

}  // namespace

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kOk:
      return "OK";
    case Severity::kWarn:
      return "WARN";
    case Severity::kError:
      return "ERROR";
  }
  return "?";
}

std::vector<HostFinding> CheckHost(const HostCheckInput& in) {
  std::vector<HostFinding> out;
  const std::optional<std::pair<int, int>> kernel = CheckKernel(in.proc_root, &out);
  CheckIoUring(in.proc_root, kernel, &out);
  const absl::StatusOr<std::string> limits = ReadProcFile(in.proc_root, "self/limits");
  CheckNofile(in, limits, &out);
  CheckMemlock(in, limits, &out);
  for (const Minimum& m : kMinimums) CheckMinimum(in, m, &out);
  CheckSyncookies(in, &out);
  CheckPorts(in, &out);
  return out;
}

bool AnyProblem(const std::vector<HostFinding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const HostFinding& f) { return f.severity != Severity::kOk; });
}

}  // namespace sipring::health

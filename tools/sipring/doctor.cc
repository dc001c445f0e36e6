#include "tools/sipring/doctor.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/log.h"
#include "engine/status.h"

namespace sipring::daemon {

health::HostCheckInput HostCheckInputFor(const conf::Config& config, const std::string& proc_root) {
  health::HostCheckInput in;
  for (const conf::ListenConfig& l : config.listen) {
    const bool stream = l.transport != conf::Transport::kUdp;
    in.listeners.push_back(
        {.name = absl::StrCat(ToAbsl(conf::TransportName(l.transport)), ":", l.address.ToString()),
         .stream = stream,
         .port = l.address.port,
         .backlog = stream ? l.backlog : 0,
         .rcvbuf = l.rcvbuf,
         .sndbuf = l.sndbuf});
  }
  in.shards = conf::EffectiveShards(config.engine);
  in.pool_bytes_per_shard = uint64_t{config.engine.buffers_per_shard} * config.engine.buffer_size;
  // The daemon leaves engine::BufferPoolOptions::register_fixed off: the slabs feed
  // provided-buffer rings, which pin nothing, so RLIMIT_MEMLOCK does not apply to them.
  in.pool_registered = false;
  in.max_connections = config.limits.max_connections;
  in.proc_root = proc_root;
  return in;
}

int RunDoctor(const conf::Config& config, std::string_view config_name,
              const std::string& proc_root, std::ostream& out) {
  const std::vector<health::HostFinding> findings =
      health::CheckHost(HostCheckInputFor(config, proc_root));
  int count[3] = {0, 0, 0};
  for (const health::HostFinding& f : findings) {
    ++count[static_cast<int>(f.severity)];
    // Severity padded to one width ("ERROR" and a space) so that the check names line up.
    const std::string_view severity = health::SeverityName(f.severity);
    out << severity << std::string(6 - severity.size(), ' ') << f.check << ": " << f.found;
    if (!f.fix.empty()) out << " -> " << f.fix;
    out << "\n";
  }
  out << "sipring doctor: " << config_name << " on " << proc_root << ": "
      << count[static_cast<int>(health::Severity::kOk)] << " ok, "
      << count[static_cast<int>(health::Severity::kWarn)] << " warn, "
      << count[static_cast<int>(health::Severity::kError)] << " error\n";
  return health::AnyProblem(findings) ? 1 : 0;
}

void LogHostFindings(const conf::Config& config) {
  for (const health::HostFinding& f : health::CheckHost(HostCheckInputFor(config))) {
    if (f.severity == health::Severity::kOk) continue;
    engine::Log(engine::LogLevel::kWarn, "host_check",
                {{"check", f.check}, {"found", f.found}, {"fix", f.fix}});
  }
}

}  // namespace sipring::daemon

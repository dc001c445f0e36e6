// sipring: the SIP load-balancing daemon.
//
//   sipring [-c FILE]              run on FILE, or on the built-in default config without one
//   sipring --check-config FILE    validate FILE; exit 0, or 2 with every error on stderr
//   sipring --print-default-config print the built-in default config
//   sipring doctor [-c FILE] [--proc-root DIR]
//                                  check this host against FILE (or the default config)
//   sipring --version | --help
//
// Exit status: 0 after a clean stop, 2 for a config error (file, line and key named), 1 when the
// appliance could not start (a bind failed, io_uring refused) or failed while running. doctor:
// 0 when every finding is ok, 1 when any is not, 2 for a config error.
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "conf/config.h"
#include "tools/sipring/daemon.h"
#include "tools/sipring/doctor.h"

#ifndef SIPRING_VERSION
#define SIPRING_VERSION "unknown"
#endif

namespace {

constexpr std::string_view kUsage =
    "usage: sipring [-c FILE] [--run-seconds N]\n"
    "       sipring --check-config FILE\n"
    "       sipring doctor [-c FILE] [--proc-root DIR]\n"
    "       sipring --print-default-config | --version | --help\n"
    "\n"
    "SIP load balancer on io_uring. Without -c it runs on a built-in loopback config:\n"
    "UDP 127.0.0.1:5060, backends sip:127.0.0.1:5070 and :5071, metrics on\n"
    "http://127.0.0.1:9090/metrics. SIGTERM drains (2 s), SIGINT stops at once.\n"
    "\n"
    "  -c, --config FILE       TOML config (every key: conf/sipring.example.toml)\n"
    "  --check-config FILE     validate FILE and exit: 0 valid, 2 with the errors\n"
    "  --print-default-config  print the built-in config and exit\n"
    "  --run-seconds N         stop by itself after N seconds (demos, tests)\n"
    "  doctor                  check this host against the config: somaxconn, syn backlog,\n"
    "                          syncookies, ephemeral ports, rmem/wmem_max, fd and memlock\n"
    "                          limits, io_uring_disabled, kernel; each finding with its fix.\n"
    "                          Exit 0 all ok, 1 something to fix, 2 config error\n"
    "  --proc-root DIR         doctor: read DIR instead of /proc (tests)\n"
    "  --version               print the version\n"
    "  --help                  this text\n";

int Usage(std::string_view error) {
  std::cerr << "sipring: " << error << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sipring;
  std::string config_path;
  bool check_only = false;
  int64_t run_ms = -1;
  // `doctor` is a command of its own: it takes -c and --proc-root, nothing that runs the daemon.
  const bool doctor = argc > 1 && std::string_view(argv[1]) == "doctor";
  std::string proc_root = "/proc";
  for (int i = doctor ? 2 : 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (doctor && arg != "-c" && arg != "--config" && arg != "--proc-root" && arg != "--help" &&
        arg != "-h") {
      return Usage("doctor: unknown argument " + std::string(arg));
    }
    auto value = [&](std::string_view flag) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << "sipring " << SIPRING_VERSION << "\n";
      return 0;
    } else if (arg == "--print-default-config") {
      std::cout << conf::DefaultConfigText();
      return 0;
    } else if (arg == "-c" || arg == "--config" || arg == "--check-config") {
      const char* v = value(arg);
      if (v == nullptr) return Usage(std::string(arg) + " needs a file");
      config_path = v;
      check_only = arg == "--check-config";
    } else if (doctor && arg == "--proc-root") {
      const char* v = value(arg);
      if (v == nullptr) return Usage("--proc-root needs a directory");
      proc_root = v;
    } else if (arg == "--run-seconds") {
      const char* v = value(arg);
      if (v == nullptr) return Usage("--run-seconds needs a number");
      char* end = nullptr;
      const long n = std::strtol(v, &end, 10);
      if (*end != '\0' || n < 0) return Usage("--run-seconds needs a number");
      run_ms = n * 1000;
    } else {
      return Usage("unknown argument " + std::string(arg));
    }
  }

  const std::string file = config_path.empty() ? "<built-in default>" : config_path;
  absl::StatusOr<conf::Config> config =
      config_path.empty()
          ? conf::LoadConfigString(conf::DefaultConfigText(), file, daemon::ConfigLoadOptions())
          : conf::LoadConfigFile(config_path, daemon::ConfigLoadOptions());
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  if (doctor) return daemon::RunDoctor(*config, file, proc_root, std::cout);
  if (check_only) {
    std::cout << file << ": ok (" << config->listen.size() << " listener(s), "
              << config->backends.size() << " backend(s))\n";
    return 0;
  }
  auto d = daemon::Daemon::Create(*config, file);
  if (!d.ok()) {
    std::cerr << d.status().message() << "\n";
    return 2;
  }
  if (absl::Status s = (*d)->Run(run_ms); !s.ok()) {
    std::cerr << "sipring: cannot run: " << s << "\n";
    return 1;
  }
  return 0;
}

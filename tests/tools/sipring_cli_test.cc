// The sipring binary as an operator meets it: flags, exit codes, --check-config on good and bad
// files (each error pinned to its exact "FILE:LINE: [section] key:" prefix), and a short real run.
// Black box: the built binary (SIPRING_BINARY) runs as a child process; stdout and stderr are
// captured to separate files so that "errors go to stderr" is checked too.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing/fake_proc.h"
#include "tests/testing/loopback.h"
#include "tests/testing/process.h"
#include "transports/ephemeral_ports.h"

#ifndef SIPRING_BINARY
#error "SIPRING_BINARY must name the sipring executable (set in tests/tools/CMakeLists.txt)"
#endif

namespace sipring {
namespace {

struct CliResult {
  std::optional<int> rc;  // nullopt: still running after the timeout (then killed)
  std::string out;
  std::string err;
};

// Runs `sipring args...` with stdout and stderr in separate files under `dir`.
CliResult RunSipring(const testing::TempDir& dir, const std::vector<std::string>& args,
                     int timeout_ms = 10000) {
  static int run = 0;
  const std::string base = dir.path() + "/run" + std::to_string(run++);
  const std::string err_path = base + ".stderr";
  // sh only splits the streams: `exec` leaves sipring itself as the child that is waited for.
  std::vector<std::string> argv = {"/bin/sh", "-c", "err=$1; shift; exec \"$@\" 2>\"$err\"",
                                   "sh", err_path, SIPRING_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Process p(argv, base + ".stdout");
  CliResult r;
  r.rc = p.Wait(timeout_ms);
  r.out = p.Output();
  r.err = testing::ReadFile(err_path);
  return r;
}

// The first line of `text` that starts with `prefix`, or "" when none does.
std::string LineStartingWith(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

// The first line of `text` that contains `part`, or "".
std::string LineContaining(const std::string& text, const std::string& part) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(part) != std::string::npos) return line;
  }
  return "";
}

TEST(SipringCliTest, VersionPrintsNameAndVersion) {
  testing::TempDir dir;
  const CliResult r = RunSipring(dir, {"--version"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("sipring ", 0), 0u) << r.out;
  // "sipring X.Y.Z\n"
  const std::string version = r.out.substr(8);
  EXPECT_EQ(std::count(version.begin(), version.end(), '.'), 2) << r.out;
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_EQ(r.err, "");
}

TEST(SipringCliTest, HelpListsTheFlags) {
  testing::TempDir dir;
  const CliResult r = RunSipring(dir, {"--help"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("usage: sipring"), std::string::npos) << r.out;
  for (const char* flag : {"-c", "--check-config", "--print-default-config", "--run-seconds",
                           "--version", "--help", "doctor", "--proc-root"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " missing from\n" << r.out;
  }
  EXPECT_EQ(r.err, "");
}

TEST(SipringCliTest, UnknownFlagExitsTwoWithUsage) {
  testing::TempDir dir;
  const CliResult r = RunSipring(dir, {"--no-such-flag"});
  ASSERT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("unknown argument --no-such-flag"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("usage: sipring"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(SipringCliTest, FlagWithoutItsValueExitsTwo) {
  testing::TempDir dir;
  const CliResult r = RunSipring(dir, {"--check-config"});
  ASSERT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--check-config needs a file"), std::string::npos) << r.err;
}

TEST(SipringCliTest, ExampleConfigIsValid) {
  testing::TempDir dir;
  const std::string example = testing::SourceDir() + "/conf/sipring.example.toml";
  const CliResult r = RunSipring(dir, {"--check-config", example});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(r.out, example + ": ok (1 listener(s), 2 backend(s))\n");
  EXPECT_EQ(r.err, "");
}

TEST(SipringCliTest, DefaultConfigRoundTripsThroughCheckConfig) {
  testing::TempDir dir;
  const CliResult printed = RunSipring(dir, {"--print-default-config"});
  ASSERT_EQ(printed.rc, 0) << printed.err;
  EXPECT_NE(printed.out.find("127.0.0.1:5060"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("127.0.0.1:9090"), std::string::npos) << printed.out;
  const std::string path = dir.Write("default.toml", printed.out);
  const CliResult r = RunSipring(dir, {"--check-config", path});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(r.out, path + ": ok (1 listener(s), 2 backend(s))\n");
}

TEST(SipringCliTest, MissingFileExitsTwoNamingThePath) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/no-such.toml";
  const CliResult r = RunSipring(dir, {"--check-config", path});
  ASSERT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("\"" + path + "\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(SipringCliTest, DirectoryInsteadOfFileExitsTwo) {
  testing::TempDir dir;
  const CliResult r = RunSipring(dir, {"-c", dir.path()});
  ASSERT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("\"" + dir.path() + "\": it is a directory"), std::string::npos) << r.err;
}

// ---------------------------------------------------------------------------------------------
// Bad configs: each file is refused with exit 2, and stderr has a line that starts with
// "<path><where>" and contains `phrase`.

constexpr const char* kListen = "[[listen]]\naddress = \"127.0.0.1:5060\"\n";
constexpr const char* kBackend = "[[backend]]\nuri = \"sip:127.0.0.1:5070\"\n";

struct BadConfig {
  const char* name;
  std::string text;
  const char* where;   // what follows the path: ":LINE: [section] key:"
  const char* phrase;  // a distinctive part of the rest of that line
};

std::ostream& operator<<(std::ostream& os, const BadConfig& c) { return os << c.name; }

std::vector<BadConfig> BadConfigs() {
  const std::string l = kListen;
  const std::string b = kBackend;
  return {
      {"LowWatermarkAboveOne", "[engine]\nlow_watermark = 1.5\n" + l + b,
       ":2: [engine] low_watermark:", "must be between 0 and 1 exclusive (got 1.5)"},
      {"ZeroBuffersPerShard", "[engine]\nbuffers_per_shard = 0\n" + l + b,
       ":2: [engine] buffers_per_shard:", "must be between 1 and 32768 (got 0)"},
      {"PortOutOfRange", "[[listen]]\naddress = \"127.0.0.1:70000\"\n" + b,
       ":2: [[listen]] address:", "the port must be in 1..65535 (got \"127.0.0.1:70000\")"},
      {"BackendUriDoesNotParse", l + "[[backend]]\nuri = \"sip:\"\n", ":4: [[backend]] uri:",
       "not a sip: or sips: URI"},
      {"BackendUriWithUser", l + "[[backend]]\nuri = \"sip:alice@127.0.0.1:5070\"\n",
       ":4: [[backend]] uri:", "names a server, not a user: drop the user@"},
      {"UnknownKeyInEngine", "[engine]\nshardz = 2\n" + l + b, ":2: [engine] shardz:",
       "unknown key (did you mean shards?)"},
      {"UnknownTable", l + b + "[bogus]\nx = 1\n", ":5: [bogus]:", "unknown table"},
      {"WrongType", "[engine]\nshards = \"two\"\n" + l + b, ":2: [engine] shards:",
       "must be an integer (got string \"two\")"},
      {"WeightZero", l + "[[backend]]\nuri = \"sip:127.0.0.1:5070\"\nweight = 0\n",
       ":5: [[backend]] weight:", "must be between 1 and 1000 (got 0)"},
      {"TotalDeadlineUnderPerTry",
       l + b + "[balancer]\nmode = \"stateful\"\nper_try_timeout_ms = 900\ntotal_deadline_ms = 500\n",
       ":8: [balancer] total_deadline_ms:", "must be at least per_try_timeout_ms (900)"},
      {"TcpListenerNotInThisBuild",
       "[[listen]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:5060\"\n" + b,
       ":2: [[listen]] transport:", "\"tcp\" is not available in this build yet"},
      {"TcpBackendNotInThisBuild",
       l + "[[backend]]\nuri = \"sip:127.0.0.1:5070;transport=tcp\"\n", ":4: [[backend]] uri:",
       "transport tcp towards backends is not available in this build yet"},
      {"DuplicateListenAddress", l + l + b, ":4: [[listen]] address:",
       "127.0.0.1:5060 conflicts with [[listen]] (udp) 127.0.0.1:5060 on line 2"},
      {"TlsCertOnUdpListener", l + "tls_cert = \"/etc/x.pem\"\n" + b,
       ":3: [[listen]] tls_cert:", "only valid when transport = \"tls\""},
      // Whole-file problems have no line.
      {"NoBackend", l, ": [[backend]]:", "at least one is required"},
      {"NoListener", b, ": [[listen]]:", "at least one is required"},
      {"TomlSyntaxError", l + b + "[engine]\nshards = = 2\n", ":6: syntax error:",
       "unknown value"},
  };
}

class SipringBadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(SipringBadConfigTest, CheckConfigExitsTwoNamingFileLineAndKey) {
  const BadConfig& c = GetParam();
  testing::TempDir dir;
  const std::string path = dir.Write(std::string(c.name) + ".toml", c.text);
  const CliResult r = RunSipring(dir, {"--check-config", path});
  ASSERT_EQ(r.rc, 2) << "stdout:\n" << r.out << "stderr:\n" << r.err;
  const std::string line = LineStartingWith(r.err, path + c.where);
  ASSERT_NE(line, "") << "no line starting with \"" << path << c.where << "\" in\n" << r.err;
  EXPECT_NE(line.find(c.phrase), std::string::npos) << line;
  EXPECT_EQ(r.out, "") << "nothing on stdout when the file is refused";

  // Starting on the same file fails the same way, before any socket is opened.
  const CliResult run = RunSipring(dir, {"-c", path});
  EXPECT_EQ(run.rc, 2) << run.out << run.err;
  EXPECT_EQ(run.err, r.err);
}

INSTANTIATE_TEST_SUITE_P(Cases, SipringBadConfigTest, ::testing::ValuesIn(BadConfigs()),
                         [](const ::testing::TestParamInfo<BadConfig>& param) {
                           return std::string(param.param.name);
                         });

TEST(SipringCliTest, EveryErrorOfAFileIsReportedAtOnceInLineOrder) {
  testing::TempDir dir;
  const std::string path = dir.Write(
      "multi.toml", "[engine]\nlow_watermark = 1.5\nbuffers_per_shard = 0\n" +
                        std::string(kListen) + "[[backend]]\nuri = \"sip:127.0.0.1:5070\"\n" +
                        "weight = 0\n");
  const CliResult r = RunSipring(dir, {"--check-config", path});
  ASSERT_EQ(r.rc, 2) << r.out << r.err;
  const size_t a = r.err.find(path + ":2: [engine] low_watermark:");
  const size_t b = r.err.find(path + ":3: [engine] buffers_per_shard:");
  const size_t c = r.err.find(path + ":8: [[backend]] weight:");
  ASSERT_NE(a, std::string::npos) << r.err;
  ASSERT_NE(b, std::string::npos) << r.err;
  ASSERT_NE(c, std::string::npos) << r.err;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

// ---------------------------------------------------------------------------------------------
// sipring doctor against a fake /proc: exit 0 with nothing to fix, 1 with the sysctl named.

// One udp listener on 5060 (outside the fake's ephemeral range) asking for 1 MiB buffers.
std::string DoctorConfig(const testing::TempDir& dir) {
  return dir.Write("doctor.toml", "[engine]\nshards = 2\n"
                                  "[[listen]]\naddress = \"127.0.0.1:5060\"\n"
                                  "rcvbuf = 1048576\nsndbuf = 1048576\n" +
                                      std::string(kBackend));
}

TEST(SipringDoctorTest, NothingToFixExitsZero) {
  testing::TempDir dir;
  testing::FakeProc proc;
  const std::string config = DoctorConfig(dir);
  const CliResult r = RunSipring(dir, {"doctor", "--proc-root", proc.root(), "-c", config});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(LineStartingWith(r.out, "OK    kernel: Linux 6.1.0-18-amd64 >= 6.1"),
            "OK    kernel: Linux 6.1.0-18-amd64 >= 6.1")
      << r.out;
  EXPECT_NE(
      LineStartingWith(r.out, "OK    rmem_max: 4194304 >= rcvbuf 1048576 of udp:127.0.0.1:5060"),
      "")
      << r.out;
  EXPECT_EQ(LineContaining(r.out, "WARN"), "") << r.out;
  EXPECT_EQ(LineStartingWith(r.out, "sipring doctor: "),
            "sipring doctor: " + config + " on " + proc.root() + ": 7 ok, 0 warn, 0 error")
      << r.out;
}

TEST(SipringDoctorTest, EachProblemExitsOneNamingItsFix) {
  testing::TempDir dir;
  const std::string config = DoctorConfig(dir);
  struct Case {
    std::string file, text;
    std::string line;  // the start of the output line expected
  };
  const std::vector<Case> cases = {
      {"sys/net/core/rmem_max", "212992\n",
       "WARN  rmem_max: 212992 < rcvbuf 1048576 of udp:127.0.0.1:5060 -> "
       "sysctl -w net.core.rmem_max=1048576"},
      {"sys/net/core/wmem_max", "212992\n",
       "WARN  wmem_max: 212992 < sndbuf 1048576 of udp:127.0.0.1:5060 -> "
       "sysctl -w net.core.wmem_max=1048576"},
      {"sys/net/ipv4/ip_local_port_range", "1024\t65535\n",
       "WARN  ip_local_port_range: port 5060 of udp:127.0.0.1:5060 is inside the ephemeral range "
       "1024-65535 and not reserved"},
      {"sys/kernel/osrelease", "5.15.0-91-generic\n",
       "ERROR kernel: Linux 5.15.0-91-generic < 6.0"},
      {"sys/kernel/io_uring_disabled", "2\n",
       "ERROR io_uring_disabled: 2: io_uring is disabled for every process"},
  };
  for (const Case& c : cases) {
    testing::FakeProc proc;
    proc.Set(c.file, c.text);
    const CliResult r = RunSipring(dir, {"doctor", "-c", config, "--proc-root", proc.root()});
    EXPECT_EQ(r.rc, 1) << c.file << "\n" << r.out << r.err;
    EXPECT_NE(LineStartingWith(r.out, c.line), "")
        << "no line starting with\n" << c.line << "\nin\n" << r.out;
  }
  // The port fix, whole: reserve 5060 and keep what was reserved.
  testing::FakeProc proc;
  proc.Set("sys/net/ipv4/ip_local_port_range", "1024\t65535\n");
  proc.Set("sys/net/ipv4/ip_local_reserved_ports", "8000-8010\n");
  const CliResult r = RunSipring(dir, {"doctor", "-c", config, "--proc-root", proc.root()});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  const std::string line = LineStartingWith(r.out, "WARN  ip_local_port_range:");
  EXPECT_NE(line.find(" -> sysctl -w net.ipv4.ip_local_reserved_ports=8000-8010,5060"),
            std::string::npos)
      << line;
  EXPECT_NE(LineStartingWith(r.out, "sipring doctor: "), "") << r.out;
  EXPECT_NE(r.out.find(": 6 ok, 1 warn, 0 error\n"), std::string::npos) << r.out;
}

TEST(SipringDoctorTest, WithoutAConfigChecksTheBuiltInDefault) {
  testing::TempDir dir;
  testing::FakeProc proc;
  const CliResult r = RunSipring(dir, {"doctor", "--proc-root", proc.root()});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  // The default's udp listener, and no buffer checks since it sets none.
  EXPECT_NE(LineStartingWith(r.out, "OK    ip_local_port_range: port 5060 of udp:127.0.0.1:5060 is "
                                    "outside the ephemeral range 32768-60999"),
            "")
      << r.out;
  EXPECT_EQ(LineContaining(r.out, "rmem_max"), "") << r.out;
  EXPECT_NE(LineStartingWith(r.out, "sipring doctor: <built-in default> on " + proc.root()), "")
      << r.out;
}

TEST(SipringDoctorTest, ConfigErrorExitsTwo) {
  testing::TempDir dir;
  testing::FakeProc proc;
  const std::string path = dir.Write("bad.toml", "[limits]\nmax_connections = 0\n" +
                                                     std::string(kListen) + kBackend);
  const CliResult r = RunSipring(dir, {"doctor", "-c", path, "--proc-root", proc.root()});
  ASSERT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(LineStartingWith(r.err, path + ":2: [limits] max_connections: must be between 1 and "
                                           "1000000 (got 0)"),
            "")
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(SipringDoctorTest, RefusesFlagsThatRunTheDaemon) {
  testing::TempDir dir;
  for (const char* flag : {"--run-seconds", "--check-config", "--bogus"}) {
    const CliResult r = RunSipring(dir, {"doctor", flag, "1"});
    EXPECT_EQ(r.rc, 2) << flag << r.out << r.err;
    EXPECT_NE(r.err.find(std::string("doctor: unknown argument ") + flag), std::string::npos)
        << r.err;
  }
  // And --proc-root belongs to doctor alone.
  const CliResult r = RunSipring(dir, {"--proc-root", "/proc"});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("unknown argument --proc-root"), std::string::npos) << r.err;
}

TEST(SipringDoctorTest, RealProcExitStatusMatchesItsFindings) {
  testing::TempDir dir;
  const CliResult r = RunSipring(dir, {"doctor"});
  ASSERT_TRUE(r.rc == 0 || r.rc == 1) << r.out << r.err;
  EXPECT_NE(LineStartingWith(r.out, "sipring doctor: <built-in default> on /proc: "), "") << r.out;
  const bool problem =
      LineStartingWith(r.out, "WARN ") != "" || LineStartingWith(r.out, "ERROR ") != "";
  EXPECT_EQ(*r.rc, problem ? 1 : 0) << r.out;
}

// ---------------------------------------------------------------------------------------------
// A real run on free loopback ports that stops by itself.

TEST(SipringCliTest, RunSecondsStartsAndStopsByItself) {
  testing::TempDir dir;
  const uint16_t listen = testing::FreePort();
  const uint16_t backend = testing::FreePort();
  const uint16_t admin = testing::FreePort();
  ASSERT_NE(listen, 0);
  ASSERT_NE(backend, 0);
  ASSERT_NE(admin, 0);
  const std::string path = dir.Write(
      "good.toml", "[engine]\nshards = 1\n"
                   "[[listen]]\naddress = \"127.0.0.1:" + std::to_string(listen) + "\"\n"
                   "[[backend]]\nuri = \"sip:127.0.0.1:" + std::to_string(backend) + "\"\n"
                   "[admin]\naddress = \"127.0.0.1:" + std::to_string(admin) + "\"\n");
  const std::string log = dir.path() + "/sipring.log";
  testing::Process p({SIPRING_BINARY, "-c", path, "--run-seconds", "1"}, log);
  ASSERT_GT(p.pid(), 0);
  const std::optional<int> rc = p.Wait(10000);
  const std::string out = p.Output();
  ASSERT_TRUE(rc.has_value()) << "still running after 10 s:\n" << out;
  if (*rc == 1 && out.find("io_uring") != std::string::npos) {
    GTEST_SKIP() << "io_uring unavailable here:\n" << out;
  }
  ASSERT_EQ(*rc, 0) << out;
  const std::string started = LineContaining(out, " event=started ");
  ASSERT_NE(started, "") << out;
  EXPECT_NE(started.find("level=info"), std::string::npos) << started;
  EXPECT_NE(started.find("listen=udp:127.0.0.1:" + std::to_string(listen)), std::string::npos)
      << started;
  EXPECT_NE(started.find("backends=127.0.0.1:" + std::to_string(backend)), std::string::npos)
      << started;
  EXPECT_NE(started.find("metrics=http://127.0.0.1:" + std::to_string(admin) + "/metrics"),
            std::string::npos)
      << started;
  EXPECT_NE(out.find("event=stopped"), std::string::npos) << out;

  // The host check ran before "started": FreePort() hands out an ephemeral port, so unless this
  // host reserves it the daemon must have warned about it, with the fix.
  const absl::StatusOr<transports::EphemeralPorts> ports =
      transports::EphemeralPorts::Read("/proc");
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::string warned = LineContaining(out, " check=ip_local_port_range ");
  if (ports->MayTake(listen)) {
    ASSERT_NE(warned, "") << out;
    EXPECT_NE(warned.find("level=warn event=host_check"), std::string::npos) << warned;
    EXPECT_NE(warned.find("net.ipv4.ip_local_reserved_ports="), std::string::npos) << warned;
    EXPECT_LT(out.find(warned), out.find(started)) << out;
  } else {
    EXPECT_EQ(warned, "") << out;
  }
}

}  // namespace
}  // namespace sipring

// Tests for conf/config.h: the shipped example and the embedded default load and equal the
// defaults, and every kind of mistake is refused with file, line and key.
#include "conf/config.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/loopback.h"
#include "tests/testing/process.h"

namespace sipring::conf {
namespace {

using ::testing::HasSubstr;

std::string ExamplePath() { return sipring::testing::SourceDir() + "/conf/sipring.example.toml"; }

using sipring::testing::ReadFile;

std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return path;
}

constexpr char kBaseForSuggestion[] =
    "[foo]\n[[listen]]\naddress = \"127.0.0.1:5060\"\n[[backend]]\nuri = \"sip:h\"\n";

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// The listeners and backends of the default text (and of the example, which mirrors it).
Config DefaultsWithDefaultPeers() {
  Config expected;
  ListenConfig listen;
  listen.transport = Transport::kUdp;
  listen.address = SocketAddress{"127.0.0.1", 5060, AddressFamily::kIpv4};
  expected.listen.push_back(listen);
  BackendConfig a;
  a.uri = "sip:127.0.0.1:5070";
  BackendConfig b;
  b.uri = "sip:127.0.0.1:5071";
  expected.backends = {a, b};
  return expected;
}

void ExpectSameConfig(const Config& got, const Config& want) {
  // Section by section, so that a failure says which one drifted.
  EXPECT_TRUE(got.engine == want.engine) << "[engine] differs";
  EXPECT_TRUE(got.listen == want.listen) << "[[listen]] differs";
  EXPECT_TRUE(got.backends == want.backends) << "[[backend]] differs";
  EXPECT_TRUE(got.balancer == want.balancer) << "[balancer] differs";
  EXPECT_TRUE(got.transactions == want.transactions) << "[transactions] differs";
  EXPECT_TRUE(got.limits == want.limits) << "[limits] differs";
  EXPECT_TRUE(got.health == want.health) << "[health] differs";
  EXPECT_TRUE(got.admin == want.admin) << "[admin] differs";
  EXPECT_TRUE(got.log == want.log) << "[log] differs";
  EXPECT_TRUE(got == want);
}

TEST(ConfigTest, ExampleFileLoadsAndEqualsDefaults) {
  const absl::StatusOr<Config> config = LoadConfigFile(ExamplePath());
  ASSERT_TRUE(config.ok()) << config.status();
  ExpectSameConfig(*config, DefaultsWithDefaultPeers());
}

TEST(ConfigTest, ExampleFileMentionsEveryKey) {
  const std::string text = ReadFile(ExamplePath());
  ASSERT_FALSE(text.empty());
  const std::vector<std::string> keys = KnownKeysForTest();
  ASSERT_GT(keys.size(), 40u);
  for (const std::string& dotted : keys) {
    const std::string key = dotted.substr(dotted.find('.') + 1);
    // Set ("key = ") or shown commented out ("# key = ") at the start of a line.
    const bool found = text.find("\n" + key + " = ") != std::string::npos ||
                       text.find("\n# " + key + " = ") != std::string::npos;
    EXPECT_TRUE(found) << dotted << " is not documented in sipring.example.toml";
  }
}

TEST(ConfigTest, KnownKeysCoverEverySection) {
  const std::vector<std::string> keys = KnownKeysForTest();
  for (const char* want :
       {"engine.shards", "engine.ring_entries", "listen.address", "listen.tls_key", "backend.uri",
        "backend.name", "balancer.retry_after_s", "transactions.t4_ms", "limits.max_headers",
        "limits.max_connections",
        "health.self_probe_interval_ms", "admin.address", "log.level"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), want), keys.end()) << want;
  }
}

TEST(ConfigTest, DefaultTextLoads) {
  const absl::StatusOr<Config> config = LoadConfigString(DefaultConfigText(), "<default>");
  ASSERT_TRUE(config.ok()) << config.status();
  ExpectSameConfig(*config, DefaultsWithDefaultPeers());
  EXPECT_EQ(config->admin.address.ToString(), "127.0.0.1:9090");
}

TEST(ConfigTest, LoadsAFullCustomFile) {
  const std::string text = R"toml(
[engine]
shards = 4
buffer_size = 4096
buffers_per_shard = 8192
low_watermark = 0.2
high_watermark = 0.5
pin_cpus = true

[[listen]]
address = "0.0.0.0:5060"

[[listen]]
transport = "tcp"
address = "[::1]:5060"
backlog = 4096

[[listen]]
transport = "tls"
address = "[::]:5061"
tls_cert = "/etc/sipring/cert.pem"
tls_key = "/etc/sipring/key.pem"

[[backend]]
uri = "sip:10.0.0.5:5060;transport=udp"
group = "pbx"
weight = 10
priority = 1
name = "pbx-a"

[[backend]]
uri = "sips:pbx2.example.net"
group = "pbx"

[balancer]
algorithm = "hash-call-id"
mode = "stateless"
failover_codes = [500, 503, 603]
retry_after_s = 30

[limits]
max_connections = 1000000

[health]
alive_codes = [200]

[admin]
address = "[::1]:9100"

[log]
level = "debug"
)toml";
  const std::string path = WriteTempFile("full.toml", text);
  const absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->engine.shards, 4u);
  EXPECT_EQ(config->engine.buffer_size, 4096u);
  EXPECT_EQ(config->engine.buffers_per_shard, 8192u);
  EXPECT_DOUBLE_EQ(config->engine.low_watermark, 0.2);
  EXPECT_TRUE(config->engine.pin_cpus);
  ASSERT_EQ(config->listen.size(), 3u);
  EXPECT_EQ(config->listen[0].address.ToString(), "0.0.0.0:5060");
  EXPECT_EQ(config->listen[1].transport, Transport::kTcp);
  EXPECT_EQ(config->listen[1].address.family, AddressFamily::kIpv6);
  EXPECT_EQ(config->listen[1].backlog, 4096u);
  EXPECT_EQ(config->listen[2].transport, Transport::kTls);
  EXPECT_EQ(config->listen[2].tls_key, "/etc/sipring/key.pem");
  ASSERT_EQ(config->backends.size(), 2u);
  EXPECT_EQ(config->backends[0].weight, 10u);
  EXPECT_EQ(config->backends[0].name, "pbx-a");
  EXPECT_EQ(config->backends[1].group, "pbx");
  EXPECT_EQ(config->backends[1].weight, 1u);
  EXPECT_EQ(config->balancer.algorithm, Algorithm::kHashCallId);
  EXPECT_EQ(config->balancer.mode, ProxyMode::kStateless);
  EXPECT_EQ(config->balancer.failover_codes, (std::vector<int>{500, 503, 603}));
  EXPECT_EQ(config->balancer.retry_after_s, std::chrono::seconds(30));
  EXPECT_EQ(config->limits.max_connections, 1000000u);
  EXPECT_EQ(config->health.alive_codes, (std::vector<int>{200}));
  EXPECT_EQ(config->admin.address.ToString(), "[::1]:9100");
  EXPECT_EQ(config->log.level, LogLevel::kDebug);
  EXPECT_EQ(config->transactions.t1_ms, std::chrono::milliseconds(500));
}

TEST(ConfigTest, MissingFileNamesThePath) {
  const std::string path = ::testing::TempDir() + "/does-not-exist/sipring.toml";
  const absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(config.status()), HasSubstr(path));
  EXPECT_THAT(Message(config.status()), HasSubstr("No such file"));
}

TEST(ConfigTest, DirectoryIsRefusedClearly) {
  const absl::StatusOr<Config> config = LoadConfigFile(::testing::TempDir());
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(Message(config.status()), HasSubstr("it is a directory"));
}

TEST(ConfigTest, UnknownTableGetsNoFarFetchedSuggestion) {
  const absl::StatusOr<Config> config = LoadConfigString(std::string(kBaseForSuggestion), "s.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Message(config.status()), "s.toml:1: [foo]: unknown table");
}

TEST(ConfigTest, EmptyFileNeedsListenersAndBackends) {
  const absl::StatusOr<Config> config = LoadConfigString("", "empty.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Message(config.status()),
            "empty.toml: [[listen]]: at least one is required (add a [[listen]] table)\n"
            "empty.toml: [[backend]]: at least one is required (add a [[backend]] table)");
}

// A minimal valid file; cases append to it (lines 5 onwards) or prepend root keys.
constexpr char kBase[] =
    "[[listen]]\n"                    // 1
    "address = \"127.0.0.1:5060\"\n"  // 2
    "[[backend]]\n"                   // 3
    "uri = \"sip:127.0.0.1:5070\"\n"; // 4

struct BadCase {
  const char* name;
  std::string text;
  int line;             // Expected line in "sipring.toml:<line>: "; 0 = no line.
  std::string message;  // Expected substring after the location (key and reason).
};

std::vector<BadCase> BadCases() {
  const std::string base = kBase;
  return {
      {"SyntaxError", base + "[engine]\nshards = \n", 6, "syntax error: missing value"},
      {"SyntaxErrorBadHeader", "[engine\n" + base, 1, "syntax error: an invalid key appeared"},
      {"DuplicateKey", base + "[engine]\nshards = 1\nshards = 2\n", 7,
       "syntax error: value (\"shards\") already exists"},
      {"UnknownTopLevelTable", base + "[engin]\nshards = 1\n", 5,
       "[engin]: unknown table (did you mean engine?)"},
      {"UnknownTopLevelKey", "shards = 2\n" + base, 1, "shards: unknown top-level key"},
      {"UnknownKeyInEngine", base + "[engine]\nshard = 2\n", 6,
       "[engine] shard: unknown key (did you mean shards?)"},
      {"UnknownKeyInBackend", base + "weigth = 2\n", 5,
       "[[backend]] weigth: unknown key (did you mean weight?)"},
      {"UnknownKeyInSecondListen", base + "[[listen]]\naddress = \"127.0.0.1:5062\"\nport = 5\n", 7,
       "[[listen]] port: unknown key"},
      {"UnknownNestedTable", base + "[engine.extra]\nx = 1\n", 5, "[engine] extra: unknown key"},
      {"StringWhereIntExpected", base + "[engine]\nbuffer_size = \"big\"\n", 6,
       "[engine] buffer_size: must be an integer (got string \"big\")"},
      {"FloatWhereIntExpected", base + "[engine]\nshards = 1.5\n", 6,
       "[engine] shards: must be an integer (got 1.5)"},
      {"NegativeBufferSize", base + "[engine]\nbuffer_size = -1\n", 6,
       "[engine] buffer_size: must be between 512 and 65536 (got -1)"},
      {"ShardsAbsurd", base + "[engine]\nshards = 100000\n", 6,
       "[engine] shards: must be between 0 and 1024 (got 100000)"},
      {"WatermarkOverOne", base + "[engine]\nlow_watermark = 1.5\n", 6,
       "[engine] low_watermark: must be between 0 and 1 exclusive (got 1.5)"},
      {"WatermarkString", base + "[engine]\nhigh_watermark = \"high\"\n", 6,
       "[engine] high_watermark: must be a number"},
      {"LowNotBelowHigh", base + "[engine]\nlow_watermark = 0.5\nhigh_watermark = 0.4\n", 7,
       "[engine] high_watermark: low_watermark (0.5) must be less than high_watermark (0.4)"},
      {"ZeroBuffers", base + "[engine]\nbuffers_per_shard = 0\n", 6,
       "[engine] buffers_per_shard: must be between 1 and 32768 (got 0)"},
      {"BuffersNotPowerOfTwo", base + "[engine]\nbuffers_per_shard = 3000\n", 6,
       "[engine] buffers_per_shard: must be a power of two (got 3000)"},
      {"RingEntriesNotPowerOfTwo", base + "[engine]\nring_entries = 1000\n", 6,
       "[engine] ring_entries: must be a power of two"},
      {"ReserveTooLarge", base + "[engine]\nbuffers_per_shard = 256\nreserve_buffers = 128\n", 7,
       "[engine] reserve_buffers: must be at most a quarter of buffers_per_shard (64)"},
      {"EndpointQuotaZero", base + "[engine]\nendpoint_quota = 0\n", 6,
       "[engine] endpoint_quota: must be between 1 and"},
      {"BoolAsString", base + "[engine]\npin_cpus = \"yes\"\n", 6,
       "[engine] pin_cpus: must be true or false"},
      {"EngineNotATable", "engine = 5\n" + base, 1, "engine: must be a table [engine] (got 5)"},
      {"PortOutOfRange", "[[listen]]\naddress = \"127.0.0.1:70000\"\n[[backend]]\nuri = \"sip:h\"\n", 2,
       "[[listen]] address: the port must be in 1..65535"},
      {"PortMissing", "[[listen]]\naddress = \"127.0.0.1\"\n[[backend]]\nuri = \"sip:h\"\n", 2,
       "[[listen]] address: expected \"ip:port\""},
      {"ListenHostName", "[[listen]]\naddress = \"localhost:5060\"\n[[backend]]\nuri = \"sip:h\"\n", 2,
       "[[listen]] address: not an IP address"},
      {"ListenAddressMissing", "[[listen]]\ntransport = \"udp\"\n[[backend]]\nuri = \"sip:h\"\n", 1,
       "[[listen]] address: required key is missing"},
      {"BadTransport", "[[listen]]\ntransport = \"sctp\"\naddress = \"127.0.0.1:5060\"\n" + base.substr(base.find("[[backend]]")),
       2, "[[listen]] transport: must be one of \"udp\", \"tcp\", \"tls\" (got \"sctp\")"},
      {"ListenIsATable", "[listen]\naddress = \"127.0.0.1:5060\"\n[[backend]]\nuri = \"sip:h\"\n", 1,
       "[[listen]]: must be an array of tables, written [[listen]]"},
      {"DuplicateListenAddress", base + "[[listen]]\naddress = \"127.0.0.1:5060\"\n", 6,
       "[[listen]] address: 127.0.0.1:5060 conflicts with [[listen]] (udp) 127.0.0.1:5060 on line 2"},
      {"WildcardOverlap", base + "[[listen]]\naddress = \"0.0.0.0:5060\"\n", 6,
       "[[listen]] address: 0.0.0.0:5060 conflicts with"},
      {"TcpAndTlsSamePort",
       base + "[[listen]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:5061\"\n"
              "[[listen]]\ntransport = \"tls\"\naddress = \"127.0.0.1:5061\"\n"
              "tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n",
       10, "[[listen]] address: 127.0.0.1:5061 conflicts with [[listen]] (tcp)"},
      {"AdminOnListenerPort",
       base + "[[listen]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:9090\"\n", 0,
       "[admin] address: 127.0.0.1:9090 conflicts with [[listen]] (tcp) 127.0.0.1:9090 on line 7"},
      {"TlsWithoutCert", base + "[[listen]]\ntransport = \"tls\"\naddress = \"127.0.0.1:5061\"\n", 5,
       "[[listen]] tls_cert: required when transport = \"tls\""},
      {"CertOnUdp", base.substr(0, base.find("[[backend]]")) + "tls_cert = \"c.pem\"\n" + base.substr(base.find("[[backend]]")), 3,
       "[[listen]] tls_cert: only valid when transport = \"tls\" (transport is \"udp\")"},
      {"NoBackends", "[[listen]]\naddress = \"127.0.0.1:5060\"\n", 0,
       "[[backend]]: at least one is required"},
      {"EmptyBackendArray", "backend = []\n[[listen]]\naddress = \"127.0.0.1:5060\"\n", 1,
       "[[backend]]: at least one is required (the array is empty)"},
      {"NoListeners", "[[backend]]\nuri = \"sip:127.0.0.1:5070\"\n", 0,
       "[[listen]]: at least one is required"},
      {"BackendUriNotSip", base + "[[backend]]\nuri = \"http://10.0.0.1/\"\n", 6,
       "[[backend]] uri: must start with sip: or sips: (got \"http://10.0.0.1/\")"},
      {"BackendUriPortZero", base + "[[backend]]\nuri = \"sip:10.0.0.1:0\"\n", 6,
       "[[backend]] uri: the port must be a number in 1..65535"},
      {"BackendUriBadHost", base + "[[backend]]\nuri = \"sip:bad_host!:5060\"\n", 6,
       "[[backend]] uri: the host is not a valid host name"},
      {"BackendUriMissing", base + "[[backend]]\nweight = 2\n", 5,
       "[[backend]] uri: required key is missing"},
      {"BackendWeightZero", base + "weight = 0\n", 5,
       "[[backend]] weight: must be between 1 and 1000 (got 0)"},
      {"BackendGroupEmpty", base + "group = \"\"\n", 5, "[[backend]] group: must be 1..64 characters"},
      {"DuplicateBackend", base + "[[backend]]\nuri = \"sip:127.0.0.1:5070\"\n", 6,
       "[[backend]] uri: \"sip:127.0.0.1:5070\" is already in group \"default\" on line 4"},
      {"DuplicateBackendName",
       base + "name = \"a\"\n[[backend]]\nuri = \"sip:127.0.0.1:5071\"\nname = \"a\"\n", 8,
       "[[backend]] name: \"a\" is already used on line 5"},
      {"BadAlgorithm", base + "[balancer]\nalgorithm = \"rr\"\n", 6,
       "[balancer] algorithm: must be one of \"round-robin\", \"weighted\", \"hash-call-id\", "
       "\"priority\" (got \"rr\")"},
      {"FailoverCodeOutOfRange", base + "[balancer]\nfailover_codes = [503, 200]\n", 6,
       "[balancer] failover_codes: each code must be between 300 and 699 (got 200)"},
      {"FailoverCodeElementLine", base + "[balancer]\nfailover_codes = [\n  503,\n  \"x\",\n]\n", 8,
       "[balancer] failover_codes: each element must be an integer (got string \"x\")"},
      {"FailoverCodesNotArray", base + "[balancer]\nfailover_codes = 503\n", 6,
       "[balancer] failover_codes: must be an array of integers (got 503)"},
      {"DeadlineBelowPerTry", base + "[balancer]\nper_try_timeout_ms = 3000\ntotal_deadline_ms = 2000\n", 7,
       "[balancer] total_deadline_ms: total_deadline_ms (2000) must be at least per_try_timeout_ms (3000)"},
      {"T2BelowT1", base + "[transactions]\nt1_ms = 500\nt2_ms = 100\n", 7,
       "[transactions] t2_ms: t2_ms (100) must be at least t1_ms (500)"},
      {"HeaderLongerThanMessage", base + "[limits]\nmax_message_size = 1024\nmax_header_length = 2048\n", 7,
       "[limits] max_header_length: max_header_length (2048) must not exceed max_message_size (1024)"},
      {"MaxConnectionsZero", base + "[limits]\nmax_connections = 0\n", 6,
       "[limits] max_connections: must be between 1 and 1000000 (got 0)"},
      {"MaxConnectionsAbsurd", base + "[limits]\nmax_connections = 1000001\n", 6,
       "[limits] max_connections: must be between 1 and 1000000 (got 1000001)"},
      {"MaxConnectionsString", base + "[limits]\nmax_connections = \"lots\"\n", 6,
       "[limits] max_connections: must be an integer (got string \"lots\")"},
      {"HealthTimeoutOverInterval", base + "[health]\ninterval_ms = 1000\ntimeout_ms = 2000\n", 7,
       "[health] timeout_ms: timeout_ms (2000) must not exceed interval_ms (1000)"},
      {"AliveCodeDuplicate", base + "[health]\nalive_codes = [200, 200]\n", 6,
       "[health] alive_codes: code 200 is listed twice"},
      {"AdminHostName", base + "[admin]\naddress = \"admin.local:9090\"\n", 6,
       "[admin] address: not an IP address"},
      {"BadLogLevel", base + "[log]\nlevel = \"verbose\"\n", 6,
       "[log] level: must be one of \"debug\", \"info\", \"warn\", \"error\" (got \"verbose\")"},
      {"UnknownKeyInLog", base + "[log]\nlevel = \"info\"\nfile = \"/var/log/x\"\n", 7,
       "[log] file: unknown key"},
  };
}

// gtest prints a parameter by its name, not as bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, IsRefusedWithLineAndKey) {
  const BadCase& c = GetParam();
  const absl::StatusOr<Config> config = LoadConfigString(c.text, "sipring.toml");
  ASSERT_FALSE(config.ok()) << "accepted:\n" << c.text;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string location =
      c.line == 0 ? std::string("sipring.toml: ") : "sipring.toml:" + std::to_string(c.line) + ": ";
  EXPECT_THAT(Message(config.status()), HasSubstr(location + c.message)) << "input:\n" << c.text;
}

INSTANTIATE_TEST_SUITE_P(Cases, BadConfigTest, ::testing::ValuesIn(BadCases()),
                         [](const ::testing::TestParamInfo<BadCase>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(ConfigTest, CollectsAllErrorsInOnePassSortedByLine) {
  const std::string text =
      "[engine]\n"                      // 1
      "low_watermark = 1.5\n"           // 2
      "buffer_size = 10\n"              // 3
      "[[listen]]\n"                    // 4
      "address = \"127.0.0.1:0\"\n"     // 5
      "[[backend]]\n"                   // 6
      "uri = \"sip:127.0.0.1:5070\"\n"  // 7
      "weight = 5000\n"                 // 8
      "colour = \"blue\"\n"             // 9
      "[log]\n"                         // 10
      "level = \"loud\"\n";             // 11
  const absl::StatusOr<Config> config = LoadConfigString(text, "multi.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Message(config.status()),
            "multi.toml:2: [engine] low_watermark: must be between 0 and 1 exclusive (got 1.5)\n"
            "multi.toml:3: [engine] buffer_size: must be between 512 and 65536 (got 10)\n"
            "multi.toml:5: [[listen]] address: the port must be in 1..65535 (got \"127.0.0.1:0\")\n"
            "multi.toml:8: [[backend]] weight: must be between 1 and 1000 (got 5000)\n"
            "multi.toml:9: [[backend]] colour: unknown key\n"
            "multi.toml:11: [log] level: must be one of \"debug\", \"info\", \"warn\", \"error\" "
            "(got \"loud\")");
}

TEST(ConfigTest, FileErrorsNameThePathGiven) {
  const std::string path = WriteTempFile("bad.toml", std::string(kBase) + "[engine]\nshards = -1\n");
  const absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(Message(config.status()), HasSubstr(path + ":6: [engine] shards: must be between"));
}

TEST(ConfigTest, SyntaxErrorInFileNamesPathAndLine) {
  const std::string path = WriteTempFile("syntax.toml", "[engine]\nshards = 2\nfoo bar\n");
  const absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(config.status()),
            path + ":3: syntax error: missing key-value separator `=` (should be `=`)");
}

TEST(ConfigTest, ValidatorReplacesBasicCheckAndIsWrapped) {
  LoadOptions options;
  std::vector<std::string> seen;
  options.uri_validator = [&seen](std::string_view uri) {
    seen.emplace_back(uri);
    if (uri.find("bad") != std::string_view::npos) {
      return absl::InvalidArgumentError("sip parser: unexpected character at offset 4");
    }
    return absl::OkStatus();
  };
  // "sip:h;lr" passes the validator; "sip:bad" is refused by it and the message is wrapped.
  const std::string text = std::string(kBase) + "[[backend]]\nuri = \"sip:bad\"\n";
  const absl::StatusOr<Config> config = LoadConfigString(text, "v.toml", options);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Message(config.status()),
            "v.toml:6: [[backend]] uri: sip parser: unexpected character at offset 4 (got \"sip:bad\")");
  EXPECT_EQ(seen, (std::vector<std::string>{"sip:127.0.0.1:5070", "sip:bad"}));

  // The validator is trusted over the basic check (it is the real parser).
  options.uri_validator = [](std::string_view) { return absl::OkStatus(); };
  const absl::StatusOr<Config> ok = LoadConfigString(
      std::string(kBase) + "[[backend]]\nuri = \"sip:user@host;weird\"\n", "v.toml", options);
  EXPECT_TRUE(ok.ok()) << ok.status();
}

TEST(ConfigTest, SettingsTheBuildCannotServeAreRefusedAtTheirLine) {
  LoadOptions options;
  options.available_transports = {Transport::kUdp};
  options.available_modes = {ProxyMode::kStateless};
  const std::string text =
      "[[listen]]\naddress = \"127.0.0.1:5060\"\n"
      "[[listen]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:5062\"\n"
      "[[backend]]\nuri = \"sip:127.0.0.1:5070\"\n"
      "[balancer]\nmode = \"stateful\"\n";
  const absl::StatusOr<Config> config = LoadConfigString(text, "b.toml", options);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Message(config.status()),
            "b.toml:4: [[listen]] transport: \"tcp\" is not available in this build yet\n"
            "b.toml:9: [balancer] mode: \"stateful\" is not available in this build yet");
  // Without the restriction the same file loads; defaults never trip it.
  EXPECT_TRUE(LoadConfigString(text, "b.toml").ok());
  EXPECT_TRUE(LoadConfigString(DefaultConfigText(), "<default>", options).ok());
}

TEST(ConfigTest, BasicCheckBackendUri) {
  for (const char* good :
       {"sip:127.0.0.1:5070", "sip:10.0.0.5:5060;transport=udp", "SIP:10.0.0.5", "sips:pbx.example.net",
        "sip:pbx.example.net.:5060", "sip:[::1]:5070", "sip:[2001:db8::5]", "sip:h;lr;transport=TCP",
        "sips:10.0.0.1;transport=tls"}) {
    EXPECT_TRUE(BasicCheckBackendUri(good).ok()) << good << ": " << BasicCheckBackendUri(good);
  }
  for (const char* bad :
       {"", "10.0.0.1:5060", "tel:+123", "sip:", "sip::5060", "sip:10.0.0.1:0", "sip:10.0.0.1:65536",
        "sip:10.0.0.1:50x", "sip:300.1.1.1", "sip:[::1", "sip:[zz::1]:5060", "sip:-bad-.com",
        "sip:user@10.0.0.1", "sip:10.0.0.1?subject=x", "sip:10.0.0.1;transport=sctp",
        "sips:10.0.0.1;transport=udp", "sip:10.0.0.1;=x", "sip:a..b"}) {
    EXPECT_FALSE(BasicCheckBackendUri(bad).ok()) << bad;
  }
}

TEST(ConfigTest, EnumNamesRoundTrip) {
  for (Transport t : {Transport::kUdp, Transport::kTcp, Transport::kTls}) {
    EXPECT_EQ(ParseTransport(TransportName(t)), t);
  }
  for (Algorithm a : {Algorithm::kRoundRobin, Algorithm::kWeighted, Algorithm::kHashCallId,
                      Algorithm::kPriority}) {
    EXPECT_EQ(ParseAlgorithm(AlgorithmName(a)), a);
  }
  for (ProxyMode m : {ProxyMode::kStateless, ProxyMode::kStateful}) {
    EXPECT_EQ(ParseProxyMode(ProxyModeName(m)), m);
  }
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    EXPECT_EQ(ParseLogLevel(LogLevelName(l)), l);
  }
  EXPECT_EQ(ParseTransport("UDP"), std::nullopt);  // Case-sensitive on purpose.
  EXPECT_EQ(ParseLogLevel(""), std::nullopt);
}

TEST(ConfigTest, HostileInputsNeverThrow) {
  // Inputs that make toml11 throw in different places, or are just odd; all must be Statuses.
  for (const std::string& text :
       {std::string("\xff\xfe garbage"), std::string("a = \"unterminated\n"), std::string("[[[x]]]\n"),
        std::string("a = 1979-05-27T07:32:00Z\n"), std::string(1, '\0'), std::string("= 1\n"),
        std::string("x = [1, 'a']\n"), std::string("[engine]\nshards = 99999999999999999999999\n"),
        std::string("[engine]\nlow_watermark = nan\n"), std::string("listen = [1, 2]\n"),
        std::string("backend = [{ uri = 5 }]\n")}) {
    const absl::StatusOr<Config> config = LoadConfigString(text, "hostile.toml");
    EXPECT_FALSE(config.ok()) << text;
    EXPECT_THAT(Message(config.status()), HasSubstr("hostile.toml")) << text;
  }
}

}  // namespace
}  // namespace sipring::conf

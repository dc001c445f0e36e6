// File: conf/config.h
//
// The typed configuration of sipring and its loaders. sipring.toml is read once, at start-up (and
// later on reload), into a Config; nothing outside conf/ ever sees TOML. Every setting has a
// default here; conf/sipring.example.toml lists each key with that same default (a test keeps the
// two equal), and DefaultConfigText() is the small config the daemon runs on without a file.
//
// Errors: a loader returns InvalidArgumentError (NotFoundError for a missing file) whose message
// holds every problem found in the file, one per line, sorted by line, each naming file, line and
// key, so an operator fixes a file in one go:
//   sipring.toml:12: [engine] low_watermark: must be between 0 and 1 exclusive (got 1.5)
//   sipring.toml:20: [[backend]] weight: must be between 1 and 1000 (got 0)
// Unknown keys (anywhere, array-of-tables entries included), wrong types and impossible values are
// errors, never ignored. toml11 throws; conf/ is the one place in sipring that catches exceptions
// (STYLE.md rule 28): nothing escapes a loader.
//
// Dependencies: abseil and toml11 only (STYLE.md rule 3). The SIP URI parser lives in sip/, so a
// caller that has it passes it in LoadOptions::uri_validator; without one conf checks backend URIs
// with BasicCheckBackendUri() (scheme, host, port range, transport parameter).
//
// Ownership: Config is a plain value; the loader returns it by value and the caller owns it.
// Thread-safety: the loaders keep no state and may run on any thread (in practice the main
// thread, before shards start). A Config is immutable once published to other threads.
//
// Example:
//   conf::LoadOptions options;
//   options.uri_validator = [](std::string_view uri) { return sip::ValidateUri(uri); };
//   absl::StatusOr<conf::Config> config =
//       path.empty() ? conf::LoadConfigString(conf::DefaultConfigText(), "<default>", options)
//                    : conf::LoadConfigFile(path, options);
//   if (!config.ok()) { std::cerr << config.status().message() << "\n"; return 2; }
//   StartShards(config->engine);
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conf/socket_address.h"

namespace sipring::conf {

// ---------------------------------------------------------------------------------------------
// Enumerations. Each has Name (the exact TOML spelling) and Parse (nullopt for anything else;
// spellings are case-sensitive so that the file reads one way).

// The wire transport of a listener.
enum class Transport : std::uint8_t {
  kUdp,  // "udp": datagrams, one SIP message per datagram, received into the buffer ring.
  kTcp,  // "tcp": byte stream framed by Content-Length; needs a backlog.
  kTls,  // "tls": TCP plus TLS (OpenSSL); needs tls_cert and tls_key.
};
std::string_view TransportName(Transport transport);
std::optional<Transport> ParseTransport(std::string_view text);

// How the balancer picks a backend among the healthy ones of a group.
enum class Algorithm : std::uint8_t {
  kRoundRobin,  // "round-robin": each backend in turn, weights ignored.
  kWeighted,    // "weighted": smooth weighted round-robin by `weight`.
  kHashCallId,  // "hash-call-id": hash of Call-ID, so a dialog's requests reach one backend.
  kPriority,    // "priority": lowest `priority` value that is healthy; weighted within it.
};
std::string_view AlgorithmName(Algorithm algorithm);
std::optional<Algorithm> ParseAlgorithm(std::string_view text);

// Whether the proxy keeps transaction state.
enum class ProxyMode : std::uint8_t {
  kStateless,  // "stateless": forward and forget; no retries, failover or per-try timeouts.
  kStateful,   // "stateful": RFC 3261 transactions; enables failover_codes and timeouts.
};
std::string_view ProxyModeName(ProxyMode mode);
std::optional<ProxyMode> ParseProxyMode(std::string_view text);

// Lowest severity that is logged.
enum class LogLevel : std::uint8_t {
  kDebug,  // "debug": everything, including per-message traces (slow; never in production).
  kInfo,   // "info": start-up, reloads, backend state changes.
  kWarn,   // "warn": shedding, failovers, kernel limits that bite.
  kError,  // "error": failures that need an operator.
};
std::string_view LogLevelName(LogLevel level);
std::optional<LogLevel> ParseLogLevel(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Sections. Field names are the TOML key names, so `grep low_watermark` finds both. Durations
// are std::chrono types; the key's suffix (_ms, _s) says the unit written in the file.

// [engine]: shards, their rings and their buffer slabs.
struct EngineConfig {
  // Shard threads; 0 = one per online CPU. At most kMaxShards.
  std::uint32_t shards = 0;
  // Bytes per slab slot. A UDP datagram must fit in one slot (a longer one is dropped and
  // counted), so this caps UDP message size. 512..65536.
  std::uint32_t buffer_size = 2048;
  // Slots per shard. Feeds an io_uring provided-buffer ring, whose size must be a power of two
  // of at most 32768.
  std::uint32_t buffers_per_shard = 4096;
  // Slots held back from the ring so that a fast 503 can still be built when the ring is empty.
  // 0..buffers_per_shard/4.
  std::uint32_t reserve_buffers = 64;
  // Shedding hysteresis, as fractions of free slots: below low_watermark new requests get 503 +
  // Retry-After; above high_watermark normal service resumes. 0 < low < high < 1.
  double low_watermark = 0.10;
  double high_watermark = 0.25;
  // Slots one peer endpoint may hold at once, so that one stalled or flooding peer cannot drain
  // a shard. 1..buffers_per_shard.
  std::uint32_t endpoint_quota = 256;
  // Pin shard N to CPU N. Off by default: pinning fights other tenants on a shared host.
  bool pin_cpus = false;
  // io_uring submission queue entries per shard ring; power of two, 8..32768.
  std::uint32_t ring_entries = 1024;

  bool operator==(const EngineConfig&) const = default;
};
inline constexpr std::uint32_t kMaxShards = 1024;
// The shard count the daemon runs: `shards`, or one per online CPU when it is 0.
std::uint32_t EffectiveShards(const EngineConfig& engine);

// One [[listen]] entry: a socket the proxy accepts SIP on (bound once per shard, SO_REUSEPORT).
struct ListenConfig {
  Transport transport = Transport::kUdp;
  // Required. An IP literal: listeners never resolve names.
  SocketAddress address;
  // listen(2) backlog for tcp/tls; unused by udp. 1..65535 (the kernel caps it at somaxconn).
  std::uint32_t backlog = 1024;
  // SO_RCVBUF / SO_SNDBUF in bytes; 0 = kernel default. Bounded by net.core.[rw]mem_max.
  std::uint32_t rcvbuf = 0;
  std::uint32_t sndbuf = 0;
  // PEM paths; required when transport is tls and refused otherwise (a cert on a udp listener
  // means the operator believes traffic is encrypted when it is not). Existence is checked by
  // the TLS layer when it loads them, not here.
  std::string tls_cert;
  std::string tls_key;

  bool operator==(const ListenConfig&) const = default;
};

// One [[backend]] entry: a SIP server requests are balanced to.
struct BackendConfig {
  // Required. "sip:10.0.0.5:5060;transport=udp". A host name is accepted and resolved when the
  // daemon starts (not per request).
  std::string uri;
  // Balancing group; requests are routed to a group, then balanced within it.
  std::string group = "default";
  // Share of traffic under the weighted and priority algorithms. 1..1000.
  std::uint32_t weight = 1;
  // Lower is preferred under the priority algorithm. 0..255.
  std::uint32_t priority = 0;
  // Label for logs and metrics; empty = the uri is used.
  std::string name;

  bool operator==(const BackendConfig&) const = default;
};

// [balancer]: how requests are spread and retried.
struct BalancerConfig {
  // hash-call-id by default (Kamailio's dispatcher defaults to the same). In stateless mode every
  // algorithm is applied as a function of the Call-ID (sip::Balancer::PickStateless).
  Algorithm algorithm = Algorithm::kHashCallId;
  // stateless: forward and forget; stateful: RFC 3261 transactions with failover (sip/proxy.h).
  ProxyMode mode = ProxyMode::kStateless;
  // Time one backend gets to send any response before the next is tried (stateful only).
  std::chrono::milliseconds per_try_timeout_ms{1000};
  // Time across all tries of one request; >= per_try_timeout_ms.
  std::chrono::milliseconds total_deadline_ms{5000};
  // Final responses that make a stateful proxy try the next backend. Each 300..699.
  std::vector<int> failover_codes = {503};
  // Insert Record-Route (with a parameter naming the chosen backend) so that in-dialog requests
  // come back through sipring and reach the dialog's backend.
  bool record_route = true;
  // Retry-After in the 503s sent when shedding; 0 = no Retry-After header. 0..3600.
  std::chrono::seconds retry_after_s{5};

  bool operator==(const BalancerConfig&) const = default;
};

// [transactions]: RFC 3261 transaction layer (stateful mode).
struct TransactionsConfig {
  // Live transactions per shard; beyond it new requests get 503.
  std::uint32_t max_per_shard = 32768;
  // RFC 3261 timers: T1 (RTT estimate), T2 (max non-INVITE retransmit interval), T4 (max time a
  // message stays in the network). t1 <= t2.
  std::chrono::milliseconds t1_ms{500};
  std::chrono::milliseconds t2_ms{4000};
  std::chrono::milliseconds t4_ms{5000};

  bool operator==(const TransactionsConfig&) const = default;
};

// [limits]: parser limits (a message beyond them gets 513 / 400 and is counted) and the
// connection limit.
struct LimitsConfig {
  // Largest message accepted on a stream transport. UDP is also capped by engine.buffer_size.
  std::uint32_t max_message_size = 65535;
  // Header fields per message.
  std::uint32_t max_headers = 128;
  // Bytes in one header field (name + value); <= max_message_size.
  std::uint32_t max_header_length = 8192;
  // TCP/TLS connections accepted by all shards together (UDP has none). Each holds a file
  // descriptor, so `sipring doctor` checks it against the fd limit now; the TCP transport will
  // enforce it (a connection beyond it is refused). 1..1000000.
  std::uint32_t max_connections = 10000;

  bool operator==(const LimitsConfig&) const = default;
};

// [health]: the health thread's OPTIONS probes of backends. A backend that dies right after an
// answered probe is out of rotation within fall * interval_ms + timeout_ms: 800 ms with these
// defaults, inside the one second an operator can afford; five probes a second per backend cost
// nothing next to the traffic.
struct HealthConfig {
  std::chrono::milliseconds interval_ms{200};
  // A probe without a response by then counts as a failure; <= interval_ms.
  std::chrono::milliseconds timeout_ms{200};
  // Consecutive successes to mark a backend up, failures to mark it down.
  std::uint32_t rise = 2;
  std::uint32_t fall = 3;
  // Status codes that count as alive; empty = any final response (even 404 proves the process
  // answers). Each 200..699.
  std::vector<int> alive_codes;
  // How often the health thread probes sipring's own listeners to detect a stuck shard;
  // 0 = never.
  std::chrono::milliseconds self_probe_interval_ms{5000};

  bool operator==(const HealthConfig&) const = default;
};

// [admin]: the admin thread's HTTP endpoint (/metrics).
struct AdminConfig {
  SocketAddress address = {"127.0.0.1", 9090, AddressFamily::kIpv4};

  bool operator==(const AdminConfig&) const = default;
};

// [log]
struct LogConfig {
  LogLevel level = LogLevel::kInfo;

  bool operator==(const LogConfig&) const = default;
};

// The whole file. A loaded Config has at least one listener and one backend; a
// default-constructed one has neither (there is no sensible default address to put there).
struct Config {
  EngineConfig engine;
  std::vector<ListenConfig> listen;     // [[listen]], in file order.
  std::vector<BackendConfig> backends;  // [[backend]], in file order.
  BalancerConfig balancer;
  TransactionsConfig transactions;
  LimitsConfig limits;
  HealthConfig health;
  AdminConfig admin;
  LogConfig log;

  bool operator==(const Config&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Loading.

struct LoadOptions {
  // Validates one backend URI; when set it replaces BasicCheckBackendUri(). Its error message
  // is wrapped with file, line and key. Called on the loading thread, once per backend.
  std::function<absl::Status(std::string_view uri)> uri_validator;
  // What the running build can serve; a setting outside these is an error at its line and key
  // ("not available in this build"), so --check-config and start-up agree. Empty = all.
  std::vector<Transport> available_transports;
  std::vector<ProxyMode> available_modes;
};

// Reads and validates the file at `path`; messages name `path` as given. Fails with NotFoundError
// when the file cannot be opened (PermissionDeniedError for EACCES/EPERM), InvalidArgumentError
// for a directory or anything wrong inside, DataLossError on a read error.
absl::StatusOr<Config> LoadConfigFile(std::string_view path, const LoadOptions& options = {});

// Same, from text; `file_name` is only used in messages.
absl::StatusOr<Config> LoadConfigString(std::string_view toml_text, std::string_view file_name,
                                        const LoadOptions& options = {});

// The embedded config the daemon runs on without a file: udp 127.0.0.1:5060, backends
// sip:127.0.0.1:5070 and sip:127.0.0.1:5071, admin on 127.0.0.1:9090. Static storage.
std::string_view DefaultConfigText();

// The check used for backend URIs when LoadOptions has no validator: "sip:" or "sips:", a host
// (IP literal, [IPv6] or host name), an optional port in 1..65535, `;name[=value]` parameters
// with transport one of udp/tcp/tls (not udp under sips), no user part and no headers. It is a
// sanity check, not a SIP parser. InvalidArgumentError with a short reason.
absl::Status BasicCheckBackendUri(std::string_view uri);

// Every key the loader knows, as "section.key" ("engine.shards", "listen.address",
// "backend.uri"). Tests use it to prove that sipring.example.toml mentions every key.
std::vector<std::string> KnownKeysForTest();

}  // namespace sipring::conf

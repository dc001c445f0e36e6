#include "tools/sipring/daemon.h"

#include <netdb.h>
#include <sys/random.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/log.h"
#include "engine/shard.h"
#include "engine/status.h"
#include "health/admin_server.h"
#include "health/kernel_counters.h"
#include "health/metrics.h"
#include "health/systemd_notify.h"
#include "health/watchdog.h"
#include "sip/uri.h"
#include "tools/sipring/doctor.h"

namespace sipring::daemon {
namespace {

using engine::Log;
using engine::LogLevel;

engine::LogLevel ToEngineLevel(conf::LogLevel level) {
  switch (level) {
    case conf::LogLevel::kDebug: return LogLevel::kDebug;
    case conf::LogLevel::kInfo: return LogLevel::kInfo;
    case conf::LogLevel::kWarn: return LogLevel::kWarn;
    case conf::LogLevel::kError: return LogLevel::kError;
  }
  return LogLevel::kInfo;
}

sip::LbAlgorithm ToLbAlgorithm(conf::Algorithm a) {
  switch (a) {
    case conf::Algorithm::kRoundRobin: return sip::LbAlgorithm::kRoundRobin;
    case conf::Algorithm::kWeighted: return sip::LbAlgorithm::kWeighted;
    case conf::Algorithm::kHashCallId: return sip::LbAlgorithm::kHashCallId;
    case conf::Algorithm::kPriority: return sip::LbAlgorithm::kPriority;
  }
  return sip::LbAlgorithm::kHashCallId;
}

// The backend URI's transport parameter, lower-cased; "udp" when absent under sip:.
std::string UriTransport(const sip::Uri& uri) {
  auto t = sip::FindUriParam(uri.params, "transport");
  if (!t) return uri.kind == sip::Uri::Scheme::kSips ? "tls" : "udp";
  std::string out(*t);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Host (name or literal) and port to one address; names are resolved here, once, never per
// request. The first address returned wins (the system's preference order, RFC 6724).
absl::StatusOr<transports::SockAddr> Resolve(std::string_view host, uint16_t port) {
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  const std::string h(host);
  const int rc = getaddrinfo(h.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot resolve ", h, ": ", gai_strerror(rc)));
  }
  transports::SockAddr a = transports::SockAddr::FromSockaddr(res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  a.set_port(port);
  return a;
}

uint32_t RandomInstanceId() {
  uint32_t id = 0;
  if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
    id = static_cast<uint32_t>(getpid()) * 2654435761u ^ static_cast<uint32_t>(time(nullptr));
  }
  return id;
}

}  // namespace

conf::LoadOptions ConfigLoadOptions() {
  conf::LoadOptions o;
  o.uri_validator = [](std::string_view text) -> absl::Status {
    sip::Uri uri;
    if (!sip::ParseUri(text, &uri) || !uri.IsSip()) {
      return absl::InvalidArgumentError("not a sip: or sips: URI (RFC 3261 §19.1)");
    }
    if (uri.host.empty()) return absl::InvalidArgumentError("the URI names no host");
    if (!uri.user.empty()) {
      return absl::InvalidArgumentError("a backend URI names a server, not a user: drop the user@");
    }
    if (!uri.headers.empty()) return absl::InvalidArgumentError("headers (?...) are not allowed");
    const std::string t = UriTransport(uri);
    if (t != "udp") {
      return absl::InvalidArgumentError(
          absl::StrCat("transport ", t, " towards backends is not available in this build yet"));
    }
    return absl::OkStatus();
  };
  o.available_transports = {conf::Transport::kUdp};
  o.available_modes = {conf::ProxyMode::kStateless, conf::ProxyMode::kStateful};
  return o;
}

Daemon::Daemon(const conf::Config& config) : config_(config) {}
Daemon::~Daemon() = default;

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Create(const conf::Config& config,
                                                       std::string_view file) {
  const std::string f(file);
  std::unique_ptr<Daemon> d(new Daemon(config));
  sip::ProxyShared& s = d->shared_;
  for (const conf::ListenConfig& l : config.listen) {
    SIPRING_ASSIGN_OR_RETURN(transports::SockAddr a,
                             transports::SockAddr::Parse(l.address.ToString()));
    s.listen.push_back(a);
  }
  // Every listener shares one set of socket options: the first one's buffers.
  if (!config.listen.empty()) {
    s.listen_socket.rcvbuf = static_cast<int>(config.listen[0].rcvbuf);
    s.listen_socket.sndbuf = static_cast<int>(config.listen[0].sndbuf);
  }
  std::vector<sip::BackendSpec> specs;
  for (size_t i = 0; i < config.backends.size(); ++i) {
    const conf::BackendConfig& b = config.backends[i];
    sip::Uri uri;
    if (!sip::ParseUri(b.uri, &uri)) {
      return absl::InvalidArgumentError(absl::StrCat(f, ": [[backend]] #", i + 1, " uri: does not parse"));
    }
    auto addr = Resolve(uri.host, uri.port != 0 ? uri.port : 5060);
    if (!addr.ok()) {
      return absl::NotFoundError(absl::StrCat(f, ": [[backend]] #", i + 1, " uri: ",
                                              addr.status().message()));
    }
    const std::string name = b.name.empty() ? b.uri : b.name;
    s.backends.push_back({name, *addr});
    specs.push_back({.name = name, .group = b.group, .weight = b.weight, .priority = b.priority});
  }
  SIPRING_ASSIGN_OR_RETURN(sip::Balancer balancer,
                           sip::Balancer::Create(std::move(specs),
                                                 ToLbAlgorithm(config.balancer.algorithm)));
  s.default_group = balancer.GroupIndex(sip::kDefaultGroup);
  if (s.default_group < 0) s.default_group = 0;  // no "default" group: the first one
  s.balancer = std::move(balancer);
  d->states_ = std::make_unique<sip::BackendStates>(s.backends.size());
  s.states = d->states_.get();
  s.limits.max_message_size = config.limits.max_message_size;
  s.limits.max_headers = std::min<uint32_t>(config.limits.max_headers, sip::kMaxHeaders);
  s.limits.max_header_length = config.limits.max_header_length;
  s.record_route = config.balancer.record_route;
  s.retry_after_s = config.balancer.retry_after_s.count() > 0
                        ? static_cast<int>(config.balancer.retry_after_s.count())
                        : -1;
  s.endpoint_quota = config.engine.endpoint_quota;
  s.instance_id = RandomInstanceId();
  s.stateful = config.balancer.mode == conf::ProxyMode::kStateful;
  s.timers.t1_ms = static_cast<uint32_t>(config.transactions.t1_ms.count());
  s.timers.t2_ms = static_cast<uint32_t>(config.transactions.t2_ms.count());
  s.timers.t4_ms = static_cast<uint32_t>(config.transactions.t4_ms.count());
  s.max_transactions = config.transactions.max_per_shard;
  s.per_try_timeout_ms = static_cast<uint32_t>(config.balancer.per_try_timeout_ms.count());
  s.total_deadline_ms = static_cast<uint32_t>(config.balancer.total_deadline_ms.count());
  s.failover_codes = config.balancer.failover_codes;

  d->shards_ = conf::EffectiveShards(config.engine);
  for (uint32_t i = 0; i < d->shards_; ++i) {
    d->counters_.push_back(std::make_unique<sip::ProxyCounters>(s.backends.size()));
    // Passive signals are rate-limited per backend at the shard (one per 100 ms), so a few slots
    // per backend hold every signal between two health-thread turns.
    d->signals_.push_back(std::make_unique<sip::PassiveSignalQueue>(
        std::max<size_t>(64, 4 * s.backends.size())));
  }
  d->health_counters_ = std::make_unique<health::HealthCounters>(s.backends.size());
  health::HealthOptions& h = d->health_options_;
  for (const sip::ProxyBackend& b : s.backends) h.backends.push_back({b.name, b.address});
  h.listeners = s.listen;
  h.interval_ms = static_cast<uint64_t>(config.health.interval_ms.count());
  h.timeout_ms = static_cast<uint64_t>(config.health.timeout_ms.count());
  h.rise = config.health.rise;
  h.fall = config.health.fall;
  h.alive_codes = config.health.alive_codes;
  h.self_probe_interval_ms = static_cast<uint64_t>(config.health.self_probe_interval_ms.count());
  h.self_probe_timeout_ms = std::max<uint64_t>(h.timeout_ms, 1000);
  h.instance_id = s.instance_id;
  return d;
}

absl::Status Daemon::Run(int64_t stop_after_ms) {
  engine::ShardGroup::BlockStopSignals();
  engine::SetLogLevel(ToEngineLevel(config_.log.level));
  const conf::EngineConfig& e = config_.engine;
  engine::ShardGroupOptions options;
  options.shards = static_cast<int>(shards_);
  options.pin_cpus = e.pin_cpus;
  options.shard.ring.sq_entries = e.ring_entries;
  options.shard.pool.buffer_size = e.buffer_size;
  options.shard.pool.rx_main = e.buffers_per_shard;
  // The reserve ring is a provided-buffer ring too: a power of two.
  options.shard.pool.rx_reserve = e.reserve_buffers == 0 ? 0 : std::bit_floor(e.reserve_buffers);
  // Tx slots: second slots for inserted headers that did not fit; in stateful mode also every
  // message the proxy makes itself (100 Trying, ACK, CANCEL, retransmissions), each held only
  // until its send completes, so a loop turn's worth of INVITEs is the bound.
  options.shard.pool.tx = shared_.stateful ? 1024 : 64;
  options.shard.pool.tx_reserve = 16;
  options.shard.pool.low_watermark = e.low_watermark;
  options.shard.pool.high_watermark = e.high_watermark;
  engine::ShardGroup group(options, [this](int i) {
    return std::make_unique<sip::Proxy>(shared_, counters_[size_t(i)].get(),
                                        signals_[size_t(i)].get());
  });
  SIPRING_RETURN_IF_ERROR(group.Start());

  // The health thread: a group of one shard with a ring, pool and sockets of its own.
  std::vector<sip::PassiveSignalQueue*> queues;
  for (auto& q : signals_) queues.push_back(q.get());
  engine::ShardGroup health_group(
      {.shards = 1, .shard = health::HealthChecker::ShardOptions()}, [&](int) {
        auto checker = std::make_unique<health::HealthChecker>(health_options_, states_.get(),
                                                               queues, health_counters_.get());
        checker_.store(checker.get());
        return checker;
      });
  if (absl::Status st = health_group.Start(); !st.ok()) {
    group.StopAll();
    group.Join();
    return st;
  }

  SIPRING_ASSIGN_OR_RETURN(transports::SockAddr admin_addr,
                           transports::SockAddr::Parse(config_.admin.address.ToString()));
  auto admin = health::AdminServer::Create(
      admin_addr, [this](std::string_view path, std::string* body, std::string* type) {
        if (path == "/metrics") {
          *body = Metrics();
          *type = std::string(health::kPrometheusContentType);
          return 200;
        }
        if (path == "/healthz") {
          *body = "ok\n";
          return 200;
        }
        *body = "not found; try /metrics\n";
        return 404;
      },
      {.post_handler = [this](std::string_view path, std::string* body, std::string*) {
        return AdminAction(path, body);
      }});
  if (!admin.ok()) {
    health_group.StopAll();
    health_group.Join();
    group.StopAll();
    group.Join();
    return admin.status();
  }
  (*admin)->Start();

  std::vector<std::string> listen;
  for (const auto& a : shared_.listen) listen.push_back(absl::StrCat("udp:", a.ToString()));
  std::vector<std::string> backends;
  for (const auto& b : shared_.backends) backends.push_back(b.address.ToString());
  LogHostFindings(config_);  // kernel limits bite silently; say so once, before "started"
  Log(LogLevel::kInfo, "started",
      {{"shards", shards_},
       {"listen", absl::StrJoin(listen, ",")},
       {"backends", absl::StrJoin(backends, ",")},
       {"algorithm", conf::AlgorithmName(config_.balancer.algorithm)},
       {"mode", conf::ProxyModeName(config_.balancer.mode)},
       {"metrics", absl::StrCat("http://", admin_addr.ToString(), "/metrics")}});

  health::SystemdNotifier notifier = health::SystemdNotifier::FromEnvironment();
  if (absl::Status st = notifier.Notify(absl::StrCat("READY=1\nSTATUS=serving ", listen.size(),
                                                     " listeners, ", backends.size(), " backends"));
      !st.ok()) {
    Log(LogLevel::kWarn, "systemd_notify", {{"error", st.ToString()}});
  }

  // The watchdog: every shard and the health thread must turn between two checks. systemd gets
  // WATCHDOG=1 at half its WatchdogSec; without systemd the check still runs once a second, for
  // the log and sipring_watchdog_stalls_total.
  std::vector<health::Watchdog::Source> sources;
  for (int i = 0; i < group.size(); ++i) {
    sources.push_back({absl::StrCat("shard", i), [&group, i] { return group.shard(i).heartbeat(); }});
  }
  sources.push_back({"health", [&health_group] { return health_group.shard(0).heartbeat(); }});
  health::Watchdog watchdog(std::move(sources));
  const uint64_t watchdog_usec = health::SystemdNotifier::WatchdogUsecFromEnvironment();
  const int64_t period_ms =
      watchdog_usec > 0 ? std::max<int64_t>(100, int64_t(watchdog_usec / 2000)) : 1000;
  std::vector<std::string> stalled;
  const int sig = group.WaitForSignal(stop_after_ms, period_ms, [&] {
    if (watchdog.Check(&stalled)) {
      (void)notifier.Notify("WATCHDOG=1");
      return;
    }
    watchdog_stalls_.Add();
    Log(LogLevel::kError, "watchdog_stall",
        {{"stalled", absl::StrJoin(stalled, ",")},
         {"action", notifier.enabled() ? "WATCHDOG=1 withheld: systemd will restart sipring"
                                       : "none (not under systemd)"}});
  });
  Log(LogLevel::kInfo, "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (void)notifier.Notify("STOPPING=1");
  (*admin)->Stop();
  group.Shutdown(sig, /*drain_ms=*/2000);
  checker_.store(nullptr);
  health_group.StopAll();
  health_group.Join();
  Log(LogLevel::kInfo, "stopped");
  return absl::OkStatus();
}

int Daemon::AdminAction(std::string_view path, std::string* body) {
  // /backends/NAME/drain or /backends/NAME/undrain
  constexpr std::string_view kPrefix = "/backends/";
  const size_t slash = path.rfind('/');
  if (path.substr(0, kPrefix.size()) != kPrefix || slash < kPrefix.size()) {
    *body = "actions: POST /backends/NAME/drain, POST /backends/NAME/undrain\n";
    return 404;
  }
  const std::string_view name = path.substr(kPrefix.size(), slash - kPrefix.size());
  const std::string_view action = path.substr(slash + 1);
  if (action != "drain" && action != "undrain") {
    *body = "unknown action; use drain or undrain\n";
    return 404;
  }
  health::HealthChecker* checker = checker_.load();
  for (size_t b = 0; b < shared_.backends.size(); ++b) {
    if (shared_.backends[b].name != name) continue;
    if (checker == nullptr) {
      *body = "not running\n";
      return 503;
    }
    checker->RequestDrain(b, action == "drain");
    Log(LogLevel::kInfo, "operator", {{"backend", name}, {"action", action}});
    *body = absl::StrCat(ToAbsl(action), " ", ToAbsl(name), ": applied within 100 ms\n");
    return 200;
  }
  *body = absl::StrCat("no backend named ", ToAbsl(name), "\n");
  return 404;
}

std::string Daemon::Metrics() const {
  health::MetricsWriter w;
  // A counter summed over shards: a plain member, or element `i` of an array / vector member.
  auto sum = [this](engine::Counter sip::ProxyCounters::*member) {
    uint64_t n = 0;
    for (const auto& c : counters_) n += ((*c).*member).Get();
    return n;
  };
  auto sum_at = [this](const auto sip::ProxyCounters::*member, size_t i) {
    uint64_t n = 0;
    for (const auto& c : counters_) n += ((*c).*member)[i].Get();
    return n;
  };
  for (size_t m = 0; m < sip::kMethodIndexCount; ++m) {
    w.Counter("sipring_requests_total", "SIP requests received, by method.",
              {{"method", sip::MethodIndexName(static_cast<sip::MethodIndex>(m))}},
              sum_at(&sip::ProxyCounters::requests, m));
  }
  static constexpr std::string_view kClasses[6] = {"1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};
  for (size_t k = 0; k < 6; ++k) {
    w.Counter("sipring_responses_forwarded_total", "SIP responses relayed, by class.",
              {{"class", kClasses[k]}}, sum_at(&sip::ProxyCounters::responses, k));
  }
  w.Counter("sipring_forwarded_total", "Messages forwarded.", {{"kind", "request"}},
            sum(&sip::ProxyCounters::forwarded_requests));
  w.Counter("sipring_forwarded_total", "Messages forwarded.", {{"kind", "response"}},
            sum(&sip::ProxyCounters::forwarded_responses));
  w.Counter("sipring_self_options_total", "OPTIONS pings to the proxy itself, answered 200.", {},
            sum(&sip::ProxyCounters::self_options));
  w.Counter("sipring_absorbed_acks_total",
            "ACKs for the proxy's own non-2xx answers (503, 400...), ended at the proxy.", {},
            sum(&sip::ProxyCounters::absorbed_acks));
  if (shared_.stateful) {
    w.Gauge("sipring_transactions", "Live transactions (stateful mode).", {},
            sum(&sip::ProxyCounters::transactions_live));
    w.Gauge("sipring_transactions_lingering", "Of the live transactions, those answered and only "
            "absorbing retransmissions (Timers J, I, D, K): reclaimed first at the limit.", {},
            sum(&sip::ProxyCounters::transactions_lingering));
    w.Gauge("sipring_transactions_max", "Transaction limit, all shards together.", {},
            uint64_t{shared_.max_transactions} * counters_.size());
    w.Gauge("sipring_transaction_bytes", "Memory reserved per transaction (table entry and "
            "store, without the request's buffer slot).", {},
            uint64_t{sip::ProxyTxnTable::BytesPerEntry()});
    w.Counter("sipring_transactions_total", "Transactions started.", {},
              sum(&sip::ProxyCounters::transactions_started));
    w.Counter("sipring_transactions_reclaimed_total",
              "Finished transactions (only absorbing retransmissions) retired before their timer "
              "ended, to make room for new requests at the transaction limit.", {},
              sum(&sip::ProxyCounters::transactions_reclaimed));
    w.Counter("sipring_retransmissions_absorbed_total",
              "Request retransmissions answered from their transaction, not forwarded.", {},
              sum(&sip::ProxyCounters::retransmissions_absorbed));
    w.Counter("sipring_retransmissions_sent_total", "Messages the proxy sent again (timers).",
              {{"kind", "request"}}, sum(&sip::ProxyCounters::request_retransmissions));
    w.Counter("sipring_retransmissions_sent_total", "Messages the proxy sent again (timers).",
              {{"kind", "response"}}, sum(&sip::ProxyCounters::response_retransmissions));
    for (size_t r = 0; r < sip::kFailoverReasonCount; ++r) {
      w.Counter("sipring_failovers_total", "Requests sent on to another backend, by reason.",
                {{"reason", sip::FailoverReasonName(static_cast<sip::FailoverReason>(r))}},
                sum_at(&sip::ProxyCounters::failovers, r));
    }
    w.Counter("sipring_transaction_timeouts_total",
              "Requests answered 408 by the proxy after every try went unanswered.", {},
              sum(&sip::ProxyCounters::timeouts));
    w.Counter("sipring_cancels_total", "Caller CANCELs matched to a transaction.", {},
              sum(&sip::ProxyCounters::cancels));
    w.Counter("sipring_transaction_not_stored_total",
              "Responses or ACKs too large to keep for resending.", {},
              sum(&sip::ProxyCounters::not_stored));
  }
  for (size_t r = 0; r < sip::kRejectReasonCount; ++r) {
    w.Counter("sipring_rejected_total", "Requests answered by the proxy instead of forwarded.",
              {{"reason", sip::RejectReasonName(static_cast<sip::RejectReason>(r))}},
              sum_at(&sip::ProxyCounters::rejected, r));
  }
  for (size_t r = 0; r < sip::kDropReasonCount; ++r) {
    w.Counter("sipring_dropped_total", "Datagrams dropped without an answer.",
              {{"reason", sip::DropReasonName(static_cast<sip::DropReason>(r))}},
              sum_at(&sip::ProxyCounters::dropped, r));
  }
  for (size_t b = 0; b < shared_.backends.size(); ++b) {
    w.Counter("sipring_backend_requests_total", "Requests forwarded to each backend.",
              {{"backend", shared_.backends[b].name}},
              sum_at(&sip::ProxyCounters::backend_requests, b));
  }
  const health::HealthCounters& hc = *health_counters_;
  for (size_t b = 0; b < shared_.backends.size(); ++b) {
    const sip::BackendState st = states_->Get(b);
    w.Gauge("sipring_backend_up", "1 when the balancer may give the backend new work.",
            {{"backend", shared_.backends[b].name}}, uint64_t{sip::TakesNewWork(st)});
  }
  for (size_t b = 0; b < shared_.backends.size(); ++b) {
    for (size_t k = 0; k < sip::kBackendStateCount; ++k) {
      const auto state = static_cast<sip::BackendState>(k);
      w.Gauge("sipring_backend_state", "1 for the backend's current health state.",
              {{"backend", shared_.backends[b].name}, {"state", sip::BackendStateName(state)}},
              uint64_t{states_->Get(b) == state});
    }
  }
  // Per backend health counters: {metric, help, label, member}.
  const struct {
    std::string_view name, help, label_key, label_value;
    engine::Counter health::BackendHealthCounters::*member;
  } per_backend[] = {
      {"sipring_health_probes_total", "OPTIONS probes of each backend, by result.", "result", "ok",
       &health::BackendHealthCounters::probes_ok},
      {"sipring_health_probes_total", "OPTIONS probes of each backend, by result.", "result",
       "failed", &health::BackendHealthCounters::probes_failed},
      {"sipring_backend_transitions_total", "Backend state changes, by new state.", "to", "down",
       &health::BackendHealthCounters::went_down},
      {"sipring_backend_transitions_total", "Backend state changes, by new state.", "to", "up",
       &health::BackendHealthCounters::went_up},
      {"sipring_backend_passive_signals_total",
       "Signals from the data path (503s, timeouts) that triggered an immediate probe.", "", "",
       &health::BackendHealthCounters::passive_signals},
  };
  for (const auto& m : per_backend) {
    for (size_t b = 0; b < shared_.backends.size(); ++b) {
      const health::MetricLabel labels[] = {{"backend", shared_.backends[b].name},
                                            {m.label_key, m.label_value}};
      w.Counter(m.name, m.help, std::span(labels, m.label_key.empty() ? 1 : 2),
                (hc.backends[b].*m.member).Get());
    }
  }
  for (size_t b = 0; b < shared_.backends.size(); ++b) {
    w.Gauge("sipring_backend_probe_rtt_seconds", "Round trip of the last answered probe.",
            {{"backend", shared_.backends[b].name}},
            double(hc.backends[b].last_rtt_us.Get()) / 1e6);
  }
  w.Gauge("sipring_self_probe_ok",
          "1 when the last probe through sipring's own data path (listener, balancer, backend and "
          "back) was answered by a backend in time.",
          {}, hc.self_probe_ok.Get());
  w.Counter("sipring_self_probes_total", "Probes through sipring's own data path, by result.",
            {{"result", "ok"}}, hc.self_probe_successes.Get());
  w.Counter("sipring_self_probes_total", "Probes through sipring's own data path, by result.",
            {{"result", "failed"}}, hc.self_probe_failures.Get());
  w.Gauge("sipring_self_probe_rtt_seconds", "Round trip of the last successful self probe.", {},
          double(hc.self_probe_rtt_us.Get()) / 1e6);
  w.Counter("sipring_health_probe_send_failures_total",
            "Probes the health thread could not send (no buffer, send table full).", {},
            hc.probe_send_failures.Get());
  w.Counter("sipring_health_stray_responses_total",
            "Answers matching no outstanding probe (late, duplicated or not ours).", {},
            hc.stray_responses.Get());
  w.Counter("sipring_watchdog_stalls_total",
            "Watchdog checks that found a shard or the health thread not turning.", {},
            watchdog_stalls_.Get());
  for (size_t i = 0; i < counters_.size(); ++i) {
    const std::string shard = std::to_string(i);
    const sip::ProxyCounters& c = *counters_[i];
    w.Gauge("sipring_pool_free_buffers", "Receive buffers the kernel can fill now, per shard.",
            {{"shard", shard}}, c.pool_free.Get());
    w.Gauge("sipring_pool_lowest_free_buffers",
            "Lowest count of free receive buffers since start, per shard.", {{"shard", shard}},
            c.pool_lowest_free.Get());
    w.Gauge("sipring_pool_buffers", "Buffers in the shard's pool.", {{"shard", shard}},
            c.pool_total.Get());
    w.Counter("sipring_pool_enobufs_total",
              "Receives that found the buffer ring empty (re-armed at once).", {{"shard", shard}},
              c.pool_enobufs.Get());
  }
  std::vector<const engine::LatencyHistogram*> hist;
  for (const auto& c : counters_) hist.push_back(&c->added_latency);
  w.Histogram("sipring_added_latency_seconds",
              "Time from the kernel receiving a message to sipring handing it to the kernel "
              "again (queueing in the socket included).",
              {}, hist);
  // The kernel's own drop counters, read by the health thread once a second: a proxy that looks
  // healthy while the kernel drops is not.
  if (hc.kernel_read_ok.Get() != 0) {
    for (size_t i = 0; i < health::kKernelCounterCount; ++i) {
      w.Counter(health::kKernelCounters[i].metric, health::kKernelCounters[i].help, {},
                hc.kernel[i].Get());
    }
  }
  return w.Text();
}

}  // namespace sipring::daemon

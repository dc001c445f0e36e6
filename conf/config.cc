#include "conf/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

// toml11 is header-only and not written for -Wall -Wextra -Werror; its warnings are not ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include <toml.hpp>
#pragma GCC diagnostic pop

namespace sipring::conf {
namespace {

// std::map (not toml11's default unordered_map) so that iteration, and with it the order of
// equal-line errors, is the same on every run.
using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;
using TomlTable = TomlValue::table_type;

std::string Quote(std::string_view s) { return absl::StrCat("\"", std::string(s), "\""); }

// How a TOML value is described in "(got ...)": its type and, when short, the value itself.
std::string Describe(const TomlValue& v) {
  switch (v.type()) {
    case toml::value_t::boolean:
      return v.as_boolean() ? "true" : "false";
    case toml::value_t::integer:
      return absl::StrCat(v.as_integer());
    case toml::value_t::floating:
      return absl::StrCat(v.as_floating());
    case toml::value_t::string: {
      const std::string& s = v.as_string().str;
      return absl::StrCat("string ", Quote(s.size() > 60 ? s.substr(0, 60) + "..." : s));
    }
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime:
    case toml::value_t::local_date:
    case toml::value_t::local_time:
      return "a date/time";
    case toml::value_t::empty:
      break;
  }
  return "nothing";
}

// Levenshtein distance, for "did you mean" on unknown keys (typos are the usual cause).
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Suggestion(std::string_view key, const std::vector<std::string>& known) {
  // A typo is at most two edits away, and fewer than half the key (else "foo" suggests "log").
  std::string best;
  std::size_t best_distance = 3;
  for (const std::string& k : known) {
    const std::size_t d = EditDistance(key, k);
    if (d < best_distance && 2 * d < key.size()) {
      best_distance = d;
      best = k;
    }
  }
  return best.empty() ? std::string() : absl::StrCat(" (did you mean ", best, "?)");
}

bool IsPowerOfTwo(std::int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// A name usable as a metrics label and in logs: [A-Za-z0-9_.-], 1..64 characters.
bool IsLabel(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// Everything wrong with one file. Line 0 means "no line" (something missing from the file).
class ErrorList {
 public:
  explicit ErrorList(std::string file_name) : file_name_(std::move(file_name)) {}

  // `where` is "[engine] low_watermark", "[[backend]] uri", "foo"...
  void Add(std::uint32_t line, std::string_view where, std::string_view message) {
    std::string text = line == 0 ? absl::StrCat(file_name_, ": ") : absl::StrCat(file_name_, ":", line, ": ");
    absl::StrAppend(&text, std::string(where), ": ", std::string(message));
    errors_.push_back({line, std::move(text)});
  }

  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }

  // All errors, one per line, in file order (line-less ones first: they are about the whole
  // file). stable_sort keeps the order in which same-line errors were found.
  absl::Status ToStatus() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const Entry& a, const Entry& b) { return a.line < b.line; });
    std::vector<std::string> lines;
    lines.reserve(errors_.size());
    for (Entry& e : errors_) lines.push_back(std::move(e.text));
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }

 private:
  struct Entry {
    std::uint32_t line;
    std::string text;
  };
  std::string file_name_;
  std::vector<Entry> errors_;
};

// Shared by every reader of one load.
struct LoadContext {
  ErrorList* errors;
  const LoadOptions* options;
  // When set, every key a reader asks for is recorded as "section.key" (KnownKeysForTest).
  std::set<std::string>* known_keys = nullptr;
};

// Reads one TOML table into typed fields. Each accessor names the key it wants, which both reads
// it and marks it known; ReportUnknownKeys() then refuses everything nobody asked for. So the
// list of valid keys is the code that reads them, and cannot drift from it.
//
// A key that fails is remembered (Ok(key) is false) so that cross-field checks (low < high) run
// only on values that are themselves valid, and one mistake gives one message.
class TableReader {
 public:
  // `section` is the name in messages and known keys ("engine", "listen"); `array_entry` says
  // whether the table is one [[section]] entry. `line` is the table's header line (0 = absent).
  TableReader(const TomlTable& table, std::string section, bool array_entry, std::uint32_t line,
              LoadContext& ctx)
      : table_(table),
        section_(std::move(section)),
        label_(array_entry ? absl::StrCat("[[", section_, "]]") : absl::StrCat("[", section_, "]")),
        line_(line),
        ctx_(ctx) {}

  std::uint32_t line() const { return line_; }

  // The value of `key`, or nullptr when absent. Marks the key known.
  const TomlValue* Get(const std::string& key) {
    asked_.push_back(key);
    if (ctx_.known_keys != nullptr) ctx_.known_keys->insert(absl::StrCat(section_, ".", key));
    const auto it = table_.find(key);
    return it == table_.end() ? nullptr : &it->second;
  }

  // Line of the key's value, or of the table header when the key is absent.
  std::uint32_t LineOf(const std::string& key) const {
    const auto it = table_.find(key);
    return it == table_.end() ? line_ : it->second.location().line();
  }

  bool Has(const std::string& key) const { return table_.count(key) != 0; }
  bool Ok(const std::string& key) const { return bad_.count(key) == 0; }

  void Error(const std::string& key, std::string_view message) {
    bad_.insert(key);
    ctx_.errors->Add(LineOf(key), absl::StrCat(label_, " ", key), message);
  }

  // An error about the table as a whole (e.g. a missing required key shows the header line).
  void TableError(std::string_view message) { ctx_.errors->Add(line_, label_, message); }

  void Required(const std::string& key) {
    if (!Has(key)) Error(key, "required key is missing");
  }

  template <typename T>
  void Integer(const std::string& key, std::int64_t min, std::int64_t max, T* out) {
    const TomlValue* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_integer()) return Error(key, absl::StrCat("must be an integer (got ", Describe(*v), ")"));
    const std::int64_t n = v->as_integer();
    if (n < min || n > max) {
      return Error(key, absl::StrCat("must be between ", min, " and ", max, " (got ", n, ")"));
    }
    *out = static_cast<T>(n);
  }

  // An integer that feeds an io_uring ring size: a power of two in [min, max].
  void PowerOfTwo(const std::string& key, std::int64_t min, std::int64_t max, std::uint32_t* out) {
    std::uint32_t value = *out;
    Integer(key, min, max, &value);
    if (!Ok(key)) return;
    if (!IsPowerOfTwo(value)) {
      return Error(key, absl::StrCat("must be a power of two (got ", value, ")"));
    }
    *out = value;
  }

  template <typename Duration>
  void Time(const std::string& key, std::int64_t min, std::int64_t max, Duration* out) {
    std::int64_t count = out->count();
    Integer(key, min, max, &count);
    *out = Duration(count);
  }

  // A fraction strictly between 0 and 1. Integers are accepted as numbers (then always refused
  // by the range, but with the range message rather than a type message).
  void Fraction(const std::string& key, double* out) {
    const TomlValue* v = Get(key);
    if (v == nullptr) return;
    double d = 0;
    if (v->is_floating()) {
      d = v->as_floating();
    } else if (v->is_integer()) {
      d = static_cast<double>(v->as_integer());
    } else {
      return Error(key, absl::StrCat("must be a number (got ", Describe(*v), ")"));
    }
    if (!(d > 0.0 && d < 1.0)) {  // Written this way so that NaN fails too.
      return Error(key, absl::StrCat("must be between 0 and 1 exclusive (got ", Describe(*v), ")"));
    }
    *out = d;
  }

  void Boolean(const std::string& key, bool* out) {
    const TomlValue* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_boolean()) return Error(key, absl::StrCat("must be true or false (got ", Describe(*v), ")"));
    *out = v->as_boolean();
  }

  void String(const std::string& key, std::string* out) {
    const TomlValue* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_string()) return Error(key, absl::StrCat("must be a string (got ", Describe(*v), ")"));
    *out = v->as_string().str;
  }

  template <typename E>
  void Enum(const std::string& key, std::optional<E> (*parse)(std::string_view),
            std::string_view choices, E* out) {
    std::string text;
    String(key, &text);
    if (!Has(key) || !Ok(key)) return;
    const std::optional<E> parsed = parse(text);
    if (!parsed.has_value()) {
      return Error(key, absl::StrCat("must be one of ", std::string(choices), " (got ", Quote(text), ")"));
    }
    *out = *parsed;
  }

  void Address(const std::string& key, SocketAddress* out) {
    std::string text;
    String(key, &text);
    if (!Has(key) || !Ok(key)) return;
    absl::StatusOr<SocketAddress> address = ParseSocketAddress(text);
    if (!address.ok()) return Error(key, std::string(address.status().message()));
    *out = *std::move(address);
  }

  // An array of distinct status codes in [min, max]; an element's error names its own line.
  void CodeList(const std::string& key, int min, int max, std::vector<int>* out) {
    const TomlValue* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_array()) return Error(key, absl::StrCat("must be an array of integers (got ", Describe(*v), ")"));
    std::vector<int> codes;
    bool ok = true;
    for (const TomlValue& element : v->as_array()) {
      std::string problem;
      if (!element.is_integer()) {
        problem = absl::StrCat("each element must be an integer (got ", Describe(element), ")");
      } else if (element.as_integer() < min || element.as_integer() > max) {
        problem = absl::StrCat("each code must be between ", min, " and ", max, " (got ",
                               element.as_integer(), ")");
      } else if (std::find(codes.begin(), codes.end(), element.as_integer()) != codes.end()) {
        problem = absl::StrCat("code ", element.as_integer(), " is listed twice");
      } else {
        codes.push_back(static_cast<int>(element.as_integer()));
        continue;
      }
      ok = false;
      bad_.insert(key);
      ctx_.errors->Add(element.location().line(), absl::StrCat(label_, " ", key), problem);
    }
    if (ok) *out = std::move(codes);
  }

  // Refuses every key of the table that no accessor asked for.
  void ReportUnknownKeys() {
    for (const auto& [key, value] : table_) {
      if (std::find(asked_.begin(), asked_.end(), key) != asked_.end()) continue;
      ctx_.errors->Add(value.location().line(), absl::StrCat(label_, " ", key),
                       absl::StrCat("unknown key", Suggestion(key, asked_)));
    }
  }

 private:
  const TomlTable& table_;
  std::string section_;
  std::string label_;
  std::uint32_t line_;
  LoadContext& ctx_;
  std::vector<std::string> asked_;  // Few keys per table: a vector beats a set here.
  std::set<std::string> bad_;
};

constexpr std::string_view kTransportChoices = "\"udp\", \"tcp\", \"tls\"";
constexpr std::string_view kAlgorithmChoices =
    "\"round-robin\", \"weighted\", \"hash-call-id\", \"priority\"";
constexpr std::string_view kModeChoices = "\"stateless\", \"stateful\"";
constexpr std::string_view kLogLevelChoices = "\"debug\", \"info\", \"warn\", \"error\"";

// Largest slab one shard may ask for: beyond this it is a typo, not a plan.
constexpr std::uint64_t kMaxSlabBytes = std::uint64_t{1} << 30;

void ReadEngine(TableReader& r, EngineConfig& e) {
  r.Integer("shards", 0, kMaxShards, &e.shards);
  r.Integer("buffer_size", 512, 65536, &e.buffer_size);
  // io_uring buffer rings hold at most 32768 entries and must be a power of two.
  r.PowerOfTwo("buffers_per_shard", 1, 32768, &e.buffers_per_shard);
  r.Integer("reserve_buffers", 0, 8192, &e.reserve_buffers);
  r.Fraction("low_watermark", &e.low_watermark);
  r.Fraction("high_watermark", &e.high_watermark);
  r.Integer("endpoint_quota", 1, 32768, &e.endpoint_quota);
  r.Boolean("pin_cpus", &e.pin_cpus);
  r.PowerOfTwo("ring_entries", 8, 32768, &e.ring_entries);

  if (r.Ok("low_watermark") && r.Ok("high_watermark") && e.low_watermark >= e.high_watermark) {
    // Blame whichever the operator wrote; a hysteresis band needs low < high.
    r.Error(r.Has("high_watermark") ? "high_watermark" : "low_watermark",
            absl::StrCat("low_watermark (", e.low_watermark, ") must be less than high_watermark (",
                         e.high_watermark, ")"));
  }
  if (r.Ok("buffers_per_shard") && r.Ok("reserve_buffers") &&
      e.reserve_buffers > e.buffers_per_shard / 4) {
    // The reserve is taken out of the slab; more than a quarter starves the receive ring.
    r.Error("reserve_buffers", absl::StrCat("must be at most a quarter of buffers_per_shard (",
                                            e.buffers_per_shard / 4, ") (got ",
                                            e.reserve_buffers, ")"));
  }
  if (r.Ok("buffers_per_shard") && r.Ok("endpoint_quota") &&
      e.endpoint_quota > e.buffers_per_shard) {
    r.Error("endpoint_quota", absl::StrCat("must not exceed buffers_per_shard (",
                                           e.buffers_per_shard, ") (got ", e.endpoint_quota, ")"));
  }
  if (r.Ok("buffers_per_shard") && r.Ok("buffer_size") &&
      std::uint64_t{e.buffers_per_shard} * e.buffer_size > kMaxSlabBytes) {
    r.Error(r.Has("buffers_per_shard") ? "buffers_per_shard" : "buffer_size",
            absl::StrCat("buffers_per_shard x buffer_size is ",
                         std::uint64_t{e.buffers_per_shard} * e.buffer_size,
                         " bytes per shard, more than the 1 GiB limit"));
  }
}

void ReadListen(TableReader& r, ListenConfig& l, const LoadOptions& options) {
  r.Enum("transport", &ParseTransport, kTransportChoices, &l.transport);
  const auto& avail = options.available_transports;
  if (r.Has("transport") && r.Ok("transport") && !avail.empty() &&
      std::find(avail.begin(), avail.end(), l.transport) == avail.end()) {
    r.Error("transport", absl::StrCat(Quote(TransportName(l.transport)),
                                      " is not available in this build yet"));
  }
  r.Required("address");
  r.Address("address", &l.address);
  r.Integer("backlog", 1, 65535, &l.backlog);
  r.Integer("rcvbuf", 0, std::int64_t{1} << 30, &l.rcvbuf);
  r.Integer("sndbuf", 0, std::int64_t{1} << 30, &l.sndbuf);
  r.String("tls_cert", &l.tls_cert);
  r.String("tls_key", &l.tls_key);
  if (!r.Ok("transport")) return;
  for (const char* key : {"tls_cert", "tls_key"}) {
    if (!r.Ok(key)) continue;
    const std::string& value = std::string_view(key) == "tls_cert" ? l.tls_cert : l.tls_key;
    if (l.transport == Transport::kTls && value.empty()) {
      r.Error(key, "required when transport = \"tls\"");
    } else if (l.transport != Transport::kTls && r.Has(key)) {
      r.Error(key, absl::StrCat("only valid when transport = \"tls\" (transport is ",
                                Quote(TransportName(l.transport)), ")"));
    }
  }
}

void ReadBackend(TableReader& r, BackendConfig& b, const LoadOptions& options) {
  r.Required("uri");
  r.String("uri", &b.uri);
  r.String("group", &b.group);
  r.Integer("weight", 1, 1000, &b.weight);
  r.Integer("priority", 0, 255, &b.priority);
  r.String("name", &b.name);
  if (r.Has("uri") && r.Ok("uri")) {
    const absl::Status valid =
        options.uri_validator ? options.uri_validator(b.uri) : BasicCheckBackendUri(b.uri);
    if (!valid.ok()) {
      r.Error("uri", absl::StrCat(std::string(valid.message()), " (got ", Quote(b.uri), ")"));
    }
  }
  if (r.Ok("group") && !IsLabel(b.group)) {
    r.Error("group", absl::StrCat("must be 1..64 characters of [A-Za-z0-9_.-] (got ", Quote(b.group), ")"));
  }
  if (r.Has("name") && r.Ok("name") && !IsLabel(b.name)) {
    r.Error("name", absl::StrCat("must be 1..64 characters of [A-Za-z0-9_.-] (got ", Quote(b.name), ")"));
  }
}

void ReadBalancer(TableReader& r, BalancerConfig& b, const LoadOptions& options) {
  r.Enum("algorithm", &ParseAlgorithm, kAlgorithmChoices, &b.algorithm);
  r.Enum("mode", &ParseProxyMode, kModeChoices, &b.mode);
  const auto& avail = options.available_modes;
  if (r.Has("mode") && r.Ok("mode") && !avail.empty() &&
      std::find(avail.begin(), avail.end(), b.mode) == avail.end()) {
    r.Error("mode", absl::StrCat(Quote(ProxyModeName(b.mode)), " is not available in this build yet"));
  }
  r.Time("per_try_timeout_ms", 1, 300000, &b.per_try_timeout_ms);
  r.Time("total_deadline_ms", 1, 300000, &b.total_deadline_ms);
  r.CodeList("failover_codes", 300, 699, &b.failover_codes);
  r.Boolean("record_route", &b.record_route);
  r.Time("retry_after_s", 0, 3600, &b.retry_after_s);
  if (r.Ok("per_try_timeout_ms") && r.Ok("total_deadline_ms") &&
      b.per_try_timeout_ms > b.total_deadline_ms) {
    r.Error(r.Has("total_deadline_ms") ? "total_deadline_ms" : "per_try_timeout_ms",
            absl::StrCat("total_deadline_ms (", b.total_deadline_ms.count(),
                         ") must be at least per_try_timeout_ms (", b.per_try_timeout_ms.count(), ")"));
  }
}

void ReadTransactions(TableReader& r, TransactionsConfig& t) {
  r.Integer("max_per_shard", 1, 1 << 20, &t.max_per_shard);
  r.Time("t1_ms", 1, 10000, &t.t1_ms);
  r.Time("t2_ms", 1, 60000, &t.t2_ms);
  r.Time("t4_ms", 1, 60000, &t.t4_ms);
  if (r.Ok("t1_ms") && r.Ok("t2_ms") && t.t2_ms < t.t1_ms) {
    r.Error(r.Has("t2_ms") ? "t2_ms" : "t1_ms",
            absl::StrCat("t2_ms (", t.t2_ms.count(), ") must be at least t1_ms (", t.t1_ms.count(), ")"));
  }
}

void ReadLimits(TableReader& r, LimitsConfig& l) {
  r.Integer("max_message_size", 512, 1 << 20, &l.max_message_size);
  r.Integer("max_headers", 8, 1024, &l.max_headers);
  r.Integer("max_header_length", 64, 65535, &l.max_header_length);
  r.Integer("max_connections", 1, 1000000, &l.max_connections);
  if (r.Ok("max_message_size") && r.Ok("max_header_length") &&
      l.max_header_length > l.max_message_size) {
    r.Error(r.Has("max_header_length") ? "max_header_length" : "max_message_size",
            absl::StrCat("max_header_length (", l.max_header_length,
                         ") must not exceed max_message_size (", l.max_message_size, ")"));
  }
}

void ReadHealth(TableReader& r, HealthConfig& h) {
  r.Time("interval_ms", 100, 3600000, &h.interval_ms);
  r.Time("timeout_ms", 10, 3600000, &h.timeout_ms);
  r.Integer("rise", 1, 100, &h.rise);
  r.Integer("fall", 1, 100, &h.fall);
  r.CodeList("alive_codes", 200, 699, &h.alive_codes);
  r.Time("self_probe_interval_ms", 0, 3600000, &h.self_probe_interval_ms);
  if (r.Ok("interval_ms") && r.Ok("timeout_ms") && h.timeout_ms > h.interval_ms) {
    // Otherwise probes of one backend overlap and a slow backend is probed ever harder.
    r.Error(r.Has("timeout_ms") ? "timeout_ms" : "interval_ms",
            absl::StrCat("timeout_ms (", h.timeout_ms.count(), ") must not exceed interval_ms (",
                         h.interval_ms.count(), ")"));
  }
}

void ReadAdmin(TableReader& r, AdminConfig& a) { r.Address("address", &a.address); }

void ReadLog(TableReader& r, LogConfig& l) {
  r.Enum("level", &ParseLogLevel, kLogLevelChoices, &l.level);
}

// Where one [[array]] entry's keys are, for checks across entries (duplicates, conflicts).
struct EntryLines {
  bool ok = false;  // The entry had no error of its own; broken entries are not blamed twice.
  std::uint32_t header = 0;
  std::map<std::string, std::uint32_t> keys;

  std::uint32_t Of(const std::string& key) const {
    const auto it = keys.find(key);
    return it == keys.end() ? header : it->second;
  }
};

// Who owns a bound port: UDP and TCP have separate port spaces; tcp, tls and the admin HTTP
// server all share TCP's.
struct PortKey {
  bool stream;
  AddressFamily family;
  std::uint16_t port;
  bool operator<(const PortKey& o) const {
    return std::tie(stream, family, port) < std::tie(o.stream, o.family, o.port);
  }
};
struct PortUser {
  SocketAddress address;
  std::uint32_t line;
  std::string what;  // "[[listen]] (udp)" or "[admin]", for the message.
};

// Two sockets on one address and port fail to bind (or, with SO_REUSEPORT, silently split the
// traffic between them). A wildcard plus a specific address of the same family on the same port
// bind, but the specific one steals its share: almost always a mistake, so refused too.
void CheckPortConflicts(const Config& config, const std::vector<EntryLines>& listen_lines,
                        std::uint32_t admin_line, bool admin_ok, ErrorList& errors) {
  std::map<PortKey, std::vector<PortUser>> users;
  auto claim = [&](const SocketAddress& a, bool stream, std::uint32_t line, std::string what,
                   std::string_view where) {
    std::vector<PortUser>& list = users[PortKey{stream, a.family, a.port}];
    for (const PortUser& u : list) {
      if (u.address.host == a.host || u.address.IsWildcard() || a.IsWildcard()) {
        errors.Add(line, where,
                   absl::StrCat(a.ToString(), " conflicts with ", u.what, " ", u.address.ToString(),
                                u.line == 0 ? std::string() : absl::StrCat(" on line ", u.line),
                                u.address.host == a.host
                                    ? ""
                                    : " (a wildcard address overlaps every address of its family)"));
        return;
      }
    }
    list.push_back({a, line, std::move(what)});
  };
  for (std::size_t i = 0; i < config.listen.size(); ++i) {
    const ListenConfig& l = config.listen[i];
    if (!listen_lines[i].ok) continue;  // Already reported; its address may be invalid.
    claim(l.address, l.transport != Transport::kUdp, listen_lines[i].Of("address"),
          absl::StrCat("[[listen]] (", std::string(TransportName(l.transport)), ")"),
          "[[listen]] address");
  }
  if (admin_ok) claim(config.admin.address, true, admin_line, "[admin]", "[admin] address");
}

// Same URI twice in a group sends it double traffic; same name twice merges metrics.
void CheckBackendDuplicates(const Config& config, const std::vector<EntryLines>& lines,
                            ErrorList& errors) {
  std::map<std::pair<std::string, std::string>, std::uint32_t> uris;
  std::map<std::string, std::uint32_t> names;
  for (std::size_t i = 0; i < config.backends.size(); ++i) {
    const BackendConfig& b = config.backends[i];
    if (!lines[i].ok) continue;
    const auto [it, inserted] = uris.emplace(std::make_pair(b.group, b.uri), lines[i].Of("uri"));
    if (!inserted) {
      errors.Add(lines[i].Of("uri"), "[[backend]] uri",
                 absl::StrCat(Quote(b.uri), " is already in group ", Quote(b.group), " on line ",
                              it->second));
    }
    if (!b.name.empty()) {
      const auto [nit, name_inserted] = names.emplace(b.name, lines[i].Of("name"));
      if (!name_inserted) {
        errors.Add(lines[i].Of("name"), "[[backend]] name",
                   absl::StrCat(Quote(b.name), " is already used on line ", nit->second));
      }
    }
  }
}

// Reads one [section] (absent = an empty table, so that defaults apply and required keys are
// still checked).
template <typename Section, typename ReadFn>
void ReadSection(const TomlTable& root, const std::string& name, LoadContext& ctx, Section& out,
                 ReadFn read, std::uint32_t* line_out = nullptr, bool* ok_out = nullptr) {
  static const TomlTable kEmpty;
  const TomlTable* table = &kEmpty;
  std::uint32_t line = 0;
  const auto it = root.find(name);
  if (it != root.end()) {
    line = it->second.location().line();
    if (!it->second.is_table()) {
      ctx.errors->Add(line, name,
                      absl::StrCat("must be a table [", name, "] (got ", Describe(it->second), ")"));
      if (ok_out != nullptr) *ok_out = false;
      return;
    }
    table = &it->second.as_table();
  }
  TableReader reader(*table, name, /*array_entry=*/false, line, ctx);
  const std::size_t errors_before = ctx.errors->size();
  read(reader, out);
  reader.ReportUnknownKeys();
  if (line_out != nullptr) *line_out = reader.LineOf("address");
  if (ok_out != nullptr) *ok_out = reader.Ok("address") && ctx.errors->size() == errors_before;
}

// Reads every [[section]] entry; `lines` gets where each entry's keys are.
template <typename Entry, typename ReadFn>
void ReadArray(const TomlTable& root, const std::string& name, LoadContext& ctx,
               std::vector<Entry>& out, std::vector<EntryLines>& lines, ReadFn read) {
  const std::string label = absl::StrCat("[[", name, "]]");
  const auto it = root.find(name);
  if (it == root.end()) {
    ctx.errors->Add(0, label, absl::StrCat("at least one is required (add a [[", name, "]] table)"));
    return;
  }
  const TomlValue& value = it->second;
  if (!value.is_array()) {
    ctx.errors->Add(value.location().line(), label,
                    absl::StrCat("must be an array of tables, written [[", name, "]] (got ",
                                 Describe(value), ")"));
    return;
  }
  if (value.as_array().empty()) {
    ctx.errors->Add(value.location().line(), label, "at least one is required (the array is empty)");
    return;
  }
  for (const TomlValue& element : value.as_array()) {
    if (!element.is_table()) {
      ctx.errors->Add(element.location().line(), label,
                      absl::StrCat("each entry must be a table (got ", Describe(element), ")"));
      continue;
    }
    TableReader reader(element.as_table(), name, /*array_entry=*/true, element.location().line(), ctx);
    Entry entry;
    const std::size_t errors_before = ctx.errors->size();
    read(reader, entry);
    reader.ReportUnknownKeys();
    EntryLines entry_lines;
    entry_lines.ok = ctx.errors->size() == errors_before;
    entry_lines.header = element.location().line();
    for (const auto& [key, key_value] : element.as_table()) {
      entry_lines.keys[key] = key_value.location().line();
    }
    lines.push_back(std::move(entry_lines));
    out.push_back(std::move(entry));
  }
}

constexpr std::string_view kTopLevel[] = {"engine", "listen", "backend", "balancer", "transactions",
                                          "limits", "health", "admin",   "log"};

Config ReadConfig(const TomlValue& root_value, LoadContext& ctx) {
  Config config;
  ErrorList& errors = *ctx.errors;
  const TomlTable& root = root_value.as_table();
  std::vector<std::string> known(std::begin(kTopLevel), std::end(kTopLevel));
  for (const auto& [key, value] : root) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (value.is_table()) {
      errors.Add(value.location().line(), absl::StrCat("[", key, "]"),
                 absl::StrCat("unknown table", Suggestion(key, known)));
    } else if (value.is_array() && !value.as_array().empty() && value.as_array().front().is_table()) {
      errors.Add(value.location().line(), absl::StrCat("[[", key, "]]"),
                 absl::StrCat("unknown table", Suggestion(key, known)));
    } else {
      errors.Add(value.location().line(), key,
                 absl::StrCat("unknown top-level key (settings go inside a [section])",
                              Suggestion(key, known)));
    }
  }

  ReadSection(root, "engine", ctx, config.engine, &ReadEngine);
  std::vector<EntryLines> listen_lines;
  ReadArray(root, "listen", ctx, config.listen, listen_lines,
            [&ctx](TableReader& r, ListenConfig& l) { ReadListen(r, l, *ctx.options); });
  std::vector<EntryLines> backend_lines;
  ReadArray(root, "backend", ctx, config.backends, backend_lines,
            [&ctx](TableReader& r, BackendConfig& b) { ReadBackend(r, b, *ctx.options); });
  ReadSection(root, "balancer", ctx, config.balancer,
              [&ctx](TableReader& r, BalancerConfig& b) { ReadBalancer(r, b, *ctx.options); });
  ReadSection(root, "transactions", ctx, config.transactions, &ReadTransactions);
  ReadSection(root, "limits", ctx, config.limits, &ReadLimits);
  ReadSection(root, "health", ctx, config.health, &ReadHealth);
  std::uint32_t admin_line = 0;
  bool admin_ok = true;
  ReadSection(root, "admin", ctx, config.admin, &ReadAdmin, &admin_line, &admin_ok);
  ReadSection(root, "log", ctx, config.log, &ReadLog);

  CheckPortConflicts(config, listen_lines, admin_line, admin_ok, errors);
  CheckBackendDuplicates(config, backend_lines, errors);
  return config;
}

// "[error] toml::parse_key_value_pair: missing key-value separator `=`\n --> f\n ... ^--- hint"
// becomes "missing key-value separator `=` (should be `=`)": toml11's first line without its
// function name, plus the last marker's comment, which is the most specific part.
std::string SyntaxMessage(const std::string& what) {
  std::istringstream lines(what);
  std::string first;
  std::getline(lines, first);
  std::string_view head = first;
  if (head.substr(0, 7) == "[error]") head.remove_prefix(7);
  while (!head.empty() && head.front() == ' ') head.remove_prefix(1);
  if (head.substr(0, 6) == "toml::") {
    const std::size_t colon = head.find(": ");
    if (colon != std::string_view::npos) head.remove_prefix(colon + 2);
  }
  while (!head.empty() && (head.back() == '.' || head.back() == ' ')) head.remove_suffix(1);
  std::string hint;
  std::string line;
  while (std::getline(lines, line)) {
    // Marker lines look like "   |    ^--- hint" or "   | ~~~~ hint": nothing but spaces before
    // the bar (source lines carry their number there).
    const std::size_t bar = line.find('|');
    if (bar == std::string::npos || line.find_first_not_of(' ') != bar) continue;
    std::string_view rest = std::string_view(line).substr(bar + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.substr(0, 4) == "^---") {
      rest.remove_prefix(4);
    } else if (!rest.empty() && rest.front() == '~') {
      while (!rest.empty() && rest.front() == '~') rest.remove_prefix(1);
    } else {
      continue;
    }
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (!rest.empty()) hint = std::string(rest);
  }
  std::string out(head.empty() ? std::string_view("invalid TOML") : head);
  if (!hint.empty()) absl::StrAppend(&out, " (", hint, ")");
  return out;
}

absl::StatusOr<Config> Load(std::istream& in, std::string_view file_name, const LoadOptions& options,
                            std::set<std::string>* known_keys) {
  ErrorList errors{std::string(file_name)};
  LoadContext ctx{&errors, &options, known_keys};
  // The only try in sipring: toml11 reports syntax and type problems by throwing. Every path
  // out of here is a Status.
  try {
    const TomlValue root =
        toml::parse<toml::discard_comments, std::map, std::vector>(in, std::string(file_name));
    Config config = ReadConfig(root, ctx);
    if (!errors.empty()) return errors.ToStatus();
    return config;
  } catch (const toml::syntax_error& e) {
    errors.Add(e.location().line(), "syntax error", SyntaxMessage(e.what()));
  } catch (const toml::exception& e) {
    errors.Add(e.location().line(), "error", SyntaxMessage(e.what()));
  } catch (const std::exception& e) {
    // std::bad_alloc, or std::stoul inside toml11 on a pathological input.
    errors.Add(0, "error", e.what());
  } catch (...) {
    errors.Add(0, "error", "unexpected exception while reading the file");
  }
  return errors.ToStatus();
}

}  // namespace

std::string_view TransportName(Transport transport) {
  switch (transport) {
    case Transport::kUdp:
      return "udp";
    case Transport::kTcp:
      return "tcp";
    case Transport::kTls:
      return "tls";
  }
  return "unknown";
}

std::optional<Transport> ParseTransport(std::string_view text) {
  for (Transport t : {Transport::kUdp, Transport::kTcp, Transport::kTls}) {
    if (TransportName(t) == text) return t;
  }
  return std::nullopt;
}

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kRoundRobin:
      return "round-robin";
    case Algorithm::kWeighted:
      return "weighted";
    case Algorithm::kHashCallId:
      return "hash-call-id";
    case Algorithm::kPriority:
      return "priority";
  }
  return "unknown";
}

std::optional<Algorithm> ParseAlgorithm(std::string_view text) {
  for (Algorithm a : {Algorithm::kRoundRobin, Algorithm::kWeighted, Algorithm::kHashCallId,
                      Algorithm::kPriority}) {
    if (AlgorithmName(a) == text) return a;
  }
  return std::nullopt;
}

std::string_view ProxyModeName(ProxyMode mode) {
  switch (mode) {
    case ProxyMode::kStateless:
      return "stateless";
    case ProxyMode::kStateful:
      return "stateful";
  }
  return "unknown";
}

std::optional<ProxyMode> ParseProxyMode(std::string_view text) {
  for (ProxyMode m : {ProxyMode::kStateless, ProxyMode::kStateful}) {
    if (ProxyModeName(m) == text) return m;
  }
  return std::nullopt;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (LogLevelName(l) == text) return l;
  }
  return std::nullopt;
}

absl::Status BasicCheckBackendUri(std::string_view uri) {
  std::string lower = absl::AsciiStrToLower(std::string(uri));
  std::string_view rest = lower;
  bool secure = false;
  if (rest.substr(0, 4) == "sip:") {
    rest.remove_prefix(4);
  } else if (rest.substr(0, 5) == "sips:") {
    rest.remove_prefix(5);
    secure = true;
  } else {
    return absl::InvalidArgumentError("must start with sip: or sips:");
  }
  if (rest.find('?') != std::string_view::npos) {
    return absl::InvalidArgumentError("must not carry URI headers ('?')");
  }
  const std::size_t params_at = rest.find(';');
  std::string_view hostport = rest.substr(0, params_at);
  std::string_view params = params_at == std::string_view::npos ? "" : rest.substr(params_at);
  if (hostport.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError("must not have a user part: a backend is a host");
  }
  if (hostport.empty()) return absl::InvalidArgumentError("has no host");

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (hostport.front() == '[') {
    // Reuse the listener parser for "[v6]:port"; without a port, add the default to check it.
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("missing ']' in the host");
    has_port = close + 1 < hostport.size();
    const absl::StatusOr<SocketAddress> a =
        ParseSocketAddress(has_port ? std::string(hostport)
                                    : absl::StrCat(std::string(hostport), ":5060"));
    if (!a.ok()) return a.status();
  } else {
    const std::size_t colon = hostport.find(':');
    host = hostport.substr(0, colon);
    has_port = colon != std::string_view::npos;
    if (has_port) port_text = hostport.substr(colon + 1);
    if (host.empty()) return absl::InvalidArgumentError("has no host");
    const bool numeric = std::all_of(host.begin(), host.end(), [](char c) {
      return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.';
    });
    if (numeric) {
      if (!ParseSocketAddress(absl::StrCat(std::string(host), ":5060")).ok()) {
        return absl::InvalidArgumentError("the host is not a valid IPv4 address");
      }
    } else {
      // RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
      std::size_t start = 0;
      while (start <= host.size()) {
        std::size_t dot = host.find('.', start);
        if (dot == std::string_view::npos) dot = host.size();
        const std::string_view label = host.substr(start, dot - start);
        const bool label_ok =
            !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
            std::all_of(label.begin(), label.end(), [](char c) {
              return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
            });
        // A trailing dot (fully qualified "example.com.") leaves one empty last label: allowed.
        if (!label_ok && !(label.empty() && dot == host.size() && start > 0)) {
          return absl::InvalidArgumentError("the host is not a valid host name or IP address");
        }
        start = dot + 1;
      }
    }
    if (has_port) {
      const absl::StatusOr<SocketAddress> a = ParseSocketAddress(absl::StrCat("127.0.0.1:", std::string(port_text)));
      if (!a.ok()) return absl::InvalidArgumentError("the port must be a number in 1..65535");
    }
  }

  // ;name[=value] parameters. Only transport is interpreted: it decides the backend socket.
  while (!params.empty()) {
    params.remove_prefix(1);  // ';'
    const std::size_t next = params.find(';');
    const std::string_view param = params.substr(0, next);
    params = next == std::string_view::npos ? "" : params.substr(next);
    const std::size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
             c == '!' || c == '%' || c == '*' || c == '+' || c == '`' || c == '\'' || c == '~';
    });
    if (!name_ok) return absl::InvalidArgumentError("has an empty or invalid parameter name");
    if (name == "transport") {
      if (value != "udp" && value != "tcp" && value != "tls") {
        return absl::InvalidArgumentError("transport parameter must be udp, tcp or tls");
      }
      if (secure && value == "udp") {
        return absl::InvalidArgumentError("sips: requires TLS, not transport=udp");
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfigString(std::string_view toml_text, std::string_view file_name,
                                        const LoadOptions& options) {
  std::istringstream in{std::string(toml_text)};
  return Load(in, file_name, options, nullptr);
}

absl::StatusOr<Config> LoadConfigFile(std::string_view path, const LoadOptions& options) {
  const std::string name(path);
  const std::string prefix = absl::StrCat("cannot read config file ", Quote(name), ": ");
  // A directory opens fine as an ifstream on Linux, then every read fails; say what it is.
  std::error_code ec;
  if (std::filesystem::is_directory(name, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "it is a directory"));
  }
  errno = 0;
  std::ifstream in(name, std::ios::binary);
  if (!in.is_open()) {
    const int err = errno;
    const std::string message = absl::StrCat(prefix, err != 0 ? std::strerror(err) : "cannot open");
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::NotFoundError(message);
  }
  // Read it all first (toml11 would seek on the stream), so that a read error is ours to name.
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(prefix, "read error"));
  std::istringstream text_in(std::move(text));
  return Load(text_in, path, options, nullptr);
}

std::vector<std::string> KnownKeysForTest() {
  // One entry per array so that their readers run; every other section is read as empty.
  std::istringstream in("[[listen]]\n[[backend]]\n");
  std::set<std::string> keys;
  const LoadOptions options;
  (void)Load(in, "<known-keys>", options, &keys);
  return {keys.begin(), keys.end()};
}

std::uint32_t EffectiveShards(const EngineConfig& engine) {
  return engine.shards != 0 ? engine.shards : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace sipring::conf

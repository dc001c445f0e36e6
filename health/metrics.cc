#include "health/metrics.h"

#include <charconv>
#include <cmath>

#include "engine/status.h"

namespace sipring::health {
namespace {

bool IsNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}
bool IsNameChar(char c, bool allow_colon) {
  return IsNameStart(c, allow_colon) || (c >= '0' && c <= '9');
}

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty() || !IsNameStart(name[0], allow_colon)) return false;
  for (char c : name) {
    if (!IsNameChar(c, allow_colon)) return false;
  }
  return true;
}

// Writes `name` with every byte the format does not allow replaced by '_' (and a leading '_' when
// it starts with a digit or is empty). Valid names, the only kind a correct caller passes, are
// copied as they are.
void AppendName(std::string* out, std::string_view name, bool allow_colon) {
  if (name.empty() || !IsNameStart(name[0], allow_colon)) out->push_back('_');
  for (char c : name) out->push_back(IsNameChar(c, allow_colon) ? c : '_');
}

std::string SanitizedName(std::string_view name) {
  std::string s;
  AppendName(&s, name, /*allow_colon=*/true);
  return s;
}

// Label values: backslash, double quote and newline are escaped; everything else is copied.
void AppendLabelValue(std::string* out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

// HELP text: backslash and newline are escaped (a quote is just a character there).
void AppendHelp(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendLabels(std::string* out, MetricLabels labels, std::string_view le = {}) {
  const auto span = labels.span();
  if (span.empty() && le.empty()) return;
  out->push_back('{');
  bool first = true;
  for (const MetricLabel& l : span) {
    SIPRING_DCHECK(IsValidLabelName(l.name));
    if (!first) out->push_back(',');
    first = false;
    AppendName(out, l.name, /*allow_colon=*/false);
    out->append("=\"");
    AppendLabelValue(out, l.value);
    out->push_back('"');
  }
  if (!le.empty()) {
    if (!first) out->push_back(',');
    out->append("le=\"");
    out->append(le);
    out->push_back('"');
  }
  out->push_back('}');
}

void AppendSeries(std::string* out, std::string_view family, std::string_view suffix,
                  MetricLabels labels, std::string_view le, MetricValue value) {
  out->append(family);
  out->append(suffix);
  AppendLabels(out, labels, le);
  out->push_back(' ');
  value.AppendTo(out);
  out->push_back('\n');
}

}  // namespace

bool IsValidMetricName(std::string_view name) { return IsValidName(name, /*allow_colon=*/true); }

bool IsValidLabelName(std::string_view name) {
  return IsValidName(name, /*allow_colon=*/false) && !name.starts_with("__");
}

std::string MicrosAsSeconds(uint64_t micros) {
  std::string s = std::to_string(micros / 1'000'000);
  uint64_t frac = micros % 1'000'000;
  if (frac == 0) return s;
  char digits[6];
  for (int i = 5; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  size_t n = 6;
  while (digits[n - 1] == '0') --n;
  s.push_back('.');
  s.append(digits, n);
  return s;
}

void MetricValue::AppendTo(std::string* out) const {
  char buf[32];
  std::to_chars_result r{};
  switch (kind_) {
    case Kind::kInt:
      r = std::to_chars(buf, buf + sizeof(buf), int_);
      break;
    case Kind::kUint:
      r = std::to_chars(buf, buf + sizeof(buf), uint_);
      break;
    case Kind::kDouble:
      // The format spells these the Go way; to_chars would write "nan" / "inf".
      if (std::isnan(double_)) {
        out->append("NaN");
        return;
      }
      if (std::isinf(double_)) {
        out->append(double_ > 0 ? "+Inf" : "-Inf");
        return;
      }
      r = std::to_chars(buf, buf + sizeof(buf), double_);
      break;
  }
  if (r.ec != std::errc()) {
    out->append("NaN");
    return;
  }
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

MetricsWriter::Family& MetricsWriter::FamilyFor(std::string_view name, std::string_view help,
                                                Type type) {
  SIPRING_DCHECK(IsValidMetricName(name));
  std::string key = SanitizedName(name);
  auto it = index_.find(key);
  if (it != index_.end()) {
    Family& f = families_[it->second];
    SIPRING_DCHECK(f.type == type);
    return f;
  }
  index_.emplace(key, families_.size());
  Family& f = families_.emplace_back();
  f.name = std::move(key);
  f.type = type;
  f.help.assign(help.data(), help.size());
  return f;
}

void MetricsWriter::Sample(std::string_view name, std::string_view help, Type type,
                           MetricLabels labels, MetricValue value) {
  Family& f = FamilyFor(name, help, type);
  AppendSeries(&f.series, f.name, "", labels, {}, value);
}

void MetricsWriter::Counter(std::string_view name, std::string_view help, MetricLabels labels,
                            MetricValue value) {
  Sample(name, help, Type::kCounter, labels, value);
}

void MetricsWriter::Gauge(std::string_view name, std::string_view help, MetricLabels labels,
                          MetricValue value) {
  Sample(name, help, Type::kGauge, labels, value);
}

void MetricsWriter::Histogram(std::string_view name, std::string_view help, MetricLabels labels,
                              const engine::LatencyHistogram::Snapshot& snapshot) {
  using engine::LatencyHistogram;
  for ([[maybe_unused]] const MetricLabel& l : labels.span()) SIPRING_DCHECK(l.name != "le");
  Family& f = FamilyFor(name, help, Type::kHistogram);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    cumulative += snapshot.buckets[i];
    const std::string le = i < LatencyHistogram::kBoundsMicros.size()
                               ? MicrosAsSeconds(LatencyHistogram::kBoundsMicros[i])
                               : std::string("+Inf");
    AppendSeries(&f.series, f.name, "_bucket", labels, le, cumulative);
  }
  // _sum is a decimal number of seconds written exactly from the microsecond total.
  f.series.append(f.name);
  f.series.append("_sum");
  AppendLabels(&f.series, labels);
  f.series.push_back(' ');
  f.series.append(MicrosAsSeconds(snapshot.sum_micros));
  f.series.push_back('\n');
  // _count equals the +Inf bucket by construction.
  AppendSeries(&f.series, f.name, "_count", labels, {}, cumulative);
}

void MetricsWriter::Histogram(std::string_view name, std::string_view help, MetricLabels labels,
                              std::span<const engine::LatencyHistogram* const> shards) {
  engine::LatencyHistogram::Snapshot total;
  for (const engine::LatencyHistogram* h : shards) {
    if (h != nullptr) h->AddTo(&total);
  }
  Histogram(name, help, labels, total);
}

std::string_view MetricsWriter::TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void MetricsWriter::AppendTo(std::string* out) const {
  for (const Family& f : families_) {
    out->append("# HELP ");
    out->append(f.name);
    out->push_back(' ');
    AppendHelp(out, f.help);
    out->append("\n# TYPE ");
    out->append(f.name);
    out->push_back(' ');
    out->append(TypeName(f.type));
    out->push_back('\n');
    out->append(f.series);
  }
}

std::string MetricsWriter::Text() const {
  std::string out;
  AppendTo(&out);
  return out;
}

}  // namespace sipring::health

// File: health/metrics.h
//
// MetricsWriter: builds a Prometheus text exposition (format 0.0.4) at scrape time. Shards keep
// their own figures (engine::Counter, engine::LatencyHistogram; relaxed atomics, one writer
// each); the admin thread reads and sums them and writes one sample per series here.
//
//  - Series are grouped by family: the text format requires all lines of one metric family to be
//    contiguous, under one "# HELP" and one "# TYPE" line. Rather than make every caller emit a
//    family's series in one run, each family is buffered on its own and the families are joined
//    in the order each was first written: callers may loop over shards once and write several
//    families per shard.
//  - Label values are escaped as the format says (\\, \", \n); HELP text escapes \\ and \n.
//  - Names must match [a-zA-Z_:][a-zA-Z0-9_:]* (label names: no ':', no leading "__"). A bad name
//    is a programming error: SIPRING_DCHECK in debug builds; in release the offending bytes are
//    replaced with '_', because one malformed line makes Prometheus reject the whole scrape.
//  - Histograms render engine::LatencyHistogram in seconds, Prometheus' base unit: "le" bounds,
//    _sum and _count come from microsecond figures, formatted exactly (no float rounding).
//
// Allocation: the writer allocates freely (per-family strings); it runs on the admin thread,
// never on a shard.
//
// Ownership and threads: a MetricsWriter is a local of one scrape on the admin thread. Reading the
// shards' atomics from here is safe at any time; nothing here touches a shard otherwise.
//
// Example:
//   MetricsWriter w;
//   for (const Shard& s : shards) {
//     std::string id = absl::StrCat(s.id());
//     w.Counter("sipring_rx_datagrams_total", "Datagrams received.", {{"shard", id}},
//               s.counters().rx.Get());
//     w.Counter("sipring_rx_enobufs_total", "Receives that found no buffer.", {{"shard", id}},
//               s.counters().enobufs.Get());
//   }
//   w.Histogram("sipring_transaction_seconds", "Time to final response.", {}, shard_histograms);
//   *body = w.Text();
//   *content_type = kPrometheusContentType;
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/latency_histogram.h"

namespace sipring::health {

// Content-Type of the text exposition format written here.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// One label of a series. Views: the strings must outlive the MetricsWriter call.
struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

// A series' labels, from a braced list ({{"shard", "1"}, {"backend", name}}) or a span.
class MetricLabels {
 public:
  MetricLabels() = default;
  MetricLabels(std::initializer_list<MetricLabel> labels) : labels_(labels.begin(), labels.size()) {}
  MetricLabels(std::span<const MetricLabel> labels) : labels_(labels) {}

  std::span<const MetricLabel> span() const { return labels_; }

 private:
  std::span<const MetricLabel> labels_;
};

// A sample value: integers are written exactly in decimal; floating point in shortest
// round-trip form, NaN as "NaN" and infinities as "+Inf" / "-Inf".
class MetricValue {
 public:
  template <std::signed_integral T>
  MetricValue(T v) : kind_(Kind::kInt), int_(v) {}
  template <std::unsigned_integral T>
  MetricValue(T v) : kind_(Kind::kUint), uint_(v) {}
  template <std::floating_point T>
  MetricValue(T v) : kind_(Kind::kDouble), double_(static_cast<double>(v)) {}

  // Appends the value's text to `out`.
  void AppendTo(std::string* out) const;

 private:
  // Which member holds the value.
  enum class Kind : uint8_t {
    kInt,     // int_
    kUint,    // uint_
    kDouble,  // double_
  };
  Kind kind_;
  union {
    int64_t int_;
    uint64_t uint_;
    double double_;
  };
};

class MetricsWriter {
 public:
  MetricsWriter() = default;
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  // One sample of a counter / gauge family. The first call for a `name` fixes its type and help;
  // later calls with other labels add series to the same family (a different type is a bug:
  // DCHECK; in release the sample joins the family under its first type).
  void Counter(std::string_view name, std::string_view help, MetricLabels labels,
               MetricValue value);
  void Gauge(std::string_view name, std::string_view help, MetricLabels labels, MetricValue value);

  // One histogram series: name_bucket{...,le="..."} (cumulative), name_sum and name_count, in
  // seconds. `labels` must not contain "le".
  void Histogram(std::string_view name, std::string_view help, MetricLabels labels,
                 const engine::LatencyHistogram::Snapshot& snapshot);
  // Sums the shards' histograms (read now) and writes them as one series.
  void Histogram(std::string_view name, std::string_view help, MetricLabels labels,
                 std::span<const engine::LatencyHistogram* const> shards);

  // Appends the whole exposition to `out`: every family, in the order first written.
  void AppendTo(std::string* out) const;
  std::string Text() const;

  size_t family_count() const { return families_.size(); }

 private:
  // The family's TYPE.
  enum class Type : uint8_t {
    kCounter,    // "counter": only goes up (resets when the daemon restarts)
    kGauge,      // "gauge": goes up and down
    kHistogram,  // "histogram": _bucket / _sum / _count series
  };
  struct Family {
    std::string name;
    Type type;
    std::string help;
    std::string series;  // sample lines, each ending in '\n'
  };
  static std::string_view TypeName(Type type);
  // The family for `name`, created (with its HELP/TYPE) on first use.
  Family& FamilyFor(std::string_view name, std::string_view help, Type type);
  void Sample(std::string_view name, std::string_view help, Type type, MetricLabels labels,
              MetricValue value);

  std::vector<Family> families_;
  std::unordered_map<std::string, size_t> index_;  // family name -> families_ index
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus itself).
bool IsValidLabelName(std::string_view name);

// Microseconds as decimal seconds, exact and without trailing zeros: 50 -> "0.00005",
// 2500000 -> "2.5", 1000000 -> "1".
std::string MicrosAsSeconds(uint64_t micros);

}  // namespace sipring::health

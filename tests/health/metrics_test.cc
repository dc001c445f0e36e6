#include "health/metrics.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "engine/counter.h"
#include "engine/latency_histogram.h"

namespace sipring::health {
namespace {

using engine::LatencyHistogram;

TEST(MetricsWriterTest, ExactTextOfASmallRegistry) {
  MetricsWriter w;
  w.Counter("sipring_rx_datagrams_total", "Datagrams received.", {{"shard", "0"}}, 10u);
  w.Gauge("sipring_up", "1 while the daemon runs.", {}, 1);
  // Back to the first family after another one: it must stay in one group.
  w.Counter("sipring_rx_datagrams_total", "Datagrams received.", {{"shard", "1"}}, 5u);
  w.Gauge("sipring_pool_free_ratio", "Free share of the buffer pool.",
          {{"shard", "0"}, {"pool", "rx"}}, 0.25);
  EXPECT_EQ(w.family_count(), 3u);
  EXPECT_EQ(w.Text(),
            "# HELP sipring_rx_datagrams_total Datagrams received.\n"
            "# TYPE sipring_rx_datagrams_total counter\n"
            "sipring_rx_datagrams_total{shard=\"0\"} 10\n"
            "sipring_rx_datagrams_total{shard=\"1\"} 5\n"
            "# HELP sipring_up 1 while the daemon runs.\n"
            "# TYPE sipring_up gauge\n"
            "sipring_up 1\n"
            "# HELP sipring_pool_free_ratio Free share of the buffer pool.\n"
            "# TYPE sipring_pool_free_ratio gauge\n"
            "sipring_pool_free_ratio{shard=\"0\",pool=\"rx\"} 0.25\n");
}

TEST(MetricsWriterTest, AppendsToAnExistingString) {
  MetricsWriter w;
  w.Counter("a_total", "A.", {}, 1);
  std::string out = "prefix\n";
  w.AppendTo(&out);
  EXPECT_EQ(out, "prefix\n# HELP a_total A.\n# TYPE a_total counter\na_total 1\n");
}

TEST(MetricsWriterTest, Escaping) {
  MetricsWriter w;
  w.Gauge("sipring_backend_up", "Backend state.\nSecond line with a \\ backslash and \"quotes\".",
          {{"backend", "sip \"primary\"\\east\nrack 2"}}, 0);
  EXPECT_EQ(w.Text(),
            "# HELP sipring_backend_up Backend state.\\nSecond line with a \\\\ backslash and "
            "\"quotes\".\n"
            "# TYPE sipring_backend_up gauge\n"
            "sipring_backend_up{backend=\"sip \\\"primary\\\"\\\\east\\nrack 2\"} 0\n");
}

TEST(MetricsWriterTest, Values) {
  MetricsWriter w;
  w.Gauge("g", "h", {{"k", "max"}}, std::numeric_limits<uint64_t>::max());
  w.Gauge("g", "h", {{"k", "neg"}}, int64_t{-3});
  w.Gauge("g", "h", {{"k", "nan"}}, std::nan(""));
  w.Gauge("g", "h", {{"k", "inf"}}, std::numeric_limits<double>::infinity());
  w.Gauge("g", "h", {{"k", "minf"}}, -std::numeric_limits<double>::infinity());
  w.Gauge("g", "h", {{"k", "big"}}, 1e20);
  EXPECT_EQ(w.Text(),
            "# HELP g h\n# TYPE g gauge\n"
            "g{k=\"max\"} 18446744073709551615\n"
            "g{k=\"neg\"} -3\n"
            "g{k=\"nan\"} NaN\n"
            "g{k=\"inf\"} +Inf\n"
            "g{k=\"minf\"} -Inf\n"
            "g{k=\"big\"} 1e+20\n");
}

TEST(MetricsWriterTest, Names) {
  EXPECT_TRUE(IsValidMetricName("sipring_rx_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate:5m"));
  EXPECT_TRUE(IsValidMetricName("_x9"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("9lives"));
  EXPECT_FALSE(IsValidMetricName("has-dash"));
  EXPECT_FALSE(IsValidMetricName("has space"));
  EXPECT_TRUE(IsValidLabelName("shard"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("__reserved"));
  EXPECT_FALSE(IsValidLabelName("1x"));
}

#ifndef NDEBUG
TEST(MetricsWriterDeathTest, BadNamesAreCaughtInDebug) {
  EXPECT_DEATH({ MetricsWriter().Counter("bad-name", "h", {}, 1); }, "IsValidMetricName");
  EXPECT_DEATH({ MetricsWriter().Counter("ok", "h", {{"__x", "v"}}, 1); }, "IsValidLabelName");
  EXPECT_DEATH(
      {
        MetricsWriter w;
        w.Counter("same", "h", {}, 1);
        w.Gauge("same", "h", {}, 1);
      },
      "type");
}
#endif

#ifdef NDEBUG
// Release builds repair a bad name instead of breaking the whole scrape (debug builds DCHECK).
TEST(MetricsWriterTest, BadNamesAreRepairedInRelease) {
  MetricsWriter w;
  w.Counter("9bad-name", "h", {{"bad-label", "v"}}, 1);
  EXPECT_EQ(w.Text(), "# HELP _9bad_name h\n# TYPE _9bad_name counter\n_9bad_name{bad_label=\"v\"} 1\n");
}
#endif

TEST(MetricsWriterTest, LabelsFromASpan) {
  std::vector<MetricLabel> labels = {{"a", "1"}, {"b", "2"}};
  MetricsWriter w;
  w.Counter("c_total", "h", std::span<const MetricLabel>(labels), 3);
  EXPECT_EQ(w.Text(), "# HELP c_total h\n# TYPE c_total counter\nc_total{a=\"1\",b=\"2\"} 3\n");
}

TEST(MetricsWriterTest, MicrosAsSeconds) {
  EXPECT_EQ(MicrosAsSeconds(0), "0");
  EXPECT_EQ(MicrosAsSeconds(50), "0.00005");
  EXPECT_EQ(MicrosAsSeconds(2'500), "0.0025");
  EXPECT_EQ(MicrosAsSeconds(1'000'000), "1");
  EXPECT_EQ(MicrosAsSeconds(2'500'000), "2.5");
  EXPECT_EQ(MicrosAsSeconds(123'000'001), "123.000001");
}

TEST(MetricsWriterTest, HistogramMergesShardsCumulatively) {
  LatencyHistogram shard0, shard1;
  shard0.Record(40);       // le 0.00005
  shard0.Record(300);      // le 0.0005
  shard1.Record(1'000);    // le 0.001 (bounds are inclusive)
  shard1.Record(300'000);  // +Inf
  std::array<const LatencyHistogram*, 2> shards = {&shard0, &shard1};
  MetricsWriter w;
  w.Histogram("sipring_transaction_seconds", "Time to final response.", {{"method", "INVITE"}},
              shards);
  EXPECT_EQ(w.Text(),
            "# HELP sipring_transaction_seconds Time to final response.\n"
            "# TYPE sipring_transaction_seconds histogram\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.00005\"} 1\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.0001\"} 1\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.00025\"} 1\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.0005\"} 2\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.001\"} 3\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.0025\"} 3\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.005\"} 3\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.01\"} 3\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.025\"} 3\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.05\"} 3\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.1\"} 3\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"0.25\"} 3\n"
            "sipring_transaction_seconds_bucket{method=\"INVITE\",le=\"+Inf\"} 4\n"
            "sipring_transaction_seconds_sum{method=\"INVITE\"} 0.30134\n"
            "sipring_transaction_seconds_count{method=\"INVITE\"} 4\n");
}

TEST(MetricsWriterTest, HistogramWithoutLabelsAndSeveralSeries) {
  LatencyHistogram::Snapshot empty;
  LatencyHistogram::Snapshot one;
  one.buckets[0] = 1;
  one.sum_micros = 7;
  MetricsWriter w;
  w.Histogram("h_seconds", "H.", {}, empty);
  w.Histogram("h_seconds", "H.", {{"shard", "1"}}, one);
  const std::string text = w.Text();
  EXPECT_EQ(text.find("# HELP h_seconds"), 0u);
  EXPECT_EQ(text.find("# HELP", 1), std::string::npos);  // one HELP for both series
  EXPECT_NE(text.find("\nh_seconds_bucket{le=\"+Inf\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nh_seconds_sum 0\nh_seconds_count 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nh_seconds_bucket{shard=\"1\",le=\"0.00005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("\nh_seconds_sum{shard=\"1\"} 0.000007\n"), std::string::npos) << text;
}

// Value of the first line starting with `prefix` followed by a space, or -1.
double ValueOf(const std::string& text, const std::string& prefix) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    if (line.size() > prefix.size() && line.compare(0, prefix.size(), prefix) == 0 &&
        line[prefix.size()] == ' ') {
      return std::stod(line.substr(prefix.size() + 1));
    }
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return -1;
}

// A shard thread records while the admin thread renders: every rendered figure is monotonic,
// buckets are cumulative in each render, and _count equals the +Inf bucket.
TEST(MetricsWriterTest, RenderWhileAShardRecords) {
  LatencyHistogram hist;
  engine::Counter requests;
  constexpr uint64_t kN = 1'000'000;
  std::atomic<bool> done{false};
  std::atomic<bool> rendered_once{false};
  std::thread shard([&] {
    // Start recording only once the admin side has rendered, so the two really overlap.
    while (!rendered_once.load()) std::this_thread::yield();
    for (uint64_t i = 0; i < kN; ++i) {
      hist.Record((i * 7919) % 400'000);
      requests.Add();
    }
    done.store(true);
  });
  const std::array<const LatencyHistogram*, 1> shards = {&hist};
  std::vector<std::string> les;
  for (uint64_t b : LatencyHistogram::kBoundsMicros) les.push_back(MicrosAsSeconds(b));
  les.push_back("+Inf");
  std::vector<double> prev(les.size() + 3, 0);
  int renders = 0;
  bool last = false;
  while (!last) {
    last = done.load();
    MetricsWriter w;
    w.Counter("requests_total", "R.", {}, requests.Get());
    w.Histogram("lat_seconds", "L.", {}, shards);
    const std::string text = w.Text();
    std::vector<double> now;
    for (const std::string& le : les) now.push_back(ValueOf(text, "lat_seconds_bucket{le=\"" + le + "\"}"));
    now.push_back(ValueOf(text, "lat_seconds_count"));
    now.push_back(ValueOf(text, "lat_seconds_sum"));
    now.push_back(ValueOf(text, "requests_total"));
    for (size_t i = 0; i < now.size(); ++i) {
      ASSERT_GE(now[i], 0) << text;
      ASSERT_GE(now[i], prev[i]) << "series " << i << " went down\n" << text;
    }
    for (size_t i = 1; i < les.size(); ++i) ASSERT_GE(now[i], now[i - 1]) << text;
    ASSERT_EQ(now[les.size()], now[les.size() - 1]) << "_count != +Inf bucket";
    prev = now;
    ++renders;
    rendered_once.store(true);
  }
  shard.join();
  EXPECT_EQ(prev[les.size()], static_cast<double>(kN));
  EXPECT_EQ(prev[les.size() + 2], static_cast<double>(kN));
  EXPECT_GT(renders, 1);
}

}  // namespace
}  // namespace sipring::health

#include "tools/sipload/load_stats.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/status.h"

namespace sipring::sipload {

std::string_view FailReasonName(FailReason r) {
  switch (r) {
    case FailReason::kTimeout: return "timeout";
    case FailReason::kByeTimeout: return "bye_timeout";
    case FailReason::kStatus: return "status";
    case FailReason::kByeStatus: return "bye_status";
    case FailReason::kNoSlot: return "no_slot";
    case FailReason::kSendFailed: return "send_failed";
    case FailReason::kBadDialog: return "bad_dialog";
    case FailReason::kInterrupted: return "interrupted";
    case FailReason::kCount: break;
  }
  return "?";
}

std::string_view UasStats::MethodName(int m) {
  static constexpr std::string_view kNames[kMethods] = {"INVITE", "ACK",      "BYE",  "CANCEL",
                                                        "OPTIONS", "REGISTER", "other"};
  return m >= 0 && m < kMethods ? kNames[m] : "?";
}

LatencySummary Summarize(const engine::LogLinearHistogram& h) {
  LatencySummary s;
  s.count = h.count();
  s.min = h.min();
  s.max = h.max();
  s.mean = h.mean();
  s.p50 = h.ValueAtPercentile(50);
  s.p90 = h.ValueAtPercentile(90);
  s.p99 = h.ValueAtPercentile(99);
  s.p999 = h.ValueAtPercentile(99.9);
  return s;
}

namespace {

// Adds one shard's step into a report step and its histogram; tracks the span of due times.
struct StepAccumulator {
  StepReport report;
  engine::LogLinearHistogram latency = MakeLatencyHistogram();
  engine::LogLinearHistogram send_lag = MakeLatencyHistogram();
  uint64_t first_due = UINT64_MAX, last_due = 0, last_success = 0;

  void Add(const StepStats& s) {
    report.attempts += s.attempts;
    report.successes += s.successes;
    report.failures += s.failures;
    for (size_t i = 0; i < kFailReasonCount; ++i) report.by_reason[i] += s.by_reason[i];
    for (int c = 0; c < kMaxStatus; ++c) {
      report.by_code[c] += s.by_code[c];
      report.bye_by_code[c] += s.bye_by_code[c];
    }
    latency.Add(s.latency_us);
    send_lag.Add(s.send_lag_us);
    if (s.attempts) {
      first_due = std::min(first_due, s.first_due_ns);
      last_due = std::max(last_due, s.last_due_ns);
    }
    last_success = std::max(last_success, s.last_success_ns);
  }
  // `rate` is the offered rate: with one call gap per shard added, the span of due times of
  // N calls at that rate is exactly N / rate, so a step cut short by --calls still reads right.
  StepReport Finish(double rate, double duration_s, int threads) {
    report.rate = rate;
    report.latency = Summarize(latency);
    report.send_lag = Summarize(send_lag);
    double active_s = duration_s;
    if (report.attempts > 0 && last_due >= first_due && rate > 0) {
      active_s = std::min(duration_s, double(last_due - first_due) / 1e9 + double(threads) / rate);
    }
    report.duration_s = active_s;
    report.achieved_rate = active_s > 0 ? double(report.attempts) / active_s : 0;
    double completing_s = active_s;
    if (report.successes > 0 && last_success > first_due && rate > 0) {
      completing_s = std::max(active_s, double(last_success - first_due) / 1e9);
    }
    report.goodput = completing_s > 0 ? double(report.successes) / completing_s : 0;
    return report;
  }
};

std::string LatencyText(const LatencySummary& l) {
  return absl::StrFormat("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (n=%d)",
                         absl::StrCat(l.p50, "us"), absl::StrCat(l.p90, "us"),
                         absl::StrCat(l.p99, "us"), absl::StrCat(l.p999, "us"),
                         absl::StrCat(l.max, "us"), l.count);
}

std::string LatencyJson(const LatencySummary& l) {
  return absl::StrFormat(
      "{\"count\": %d, \"min\": %d, \"mean\": %.1f, \"p50\": %d, \"p90\": %d, \"p99\": %d, "
      "\"p99.9\": %d, \"max\": %d}",
      l.count, l.min, l.mean, l.p50, l.p90, l.p99, l.p999, l.max);
}

std::string CodesJson(const std::array<uint64_t, kMaxStatus>& codes) {
  std::string out = "{";
  bool first = true;
  for (int c = 0; c < kMaxStatus; ++c) {
    if (!codes[c]) continue;
    absl::StrAppend(&out, first ? "" : ", ", "\"", c, "\": ", codes[c]);
    first = false;
  }
  return out + "}";
}

std::string StepJson(const StepReport& s) {
  std::string reasons = "{";
  for (size_t i = 0; i < kFailReasonCount; ++i) {
    absl::StrAppend(&reasons, i ? ", " : "", "\"", ToAbsl(FailReasonName(static_cast<FailReason>(i))),
                    "\": ", s.by_reason[i]);
  }
  reasons += "}";
  return absl::StrFormat(
      "{\"offered_rate\": %.3f, \"duration_s\": %.3f, \"attempts\": %d, \"successes\": %d, "
      "\"failures\": %d, \"achieved_rate\": %.3f, \"goodput\": %.3f, \"failures_by_reason\": %s, "
      "\"failures_by_code\": %s, \"bye_failures_by_code\": %s, \"latency_us\": %s, "
      "\"send_lag_us\": %s}",
      s.rate, s.duration_s, s.attempts, s.successes, s.failures, s.achieved_rate, s.goodput,
      reasons, CodesJson(s.by_code), CodesJson(s.bye_by_code), LatencyJson(s.latency),
      LatencyJson(s.send_lag));
}

std::string FailuresText(const StepReport& s) {
  std::string out;
  for (size_t i = 0; i < kFailReasonCount; ++i) {
    const auto r = static_cast<FailReason>(i);
    if (!s.by_reason[i] || r == FailReason::kStatus || r == FailReason::kByeStatus) continue;
    absl::StrAppend(&out, " ", ToAbsl(FailReasonName(r)), "=", s.by_reason[i]);
  }
  for (int c = 0; c < kMaxStatus; ++c) {
    if (s.by_code[c]) absl::StrAppend(&out, " ", c, "=", s.by_code[c]);
  }
  for (int c = 0; c < kMaxStatus; ++c) {
    if (s.bye_by_code[c]) absl::StrAppend(&out, " BYE-", c, "=", s.bye_by_code[c]);
  }
  return out.empty() ? " none" : out;
}

}  // namespace

UacReport MergeUac(const UacOptions& options, const std::vector<const UacStats*>& shards,
                   double elapsed_s) {
  UacReport r;
  r.target = options.target.ToString();
  r.scenario = options.scenario;
  r.threads = options.threads;
  r.sources = options.sources;
  r.elapsed_s = elapsed_s;
  StepAccumulator total;
  double offered_calls = 0, offered_s = 0;
  for (size_t k = 0; k < options.steps.size(); ++k) {
    StepAccumulator step;
    for (const UacStats* s : shards) {
      if (k < s->steps.size()) {
        step.Add(s->steps[k]);
        total.Add(s->steps[k]);
      }
    }
    const RateStep& rs = options.steps[k];
    r.steps.push_back(step.Finish(rs.rate, rs.duration_s, options.threads));
    offered_calls += rs.rate * rs.duration_s;
    offered_s += rs.duration_s;
  }
  r.total = total.Finish(offered_s > 0 ? offered_calls / offered_s : 0, offered_s, options.threads);
  for (const UacStats* s : shards) {
    r.retransmissions += s->retransmissions.Get();
    r.stale += s->stale.Get();
    r.unparsable += s->unparsable.Get();
    for (int c = 0; c < kMaxStatus; ++c) r.responses[c] += s->responses[c];
  }
  return r;
}

std::string UacReportText(const UacReport& r) {
  std::string out = absl::StrFormat(
      "sipload uac: %s to %s, %d thread(s), %d source socket(s), %.2f s\n",
      ScenarioName(r.scenario), r.target, r.threads, r.sources, r.elapsed_s);
  const StepReport& t = r.total;
  absl::StrAppend(&out,
                  absl::StrFormat("  attempts %d  successes %d  failures %d (%.3f%%)\n", t.attempts,
                                  t.successes, t.failures,
                                  t.attempts ? 100.0 * double(t.failures) / double(t.attempts) : 0.0));
  absl::StrAppend(&out, "  failures by reason:", FailuresText(t), "\n");
  absl::StrAppend(&out, absl::StrFormat("  retransmissions %d  stale responses %d  unparsable %d\n",
                                        r.retransmissions, r.stale, r.unparsable));
  absl::StrAppend(&out, absl::StrFormat("  offered %.1f/s  achieved %.1f/s  goodput %.1f/s\n", t.rate,
                                        t.achieved_rate, t.goodput));
  absl::StrAppend(&out, "  latency ", LatencyText(t.latency), "\n");
  absl::StrAppend(&out, "  send lag ", LatencyText(t.send_lag), "\n");
  if (r.steps.size() > 1) {
    for (size_t k = 0; k < r.steps.size(); ++k) {
      const StepReport& s = r.steps[k];
      absl::StrAppend(
          &out,
          absl::StrFormat("  step %d: offered %.1f/s achieved %.1f/s  attempts %d ok %d failed %d;",
                          k + 1, s.rate, s.achieved_rate, s.attempts, s.successes, s.failures),
          FailuresText(s), "\n          latency ", LatencyText(s.latency), "\n");
    }
  }
  return out;
}

std::string UacReportJson(const UacReport& r) {
  std::string steps = "[";
  for (size_t k = 0; k < r.steps.size(); ++k) {
    absl::StrAppend(&steps, k ? ", " : "", StepJson(r.steps[k]));
  }
  steps += "]";
  return absl::StrFormat(
      "{\"tool\": \"sipload\", \"role\": \"uac\", \"scenario\": \"%s\", \"target\": \"%s\", "
      "\"threads\": %d, \"sources\": %d, \"elapsed_s\": %.3f, \"retransmissions\": %d, "
      "\"stale_responses\": %d, \"unparsable\": %d, \"responses_by_code\": %s, \"total\": %s, "
      "\"steps\": %s}\n",
      ScenarioName(r.scenario), r.target, r.threads, r.sources, r.elapsed_s, r.retransmissions,
      r.stale, r.unparsable, CodesJson(r.responses), StepJson(r.total), steps);
}

UasReport MergeUas(const std::vector<const UasStats*>& shards, double elapsed_s) {
  UasReport r;
  r.elapsed_s = elapsed_s;
  for (const UasStats* s : shards) {
    for (int m = 0; m < UasStats::kMethods; ++m) {
      r.received[m] += s->received[m].Get();
      r.duplicates[m] += s->duplicates[m].Get();
    }
    r.dropped += s->dropped.Get();
    r.failed += s->failed.Get();
    r.cancelled += s->cancelled.Get();
    r.responses_sent += s->responses_sent.Get();
    r.responses_received += s->responses_received.Get();
    r.unparsable += s->unparsable.Get();
    r.delay_overflow += s->delay_overflow.Get();
    r.send_failed += s->send_failed.Get();
  }
  return r;
}

std::string UasReportText(const UasReport& r) {
  std::string out = absl::StrFormat("sipload uas: %.2f s\n  received (retransmissions):", r.elapsed_s);
  for (int m = 0; m < UasStats::kMethods; ++m) {
    absl::StrAppend(&out, " ", ToAbsl(UasStats::MethodName(m)), "=", r.received[m], " (", r.duplicates[m], ")");
  }
  absl::StrAppend(&out,
                  absl::StrFormat("\n  dropped %d  failed %d  cancelled %d  responses sent %d  "
                                  "responses received %d  unparsable %d  delay overflow %d  "
                                  "send failed %d\n",
                                  r.dropped, r.failed, r.cancelled, r.responses_sent,
                                  r.responses_received, r.unparsable, r.delay_overflow,
                                  r.send_failed));
  return out;
}

std::string UasReportJson(const UasReport& r) {
  std::string received = "{", duplicates = "{";
  for (int m = 0; m < UasStats::kMethods; ++m) {
    absl::StrAppend(&received, m ? ", " : "", "\"", ToAbsl(UasStats::MethodName(m)), "\": ", r.received[m]);
    absl::StrAppend(&duplicates, m ? ", " : "", "\"", ToAbsl(UasStats::MethodName(m)), "\": ", r.duplicates[m]);
  }
  return absl::StrFormat(
      "{\"tool\": \"sipload\", \"role\": \"uas\", \"elapsed_s\": %.3f, \"received\": %s}, "
      "\"duplicates\": %s}, \"dropped\": %d, \"failed\": %d, \"cancelled\": %d, "
      "\"responses_sent\": %d, \"responses_received\": %d, \"unparsable\": %d, "
      "\"delay_overflow\": %d, \"send_failed\": %d}\n",
      r.elapsed_s, received, duplicates, r.dropped, r.failed, r.cancelled, r.responses_sent,
      r.responses_received, r.unparsable, r.delay_overflow, r.send_failed);
}

}  // namespace sipring::sipload

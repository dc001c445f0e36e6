// sip_bench: Google Benchmark figures for the SIP message layer (sip/): parsing a typical INVITE
// (~900 bytes, 12 headers) and a 200 OK with every header indexed and the proxy's headers
// parsed, the verdict, the stream framer, building a forwarded request (gather list, and
// flattened) and building a response. Each benchmark also reports allocations per message,
// counted by replacing the global operator new in this binary (expected: 0).
//
//   cmake --build build/release --target sip_bench && build/release/tools/bench/sip_bench
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "sip/forwarder.h"
#include "sip/parser.h"
#include "sip/request_check.h"
#include "sip/response_builder.h"
#include "sip/stream_framer.h"
#include "tests/testing/alloc_counter.h"


namespace sipring::sip {
namespace {

constexpr std::string_view kSdp =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 198.51.100.10\r\n"
    "s=Session SDP\r\n"
    "c=IN IP4 198.51.100.10\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 18 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

// A typical INVITE from a UA through one proxy: 12 headers, an SDP body, ~900 bytes.
std::string TypicalInvite() {
  std::string m =
      "INVITE sip:+15551234567@sip.example.com;user=phone SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK3c5f1a92e07d4b6a;rport\r\n"
      "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK-524287-1---77ba3b7b3f2c1a0f;received=198.51.100.10;rport=5060\r\n"
      "Max-Forwards: 69\r\n"
      "Record-Route: <sip:203.0.113.5;lr>\r\n"
      "Contact: <sip:alice@198.51.100.10:5060;transport=udp>\r\n"
      "To: <sip:+15551234567@sip.example.com;user=phone>\r\n"
      "From: \"Alice Example\" <sip:alice@example.com>;tag=9fxced76sl\r\n"
      "Call-ID: 3848276298220188511@198.51.100.10\r\n"
      "CSeq: 1 INVITE\r\n"
      "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO\r\n"
      "Content-Type: application/sdp\r\n"
      "Content-Length: ";
  m += std::to_string(kSdp.size());
  m += "\r\n\r\n";
  m += kSdp;
  return m;
}

std::string Typical200() {
  return "SIP/2.0 200 OK\r\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsr0123456789abcdef\r\n"
         "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK3c5f1a92e07d4b6a;rport=5060\r\n"
         "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK-524287-1---77ba3b7b3f2c1a0f;received=198.51.100.10;rport=5060\r\n"
         "Record-Route: <sip:192.0.2.1:5060;lr;be=3>\r\n"
         "Record-Route: <sip:203.0.113.5;lr>\r\n"
         "Contact: <sip:bob@192.0.2.55:5060>\r\n"
         "To: <sip:+15551234567@sip.example.com;user=phone>;tag=as6b7c8d9e\r\n"
         "From: \"Alice Example\" <sip:alice@example.com>;tag=9fxced76sl\r\n"
         "Call-ID: 3848276298220188511@198.51.100.10\r\n"
         "CSeq: 1 INVITE\r\n"
         "Content-Type: application/sdp\r\n"
         "Content-Length: " +
         std::to_string(kSdp.size()) + "\r\n\r\n" + std::string(kSdp);
}

void ReportAllocations(benchmark::State& state, long before) {
  state.counters["allocs_per_msg"] = benchmark::Counter(
      static_cast<double>(sipring::testing::AllocationCount() - before), benchmark::Counter::kAvgIterations);
}

void ParseBench(benchmark::State& state, const std::string& bytes) {
  Message* msg = new Message();
  const ParseLimits limits;
  const long before = sipring::testing::AllocationCount();
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes.data());
    const ParseError err = Parse(bytes, limits, msg);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(msg->cseq.number);
    if (err != ParseError::kOk) state.SkipWithError("parse failed");
  }
  ReportAllocations(state, before);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  state.counters["bytes"] = static_cast<double>(bytes.size());
  state.counters["headers"] = msg->header_count;
  delete msg;
}

void BM_ParseInvite(benchmark::State& state) { ParseBench(state, TypicalInvite()); }
BENCHMARK(BM_ParseInvite);

void BM_Parse200Ok(benchmark::State& state) { ParseBench(state, Typical200()); }
BENCHMARK(BM_Parse200Ok);

void BM_ParseAndCheckInvite(benchmark::State& state) {
  const std::string bytes = TypicalInvite();
  Message* msg = new Message();
  const ParseLimits limits;
  const CheckOptions options;
  const long before = sipring::testing::AllocationCount();
  for (auto _ : state) {
    const ParseError err = Parse(bytes, limits, msg);
    const Verdict v = CheckRequest(*msg, err, options);
    benchmark::DoNotOptimize(v.action);
  }
  ReportAllocations(state, before);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  delete msg;
}
BENCHMARK(BM_ParseAndCheckInvite);

void BM_FrameStreamInvite(benchmark::State& state) {
  const std::string bytes = TypicalInvite();
  const ParseLimits limits;
  const long before = sipring::testing::AllocationCount();
  for (auto _ : state) {
    const FrameResult f = FrameStream(bytes, limits);
    benchmark::DoNotOptimize(f.length);
  }
  ReportAllocations(state, before);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_FrameStreamInvite);

ForwardOptions BenchForwardOptions() {
  ForwardOptions o;
  o.local_host = "192.0.2.1";
  o.local_port = 5060;
  o.transport = "UDP";
  o.record_route = true;
  o.record_route_param = "be=3";
  return o;
}

// Building the forwarded request's gather list (the message is parsed once, outside the loop).
void BM_ForwardInvite(benchmark::State& state) {
  const std::string bytes = TypicalInvite();
  Message* msg = new Message();
  if (Parse(bytes, ParseLimits(), msg) != ParseError::kOk) state.SkipWithError("parse failed");
  const ForwardOptions o = BenchForwardOptions();
  char scratch[kForwardScratchSize];
  const long before = sipring::testing::AllocationCount();
  for (auto _ : state) {
    GatherList list;
    const ForwardError e = ForwardRequest(*msg, o, scratch, &list);
    benchmark::DoNotOptimize(e);
    benchmark::DoNotOptimize(list.total);
  }
  ReportAllocations(state, before);
  delete msg;
}
BENCHMARK(BM_ForwardInvite);

// The whole receive path for a forwarded INVITE: parse, verdict, gather list, flat copy.
void BM_ParseCheckForwardFlattenInvite(benchmark::State& state) {
  const std::string bytes = TypicalInvite();
  Message* msg = new Message();
  const ParseLimits limits;
  const CheckOptions options;
  const ForwardOptions o = BenchForwardOptions();
  char scratch[kForwardScratchSize];
  char flat[2048];
  const long before = sipring::testing::AllocationCount();
  for (auto _ : state) {
    const ParseError err = Parse(bytes, limits, msg);
    const Verdict v = CheckRequest(*msg, err, options);
    GatherList list;
    if (v.action != Verdict::Action::kForward || ForwardRequest(*msg, o, scratch, &list) != ForwardError::kOk) {
      state.SkipWithError("forward failed");
      break;
    }
    benchmark::DoNotOptimize(Flatten(list, flat));
  }
  ReportAllocations(state, before);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  delete msg;
}
BENCHMARK(BM_ParseCheckForwardFlattenInvite);

void BM_Forward200Ok(benchmark::State& state) {
  const std::string bytes = Typical200();
  Message* msg = new Message();
  if (Parse(bytes, ParseLimits(), msg) != ParseError::kOk) state.SkipWithError("parse failed");
  const long before = sipring::testing::AllocationCount();
  for (auto _ : state) {
    GatherList list;
    benchmark::DoNotOptimize(ForwardResponse(*msg, &list));
    benchmark::DoNotOptimize(list.total);
  }
  ReportAllocations(state, before);
  delete msg;
}
BENCHMARK(BM_Forward200Ok);

void BM_Build503ForInvite(benchmark::State& state) {
  const std::string bytes = TypicalInvite();
  Message* msg = new Message();
  if (Parse(bytes, ParseLimits(), msg) != ParseError::kOk) state.SkipWithError("parse failed");
  ResponseSpec spec;
  spec.status = 503;
  spec.retry_after = 5;
  char out[2048];
  const long before = sipring::testing::AllocationCount();
  for (auto _ : state) {
    const BuildResult r = BuildResponse(*msg, spec, out);
    benchmark::DoNotOptimize(r.size);
  }
  ReportAllocations(state, before);
  delete msg;
}
BENCHMARK(BM_Build503ForInvite);

// For instruction counts under callgrind: parse one message `n` times, nothing else; or parse it
// once and build its forwarded form `n` times (the INVITE as BM_ForwardInvite, the 200 OK as
// BM_Forward200Ok).
//   valgrind --tool=callgrind sip_bench --parse_loop=20000 [--200]
//   valgrind --tool=callgrind sip_bench --forward_loop=20000 [--200]
// then subtract a run with n = 0 and divide by n.
int ParseLoop(long n, bool response) {
  const std::string bytes = response ? Typical200() : TypicalInvite();
  Message* msg = new Message();
  const ParseLimits limits;
  long failures = 0;
  for (long i = 0; i < n; ++i) failures += Parse(bytes, limits, msg) != ParseError::kOk;
  delete msg;
  return failures == 0 ? 0 : 1;
}

int ForwardLoop(long n, bool response) {
  const std::string bytes = response ? Typical200() : TypicalInvite();
  Message* msg = new Message();
  long failures = Parse(bytes, ParseLimits(), msg) != ParseError::kOk;
  const ForwardOptions o = BenchForwardOptions();
  char scratch[kForwardScratchSize];
  for (long i = 0; i < n; ++i) {
    GatherList list;
    failures += (response ? ForwardResponse(*msg, &list) : ForwardRequest(*msg, o, scratch, &list)) !=
                ForwardError::kOk;
  }
  delete msg;
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace sipring::sip

int main(int argc, char** argv) {
  constexpr std::string_view kParseLoop = "--parse_loop=";
  constexpr std::string_view kForwardLoop = "--forward_loop=";
  const bool response = argc == 3 && std::string_view(argv[2]) == "--200";
  if (argc >= 2 && std::string_view(argv[1]).substr(0, kParseLoop.size()) == kParseLoop) {
    return sipring::sip::ParseLoop(std::atol(argv[1] + kParseLoop.size()), response);
  }
  if (argc >= 2 && std::string_view(argv[1]).substr(0, kForwardLoop.size()) == kForwardLoop) {
    return sipring::sip::ForwardLoop(std::atol(argv[1] + kForwardLoop.size()), response);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

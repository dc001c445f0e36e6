// Proves the per-message path allocates nothing: this binary replaces the global operator new
// and counts calls while parsing, judging, rewriting and answering every torture message.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sip/forwarder.h"
#include "sip/parser.h"
#include "sip/request_check.h"
#include "sip/response_builder.h"
#include "sip/stream_framer.h"
#include "tests/testing/alloc_counter.h"
#include "tests/sip/torture_corpus.h"


namespace sipring::sip {
namespace {

TEST(ParserAllocTest, TortureCorpusPathAllocatesNothing) {
  const long at_start = sipring::testing::AllocationCount();
  std::vector<std::string> corpus;
  for (const auto& e : testing::ReadTortureManifest()) corpus.push_back(testing::ReadTortureFile(e.file));
  ASSERT_EQ(corpus.size(), 61u);
  ASSERT_GT(sipring::testing::AllocationCount(), at_start) << "the counting operator new is not in use";
  auto msg = std::make_unique<Message>();
  auto out = std::make_unique<Message>();
  const ParseLimits limits;
  const CheckOptions options;
  ForwardOptions fwd;
  fwd.local_host = "lb.example.net";
  fwd.local_port = 5060;
  fwd.transport = "UDP";
  fwd.record_route = true;
  fwd.record_route_param = "be=3";
  std::vector<char> scratch(kForwardScratchSize);
  std::vector<char> flat(70000);
  std::vector<char> response(8192);
  // Warm up once so lazily initialised statics (e.g. in gtest) do not count.
  (void)Parse(corpus[0], limits, msg.get());

  const long before = sipring::testing::AllocationCount();
  int parsed_ok = 0, forwarded = 0, answered = 0;
  for (std::string& bytes : corpus) {
    (void)FrameStream(bytes, limits);
    const ParseError err = Parse(bytes, limits, msg.get());
    parsed_ok += err == ParseError::kOk;
    const Verdict v = msg->IsResponse() ? CheckResponse(*msg, err) : CheckRequest(*msg, err, options);
    if (v.action == Verdict::Action::kRespond) {
      const BuildResult r = BuildResponse(*msg, ResponseSpecFor(v), response);
      answered += r.error == BuildError::kOk;
    } else if (v.action == Verdict::Action::kForward) {
      GatherList list;
      const ForwardError fe = msg->IsRequest() ? ForwardRequest(*msg, fwd, scratch, &list)
                                               : ForwardResponse(*msg, &list);
      if (fe == ForwardError::kOk) {
        const size_t n = Flatten(list, flat);
        forwarded += Parse(std::string_view(flat.data(), n), limits, out.get()) == ParseError::kOk;
      }
    }
  }
  const long after = sipring::testing::AllocationCount();
  EXPECT_EQ(after - before, 0) << "allocations on the per-message path";
  EXPECT_GT(parsed_ok, 40);
  EXPECT_GT(forwarded, 30);
  EXPECT_GT(answered, 20);
}

}  // namespace
}  // namespace sipring::sip

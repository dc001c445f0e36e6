// sipload's command line (tools/sipload/load_options.h): defaults, the bounded schedule, rate
// steps, source address ranges, the call table's size, and errors that name the flag.
#include "tools/sipload/load_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipring::sipload {
namespace {

absl::StatusOr<UacOptions> Uac(std::vector<std::string_view> args) { return ParseUacArgs(args); }

TEST(SiploadOptionsTest, UacDefaultsAreBounded) {
  absl::StatusOr<UacOptions> o = Uac({"--target", "127.0.0.1:5060"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->scenario, Scenario::kCall);
  EXPECT_EQ(o->calls, 10000u);
  EXPECT_DOUBLE_EQ(o->duration_s, 60);
  ASSERT_EQ(o->steps.size(), 1u);
  EXPECT_DOUBLE_EQ(o->steps[0].rate, 100);
  EXPECT_EQ(o->TimeoutMs(), 64u * 500);
  EXPECT_EQ(o->DrainMs(), 2u * 64 * 500);
  EXPECT_EQ(o->sources, 4);
  ASSERT_EQ(o->source_ips.size(), 1u);
  EXPECT_EQ(o->source_ips[0].ToString(), "127.0.0.1:0");
}

TEST(SiploadOptionsTest, RateStepsMakeTheSchedule) {
  absl::StatusOr<UacOptions> o =
      Uac({"--target", "127.0.0.1:5060", "--rate-steps", "1000,2000,4000", "--step-s", "5"});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->steps.size(), 3u);
  EXPECT_DOUBLE_EQ(o->steps[2].rate, 4000);
  EXPECT_DOUBLE_EQ(o->steps[2].duration_s, 5);
  EXPECT_DOUBLE_EQ(o->duration_s, 15);
  EXPECT_DOUBLE_EQ(o->PeakRate(), 4000);
  // An explicit, shorter duration still cuts the schedule.
  o = Uac({"--target", "127.0.0.1:5060", "--rate-steps", "10,20", "--step-s", "5", "--duration-s", "7"});
  ASSERT_TRUE(o.ok());
  EXPECT_DOUBLE_EQ(o->duration_s, 7);
}

TEST(SiploadOptionsTest, SourceIpRangesAndLists) {
  absl::StatusOr<std::vector<transports::SockAddr>> r = ParseSourceIps("127.0.0.1-127.0.0.8");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 8u);
  EXPECT_EQ((*r)[0].HostText(), "127.0.0.1");
  EXPECT_EQ((*r)[7].HostText(), "127.0.0.8");
  r = ParseSourceIps("127.0.0.1,127.0.0.5");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);
  EXPECT_FALSE(ParseSourceIps("127.0.0.9-127.0.0.1").ok());
  EXPECT_FALSE(ParseSourceIps("127.0.0.1-127.0.2.1").ok()) << "more than 256";
  EXPECT_FALSE(ParseSourceIps("localhost").ok());
  EXPECT_FALSE(Uac({"--target", "127.0.0.1:5060", "--source-ips", "::1"}).ok())
      << "sources must be of the target's family";
}

TEST(SiploadOptionsTest, CallTableFollowsRateAndLifetime) {
  absl::StatusOr<UacOptions> o = Uac({"--target", "127.0.0.1:5060", "--rate", "1000", "--calls",
                                      "1000000", "--hold-ms", "2000", "--timeout-ms", "4000"});
  ASSERT_TRUE(o.ok());
  // 1000/s x (4 s setup + 2 s hold + 4 s BYE) x 1.25 + 256.
  EXPECT_EQ(o->MaxCallsInFlight(), 12756u);
  // Never more than the calls of the run; an explicit size wins.
  o = Uac({"--target", "127.0.0.1:5060", "--rate", "1000", "--calls", "50"});
  EXPECT_EQ(o->MaxCallsInFlight(), 50u);
  o = Uac({"--target", "127.0.0.1:5060", "--max-calls-in-flight", "77"});
  EXPECT_EQ(o->MaxCallsInFlight(), 77u);
}

TEST(SiploadOptionsTest, ErrorsNameTheFlag) {
  struct Case {
    std::vector<std::string_view> args;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {{"--rate", "10"}, "--target"},
      {{"--target", "127.0.0.1"}, "--target"},
      {{"--target", "127.0.0.1:0"}, "--target"},
      {{"--target", "127.0.0.1:5060", "--rate", "0"}, "--rate"},
      {{"--target", "127.0.0.1:5060", "--calls", "x"}, "--calls"},
      {{"--target", "127.0.0.1:5060", "--scenario", "bye"}, "--scenario"},
      {{"--target", "127.0.0.1:5060", "--rate-steps", "10,,20"}, "--rate-steps"},
      {{"--target", "127.0.0.1:5060", "--t1-ms", "500", "--t2-ms", "100"}, "--t2-ms"},
      {{"--target", "127.0.0.1:5060", "--threads", "2", "--sources", "1"}, "--sources"},
      {{"--target", "127.0.0.1:5060", "--service", "a b"}, "--service"},
      {{"--target", "127.0.0.1:5060", "--calls"}, "--calls"},
      {{"--target", "127.0.0.1:5060", "--frobnicate"}, "--frobnicate"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<UacOptions> o = Uac(c.args);
    ASSERT_FALSE(o.ok()) << c.flag;
    EXPECT_EQ(std::string(o.status().message()).rfind(c.flag, 0), 0u) << o.status();
  }
}

TEST(SiploadOptionsTest, UasOptions) {
  absl::StatusOr<UasOptions> o = ParseUasArgs(std::vector<std::string_view>{
      "--listen", "127.0.0.1:5070", "--fail-ratio", "0.1", "--fail-code", "486", "--drop-ratio",
      "0.05", "--delay-ms", "20", "--no-trying"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->fail_code, 486);
  EXPECT_DOUBLE_EQ(o->drop_ratio, 0.05);
  EXPECT_FALSE(o->trying);
  EXPECT_FALSE(ParseUasArgs(std::vector<std::string_view>{"--listen", "127.0.0.1:0", "--threads", "2"}).ok())
      << "threads share a port: it must be given";
  EXPECT_FALSE(ParseUasArgs(std::vector<std::string_view>{"--listen", "127.0.0.1:5070", "--fail-ratio",
                                                          "0.7", "--drop-ratio", "0.5"})
                   .ok());
  EXPECT_FALSE(ParseUasArgs(std::vector<std::string_view>{"--listen", "127.0.0.1:5070", "--fail-code", "200"}).ok());
  EXPECT_FALSE(ParseUasArgs(std::vector<std::string_view>{}).ok());
}

}  // namespace
}  // namespace sipring::sipload

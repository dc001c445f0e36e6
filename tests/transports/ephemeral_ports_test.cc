// Tests for transports/ephemeral_ports.h: parsing the two sysctls as the kernel writes them, the
// one rule (in the range and not reserved), and the fix that keeps what is reserved already.
#include "transports/ephemeral_ports.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/process.h"

namespace sipring::transports {
namespace {

TEST(EphemeralPortsTest, RangeAndReservedListAsTheKernelWritesThem) {
  const absl::StatusOr<EphemeralPorts> p =
      EphemeralPorts::Parse("32768\t60999\n", "5060,40000-40010\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->first(), 32768u);
  EXPECT_EQ(p->last(), 60999u);
  EXPECT_EQ(p->RangeText(), "32768-60999");
  EXPECT_EQ(p->ReservedText(), "5060,40000-40010");
  EXPECT_FALSE(p->InRange(32767));
  EXPECT_TRUE(p->InRange(32768));
  EXPECT_TRUE(p->InRange(60999));
  EXPECT_FALSE(p->InRange(61000));
  // Reserved: a single port, both ends of a range and its inside; not the neighbours.
  EXPECT_TRUE(p->IsReserved(5060));
  EXPECT_FALSE(p->IsReserved(5061));
  EXPECT_TRUE(p->IsReserved(40000));
  EXPECT_TRUE(p->IsReserved(40005));
  EXPECT_TRUE(p->IsReserved(40010));
  EXPECT_FALSE(p->IsReserved(39999));
  EXPECT_FALSE(p->IsReserved(40011));
  // MayTake = in the range and not reserved.
  EXPECT_FALSE(p->MayTake(5060)) << "below the range";
  EXPECT_FALSE(p->MayTake(40003)) << "in the range but reserved";
  EXPECT_TRUE(p->MayTake(40011));
  EXPECT_TRUE(p->MayTake(32768));
}

TEST(EphemeralPortsTest, ReserveCommandKeepsWhatIsReservedAlready) {
  const absl::StatusOr<EphemeralPorts> some = EphemeralPorts::Parse("1024 65535", "8000-8010,9000");
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(some->ReserveCommand({5060}),
            "sysctl -w net.ipv4.ip_local_reserved_ports=8000-8010,9000,5060");
  EXPECT_EQ(some->ReserveCommand({5060, 5061}),
            "sysctl -w net.ipv4.ip_local_reserved_ports=8000-8010,9000,5060,5061");
  const absl::StatusOr<EphemeralPorts> none = EphemeralPorts::Parse("1024 65535", "\n");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->ReservedText(), "");
  EXPECT_TRUE(none->MayTake(5060));
  EXPECT_EQ(none->ReserveCommand({5060}), "sysctl -w net.ipv4.ip_local_reserved_ports=5060");
}

TEST(EphemeralPortsTest, RefusesWhatDoesNotParse) {
  for (const char* range : {"", "32768", "60999 32768", "1 70000", "a b", "1 2 3"}) {
    EXPECT_FALSE(EphemeralPorts::Parse(range, "").ok()) << "range \"" << range << "\"";
  }
  for (const char* reserved : {"x", "5060,", "8010-8000", "1-2-3", "70000", "-5", "5060;5061"}) {
    const absl::StatusOr<EphemeralPorts> p = EphemeralPorts::Parse("1024 65535", reserved);
    EXPECT_FALSE(p.ok()) << "reserved \"" << reserved << "\"";
  }
}

TEST(EphemeralPortsTest, ReadNamesTheFileAndToleratesAMissingReservedList) {
  testing::TempDir dir;
  const std::string root = dir.path();
  // No range file at all: NotFound naming the path.
  absl::StatusOr<EphemeralPorts> p = EphemeralPorts::Read(root);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find(root + "/sys/net/ipv4/ip_local_port_range"),
            std::string::npos)
      << p.status();

  std::filesystem::create_directories(root + "/sys/net/ipv4");
  dir.Write("sys/net/ipv4/ip_local_port_range", "1024\t65535\n");
  // The range alone: nothing reserved, and reserved_status() says why.
  p = EphemeralPorts::Read(root);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->MayTake(5060));
  EXPECT_EQ(p->reserved_status().code(), absl::StatusCode::kNotFound);

  dir.Write("sys/net/ipv4/ip_local_reserved_ports", "5060-5061\n");
  p = EphemeralPorts::Read(root);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->reserved_status().ok());
  EXPECT_FALSE(p->MayTake(5060));

  dir.Write("sys/net/ipv4/ip_local_reserved_ports", "garbage\n");
  p = EphemeralPorts::Read(root);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("ip_local_reserved_ports: expected ports and ranges"),
            std::string::npos)
      << p.status();
}

}  // namespace
}  // namespace sipring::transports

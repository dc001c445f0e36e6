// tools/sipring/sipring.service: what the unit promises operators (no restart back-off, notify
// with a watchdog, not root, limits sized and explained), and `systemd-analyze verify` on it with
// ExecStart pointed at the built binary: any warning it prints fails the test.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "tests/testing/loopback.h"
#include "tests/testing/process.h"

namespace sipring {
namespace {

// section -> key -> value (the last assignment wins, as in systemd).
using Unit = std::map<std::string, std::map<std::string, std::string>>;

Unit ParseUnit(const std::string& text) {
  Unit u;
  std::istringstream in(text);
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    const size_t eq = line.find('=');
    if (eq != std::string::npos) u[section][line.substr(0, eq)] = line.substr(eq + 1);
  }
  return u;
}

std::string UnitText() {
  return testing::ReadFile(testing::SourceDir() + "/tools/sipring/sipring.service");
}

TEST(SystemdUnitTest, PromisesWhatOperatorsNeed) {
  const std::string text = UnitText();
  ASSERT_FALSE(text.empty());
  Unit u = ParseUnit(text);
  EXPECT_EQ(u["Unit"]["StartLimitIntervalSec"], "0");
  EXPECT_EQ(u["Service"]["Type"], "notify");
  EXPECT_EQ(u["Service"]["Restart"], "always");
  EXPECT_EQ(u["Service"]["RestartSec"], "0");
  EXPECT_FALSE(u["Service"]["WatchdogSec"].empty());
  EXPECT_FALSE(u["Service"]["LimitNOFILE"].empty());
  EXPECT_FALSE(u["Service"]["LimitMEMLOCK"].empty());
  EXPECT_EQ(u["Service"]["LimitCORE"], "0");
  EXPECT_NE(text.find("# No core dumps"), std::string::npos) << "LimitCORE needs its reason";
  EXPECT_FALSE(u["Service"]["User"].empty());
  EXPECT_NE(u["Service"]["User"], "root");
  EXPECT_NE(u["Service"]["AmbientCapabilities"].find("CAP_NET_BIND_SERVICE"), std::string::npos);
  // The user the unit names is created by the sysusers file shipped beside it.
  const std::string sysusers =
      testing::ReadFile(testing::SourceDir() + "/tools/sipring/sipring.sysusers");
  EXPECT_NE(sysusers.find("u " + u["Service"]["User"] + " "), std::string::npos) << sysusers;
}

TEST(SystemdUnitTest, SystemdAnalyzeVerifiesIt) {
  const std::string analyze = testing::FindOnPath("systemd-analyze");
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze not installed (Debian package systemd)";
  testing::TempDir dir;
  std::string text = UnitText();
  // verify checks that ExecStart's binary exists: point it at the one just built.
  const std::string installed = "/usr/local/bin/sipring";
  for (size_t at = text.find(installed); at != std::string::npos; at = text.find(installed, at)) {
    text.replace(at, installed.size(), SIPRING_BINARY);
    at += std::string(SIPRING_BINARY).size();
  }
  const std::string unit = dir.Write("sipring.service", text);
  testing::Process p({analyze, "verify", unit}, dir.path() + "/verify.log");
  const std::optional<int> rc = p.Wait(30000);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0) << p.Output();
  EXPECT_EQ(p.Output(), "") << "systemd-analyze warned";
}

}  // namespace
}  // namespace sipring

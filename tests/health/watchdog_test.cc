// The watchdog on real shards (a shard whose loop is held stops its heartbeat) and the systemd
// notify protocol over a real unix datagram socket, path and abstract.
#include "health/watchdog.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "engine/shard.h"
#include "health/systemd_notify.h"
#include "tests/testing/loopback.h"
#include "tests/testing/process.h"

namespace sipring::health {
namespace {

// An app whose loop can be held (as a livelocked or blocked shard would be).
class HoldableApp : public engine::ShardApp {
 public:
  explicit HoldableApp(std::atomic<bool>* hold) : hold_(hold) {}
  absl::Status Start(engine::Shard&) override { return absl::OkStatus(); }
  void OnLoop(uint64_t) override {
    while (hold_->load()) usleep(1000);
  }

 private:
  std::atomic<bool>* hold_;
};

TEST(WatchdogTest, NamesTheShardThatStoppedTurning) {
  std::atomic<bool> hold0{false}, hold1{false};
  engine::ShardGroup group({.shards = 2}, [&](int i) {
    return std::make_unique<HoldableApp>(i == 0 ? &hold0 : &hold1);
  });
  ASSERT_TRUE(group.Start().ok());
  Watchdog dog({{"shard0", [&] { return group.shard(0).heartbeat(); }},
                {"shard1", [&] { return group.shard(1).heartbeat(); }}});
  std::vector<std::string> stalled;
  EXPECT_TRUE(dog.Check(&stalled));  // first check records
  // Idle shards still turn: the loop wakes at least every 100 ms.
  testing::SleepMs(300);
  EXPECT_TRUE(dog.Check(&stalled)) << stalled.size();

  hold1 = true;
  testing::SleepMs(300);  // the held loop finishes its current turn, then stops
  dog.Check(&stalled);
  testing::SleepMs(300);
  EXPECT_FALSE(dog.Check(&stalled));
  EXPECT_EQ(stalled, std::vector<std::string>{"shard1"});

  hold1 = false;
  testing::SleepMs(300);
  EXPECT_TRUE(dog.Check(&stalled));
  group.StopAll();
  group.Join();
}

std::string Receive(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 1000) != 1) return "";
  char buf[512];
  const ssize_t n = recv(fd, buf, sizeof(buf), 0);
  return n > 0 ? std::string(buf, size_t(n)) : "";
}

TEST(SystemdNotifierTest, SendsToPathAndAbstractSockets) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/notify";
  const std::string abstract = "@sipring-test-" + std::to_string(getpid());
  for (const std::string& p : {path, abstract}) {
    const int fd = testing::MakeUnixDatagramServer(p);
    ASSERT_GE(fd, 0) << p;
    SystemdNotifier n(p);
    ASSERT_TRUE(n.enabled());
    ASSERT_TRUE(n.Notify("READY=1\nSTATUS=ok").ok());
    EXPECT_EQ(Receive(fd), "READY=1\nSTATUS=ok");
    ASSERT_TRUE(n.Notify("WATCHDOG=1").ok());
    EXPECT_EQ(Receive(fd), "WATCHDOG=1");
    close(fd);
  }
}

TEST(SystemdNotifierTest, DisabledWithoutSocketAndErrorsAreValues) {
  SystemdNotifier off("");
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.Notify("READY=1").ok());
  SystemdNotifier relative("relative/path");
  EXPECT_FALSE(relative.Notify("READY=1").ok());
  testing::TempDir dir;
  SystemdNotifier nobody(dir.path() + "/nobody-listens");
  EXPECT_FALSE(nobody.Notify("READY=1").ok());
}

TEST(SystemdNotifierTest, WatchdogUsecHonoursPid) {
  setenv("WATCHDOG_USEC", "3000000", 1);
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(SystemdNotifier::WatchdogUsecFromEnvironment(), 3000000u);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(SystemdNotifier::WatchdogUsecFromEnvironment(), 3000000u);
  setenv("WATCHDOG_PID", "1", 1);  // meant for another process
  EXPECT_EQ(SystemdNotifier::WatchdogUsecFromEnvironment(), 0u);
  unsetenv("WATCHDOG_PID");
  setenv("WATCHDOG_USEC", "soon", 1);
  EXPECT_EQ(SystemdNotifier::WatchdogUsecFromEnvironment(), 0u);
  unsetenv("WATCHDOG_USEC");
}

}  // namespace
}  // namespace sipring::health

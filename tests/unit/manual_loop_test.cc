// fakes::ManualLoop: the hand-driven loop the ACCEPT tests stand on. If it
// delivered events a real level-triggered loop would not (or dropped ones it
// would), those tests would prove nothing.
#include "netutil/fakes/manual_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "netutil/fakes/sys_matchers.h"

namespace netutil::fakes {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

TEST(ManualLoop, FireDeliversOnlyWhatTheMaskAsksFor) {
  ManualLoop loop;
  std::vector<uint32_t> seen;
  ASSERT_THAT(loop.AddHandler(3, IoLoop::kRead, [&](int, uint32_t ev) { seen.push_back(ev); }),
              IsOk());
  EXPECT_TRUE(loop.Fire(3, IoLoop::kRead));
  EXPECT_FALSE(loop.Fire(3, IoLoop::kWrite));  // not asked for
  ASSERT_THAT(loop.UpdateHandler(3, 0), IsOk());
  EXPECT_FALSE(loop.Fire(3, IoLoop::kRead));   // paused
  EXPECT_TRUE(loop.Fire(3, IoLoop::kHangup));  // epoll reports HUP whatever the mask
  EXPECT_FALSE(loop.Fire(4));                  // nobody registered
  EXPECT_THAT(seen, ElementsAre(IoLoop::kRead, IoLoop::kHangup));
}

TEST(ManualLoop, RegistrationErrorsLikeEpollCtl) {
  ManualLoop loop;
  ASSERT_THAT(loop.AddHandler(3, IoLoop::kRead, [](int, uint32_t) {}), IsOk());
  EXPECT_THAT(loop.AddHandler(3, IoLoop::kRead, [](int, uint32_t) {}),
              IsError(Error::Kind::kOs, EEXIST));
  EXPECT_THAT(loop.UpdateHandler(4, IoLoop::kRead), IsError(Error::Kind::kOs, ENOENT));
  loop.RemoveHandler(4);  // unknown: a no-op
  EXPECT_EQ(loop.handler_count(), 1u);
  EXPECT_EQ(loop.events(3), IoLoop::kRead);
  EXPECT_EQ(loop.events(4), 0u);
}

TEST(ManualLoop, HandlerMayRemoveItself) {
  ManualLoop loop;
  int calls = 0;
  ASSERT_THAT(loop.AddHandler(3, IoLoop::kRead,
                              [&](int fd, uint32_t) {
                                loop.RemoveHandler(fd);
                                ++calls;
                              }),
              IsOk());
  EXPECT_TRUE(loop.Fire(3));
  EXPECT_FALSE(loop.Fire(3));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(loop.has_handler(3));
}

TEST(ManualLoop, AdvanceRunsDueTimersInDeadlineOrder) {
  ManualLoop loop;
  std::vector<std::string> ran;
  loop.CallLater(30ms, [&] { ran.push_back("c"); });
  loop.CallLater(10ms, [&] { ran.push_back("a"); });
  loop.CallLater(10ms, [&] { ran.push_back("a2"); });  // same deadline: scheduling order
  loop.CallLater(20ms, [&] { ran.push_back("b"); });
  EXPECT_EQ(loop.next_timer_in(), std::chrono::nanoseconds(10ms));
  EXPECT_EQ(loop.Advance(9ms), 0);
  EXPECT_EQ(loop.Advance(11ms), 3);
  EXPECT_THAT(ran, ElementsAre("a", "a2", "b"));
  EXPECT_EQ(loop.pending_timers(), 1u);
  EXPECT_EQ(loop.Now(), std::chrono::nanoseconds(20ms));
}

TEST(ManualLoop, TimerSeesItsDeadlineAndMayScheduleAnother) {
  ManualLoop loop;
  std::vector<std::chrono::nanoseconds> at;
  loop.CallLater(10ms, [&] {
    at.push_back(loop.Now());
    loop.CallLater(5ms, [&] { at.push_back(loop.Now()); });
  });
  EXPECT_EQ(loop.Advance(1s), 2);
  EXPECT_THAT(at, ElementsAre(std::chrono::nanoseconds(10ms), std::chrono::nanoseconds(15ms)));
  EXPECT_EQ(loop.next_timer_in(), std::nullopt);
}

TEST(ManualLoop, CancelledTimerNeverRuns) {
  ManualLoop loop;
  int runs = 0;
  auto id = loop.CallLater(10ms, [&] { ++runs; });
  loop.CancelTimer(id);
  loop.CancelTimer(id);
  EXPECT_EQ(loop.pending_timers(), 0u);
  EXPECT_EQ(loop.Advance(1s), 0);
  EXPECT_EQ(runs, 0);
}

TEST(ManualLoop, CountsRegistrationCalls) {
  ManualLoop loop;
  ASSERT_THAT(loop.AddHandler(3, IoLoop::kRead, [](int, uint32_t) {}), IsOk());
  ASSERT_THAT(loop.UpdateHandler(3, 0), IsOk());
  loop.RemoveHandler(3);
  EXPECT_EQ(loop.add_calls(), 1);
  EXPECT_EQ(loop.update_calls(), 1);
  EXPECT_EQ(loop.remove_calls(), 1);
}

}  // namespace
}  // namespace netutil::fakes

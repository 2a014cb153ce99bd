// EpollLoop on a MockSys (LOOP-001..004): epoll_wait answers and the monotonic
// clock are scripted, so each iteration is exact.
#include "netutil/epoll_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <chrono>
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "netutil/fakes/mock_sys.h"
#include "netutil/fakes/sys_matchers.h"
#include "test_helpers.h"

namespace netutil {
namespace {

using namespace std::chrono_literals;
using fakes::IsError;
using fakes::IsOk;
using fakes::IsOkAndHolds;
using fakes::MockSys;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::Invoke;
using ::testing::NiceMock;
using ::testing::Return;
using unit::EpollReady;

constexpr int kEpfd = 10;

class EpollLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ON_CALL(sys, epoll_create1).WillByDefault(Return(SysOk(kEpfd)));
    ON_CALL(sys, epoll_ctl).WillByDefault(Return(SysOk()));
    ON_CALL(sys, epoll_wait).WillByDefault(Return(SysOk(0)));  // timed out, nothing ready
    ON_CALL(sys, monotonic_now).WillByDefault(Invoke([this] { return now; }));
    ASSERT_OK_AND_ASSIGN(loop, EpollLoop::Create(sys));
  }

  NiceMock<MockSys> sys;
  std::chrono::nanoseconds now{0};  // what monotonic_now() answers
  std::unique_ptr<EpollLoop> loop;
};

TEST_F(EpollLoopTest, CreateIsCloseOnExecAndClosesItsFd) {
  NiceMock<MockSys> other;
  EXPECT_CALL(other, epoll_create1(EPOLL_CLOEXEC)).WillOnce(Return(SysOk(/*fd=*/11)));
  EXPECT_CALL(other, close(/*fd=*/11));
  EXPECT_THAT(EpollLoop::Create(other), IsOk());  // dropped at once: the epoll fd closes
}

TEST_F(EpollLoopTest, CreateFailureIsOsError) {
  NiceMock<MockSys> other;
  EXPECT_CALL(other, epoll_create1).WillOnce(Return(SysErr(EMFILE)));
  EXPECT_THAT(EpollLoop::Create(other), IsError(Error::Kind::kOs, EMFILE, "epoll_create1"));
}

TEST_F(EpollLoopTest, LOOP_001_RegistersLevelTriggered) {
  // Exactly EPOLLIN: no EPOLLET or EPOLLONESHOT that would report a ready fd once.
  EXPECT_CALL(sys, epoll_ctl(kEpfd, EPOLL_CTL_ADD, /*fd=*/5, EPOLLIN));
  EXPECT_THAT(loop->AddHandler(5, IoLoop::kRead, [](int, uint32_t) {}), IsOk());
}

TEST_F(EpollLoopTest, LOOP_001_StillReadyHandlerIsCalledAgain) {
  int calls = 0;
  ASSERT_THAT(loop->AddHandler(5, IoLoop::kRead, [&](int, uint32_t) { ++calls; }), IsOk());
  // The listener stays readable (the accept batch left connections queued).
  EXPECT_CALL(sys, epoll_wait(kEpfd, _, _, _))
      .Times(2)
      .WillRepeatedly(Invoke(EpollReady({{EPOLLIN, 5}})));
  EXPECT_CALL(sys, epoll_ctl(_, EPOLL_CTL_MOD, _, _)).Times(0);  // no re-arming needed
  EXPECT_THAT(loop->RunOnce(0ns), IsOkAndHolds(1));
  EXPECT_THAT(loop->RunOnce(0ns), IsOkAndHolds(1));
  EXPECT_EQ(calls, 2);
}

TEST_F(EpollLoopTest, LOOP_001_HandlerGetsFdAndEvents) {
  std::vector<std::pair<int, uint32_t>> seen;
  ASSERT_THAT(
      loop->AddHandler(5, IoLoop::kRead, [&](int fd, uint32_t ev) { seen.emplace_back(fd, ev); }),
      IsOk());
  EXPECT_CALL(sys, epoll_wait).WillOnce(Invoke(EpollReady({{EPOLLIN | EPOLLHUP, 5}})));
  EXPECT_THAT(loop->RunOnce(0ns), IsOkAndHolds(1));
  EXPECT_THAT(seen, ElementsAre(std::make_pair(5, uint32_t{EPOLLIN | EPOLLHUP})));
}

TEST_F(EpollLoopTest, LOOP_002_TimerRunsNoSoonerThanItsDelay) {
  int runs = 0;
  loop->CallLater(100ms, [&] { ++runs; });
  now = 99ms;  // epoll_wait may return early (a signal, another fd)
  ASSERT_THAT(loop->RunOnce(0ns), IsOk());
  EXPECT_EQ(runs, 0);
  now = 100ms;
  ASSERT_THAT(loop->RunOnce(0ns), IsOk());
  EXPECT_EQ(runs, 1);
  now = 200ms;
  ASSERT_THAT(loop->RunOnce(0ns), IsOk());
  EXPECT_EQ(runs, 1);  // once
  EXPECT_EQ(loop->timer_count(), 0u);
}

TEST_F(EpollLoopTest, LOOP_002_TimersRunInDeadlineOrder) {
  std::vector<std::string> ran;
  loop->CallLater(30ms, [&] { ran.push_back("c"); });
  loop->CallLater(10ms, [&] { ran.push_back("a"); });
  loop->CallLater(20ms, [&] { ran.push_back("b"); });
  now = 30ms;
  ASSERT_THAT(loop->RunOnce(0ns), IsOk());
  EXPECT_THAT(ran, ElementsAre("a", "b", "c"));
}

TEST_F(EpollLoopTest, LOOP_002_CancelledTimerNeverRuns) {
  int runs = 0;
  IoLoop::TimerId id = loop->CallLater(10ms, [&] { ++runs; });
  loop->CallLater(10ms, [] {});
  loop->CancelTimer(id);
  loop->CancelTimer(id);  // cancelling twice is harmless
  now = 1s;
  ASSERT_THAT(loop->RunOnce(0ns), IsOk());
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(loop->timer_count(), 0u);
}

TEST_F(EpollLoopTest, LOOP_002_WaitIsBoundedByTheNextTimer) {
  loop->CallLater(50ms, [] {});
  // An unbounded wait (timeout -1) would sleep past the timer.
  EXPECT_CALL(sys, epoll_wait(kEpfd, _, _, /*timeout_ms=*/50)).WillOnce(Return(SysOk(0)));
  EXPECT_THAT(loop->RunOnce(-1ns), IsOk());
}

// ACCEPT-011's back-off at the top of its range: now + delay saturates
// instead of wrapping to a time in the past (a timer due at once: a busy loop).
TEST_F(EpollLoopTest, ACCEPT_011_HugeDelayDoesNotWrapIntoThePast) {
  int runs = 0;
  now = 1000h;  // a monotonic clock well past zero
  loop->CallLater(std::chrono::nanoseconds::max(), [&] { ++runs; });
  loop->CallLater(std::chrono::nanoseconds::max() - 1h, [&] { ++runs; });
  // The wait is the longest epoll_wait takes, not 0.
  EXPECT_CALL(sys, epoll_wait(kEpfd, _, _, INT_MAX)).WillOnce(Return(SysOk(0)));
  ASSERT_THAT(loop->RunOnce(-1ns), IsOk());
  ::testing::Mock::VerifyAndClearExpectations(&sys);
  now = 2000h;
  ASSERT_THAT(loop->RunOnce(0ns), IsOk());
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(loop->timer_count(), 2u);
}

TEST_F(EpollLoopTest, LOOP_003_EintrIsNotAnError) {
  int calls = 0;
  ASSERT_THAT(loop->AddHandler(5, IoLoop::kRead, [&](int, uint32_t) { ++calls; }), IsOk());
  EXPECT_CALL(sys, epoll_wait).WillOnce(Return(SysErr(EINTR)));
  EXPECT_THAT(loop->RunOnce(0ns), IsOkAndHolds(0));
  EXPECT_EQ(calls, 0);
}

TEST_F(EpollLoopTest, EpollWaitOtherErrorIsOsError) {
  EXPECT_CALL(sys, epoll_wait).WillOnce(Return(SysErr(EBADF)));
  EXPECT_THAT(loop->RunOnce(0ns), IsError(Error::Kind::kOs, EBADF, "epoll_wait"));
}

TEST_F(EpollLoopTest, LOOP_004_HandlerRemovedEarlierInTheIterationIsNotCalled) {
  int calls6 = 0;
  ASSERT_THAT(loop->AddHandler(5, IoLoop::kRead, [&](int, uint32_t) { loop->RemoveHandler(6); }),
              IsOk());
  ASSERT_THAT(loop->AddHandler(6, IoLoop::kRead, [&](int, uint32_t) { ++calls6; }), IsOk());
  // Both ready in one wait; 5 runs first and removes 6.
  EXPECT_CALL(sys, epoll_wait).WillOnce(Invoke(EpollReady({{EPOLLIN, 5}, {EPOLLIN, 6}})));
  EXPECT_THAT(loop->RunOnce(0ns), IsOkAndHolds(1));
  EXPECT_EQ(calls6, 0);
}

TEST_F(EpollLoopTest, LOOP_004_HandlerMayRemoveItself) {
  auto calls = std::make_shared<int>(0);
  // The handler's own state (captured by value) must outlive its removal.
  ASSERT_THAT(loop->AddHandler(5, IoLoop::kRead,
                               [this, calls](int fd, uint32_t) {
                                 loop->RemoveHandler(fd);
                                 ++*calls;
                               }),
              IsOk());
  EXPECT_CALL(sys, epoll_ctl(kEpfd, EPOLL_CTL_DEL, /*fd=*/5, _));
  // The second wait reports fd 5 again (an event queued before the removal).
  EXPECT_CALL(sys, epoll_wait).Times(2).WillRepeatedly(Invoke(EpollReady({{EPOLLIN, 5}})));
  EXPECT_THAT(loop->RunOnce(0ns), IsOkAndHolds(1));
  EXPECT_THAT(loop->RunOnce(0ns), IsOkAndHolds(0));
  EXPECT_EQ(*calls, 1);
  EXPECT_EQ(loop->handler_count(), 0u);
}

}  // namespace
}  // namespace netutil

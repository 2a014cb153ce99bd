// TimerQueue: the one timer list behind EpollLoop and ManualLoop.
#include "netutil/timer_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace netutil {
namespace {

using std::chrono::nanoseconds;

// Runs every timer due by `until`, in order.
void RunDue(TimerQueue& q, nanoseconds until) {
  while (std::optional<TimerQueue::Due> due = q.PopDue(until)) due->fn();
}

TEST(TimerQueue, RunsByDeadlineThenBySchedulingOrder) {
  TimerQueue q;
  std::string order;
  q.Add(nanoseconds(0), nanoseconds(30), [&] { order += "c"; });
  q.Add(nanoseconds(0), nanoseconds(10), [&] { order += "a"; });
  q.Add(nanoseconds(0), nanoseconds(10), [&] { order += "b"; });  // tie: after "a"
  EXPECT_EQ(q.next_deadline(), nanoseconds(10));
  RunDue(q, nanoseconds(10));
  EXPECT_EQ(order, "ab");
  EXPECT_EQ(q.size(), 1u);
  RunDue(q, nanoseconds(30));
  EXPECT_EQ(order, "abc");
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_deadline(), std::nullopt);
}

TEST(TimerQueue, PopDueGivesTheDeadlineAndLeavesLaterTimers) {
  TimerQueue q;
  q.Add(nanoseconds(100), nanoseconds(5), [] {});
  EXPECT_FALSE(q.PopDue(nanoseconds(104)).has_value());
  std::optional<TimerQueue::Due> due = q.PopDue(nanoseconds(200));
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->when, nanoseconds(105));
}

TEST(TimerQueue, CancelRemovesOnlyThatTimerAndIgnoresUnknownIds) {
  TimerQueue q;
  std::string order;
  const TimerQueue::TimerId first = q.Add(nanoseconds(0), nanoseconds(1), [&] { order += "a"; });
  q.Add(nanoseconds(0), nanoseconds(1), [&] { order += "b"; });
  q.Cancel(first);
  q.Cancel(first);      // twice: nothing more
  q.Cancel(first + 7);  // never issued
  RunDue(q, nanoseconds(1));
  EXPECT_EQ(order, "b");
}

TEST(TimerQueue, NegativeDelayCountsAsZero) {
  TimerQueue q;
  q.Add(nanoseconds(50), nanoseconds(-20), [] {});
  EXPECT_EQ(q.next_deadline(), nanoseconds(50));
}

// A huge back-off must not wrap into the past and fire at once.
TEST(TimerQueue, ACCEPT_011_HugeDelaySaturatesInsteadOfWrapping) {
  TimerQueue q;
  q.Add(nanoseconds(1000), nanoseconds::max(), [] {});
  EXPECT_EQ(q.next_deadline(), nanoseconds::max());
  EXPECT_FALSE(q.PopDue(nanoseconds(2000)).has_value());
}

}  // namespace
}  // namespace netutil

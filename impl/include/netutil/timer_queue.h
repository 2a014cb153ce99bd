// The timers of an IoLoop: callbacks ordered by deadline (ties: scheduling
// order), cancellable by id. The one copy behind EpollLoop (real clock) and
// fakes::ManualLoop (a test's clock); the loop owns the clock and says what
// "now" is on every call.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "netutil/io_loop.h"

namespace netutil {

class TimerQueue {
 public:
  using TimerId = IoLoop::TimerId;

  struct Due {
    std::chrono::nanoseconds when;
    std::function<void()> fn;
  };

  // Schedules `fn` at now + delay (a negative delay counts as zero). Saturated:
  // a delay near the top of its range (a huge back-off) must not wrap to a time
  // in the past, or the timer fires at once and its work spins (ACCEPT-011).
  TimerId Add(std::chrono::nanoseconds now, std::chrono::nanoseconds delay,
              std::function<void()> fn);
  // Unknown or already run ids are ignored.
  void Cancel(TimerId id);
  // Removes and returns the earliest timer due at or before `until`; nullopt
  // when none is. The caller runs it (after updating its clock, if it keeps one).
  std::optional<Due> PopDue(std::chrono::nanoseconds until);

  // The earliest deadline; nullopt when no timer is pending.
  std::optional<std::chrono::nanoseconds> next_deadline() const;
  size_t size() const { return by_deadline_.size(); }
  bool empty() const { return by_deadline_.empty(); }

 private:
  std::map<std::pair<std::chrono::nanoseconds, TimerId>, std::function<void()>> by_deadline_;
  std::unordered_map<TimerId, std::chrono::nanoseconds> deadline_of_;
  TimerId next_id_ = 1;
};

}  // namespace netutil

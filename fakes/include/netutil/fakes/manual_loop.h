// A hand-driven IoLoop for exact tests: nothing happens until the test says so.
// Fire(fd, events) delivers one readiness event to a handler; Advance(d) moves
// a fake clock and runs the timers that fall due. Between those calls the test
// inspects what the code under test registered: events(fd), has_handler(fd),
// pending_timers().
//
//   fakes::ManualLoop loop;
//   ASSERT_OK_AND_ASSIGN(auto handle, add_accept_handler(loop, sys, listener, cb));
//   EXPECT_EQ(loop.events(/*fd=*/3), IoLoop::kRead);
//   loop.Fire(/*fd=*/3);                     // one readiness event: one accept batch
//   loop.Advance(std::chrono::seconds(1));   // runs the back-off timer
//
// Single-threaded. Handlers and timers may add, update and remove handlers and
// timers while they run.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "netutil/io_loop.h"
#include "netutil/result.h"
#include "netutil/timer_queue.h"

namespace netutil::fakes {

class ManualLoop final : public IoLoop {
 public:
  ManualLoop() = default;
  ManualLoop(const ManualLoop&) = delete;
  ManualLoop& operator=(const ManualLoop&) = delete;

  // netutil::IoLoop
  // AddHandler on a registered fd fails with EEXIST, UpdateHandler on an
  // unknown one with ENOENT, as epoll_ctl does.
  Status AddHandler(int fd, uint32_t events, Handler handler) override;
  Status UpdateHandler(int fd, uint32_t events) override;
  void RemoveHandler(int fd) override;
  TimerId CallLater(std::chrono::nanoseconds delay, std::function<void()> fn) override;
  void CancelTimer(TimerId id) override;
  std::chrono::nanoseconds Now() override { return now_; }

  // Delivers one readiness event to fd's handler, as a level-triggered epoll
  // loop would: only when a handler is registered and its mask asks for one of
  // `events` (kError and kHangup are delivered whatever the mask, as epoll
  // does). The handler gets `events` restricted to what it would see. Returns
  // whether the handler ran. An exception from the handler propagates.
  bool Fire(int fd, uint32_t events = kRead);

  // Moves the clock forward by `d`, running every timer due by then in
  // deadline order (ties: scheduling order), each with Now() at its deadline;
  // a timer scheduled by a timer runs too when it falls due within `d`.
  // Returns how many timers ran.
  int Advance(std::chrono::nanoseconds d);

  bool has_handler(int fd) const { return handlers_.count(fd) != 0; }
  // The registered event mask; 0 when paused (UpdateHandler(fd, 0)) or absent.
  uint32_t events(int fd) const;
  size_t handler_count() const { return handlers_.size(); }
  size_t pending_timers() const { return timers_.size(); }
  // Time from Now() to the earliest pending timer; nullopt when none.
  std::optional<std::chrono::nanoseconds> next_timer_in() const;

  // How often each IoLoop method was called, for tests that check that the
  // code under test does not churn registrations.
  int add_calls() const { return add_calls_; }
  int update_calls() const { return update_calls_; }
  int remove_calls() const { return remove_calls_; }

 private:
  struct Registration {
    uint32_t events = 0;
    // shared_ptr so a handler that removes itself stays alive until it returns.
    std::shared_ptr<Handler> handler;
  };

  std::chrono::nanoseconds now_{0};
  std::unordered_map<int, Registration> handlers_;
  TimerQueue timers_;
  int add_calls_ = 0;
  int update_calls_ = 0;
  int remove_calls_ = 0;
};

}  // namespace netutil::fakes

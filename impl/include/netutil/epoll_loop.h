// An IoLoop on epoll, through the Sys seam. Level-triggered, single-threaded.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "netutil/fd.h"
#include "netutil/io_loop.h"
#include "netutil/sys.h"
#include "netutil/timer_queue.h"

namespace netutil {

class EpollLoop final : public IoLoop {
 public:
  static Result<std::unique_ptr<EpollLoop>> Create(Sys& sys);

  Status AddHandler(int fd, uint32_t events, Handler handler) override;
  Status UpdateHandler(int fd, uint32_t events) override;
  void RemoveHandler(int fd) override;
  TimerId CallLater(std::chrono::nanoseconds delay, std::function<void()> fn) override;
  void CancelTimer(TimerId id) override;
  std::chrono::nanoseconds Now() override;

  // Waits at most `timeout` (negative: until a handler or timer is due), then
  // runs the ready handlers and due timers. Returns the number of handler calls.
  // EINTR from epoll_wait is not an error: it returns 0 calls.
  Result<int> RunOnce(std::chrono::nanoseconds timeout);

  size_t handler_count() const { return handlers_.size(); }
  size_t timer_count() const { return timers_.size(); }

 private:
  EpollLoop(Sys& sys, Fd epfd) : sys_(sys), epfd_(std::move(epfd)) {}
  int RunDueTimers();

  Sys& sys_;
  Fd epfd_;
  // shared_ptr so a handler that removes itself stays alive until it returns.
  std::unordered_map<int, std::shared_ptr<Handler>> handlers_;
  TimerQueue timers_;
  std::vector<EpollEvent> events_;
};

}  // namespace netutil

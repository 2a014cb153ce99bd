// The event loop interface the accept handler runs on: fd handlers by event
// mask, and timers. EpollLoop is the real one; tests step a manual one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "netutil/result.h"

namespace netutil {

class IoLoop {
 public:
  // Event bits (the same values as EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP).
  static constexpr uint32_t kRead = 0x001;
  static constexpr uint32_t kWrite = 0x004;
  static constexpr uint32_t kError = 0x008;
  static constexpr uint32_t kHangup = 0x010;

  using Handler = std::function<void(int fd, uint32_t events)>;
  using TimerId = uint64_t;

  virtual ~IoLoop() = default;

  // One handler per fd. Adding an fd twice is an error (EEXIST).
  virtual Status AddHandler(int fd, uint32_t events, Handler handler) = 0;
  // Changes the mask; 0 keeps the handler but stops its events.
  virtual Status UpdateHandler(int fd, uint32_t events) = 0;
  // Removes the handler; a no-op for an unknown fd. Safe from inside a handler.
  virtual void RemoveHandler(int fd) = 0;

  // Runs `fn` once, no sooner than `delay` from Now().
  virtual TimerId CallLater(std::chrono::nanoseconds delay, std::function<void()> fn) = 0;
  // Cancels a pending timer; a no-op for a fired or unknown one.
  virtual void CancelTimer(TimerId id) = 0;

  virtual std::chrono::nanoseconds Now() = 0;
};

}  // namespace netutil

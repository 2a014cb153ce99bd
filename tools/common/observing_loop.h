// An IoLoop that forwards to another and brackets every fd handler's call
// with begin(fd) and end(fd), so a caller sees each readiness event apart
// from the handler's own statistics. netutil-adapter's serve counts the
// accept handler's batches with it (the callbacks made during one event);
// the burst benchmark records which listener each event served. An optional
// admit(fd) hook may decline an event before it starts (the handler is not
// called; a level-triggered fd is reported again): a serve over several
// listeners stops at its count of events even within one loop iteration.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

#include "netutil/io_loop.h"

namespace netutil::tools {

class ObservingLoop final : public IoLoop {
 public:
  using Hook = std::function<void(int fd)>;
  using Admit = std::function<bool(int fd)>;

  ObservingLoop(IoLoop& inner, Hook begin, Hook end, Admit admit = nullptr)
      : inner_(inner), begin_(std::move(begin)), end_(std::move(end)), admit_(std::move(admit)) {}

  Status AddHandler(int fd, uint32_t events, Handler handler) override {
    return inner_.AddHandler(fd, events, [this, h = std::move(handler)](int f, uint32_t ev) {
      if (admit_ && !admit_(f)) return;
      begin_(f);
      // end(fd) also when the handler throws: the adapter's callbacks throw
      // on purpose to check ACCEPT-007, and that event still counts.
      struct EndEvent {
        ObservingLoop* self;
        int fd;
        ~EndEvent() { self->end_(fd); }
      } end{this, f};
      h(f, ev);
    });
  }
  Status UpdateHandler(int fd, uint32_t events) override {
    return inner_.UpdateHandler(fd, events);
  }
  void RemoveHandler(int fd) override { inner_.RemoveHandler(fd); }
  TimerId CallLater(std::chrono::nanoseconds delay, std::function<void()> fn) override {
    return inner_.CallLater(delay, std::move(fn));
  }
  void CancelTimer(TimerId id) override { inner_.CancelTimer(id); }
  std::chrono::nanoseconds Now() override { return inner_.Now(); }

 private:
  IoLoop& inner_;
  Hook begin_;
  Hook end_;
  Admit admit_;
};

}  // namespace netutil::tools

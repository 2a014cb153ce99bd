#include "netutil/fakes/manual_loop.h"

#include <cerrno>

namespace netutil::fakes {

Status ManualLoop::AddHandler(int fd, uint32_t events, Handler handler) {
  ++add_calls_;
  if (handlers_.count(fd) != 0) return Error::Os(EEXIST, "AddHandler");
  handlers_[fd] = Registration{events, std::make_shared<Handler>(std::move(handler))};
  return OkStatus();
}

Status ManualLoop::UpdateHandler(int fd, uint32_t events) {
  ++update_calls_;
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) return Error::Os(ENOENT, "UpdateHandler");
  it->second.events = events;
  return OkStatus();
}

void ManualLoop::RemoveHandler(int fd) {
  ++remove_calls_;
  handlers_.erase(fd);
}

IoLoop::TimerId ManualLoop::CallLater(std::chrono::nanoseconds delay, std::function<void()> fn) {
  return timers_.Add(now_, delay, std::move(fn));  // saturated like EpollLoop's (ACCEPT-011)
}

void ManualLoop::CancelTimer(TimerId id) { timers_.Cancel(id); }

bool ManualLoop::Fire(int fd, uint32_t events) {
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) return false;
  const uint32_t seen = events & (it->second.events | kError | kHangup);
  if (seen == 0) return false;
  std::shared_ptr<Handler> handler = it->second.handler;
  (*handler)(fd, seen);
  return true;
}

int ManualLoop::Advance(std::chrono::nanoseconds d) {
  if (d < std::chrono::nanoseconds(0)) d = std::chrono::nanoseconds(0);
  const auto until =
      now_ > std::chrono::nanoseconds::max() - d ? std::chrono::nanoseconds::max() : now_ + d;
  int ran = 0;
  while (std::optional<TimerQueue::Due> due = timers_.PopDue(until)) {
    now_ = due->when;
    ++ran;
    due->fn();
  }
  now_ = until;
  return ran;
}

uint32_t ManualLoop::events(int fd) const {
  auto it = handlers_.find(fd);
  return it == handlers_.end() ? 0 : it->second.events;
}

std::optional<std::chrono::nanoseconds> ManualLoop::next_timer_in() const {
  std::optional<std::chrono::nanoseconds> next = timers_.next_deadline();
  if (!next) return std::nullopt;
  return *next - now_;
}

}  // namespace netutil::fakes

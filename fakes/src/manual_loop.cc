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
  if (delay < std::chrono::nanoseconds(0)) delay = std::chrono::nanoseconds(0);
  const TimerId id = next_timer_++;
  // Saturated like EpollLoop's: a huge delay never wraps into the past (ACCEPT-011).
  const auto when = now_ > std::chrono::nanoseconds::max() - delay ? std::chrono::nanoseconds::max()
                                                                   : now_ + delay;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  timer_when_[id] = when;
  return id;
}

void ManualLoop::CancelTimer(TimerId id) {
  auto it = timer_when_.find(id);
  if (it == timer_when_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_when_.erase(it);
}

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
  while (!timers_.empty() && timers_.begin()->first.first <= until) {
    auto node = timers_.extract(timers_.begin());
    timer_when_.erase(node.key().second);
    now_ = node.key().first;
    ++ran;
    node.mapped()();
  }
  now_ = until;
  return ran;
}

uint32_t ManualLoop::events(int fd) const {
  auto it = handlers_.find(fd);
  return it == handlers_.end() ? 0 : it->second.events;
}

std::optional<std::chrono::nanoseconds> ManualLoop::next_timer_in() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first - now_;
}

}  // namespace netutil::fakes

#include "netutil/epoll_loop.h"

#include <sys/epoll.h>

#include <cerrno>
#include <climits>
#include <string>

namespace netutil {

static_assert(IoLoop::kRead == EPOLLIN && IoLoop::kWrite == EPOLLOUT &&
              IoLoop::kError == EPOLLERR && IoLoop::kHangup == EPOLLHUP);

namespace {
constexpr int kMaxEventsPerWait = 64;
}  // namespace

Result<std::unique_ptr<EpollLoop>> EpollLoop::Create(Sys& sys) {
  SysInt ep = sys.epoll_create1(EPOLL_CLOEXEC);
  if (!ep.ok()) return Error::Os(ep.err, "epoll_create1");
  return std::unique_ptr<EpollLoop>(new EpollLoop(sys, Fd(sys, ep.value)));
}

Status EpollLoop::AddHandler(int fd, uint32_t events, Handler handler) {
  if (handlers_.count(fd) != 0) {
    return Error::Os(EEXIST, "epoll_ctl(ADD)", "fd " + std::to_string(fd));
  }
  // LOOP-001: level-triggered (no EPOLLET), so a fd still ready is reported again.
  SysInt r = sys_.epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, events);
  if (!r.ok()) return Error::Os(r.err, "epoll_ctl(ADD)", "fd " + std::to_string(fd));
  handlers_[fd] = std::make_shared<Handler>(std::move(handler));
  return OkStatus();
}

Status EpollLoop::UpdateHandler(int fd, uint32_t events) {
  if (handlers_.count(fd) == 0) {
    return Error::Os(ENOENT, "epoll_ctl(MOD)", "fd " + std::to_string(fd));
  }
  SysInt r = sys_.epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, events);
  if (!r.ok()) return Error::Os(r.err, "epoll_ctl(MOD)", "fd " + std::to_string(fd));
  return OkStatus();
}

void EpollLoop::RemoveHandler(int fd) {
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) return;
  handlers_.erase(it);
  // The fd may already be closed (then the kernel dropped it); nothing to do.
  (void)sys_.epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, 0);
}

IoLoop::TimerId EpollLoop::CallLater(std::chrono::nanoseconds delay, std::function<void()> fn) {
  return timers_.Add(Now(), delay, std::move(fn));  // saturated (ACCEPT-011)
}

void EpollLoop::CancelTimer(TimerId id) { timers_.Cancel(id); }

std::chrono::nanoseconds EpollLoop::Now() { return sys_.monotonic_now(); }

int EpollLoop::RunDueTimers() {
  int ran = 0;
  const auto now = Now();
  // Only timers due now; one added by a running timer waits for the next round.
  while (std::optional<TimerQueue::Due> due = timers_.PopDue(now)) {
    due->fn();
    ++ran;
  }
  return ran;
}

Result<int> EpollLoop::RunOnce(std::chrono::nanoseconds timeout) {
  // LOOP-002: never sleep past the next timer.
  int timeout_ms = -1;
  if (timeout >= std::chrono::nanoseconds::zero()) {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    timeout_ms = static_cast<int>(std::min<long long>(ms, INT_MAX));
  }
  if (std::optional<std::chrono::nanoseconds> next = timers_.next_deadline()) {
    auto until = *next - Now();
    auto ms = std::max<long long>(0, std::chrono::ceil<std::chrono::milliseconds>(until).count());
    if (timeout_ms < 0 || ms < timeout_ms)
      timeout_ms = static_cast<int>(std::min<long long>(ms, INT_MAX));
  }

  events_.resize(kMaxEventsPerWait);
  SysInt n = sys_.epoll_wait(epfd_.get(), events_.data(), kMaxEventsPerWait, timeout_ms);
  if (!n.ok()) {
    if (n.err == EINTR) return 0;  // LOOP-003
    return Error::Os(n.err, "epoll_wait");
  }
  int calls = 0;
  for (int i = 0; i < n.value && i < kMaxEventsPerWait; ++i) {
    // LOOP-004: look the handler up again for every event: an earlier handler
    // in this round may have removed it. The shared_ptr keeps it alive while it
    // runs even if it removes itself.
    auto it = handlers_.find(events_[i].fd);
    if (it == handlers_.end()) continue;
    std::shared_ptr<Handler> h = it->second;
    (*h)(events_[i].fd, events_[i].events);
    ++calls;
  }
  RunDueTimers();
  return calls;
}

}  // namespace netutil

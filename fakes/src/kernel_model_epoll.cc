// KernelModel: epoll, with readiness derived from the sockets' state, and the
// fake monotonic clock it advances.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "netutil/fakes/kernel_model.h"

namespace netutil::fakes {

uint32_t KernelModel::Readiness(int fd) const {
  const Socket* s = SocketAt(fd);
  if (s == nullptr) return 0;  // not open, or an epoll fd (never ready here)
  switch (s->state) {
    case SocketState::kListening:
      // Aborted connections count: accept4 has something to say about them.
      return s->queue.empty() ? 0u : static_cast<uint32_t>(EPOLLIN);
    case SocketState::kConnected:
      return EPOLLOUT;  // no data is modelled: writable, never readable
    case SocketState::kCreated:
    case SocketState::kBound:
      // tcp_poll / unix_poll on a socket that is neither connected nor
      // listening: writable and hung up.
      return EPOLLOUT | EPOLLHUP;
  }
  return 0;
}

SysInt KernelModel::epoll_create1(int flags) {
  if ((flags & ~EPOLL_CLOEXEC) != 0) return SysErr(EINVAL);
  const uint64_t id = next_id_++;
  SysInt fd = AllocFd(true, id);
  if (!fd.ok()) return fd;
  epolls_[id];
  fds_[fd.value].cloexec = (flags & EPOLL_CLOEXEC) != 0;
  return fd;
}

SysInt KernelModel::epoll_ctl(int epfd, int op, int fd, uint32_t events) {
  auto ep_it = fds_.find(epfd);
  if (ep_it == fds_.end() || fds_.count(fd) == 0) return SysErr(EBADF);
  if (!ep_it->second.is_epoll || fd == epfd) return SysErr(EINVAL);
  auto& interest = epolls_.at(ep_it->second.id).interest;
  auto it = std::find_if(interest.begin(), interest.end(),
                         [fd](const auto& reg) { return reg.first == fd; });
  switch (op) {
    case EPOLL_CTL_ADD:
      if (it != interest.end()) return SysErr(EEXIST);
      interest.emplace_back(fd, events);
      return SysOk();
    case EPOLL_CTL_MOD:
      if (it == interest.end()) return SysErr(ENOENT);
      it->second = events;
      return SysOk();
    case EPOLL_CTL_DEL:
      if (it == interest.end()) return SysErr(ENOENT);
      interest.erase(it);
      return SysOk();
    default:
      return SysErr(EINVAL);
  }
}

SysInt KernelModel::epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) {
  auto ep_it = fds_.find(epfd);
  if (ep_it == fds_.end()) return SysErr(EBADF);
  if (!ep_it->second.is_epoll || max_events <= 0) return SysErr(EINVAL);
  const uint64_t ep_id = ep_it->second.id;
  const bool has_deadline = timeout_ms >= 0;
  const std::chrono::nanoseconds deadline =
      has_deadline ? now_ + std::chrono::milliseconds(timeout_ms) : now_;
  for (;;) {
    RunDue();
    // A scheduled action may have closed the epoll fd itself.
    auto ep = epolls_.find(ep_id);
    if (ep == epolls_.end()) return SysErr(EBADF);
    auto& interest = ep->second.interest;
    int n = 0;
    std::vector<bool> reported(interest.size(), false);
    for (size_t i = 0; i < interest.size() && n < max_events; ++i) {
      auto& [fd, mask] = interest[i];
      // EPOLLERR and EPOLLHUP are reported whatever the mask (epoll_ctl(2)).
      const uint32_t ready = Readiness(fd) & (mask | EPOLLERR | EPOLLHUP);
      if (ready == 0) continue;
      if (events != nullptr) events[n] = EpollEvent{ready, fd};
      ++n;
      reported[i] = true;
      if (mask & EPOLLONESHOT) mask = 0;
    }
    if (n > 0) {
      // Reported fds go to the back, keeping their order (fairness).
      std::vector<std::pair<int, uint32_t>> rest, back;
      for (size_t i = 0; i < interest.size(); ++i) {
        (reported[i] ? back : rest).push_back(interest[i]);
      }
      rest.insert(rest.end(), back.begin(), back.end());
      interest = std::move(rest);
      return SysOk(n);
    }
    if (timeout_ms == 0) return SysOk(0);
    // Sleep until the next scheduled action, if it comes before the deadline.
    if (!scheduled_.empty() && (!has_deadline || scheduled_.begin()->first <= deadline)) {
      now_ = std::max(now_, scheduled_.begin()->first);
      continue;
    }
    if (has_deadline) {
      now_ = std::max(now_, deadline);
      return SysOk(0);
    }
    // Nothing can ever become ready: a real epoll_wait(-1) would hang the
    // test. Return as a spurious wake-up instead.
    return SysOk(0);
  }
}

std::chrono::nanoseconds KernelModel::monotonic_now() { return now_; }

void KernelModel::RunDue() {
  while (!scheduled_.empty() && scheduled_.begin()->first <= now_) {
    auto node = scheduled_.extract(scheduled_.begin());
    node.mapped()();
  }
}

void KernelModel::Advance(std::chrono::nanoseconds d) {
  const auto until = now_ + d;
  while (!scheduled_.empty() && scheduled_.begin()->first <= until) {
    now_ = std::max(now_, scheduled_.begin()->first);
    RunDue();
  }
  now_ = until;
}

void KernelModel::At(std::chrono::nanoseconds when, std::function<void()> fn) {
  scheduled_.emplace(when, std::move(fn));
}

}  // namespace netutil::fakes

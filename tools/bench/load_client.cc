#include "load_client.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <unordered_set>
#include <vector>

#include "netutil/errno_name.h"

namespace netutil::bench {

std::string LoadResult::Describe() const {
  std::ostringstream os;
  os << done << " done, " << failed << " failed";
  if (timed_out) os << ", timed out";
  for (const auto& [name, n] : errors) os << ", " << name << " x" << n;
  if (!setup_error.empty()) os << ", " << setup_error;
  return os.str();
}

void CloseWithReset(int fd) {
  linger l{1, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

LoadResult RunLoad(const LoadOptions& o) {
  using Clock = std::chrono::steady_clock;
  LoadResult r;
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    r.setup_error = std::string("epoll_create1: ") + ErrnoName(errno);
    return r;
  }
  std::unordered_set<int> in_flight;
  in_flight.reserve(static_cast<size_t>(o.concurrency) * 2);
  const auto t0 = Clock::now();
  const auto deadline = t0 + o.timeout;
  int started = 0;
  bool hook_ran = false;
  auto fail = [&](int fd, int err) {
    ++r.failed;
    ++r.errors[ErrnoName(err)];
    if (fd >= 0) {
      in_flight.erase(fd);
      CloseWithReset(fd);  // also drops it from the epoll set
    }
  };
  std::vector<epoll_event> events(static_cast<size_t>(std::max(o.concurrency, 1)));
  while (r.done + r.failed < o.connections) {
    while (static_cast<int>(in_flight.size()) < o.concurrency && started < o.connections) {
      ++started;
      const int fd = ::socket(o.target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        fail(-1, errno);
        continue;
      }
      if (::connect(fd, o.target.data(), o.target.len()) != 0 && errno != EINPROGRESS) {
        const int err = errno;
        ::close(fd);
        fail(-1, err);
        continue;
      }
      // Readable means the server's FIN (EOF), or an error on the connection.
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        const int err = errno;
        ::close(fd);
        fail(-1, err);
        continue;
      }
      in_flight.insert(fd);
    }
    if (started == o.connections && !hook_ran) {
      hook_ran = true;
      if (o.after_all_started) o.after_all_started();
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      r.timed_out = true;
      break;
    }
    const int wait_ms = static_cast<int>(std::min<long long>(
        100, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.setup_error = std::string("epoll_wait: ") + ErrnoName(errno);
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<size_t>(i)].data.fd;
      char byte;
      const ssize_t got = ::read(fd, &byte, 1);
      if (got == 0) {
        ++r.done;
        in_flight.erase(fd);
        CloseWithReset(fd);
      } else if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;  // woken early; the FIN is still to come
      } else {
        fail(fd, got < 0 ? errno : EPROTO);  // EPROTO: the server sent data
      }
    }
  }
  for (int fd : in_flight) {
    ++r.failed;
    ++r.errors["unfinished"];
    CloseWithReset(fd);
  }
  ::close(ep);
  r.wall = Clock::now() - t0;
  return r;
}

}  // namespace netutil::bench

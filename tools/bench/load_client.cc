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

namespace {

using Clock = std::chrono::steady_clock;

// One RunLoad's connections in flight, on one epoll set, and their counts.
class LoadRun {
 public:
  LoadRun(const LoadOptions& o, int ep, LoadResult* r)
      : o_(o), ep_(ep), r_(*r), events_(static_cast<size_t>(std::max(o.concurrency, 1))) {
    in_flight_.reserve(static_cast<size_t>(o.concurrency) * 2);
  }

  bool all_started() const { return started_ == o_.connections; }

  // Starts connections until `concurrency` are in flight or all have started.
  void StartMore() {
    while (static_cast<int>(in_flight_.size()) < o_.concurrency && !all_started()) {
      ++started_;
      Connect();
    }
  }

  // Waits up to `wait_ms` for the servers' FINs and counts the connections
  // they end; false when epoll_wait failed (setup_error says why).
  bool Collect(int wait_ms) {
    const int n = ::epoll_wait(ep_, events_.data(), static_cast<int>(events_.size()), wait_ms);
    if (n < 0) {
      if (errno == EINTR) return true;
      r_.setup_error = std::string("epoll_wait: ") + ErrnoName(errno);
      return false;
    }
    for (int i = 0; i < n; ++i) Finish(events_[static_cast<size_t>(i)].data.fd);
    return true;
  }

  // The connections still in flight at the end: failed, "unfinished".
  void Abandon() {
    for (int fd : in_flight_) {
      ++r_.failed;
      ++r_.errors["unfinished"];
      CloseWithReset(fd);
    }
    in_flight_.clear();
  }

 private:
  // A new client socket, connecting, in the epoll set; counted failed when
  // any of that fails.
  void Connect() {
    const int fd = ::socket(o_.target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Fail(-1, errno);
    if (::connect(fd, o_.target.data(), o_.target.len()) != 0 && errno != EINPROGRESS) {
      const int err = errno;
      ::close(fd);
      return Fail(-1, err);
    }
    // Readable means the server's FIN (EOF), or an error on the connection.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      const int err = errno;
      ::close(fd);
      return Fail(-1, err);
    }
    in_flight_.insert(fd);
  }

  // A connection the epoll set says is readable: done at EOF, failed on an
  // error or on data (EPROTO: the server sent some).
  void Finish(int fd) {
    char byte;
    const ssize_t got = ::read(fd, &byte, 1);
    if (got == 0) {
      ++r_.done;
      in_flight_.erase(fd);
      CloseWithReset(fd);
    } else if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;  // woken early; the FIN is still to come
    } else {
      Fail(fd, got < 0 ? errno : EPROTO);
    }
  }

  void Fail(int fd, int err) {
    ++r_.failed;
    ++r_.errors[ErrnoName(err)];
    if (fd >= 0) {
      in_flight_.erase(fd);
      CloseWithReset(fd);  // also drops it from the epoll set
    }
  }

  const LoadOptions& o_;
  const int ep_;
  LoadResult& r_;
  std::vector<epoll_event> events_;
  std::unordered_set<int> in_flight_;
  int started_ = 0;
};

}  // namespace

LoadResult RunLoad(const LoadOptions& o) {
  LoadResult r;
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    r.setup_error = std::string("epoll_create1: ") + ErrnoName(errno);
    return r;
  }
  LoadRun run(o, ep, &r);
  const auto t0 = Clock::now();
  const auto deadline = t0 + o.timeout;
  bool hook_ran = false;
  while (r.done + r.failed < o.connections) {
    run.StartMore();
    if (run.all_started() && !hook_ran) {
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
    if (!run.Collect(wait_ms)) break;
  }
  run.Abandon();
  ::close(ep);
  r.wall = Clock::now() - t0;
  return r;
}

}  // namespace netutil::bench

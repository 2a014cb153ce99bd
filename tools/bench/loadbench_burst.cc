// netutil-loadbench burst: N connections queued at once on two listeners of
// the reference, then drained by add_accept_handler.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "load_client.h"
#include "loadbench.h"
#include "netutil/accept_handler.h"
#include "netutil/epoll_loop.h"
#include "netutil/posix_sys.h"
#include "observing_loop.h"

namespace netutil::bench {
namespace {

using namespace std::chrono_literals;

// The accept queue length of a listening TCP socket (Linux reports it as
// tcpi_unacked for listeners), or -1.
long QueueLength(int fd) {
  tcp_info ti{};
  socklen_t len = sizeof ti;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return -1;
  return static_cast<long>(ti.tcpi_unacked);
}

struct BurstResult {
  int n = 0;
  std::string skipped;  // non-empty: why this size did not run
  std::string error;
  double connect_ms = 0;
  double drain_ms = 0;
  double drain_cpu_us_per_conn = 0;
  long long accepted[2] = {0, 0};
  long long events = 0;
  int largest_batch = 0;
  int max_wait = 0;  // most batches of one listener between two of the other's
  long long backoffs = 0, skipped_conns = 0;
  int clients = 0;           // client processes holding the connections
  long queued_at_start = 0;  // in both accept queues when the loop started
};

// The clients of a burst, in child processes: RLIMIT_NOFILE's hard limit may
// be below N (raising it needs CAP_SYS_RESOURCE), so each child holds at most
// `per_child` client sockets. A child connects its share (connection i goes to
// listener i % 2), reports 0 or the errno on its pipe, then holds its sockets
// until the parent closes the control pipe, and resets them all.
class BurstClients {
 public:
  ~BurstClients() { Release(); }

  std::string Start(const std::vector<SockAddr>& to, int n, int per_child) {
    for (int first = 0; first < n; first += per_child) {
      const int last = std::min(n, first + per_child);
      int status[2], control[2];
      if (::pipe2(status, O_CLOEXEC) != 0 || ::pipe2(control, O_CLOEXEC) != 0) {
        return std::string("pipe2: ") + ErrnoName(errno);
      }
      const pid_t pid = ::fork();
      if (pid < 0) return std::string("fork: ") + ErrnoName(errno);
      if (pid == 0) {
        ::close(status[0]);
        ::close(control[1]);
        RaiseFdLimit(per_child + 64);
        std::vector<int> fds;
        fds.reserve(static_cast<size_t>(last - first));
        int err = 0;
        for (int i = first; i < last && err == 0; ++i) {
          const SockAddr& a = to[static_cast<size_t>(i % 2)];
          const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
          if (fd < 0 || (::connect(fd, a.data(), a.len()) != 0 && errno != EINPROGRESS)) {
            err = errno;
            if (fd >= 0) ::close(fd);
            break;
          }
          fds.push_back(fd);
        }
        const unsigned char code = static_cast<unsigned char>(err);
        (void)!::write(status[1], &code, 1);
        char b;
        while (::read(control[0], &b, 1) < 0 && errno == EINTR) {
        }
        for (int fd : fds) CloseWithReset(fd);
        ::_exit(0);
      }
      ::close(status[1]);
      ::close(control[0]);
      children_.push_back({pid, status[0], control[1]});
    }
    for (const ChildProc& c : children_) {
      unsigned char code = 255;
      pollfd p{c.status, POLLIN, 0};
      if (::poll(&p, 1, 60000) != 1 || ::read(c.status, &code, 1) != 1) {
        return "a client process did not report";
      }
      if (code != 0) return std::string("client connect: ") + ErrnoName(code);
    }
    return "";
  }

  void Release() {
    for (const ChildProc& c : children_) {
      ::close(c.control);  // the child resets its sockets and exits
      ::close(c.status);
    }
    for (const ChildProc& c : children_) {
      int st = 0;
      while (::waitpid(c.pid, &st, 0) < 0 && errno == EINTR) {
      }
    }
    children_.clear();
  }

 private:
  struct ChildProc {
    pid_t pid;
    int status;
    int control;
  };
  std::vector<ChildProc> children_;
};

// Two listeners on 127.0.0.1 with `backlog` each; "" or why not.
std::string BindPair(Sys& sys, int backlog, std::vector<Listener>* listeners) {
  for (int i = 0; i < 2; ++i) {
    BindOptions bo;
    bo.address = "127.0.0.1";
    bo.backlog = backlog;
    auto b = bind_sockets(sys, bo);
    if (!b.ok() || b.value().size() != 1) {
      return "bind_sockets: " + (b.ok() ? std::string("not one listener") : b.error().message);
    }
    listeners->push_back(std::move(b.value()[0]));
  }
  return "";
}

// Every client connects before the server runs at all: N queued at once.
// Sets the clients', the queues' and the connect time's parts of `r`.
void QueueBurst(const std::vector<Listener>& listeners, int n, int per_child, BurstClients* clients,
                BurstResult* r) {
  const auto c0 = Clock::now();
  r->error = clients->Start({listeners[0].addr, listeners[1].addr}, n, per_child);
  r->clients = (n + per_child - 1) / per_child;
  // Loopback handshakes finish in softirq right after connect; wait (bounded)
  // until both queues hold their share, so the drain starts from a full burst.
  const auto queued_by = Clock::now() + 30s;
  while (
      r->error.empty() && Clock::now() < queued_by &&
      (QueueLength(listeners[0].fd.get()) < n / 2 || QueueLength(listeners[1].fd.get()) < n / 2)) {
    std::this_thread::sleep_for(1ms);
  }
  r->connect_ms = Millis(Clock::now() - c0);
  r->queued_at_start = QueueLength(listeners[0].fd.get()) + QueueLength(listeners[1].fd.get());
}

// One readiness event of the drain: the listener it served, and how many
// connections it accepted.
struct BurstEvent {
  int fd;
  int accepted;
};

// Fairness: while a listener still had connections queued, how many batches
// of the other listener ran between two of its own (or before its first)?
// `accepted` is each listener's total, `fd0` the first one's fd.
int MaxWait(const std::vector<BurstEvent>& events, int fd0, const long long accepted[2]) {
  int max_wait = 0;
  long long got[2] = {0, 0};
  int other_run[2] = {0, 0};
  for (const BurstEvent& ev : events) {
    const int me = ev.fd == fd0 ? 0 : 1;
    got[me] += ev.accepted;
    other_run[me] = 0;
    const int other = 1 - me;
    if (got[other] < accepted[other]) {
      ++other_run[other];
      max_wait = std::max(max_wait, other_run[other]);
    }
  }
  return max_wait;
}

// The drain: one EpollLoop, add_accept_handler on both listeners (batch
// `batch`), run until all `n` are accepted or 60 s pass. Fills the drain's
// parts of `r`.
void DrainBurst(Sys& sys, std::vector<Listener>& listeners, int n, int batch, BurstResult* r) {
  auto created = EpollLoop::Create(sys);
  if (!created.ok()) {
    r->error = created.error().message;
    return;
  }
  EpollLoop& epoll = *created.value();
  std::vector<BurstEvent> events;
  int in_event = 0;  // accept callbacks of the event running now
  tools::ObservingLoop loop(
      epoll, [&](int) { in_event = 0; },
      [&](int fd) {
        events.push_back({fd, in_event});
      });
  AcceptOptions ao;
  ao.batch = batch;
  std::vector<AcceptHandle> handles;
  for (int i = 0; i < 2; ++i) {
    long long* count = &r->accepted[i];
    auto h = add_accept_handler(
        loop, sys, listeners[static_cast<size_t>(i)],
        [count, &in_event](Fd, const SockAddr&) {
          ++*count;
          ++in_event;
        },
        ao);
    if (!h.ok()) {
      r->error = h.error().message;
      break;
    }
    handles.push_back(std::move(h.value()));
  }
  const auto cpu0 = SelfCpu();
  const auto d0 = Clock::now();
  const auto deadline = d0 + 60s;
  while (r->error.empty() && r->accepted[0] + r->accepted[1] < n && Clock::now() < deadline) {
    auto ran = epoll.RunOnce(100ms);
    if (!ran.ok()) r->error = ran.error().message;
  }
  r->drain_ms = Millis(Clock::now() - d0);
  r->drain_cpu_us_per_conn = Micros(SelfCpu() - cpu0) / std::max(1, n);
  for (const AcceptHandle& h : handles) {
    const AcceptStats s = h.stats();
    r->events += s.events;
    r->largest_batch = std::max(r->largest_batch, s.largest_batch);
    r->backoffs += s.backoffs;
    r->skipped_conns += s.skipped;
  }
  r->max_wait = MaxWait(events, listeners[0].fd.get(), r->accepted);
}

BurstResult RunOneBurst(int n, int batch) {
  BurstResult r;
  r.n = n;
  // Each client process stays well inside the fd limit we have.
  const long limit = RaiseFdLimit(n + 256);
  const int per_child = static_cast<int>(std::clamp<long>(limit - 256, 1000, 15000));
  const long somax = std::atol(ReadSysctl("/proc/sys/net/core/somaxconn").value_or("0").c_str());
  const int per_listener = (n + 1) / 2;
  if (somax < per_listener) {
    r.skipped = "net.core.somaxconn " + std::to_string(somax) + " < " +
                std::to_string(per_listener) + " (needs a private network namespace)";
    return r;
  }
  PosixSys sys;
  std::vector<Listener> listeners;
  r.error = BindPair(sys, per_listener, &listeners);
  if (!r.error.empty()) return r;
  BurstClients clients;
  QueueBurst(listeners, n, per_child, &clients, &r);
  if (r.error.empty()) DrainBurst(sys, listeners, n, batch, &r);
  clients.Release();
  return r;
}

}  // namespace

int RunBurst(const BurstFlags& flags) {
  const int batch = flags.batch;
  std::vector<int> sizes = flags.sizes;
  SetUpNetwork(true);
  if (sizes.empty()) sizes = {10000, 50000};
  const long fd_limit = RaiseFdLimit(*std::max_element(sizes.begin(), sizes.end()) + 256L);
  std::ostringstream md;
  md << "### Bursts\n\n"
     << "On " << NetnsNote() << ". Two reference listeners on 127.0.0.1 (backlog N/2 each); "
     << "N clients connect, alternating between the two, from child processes of at most 15,000 "
     << "sockets each (RLIMIT_NOFILE here: " << fd_limit << "; raising its hard limit needs "
     << "CAP_SYS_RESOURCE), and every connection is queued (read from TCP_INFO) before the loop "
     << "runs at all; then one EpollLoop drains both with "
     << "add_accept_handler (batch " << batch << "), the callback closing each connection. "
     << "*Wait* is the most batches one listener served while the other still had "
     << "connections queued and got none (fair: 1).\n\n"
     << "| N | client processes | queued at start | queued in ms | all accepted | per listener "
     << "| events | largest batch | wait | drain ms | drain CPU µs/conn | verdict |\n"
     << "| ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n";
  bool all_ok = true;
  for (int n : sizes) {
    std::cerr << "loadbench burst: " << n << " connections\n";
    const BurstResult r = RunOneBurst(n, batch);
    if (!r.skipped.empty()) {
      md << "| " << n << " | - | - | - | SKIPPED: " << r.skipped << " | | | | | | | |\n";
      all_ok = false;
      continue;
    }
    const long long acc = r.accepted[0] + r.accepted[1];
    const bool ok = r.error.empty() && acc == n && r.largest_batch <= batch && r.max_wait <= 1;
    all_ok = all_ok && ok;
    md << "| " << n << " | " << r.clients << " | " << r.queued_at_start << " | "
       << Fixed(r.connect_ms, 0) << " | " << (acc == n ? "yes" : "NO") << " (" << acc << ") | "
       << r.accepted[0] << " + " << r.accepted[1] << " | " << r.events << " | " << r.largest_batch
       << " | " << r.max_wait << " | " << Fixed(r.drain_ms, 0) << " | "
       << Fixed(r.drain_cpu_us_per_conn) << " | " << (ok ? "ok" : "FAILED " + r.error) << " |\n";
  }
  md << "\nTarget: all accepted, no batch over " << batch
     << ", wait <= 1: " << (all_ok ? "met" : "MISSED") << ".\n";
  std::cout << md.str() << std::flush;
  return all_ok ? 0 : 1;
}

}  // namespace netutil::bench

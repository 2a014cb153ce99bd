// netutil-bench-server: the C++ servers the load benchmarks measure, one
// process each, so the driver reads each server's CPU clock alone, exactly as
// it does for the Tornado and asyncio servers (tools/bench/py_server.py).
//
//   netutil-bench-server --impl reference|raw [--mode accept|emfile]
//                        [--backlog N] [--backoff-ms M] [--max-seconds S]
//
// --impl reference: bind_sockets + EpollLoop + add_accept_handler whose
//   callback drops (closes) each connection: what a user of the reference writes.
// --impl raw: the limit. socket/bind/listen by hand, one epoll fd, and on each
//   event accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) + close until EAGAIN, with no
//   batch limit, no handler table, no seam. It asks for the peer address like
//   the reference does, since the API hands it to the callback.
//
// The control protocol on stdin/stdout (lines), the same for every server:
//   server: READY <port>           listening on 127.0.0.1:<port>
//   mode emfile only:
//   driver: GO                     the pending clients are queued
//   server: STORM                  RLIMIT_NOFILE is now the lowest free fd
//   driver: END                    the limit is restored
//   driver: REPORT
//   server: DONE accepted=N errors=E accept_calls=C backoffs=B
// End of stdin (the driver finished or died) ends the server; so does
// --max-seconds (default 900), so no server outlives a stuck driver.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>

#include "netutil/accept_handler.h"
#include "netutil/bind_sockets.h"
#include "netutil/epoll_loop.h"
#include "netutil/fakes/forwarding_sys.h"
#include "netutil/posix_sys.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string impl = "reference";
  std::string mode = "accept";
  int backlog = 1024;
  int backoff_ms = 1000;  // the reference's default (ACCEPT-011)
  int max_seconds = 900;
};

// The command line into `a`; 0 to go on, else the exit status (usage or error
// printed).
int ParseArgs(int argc, char** argv, Args& a) {
  CLI::App app{"netutil-bench-server: a C++ server under load, controlled on stdin/stdout"};
  app.add_option("--impl", a.impl, "reference (default) or raw")
      ->check(CLI::IsMember({"reference", "raw"}));
  app.add_option("--mode", a.mode, "accept or emfile (emfile: reference only)")
      ->check(CLI::IsMember({"accept", "emfile"}));
  app.add_option("--backlog", a.backlog, "listen() backlog")->check(CLI::Range(1, 65535));
  app.add_option("--backoff-ms", a.backoff_ms, "The reference's EMFILE back-off")
      ->check(CLI::Range(0, 3600000));
  app.add_option("--max-seconds", a.max_seconds, "Exit after this long whatever the driver does")
      ->check(CLI::Range(1, 86400));
  try {
    app.parse(argc, argv);
    if (a.impl == "raw" && a.mode == "emfile") {
      throw CLI::ValidationError("--mode emfile", "only --impl reference has an emfile mode");
    }
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints the usage or the error
    return rc == 0 ? -1 : 2;
  }
  return 0;
}

// Writes a line to stdout with write(2): no stdio buffer, and no new fd is
// needed, which matters while the process is out of fds.
void Say(const std::string& line) {
  const std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(1, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Splits stdin into lines; `on_line` gets each, `eof` becomes true at the end.
struct StdinLines {
  std::string buf;
  bool eof = false;
  void Read(const std::function<void(const std::string&)>& on_line) {
    char chunk[256];
    const ssize_t n = ::read(0, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      eof = true;
      return;
    }
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      const std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      on_line(line);
    }
  }
  // A blocking read of one line before the loop runs (emfile's GO).
  bool WaitFor(const std::string& want) {
    bool seen = false;
    while (!seen && !eof) Read([&](const std::string& l) { seen = seen || l == want; });
    return seen;
  }
};

// RLIMIT_NOFILE lowered to the lowest free fd: every new fd is EMFILE.
struct FdStarvation {
  rlimit original{};
  bool Start() {
    if (::getrlimit(RLIMIT_NOFILE, &original) != 0) return false;
    const int lowest = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
    if (lowest < 0) return false;
    ::close(lowest);
    rlimit low = original;
    low.rlim_cur = static_cast<rlim_t>(lowest);
    return ::setrlimit(RLIMIT_NOFILE, &low) == 0;
  }
  void End() { (void)::setrlimit(RLIMIT_NOFILE, &original); }
};

// The kernel, except that accept4 can be told to fail with EMFILE without
// being called: emfile mode's warm-up (see RunReference).
class WarmupSys final : public netutil::fakes::ForwardingSys {
 public:
  explicit WarmupSys(netutil::Sys& real) : ForwardingSys(real) {}
  bool fail_accept_with_emfile = false;

  netutil::SysInt accept4(int fd, netutil::SockAddr* peer, int flags) override {
    if (fail_accept_with_emfile) return netutil::SysErr(EMFILE);
    return ForwardingSys::accept4(fd, peer, flags);
  }
};

// What emfile mode's warm-up counted: left out of the report.
struct WarmCounts {
  netutil::AcceptStats stats;
  long long errors = 0;
};

// Emfile mode: one back-off (accept4's EMFILE injected) and one accept
// before the driver's clients arrive, on a connection to ourselves. It makes
// every call of the storm once while fds are still free: under UBSan the
// first member call on each polymorphic type is checked with a pipe(),
// which fails once the process is out of fds and reads as "invalid vptr".
// False when either did not happen within 10 s.
bool WarmUp(netutil::EpollLoop& loop, WarmupSys& warmup, const netutil::AcceptHandle& handle,
            const netutil::Listener& listener) {
  const int self = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool connected =
      self >= 0 && ::connect(self, listener.addr.data(), listener.addr.len()) == 0;
  auto run_until = [&](const std::function<bool()>& done) {
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (!done() && Clock::now() < until) (void)loop.RunOnce(std::chrono::milliseconds(50));
    return done();
  };
  warmup.fail_accept_with_emfile = true;
  const bool warmed = connected && run_until([&] { return handle.stats().backoffs >= 1; });
  warmup.fail_accept_with_emfile = false;
  const bool accepted = warmed && run_until([&] { return handle.stats().accepted >= 1; });
  if (self >= 0) ::close(self);
  return accepted;
}

// The control protocol (see the top of this file) until QUIT, the end of
// stdin or --max-seconds; the exit status. `errors` is what the accept
// handler's error callback counted so far.
int Serve(const Args& a, netutil::EpollLoop& loop, const netutil::AcceptHandle& handle,
          const netutil::Listener& listener, const long long& errors, const WarmCounts& warm) {
  StdinLines in;
  FdStarvation starve;
  bool quit = false;
  auto on_line = [&](const std::string& line) {
    if (line == "END") {
      starve.End();
    } else if (line == "REPORT") {
      const netutil::AcceptStats s = handle.stats();
      Say("DONE accepted=" + std::to_string(s.accepted - warm.stats.accepted) +
          " errors=" + std::to_string(errors - warm.errors) +
          " accept_calls=" + std::to_string(s.accept_calls - warm.stats.accept_calls) +
          " backoffs=" + std::to_string(s.backoffs - warm.stats.backoffs));
    } else if (line == "QUIT") {
      quit = true;
    }
  };
  Say("READY " + std::to_string(listener.addr.port()));
  if (a.mode == "emfile") {
    if (!in.WaitFor("GO")) return 0;
    if (!starve.Start()) {
      std::cerr << "cannot lower RLIMIT_NOFILE: " << std::strerror(errno) << "\n";
      return 1;
    }
    Say("STORM");
  }
  // Registered after GO: in emfile mode the blocking read above owned stdin.
  if (!loop.AddHandler(0, netutil::IoLoop::kRead, [&](int, uint32_t) { in.Read(on_line); }).ok()) {
    return 1;
  }
  const auto end = Clock::now() + std::chrono::seconds(a.max_seconds);
  while (!quit && !in.eof && Clock::now() < end) {
    if (!loop.RunOnce(std::chrono::seconds(1)).ok()) return 1;
  }
  return 0;
}

// Accept mode measures the reference on PosixSys itself; emfile mode on
// WarmupSys, whose forwarding costs one more virtual call per syscall (a few
// calls a second while paused).
int RunReference(const Args& a) {
  netutil::PosixSys posix;
  WarmupSys warmup(posix);
  netutil::Sys& sys = a.mode == "emfile" ? static_cast<netutil::Sys&>(warmup) : posix;
  netutil::BindOptions bo;
  bo.address = "127.0.0.1";
  bo.backlog = a.backlog;
  auto bound = netutil::bind_sockets(sys, bo);
  if (!bound.ok() || bound.value().size() != 1) {
    std::cerr << "bind_sockets: " << (bound.ok() ? "not one listener" : bound.error().message)
              << "\n";
    return 1;
  }
  const netutil::Listener& listener = bound.value()[0];
  auto created = netutil::EpollLoop::Create(sys);
  if (!created.ok()) {
    std::cerr << created.error().message << "\n";
    return 1;
  }
  netutil::EpollLoop& loop = *created.value();

  long long errors = 0;
  netutil::AcceptOptions ao;
  ao.backoff = std::chrono::milliseconds(a.backoff_ms);
  // The callback a user writes to close each connection: the Fd closes when dropped.
  auto handle = netutil::add_accept_handler(
      loop, sys, listener, [](netutil::Fd, const netutil::SockAddr&) {}, ao,
      [&errors](const netutil::Error&) { ++errors; });
  if (!handle.ok()) {
    std::cerr << handle.error().message << "\n";
    return 1;
  }
  WarmCounts warm;
  if (a.mode == "emfile") {
    if (!WarmUp(loop, warmup, handle.value(), listener)) {
      std::cerr << "emfile warm-up failed\n";
      return 1;
    }
    warm = {handle.value().stats(), errors};
  }
  return Serve(a, loop, handle.value(), listener, errors, warm);
}

int RunRaw(const Args& a) {
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t slen = sizeof sin;
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
      ::listen(lfd, a.backlog) != 0 ||
      ::getsockname(lfd, reinterpret_cast<sockaddr*>(&sin), &slen) != 0) {
    std::cerr << "raw listener: " << std::strerror(errno) << "\n";
    return 1;
  }
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.fd = 0;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  Say("READY " + std::to_string(ntohs(sin.sin_port)));

  StdinLines in;
  bool quit = false;
  long long accepted = 0;
  const auto end = Clock::now() + std::chrono::seconds(a.max_seconds);
  epoll_event events[64];
  while (!quit && !in.eof && Clock::now() < end) {
    const int n = ::epoll_wait(ep, events, 64, 1000);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd != lfd) {
        in.Read([&](const std::string& line) {
          if (line == "QUIT") quit = true;
          if (line == "REPORT") Say("DONE accepted=" + std::to_string(accepted) + " errors=0");
        });
        continue;
      }
      while (true) {
        sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        const int c =
            ::accept4(lfd, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
          if (errno == EINTR || errno == ECONNABORTED) continue;
          break;
        }
        ++accepted;
        ::close(c);
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (const int rc = ParseArgs(argc, argv, a); rc != 0) return rc < 0 ? 0 : rc;
  return a.impl == "raw" ? RunRaw(a) : RunReference(a);
}

// netfault_probe: a small program for interpose_test.cc to run under
// LD_PRELOAD=libnetfault.so. It makes the C library calls its arguments name,
// in order, and prints one line per command with what the call answered
// ("bind=-1 EADDRINUSE"), so the test can compare what the program saw with
// what the interposer traced.
//
//   socket4 | socket6 | socketu    socket(); the new fd becomes the current one
//   bind4 PORT                     bind the current fd to 127.0.0.1:PORT
//   listen N                       listen on the current fd
//   reuse                          setsockopt(SO_REUSEADDR, 1) on the current fd
//   name                           getsockname of the current fd
//   close                          close the current fd (the previous one is current)
//   gai HOST SERVICE               getaddrinfo(HOST, SERVICE, SOCK_STREAM)
//   accept                         a listener, a client and accept4 (all closed after)
//   epoll                          epoll_wait keeps a pointer-sized epoll_data intact
//   file                           opens and closes a file (not a socket)
//   wait                           prints "wait=ready", then reads a line from stdin
//   threads N M                    N threads, each M x (socket, close)
//   fork                           a child makes socket + close, then exits
//   dup | dupfd                    dup / fcntl(F_DUPFD_CLOEXEC) of the current fd;
//                                  the copy becomes the current one
//   dup2file                       dup2 of a /dev/null fd over the current fd,
//                                  which is a file from then on
//   closerange FLAGS               close_range(current, ~0U, FLAGS: 0, cloexec,
//                                  unshare); forgets closed fds
//   closefrom                      closefrom(current); forgets closed fds
//   vfork                          a vfork child dup2s over fd 0 and close_ranges
//                                  every fd from 3 (its own), then exits
//   readwith HOW                   prints "readwith=ready", then reads one line
//                                  of stdin with HOW: read, fgets, fgets_chk,
//                                  getline, fread, getc, getc_unlocked, cin
//   truncate                       ftruncate of the control region
//                                  (NETFAULT_CONTROL_FD) to 0 and to twice its
//                                  size: "truncate=-1 EPERM -1 EPERM"
//   scribble SEED                  random bytes over the whole control region
//   adapter                        a hostile adapter: answers each request line
//                                  (read with fgets) with {"ok":true,...}; a
//                                  request holding "scribble" or "truncate"
//                                  does that to the control region first
//   rawadapter                     the same, making its socket and close as raw
//                                  system calls, which no LD_PRELOAD sees (as Go
//                                  does)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string Err(int e) {
  // The names the tests expect; strerror's text would do, but names compare better.
  switch (e) {
    case EADDRINUSE:
      return "EADDRINUSE";
    case EACCES:
      return "EACCES";
    case EAFNOSUPPORT:
      return "EAFNOSUPPORT";
    case EINTR:
      return "EINTR";
    case EBADF:
      return "EBADF";
    case ECONNABORTED:
      return "ECONNABORTED";
    case EMFILE:
      return "EMFILE";
    case EPERM:
      return "EPERM";
    case EIO:
      return "EIO";
    default:
      return "E" + std::to_string(e);
  }
}

std::string Rc(int rc) { return rc < 0 ? "-1 " + Err(errno) : std::to_string(rc); }

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void Say(const std::string& line) { std::cout << line << std::endl; }

int ControlFd() {
  const char* fd = std::getenv("NETFAULT_CONTROL_FD");
  return fd != nullptr ? std::atoi(fd) : -1;
}

std::string Truncate() {
  const int fd = ControlFd();
  struct stat st {};
  ::fstat(fd, &st);
  const std::string shrink = Rc(::ftruncate(fd, 0));
  const std::string grow = Rc(::ftruncate(fd, st.st_size * 2));
  return shrink + " " + grow;
}

std::string Scribble(unsigned seed) {
  const int fd = ControlFd();
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Rc(-1);
  void* p =
      ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Rc(-1);
  uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;
  auto* words = static_cast<uint64_t*>(p);
  for (size_t i = 0; i < static_cast<size_t>(st.st_size) / 8; ++i) {
    x ^= x << 13;  // xorshift64
    x ^= x >> 7;
    x ^= x << 17;
    words[i] = x;
  }
  ::munmap(p, static_cast<size_t>(st.st_size));
  return "ok";
}

extern "C" char* __fgets_chk(char* s, size_t size, int n, FILE* fp);

// One line of stdin, read the way `how` says; false at end of input.
bool ReadLineWith(const std::string& how) {
  char buf[4096];
  if (how == "read") {
    char c = 0;
    while (::read(0, &c, 1) == 1) {
      if (c == '\n') return true;
    }
    return false;
  }
  if (how == "fgets") return std::fgets(buf, sizeof buf, stdin) != nullptr;
  if (how == "fgets_chk") return __fgets_chk(buf, sizeof buf, sizeof buf, stdin) != nullptr;
  if (how == "getline") {
    char* line = nullptr;
    size_t n = 0;
    const ssize_t r = ::getline(&line, &n, stdin);
    std::free(line);
    return r > 0;
  }
  if (how == "fread") {
    if (std::fread(buf, 1, 1, stdin) != 1) return false;
    return buf[0] == '\n' || std::fgets(buf, sizeof buf, stdin) != nullptr;
  }
  if (how == "getc" || how == "getc_unlocked") {
    for (int c; (c = how == "getc" ? std::getc(stdin) : getc_unlocked(stdin)) != EOF;) {
      if (c == '\n') return true;
    }
    return false;
  }
  if (how == "cin") {
    std::string line;
    return static_cast<bool>(std::getline(std::cin, line));
  }
  std::cerr << "netfault_probe: unknown way to read " << how << "\n";
  std::exit(2);
}

// A hostile adapter of the line protocol (docs/ADAPTER.md), enough for
// netconform; `raw`: its calls bypass the C library's functions.
int Adapter(bool raw) {
  char line[65536];
  while (std::fgets(line, sizeof line, stdin) != nullptr) {
    const std::string request = line;
    // Protocol 2: the reply echoes the request's id (netconform sends it first
    // among the keys it writes; this probe's requests carry no other "id").
    std::string reply = R"({"ok":true,"impl":"netfault_probe")";
    if (const auto at = request.find("\"id\":"); at != std::string::npos) {
      const auto digits = request.find_first_of("0123456789", at);
      const auto end = request.find_first_not_of("0123456789", digits);
      if (digits != std::string::npos) reply += ",\"id\":" + request.substr(digits, end - digits);
    }
    if (request.find("scribble") != std::string::npos) Scribble(1);
    if (request.find("truncate") != std::string::npos) {
      reply += R"(,"truncate":")" + Truncate() + "\"";
    }
    // One call of the seam, so a request has a trace.
    if (raw) {
      const long fd = ::syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0) ::syscall(SYS_close, fd);
    } else {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0) ::close(fd);
    }
    std::cout << reply << "}" << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> fds;
  auto current = [&] { return fds.empty() ? -1 : fds.back(); };
  for (int i = 1; i < argc; ++i) {
    const std::string cmd = argv[i];
    auto arg = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (cmd == "socket4" || cmd == "socket6" || cmd == "socketu") {
      const int family = cmd == "socket4" ? AF_INET : cmd == "socket6" ? AF_INET6 : AF_UNIX;
      const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0) fds.push_back(fd);
      Say("socket=" + Rc(fd));
    } else if (cmd == "bind4") {
      const sockaddr_in a = Loopback(std::atoi(arg().c_str()));
      Say("bind=" + Rc(::bind(current(), reinterpret_cast<const sockaddr*>(&a), sizeof a)));
    } else if (cmd == "listen") {
      Say("listen=" + Rc(::listen(current(), std::atoi(arg().c_str()))));
    } else if (cmd == "reuse") {
      const int one = 1;
      Say("setsockopt=" + Rc(::setsockopt(current(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)));
    } else if (cmd == "name") {
      sockaddr_in a{};
      socklen_t len = sizeof a;
      const int rc = ::getsockname(current(), reinterpret_cast<sockaddr*>(&a), &len);
      Say("getsockname=" + (rc < 0 ? Rc(rc) : std::to_string(ntohs(a.sin_port))));
    } else if (cmd == "close") {
      const int fd = current();
      if (!fds.empty()) fds.pop_back();
      Say("close=" + Rc(::close(fd)));
    } else if (cmd == "gai") {
      const std::string host = arg();
      const std::string service = arg();
      addrinfo hints{};
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* res = nullptr;
      const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
      if (rc != 0) {
        Say(std::string("gai=") + (rc == EAI_NONAME ? "EAI_NONAME" : "EAI " + std::to_string(rc)));
        continue;
      }
      std::string out = "gai=ok";
      for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        char host_buf[NI_MAXHOST];
        char serv_buf[NI_MAXSERV];
        ::getnameinfo(ai->ai_addr, ai->ai_addrlen, host_buf, sizeof host_buf, serv_buf,
                      sizeof serv_buf, NI_NUMERICHOST | NI_NUMERICSERV);
        out += std::string(" ") + host_buf + ":" + serv_buf;
      }
      ::freeaddrinfo(res);
      Say(out);
    } else if (cmd == "accept") {
      const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = Loopback(0);
      socklen_t len = sizeof a;
      ::bind(l, reinterpret_cast<const sockaddr*>(&a), sizeof a);
      ::listen(l, 8);
      ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      ::connect(c, reinterpret_cast<const sockaddr*>(&a), sizeof a);
      sockaddr_in peer{};
      socklen_t peer_len = sizeof peer;
      const int s = ::accept4(l, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
      const bool peer_ok = s >= 0 && peer_len == sizeof peer && peer.sin_family == AF_INET &&
                           peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
      Say("accept4=" + Rc(s) + (peer_ok ? " peer ok" : " peer wrong"));
      if (s >= 0) ::close(s);
      ::close(c);
      ::close(l);
    } else if (cmd == "epoll") {
      const int ep = ::epoll_create1(EPOLL_CLOEXEC);
      const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = Loopback(0);
      socklen_t len = sizeof a;
      ::bind(l, reinterpret_cast<const sockaddr*>(&a), sizeof a);
      ::listen(l, 8);
      ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = 0x1234567800000000ull | static_cast<unsigned>(l);
      ::epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      ::connect(c, reinterpret_cast<const sockaddr*>(&a), sizeof a);
      epoll_event out[4]{};
      const int n = ::epoll_wait(ep, out, 4, 5000);
      Say("epoll_wait=" + Rc(n) +
          (n == 1 && out[0].data.u64 == ev.data.u64 ? " data ok" : " data wrong"));
      ::close(c);
      ::close(l);
      ::close(ep);
    } else if (cmd == "file") {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      Say("file=" + Rc(::close(fd)));
    } else if (cmd == "wait") {
      Say("wait=ready");
      std::string line;
      std::getline(std::cin, line);
    } else if (cmd == "threads") {
      const int n = std::atoi(arg().c_str());
      const int m = std::atoi(arg().c_str());
      std::atomic<int> errors{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < n; ++t) {
        threads.emplace_back([&] {
          for (int k = 0; k < m; ++k) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0 || ::close(fd) != 0) ++errors;
          }
        });
      }
      for (std::thread& t : threads) t.join();
      Say("threads=" + std::to_string(errors.load()) + " errors");
    } else if (cmd == "fork") {
      const pid_t pid = ::fork();
      if (pid == 0) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ::_exit(fd >= 0 && ::close(fd) == 0 ? 0 : 1);
      }
      int status = 0;
      ::waitpid(pid, &status, 0);
      Say(std::string("fork=") + (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed"));
    } else if (cmd == "dup" || cmd == "dupfd") {
      const int fd = cmd == "dup" ? ::dup(current()) : ::fcntl(current(), F_DUPFD_CLOEXEC, 0);
      if (fd >= 0) fds.push_back(fd);
      Say(cmd + "=" + Rc(fd));
    } else if (cmd == "dup2file") {
      const int file = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      const int r = ::dup2(file, current());
      ::close(file);
      Say("dup2=" + (r == current() ? std::string("ok") : Rc(r)));
    } else if (cmd == "closerange") {
      const std::string how = arg();
      const int flags = how == "cloexec"   ? CLOSE_RANGE_CLOEXEC
                        : how == "unshare" ? CLOSE_RANGE_UNSHARE
                                           : 0;
      const int first = current();
      const int r = ::close_range(static_cast<unsigned>(first), ~0u, flags);
      if (r == 0 && how != "cloexec") {
        while (!fds.empty() && fds.back() >= first) fds.pop_back();
      }
      Say("close_range=" + Rc(r));
    } else if (cmd == "closefrom") {
      const int first = current();
      ::closefrom(first);
      while (!fds.empty() && fds.back() >= first) fds.pop_back();
      Say("closefrom=ok");
    } else if (cmd == "vfork") {
      const pid_t pid = ::vfork();
      if (pid == 0) {
        ::dup2(2, 0);
        ::close_range(3, ~0u, 0);
        ::_exit(0);
      }
      int status = 0;
      ::waitpid(pid, &status, 0);
      Say(std::string("vfork=") +
          (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed"));
    } else if (cmd == "readwith") {
      const std::string how = arg();
      Say("readwith=ready");
      Say(std::string("readwith=") + (ReadLineWith(how) ? "line" : "eof"));
    } else if (cmd == "truncate") {
      Say("truncate=" + Truncate());
    } else if (cmd == "scribble") {
      Say("scribble=" + Scribble(static_cast<unsigned>(std::atoi(arg().c_str()))));
    } else if (cmd == "adapter") {
      return Adapter(/*raw=*/false);
    } else if (cmd == "rawadapter") {
      return Adapter(/*raw=*/true);
    } else {
      std::cerr << "netfault_probe: unknown command " << cmd << "\n";
      return 2;
    }
  }
  return 0;
}

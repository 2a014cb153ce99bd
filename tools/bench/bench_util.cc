#include "bench_util.h"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "netutil/errno_name.h"

namespace netutil::bench {
namespace {

std::string ErrText(const std::string& what, int err) {
  return what + ": " + ErrnoName(err) + " (" + std::strerror(err) + ")";
}

}  // namespace

Summary Summarize(std::vector<double> values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) {
    s.min = s.median = s.max = std::nan("");
    return s;
  }
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  const size_t mid = values.size() / 2;
  s.median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  return s;
}

std::string Fixed(double v, int digits) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Spread(const Summary& s, int digits) {
  return Fixed(s.min, digits) + " / " + Fixed(s.median, digits) + " / " + Fixed(s.max, digits);
}

std::optional<std::chrono::nanoseconds> ProcessCpu(pid_t pid) {
  clockid_t cid;
  if (::clock_getcpuclockid(pid, &cid) != 0) return std::nullopt;
  timespec ts{};
  if (::clock_gettime(cid, &ts) != 0) return std::nullopt;
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

std::chrono::nanoseconds SelfCpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// ---- Child ----------------------------------------------------------------------

Child::~Child() { Kill(); }

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      in_(std::exchange(o.in_, -1)),
      out_(std::exchange(o.out_, -1)),
      buf_(std::move(o.buf_)) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    Kill();
    pid_ = std::exchange(o.pid_, -1);
    in_ = std::exchange(o.in_, -1);
    out_ = std::exchange(o.out_, -1);
    buf_ = std::move(o.buf_);
  }
  return *this;
}

std::string Child::Start(const std::vector<std::string>& argv, bool keep_stderr) {
  Kill();
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) return ErrText("pipe2", errno);
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(to_child[0]);
    ::close(to_child[1]);
    return ErrText("pipe2", err);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
    return ErrText("fork", err);
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the driver died before prctl
    ::dup2(to_child[0], 0);
    ::dup2(from_child[1], 1);
    if (!keep_stderr) {
      int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) ::dup2(null, 2);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  pid_ = pid;
  in_ = to_child[1];
  out_ = from_child[0];
  buf_.clear();
  return "";
}

std::optional<std::string> Child::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    if (out_ < 0) return std::nullopt;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return std::nullopt;
    char chunk[4096];
    const ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(out_);
      out_ = -1;
      continue;
    }
    buf_.append(chunk, static_cast<size_t>(n));
  }
}

bool Child::WriteLine(const std::string& line) {
  if (in_ < 0) return false;
  const std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(in_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

int Child::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (in_ >= 0) ::close(in_);
  in_ = -1;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (Clock::now() < deadline) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (out_ >= 0) ::close(out_);
      out_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill();
  return -1;
}

void Child::Kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  if (in_ >= 0) ::close(in_);
  if (out_ >= 0) ::close(out_);
  in_ = out_ = -1;
}

std::string SelfDir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string FindTornadoPython(std::string* version, std::string* why) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("NETUTIL_BENCH_PYTHON"); env != nullptr && *env != '\0') {
    candidates = {env};  // an explicit choice is not second-guessed
  } else {
    // Debian's python3-tornado lives in the system interpreter's dist-packages.
    candidates = {"python3", "/usr/bin/python3"};
  }
  std::string tried;
  for (const std::string& py : candidates) {
    Child c;
    if (!c.Start({py, "-c",
                  "import sys, tornado; print('tornado ' + tornado.version + ', Python ' + "
                  "sys.version.split()[0])"})
             .empty()) {
      continue;
    }
    auto line = c.ReadLine(std::chrono::seconds(20));
    const int status = c.Stop(std::chrono::seconds(5));
    if (line && status == 0) {
      if (version) *version = *line;
      return py;
    }
    tried += (tried.empty() ? "" : ", ") + py;
  }
  if (why) *why = "no python3 with tornado (tried " + tried + "; set NETUTIL_BENCH_PYTHON)";
  return "";
}

// ---- Environment ------------------------------------------------------------------

std::string WriteSysctl(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrText("open " + path, errno);
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) return ErrText("write " + path, n < 0 ? err : EIO);
  return "";
}

std::optional<std::string> ReadSysctl(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string s;
  std::getline(in, s);
  return s;
}

std::string EnterPrivateNetns() {
  if (::unshare(CLONE_NEWNET) != 0) return ErrText("unshare(CLONE_NEWNET)", errno);
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return ErrText("socket", errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  std::string err;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    err = ErrText("ioctl(lo, SIOCGIFFLAGS)", errno);
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = ErrText("ioctl(lo, SIOCSIFFLAGS)", errno);
  }
  ::close(s);
  return err;
}

long RaiseFdLimit(long want) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur >= static_cast<rlim_t>(want)) return static_cast<long>(lim.rlim_cur);
  rlimit raised = lim;
  raised.rlim_cur = static_cast<rlim_t>(want);
  if (raised.rlim_max < raised.rlim_cur) raised.rlim_max = raised.rlim_cur;  // root only
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    raised.rlim_cur = std::min<rlim_t>(static_cast<rlim_t>(want), lim.rlim_max);
    raised.rlim_max = lim.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &raised);
  }
  ::getrlimit(RLIMIT_NOFILE, &lim);
  return static_cast<long>(lim.rlim_cur);
}

std::string MachineLine() {
  utsname u{};
  ::uname(&u);
  std::ostringstream os;
  os << u.sysname << " " << u.release << ", " << ::sysconf(_SC_NPROCESSORS_ONLN) << " CPUs";
  if (auto load = ReadSysctl("/proc/loadavg")) {
    std::istringstream in(*load);
    std::string a, b, c;
    in >> a >> b >> c;
    os << ", load average " << a << " " << b << " " << c;
  }
  return os.str();
}

}  // namespace netutil::bench

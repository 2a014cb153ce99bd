#include "bench_util.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "netutil/errno_name.h"
#include "netutil/netns/netns_setup.h"

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

namespace {

// The children of every thread of `pid`, from /proc (CONFIG_PROC_CHILDREN).
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(task.path() / "children");
    for (long child = 0; in >> child;) out.push_back(static_cast<pid_t>(child));
  }
  return out;
}

}  // namespace

std::optional<std::chrono::nanoseconds> TreeCpu(pid_t pid) {
  std::optional<std::chrono::nanoseconds> total = ProcessCpu(pid);
  if (!total) return std::nullopt;
  for (pid_t child : ChildrenOf(pid)) {
    if (std::optional<std::chrono::nanoseconds> c = TreeCpu(child)) *total += *c;
  }
  return total;
}

std::chrono::nanoseconds SelfCpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// ---- Child processes --------------------------------------------------------------

std::string StartChild(tools::ChildProcess& child, const std::vector<std::string>& argv,
                       bool keep_stderr) {
  tools::ChildSpec spec;
  spec.argv = argv;
  spec.stderr_to =
      keep_stderr ? tools::ChildSpec::Stderr::kInherit : tools::ChildSpec::Stderr::kDevNull;
  spec.die_with_parent = true;
  return child.Start(spec);
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
    tools::ChildProcess c;
    if (!StartChild(c, {py, "-c",
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

std::optional<std::string> ReadSysctl(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string s;
  std::getline(in, s);
  return s;
}

std::string EnterPrivateNetns() {
  if (::unshare(CLONE_NEWNET) != 0) return ErrText("unshare(CLONE_NEWNET)", errno);
  return netns::BringLoopbackUp();
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

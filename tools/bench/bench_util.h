// Helpers shared by the benchmark drivers: other processes' CPU clocks, child
// processes on pipes, a private network namespace, fd limits, and the summary
// statistics every figure is quoted with (min / median / max of interleaved rounds).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace netutil::bench {

using Clock = std::chrono::steady_clock;

// ---- Statistics -------------------------------------------------------------

struct Summary {
  double min = 0;
  double median = 0;
  double max = 0;
  size_t n = 0;
};
// Median of an even count is the mean of the two middle values.
Summary Summarize(std::vector<double> values);

// "12.3" with `digits` decimals; "-" for NaN.
std::string Fixed(double v, int digits = 2);
// "min / median / max" of a summary, each with `digits` decimals.
std::string Spread(const Summary& s, int digits = 2);

// ---- CPU time ---------------------------------------------------------------

// User + system CPU time of process `pid` (all its threads) so far, read from
// its process CPU clock (clock_getcpuclockid): nanosecond resolution, where
// /proc/<pid>/stat counts in 10 ms ticks. nullopt when the process is gone.
std::optional<std::chrono::nanoseconds> ProcessCpu(pid_t pid);
// The same for this process (getrusage(RUSAGE_SELF)).
std::chrono::nanoseconds SelfCpu();

// ---- Child processes ----------------------------------------------------------

// A child process whose stdin and stdout are pipes to us; stderr goes to
// /dev/null unless `keep_stderr` (diagnostics of a failing server). Killed
// (SIGKILL) and reaped on destruction, and by the kernel when we die
// (PR_SET_PDEATHSIG), so a crashed driver leaves no server behind.
class Child {
 public:
  Child() = default;
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;

  // Starts argv[0] (looked up in PATH when it has no '/'). Returns an error
  // text, or "" on success.
  std::string Start(const std::vector<std::string>& argv, bool keep_stderr = false);

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // One line from the child's stdout, without its newline, waiting at most
  // `timeout`; nullopt on timeout or end of output.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Writes `line` and a newline to the child's stdin; false when it is gone.
  bool WriteLine(const std::string& line);
  // Closes its stdin (servers exit on end of input) and waits at most
  // `timeout` for it to exit, then kills it. Returns the wait status, or -1.
  int Stop(std::chrono::milliseconds timeout);

 private:
  void Kill();
  pid_t pid_ = -1;
  int in_ = -1;   // the child's stdin (our write end)
  int out_ = -1;  // the child's stdout (our read end)
  std::string buf_;
};

// The directory of this executable (/proc/self/exe), where the build puts the
// server binaries and scripts next to the drivers.
std::string SelfDir();

// The Python that runs the Tornado and asyncio servers: $NETUTIL_BENCH_PYTHON
// when set, else the first of `python3` on PATH and Debian's system python3
// that imports tornado (python3-tornado installs into the system one only; a
// pyenv python3 earlier on PATH lacks it). Empty with `why` set when none does.
std::string FindTornadoPython(std::string* version, std::string* why);

// ---- Environment --------------------------------------------------------------

// Moves this process into a new network namespace whose lo is up, so the
// load runs on a loopback nobody else uses (no other test's connections, our
// own port range and somaxconn). Children started later inherit it. Returns
// "" on success, else why not (not root, no CLONE_NEWNET): the caller then
// runs on the host's loopback and says so.
std::string EnterPrivateNetns();
// Writes a /proc/sys file (inside our namespace for net.*); "" or why not.
std::string WriteSysctl(const std::string& path, const std::string& value);
std::optional<std::string> ReadSysctl(const std::string& path);

// Raises RLIMIT_NOFILE to at least `want` (the hard limit too when we may);
// returns the soft limit now in force.
long RaiseFdLimit(long want);

// "Linux 6.1.0, 2 CPUs, load 1.23 0.98 0.50": for the head of a report.
std::string MachineLine();

}  // namespace netutil::bench

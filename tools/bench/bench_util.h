// Helpers shared by the benchmark drivers: other processes' CPU clocks, the
// servers as child processes on pipes, a private network namespace, fd limits, and the summary
// statistics every figure is quoted with (min / median / max of interleaved rounds).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"

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
// The CPU of `pid` and of every live descendant (/proc/PID/task/*/children):
// a server run under a wrapper (netutil-trace) costs both processes. nullopt
// when `pid` itself is gone.
std::optional<std::chrono::nanoseconds> TreeCpu(pid_t pid);
// The same for this process (getrusage(RUSAGE_SELF)).
std::chrono::nanoseconds SelfCpu();

// ---- Child processes ----------------------------------------------------------

// The servers under load run as tools::ChildProcess (tools/common): stdin and
// stdout on pipes, killed and reaped on destruction and by the kernel when the
// driver dies (die_with_parent). Starts `argv` so; stderr to /dev/null unless
// `keep_stderr` (diagnostics of a failing server). "" or why not.
std::string StartChild(tools::ChildProcess& child, const std::vector<std::string>& argv,
                       bool keep_stderr = false);

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
// The first line of a /proc/sys file (netns::WriteProcFile, tools/netns,
// writes one).
std::optional<std::string> ReadSysctl(const std::string& path);

// Raises RLIMIT_NOFILE to at least `want` (the hard limit too when we may);
// returns the soft limit now in force.
long RaiseFdLimit(long want);

// "Linux 6.1.0, 2 CPUs, load 1.23 0.98 0.50": for the head of a report.
std::string MachineLine();

}  // namespace netutil::bench

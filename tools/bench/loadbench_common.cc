// What the subcommands of netutil-loadbench share (loadbench.h).
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>

#include "load_client.h"
#include "loadbench.h"
#include "netutil/netns/netns_setup.h"

namespace netutil::bench {
namespace {

using namespace std::chrono_literals;

std::string g_netns_note;

}  // namespace

const std::string& NetnsNote() { return g_netns_note; }

void SetUpNetwork(bool want_big_queues) {
  const std::string err = EnterPrivateNetns();
  if (!err.empty()) {
    g_netns_note = "host loopback (no private network namespace: " + err + ")";
    return;
  }
  g_netns_note = "a private network namespace (loopback only)";
  if (want_big_queues) {
    // Only inside our own namespace: these are per-namespace settings.
    (void)netns::WriteProcFile("/proc/sys/net/core/somaxconn", "65535");
    (void)netns::WriteProcFile("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
    (void)netns::WriteProcFile("/proc/sys/net/ipv4/tcp_max_syn_backlog", "65535");
  }
}

// ---- Servers ------------------------------------------------------------------------

std::vector<ServerSpec> Specs(bool with_python, const std::vector<std::string>& names,
                              std::string* python_note) {
  const std::string dir = SelfDir();
  std::string py, version, why;
  if (with_python) {
    py = FindTornadoPython(&version, &why);
    *python_note = py.empty() ? why : py + " (" + version + ")";
  } else {
    *python_note = "Python servers left out (--no-python)";
  }
  std::vector<ServerSpec> out;
  for (const std::string& n : names) {
    if (n == "raw" || n == "reference") {
      out.push_back({n, {dir + "/netutil-bench-server", "--impl", n}});
    } else if (!py.empty()) {
      out.push_back({n, {py, dir + "/bench-py/py_server.py", "--impl", n}});
    }
  }
  return out;
}

std::string StartServer(Server& s, const std::string& mode, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = s.spec.argv;
  argv.insert(argv.end(), {"--mode", mode});
  argv.insert(argv.end(), extra.begin(), extra.end());
  // NETUTIL_BENCH_SERVER_STDERR=1 shows the servers' diagnostics.
  const char* show = std::getenv("NETUTIL_BENCH_SERVER_STDERR");
  const std::string err = StartChild(s.child, argv, show != nullptr && *show == '1');
  if (!err.empty()) return s.spec.name + ": " + err;
  auto line = s.child.ReadLine(30s);
  if (!line || line->rfind("READY ", 0) != 0) {
    return s.spec.name + ": no READY line (got " + (line ? "'" + *line + "'" : "nothing") + ")";
  }
  s.addr = *SockAddr::FromIp("127.0.0.1", static_cast<uint16_t>(std::atoi(line->c_str() + 6)));
  return "";
}
// ---- Accept load ----------------------------------------------------------------------

std::optional<AcceptSample> MeasureAccept(Server& s, int n, bool queued, const AcceptLoad& load,
                                          std::vector<std::string>* failures) {
  const pid_t pid = s.child.pid();
  LoadOptions lo;
  lo.target = s.addr;
  lo.timeout = 120s;
  const auto cpu0 = TreeCpu(pid);
  const auto self0 = SelfCpu();
  LoadResult total;
  for (int left = n; left > 0 && total.failed == 0 && !total.timed_out;) {
    const int now = queued ? std::min(load.burst, left) : left;
    lo.connections = now;
    lo.concurrency = queued ? now : load.concurrency;
    if (queued) {
      int status = 0;
      if (::kill(pid, SIGSTOP) != 0 || ::waitpid(pid, &status, WUNTRACED) != pid ||
          !WIFSTOPPED(status)) {
        failures->push_back(s.spec.name + ": could not stop the server");
        return std::nullopt;
      }
      lo.after_all_started = [pid] { ::kill(pid, SIGCONT); };
    }
    const LoadResult r = RunLoad(lo);
    if (queued) ::kill(pid, SIGCONT);  // in case the load ended before the hook
    total.done += r.done;
    total.failed += r.failed;
    total.timed_out = total.timed_out || r.timed_out;
    total.wall += r.wall;
    for (const auto& [e, k] : r.errors) total.errors[e] += k;
    left -= now;
  }
  const auto self1 = SelfCpu();
  const auto cpu1 = TreeCpu(pid);
  if (!total.ok() || total.done != n || !cpu0 || !cpu1) {
    failures->push_back(s.spec.name + (queued ? " (queued): " : ": ") + total.Describe() +
                        (cpu1 ? "" : ", server gone"));
    return std::nullopt;
  }
  return AcceptSample{Micros(*cpu1 - *cpu0) / n,
                      n / std::chrono::duration<double>(total.wall).count(),
                      Micros(self1 - self0) / n};
}

std::string StartAcceptServers(std::vector<Server>& servers) {
  for (Server& s : servers) {
    if (std::string err = StartServer(s, "accept", {"--backlog", "1024"}); !err.empty()) return err;
  }
  return "";
}

RoundResults RunRounds(std::vector<Server>& servers, int rounds, int connections,
                       const AcceptLoad& load, const std::string& baseline,
                       const std::string& label) {
  RoundResults r;
  auto measure = [&](Server& s, int n, bool queued) {
    return MeasureAccept(s, n, queued, load, &r.failures);
  };
  // Warm-up: page in the servers' code and the kernel's paths (not counted).
  for (Server& s : servers) {
    (void)measure(s, std::max(500, connections / 5), false);
    (void)measure(s, load.burst, true);
  }
  r.failures.clear();

  const auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    for (const std::string regime : {"closed", "queued"}) {
      std::map<std::string, double> this_round;
      for (size_t k = 0; k < servers.size(); ++k) {
        Server& s = servers[(k + static_cast<size_t>(round)) % servers.size()];
        const std::optional<AcceptSample> sample = measure(s, connections, regime == "queued");
        if (!sample) continue;
        r.samples[regime][s.spec.name].push_back(*sample);
        this_round[s.spec.name] = sample->cpu_us;
      }
      if (this_round.count(baseline)) {
        for (auto& [name, us] : this_round) {
          r.ratios[regime][name].push_back(us / this_round[baseline]);
        }
      }
    }
    std::cerr << "loadbench " << label << ": round " << round + 1 << "/" << rounds << " done\n";
  }
  r.wall = Clock::now() - t0;
  return r;
}

std::vector<double> CpuOf(const std::vector<AcceptSample>& samples) {
  std::vector<double> cpu;
  for (const AcceptSample& x : samples) cpu.push_back(x.cpu_us);
  return cpu;
}

// ---- Table cells ----------------------------------------------------------------------

std::string MedianCell(const std::vector<double>& values) {
  const Summary c = Summarize(values);
  return Fixed(c.median) + " (" + Fixed(c.min) + " / " + Fixed(c.max) + ")";
}

std::string RatioCell(const std::vector<double>& ratios) {
  const Summary q = Summarize(ratios);
  return Fixed(q.median, 3) + " (" + Fixed(q.min, 2) + " / " + Fixed(q.max, 2) + ")";
}

void WriteFailedRounds(std::ostream& md, const std::string& heading,
                       const std::vector<std::string>& failures) {
  if (failures.empty()) return;
  md << "\n" << heading << ": ";
  for (const std::string& x : failures) md << x << "; ";
  md << "\n";
}

std::string Verdict(const Summary& ratios, double target) {
  if (ratios.n == 0) return "NOT MEASURED";
  if (ratios.median <= target) return "met";
  return "MISSED by " + Fixed(100 * (ratios.median - target), 1) + " points";
}

}  // namespace netutil::bench

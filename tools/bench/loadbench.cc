// netutil-loadbench: the load and fault figures of docs/RESULTS.md, each
// printed as a Markdown section on stdout (progress goes to stderr).
//
//   netutil-loadbench accept [--rounds R] [--connections N] [--concurrency C] [--burst B]
//                            [--no-python]
//   netutil-loadbench emfile [--rounds R] [--pending P] [--storm-ms MS] [--no-python]
//   netutil-loadbench burst  [--sizes 10000,50000] [--batch B]
//   netutil-loadbench interpose [--rounds R] [--connections N] [--concurrency C] [--burst B]
//
// Everything runs in a private network namespace when the process may make
// one (root): a loopback of our own, a port range and somaxconn of our own,
// nothing shared with other tests on the host. Without it the run uses the
// host's loopback and the section says so. Every loop is bounded in count
// and in time; servers die with the driver.
//
// accept: server CPU time per accepted connection (user + sys of the server
//   process, from its CPU clock, over a round / connections), for the raw
//   epoll + accept4 loop, the reference, Tornado and asyncio, under the same
//   client (load_client.h), in two regimes (closed loop and queued; see
//   RunAccept). Rounds are interleaved (the order rotates every round) and
//   ratios are taken per round against raw, then the median quoted, because
//   the machines are shared and noisy.
// emfile: each server's CPU use while out of fds for a while with clients
//   pending, and whether every pending client is accepted once fds return.
// interpose: the reference server's CPU per connection plain and under
//   LD_PRELOAD=libnetfault.so (empty plan; trace off, trace on), interleaved
//   like accept; the interposer's overhead as a ratio to plain.
// burst: N connections queued at once on two listeners of the reference,
//   then drained: all accepted, batches within the limit, the two listeners
//   alternating (neither waits more than one batch of the other).
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "load_client.h"
#include "netfault_control.h"
#include "netutil/accept_handler.h"
#include "netutil/bind_sockets.h"
#include "netutil/epoll_loop.h"
#include "netutil/errno_name.h"
#include "netutil/posix_sys.h"

namespace netutil::bench {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

double Us(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::micro>(d).count();
}
double Ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// ---- Command line -----------------------------------------------------------------

struct Flags {
  std::map<std::string, std::string> values;
  std::string error;

  static Flags Parse(int argc, char** argv, int first) {
    Flags f;
    for (int i = first; i < argc; ++i) {
      std::string k = argv[i];
      if (k.rfind("--", 0) != 0) {
        f.error = "unexpected argument " + k;
        break;
      }
      k = k.substr(2);
      if (k == "no-python") {
        f.values[k] = "1";
      } else if (i + 1 < argc) {
        f.values[k] = argv[++i];
      } else {
        f.error = "--" + k + " needs a value";
      }
    }
    return f;
  }
  int Int(const std::string& k, int dflt) const {
    auto it = values.find(k);
    return it == values.end() ? dflt : std::atoi(it->second.c_str());
  }
  bool Has(const std::string& k) const { return values.count(k) != 0; }
  std::string Str(const std::string& k, const std::string& dflt) const {
    auto it = values.find(k);
    return it == values.end() ? dflt : it->second;
  }
};

// The namespace note every section starts with.
std::string g_netns_note;

void SetUpNetwork(bool want_big_queues) {
  const std::string err = EnterPrivateNetns();
  if (!err.empty()) {
    g_netns_note = "host loopback (no private network namespace: " + err + ")";
    return;
  }
  g_netns_note = "a private network namespace (loopback only)";
  if (want_big_queues) {
    // Only inside our own namespace: these are per-namespace settings.
    (void)WriteSysctl("/proc/sys/net/core/somaxconn", "65535");
    (void)WriteSysctl("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
    (void)WriteSysctl("/proc/sys/net/ipv4/tcp_max_syn_backlog", "65535");
  }
}

// ---- Servers ------------------------------------------------------------------------

struct ServerSpec {
  std::string name;               // "raw", "reference", "tornado", "asyncio"
  std::vector<std::string> argv;  // without --mode
};

struct Server {
  ServerSpec spec;
  Child child;
  SockAddr addr;
};

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
  const std::string err = s.child.Start(argv, show != nullptr && *show == '1');
  if (!err.empty()) return s.spec.name + ": " + err;
  auto line = s.child.ReadLine(30s);
  if (!line || line->rfind("READY ", 0) != 0) {
    return s.spec.name + ": no READY line (got " + (line ? "'" + *line + "'" : "nothing") + ")";
  }
  s.addr = *SockAddr::FromIp("127.0.0.1", static_cast<uint16_t>(std::atoi(line->c_str() + 6)));
  return "";
}

// ---- accept -------------------------------------------------------------------------

// Two regimes, because server CPU per connection depends on how many
// connections each wake-up finds (a wake-up, epoll_wait and the scheduler
// cost a few µs, paid once per batch):
//  - closed loop: the client keeps C connections in flight. On 2 cores the
//    client is the bottleneck, so a server that is quick to go back to sleep
//    wakes for smaller batches than a slow one and pays more wake-ups per
//    connection; the figure mixes code cost and timing.
//  - queued: the server is stopped (SIGSTOP) while the client queues a burst
//    of B connections, then resumed (SIGCONT) and drains them: every server
//    sees full queues, all handshakes ran in the client's context, and the
//    figure is the cost of accepting and closing, code plus kernel.
int RunAccept(const Flags& f) {
  const int rounds = std::clamp(f.Int("rounds", 9), 1, 50);
  const int conns = std::clamp(f.Int("connections", 8000), 100, 200000);
  const int concurrency = std::clamp(f.Int("concurrency", 32), 1, 512);
  const int burst = std::clamp(f.Int("burst", 1000), 10, 1000);  // below the backlog (1024)
  SetUpNetwork(false);
  RaiseFdLimit(4096);

  std::string python_note;
  std::vector<Server> servers;
  for (ServerSpec& spec :
       Specs(!f.Has("no-python"), {"raw", "reference", "tornado", "asyncio"}, &python_note)) {
    servers.push_back(Server{std::move(spec), {}, {}});
  }
  for (Server& s : servers) {
    const std::string err = StartServer(s, "accept", {"--backlog", "1024"});
    if (!err.empty()) {
      std::cerr << "loadbench accept: " << err << "\n";
      return 1;
    }
  }

  struct Sample {
    double cpu_us = 0;  // server CPU per connection
    double conns_per_s = 0;
    double client_us = 0;  // client (this process) CPU per connection
  };
  const std::vector<std::string> regimes = {"closed", "queued"};
  // [regime][server]
  std::map<std::string, std::map<std::string, std::vector<Sample>>> samples;
  std::map<std::string, std::map<std::string, std::vector<double>>> ratios;  // per round, to raw
  std::vector<std::string> failures;

  auto measure = [&](Server& s, int n, bool queued) -> std::optional<Sample> {
    const pid_t pid = s.child.pid();
    LoadOptions lo;
    lo.target = s.addr;
    lo.timeout = 120s;
    const auto cpu0 = ProcessCpu(pid);
    const auto self0 = SelfCpu();
    LoadResult total;
    for (int left = n; left > 0 && total.failed == 0 && !total.timed_out;) {
      const int now = queued ? std::min(burst, left) : left;
      lo.connections = now;
      lo.concurrency = queued ? now : concurrency;
      if (queued) {
        int status = 0;
        if (::kill(pid, SIGSTOP) != 0 || ::waitpid(pid, &status, WUNTRACED) != pid ||
            !WIFSTOPPED(status)) {
          failures.push_back(s.spec.name + ": could not stop the server");
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
    const auto cpu1 = ProcessCpu(pid);
    if (!total.ok() || total.done != n || !cpu0 || !cpu1) {
      failures.push_back(s.spec.name + (queued ? " (queued): " : ": ") + total.Describe() +
                         (cpu1 ? "" : ", server gone"));
      return std::nullopt;
    }
    return Sample{Us(*cpu1 - *cpu0) / n, n / std::chrono::duration<double>(total.wall).count(),
                  Us(self1 - self0) / n};
  };

  // Warm-up: page in the servers' code and the kernel's paths (not counted).
  for (Server& s : servers) {
    (void)measure(s, std::max(500, conns / 5), false);
    (void)measure(s, burst, true);
  }
  failures.clear();

  const auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    for (const std::string& regime : regimes) {
      std::map<std::string, double> this_round;
      for (size_t k = 0; k < servers.size(); ++k) {
        Server& s = servers[(k + static_cast<size_t>(round)) % servers.size()];
        auto sample = measure(s, conns, regime == "queued");
        if (!sample) continue;
        samples[regime][s.spec.name].push_back(*sample);
        this_round[s.spec.name] = sample->cpu_us;
      }
      if (this_round.count("raw")) {
        for (auto& [name, us] : this_round) ratios[regime][name].push_back(us / this_round["raw"]);
      }
    }
    std::cerr << "loadbench accept: round " << round + 1 << "/" << rounds << " done\n";
  }
  const auto wall = Clock::now() - t0;
  for (Server& s : servers) s.child.Stop(5s);

  std::ostringstream md;
  md << "### Accept cost (server CPU per connection)\n\n"
     << "On " << g_netns_note << ". Each server is its own process listening on 127.0.0.1 "
     << "(backlog 1024); one C++ client (tools/bench/load_client.cc) opens " << conns
     << " connections per server per round and counts one done when it reads the server's FIN "
     << "(then resets it: no TIME_WAIT). CPU is user + sys of the server process (its CPU "
     << "clock) over those connections / " << conns << ". Two regimes: *closed loop*, at most "
     << concurrency << " connections in flight; *queued*, the server stopped (SIGSTOP) while "
     << "the client queues " << burst << " connections, then resumed to drain them (every "
     << "server then finds full queues; see the comment in tools/bench/loadbench.cc). " << rounds
     << " rounds, both regimes in every round, the server order rotating every round, "
     << "after a warm-up; " << Fixed(std::chrono::duration<double>(wall).count(), 1)
     << " s in all. Ratios are taken per round against raw, then the median; min / max are "
     << "over rounds. Python: " << python_note << ".\n\n"
     << "| server | closed loop: CPU µs/conn, median (min / max) | ratio to raw | conn/s "
     << "| client CPU µs/conn | queued: CPU µs/conn, median (min / max) | ratio to raw |\n"
     << "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  auto cpu_cell = [](const std::vector<Sample>& v) {
    std::vector<double> cpu;
    for (const Sample& x : v) cpu.push_back(x.cpu_us);
    const Summary c = Summarize(cpu);
    return Fixed(c.median) + " (" + Fixed(c.min) + " / " + Fixed(c.max) + ")";
  };
  auto ratio_cell = [](const std::vector<double>& v) {
    const Summary q = Summarize(v);
    return Fixed(q.median, 3) + " (" + Fixed(q.min, 2) + " / " + Fixed(q.max, 2) + ")";
  };
  for (Server& s : servers) {
    const std::string& n = s.spec.name;
    std::vector<double> rate, client;
    for (const Sample& x : samples["closed"][n]) {
      rate.push_back(x.conns_per_s);
      client.push_back(x.client_us);
    }
    md << "| " << n << " | " << cpu_cell(samples["closed"][n]) << " | "
       << ratio_cell(ratios["closed"][n]) << " | " << Fixed(Summarize(rate).median, 0) << " | "
       << Fixed(Summarize(client).median) << " | " << cpu_cell(samples["queued"][n]) << " | "
       << ratio_cell(ratios["queued"][n]) << " |\n";
  }
  const Summary closed = Summarize(ratios["closed"]["reference"]);
  const Summary queued = Summarize(ratios["queued"]["reference"]);
  auto verdict = [](const Summary& q) {
    return q.n == 0
               ? std::string("NOT MEASURED")
               : (q.median <= 1.05 ? "met"
                                   : "MISSED by " + Fixed(100 * (q.median - 1.05), 1) + " points");
  };
  md << "\nTarget: reference <= 1.05x raw. Closed loop: " << Fixed(closed.median, 3) << "x, "
     << verdict(closed) << "; queued: " << Fixed(queued.median, 3) << "x, " << verdict(queued)
     << ".\n";
  if (!failures.empty()) {
    md << "\nFailed rounds (left out): ";
    for (const auto& x : failures) md << x << "; ";
    md << "\n";
  }
  std::cout << md.str() << std::flush;
  return failures.empty() && closed.n > 0 ? 0 : 1;
}

// ---- emfile -------------------------------------------------------------------------

// Connects `n` clients and waits until each is established (then it sits in
// the listener's accept queue).
std::vector<int> ConnectPending(const SockAddr& addr, int n, std::string* err) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || (::connect(fd, addr.data(), addr.len()) != 0 && errno != EINPROGRESS)) {
      *err = std::string("connect: ") + ErrnoName(errno);
      if (fd >= 0) ::close(fd);
      break;
    }
    fds.push_back(fd);
  }
  for (int fd : fds) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 5000) != 1) *err = "a pending client never connected";
  }
  return fds;
}

// Waits until every client reads EOF (the server accepted and closed it);
// returns how many did within `timeout`.
int WaitAllClosed(std::vector<int>& fds, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int closed = 0;
  std::vector<bool> done(fds.size(), false);
  while (closed < static_cast<int>(fds.size()) && Clock::now() < deadline) {
    std::vector<pollfd> ps;
    std::vector<size_t> idx;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!done[i]) {
        ps.push_back({fds[i], POLLIN, 0});
        idx.push_back(i);
      }
    }
    if (::poll(ps.data(), ps.size(), 50) <= 0) continue;
    for (size_t k = 0; k < ps.size(); ++k) {
      if (ps[k].revents == 0) continue;
      char b;
      const ssize_t got = ::read(ps[k].fd, &b, 1);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        done[idx[k]] = true;
        ++closed;
      }
    }
  }
  return closed;
}

int RunEmfile(const Flags& f) {
  const int rounds = std::clamp(f.Int("rounds", 3), 1, 20);
  const int pending = std::clamp(f.Int("pending", 16), 1, 500);
  const int storm_ms = std::clamp(f.Int("storm-ms", 2000), 100, 20000);
  SetUpNetwork(false);
  std::string python_note;
  std::vector<ServerSpec> specs =
      Specs(!f.Has("no-python"), {"reference", "tornado", "asyncio"}, &python_note);

  struct Sample {
    double cpu_pct = 0;        // of one core, during the storm
    double errors = 0;         // reported to the loop / error callback
    int accepted_after = 0;    // clients that read EOF
    int server_accepted = -1;  // the server's own count
    double drain_ms = 0;       // from the limit's return to the last client accepted
  };
  std::map<std::string, std::vector<Sample>> samples;
  std::vector<std::string> failures;
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < specs.size(); ++k) {
      const ServerSpec& spec = specs[(k + static_cast<size_t>(round)) % specs.size()];
      Server s{spec, {}, {}};
      std::string err = StartServer(s, "emfile", {"--backlog", "128"});
      std::vector<int> clients;
      if (err.empty()) clients = ConnectPending(s.addr, pending, &err);
      if (err.empty() && !s.child.WriteLine("GO")) err = "server gone before GO";
      std::optional<std::string> line;
      if (err.empty() && ((line = s.child.ReadLine(10s)) != std::optional<std::string>("STORM"))) {
        err = "no STORM line";
      }
      if (!err.empty()) {
        failures.push_back(spec.name + ": " + err);
        for (int fd : clients) CloseWithReset(fd);
        continue;
      }
      const auto cpu0 = ProcessCpu(s.child.pid());
      const auto t0 = Clock::now();
      std::this_thread::sleep_for(milliseconds(storm_ms));
      const auto cpu1 = ProcessCpu(s.child.pid());
      const auto t1 = Clock::now();
      s.child.WriteLine("END");
      const int closed = WaitAllClosed(clients, 10s);
      const auto t2 = Clock::now();
      s.child.WriteLine("REPORT");
      line = s.child.ReadLine(10s);
      Sample x;
      if (cpu0 && cpu1) x.cpu_pct = 100.0 * Ms(*cpu1 - *cpu0) / Ms(t1 - t0);
      x.accepted_after = closed;
      x.drain_ms = Ms(t2 - t1);
      if (line) {
        const size_t e = line->find("errors=");
        if (e != std::string::npos) x.errors = std::atof(line->c_str() + e + 7);
        const size_t a = line->find("accepted=");
        if (a != std::string::npos) x.server_accepted = std::atoi(line->c_str() + a + 9);
      }
      samples[spec.name].push_back(x);
      for (int fd : clients) CloseWithReset(fd);
      s.child.Stop(5s);
      std::cerr << "loadbench emfile: " << spec.name << " round " << round + 1 << ": CPU "
                << Fixed(x.cpu_pct, 1) << "%, " << closed << "/" << pending << " accepted after\n";
    }
  }

  std::ostringstream md;
  md << "### EMFILE storm\n\n"
     << "On " << g_netns_note << ". Each server (its own process) gets " << pending
     << " established connections pending, then lowers RLIMIT_NOFILE to its lowest free fd, "
     << "so every accept fails with EMFILE; the driver reads the server's CPU clock over "
     << storm_ms << " ms of that, then the server restores the limit and the driver waits for "
     << "every pending client to be accepted (it reads EOF). " << rounds
     << " rounds, interleaved. Errors: what reached the error callback (reference) or the "
     << "event loop's exception handler (Python), during the whole run. A server that spins "
     << "gets only the share of a core the shared machine leaves it (see the load average at "
     << "the top), so its percentage is a floor. Python: " << python_note << ".\n\n"
     << "| server | CPU % of a core during the storm, min / median / max | errors reported, median "
     << "| pending accepted after (clients that read EOF / server's count), worst round "
     << "| ms from fds back to all accepted, median |\n"
     << "| --- | ---: | ---: | ---: | ---: |\n";
  bool ref_ok = false;
  double ref_cpu = std::nan("");
  for (const ServerSpec& spec : specs) {
    std::vector<double> cpu, errs, drain;
    int worst = pending;
    int worst_server = pending;
    for (const Sample& x : samples[spec.name]) {
      cpu.push_back(x.cpu_pct);
      errs.push_back(x.errors);
      drain.push_back(x.drain_ms);
      worst = std::min(worst, x.accepted_after);
      worst_server = std::min(worst_server, x.server_accepted);
    }
    const Summary c = Summarize(cpu);
    md << "| " << spec.name << " | " << Spread(c, 1) << " | " << Fixed(Summarize(errs).median, 0)
       << " | " << (cpu.empty() ? 0 : worst) << " / " << (cpu.empty() ? 0 : worst_server) << " of "
       << pending << " | " << Fixed(Summarize(drain).median, 0) << " |\n";
    if (spec.name == "reference") {
      ref_cpu = c.max;
      ref_ok = !cpu.empty() && c.max <= 5.0 && worst == pending && worst_server == pending;
    }
  }
  md << "\nTarget: the reference <= 5% of a core in every round and every pending connection "
     << "accepted after: " << (ref_ok ? "met" : "MISSED") << " (worst round " << Fixed(ref_cpu, 2)
     << "%).\n";
  if (!failures.empty()) {
    md << "\nFailed rounds: ";
    for (const auto& x : failures) md << x << "; ";
    md << "\n";
  }
  std::cout << md.str() << std::flush;
  return ref_ok && failures.empty() ? 0 : 1;
}

// ---- burst ---------------------------------------------------------------------------

// An IoLoop that forwards to an EpollLoop and brackets every handler call, so
// the burst can record which listener each readiness event served and how
// many connections that event accepted.
class RecordingLoop final : public IoLoop {
 public:
  explicit RecordingLoop(EpollLoop& inner) : inner_(inner) {}

  struct Event {
    int fd;
    int accepted;
  };
  std::vector<Event> events;
  int in_event = 0;  // accept callbacks of the event running now

  Status AddHandler(int fd, uint32_t ev, Handler h) override {
    return inner_.AddHandler(fd, ev, [this, h = std::move(h)](int f, uint32_t e) {
      in_event = 0;
      h(f, e);
      events.push_back({f, in_event});
    });
  }
  Status UpdateHandler(int fd, uint32_t ev) override { return inner_.UpdateHandler(fd, ev); }
  void RemoveHandler(int fd) override { inner_.RemoveHandler(fd); }
  TimerId CallLater(std::chrono::nanoseconds d, std::function<void()> fn) override {
    return inner_.CallLater(d, std::move(fn));
  }
  void CancelTimer(TimerId id) override { inner_.CancelTimer(id); }
  std::chrono::nanoseconds Now() override { return inner_.Now(); }

 private:
  EpollLoop& inner_;
};

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
  for (int i = 0; i < 2; ++i) {
    BindOptions bo;
    bo.address = "127.0.0.1";
    bo.backlog = per_listener;
    auto b = bind_sockets(sys, bo);
    if (!b.ok() || b.value().size() != 1) {
      r.error = "bind_sockets: " + (b.ok() ? std::string("not one listener") : b.error().message);
      return r;
    }
    listeners.push_back(std::move(b.value()[0]));
  }

  // Every client connects before the server runs at all: N queued at once.
  BurstClients clients;
  const auto c0 = Clock::now();
  r.error = clients.Start({listeners[0].addr, listeners[1].addr}, n, per_child);
  r.clients = (n + per_child - 1) / per_child;
  // Loopback handshakes finish in softirq right after connect; wait (bounded)
  // until both queues hold their share, so the drain starts from a full burst.
  const auto queued_by = Clock::now() + 30s;
  while (
      r.error.empty() && Clock::now() < queued_by &&
      (QueueLength(listeners[0].fd.get()) < n / 2 || QueueLength(listeners[1].fd.get()) < n / 2)) {
    std::this_thread::sleep_for(1ms);
  }
  r.connect_ms = Ms(Clock::now() - c0);
  r.queued_at_start = QueueLength(listeners[0].fd.get()) + QueueLength(listeners[1].fd.get());

  auto created = EpollLoop::Create(sys);
  if (r.error.empty() && !created.ok()) r.error = created.error().message;
  if (r.error.empty()) {
    EpollLoop& epoll = *created.value();
    RecordingLoop loop(epoll);
    AcceptOptions ao;
    ao.batch = batch;
    std::vector<AcceptHandle> handles;
    for (int i = 0; i < 2; ++i) {
      long long* count = &r.accepted[i];
      auto h = add_accept_handler(
          loop, sys, listeners[static_cast<size_t>(i)],
          [count, &loop](Fd, const SockAddr&) {
            ++*count;
            ++loop.in_event;
          },
          ao);
      if (!h.ok()) {
        r.error = h.error().message;
        break;
      }
      handles.push_back(std::move(h.value()));
    }
    const auto cpu0 = SelfCpu();
    const auto d0 = Clock::now();
    const auto deadline = d0 + 60s;
    while (r.error.empty() && r.accepted[0] + r.accepted[1] < n && Clock::now() < deadline) {
      auto ran = epoll.RunOnce(100ms);
      if (!ran.ok()) r.error = ran.error().message;
    }
    r.drain_ms = Ms(Clock::now() - d0);
    r.drain_cpu_us_per_conn = Us(SelfCpu() - cpu0) / std::max(1, n);
    for (const AcceptHandle& h : handles) {
      const AcceptStats s = h.stats();
      r.events += s.events;
      r.largest_batch = std::max(r.largest_batch, s.largest_batch);
      r.backoffs += s.backoffs;
      r.skipped_conns += s.skipped;
    }
    // Fairness: while a listener still had connections queued, how many
    // batches of the other listener ran between two of its own (or before its first)?
    const int fd0 = listeners[0].fd.get();
    long long got[2] = {0, 0};
    const long long total[2] = {r.accepted[0], r.accepted[1]};
    int other_run[2] = {0, 0};
    for (const auto& ev : loop.events) {
      const int me = ev.fd == fd0 ? 0 : 1;
      got[me] += ev.accepted;
      other_run[me] = 0;
      const int other = 1 - me;
      if (got[other] < total[other]) {
        ++other_run[other];
        r.max_wait = std::max(r.max_wait, other_run[other]);
      }
    }
  }
  clients.Release();
  return r;
}

int RunBurst(const Flags& f) {
  const int batch = std::clamp(f.Int("batch", kDefaultBacklog), 1, 100000);
  std::vector<int> sizes;
  {
    std::stringstream ss(f.Str("sizes", "10000,50000"));
    std::string item;
    while (std::getline(ss, item, ','))
      sizes.push_back(std::clamp(std::atoi(item.c_str()), 2, 60000));
  }
  SetUpNetwork(true);
  if (sizes.empty()) sizes = {10000, 50000};
  const long fd_limit = RaiseFdLimit(*std::max_element(sizes.begin(), sizes.end()) + 256L);
  std::ostringstream md;
  md << "### Bursts\n\n"
     << "On " << g_netns_note << ". Two reference listeners on 127.0.0.1 (backlog N/2 each); "
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

// ---- interpose ------------------------------------------------------------------------

// The cost of libnetfault.so (tools/interpose) on a real accept load: the
// reference server plain, preloaded with a control file holding an empty
// plan and the trace off (how faults are injected with nothing to inject),
// and preloaded with the trace on (every call formatted into the trace, as
// netconform runs it). Same client, regimes and round rotation as accept;
// ratios per round against the plain server, then the median.
int RunInterpose(const Flags& f) {
  const int rounds = std::clamp(f.Int("rounds", 9), 1, 50);
  const int conns = std::clamp(f.Int("connections", 8000), 100, 200000);
  const int concurrency = std::clamp(f.Int("concurrency", 32), 1, 512);
  const int burst = std::clamp(f.Int("burst", 1000), 10, 1000);
  SetUpNetwork(false);
  RaiseFdLimit(4096);

  const std::string dir = SelfDir();
  const std::string lib = dir + "/libnetfault.so";
  if (::access(lib.c_str(), R_OK) != 0) {
    std::cerr << "loadbench interpose: " << lib << " is not built\n";
    return 1;
  }
  std::string tmp = (std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp");
  tmp += "/netutil-interpose-XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) {
    std::cerr << "loadbench interpose: mkdtemp: " << ErrnoName(errno) << "\n";
    return 1;
  }
  struct TmpDir {
    std::string path;
    ~TmpDir() { std::filesystem::remove_all(path); }
  } tmp_dir{tmp};

  // Room for every line of the traced server, so its cost is the formatting
  // of every call, never the cheaper counting of a full area: about 4 lines
  // of 70 bytes per connection, warm-up included.
  const double traced_conns = (2.0 * rounds + 1) * conns + 2.0 * burst + 1000;
  netfault::Sizes big;
  big.trace_bytes = static_cast<size_t>(std::min(traced_conns * 320, double(2u << 30)));
  std::vector<std::unique_ptr<netfault::ControlFile>> controls;
  auto control = [&](const std::string& name, bool trace, const netfault::Sizes& sizes) {
    netfault::Config c;
    c.trace = trace;
    std::string error;
    controls.push_back(netfault::ControlFile::Create(tmp + "/" + name, c, sizes, &error));
    if (!controls.back()) std::cerr << "loadbench interpose: " << error << "\n";
    return tmp + "/" + name;
  };
  const std::string off = control("trace-off.ctl", false, netfault::Sizes{});
  const std::string on = control("trace-on.ctl", true, big);
  if (!controls[0] || !controls[1]) return 1;

  const std::string server = dir + "/netutil-bench-server";
  auto preloaded = [&](const std::string& ctl) {
    return std::vector<std::string>{
        "env", "LD_PRELOAD=" + lib, "NETFAULT_CONTROL=" + ctl, server, "--impl", "reference"};
  };
  const std::vector<std::string> names = {"plain", "netfault, trace off", "netfault, trace on"};
  std::vector<Server> servers;
  servers.push_back(Server{{names[0], {server, "--impl", "reference"}}, {}, {}});
  servers.push_back(Server{{names[1], preloaded(off)}, {}, {}});
  servers.push_back(Server{{names[2], preloaded(on)}, {}, {}});
  for (Server& s : servers) {
    const std::string err = StartServer(s, "accept", {"--backlog", "1024"});
    if (!err.empty()) {
      std::cerr << "loadbench interpose: " << err << "\n";
      return 1;
    }
  }

  std::vector<std::string> failures;
  // Server CPU µs per connection over `n` connections (see RunAccept's measure).
  auto measure = [&](Server& s, int n, bool queued) -> std::optional<double> {
    const pid_t pid = s.child.pid();
    LoadOptions lo;
    lo.target = s.addr;
    lo.timeout = 120s;
    const auto cpu0 = ProcessCpu(pid);
    LoadResult total;
    for (int left = n; left > 0 && total.failed == 0 && !total.timed_out;) {
      const int now = queued ? std::min(burst, left) : left;
      lo.connections = now;
      lo.concurrency = queued ? now : concurrency;
      if (queued) {
        int status = 0;
        if (::kill(pid, SIGSTOP) != 0 || ::waitpid(pid, &status, WUNTRACED) != pid ||
            !WIFSTOPPED(status)) {
          failures.push_back(s.spec.name + ": could not stop the server");
          return std::nullopt;
        }
        lo.after_all_started = [pid] { ::kill(pid, SIGCONT); };
      }
      const LoadResult r = RunLoad(lo);
      if (queued) ::kill(pid, SIGCONT);
      total.done += r.done;
      total.failed += r.failed;
      total.timed_out = total.timed_out || r.timed_out;
      for (const auto& [e, k] : r.errors) total.errors[e] += k;
      left -= now;
    }
    const auto cpu1 = ProcessCpu(pid);
    if (!total.ok() || total.done != n || !cpu0 || !cpu1) {
      failures.push_back(s.spec.name + (queued ? " (queued): " : ": ") + total.Describe());
      return std::nullopt;
    }
    return Us(*cpu1 - *cpu0) / n;
  };

  for (Server& s : servers) {
    (void)measure(s, std::max(500, conns / 5), false);
    (void)measure(s, burst, true);
  }
  failures.clear();

  const std::vector<std::string> regimes = {"closed", "queued"};
  std::map<std::string, std::map<std::string, std::vector<double>>> cpu;     // [regime][server]
  std::map<std::string, std::map<std::string, std::vector<double>>> ratios;  // per round, to plain
  const auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    for (const std::string& regime : regimes) {
      std::map<std::string, double> this_round;
      for (size_t k = 0; k < servers.size(); ++k) {
        Server& s = servers[(k + static_cast<size_t>(round)) % servers.size()];
        const std::optional<double> us = measure(s, conns, regime == "queued");
        if (!us) continue;
        cpu[regime][s.spec.name].push_back(*us);
        this_round[s.spec.name] = *us;
      }
      if (this_round.count("plain")) {
        for (auto& [name, us] : this_round) {
          ratios[regime][name].push_back(us / this_round["plain"]);
        }
      }
    }
    std::cerr << "loadbench interpose: round " << round + 1 << "/" << rounds << " done\n";
  }
  const auto wall = Clock::now() - t0;
  for (Server& s : servers) s.child.Stop(5s);

  const netfault::ControlFile& traced = *controls[1];
  std::ostringstream md;
  md << "### Interposer overhead (server CPU per connection)\n\n"
     << "On " << g_netns_note << ". The reference server (`netutil-bench-server --impl "
     << "reference`) three ways: *plain*; under `LD_PRELOAD=libnetfault.so` with a control file "
     << "holding an empty fault plan and the trace off; and the same with the trace on (every "
     << "call formatted into the control file, as netconform runs). Load, regimes and rotation "
     << "as in *Accept cost*: " << conns << " connections per server per round, closed loop at "
     << concurrency << " in flight and queued bursts of " << burst << ", " << rounds
     << " rounds after a warm-up, " << Fixed(std::chrono::duration<double>(wall).count(), 1)
     << " s in all. Ratios per round against plain, then the median (min / max over rounds). "
     << "The traced server wrote " << traced.TraceBytesUsed() / 1024 << " KiB of trace, "
     << traced.DroppedTotal() << " lines dropped.\n\n"
     << "| server | closed loop: CPU µs/conn, median (min / max) | ratio to plain "
     << "| queued: CPU µs/conn, median (min / max) | ratio to plain |\n"
     << "| --- | ---: | ---: | ---: | ---: |\n";
  auto cpu_cell = [](const std::vector<double>& v) {
    const Summary c = Summarize(v);
    return Fixed(c.median) + " (" + Fixed(c.min) + " / " + Fixed(c.max) + ")";
  };
  auto ratio_cell = [](const std::vector<double>& v) {
    const Summary q = Summarize(v);
    return Fixed(q.median, 3) + " (" + Fixed(q.min, 2) + " / " + Fixed(q.max, 2) + ")";
  };
  for (const std::string& n : names) {
    md << "| " << n << " | " << cpu_cell(cpu["closed"][n]) << " | "
       << ratio_cell(ratios["closed"][n]) << " | " << cpu_cell(cpu["queued"][n]) << " | "
       << ratio_cell(ratios["queued"][n]) << " |\n";
  }
  const Summary closed = Summarize(ratios["closed"][names[1]]);
  const Summary queued = Summarize(ratios["queued"][names[1]]);
  auto verdict = [](const Summary& q) {
    return q.n == 0
               ? std::string("NOT MEASURED")
               : (q.median <= 1.05 ? "met"
                                   : "MISSED by " + Fixed(100 * (q.median - 1.05), 1) + " points");
  };
  md << "\nTarget: interposer (empty plan, trace off) <= 1.05x plain. Closed loop: "
     << Fixed(closed.median, 3) << "x, " << verdict(closed)
     << "; queued: " << Fixed(queued.median, 3) << "x, " << verdict(queued)
     << ". With the trace on: closed " << Fixed(Summarize(ratios["closed"][names[2]]).median, 3)
     << "x, queued " << Fixed(Summarize(ratios["queued"][names[2]]).median, 3)
     << "x (no target).\n";
  if (!failures.empty()) {
    md << "\nFailed rounds (left out): ";
    for (const auto& x : failures) md << x << "; ";
    md << "\n";
  }
  std::cout << md.str() << std::flush;
  return failures.empty() && closed.n > 0 && queued.n > 0 ? 0 : 1;
}

}  // namespace
}  // namespace netutil::bench

int main(int argc, char** argv) {
  using namespace netutil::bench;
  // A server that died must show up as a failed round, not kill the driver
  // with SIGPIPE when it writes the next control line.
  ::signal(SIGPIPE, SIG_IGN);
  const std::string cmd = argc > 1 ? argv[1] : "";
  const Flags f = Flags::Parse(argc, argv, 2);
  if (!f.error.empty() ||
      (cmd != "accept" && cmd != "emfile" && cmd != "burst" && cmd != "interpose")) {
    std::cerr << (f.error.empty() ? "" : f.error + "\n")
              << "usage: netutil-loadbench accept|emfile|burst|interpose [--flag value ...] "
                 "(see the head of tools/bench/loadbench.cc)\n";
    return 2;
  }
  if (cmd == "accept") return RunAccept(f);
  if (cmd == "emfile") return RunEmfile(f);
  if (cmd == "interpose") return RunInterpose(f);
  return RunBurst(f);
}

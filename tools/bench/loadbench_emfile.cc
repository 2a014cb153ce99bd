// netutil-loadbench emfile: each server's CPU while out of fds with clients
// pending, and whether every pending client is accepted once fds return.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "load_client.h"
#include "loadbench.h"

namespace netutil::bench {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

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

// One server's round: its CPU during the storm and what came after.
struct Sample {
  double cpu_pct = 0;        // of one core, during the storm
  double errors = 0;         // reported to the loop / error callback
  int accepted_after = 0;    // clients that read EOF
  int server_accepted = -1;  // the server's own count
  double drain_ms = 0;       // from the limit's return to the last client accepted
};

// Starts `spec` in emfile mode with `pending` clients queued, and tells it
// GO: once it says STORM it is out of fds. "" or why not; the clients made
// are in `clients` either way.
std::string StartStorm(Server& s, int pending, std::vector<int>* clients) {
  std::string err = StartServer(s, "emfile", {"--backlog", "128"});
  if (err.empty()) *clients = ConnectPending(s.addr, pending, &err);
  if (err.empty() && !s.child.WriteLine("GO")) err = "server gone before GO";
  if (err.empty() && s.child.ReadLine(10s) != std::optional<std::string>("STORM")) {
    err = "no STORM line";
  }
  return err;
}

// The server's "DONE accepted=N errors=E ..." line into `x`.
void ReadDoneLine(const std::optional<std::string>& line, Sample* x) {
  if (!line) return;
  const size_t e = line->find("errors=");
  if (e != std::string::npos) x->errors = std::atof(line->c_str() + e + 7);
  const size_t a = line->find("accepted=");
  if (a != std::string::npos) x->server_accepted = std::atoi(line->c_str() + a + 9);
}

// The storm of a started server: its CPU over `storm_ms`, then the limit
// restored (END) and the time until every pending client is accepted.
Sample MeasureStorm(Server& s, std::vector<int>& clients, int storm_ms) {
  const auto cpu0 = ProcessCpu(s.child.pid());
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(milliseconds(storm_ms));
  const auto cpu1 = ProcessCpu(s.child.pid());
  const auto t1 = Clock::now();
  s.child.WriteLine("END");
  const int closed = WaitAllClosed(clients, 10s);
  const auto t2 = Clock::now();
  s.child.WriteLine("REPORT");
  Sample x;
  if (cpu0 && cpu1) x.cpu_pct = 100.0 * Millis(*cpu1 - *cpu0) / Millis(t1 - t0);
  x.accepted_after = closed;
  x.drain_ms = Millis(t2 - t1);
  ReadDoneLine(s.child.ReadLine(10s), &x);
  return x;
}

// One round of one server: its sample, or nullopt with the reason added to
// `failures`.
std::optional<Sample> RunRound(const ServerSpec& spec, const EmfileFlags& flags,
                               std::vector<std::string>* failures) {
  Server s{spec, {}, {}};
  std::vector<int> clients;
  if (std::string err = StartStorm(s, flags.pending, &clients); !err.empty()) {
    failures->push_back(spec.name + ": " + err);
    for (int fd : clients) CloseWithReset(fd);
    return std::nullopt;
  }
  const Sample x = MeasureStorm(s, clients, flags.storm_ms);
  for (int fd : clients) CloseWithReset(fd);
  s.child.Stop(5s);
  return x;
}

// The section: how the storm runs, one row a server, and whether the
// reference met its target; true when it did.
bool WriteEmfileSection(const EmfileFlags& flags, const std::vector<ServerSpec>& specs,
                        std::map<std::string, std::vector<Sample>>& samples,
                        const std::string& python_note, std::ostream& md) {
  const int pending = flags.pending;
  md << "### EMFILE storm\n\n"
     << "On " << NetnsNote() << ". Each server (its own process) gets " << pending
     << " established connections pending, then lowers RLIMIT_NOFILE to its lowest free fd, "
     << "so every accept fails with EMFILE; the driver reads the server's CPU clock over "
     << flags.storm_ms << " ms of that, then the server restores the limit and the driver waits "
     << "for every pending client to be accepted (it reads EOF). " << flags.rounds
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
  return ref_ok;
}

}  // namespace

int RunEmfile(const EmfileFlags& flags) {
  SetUpNetwork(false);
  std::string python_note;
  std::vector<ServerSpec> specs =
      Specs(!flags.no_python, {"reference", "tornado", "asyncio"}, &python_note);
  std::map<std::string, std::vector<Sample>> samples;
  std::vector<std::string> failures;
  for (int round = 0; round < flags.rounds; ++round) {
    for (size_t k = 0; k < specs.size(); ++k) {
      const ServerSpec& spec = specs[(k + static_cast<size_t>(round)) % specs.size()];
      const std::optional<Sample> x = RunRound(spec, flags, &failures);
      if (!x) continue;
      samples[spec.name].push_back(*x);
      std::cerr << "loadbench emfile: " << spec.name << " round " << round + 1 << ": CPU "
                << Fixed(x->cpu_pct, 1) << "%, " << x->accepted_after << "/" << flags.pending
                << " accepted after\n";
    }
  }
  std::ostringstream md;
  const bool ref_ok = WriteEmfileSection(flags, specs, samples, python_note, md);
  WriteFailedRounds(md, "Failed rounds", failures);
  std::cout << md.str() << std::flush;
  return ref_ok && failures.empty() ? 0 : 1;
}

}  // namespace netutil::bench

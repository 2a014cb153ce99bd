// The parts of netutil-loadbench (loadbench.cc: the command line) that its
// subcommands share: the network set-up, the servers under load, the accept
// measurement and the cells of the tables. One file per subcommand:
// loadbench_accept.cc, loadbench_emfile.cc, loadbench_burst.cc,
// loadbench_interpose.cc; each prints one Markdown section on stdout.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "netutil/bind_sockets.h"
#include "netutil/sock_addr.h"

namespace netutil::bench {

// ---- Flags (the command line's, with its defaults) -----------------------------------

// How the accept load is applied: at most `concurrency` connections in flight
// (closed loop), or bursts of `burst` queued while the server is stopped.
struct AcceptLoad {
  int concurrency = 32;
  int burst = 1000;  // below the servers' backlog (1024)
};

struct AcceptFlags {
  int rounds = 9;
  int connections = 8000;
  AcceptLoad load;
  bool no_python = false;
};

struct EmfileFlags {
  int rounds = 3;
  int pending = 16;
  int storm_ms = 2000;
  bool no_python = false;
};

struct BurstFlags {
  std::vector<int> sizes = {10000, 50000};
  int batch = kDefaultBacklog;
};

struct InterposeFlags {
  int rounds = 9;
  int connections = 8000;
  AcceptLoad load;
};

int RunAccept(const AcceptFlags& flags);
int RunEmfile(const EmfileFlags& flags);
int RunBurst(const BurstFlags& flags);
int RunInterpose(const InterposeFlags& flags);

// ---- Shared ---------------------------------------------------------------------------

inline double Micros(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::micro>(d).count();
}
inline double Millis(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Enters a private network namespace when we may (see EnterPrivateNetns),
// with large accept queues and port range when `want_big_queues`.
void SetUpNetwork(bool want_big_queues);
// Where the load runs, for the head of every section.
const std::string& NetnsNote();

struct ServerSpec {
  std::string name;               // "raw", "reference", "tornado", "asyncio"
  std::vector<std::string> argv;  // without --mode
};

struct Server {
  ServerSpec spec;
  tools::ChildProcess child;
  SockAddr addr;
};

// The servers of `names` (the Python ones only `with_python` and when a
// python3 with tornado is found; `python_note` says which or why not).
std::vector<ServerSpec> Specs(bool with_python, const std::vector<std::string>& names,
                              std::string* python_note);
// Starts the server in `mode` and waits for its READY line; "" or why not.
std::string StartServer(Server& s, const std::string& mode, const std::vector<std::string>& extra);

struct AcceptSample {
  double cpu_us = 0;  // server CPU per connection
  double conns_per_s = 0;
  double client_us = 0;  // client (this process) CPU per connection
};
// `n` connections to `s`, closed loop or queued (see RunAccept): the server's
// CPU per connection, or nullopt with the reason added to `failures`.
std::optional<AcceptSample> MeasureAccept(Server& s, int n, bool queued, const AcceptLoad& load,
                                          std::vector<std::string>* failures);

// What rounds of the accept load gave, per regime ("closed", "queued") and
// server name: every round's sample, and its CPU ratio to the baseline
// server's in the same round.
struct RoundResults {
  std::map<std::string, std::map<std::string, std::vector<AcceptSample>>> samples;
  std::map<std::string, std::map<std::string, std::vector<double>>> ratios;
  std::vector<std::string> failures;  // the rounds left out, and why
  std::chrono::nanoseconds wall{0};   // of the rounds, without the warm-up
};
// After a warm-up (not counted), `rounds` rounds of both regimes over every
// server, `connections` each, the server order rotating every round (the
// machines are shared and noisy: interleaving spreads the noise evenly).
// Progress goes to stderr as "loadbench <label>: round i/n done".
RoundResults RunRounds(std::vector<Server>& servers, int rounds, int connections,
                       const AcceptLoad& load, const std::string& baseline,
                       const std::string& label);
// The CPU per connection of each sample.
std::vector<double> CpuOf(const std::vector<AcceptSample>& samples);
// Starts every server in accept mode (backlog 1024); "" or the first failure.
std::string StartAcceptServers(std::vector<Server>& servers);

// The ratio to the baseline a target allows (reference to raw, interposer to plain).
inline constexpr double kTargetRatio = 1.05;
// "median (min / max)" of `values`.
std::string MedianCell(const std::vector<double>& values);
// The same for ratios, the median with three decimals.
std::string RatioCell(const std::vector<double>& ratios);
// "<heading>: a; b; " on a line of its own after a blank one; nothing when
// every round ran.
void WriteFailedRounds(std::ostream& md, const std::string& heading,
                       const std::vector<std::string>& failures);
// "met", "MISSED by N points" or "NOT MEASURED" for a median ratio against `target`.
std::string Verdict(const Summary& ratios, double target);

}  // namespace netutil::bench

// netutil-loadbench accept: server CPU time per accepted connection, raw
// against the reference, Tornado and asyncio (loadbench.cc has the overview).
#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "load_client.h"
#include "loadbench.h"

namespace netutil::bench {

using namespace std::chrono_literals;

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
int RunAccept(const AcceptFlags& flags) {
  const int rounds = flags.rounds;
  const int conns = flags.connections;
  const int concurrency = flags.load.concurrency;
  const int burst = flags.load.burst;
  SetUpNetwork(false);
  RaiseFdLimit(4096);

  std::string python_note;
  std::vector<Server> servers;
  for (ServerSpec& spec :
       Specs(!flags.no_python, {"raw", "reference", "tornado", "asyncio"}, &python_note)) {
    servers.push_back(Server{std::move(spec), {}, {}});
  }
  if (std::string err = StartAcceptServers(servers); !err.empty()) {
    std::cerr << "loadbench accept: " << err << "\n";
    return 1;
  }
  RoundResults r = RunRounds(servers, rounds, conns, flags.load, "raw", "accept");
  for (Server& s : servers) s.child.Stop(5s);
  const auto wall = r.wall;
  auto& samples = r.samples;
  auto& ratios = r.ratios;
  const std::vector<std::string>& failures = r.failures;

  std::ostringstream md;
  md << "### Accept cost (server CPU per connection)\n\n"
     << "On " << NetnsNote() << ". Each server is its own process listening on 127.0.0.1 "
     << "(backlog 1024); one C++ client (tools/bench/load_client.cc) opens " << conns
     << " connections per server per round and counts one done when it reads the server's FIN "
     << "(then resets it: no TIME_WAIT). CPU is user + sys of the server process (its CPU "
     << "clock) over those connections / " << conns << ". Two regimes: *closed loop*, at most "
     << concurrency << " connections in flight; *queued*, the server stopped (SIGSTOP) while "
     << "the client queues " << burst << " connections, then resumed to drain them (every "
     << "server then finds full queues; see the comment in tools/bench/loadbench_accept.cc). "
     << rounds << " rounds, both regimes in every round, the server order rotating every round, "
     << "after a warm-up; " << Fixed(std::chrono::duration<double>(wall).count(), 1)
     << " s in all. Ratios are taken per round against raw, then the median; min / max are "
     << "over rounds. Python: " << python_note << ".\n\n"
     << "| server | closed loop: CPU µs/conn, median (min / max) | ratio to raw | conn/s "
     << "| client CPU µs/conn | queued: CPU µs/conn, median (min / max) | ratio to raw |\n"
     << "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  auto cpu_cell = [](const std::vector<AcceptSample>& v) { return MedianCell(CpuOf(v)); };
  for (Server& s : servers) {
    const std::string& n = s.spec.name;
    std::vector<double> rate, client;
    for (const AcceptSample& x : samples["closed"][n]) {
      rate.push_back(x.conns_per_s);
      client.push_back(x.client_us);
    }
    md << "| " << n << " | " << cpu_cell(samples["closed"][n]) << " | "
       << RatioCell(ratios["closed"][n]) << " | " << Fixed(Summarize(rate).median, 0) << " | "
       << Fixed(Summarize(client).median) << " | " << cpu_cell(samples["queued"][n]) << " | "
       << RatioCell(ratios["queued"][n]) << " |\n";
  }
  const Summary closed = Summarize(ratios["closed"]["reference"]);
  const Summary queued = Summarize(ratios["queued"]["reference"]);
  md << "\nTarget: reference <= 1.05x raw. Closed loop: " << Fixed(closed.median, 3) << "x, "
     << Verdict(closed, kTargetRatio) << "; queued: " << Fixed(queued.median, 3) << "x, "
     << Verdict(queued, kTargetRatio) << ".\n";
  WriteFailedRounds(md, "Failed rounds (left out)", failures);
  std::cout << md.str() << std::flush;
  return failures.empty() && closed.n > 0 ? 0 : 1;
}

}  // namespace netutil::bench

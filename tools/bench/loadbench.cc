// netutil-loadbench: the load and fault figures of docs/RESULTS.md, each
// printed as a Markdown section on stdout (progress goes to stderr).
//
//   netutil-loadbench accept [--rounds R] [--connections N] [--concurrency C] [--burst B]
//                            [--no-python]
//   netutil-loadbench emfile [--rounds R] [--pending P] [--storm-ms MS] [--no-python]
//   netutil-loadbench burst  [--sizes 10000,50000] [--batch B]
//   netutil-loadbench interpose [--rounds R] [--connections N] [--concurrency C] [--burst B]
//
// One file per subcommand (loadbench_<name>.cc); this one is the command line.
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
//   RunAccept in loadbench_accept.cc). Rounds are interleaved (the order rotates every round) and
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
#include "loadbench.h"

#include <signal.h>

#include <CLI/CLI.hpp>

namespace {

using netutil::bench::AcceptLoad;

// --rounds, --connections, --concurrency and --burst of accept and interpose.
void AddAcceptLoad(CLI::App* cmd, int* rounds, int* connections, AcceptLoad* load) {
  cmd->add_option("--rounds", *rounds, "Rounds, the server order rotating every round")
      ->check(CLI::Range(1, 50));
  cmd->add_option("--connections", *connections, "Connections per server per round")
      ->check(CLI::Range(100, 200000));
  cmd->add_option("--concurrency", load->concurrency, "Closed loop: connections in flight")
      ->check(CLI::Range(1, 512));
  cmd->add_option("--burst", load->burst,
                  "Queued: connections per burst (below the servers' backlog, 1024)")
      ->check(CLI::Range(10, 1000));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace netutil::bench;
  // A server that died must show up as a failed round, not kill the driver
  // with SIGPIPE when it writes the next control line.
  ::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"netutil-loadbench: the load and fault figures of docs/RESULTS.md"};
  app.require_subcommand(1);

  AcceptFlags accept_flags;
  CLI::App* accept = app.add_subcommand("accept", "Server CPU time per accepted connection");
  AddAcceptLoad(accept, &accept_flags.rounds, &accept_flags.connections, &accept_flags.load);
  accept->add_flag("--no-python", accept_flags.no_python, "Leave out Tornado and asyncio");

  EmfileFlags emfile_flags;
  CLI::App* emfile =
      app.add_subcommand("emfile", "Servers out of fds with clients pending: CPU and recovery");
  emfile->add_option("--rounds", emfile_flags.rounds, "Rounds")->check(CLI::Range(1, 20));
  emfile->add_option("--pending", emfile_flags.pending, "Clients pending during the storm")
      ->check(CLI::Range(1, 500));
  emfile->add_option("--storm-ms", emfile_flags.storm_ms, "How long the fds are out")
      ->check(CLI::Range(100, 20000));
  emfile->add_flag("--no-python", emfile_flags.no_python, "Leave out Tornado and asyncio");

  BurstFlags burst_flags;
  CLI::App* burst = app.add_subcommand("burst", "N connections queued at once, then drained");
  burst->add_option("--sizes", burst_flags.sizes, "Burst sizes, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(2, 60000));
  burst->add_option("--batch", burst_flags.batch, "add_accept_handler's batch")
      ->check(CLI::Range(1, 100000));

  InterposeFlags interpose_flags;
  CLI::App* interpose =
      app.add_subcommand("interpose", "The cost of libnetfault.so on the accept load");
  AddAcceptLoad(interpose, &interpose_flags.rounds, &interpose_flags.connections,
                &interpose_flags.load);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints the usage or the error
    return rc == 0 ? 0 : 2;
  }
  if (*accept) return RunAccept(accept_flags);
  if (*emfile) return RunEmfile(emfile_flags);
  if (*burst) return RunBurst(burst_flags);
  return RunInterpose(interpose_flags);
}

// netutil-loadbench interpose: the reference server's CPU per connection,
// plain and under LD_PRELOAD=libnetfault.so.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "loadbench.h"
#include "netfault_control.h"
#include "netutil/errno_name.h"

namespace netutil::bench {

using namespace std::chrono_literals;

// The cost of libnetfault.so (tools/interpose) on a real accept load: the
// reference server plain, preloaded with a control file holding an empty
// plan and the trace off (how faults are injected with nothing to inject),
// and preloaded with the trace on (every call formatted into the trace, as
// netconform runs it). Same client, regimes and round rotation as accept;
// ratios per round against the plain server, then the median.
int RunInterpose(const InterposeFlags& flags) {
  const int rounds = flags.rounds;
  const int conns = flags.connections;
  const int concurrency = flags.load.concurrency;
  const int burst = flags.load.burst;
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
  if (std::string err = StartAcceptServers(servers); !err.empty()) {
    std::cerr << "loadbench interpose: " << err << "\n";
    return 1;
  }
  RoundResults r = RunRounds(servers, rounds, conns, flags.load, "plain", "interpose");
  for (Server& s : servers) s.child.Stop(5s);
  const auto wall = r.wall;
  auto& ratios = r.ratios;
  const std::vector<std::string>& failures = r.failures;

  const netfault::ControlFile& traced = *controls[1];
  std::ostringstream md;
  md << "### Interposer overhead (server CPU per connection)\n\n"
     << "On " << NetnsNote() << ". The reference server (`netutil-bench-server --impl "
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
  for (const std::string& n : names) {
    md << "| " << n << " | " << MedianCell(CpuOf(r.samples["closed"][n])) << " | "
       << RatioCell(ratios["closed"][n]) << " | " << MedianCell(CpuOf(r.samples["queued"][n]))
       << " | " << RatioCell(ratios["queued"][n]) << " |\n";
  }
  const Summary closed = Summarize(ratios["closed"][names[1]]);
  const Summary queued = Summarize(ratios["queued"][names[1]]);
  md << "\nTarget: interposer (empty plan, trace off) <= 1.05x plain. Closed loop: "
     << Fixed(closed.median, 3) << "x, " << Verdict(closed, kTargetRatio)
     << "; queued: " << Fixed(queued.median, 3) << "x, " << Verdict(queued, kTargetRatio)
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

}  // namespace netutil::bench

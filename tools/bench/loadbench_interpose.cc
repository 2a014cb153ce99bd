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

namespace {

// The three servers' names: plain, preloaded with the trace off, with it on.
const std::vector<std::string> kServerNames = {"plain", "netfault, trace off",
                                               "netfault, trace on"};

// A temp dir, removed with what is in it when this goes.
struct ScratchDir {
  std::string path;
  ~ScratchDir() {
    if (!path.empty()) std::filesystem::remove_all(path);
  }
};

// A new dir under $TMPDIR (or /tmp); "" when it cannot be made (said on stderr).
std::string MakeScratchDir() {
  std::string tmp = (std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp");
  tmp += "/netutil-interpose-XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) {
    std::cerr << "loadbench interpose: mkdtemp: " << ErrnoName(errno) << "\n";
    return "";
  }
  return tmp;
}

// The control files in `dir` the preloaded servers read: an empty plan with
// the trace off, and the same with the trace on.
struct Controls {
  std::string off_path, on_path;
  std::unique_ptr<netfault::ControlFile> off, on;
  bool ok() const { return off && on; }
};

Controls MakeControls(const std::string& dir, const InterposeFlags& flags) {
  // Room for every line of the traced server, so its cost is the formatting
  // of every call, never the cheaper counting of a full area: about 4 lines
  // of 70 bytes per connection, warm-up included.
  const double traced_conns =
      (2.0 * flags.rounds + 1) * flags.connections + 2.0 * flags.load.burst + 1000;
  netfault::Sizes big;
  big.trace_bytes = static_cast<size_t>(std::min(traced_conns * 320, double(2u << 30)));
  auto control = [&](const std::string& name, bool trace, const netfault::Sizes& sizes,
                     std::string* path) {
    netfault::Config c;
    c.trace = trace;
    std::string error;
    *path = dir + "/" + name;
    std::unique_ptr<netfault::ControlFile> made =
        netfault::ControlFile::Create(*path, c, sizes, &error);
    if (!made) std::cerr << "loadbench interpose: " << error << "\n";
    return made;
  };
  Controls c;
  c.off = control("trace-off.ctl", false, netfault::Sizes{}, &c.off_path);
  c.on = control("trace-on.ctl", true, big, &c.on_path);
  return c;
}

// The reference server of `bin_dir` plain, and preloaded with `lib` reading
// each control file.
std::vector<Server> InterposeServers(const std::string& bin_dir, const std::string& lib,
                                     const Controls& controls) {
  const std::string server = bin_dir + "/netutil-bench-server";
  auto preloaded = [&](const std::string& ctl) {
    return std::vector<std::string>{
        "env", "LD_PRELOAD=" + lib, "NETFAULT_CONTROL=" + ctl, server, "--impl", "reference"};
  };
  std::vector<Server> servers;
  servers.push_back(Server{{kServerNames[0], {server, "--impl", "reference"}}, {}, {}});
  servers.push_back(Server{{kServerNames[1], preloaded(controls.off_path)}, {}, {}});
  servers.push_back(Server{{kServerNames[2], preloaded(controls.on_path)}, {}, {}});
  return servers;
}

// The section's head and its table: each server's CPU per connection and
// its ratio to plain, in both regimes.
void WriteInterposeTable(const InterposeFlags& flags, RoundResults& r,
                         const netfault::ControlFile& traced, std::ostream& md) {
  md << "### Interposer overhead (server CPU per connection)\n\n"
     << "On " << NetnsNote() << ". The reference server (`netutil-bench-server --impl "
     << "reference`) three ways: *plain*; under `LD_PRELOAD=libnetfault.so` with a control file "
     << "holding an empty fault plan and the trace off; and the same with the trace on (every "
     << "call formatted into the control file, as netconform runs). Load, regimes and rotation "
     << "as in *Accept cost*: " << flags.connections
     << " connections per server per round, closed loop at " << flags.load.concurrency
     << " in flight and queued bursts of " << flags.load.burst << ", " << flags.rounds
     << " rounds after a warm-up, " << Fixed(std::chrono::duration<double>(r.wall).count(), 1)
     << " s in all. Ratios per round against plain, then the median (min / max over rounds). "
     << "The traced server wrote " << traced.TraceBytesUsed() / 1024 << " KiB of trace, "
     << traced.DroppedTotal() << " lines dropped.\n\n"
     << "| server | closed loop: CPU µs/conn, median (min / max) | ratio to plain "
     << "| queued: CPU µs/conn, median (min / max) | ratio to plain |\n"
     << "| --- | ---: | ---: | ---: | ---: |\n";
  for (const std::string& n : kServerNames) {
    md << "| " << n << " | " << MedianCell(CpuOf(r.samples["closed"][n])) << " | "
       << RatioCell(r.ratios["closed"][n]) << " | " << MedianCell(CpuOf(r.samples["queued"][n]))
       << " | " << RatioCell(r.ratios["queued"][n]) << " |\n";
  }
}

}  // namespace

// The cost of libnetfault.so (tools/interpose) on a real accept load: the
// reference server plain, preloaded with a control file holding an empty
// plan and the trace off (how faults are injected with nothing to inject),
// and preloaded with the trace on (every call formatted into the trace, as
// netconform runs it). Same client, regimes and round rotation as accept;
// ratios per round against the plain server, then the median.
int RunInterpose(const InterposeFlags& flags) {
  SetUpNetwork(false);
  RaiseFdLimit(4096);
  const std::string dir = SelfDir();
  const std::string lib = dir + "/libnetfault.so";
  if (::access(lib.c_str(), R_OK) != 0) {
    std::cerr << "loadbench interpose: " << lib << " is not built\n";
    return 1;
  }
  const ScratchDir tmp{MakeScratchDir()};
  if (tmp.path.empty()) return 1;
  const Controls controls = MakeControls(tmp.path, flags);
  if (!controls.ok()) return 1;
  std::vector<Server> servers = InterposeServers(dir, lib, controls);
  if (std::string err = StartAcceptServers(servers); !err.empty()) {
    std::cerr << "loadbench interpose: " << err << "\n";
    return 1;
  }
  RoundResults r =
      RunRounds(servers, flags.rounds, flags.connections, flags.load, "plain", "interpose");
  for (Server& s : servers) s.child.Stop(5s);

  std::ostringstream md;
  WriteInterposeTable(flags, r, *controls.on, md);
  const Summary closed = Summarize(r.ratios["closed"][kServerNames[1]]);
  const Summary queued = Summarize(r.ratios["queued"][kServerNames[1]]);
  md << "\nTarget: interposer (empty plan, trace off) <= 1.05x plain. Closed loop: "
     << Fixed(closed.median, 3) << "x, " << Verdict(closed, kTargetRatio)
     << "; queued: " << Fixed(queued.median, 3) << "x, " << Verdict(queued, kTargetRatio)
     << ". With the trace on: closed "
     << Fixed(Summarize(r.ratios["closed"][kServerNames[2]]).median, 3) << "x, queued "
     << Fixed(Summarize(r.ratios["queued"][kServerNames[2]]).median, 3) << "x (no target).\n";
  WriteFailedRounds(md, "Failed rounds (left out)", r.failures);
  std::cout << md.str() << std::flush;
  return r.failures.empty() && closed.n > 0 && queued.n > 0 ? 0 : 1;
}

}  // namespace netutil::bench

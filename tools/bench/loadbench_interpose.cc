// netutil-loadbench interpose: the reference's and Tornado's server CPU per
// connection, plain, under LD_PRELOAD=libnetfault.so and under netutil-trace.
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

// Issue 13's target for the tracer with an empty plan.
constexpr double kTracerTargetRatio = 1.10;

// Each implementation's five servers: plain, preloaded with libnetfault.so
// (trace off, trace on), and under netutil-trace (trace off, trace on); every
// instrumented one with an empty fault plan.
const std::vector<std::string> kServerNames = {"plain", "netfault, trace off", "netfault, trace on",
                                               "tracer, trace off", "tracer, trace on"};

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

// One control file per instrumented server (a region's fd table and trace
// belong to one process): an empty plan, the trace off or on.
struct Control {
  std::string path;
  std::unique_ptr<netfault::ControlFile> file;
};

Control MakeControl(const std::string& path, bool trace, const InterposeFlags& flags) {
  // Room for every line of a traced server, so its cost is the formatting
  // of every call, never the cheaper counting of a full area: about 4 lines
  // of 70 bytes per connection, warm-up included.
  const double traced_conns =
      (2.0 * flags.rounds + 1) * flags.connections + 2.0 * flags.load.burst + 1000;
  netfault::Sizes sizes;
  if (trace)
    sizes.trace_bytes = static_cast<size_t>(std::min(traced_conns * 400, double(2u << 30)));
  netfault::Config c;
  c.trace = trace;
  std::string error;
  Control made{path, netfault::ControlFile::Create(path, c, sizes, &error)};
  if (!made.file) std::cerr << "loadbench interpose: " << error << "\n";
  return made;
}

// The five servers of one implementation (`argv` runs it plain) and the
// control files they read.
struct Group {
  std::string impl;
  std::vector<Server> servers;
  std::vector<Control> controls;  // [netfault off, netfault on, tracer off, tracer on]
};

std::optional<Group> MakeGroup(const ServerSpec& spec, const std::string& dir,
                               const std::string& lib, const std::string& tracer,
                               const InterposeFlags& flags) {
  Group g{spec.name, {}, {}};
  for (int i = 0; i < 4; ++i) {
    g.controls.push_back(
        MakeControl(dir + "/" + spec.name + "-" + std::to_string(i) + ".ctl", i % 2 == 1, flags));
    if (!g.controls.back().file) return std::nullopt;
  }
  auto with = [&](std::vector<std::string> prefix) {
    prefix.insert(prefix.end(), spec.argv.begin(), spec.argv.end());
    return prefix;
  };
  auto preloaded = [&](const Control& c) {
    return with({"env", "LD_PRELOAD=" + lib, "NETFAULT_CONTROL=" + c.path});
  };
  auto traced = [&](const Control& c) {
    return with({tracer, "--netfault-control", c.path, "--"});
  };
  g.servers.push_back(Server{{kServerNames[0], spec.argv}, {}, {}});
  g.servers.push_back(Server{{kServerNames[1], preloaded(g.controls[0])}, {}, {}});
  g.servers.push_back(Server{{kServerNames[2], preloaded(g.controls[1])}, {}, {}});
  g.servers.push_back(Server{{kServerNames[3], traced(g.controls[2])}, {}, {}});
  g.servers.push_back(Server{{kServerNames[4], traced(g.controls[3])}, {}, {}});
  return g;
}

// One implementation's table: each server's CPU per connection and its ratio
// to plain, in both regimes.
void WriteGroupTable(const Group& g, RoundResults& r, std::ostream& md) {
  md << "**" << g.impl << "** (" << Fixed(std::chrono::duration<double>(r.wall).count(), 1)
     << " s of rounds; the traced servers wrote " << g.controls[1].file->TraceBytesUsed() / 1024
     << " KiB (netfault) and " << g.controls[3].file->TraceBytesUsed() / 1024
     << " KiB (tracer) of trace, "
     << g.controls[1].file->DroppedTotal() + g.controls[3].file->DroppedTotal()
     << " lines dropped)\n\n"
     << "| server | closed loop: CPU µs/conn, median (min / max) | ratio to plain "
     << "| queued: CPU µs/conn, median (min / max) | ratio to plain |\n"
     << "| --- | ---: | ---: | ---: | ---: |\n";
  for (const std::string& n : kServerNames) {
    md << "| " << n << " | " << MedianCell(CpuOf(r.samples["closed"][n])) << " | "
       << RatioCell(r.ratios["closed"][n]) << " | " << MedianCell(CpuOf(r.samples["queued"][n]))
       << " | " << RatioCell(r.ratios["queued"][n]) << " |\n";
  }
  md << "\n";
}

void WriteHead(const InterposeFlags& flags, const std::string& python_note, std::ostream& md) {
  md << "### Interposer and tracer overhead (server CPU per connection)\n\n"
     << "On " << NetnsNote() << ". Each server five ways, every instrumented one with an empty "
     << "fault plan: *plain*; under `LD_PRELOAD=libnetfault.so` with the trace off, and on (every "
     << "call formatted into the control file, as netconform runs); under `netutil-trace "
     << "--netfault-control` (ptrace + seccomp, docs/TRACER.md) with the trace off, and on. A "
     << "traced server's CPU is its own and its tracer's (the process tree). Load, regimes and "
     << "rotation as in *Accept cost*: " << flags.connections
     << " connections per server per round, closed loop at " << flags.load.concurrency
     << " in flight and queued bursts of " << flags.load.burst << ", " << flags.rounds
     << " rounds after a warm-up, the implementations one after the other. Ratios per round "
     << "against the same implementation's plain server, then the median (min / max over "
     << "rounds). Python: " << python_note << ".\n\n";
}

}  // namespace

// The cost of libnetfault.so (tools/interpose) and of netutil-trace
// (tools/tracer) on a real accept load, for the reference server and for
// Tornado's: each plain, preloaded and traced, with an empty plan and the
// trace off and on. Same client, regimes and round rotation as accept; ratios
// per round against the same implementation's plain server, then the median.
int RunInterpose(const InterposeFlags& flags) {
  SetUpNetwork(false);
  RaiseFdLimit(4096);
  const std::string dir = SelfDir();
  const std::string lib = dir + "/libnetfault.so";
  const std::string tracer = dir + "/netutil-trace";
  if (::access(lib.c_str(), R_OK) != 0 || ::access(tracer.c_str(), X_OK) != 0) {
    std::cerr << "loadbench interpose: " << lib << " or " << tracer << " is not built\n";
    return 1;
  }
  const ScratchDir tmp{MakeScratchDir()};
  if (tmp.path.empty()) return 1;
  std::string python_note;
  const std::vector<ServerSpec> specs = Specs(true, {"reference", "tornado"}, &python_note);
  std::ostringstream md;
  WriteHead(flags, python_note, md);
  bool ok = true;
  std::vector<std::string> targets;
  for (const ServerSpec& spec : specs) {
    std::optional<Group> g = MakeGroup(spec, tmp.path, lib, tracer, flags);
    if (!g) return 1;
    if (std::string err = StartAcceptServers(g->servers); !err.empty()) {
      std::cerr << "loadbench interpose: " << err << "\n";
      return 1;
    }
    RoundResults r = RunRounds(g->servers, flags.rounds, flags.connections, flags.load, "plain",
                               "interpose " + spec.name);
    for (Server& s : g->servers) s.child.Stop(5s);
    WriteGroupTable(*g, r, md);
    WriteFailedRounds(md, "Failed rounds of " + spec.name + " (left out)", r.failures);
    if (spec.name == "reference") {
      const Summary pre = Summarize(r.ratios["closed"][kServerNames[1]]);
      const Summary traced = Summarize(r.ratios["closed"][kServerNames[3]]);
      // "Target:" lines: make_results.sh lists them at the top of RESULTS.md.
      targets.push_back(
          "Target: interposer (empty plan, trace off) <= 1.05x plain, reference: "
          "closed loop " +
          Fixed(pre.median, 3) + "x, " + Verdict(pre, kTargetRatio) + ".");
      targets.push_back(
          "Target: tracer (empty plan, trace off) <= 1.10x plain, reference: "
          "closed loop " +
          Fixed(traced.median, 3) + "x, " + Verdict(traced, kTracerTargetRatio) + ".");
      ok = ok && pre.n > 0 && traced.n > 0;
    }
    ok = ok && r.failures.empty();
  }
  for (const std::string& t : targets) md << t << "\n";
  std::cout << md.str() << std::flush;
  return ok ? 0 : 1;
}

}  // namespace netutil::bench

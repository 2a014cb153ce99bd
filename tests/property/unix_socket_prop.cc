// bind_unix_socket against every state a path can be in: nothing, a stale
// socket file, another process's live listener, a regular file, a directory,
// a symlink; any mode and umask; abstract names.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "generators.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/fakes/fake_kernel.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::Call;
using fakes::FakeFs;
using fakes::FakeKernel;

enum class AtPath { kNothing, kStale, kLive, kFile, kDir, kSymlinkToLive, kSymlinkToStale };

const char* Name(AtPath a) {
  switch (a) {
    case AtPath::kNothing:
      return "nothing";
    case AtPath::kStale:
      return "stale socket";
    case AtPath::kLive:
      return "live listener";
    case AtPath::kFile:
      return "regular file";
    case AtPath::kDir:
      return "directory";
    case AtPath::kSymlinkToLive:
      return "symlink to a live socket";
    case AtPath::kSymlinkToStale:
      return "symlink to a stale socket";
  }
  return "?";
}

RC_GTEST_PROP(UnixSocket,
              UNIX_001_UNIX_003_UNIX_004_UNIX_005_UNIX_006_UNIX_008_UNIX_009_UNIX_010_PathStates,
              ()) {
  const AtPath at =
      *rc::gen::element(AtPath::kNothing, AtPath::kStale, AtPath::kLive, AtPath::kFile,
                        AtPath::kDir, AtPath::kSymlinkToLive, AtPath::kSymlinkToStale);
  RC_TAG(Name(at));
  const mode_t mode = static_cast<mode_t>(*rc::gen::inRange(0, 07777 + 1));
  const mode_t umask = static_cast<mode_t>(*rc::gen::inRange(0, 0777 + 1));
  const int backlog = DrawBacklog();
  const std::string path = "/run/app.sock";
  const SockAddr addr = *SockAddr::Unix(path);

  fakes::KernelConfig config = fakes::KernelConfig::For();
  config.umask = umask;
  FakeKernel kernel(config);
  uint64_t foreign = 0;
  switch (at) {
    case AtPath::kNothing:
      break;
    case AtPath::kStale:
      kernel.ForeignClose(kernel.ForeignBind(addr).value);
      break;
    case AtPath::kLive:
      foreign = kernel.ForeignBind(addr).value;
      break;
    case AtPath::kFile:
      kernel.fs().MakeFile(path, 0644);
      break;
    case AtPath::kDir:
      kernel.fs().MakeDirs(path);
      break;
    case AtPath::kSymlinkToLive:
      foreign = kernel.ForeignBind(*SockAddr::Unix("/run/real.sock")).value;
      kernel.fs().MakeSymlink(path, "/run/real.sock");
      break;
    case AtPath::kSymlinkToStale:
      kernel.ForeignClose(kernel.ForeignBind(*SockAddr::Unix("/run/real.sock")).value);
      kernel.fs().MakeSymlink(path, "real.sock");
      break;
  }
  const FakeFs::Node* before = kernel.fs().Find(path);
  const uint64_t ino_before = before ? before->ino : 0;

  UnixOptions o;
  o.path = path;
  o.mode = mode;
  o.backlog = backlog;
  auto result = bind_unix_socket(kernel, o);
  LogContext(kernel);
  if (!result.ok()) RC_LOG() << "error: " << result.error().ToString();
  const FakeFs::Node* after = kernel.fs().Find(path);

  RC_ASSERT(kernel.fs().umask() == umask);  // UNIX-015
  switch (at) {
    case AtPath::kNothing:
    case AtPath::kStale: {  // UNIX-003: a stale file is replaced
      RC_ASSERT(result.ok());
      const auto info = kernel.socket_info(result.value().fd.get());
      RC_ASSERT(info->family == AF_UNIX);  // UNIX-001
      RC_ASSERT(info->nonblock && info->cloexec);
      RC_ASSERT(info->state == FakeKernel::SocketState::kListening);
      RC_ASSERT(info->backlog == std::min(backlog, config.traits.somaxconn));  // UNIX-006
      RC_ASSERT(after != nullptr && after->type == FakeFs::Type::kSocket);
      RC_ASSERT(after->perm == (mode & 07777));  // UNIX-005
      // UNIX-010: from its first instant the file was no wider than asked.
      RC_ASSERT((after->created_perm & ~mode & 0777) == 0u);
      RC_ASSERT(kernel.Listens(addr));
      break;
    }
    case AtPath::kLive:  // UNIX-008: never taken from a live listener
      RC_ASSERT(!result.ok());
      RC_ASSERT(result.error().code == EADDRINUSE);
      RC_ASSERT(after != nullptr && after->ino == ino_before);
      RC_ASSERT(kernel.Listens(addr));
      break;
    case AtPath::kFile:  // UNIX-004
    case AtPath::kDir:
      RC_ASSERT(!result.ok());
      RC_ASSERT(result.error().message.find(path) != std::string::npos);
      RC_ASSERT(after != nullptr && after->ino == ino_before);
      break;
    case AtPath::kSymlinkToLive:  // UNIX-009: never followed, never removed
    case AtPath::kSymlinkToStale:
      RC_ASSERT(!result.ok());
      RC_ASSERT(result.error().code == ELOOP);
      RC_ASSERT(result.error().message.find(path) != std::string::npos);
      RC_ASSERT(after != nullptr && after->ino == ino_before);
      RC_ASSERT(after->type == FakeFs::Type::kSymlink);
      if (at == AtPath::kSymlinkToLive)
        RC_ASSERT(kernel.Listens(*SockAddr::Unix("/run/real.sock")));
      break;
  }
  if (!result.ok()) RC_ASSERT(kernel.fd_count() == 0u);  // UNIX-011
  (void)foreign;
}

// Linux abstract names have no file: nothing is looked up, removed or
// chmod-ed, whatever the mode; a taken name is EADDRINUSE.
RC_GTEST_PROP(UnixSocket, UNIX_007_AbstractNamesTouchNoFile, ()) {
  const std::string name = std::string(1, '\0') + DrawToken();
  const bool taken = *rc::gen::arbitrary<bool>();
  FakeKernel kernel;
  if (taken) (void)kernel.ForeignBind(*SockAddr::Unix(name));
  const auto nodes_before = kernel.fs().nodes().size();
  UnixOptions o;
  o.path = name;
  o.mode = static_cast<mode_t>(*rc::gen::inRange(0, 07777 + 1));
  auto result = bind_unix_socket(kernel, o);
  LogContext(kernel);
  for (const auto& e : kernel.trace().entries()) {
    RC_ASSERT(e.call() != Call::kLstat && e.call() != Call::kStat && e.call() != Call::kUnlink &&
              e.call() != Call::kChmod && e.call() != Call::kUmask);
  }
  RC_ASSERT(kernel.fs().nodes().size() == nodes_before);
  RC_ASSERT(result.ok() == !taken);
  if (taken) RC_ASSERT(result.error().code == EADDRINUSE);
}

// --- another process at every window (UNIX-017 to UNIX-020) ----------------
//
// For every call of a bind_unix_socket run and every swap another process
// could make right after it, the threat model's rules hold: no non-socket is
// removed or changes mode, only the entry at the name in the real parent is
// ever removed, and nothing is created outside the real parent but the
// call's own private directory (gone by the end). Exhaustive, deterministic.

struct NodeState {
  std::string path;
  FakeFs::Type type;
  mode_t perm;
  uint64_t socket_id;
};

std::map<uint64_t, NodeState> ByIno(const FakeFs& fs) {
  std::map<uint64_t, NodeState> out;
  for (const auto& [path, n] : fs.nodes()) out[n.ino] = {path, n.type, n.perm, n.socket_id};
  return out;
}

bool InPrivateDir(const std::string& path) { return path.find(".netutil-") != std::string::npos; }

// Whether `path` names an entry directly inside `dir`.
bool DirectlyIn(const std::string& path, const std::string& dir) {
  return path.starts_with(dir + "/") && path.find('/', dir.size() + 1) == std::string::npos;
}

struct SwapCase {
  const char* name;
  bool stale_first;  // a stale socket at the path before the call
  fakes::FsSwap swap;
};

std::vector<SwapCase> SwapCases() {
  using K = fakes::FsSwap::Kind;
  const std::string p = "/tmp/d/app.sock";
  std::vector<SwapCase> out;
  for (bool stale : {false, true}) {
    out.push_back({"symlink to a victim", stale, {p, K::kSymlink, "/tmp/other/victim"}});
    out.push_back({"regular file", stale, {p, K::kFile, ""}});
    out.push_back({"directory", stale, {p, K::kDir, ""}});
    out.push_back({"stale socket", stale, {p, K::kSocket, ""}});
    out.push_back({"file renamed over it", stale, {p, K::kRename, "/tmp/d/v"}});
    out.push_back({"parent -> symlink", stale, {"/tmp/d", K::kSymlink, "/tmp/other"}});
    out.push_back({"parent -> empty dir", stale, {"/tmp/d", K::kDir, ""}});
    out.push_back({"parent exchanged", stale, {"/tmp/d", K::kExchange, "/tmp/other"}});
  }
  return out;
}

// /tmp/d (0777, anyone writes) holds the socket; /tmp/other holds victims,
// one of the socket's name.
void SetUpVictims(FakeKernel& k, bool stale) {
  k.fs().MakeDirs("/tmp/d", 0777);
  k.fs().MakeDirs("/tmp/other", 0755);
  k.fs().MakeFile("/tmp/other/victim", 0600);
  k.fs().MakeFile("/tmp/other/app.sock", 0600);
  k.fs().MakeFile("/tmp/d/v", 0640);
  if (stale) k.ForeignClose(k.ForeignBind(*SockAddr::Unix("/tmp/d/app.sock")).value);
}

struct SwapRun {
  std::vector<std::string> violations;
  std::string trace;
  bool swapped = false;
};

// `parent_opened`: whether the swap comes after bind_unix_socket opened
// /tmp/d. Before that, the directory at /tmp/d after the swap is the one the
// caller's path names (if it is one); after, the one it opened.
SwapRun RunWithSwap(const SwapCase& c, const fakes::FaultRule* rule, bool parent_opened) {
  FakeKernel kernel;
  SetUpVictims(kernel, c.stale_first);
  uint64_t parent_ino = kernel.fs().Find("/tmp/d")->ino;
  std::map<uint64_t, NodeState> at_swap = ByIno(kernel.fs());
  std::string parent_at_swap = "/tmp/d";
  SwapRun run;
  kernel.set_swapper([&](const fakes::FsSwap& s) {
    const int err = kernel.fs().Swap(s);
    const FakeFs::Node* d = kernel.fs().Find("/tmp/d");
    if (!parent_opened && d != nullptr && d->type == FakeFs::Type::kDir) parent_ino = d->ino;
    at_swap = ByIno(kernel.fs());
    parent_at_swap = kernel.fs().PathOf(parent_ino).value_or("(gone)");
    run.swapped = true;
    return err;
  });
  if (rule != nullptr) kernel.SetFaultPlan(fakes::FaultPlan({*rule}));
  auto result = bind_unix_socket(kernel, {.path = "/tmp/d/app.sock", .mode = 0666});
  run.trace = kernel.trace().ToString();
  auto& v = run.violations;
  const auto after = ByIno(kernel.fs());
  const uint64_t ours =
      result.ok() ? kernel.socket_info(result.value().fd.get())->id : ~uint64_t{0};
  for (const auto& [ino, was] : at_swap) {
    if (InPrivateDir(was.path)) continue;
    auto it = after.find(ino);
    if (was.type != FakeFs::Type::kSocket) {
      if (it == after.end())
        v.push_back("UNIX-019: a non-socket was removed: " + was.path);
      else if (it->second.perm != was.perm) {
        v.push_back("UNIX-018: " + it->second.path + " changed mode to " +
                    std::to_string(it->second.perm));
      }
    } else if (it == after.end() && was.path != parent_at_swap + "/app.sock") {
      v.push_back("UNIX-017: a socket outside the real parent was removed: " + was.path);
    }
  }
  for (const auto& [ino, now] : after) {
    if (at_swap.count(ino) != 0 || InPrivateDir(now.path)) {
      if (InPrivateDir(now.path) && !result.ok() && now.type == FakeFs::Type::kSocket &&
          now.socket_id != 0) {
        v.push_back("UNIX-011: the failed call left its socket at " + now.path);
      }
      continue;
    }
    const bool our_socket = now.type == FakeFs::Type::kSocket && now.socket_id == ours;
    const std::string real_parent = kernel.fs().PathOf(parent_ino).value_or("(gone)");
    // Ours, in the real parent (another process may have renamed it since).
    if (!our_socket || !DirectlyIn(now.path, real_parent)) {
      v.push_back("UNIX-017: created outside the real parent: " + now.path);
    }
  }
  for (const auto& [path, n] : kernel.fs().nodes()) {
    if (InPrivateDir(path) && n.type == FakeFs::Type::kDir) {
      // Kept only when it holds an entry it could not put back (UNIX-019).
      bool holds = false;
      for (const auto& [p2, n2] : kernel.fs().nodes()) holds |= p2.starts_with(path + "/");
      if (!holds) v.push_back("UNIX-011: the private directory was left: " + path);
    }
  }
  if (result.ok()) {
    // At the name, unless another process moved it after it was placed.
    const std::string real_parent = kernel.fs().PathOf(parent_ino).value_or("(gone)");
    bool found = false;
    for (const auto& [path, n] : kernel.fs().nodes()) {
      found |= n.type == FakeFs::Type::kSocket && n.socket_id == ours && n.perm == 0666 &&
               DirectlyIn(path, real_parent);
    }
    if (!found) v.push_back("UNIX-005: success without our 0666 socket in the real parent");
  }
  const size_t open = kernel.fd_count();
  if (open != (result.ok() ? 1u : 0u))
    v.push_back("UNIX-011: " + std::to_string(open) + " fds open");
  return run;
}

TEST(UnixSocketSwaps, UNIX_017_UNIX_018_UNIX_019_UNIX_020_SwapAfterEveryCall) {
  int runs = 0, swaps = 0;
  for (const SwapCase& c : SwapCases()) {
    const SwapRun base = RunWithSwap(c, nullptr, true);
    ASSERT_TRUE(base.violations.empty()) << c.name << ": " << base.violations[0] << "\n"
                                         << base.trace;
    // The k-th call of each kind in the undisturbed run, as "#n" of its call.
    FakeKernel probe;
    SetUpVictims(probe, c.stale_first);
    (void)bind_unix_socket(probe, {.path = "/tmp/d/app.sock", .mode = 0666});
    std::map<Call, long long> nth;
    bool parent_opened = false;
    for (const auto& e : probe.trace().entries()) {
      const auto* open = e.As<Call::kOpenat>();
      if (open != nullptr && std::get<1>(open->args) == "d") parent_opened = true;
      if (e.call() == Call::kUmask) continue;  // not a call a rule may name
      const fakes::FaultRule rule = fakes::FaultRule::SwapAfter(e.call(), ++nth[e.call()], c.swap);
      const SwapRun run = RunWithSwap(c, &rule, parent_opened);
      ++runs;
      swaps += run.swapped ? 1 : 0;
      EXPECT_TRUE(run.violations.empty())
          << c.name << (c.stale_first ? " (stale first)" : "") << ", " << fakes::PrintRule(rule)
          << ":\n  " << run.violations[0] << "\n"
          << run.trace;
    }
  }
  EXPECT_GT(runs, 200);  // every window of every case was tried
  EXPECT_EQ(swaps, runs) << "a swap rule never fired: the run diverged from the probe";
}

// UNIX-021 on the fake kernel: without /proc, renameat2 or RENAME_NOREPLACE
// the call fails with the missing piece's errno at its step, and leaves
// nothing: no socket file, no private directory, no fd.
TEST(UnixSocketFallbacks, UNIX_021_MissingKernelPiecesAreClearErrorsThatLeaveNothing) {
  struct Case {
    const char* what;
    void (*configure)(fakes::KernelConfig&);
    int err;
    const char* step;
    const char* named;  // in the message
  };
  const Case cases[] = {
      {"no /proc", [](fakes::KernelConfig& c) { c.proc_mounted = false; }, ENOENT, "bind", "/proc"},
      {"no renameat2", [](fakes::KernelConfig& c) { c.has_renameat2 = false; }, ENOSYS, "renameat2",
       "RENAME_NOREPLACE"},
      {"no RENAME_NOREPLACE", [](fakes::KernelConfig& c) { c.rename_noreplace = false; }, EINVAL,
       "renameat2", "RENAME_NOREPLACE"},
  };
  for (const Case& c : cases) {
    for (bool stale : {false, true}) {
      fakes::KernelConfig config = fakes::KernelConfig::For();
      c.configure(config);
      FakeKernel kernel(config);
      kernel.fs().MakeDirs("/run/app", 0755);
      if (stale) kernel.ForeignClose(kernel.ForeignBind(*SockAddr::Unix("/run/app/s.sock")).value);
      const auto nodes_before = kernel.fs().nodes().size();
      auto r = bind_unix_socket(kernel, {.path = "/run/app/s.sock"});
      SCOPED_TRACE(std::string(c.what) + (stale ? ", stale socket first" : "") + "\n" +
                   kernel.trace().ToString());
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, c.err);
      EXPECT_EQ(r.error().step, c.step);
      EXPECT_NE(r.error().message.find(c.named), std::string::npos) << r.error().message;
      EXPECT_EQ(kernel.fd_count(), 0u);
      // Without /proc the stale socket is gone (removed before the bind);
      // without renameat2 it cannot be moved aside, so it stays. Nothing else changed.
      const bool stale_removed = stale && c.err == ENOENT;
      EXPECT_EQ(kernel.fs().nodes().size(), nodes_before - (stale_removed ? 1 : 0)) << [&] {
        std::string all;
        for (const auto& [path, n] : kernel.fs().nodes()) all += path + "\n";
        return all;
      }();
      for (const auto& e : kernel.trace().entries()) {
        EXPECT_NE(e.call(), Call::kUnlink) << "a by-path fallback: " << e.ToString();
        EXPECT_NE(e.call(), Call::kChmod) << "a by-path fallback: " << e.ToString();
      }
    }
  }
}

// The fault plan's "after ... swap" rules (fault_plan.h): every form reads
// back as printed, and a malformed one is refused with its column.
TEST(UnixSocketSwaps, UNIX_017_SwapRulesParseAndPrintBack) {
  const char* const kRules[] = {
      "after fstatat #2 swap /tmp/d/s.sock with symlink:/tmp/other/victim",
      "after bind swap /tmp/d with symlink:../other",
      "after connect x2 swap /tmp/d/s.sock with file",
      "after openat fd=5 path=run swap /tmp/d with dir",
      "after mkdirat always swap /tmp/d/s.sock with socket",
      "after renameat2 #3 swap /tmp/d/s.sock with rename:/tmp/d/v",
      "after listen swap /tmp/d with exchange:/tmp/other",
  };
  for (const char* text : kRules) {
    auto parsed = fakes::FaultPlan::Parse(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error->ToString();
    ASSERT_EQ(parsed.plan->rules().size(), 1u);
    EXPECT_TRUE(parsed.plan->rules()[0].swap.has_value()) << text;
    EXPECT_EQ(parsed.plan->Print(), std::string(text) + "\n");
    EXPECT_EQ(fakes::FaultPlan::Parse(parsed.plan->Print()).plan, parsed.plan);
  }
  struct Bad {
    const char* text;
    int column;
  };
  const Bad kBad[] = {
      {"after bind swap tmp/d with file", 17},         // not absolute
      {"after bind swap /tmp/d with fifo", 29},        // unknown kind
      {"after bind swap /tmp/d as file", 24},          // "with" missing
      {"after bind = EINTR", 12},                      // an outcome on an after rule
      {"bind swap /tmp/d with file", 6},               // swap without after
      {"after bind swap /tmp/d with rename:rel", 29},  // OTHER not absolute
      {"after", 1},
  };
  for (const Bad& b : kBad) {
    auto parsed = fakes::FaultPlan::Parse(b.text);
    ASSERT_FALSE(parsed.ok()) << b.text;
    EXPECT_EQ(parsed.error->column, b.column) << b.text << ": " << parsed.error->ToString();
  }
}

}  // namespace
}  // namespace netutil::property

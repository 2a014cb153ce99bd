#include "netutil/fakes/scenario.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <stdexcept>

#include "netutil/epoll_loop.h"
#include "netutil/fakes/manual_loop.h"
#include "netutil/fakes/spec_invariants.h"

namespace netutil::fakes {
namespace {

// A drive that needs more iterations than this is spinning: every scenario
// drains in a handful of events.
constexpr int kMaxIterations = 1000;

SockAddr Ip(const char* literal, uint16_t port = 0) { return *SockAddr::FromIp(literal, port); }

UnixOptions UnixAt(std::string path, mode_t mode = 0600) {
  UnixOptions o;
  o.path = std::move(path);
  o.mode = mode;
  return o;
}

Scenario Make(std::string name, Scenario::Op op, KernelConfig config = KernelConfig::For()) {
  Scenario s;
  s.name = std::move(name);
  s.op = op;
  s.config = std::move(config);
  return s;
}

// bind_sockets on the local addresses and platforms.
void AddBindScenarios(std::vector<Scenario>& out) {
  using Op = Scenario::Op;
  {
    Scenario s = Make("bind/port0-dual-stack", Op::kBindSockets);
    s.bind = BindOptions{.port = 0, .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    Scenario s = Make("bind/fixed-port-localhost", Op::kBindSockets);
    s.bind = BindOptions{.port = 8888, .address = "localhost", .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    KernelConfig c = KernelConfig::For();
    c.ipv6_addrs.clear();
    Scenario s = Make("bind/localhost-without-::1", Op::kBindSockets, c);
    s.bind = BindOptions{.port = 0, .address = "localhost", .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    KernelConfig c = KernelConfig::For();
    c.ipv6_supported = false;
    Scenario s = Make("bind/kernel-without-ipv6", Op::kBindSockets, c);
    s.bind = BindOptions{.port = 0, .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    Scenario s = Make("bind/runtime-without-ipv6", Op::kBindSockets);
    s.bind = BindOptions{.port = 0, .platform = Platform::Linux()};
    s.bind.platform.has_ipv6 = false;
    out.push_back(s);
  }
  {
    Scenario s = Make("bind/reuse-port", Op::kBindSockets);
    s.bind = BindOptions{.port = 0, .platform = Platform::Linux()};
    s.bind.reuse_port = true;
    out.push_back(s);
  }
  {
    Scenario s = Make("bind/windows", Op::kBindSockets, KernelConfig::For(Platform::Os::kWindows));
    s.bind = BindOptions{.port = 0, .platform = Platform::Linux()};
    s.bind.platform = Platform::Windows();
    out.push_back(s);
  }
  {
    Scenario s =
        Make("bind/darwin-localhost", Op::kBindSockets, KernelConfig::For(Platform::Os::kDarwin));
    s.bind = BindOptions{.port = 0, .address = "localhost", .platform = Platform::Linux()};
    s.bind.platform = Platform::Darwin();
    out.push_back(s);
  }
}

// bind_sockets with ports held, names of several addresses, failures.
void AddBindEdgeScenarios(std::vector<Scenario>& out) {
  using Op = Scenario::Op;
  {
    // Tornado issue 1860: port 40000 is free on IPv4 but held on IPv6.
    KernelConfig c = KernelConfig::For();
    c.port_low = 40000;
    c.port_high = 40009;
    Scenario s = Make("bind/issue-1860", Op::kBindSockets, c);
    s.setup = [](FakeKernel& k) {
      FakeKernel::ForeignOptions o;
      o.v6only = true;
      (void)k.ForeignBind(Ip("::", 40000), o);
    };
    s.bind = BindOptions{.port = 0, .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    KernelConfig c = KernelConfig::For();
    c.resolver.Set("dup.test", {Ip("127.0.0.1"), Ip("::1"), Ip("127.0.0.1"), Ip("::1")});
    Scenario s = Make("bind/duplicates", Op::kBindSockets, c);
    s.bind = BindOptions{.port = 0, .address = "dup.test", .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    Scenario s = Make("bind/family-inet6-backlog-5", Op::kBindSockets);
    s.bind = BindOptions{.port = 0, .platform = Platform::Linux()};
    s.bind.family = AF_INET6;
    s.bind.backlog = 5;
    out.push_back(s);
  }
  {
    Scenario s = Make("bind/port-in-use", Op::kBindSockets);
    s.setup = [](FakeKernel& k) { (void)k.ForeignBind(Ip("0.0.0.0", 8080)); };
    s.bind = BindOptions{.port = 8080, .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    Scenario s = Make("bind/unknown-host", Op::kBindSockets);
    s.bind = BindOptions{.port = 0, .address = "nx.test", .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    // Issue 1860 twice over: the first two kernel ports are held on IPv6, so
    // the shared port is chosen three times (BIND-023).
    KernelConfig c = KernelConfig::For();
    c.port_low = 40000;
    c.port_high = 40009;
    Scenario s = Make("bind/issue-1860-two-ports-held", Op::kBindSockets, c);
    s.setup = [](FakeKernel& k) {
      FakeKernel::ForeignOptions o;
      o.v6only = true;
      (void)k.ForeignBind(Ip("::", 40000), o);
      (void)k.ForeignBind(Ip("::", 40001), o);
    };
    s.bind = BindOptions{.port = 0, .platform = Platform::Linux()};
    out.push_back(s);
  }
  {
    // Port 0 shared by three addresses of one name (BIND-013 past two).
    KernelConfig c = KernelConfig::For();
    c.resolver.Set("three.test", {Ip("127.0.0.1"), Ip("127.0.0.2"), Ip("::1")});
    Scenario s = Make("bind/port0-three-addresses", Op::kBindSockets, c);
    s.bind = BindOptions{.port = 0, .address = "three.test", .platform = Platform::Linux()};
    out.push_back(s);
  }
}

// bind_unix_socket on each kind of thing found at the path.
void AddUnixScenarios(std::vector<Scenario>& out) {
  using Op = Scenario::Op;
  {
    Scenario s = Make("unix/fresh-path", Op::kBindUnixSocket);
    s.unix = UnixAt("/tmp/netutil.sock");
    out.push_back(s);
  }
  {
    Scenario s = Make("unix/stale-socket", Op::kBindUnixSocket);
    s.setup = [](FakeKernel& k) {
      auto id = k.ForeignBind(*SockAddr::Unix("/tmp/netutil.sock"));
      k.ForeignClose(id.value);  // a crashed server's file, nobody listening
    };
    s.unix = UnixAt("/tmp/netutil.sock");
    out.push_back(s);
  }
  {
    Scenario s = Make("unix/live-listener", Op::kBindUnixSocket);
    s.setup = [](FakeKernel& k) { (void)k.ForeignBind(*SockAddr::Unix("/tmp/netutil.sock")); };
    s.unix = UnixAt("/tmp/netutil.sock");
    out.push_back(s);
  }
  {
    Scenario s = Make("unix/regular-file", Op::kBindUnixSocket);
    s.setup = [](FakeKernel& k) { k.fs().MakeFile("/tmp/netutil.sock", 0644); };
    s.unix = UnixAt("/tmp/netutil.sock");
    out.push_back(s);
  }
  {
    Scenario s = Make("unix/symlink-to-socket", Op::kBindUnixSocket);
    s.setup = [](FakeKernel& k) {
      auto id = k.ForeignBind(*SockAddr::Unix("/tmp/target.sock"));
      k.ForeignClose(id.value);
      k.fs().MakeSymlink("/tmp/netutil.sock", "/tmp/target.sock");
    };
    s.unix = UnixAt("/tmp/netutil.sock");
    out.push_back(s);
  }
  {
    // Another process can write in /tmp/d (UNIX-017 to UNIX-020): the sweep
    // swaps entries there after every call (SwapFaults).
    Scenario s = Make("unix/attacked-directory", Op::kBindUnixSocket);
    s.setup = [](FakeKernel& k) {
      k.fs().MakeDirs("/tmp/d", 0777);
      k.fs().MakeDirs("/victims", 0755);
      k.fs().MakeFile("/victims/file", 0600);
      k.fs().MakeFile("/victims/netutil.sock", 0600);
      auto id = k.ForeignBind(*SockAddr::Unix("/tmp/d/netutil.sock"));
      k.ForeignClose(id.value);  // a stale socket to remove
    };
    s.unix = UnixAt("/tmp/d/netutil.sock", 0666);
    out.push_back(s);
  }
  {
    Scenario s = Make("unix/abstract-name", Op::kBindUnixSocket);
    s.unix = UnixAt(std::string("\0netutil-test", 13));
    out.push_back(s);
  }
  {
    Scenario s = Make("unix/missing-directory", Op::kBindUnixSocket);
    s.unix = UnixAt("/nonexistent/dir/netutil.sock");
    out.push_back(s);
  }
  {
    KernelConfig c = KernelConfig::For();
    c.umask = 077;
    Scenario s = Make("unix/mode-0660-umask-077", Op::kBindUnixSocket, c);
    s.unix = UnixAt("/run/netutil.sock", 0660);
    s.unix.backlog = 16;
    out.push_back(s);
  }
}

// add_accept_handler draining queues on both loops.
void AddAcceptScenarios(std::vector<Scenario>& out) {
  using Op = Scenario::Op;
  {
    Scenario s = Make("accept/manual-5-batch-2", Op::kAcceptDrain);
    s.accept.pending = 5;
    s.accept.options.batch = 2;
    out.push_back(s);
  }
  {
    Scenario s = Make("accept/manual-130-default-batch", Op::kAcceptDrain);
    s.accept.pending = 130;  // one full batch of 128, then 2
    out.push_back(s);
  }
  {
    Scenario s = Make("accept/epoll-loop-6-batch-4", Op::kAcceptDrain);
    s.accept.pending = 6;
    s.accept.options.batch = 4;
    s.accept.epoll_loop = true;
    out.push_back(s);
  }
  {
    Scenario s = Make("accept/aborted-while-queued", Op::kAcceptDrain);
    s.accept.pending = 4;
    s.accept.abort_at = 2;
    out.push_back(s);
  }
  {
    Scenario s = Make("accept/callback-throws", Op::kAcceptDrain);
    s.accept.pending = 4;
    s.accept.throw_at = 2;
    out.push_back(s);
  }
  // Drives the catalogue lacked, which also keep the default-batch drain above
  // under 40% of the sweep's faults (tools/sweep/README.md).
  {
    // A batch of one: every readiness event accepts one connection, so each
    // fault lands on the first (and last) accept of its batch.
    Scenario s = Make("accept/manual-40-batch-1", Op::kAcceptDrain);
    s.accept.pending = 40;
    s.accept.options.batch = 1;
    out.push_back(s);
  }
  {
    // Many batches on the real loop: the listener must be reported again
    // after each batch (LOOP-001) whatever fault ended the previous one.
    Scenario s = Make("accept/epoll-loop-40-batch-16", Op::kAcceptDrain);
    s.accept.pending = 40;
    s.accept.options.batch = 16;
    s.accept.epoll_loop = true;
    out.push_back(s);
  }
  {
    // A reset connection and a throwing callback in one drive, on the epoll loop.
    Scenario s = Make("accept/epoll-loop-abort-and-throw", Op::kAcceptDrain);
    s.accept.pending = 24;
    s.accept.options.batch = 8;
    s.accept.epoll_loop = true;
    s.accept.abort_at = 5;
    s.accept.throw_at = 17;
    out.push_back(s);
  }
}

std::vector<Scenario> BuildCatalogue() {
  std::vector<Scenario> out;
  AddBindScenarios(out);
  AddBindEdgeScenarios(out);
  AddUnixScenarios(out);
  AddAcceptScenarios(out);
  return out;
}

// The baseline call a single-rule fault aims at: the rule's `first`-th call of
// its syscall (the sweep's rules have no predicates).
const TraceEntry* FindFaulted(const ScenarioRun* baseline, const FaultRule* fault) {
  if (baseline == nullptr || fault == nullptr) return nullptr;
  long long n = 0;
  for (const auto& e : baseline->calls) {
    if (e.call() == fault->call && ++n == fault->first) return &e;
  }
  return nullptr;
}

// Connects the scenario's pending clients to the listener, then resets the
// abort_at-th of those queued.
void QueueClients(const Scenario& s, FakeKernel& k, const Listener& listener, Outcome& out) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < s.accept.pending; ++i) {
    auto c = k.ConnectTo(listener.addr);
    if (c.ok()) ids.push_back(c.value);
  }
  out.queued = static_cast<long long>(ids.size());
  if (s.accept.abort_at > 0 && s.accept.abort_at <= static_cast<int>(ids.size())) {
    k.AbortConnection(ids[static_cast<size_t>(s.accept.abort_at - 1)]);
  }
}

// What a drive of the accept handler works with.
struct AcceptDriver {
  FakeKernel& k;
  int fd;  // the listener's
  const Listener& listener;
  const AcceptOptions& opts;
  Outcome& out;
  AcceptCallback callback;
  AcceptErrorCallback on_error;
  std::function<void(AcceptHandle&)> finish;  // records the end, runs the while-held checks
  std::vector<std::string>& violations;
};

// On a ManualLoop: fires the listener while it is readable, and moves time
// over each backoff.
void DriveOnManualLoop(AcceptDriver& d) {
  ManualLoop loop;
  auto h = add_accept_handler(loop, d.k, d.listener, d.callback, d.opts, d.on_error);
  if (!h.ok()) {
    d.out.error = h.error();
    return;
  }
  AcceptHandle handle = std::move(h).value();
  int iter = 0;
  for (; iter < kMaxIterations; ++iter) {
    if (!handle.active()) break;
    if (handle.paused()) {
      loop.Advance(d.opts.backoff);
      continue;
    }
    if ((d.k.Readiness(d.fd) & EPOLLIN) == 0) break;
    try {
      loop.Fire(d.fd);
    } catch (const std::runtime_error&) {
      d.out.callback_threw = true;  // the loop sees it; a server logs it and goes on
    }
  }
  d.out.spun = iter == kMaxIterations;
  d.out.ok = true;
  d.finish(handle);
  handle.remove();
  if (loop.pending_timers() != 0 || loop.has_handler(d.fd)) {
    d.violations.push_back("ACCEPT-016: remove() left a timer or the handler registered");
  }
}

// On an EpollLoop over the fake kernel: runs it while the listener is
// readable or the handler waits out a backoff.
void DriveOnEpollLoop(AcceptDriver& d) {
  auto created = EpollLoop::Create(d.k);
  if (!created.ok()) {
    d.out.error = created.error();
    return;
  }
  std::unique_ptr<EpollLoop> loop = std::move(created).value();
  auto h = add_accept_handler(*loop, d.k, d.listener, d.callback, d.opts, d.on_error);
  if (!h.ok()) {
    d.out.error = h.error();
    return;
  }
  AcceptHandle handle = std::move(h).value();
  int iter = 0;
  d.out.ok = true;
  for (; iter < kMaxIterations; ++iter) {
    if (!handle.active()) break;
    if (!handle.paused() && (d.k.Readiness(d.fd) & EPOLLIN) == 0) break;
    try {
      auto r = loop->RunOnce(handle.paused() ? std::chrono::nanoseconds(d.opts.backoff)
                                             : std::chrono::nanoseconds(0));
      if (!r.ok()) {
        d.out.ok = false;
        d.out.error = r.error();
        break;
      }
    } catch (const std::runtime_error&) {
      d.out.callback_threw = true;
    }
  }
  d.out.spun = iter == kMaxIterations;
  d.finish(handle);
  handle.remove();
  if (loop->timer_count() != 0 || loop->handler_count() != 0) {
    d.violations.push_back("ACCEPT-016: remove() left a timer or the handler registered");
  }
}

void DriveAccept(const Scenario& s, FakeKernel& k, const Listener& listener, Outcome& out,
                 const std::function<void()>& check_while_held,
                 std::vector<std::string>& violations) {
  QueueClients(s, k, listener, out);
  const int fd = listener.fd.get();
  long long seen = 0;
  AcceptDriver d{
      .k = k,
      .fd = fd,
      .listener = listener,
      .opts = s.accept.options,
      .out = out,
      .callback =
          [&](Fd conn, const SockAddr&) {
            ++out.accepted;
            if (++seen == s.accept.throw_at) {
              throw std::runtime_error("the callback fails on purpose");
            }
            (void)conn;  // dropped: closed when the callback returns (ACCEPT-017)
          },
      .on_error = [&](const Error& e) { out.reports.push_back(e.code); },
      .finish =
          [&](AcceptHandle& handle) {
            const AcceptStats st = handle.stats();
            out.handler_active = handle.active();
            out.largest_batch = st.largest_batch;
            out.backoffs = st.backoffs;
            out.queued_at_end = k.socket_info(fd) ? k.socket_info(fd)->queued : 0;
            check_while_held();
          },
      .violations = violations,
  };
  if (s.accept.epoll_loop) {
    DriveOnEpollLoop(d);
  } else {
    DriveOnManualLoop(d);
  }
}

}  // namespace

std::vector<FaultRule> SingleFaults(const ScenarioRun& baseline) {
  std::vector<FaultRule> out;
  std::vector<long long> seen(kAllCalls.size(), 0);
  for (const auto& e : baseline.calls) {
    const long long nth = ++seen[static_cast<size_t>(e.call())];
    if (e.call() == Call::kUmask) continue;
    if (e.call() == Call::kGetaddrinfo) {
      for (int code : LegalGaiErrors()) {
        FaultRule r;
        r.call = e.call();
        r.first = nth;
        r.outcome = FaultOutcome::Gai(code, code == EAI_SYSTEM ? EMFILE : 0);
        out.push_back(r);
      }
      continue;
    }
    for (int err : LegalErrnos(e.call())) out.push_back(FaultRule::Fail(e.call(), err, nth));
  }
  return out;
}

std::vector<FaultRule> SwapFaults(const Scenario& s, const ScenarioRun& baseline) {
  std::vector<FaultRule> out;
  if (s.op != Scenario::Op::kBindUnixSocket || !s.unix.path.starts_with("/tmp/d/")) return out;
  using K = FsSwap::Kind;
  const std::string& p = s.unix.path;
  const std::vector<FsSwap> swaps = {
      {p, K::kSymlink, "/victims/file"},
      {p, K::kFile, ""},
      {p, K::kDir, ""},
      {p, K::kSocket, ""},
      {"/tmp/d", K::kSymlink, "/victims"},
      {"/tmp/d", K::kDir, ""},
      {"/tmp/d", K::kExchange, "/victims"},
  };
  std::vector<long long> seen(kAllCalls.size(), 0);
  for (const auto& e : baseline.calls) {
    const long long nth = ++seen[static_cast<size_t>(e.call())];
    if (e.call() == Call::kUmask) continue;
    for (const FsSwap& w : swaps) out.push_back(FaultRule::SwapAfter(e.call(), nth, w));
  }
  return out;
}

const std::vector<Scenario>& StandardScenarios() {
  static const std::vector<Scenario> catalogue = BuildCatalogue();
  return catalogue;
}

namespace {

// An accept scenario's listener is part of the set-up, bound before the
// faults are set: they aim at the drain. nullopt, and a violation, when it
// cannot be bound.
std::optional<std::vector<Listener>> BindAcceptListener(const Scenario& s, FakeKernel& k,
                                                        std::vector<std::string>& violations) {
  BindOptions listen_on{.port = 0, .address = "127.0.0.1", .platform = Platform::Linux()};
  listen_on.backlog = std::max(kDefaultBacklog, s.accept.pending);  // room for every client
  auto r = bind_sockets(k, listen_on);
  if (!r.ok() || r.value().size() != 1) {
    violations.push_back("set-up: no listener: " + k.trace().ToString());
    return std::nullopt;
  }
  return std::move(r).value();
}

// The state the checks compare the run's end with.
Before TakeBefore(const Scenario& s, FakeKernel& k) {
  Before before;
  before.fds = k.open_fds();
  before.umask = k.fs().umask();
  if (s.op == Scenario::Op::kBindUnixSocket && !s.unix.path.empty() && s.unix.path[0] != '\0') {
    if (const FakeFs::Node* n = k.fs().Find(s.unix.path)) before.node = *n;
    if (auto a = SockAddr::Unix(s.unix.path)) before.node_was_live = k.Listens(*a);
  }
  if (const FakeFs::Node* d = k.fs().Find("/victims")) {
    before.victims_dir_ino = d->ino;
    for (const auto& [path, n] : k.fs().nodes()) {
      if (path == "/victims" || path.starts_with("/victims/")) before.victims[n.ino] = n;
    }
  }
  return before;
}

// Runs the scenario's operation; `check_held` runs the checks made while
// the listeners are held (nullptr: none are).
void RunOperation(const Scenario& s, FakeKernel& k,
                  std::optional<std::vector<Listener>>& accept_listeners, Outcome& out,
                  const std::function<void(const std::vector<Listener>*)>& check_held,
                  std::vector<std::string>& violations) {
  switch (s.op) {
    case Scenario::Op::kBindSockets: {
      auto r = bind_sockets(k, s.bind);
      out.ok = r.ok();
      if (r.ok()) {
        for (const auto& l : r.value()) out.listeners.push_back(l.addr);
        check_held(&r.value());
      } else {
        out.error = r.error();
        check_held(nullptr);
      }
      break;  // the listeners close here
    }
    case Scenario::Op::kBindUnixSocket: {
      auto r = bind_unix_socket(k, s.unix);
      out.ok = r.ok();
      if (r.ok()) {
        std::vector<Listener> held;
        held.push_back(std::move(r).value());
        out.listeners.push_back(held.front().addr);
        check_held(&held);
      } else {
        out.error = r.error();
        check_held(nullptr);
      }
      break;
    }
    case Scenario::Op::kAcceptDrain:
      DriveAccept(
          s, k, accept_listeners->front(), out, [&] { check_held(&*accept_listeners); },
          violations);
      break;
  }
}

}  // namespace

ScenarioRun RunScenario(const Scenario& s, const FaultPlan& plan, const ScenarioRun* baseline,
                        const FaultRule* fault) {
  ScenarioRun run;
  FakeKernel k(s.config);
  if (s.setup) s.setup(k);

  std::optional<std::vector<Listener>> accept_listeners;
  if (s.op == Scenario::Op::kAcceptDrain) {
    accept_listeners = BindAcceptListener(s, k, run.violations);
    if (!accept_listeners) return run;
  }
  k.trace().Clear();
  k.SetFaultPlan(plan);

  const Before before = TakeBefore(s, k);
  const TraceEntry* faulted = FindFaulted(baseline, fault);
  Outcome& out = run.outcome;

  auto observe = [&](const std::vector<Listener>* held, const std::vector<TraceEntry>& calls) {
    return Observation{s, k, before, out, calls, held, baseline, fault, faulted};
  };
  auto check_held = [&](const std::vector<Listener>* held) {
    const std::vector<TraceEntry> calls = k.trace().entries();
    CheckWhileHeld(observe(held, calls), run.violations);
  };

  try {
    RunOperation(s, k, accept_listeners, out, check_held, run.violations);
  } catch (const std::exception& e) {
    out.crash = e.what();
  } catch (...) {
    out.crash = "an exception that is not a std::exception";
  }
  if (!out.crash.empty()) run.violations.push_back("crash: " + out.crash);

  // The accept listener (set-up's) is still open: it belongs to `before`.
  const std::vector<TraceEntry> calls = k.trace().entries();
  CheckAfterRelease(observe(nullptr, calls), run.violations);
  run.calls = calls;
  run.trace = k.trace().ToString();
  run.faults_fired = k.faults().fired_total();
  return run;
}

}  // namespace netutil::fakes

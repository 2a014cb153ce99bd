#include "netutil/fakes/spec_invariants.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include "netutil/errno_name.h"
#include "netutil/fakes/call_args.h"

namespace netutil::fakes {
namespace {

using Violations = std::vector<std::string>;

std::string Fds(const std::vector<int>& fds) {
  std::string s;
  for (int fd : fds) s += (s.empty() ? "" : " ") + std::to_string(fd);
  return "{" + s + "}";
}

std::string Addrs(const std::vector<SockAddr>& as) {
  std::string s;
  for (const auto& a : as) s += (s.empty() ? "" : ", ") + a.ToString();
  return "[" + s + "]";
}

bool IsErr(const Outcome& o, Error::Kind kind, int code) {
  return !o.ok && o.error && o.error->kind == kind && o.error->code == code;
}

// Same result as the baseline: both ok with the same addresses, or the same error.
bool SameAs(const Outcome& a, const Outcome& b) {
  if (a.ok != b.ok) return false;
  if (a.ok) return a.listeners == b.listeners;
  return a.error && b.error && a.error->kind == b.error->kind && a.error->code == b.error->code;
}

// A skipped address: ok, and at most one listener fewer than without the
// fault (none fewer when the fault hit an address the run skips anyway).
bool SkippedOne(const Outcome& out, const Outcome& base) {
  return out.ok && out.listeners.size() <= base.listeners.size() &&
         out.listeners.size() + 1 >= base.listeners.size();
}

std::string Describe(const Outcome& o) {
  if (!o.crash.empty()) return "crash (" + o.crash + ")";
  if (o.ok) return "ok " + Addrs(o.listeners);
  return "error (" + (o.error ? o.error->ToString() : std::string("?")) + ")";
}

// The option a setsockopt entry named: SO_REUSEADDR.
std::string OptOf(const TraceEntry& e) {
  const auto* call = e.As<Call::kSetsockopt>();
  if (call == nullptr) return {};
  const auto& [fd, level, optname, value] = call->args;
  return SockOptName(level, optname);
}

// The address a bind entry asked for; null for another call.
const SockAddr* BindAddrOf(const TraceEntry& e) {
  const auto* bind = e.As<Call::kBind>();
  return bind == nullptr ? nullptr : &std::get<1>(bind->args);
}

// Whether a call asked for these SOCK_* flags (socket's type, accept4's flags).
bool HasFlags(int value, int flags) { return (value & flags) == flags; }

// A call as an error message shows it: "bind(4, [::]:40000)".
std::string CallText(const TraceEntry& e) {
  return std::string(CallName(e.call())) + "(" + ArgsOf(e).text + ")";
}

void CheckBindListeners(const Observation& o, Violations& v) {
  const BindOptions& opts = o.scenario.bind;
  const auto& traits = o.kernel.config().traits;
  const int backlog = opts.backlog > traits.somaxconn ? traits.somaxconn : opts.backlog;
  const auto& ls = *o.listeners;
  std::set<std::string> seen;
  bool seen_v6 = false;
  for (const auto& l : ls) {
    const std::string at = l.addr.ToString();
    const auto info = o.kernel.socket_info(l.fd.get());
    if (!info) {
      v.push_back("BIND-016: listener " + at + " has no open socket");
      continue;
    }
    if (info->state != FakeKernel::SocketState::kListening || info->backlog != backlog) {
      v.push_back("BIND-016: " + at + " is " + SocketStateName(info->state) + " with backlog " +
                  std::to_string(info->backlog) + ", not listening with " +
                  std::to_string(backlog));
    }
    if (!info->cloexec) v.push_back("BIND-009: " + at + " is not close-on-exec");
    if (!info->nonblock) v.push_back("BIND-014: " + at + " is blocking");
    if (info->reuseaddr != (opts.platform.os != Platform::Os::kWindows)) {
      v.push_back("BIND-010: " + at + " SO_REUSEADDR is " + (info->reuseaddr ? "1" : "0"));
    }
    if (info->reuseport != opts.reuse_port) {
      v.push_back("BIND-011: " + at + " SO_REUSEPORT is " + (info->reuseport ? "1" : "0"));
    }
    if (l.family() == AF_INET6 && !info->v6only) v.push_back("BIND-012: " + at + " is dual-stack");
    if (info->local != l.addr) {
      v.push_back("BIND-027: " + at + " but the socket is bound to " + info->local.ToString());
    }
    if (l.family() == AF_INET6) seen_v6 = true;
    if (l.family() == AF_INET && seen_v6) v.push_back("BIND-006: IPv4 " + at + " after IPv6");
    if (!seen.insert(at).second) v.push_back("BIND-006: " + at + " twice");
    if (opts.port != 0 && l.addr.port() != opts.port) {
      v.push_back("BIND-016: " + at + " is not on the asked port " + std::to_string(opts.port));
    }
    if (opts.port == 0 && l.addr.port() != ls.front().addr.port()) {
      v.push_back("BIND-013: " + at + " is not on the first listener's port " +
                  std::to_string(ls.front().addr.port()));
    }
    if (opts.platform.os == Platform::Os::kDarwin && opts.address == "localhost" &&
        l.addr.scope_id() != 0) {
      v.push_back("BIND-007: darwin localhost bound the scoped " + at);
    }
  }
  for (const auto& e : o.calls) {
    const auto* socket = e.As<Call::kSocket>();
    if (socket != nullptr && !HasFlags(std::get<1>(socket->args), SOCK_NONBLOCK | SOCK_CLOEXEC)) {
      v.push_back("BIND-009/BIND-014: " + CallText(e) +
                  " is not atomically non-blocking and close-on-exec");
    }
  }
}

void CheckOsError(const Outcome& out, Violations& v) {
  if (out.ok || !out.error || out.error->kind != Error::Kind::kOs) return;
  const Error& e = *out.error;
  if (e.step.empty() || e.message.find(ErrnoName(e.code)) == std::string::npos) {
    v.push_back("BIND-025: the error does not name its step and errno: " + e.ToString());
  }
}

void CheckBindFault(const Observation& o, Violations& v) {
  const Outcome& out = o.outcome;
  const Outcome& base = o.baseline->outcome;
  const Call c = o.fault->call;
  const FaultOutcome& f = o.fault->outcome;
  if (f.kind != FaultOutcome::Kind::kErrno && c != Call::kGetaddrinfo) return;
  const int err = f.code;
  const std::string what = CallText(*o.faulted) + " = " +
                           (c == Call::kGetaddrinfo ? "EAI" : ErrnoName(err)) + " gave " +
                           Describe(out) + ", without the fault " + Describe(base);
  const bool retried = c == Call::kSocket || c == Call::kSetsockopt || c == Call::kBind ||
                       c == Call::kListen || c == Call::kGetsockname;
  if (c == Call::kGetaddrinfo) {
    if (!IsErr(out, Error::Kind::kResolve, f.code) || out.error->sys_errno != f.sys_errno) {
      v.push_back("BIND-005: " + what);
    }
    return;
  }
  if (c == Call::kClose) {
    // close is cleanup; its failure changes nothing (and is never retried).
    if (!SameAs(out, base)) v.push_back("BIND-018: " + what);
    return;
  }
  if (err == EINTR && retried) {
    if (!SameAs(out, base)) v.push_back("BIND-024: " + what);
    return;
  }
  if (c == Call::kSocket && err == EAFNOSUPPORT) {
    if (base.ok && !SkippedOne(out, base)) v.push_back("BIND-008: " + what);
    return;
  }
  if (c == Call::kSetsockopt) {
    const std::string step = "setsockopt(" + OptOf(*o.faulted) + ")";
    if (!IsErr(out, Error::Kind::kOs, err) || out.error->step != step) {
      v.push_back("BIND-026: " + what);
    }
    return;
  }
  if (c == Call::kBind && err == EADDRNOTAVAIL && o.scenario.bind.address == "localhost" &&
      BindAddrOf(*o.faulted)->family() == AF_INET6) {
    if (base.ok && !SkippedOne(out, base)) v.push_back("BIND-015: " + what);
    return;
  }
  if (c == Call::kBind && err == EADDRINUSE && o.scenario.bind.port == 0 &&
      BindAddrOf(*o.faulted)->port() != 0) {
    // An inherited port taken: start over on a new one (BIND-023), unless the
    // restarts ran out (port_retries + 1 passes failed that way) or the range
    // did (the kernel had no port left for a first address).
    if (!base.ok || out.ok) return;
    long long inherited_failures = 0;
    bool range_out = false;
    for (const auto& e : o.calls) {
      const SockAddr* asked = BindAddrOf(e);
      if (asked == nullptr || e.err() != EADDRINUSE) continue;
      if (asked->port() != 0) {
        ++inherited_failures;
      } else {
        range_out = true;
      }
    }
    const bool ran_out = inherited_failures == o.scenario.bind.port_retries + 1LL || range_out;
    if (!IsErr(out, Error::Kind::kOs, EADDRINUSE) || !ran_out) v.push_back("BIND-023: " + what);
    return;
  }
  // Any other failure of a step is that step's os error.
  if (!IsErr(out, Error::Kind::kOs, err) || out.error->step != CallName(c)) {
    v.push_back("BIND-025: " + what);
  }
}

// A fault that makes the UNIX-008 probe answer "nobody listens" (connect
// refused, or the file gone) is believed, as the spec says it must be: the
// live-listener invariants then do not apply. A real kernel gives those
// answers only when the listener has just gone away.
bool ProbeToldStale(const Observation& o) {
  return o.fault != nullptr && o.fault->call == Call::kConnect &&
         (o.fault->outcome.code == ECONNREFUSED || o.fault->outcome.code == ENOENT);
}

// Another process swapped an entry mid-call ("after ... swap"): what is at
// the path afterwards is its doing, so the by-path checks do not apply; the
// threat model's are CheckVictims'.
bool Swapped(const Observation& o) { return o.fault != nullptr && o.fault->swap.has_value(); }

// UNIX-017, UNIX-018, UNIX-019: the files of a directory the call was never
// asked to touch (the scenario's /victims) keep their type and mode, none is
// removed and nothing appears among them, whatever another process swapped.
void CheckVictims(const Observation& o, Violations& v) {
  if (o.before.victims.empty()) return;
  const FakeFs& fs = o.kernel.fs();
  std::map<uint64_t, const FakeFs::Node*> now;
  for (const auto& [path, n] : fs.nodes()) now[n.ino] = &n;
  for (const auto& [ino, was] : o.before.victims) {
    auto it = now.find(ino);
    if (it == now.end()) {
      v.push_back("UNIX-019: a file outside the socket's directory was removed (inode " +
                  std::to_string(ino) + ")");
    } else if (it->second->type != was.type || it->second->perm != was.perm) {
      v.push_back("UNIX-018: " + fs.PathOf(ino).value_or("?") + " changed mode or type");
    }
  }
  const auto dir = fs.PathOf(o.before.victims_dir_ino);
  if (!dir) return;
  for (const auto& [path, n] : fs.nodes()) {
    if (path.starts_with(*dir + "/") && o.before.victims.count(n.ino) == 0) {
      v.push_back("UNIX-017: " + path + " appeared in a directory the call was not given");
    }
  }
}

void CheckUnix(const Observation& o, Violations& v) {
  CheckVictims(o, v);
  const UnixOptions& opts = o.scenario.unix;
  const Outcome& out = o.outcome;
  const bool abstract = !opts.path.empty() && opts.path[0] == '\0';
  const auto& traits = o.kernel.config().traits;
  if (o.listeners != nullptr) {
    const Listener& l = o.listeners->front();
    const auto info = o.kernel.socket_info(l.fd.get());
    if (!info || info->family != AF_UNIX || !info->nonblock || !info->cloexec) {
      v.push_back("UNIX-001: the socket is not AF_UNIX, non-blocking and close-on-exec");
    } else {
      const int backlog = opts.backlog > traits.somaxconn ? traits.somaxconn : opts.backlog;
      if (info->state != FakeKernel::SocketState::kListening || info->backlog != backlog) {
        v.push_back("UNIX-006: not listening with backlog " + std::to_string(backlog));
      }
    }
    if (!abstract && !Swapped(o)) {
      const FakeFs::Node* n = o.kernel.fs().Find(opts.path);
      if (n == nullptr || n->type != FakeFs::Type::kSocket) {
        v.push_back("UNIX-005: no socket file at " + opts.path);
      } else {
        if (n->perm != (opts.mode & 07777)) {
          v.push_back("UNIX-005: the file's mode is " + ModeText(n->perm) + ", not " +
                      ModeText(opts.mode));
        }
        if ((n->created_perm & ~opts.mode & 0777) != 0) {
          v.push_back("UNIX-010: the file was created with " + ModeText(n->created_perm) +
                      ", wider than " + ModeText(opts.mode));
        }
      }
    }
  }
  if (abstract) {
    for (const auto& e : o.calls) {
      if (e.call() == Call::kLstat || e.call() == Call::kStat || e.call() == Call::kUnlink ||
          e.call() == Call::kChmod) {
        v.push_back("UNIX-007: an abstract name got " + std::string(CallName(e.call())));
      }
    }
  }
  if (o.before.node && out.ok && !Swapped(o)) {
    const auto type = o.before.node->type;
    if (o.before.node_was_live && !ProbeToldStale(o)) {
      v.push_back("UNIX-008: a live listener's path was taken over");
    }
    if (type == FakeFs::Type::kSymlink) v.push_back("UNIX-009: a symlink's path was taken over");
    if (type == FakeFs::Type::kFile || type == FakeFs::Type::kDir) {
      v.push_back("UNIX-004: a path that is not a socket was taken over");
    }
  }
  if (o.fault && o.faulted && o.baseline) {
    const Call c = o.fault->call;
    const int err = o.fault->outcome.code;
    const Outcome& base = o.baseline->outcome;
    const std::string what = CallText(*o.faulted) + " = " + ErrnoName(err) + " gave " +
                             Describe(out) + ", without the fault " + Describe(base);
    const bool retried = c == Call::kSocket || c == Call::kSetsockopt || c == Call::kBind ||
                         c == Call::kListen || c == Call::kLstat || c == Call::kUnlink ||
                         c == Call::kChmod || c == Call::kConnect || c == Call::kOpenat ||
                         c == Call::kMkdirat || c == Call::kFstatat || c == Call::kRenameat2 ||
                         c == Call::kUnlinkat || c == Call::kFchmodat || c == Call::kReadlinkat;
    if (o.fault->outcome.kind == FaultOutcome::Kind::kErrno && err == EINTR && retried) {
      if (!SameAs(out, base)) v.push_back("UNIX-014: " + what);
    } else if (c == Call::kSetsockopt && err == ENOPROTOOPT) {
      if (!SameAs(out, base)) v.push_back("UNIX-002: " + what);
    }
  }
}

// What every drive must show, with a fault or without.
void CheckAcceptDrive(const Observation& o, Violations& v) {
  const AcceptDrive& d = o.scenario.accept;
  const Outcome& out = o.outcome;
  if (out.largest_batch > d.options.batch) {
    v.push_back("ACCEPT-002: an event accepted " + std::to_string(out.largest_batch) +
                " with batch " + std::to_string(d.options.batch));
  }
  for (const auto& e : o.calls) {
    const auto* accept = e.As<Call::kAccept4>();
    if (accept != nullptr && !HasFlags(std::get<2>(accept->args), SOCK_NONBLOCK | SOCK_CLOEXEC)) {
      v.push_back("ACCEPT-008: " + CallText(e));
    }
  }
  const auto fds = o.kernel.open_fds();
  const std::vector<int>& before = o.before.fds;
  // Connections the callback dropped, or threw with, are closed (ACCEPT-007,
  // -017); the loop's own epoll fd may be open while the loop lives.
  for (int fd : fds) {
    if (std::find(before.begin(), before.end(), fd) == before.end() && !o.kernel.is_epoll(fd)) {
      v.push_back("ACCEPT-017: fd " + std::to_string(fd) + " left open: " + o.kernel.DescribeFds());
    }
  }
  if (out.spun) v.push_back("ACCEPT-011: the drive needed more than 1000 events");
  if (out.ok && out.handler_active && out.queued_at_end != 0) {
    v.push_back("ACCEPT-013: " + std::to_string(out.queued_at_end) + " connections left queued");
  }
  if (d.throw_at > 0 && out.accepted >= d.throw_at && !out.callback_threw) {
    v.push_back("ACCEPT-007: the callback's exception did not leave the handler");
  }
}

// A fault on accept4 against the drive without it, by the errno's class.
void CheckAccept4Fault(int err, const Outcome& out, const Outcome& base, const std::string& what,
                       Violations& v) {
  switch (SpecClassOf(err)) {
    case SpecAcceptClass::kRetry:
      if (out.accepted != base.accepted || out.reports != base.reports) {
        v.push_back("ACCEPT-009: " + what);
      }
      break;
    case SpecAcceptClass::kEndBatch:
      if (out.accepted != base.accepted || out.reports != base.reports) {
        v.push_back("ACCEPT-004: " + what);
      }
      break;
    case SpecAcceptClass::kSkip:
      if (out.accepted != base.accepted || out.reports != base.reports) {
        v.push_back(std::string(err == ECONNABORTED ? "ACCEPT-005: " : "ACCEPT-010: ") + what);
      }
      break;
    case SpecAcceptClass::kBackoff:
      if (out.backoffs != 1 || out.reports.size() != base.reports.size() + 1 ||
          out.reports.front() != err) {
        v.push_back("ACCEPT-011/ACCEPT-012: " + what);
      }
      if (out.accepted != base.accepted) v.push_back("ACCEPT-013: " + what);
      break;
    case SpecAcceptClass::kFatal:
      if (out.handler_active || std::count(out.reports.begin(), out.reports.end(), err) != 1) {
        v.push_back("ACCEPT-014: " + what);
      }
      break;
  }
}

// A faulted drive against the same drive without the fault.
void CheckAcceptFault(const Observation& o, Violations& v) {
  if (!o.baseline || !o.faulted) return;
  const Outcome& out = o.outcome;
  const Outcome& base = o.baseline->outcome;
  const Call c = o.fault->call;
  const int err = o.fault->outcome.code;
  const std::string what = CallText(*o.faulted) + " = " + ErrnoName(err) + ": accepted " +
                           std::to_string(out.accepted) + " (without the fault " +
                           std::to_string(base.accepted) + "), " +
                           std::to_string(out.reports.size()) + " reports, handler " +
                           (out.handler_active ? "active" : "removed");
  if (c == Call::kAccept4) {
    CheckAccept4Fault(err, out, base, what, v);
  } else if (c == Call::kEpollWait && err == EINTR) {
    if (out.accepted != base.accepted || !out.ok) v.push_back("LOOP-003: " + what);
  } else if (c == Call::kClose) {
    if (out.accepted != base.accepted) v.push_back("ACCEPT-017: " + what);
  } else if (c == Call::kEpollCtl &&
             std::get<1>(o.faulted->As<Call::kEpollCtl>()->args) == EPOLL_CTL_ADD) {
    if (out.ok) v.push_back("ACCEPT-001: registration failed but the handler reports ok");
  }
}

void CheckAccept(const Observation& o, Violations& v) {
  CheckAcceptDrive(o, v);
  if (o.fault) {
    CheckAcceptFault(o, v);
    return;
  }
  // Without a fault every connection not reset is accepted, and none fails.
  const AcceptDrive& d = o.scenario.accept;
  const Outcome& out = o.outcome;
  const long long expected = out.queued - (d.abort_at > 0 ? 1 : 0);
  if (out.accepted != expected || !out.reports.empty()) {
    v.push_back("ACCEPT-006: accepted " + std::to_string(out.accepted) + " of " +
                std::to_string(expected) + " with " + std::to_string(out.reports.size()) +
                " errors reported");
  }
}

}  // namespace

SpecAcceptClass SpecClassOf(int err) {
  switch (err) {
    case EINTR:  // ACCEPT-009
      return SpecAcceptClass::kRetry;
    case EAGAIN:  // ACCEPT-004 (EWOULDBLOCK is EAGAIN on Linux)
      return SpecAcceptClass::kEndBatch;
    case ECONNABORTED:  // ACCEPT-005
    case EPROTO:        // ACCEPT-010's list
    case EPERM:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return SpecAcceptClass::kSkip;
    case EMFILE:  // ACCEPT-011
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return SpecAcceptClass::kBackoff;
    default:  // ACCEPT-014
      return SpecAcceptClass::kFatal;
  }
}

void CheckWhileHeld(const Observation& o, Violations& v) {
  switch (o.scenario.op) {
    case Scenario::Op::kBindSockets:
      if (o.listeners != nullptr) CheckBindListeners(o, v);
      CheckOsError(o.outcome, v);
      if (!o.outcome.ok && o.outcome.error && o.outcome.error->kind == Error::Kind::kResolve &&
          o.calls.size() != 1) {
        v.push_back("BIND-005: a resolve error after other calls");
      }
      if (o.fault && o.faulted && o.baseline) CheckBindFault(o, v);
      break;
    case Scenario::Op::kBindUnixSocket:
      CheckUnix(o, v);
      break;
    case Scenario::Op::kAcceptDrain:
      CheckAccept(o, v);
      break;
  }
}

void CheckAfterRelease(const Observation& o, Violations& v) {
  const std::vector<int> fds = o.kernel.open_fds();
  if (fds != o.before.fds) {
    const char* rule = o.scenario.op == Scenario::Op::kBindSockets      ? "BIND-018"
                       : o.scenario.op == Scenario::Op::kBindUnixSocket ? "UNIX-011"
                                                                        : "ACCEPT-017";
    v.push_back(std::string(rule) + ": open fds " + Fds(fds) + ", before the call " +
                Fds(o.before.fds) + "\n" + o.kernel.DescribeFds());
  }
  // close() is never retried: on Linux the fd is gone whatever it returned.
  for (size_t i = 0; i + 1 < o.calls.size(); ++i) {
    const auto* close = o.calls[i].As<Call::kClose>();
    const auto* next = o.calls[i + 1].As<Call::kClose>();
    if (close != nullptr && !close->result.ok() && next != nullptr && next->args == close->args) {
      v.push_back("BIND-024: " + CallText(o.calls[i]) + " retried");
    }
  }
  if (o.scenario.op != Scenario::Op::kBindUnixSocket) return;
  if (o.kernel.fs().umask() != o.before.umask) {
    v.push_back("UNIX-015: umask " + ModeText(o.kernel.fs().umask()) + " after the call, " +
                ModeText(o.before.umask) + " before");
  }
  const std::string& path = o.scenario.unix.path;
  if (path.empty() || path[0] == '\0' || Swapped(o)) return;
  const FakeFs::Node* now = o.kernel.fs().Find(path);
  const auto& was = o.before.node;
  const bool kept = now != nullptr && was && now->ino == was->ino;
  const bool live = o.before.node_was_live && !ProbeToldStale(o);
  if (was && (live || was->type != FakeFs::Type::kSocket)) {
    // A live listener, a symlink, a file, a directory: never touched.
    if (!kept) {
      const char* rule = live                                  ? "UNIX-008"
                         : was->type == FakeFs::Type::kSymlink ? "UNIX-009"
                                                               : "UNIX-004";
      v.push_back(std::string(rule) + ": " + path + " was removed or replaced");
    }
    if (live && !o.kernel.Listens(*SockAddr::Unix(path))) {
      v.push_back("UNIX-008: the other process's listener no longer listens");
    }
    return;
  }
  if (!o.outcome.ok && now != nullptr && !kept) {
    v.push_back("UNIX-011: the failed call left a socket file at " + path);
  }
}

}  // namespace netutil::fakes

#include "netutil/fakes/injecting_sys.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <type_traits>

namespace netutil::fakes {
namespace {

std::string AddrListText(const std::vector<AddrInfo>& addrs) {
  std::string s = "[";
  for (size_t i = 0; i < addrs.size(); ++i) {
    if (i != 0) s += ", ";
    s += addrs[i].addr.ToString();
  }
  return s + "]";
}

}  // namespace

std::string FileStatText(const FileStat& st) {
  std::string type;
  switch (st.mode & S_IFMT) {
    case S_IFSOCK:
      type = "S_IFSOCK";
      break;
    case S_IFREG:
      type = "S_IFREG";
      break;
    case S_IFDIR:
      type = "S_IFDIR";
      break;
    case S_IFLNK:
      type = "S_IFLNK";
      break;
    default:
      type = "S_IF?";
  }
  return "{" + type + "|" + ModeText(st.mode & 07777) + "}";
}

InjectingSys::InjectingSys(Sys& inner, FaultPlan plan)
    : ForwardingSys(inner), faults_(std::move(plan)) {}

void InjectingSys::RunSwaps() {
  for (const FsSwap& s : faults_.TakeSwaps()) {
    const int err = swapper_ ? swapper_(s) : RealFsSwap(s);
    swaps_done_.push_back("swap " + s.path + " with " + PrintSwapWhat(s) + ": " +
                          (err == 0 ? std::string("ok") : ErrnoName(err)));
  }
}

int RealFsSwap(const FsSwap& s) {
  auto rc = [](int r) { return r == 0 ? 0 : errno; };
  struct stat st {};
  if (s.kind != FsSwap::Kind::kExchange && ::lstat(s.path.c_str(), &st) == 0) {
    if (::rename(s.path.c_str(), (s.path + ".orig").c_str()) != 0) return errno;
  }
  switch (s.kind) {
    case FsSwap::Kind::kSymlink:
      return rc(::symlink(s.arg.c_str(), s.path.c_str()));
    case FsSwap::Kind::kFile: {
      const int fd = ::open(s.path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) return errno;
      ::close(fd);
      return 0;
    }
    case FsSwap::Kind::kDir:
      return rc(::mkdir(s.path.c_str(), 0755));
    case FsSwap::Kind::kSocket: {
      auto addr = SockAddr::Unix(s.path);
      if (!addr) return ENAMETOOLONG;
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return errno;
      const int err = rc(::bind(fd, addr->data(), addr->len()));
      ::close(fd);  // nobody listens: a stale socket
      return err;
    }
    case FsSwap::Kind::kRename:
      return rc(::rename(s.arg.c_str(), s.path.c_str()));
    case FsSwap::Kind::kExchange:
      return rc(::renameat2(AT_FDCWD, s.arg.c_str(), AT_FDCWD, s.path.c_str(), RENAME_EXCHANGE));
  }
  return EINVAL;
}

void InjectingSys::Record(const CallArgs& args, std::string result, int err, int sys_err,
                          bool injected) {
  if (!tracing_) return;
  trace_.Add(TraceEntry{args.call, args.text, std::move(result), err, sys_err, injected});
}

template <typename Real, typename Describe>
SysInt InjectingSys::IntCall(const CallArgs& args, Real&& real, Describe&& describe) {
  SysInt r;
  const std::optional<FaultOutcome> o = faults_.Decide(args);
  if (!o) {
    r = real();
  } else if (o->kind == FaultOutcome::Kind::kValue) {
    r = SysOk(o->code);
  } else {
    if (TakesEffectDespite(args.call, o->code)) (void)real();
    r = SysErr(o->code);
  }
  // A chosen value left the out-parameters as they were: print the value only.
  std::string text;
  if (r.ok()) text = o ? std::to_string(r.value) : describe(r);
  Record(args, std::move(text), r.err, 0, o.has_value());
  RunSwaps();
  return r;
}

template <typename T, typename Real, typename Describe>
SysResult<T> InjectingSys::ValueCall(const CallArgs& args, Real&& real, Describe&& describe) {
  SysResult<T> r;
  // Validate() admits only errno outcomes for calls that do not return an int.
  const std::optional<FaultOutcome> o = faults_.Decide(args);
  if (!o) {
    r = real();
  } else {
    r = SysErr<T>(o->code);
  }
  Record(args, r.ok() ? describe(r.value) : std::string(), r.err, 0, o.has_value());
  RunSwaps();
  return r;
}

// --- the per-call part: how a result prints -----------------------------------

namespace {

// An int result prints as its value. accept4 and epoll_wait also print what
// they wrote to their out-parameters; overload resolution picks those two by
// their pointer parameters (no other call has them), the template the rest.
template <typename... Params>
std::string IntResultText(const SysInt& r, const Params&...) {
  return std::to_string(r.value);
}

std::string IntResultText(const SysInt& r, int /*fd*/, SockAddr* peer, int /*flags*/) {
  std::string s = std::to_string(r.value);
  if (peer != nullptr && !peer->empty()) s += " (peer " + peer->ToString() + ")";
  return s;
}

std::string IntResultText(const SysInt& r, int /*epfd*/, EpollEvent* events, int max_events,
                          int /*timeout_ms*/) {
  std::string s = std::to_string(r.value);
  if (r.value > 0 && events != nullptr) {
    s += " [";
    for (int i = 0; i < r.value && i < max_events; ++i) {
      if (i != 0) s += ", ";
      s += "{" + std::to_string(events[i].fd) + ", " + EpollEventsText(events[i].events) + "}";
    }
    s += "]";
  }
  return s;
}

// A value result (SysResult<T>) prints by its type.
std::string ValueText(const SockAddr& a) { return a.ToString(); }
std::string ValueText(const FileStat& st) { return FileStatText(st); }
std::string ValueText(const std::string& link_target) { return "\"" + link_target + "\""; }

}  // namespace

// Every call of the seam goes through here, chosen by what it returns: an
// int (faults may fail it or pick its value), a value (faults may fail it),
// getaddrinfo's list (faults speak EAI_* codes; the resolver table answers
// first), umask (cannot fail; traced only).
template <typename Real, typename... Params>
auto InjectingSys::Intercept(const CallArgs& args, [[maybe_unused]] Real&& real,
                             [[maybe_unused]] const Params&... params) -> decltype(real()) {
  using R = decltype(real());
  if constexpr (std::is_same_v<R, SysInt>) {
    if (ipv6_missing_ && args.call == Call::kSocket && args.family == "inet6") {
      Record(args, std::string(), EAFNOSUPPORT, 0, true);
      return SysErr(EAFNOSUPPORT);
    }
    return IntCall(args, real, [&](const SysInt& r) { return IntResultText(r, params...); });
  } else if constexpr (std::is_same_v<R, GaiResult>) {
    return Resolve(args, params...);
  } else if constexpr (std::is_same_v<R, mode_t>) {
    // No rule may name umask (fault_plan.h).
    const mode_t old = real();
    Record(args, ModeText(old), 0, 0, false);
    return old;
  } else {
    return ValueCall<decltype(R::value)>(args, real,
                                         [](const auto& value) { return ValueText(value); });
  }
}

GaiResult InjectingSys::Resolve(const CallArgs& args, const std::optional<std::string>& host,
                                const std::string& service, const AddrInfoHints& hints) {
  GaiResult r;
  const std::optional<FaultOutcome> o = faults_.Decide(args);
  const bool in_table = host && resolver_.hosts().count(*host) != 0;
  if (o) {
    r.gai_err = o->code;
    r.sys_err = o->sys_errno;
  } else if (in_table) {
    // Both families count as configured: AI_ADDRCONFIG narrows nothing.
    r = resolver_.Resolve(host, service, hints, /*has_v4=*/true, /*has_v6=*/true);
  } else {
    r = inner().getaddrinfo(host, service, hints);
  }
  Record(args, r.ok() ? AddrListText(r.addrs) : std::string(), r.gai_err, r.sys_err,
         o.has_value() || in_table);
  return r;
}

// One wrapper per call of sys_calls.def: its CallArgs, the inner call, and
// its arguments for the result's text.
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args)                             \
  Ret InjectingSys::name params {                                                    \
    return Intercept(                                                                \
        Camel##Args args, [&] { return inner().name args; }, NETUTIL_SYS_ARGS args); \
  }
#define NETUTIL_SYS_ARGS(...) __VA_ARGS__
#include "netutil/sys_calls.def"
#undef NETUTIL_SYS_ARGS

}  // namespace netutil::fakes

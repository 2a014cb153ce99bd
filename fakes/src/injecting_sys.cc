#include "netutil/fakes/injecting_sys.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <tuple>
#include <type_traits>

namespace netutil::fakes {
namespace {

// What a trace keeps of a parameter (trace_entry.h): the value itself, or what
// the call wrote to an out-parameter.
template <typename T>
const T& Keep(const T& value, bool /*outs_written*/) {
  return value;
}
SockAddr Keep(SockAddr* peer, bool outs_written) {
  return outs_written && peer != nullptr ? *peer : SockAddr{};
}
std::vector<EpollEvent> Keep(EpollEvent* /*events*/, bool /*outs_written*/) {
  return {};  // filled by Record, which knows how many the call wrote
}

}  // namespace

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

template <Call C, typename R, typename... Params>
void InjectingSys::Record(const R& result, bool injected, bool outs_written,
                          const Params&... params) {
  if (!tracing_) return;
  CallRecord<C> record{{Keep(params, outs_written)...}, result};
  if constexpr (C == Call::kEpollWait) {
    const auto& [epfd, events, max_events, timeout_ms] = std::tie(params...);
    if (outs_written && events != nullptr && result.ok()) {
      const int n = std::min(result.value, max_events);
      std::get<1>(record.args).assign(events, events + std::max(n, 0));
    }
  }
  trace_.Add(TraceEntry{CallValues(std::in_place_index<static_cast<size_t>(C)>, std::move(record)),
                        injected});
}

// An int call: no fault runs it; an errno fault fails it (running it all the
// same where the kernel would have done its work before the error); a value
// fault answers for it.
template <typename Real>
SysInt InjectingSys::IntCall(const CallArgs& args, const std::optional<FaultOutcome>& o,
                             Real&& real) {
  if (!o) return real();
  if (o->kind == FaultOutcome::Kind::kValue) return SysOk(o->code);
  if (TakesEffectDespite(args.call, o->code)) (void)real();
  return SysErr(o->code);
}

// Every call of the seam goes through here, chosen by what it returns: an
// int (faults may fail it or pick its value), a value (faults may fail it),
// getaddrinfo's list (faults speak EAI_* codes; the resolver table answers
// first), umask (cannot fail; traced only).
template <Call C, typename Real, typename... Params>
auto InjectingSys::Intercept(const CallArgs& args, [[maybe_unused]] Real&& real,
                             const Params&... params) -> decltype(real()) {
  using R = decltype(real());
  if constexpr (std::is_same_v<R, SysInt>) {
    if (ipv6_missing_ && C == Call::kSocket && args.family == "inet6") {
      const SysInt r = SysErr(EAFNOSUPPORT);
      Record<C>(r, /*injected=*/true, /*outs_written=*/false, params...);
      return r;
    }
    const std::optional<FaultOutcome> o = faults_.Decide(args);
    const SysInt r = IntCall(args, o, real);
    // A chosen value left the out-parameters as they were.
    Record<C>(r, o.has_value(), !o.has_value(), params...);
    RunSwaps();
    return r;
  } else if constexpr (std::is_same_v<R, GaiResult>) {
    bool injected = false;
    GaiResult r = Resolve(args, params..., &injected);
    Record<C>(r, injected, true, params...);
    return r;
  } else if constexpr (std::is_same_v<R, mode_t>) {
    // No rule may name umask (fault_plan.h).
    const mode_t old = real();
    Record<C>(old, false, true, params...);
    return old;
  } else {
    // Validate() admits only errno outcomes for calls that do not return an int.
    const std::optional<FaultOutcome> o = faults_.Decide(args);
    const R r = o ? SysErr<decltype(R::value)>(o->code) : real();
    Record<C>(r, o.has_value(), true, params...);
    RunSwaps();
    return r;
  }
}

GaiResult InjectingSys::Resolve(const CallArgs& args, const std::optional<std::string>& host,
                                const std::string& service, const AddrInfoHints& hints,
                                bool* injected) {
  GaiResult r;
  const std::optional<FaultOutcome> o = faults_.Decide(args);
  const bool in_table = host && resolver_.hosts().count(*host) != 0;
  if (o) {
    r.gai_err = o->code;
    r.sys_err = o->sys_errno;
  } else if (in_table) {
    // Both families count as configured: AI_ADDRCONFIG narrows nothing.
    r = resolver_.Resolve(host, service, hints, /*has_v4=*/true, /*has_v6=*/true);
    // The C library's name services would need an fd for the name (glibc's
    // files module opens /etc/hosts, its dns module a socket): the table
    // answers as glibc does when the process has none free.
    if (ResolverTable::NeedsNameService(host, hints)) {
      if (const int err = FdShortage()) {
        r = ResolverTable::WithoutFreeFd(r, nss_ready_, err);
      } else {
        nss_ready_ = true;
      }
    }
  } else {
    r = inner().getaddrinfo(host, service, hints);
    // An answer for a name: the C library has set up its name services.
    if (r.ok() && ResolverTable::NeedsNameService(host, hints)) nss_ready_ = true;
  }
  *injected = o.has_value() || in_table;
  return r;
}

int InjectingSys::FdShortage() {
  // Any fd will do; a directory is what every inner Sys (the fake kernel's
  // too) opens.
  const SysInt fd = inner().openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (!fd.ok()) return fd.err == EMFILE || fd.err == ENFILE ? fd.err : 0;
  (void)inner().close(fd.value);
  return 0;
}

// One wrapper per call of sys_calls.def: its CallArgs, the inner call, and
// its arguments for the result's text.
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args)                             \
  Ret InjectingSys::name params {                                                    \
    return Intercept<Call::k##Camel>(                                                \
        Camel##Args args, [&] { return inner().name args; }, NETUTIL_SYS_ARGS args); \
  }
#define NETUTIL_SYS_ARGS(...) __VA_ARGS__
#include "netutil/sys_calls.def"
#undef NETUTIL_SYS_ARGS

}  // namespace netutil::fakes

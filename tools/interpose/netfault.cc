// libnetfault.so: fault injection, resolver overrides, a missing IPv6 and a
// syscall trace for any program, by LD_PRELOAD. netconform's in-process mode
// wraps the reference's Sys in a fakes::InjectingSys; here the same
// InjectingSys wraps a Sys made of the C library's own functions (found with
// dlsym(RTLD_NEXT)), and each C function below converts its arguments to the
// Sys call and the answer back (errno included). So a rule, a resolver entry
// or a trace line means the same in both modes, by construction: there is no
// second implementation of them to drift.
//
// The C functions are listed once, in netfault_calls.def: the table of the
// real ones comes from it, and so do the exported function and the Sys
// method of each call whose C function takes the method's own arguments
// (NETFAULT_SIMPLE). The others convert by hand, below.
//
// The environment and the control file are described in netfault_control.h
// and docs/INTERPOSER.md.
//
// Calls and what is traced:
//   getaddrinfo (freeaddrinfo frees the lists made here), socket, setsockopt
//   and getsockopt (int-sized values; others pass through untraced), bind,
//   listen, getsockname, accept and accept4 (both traced as accept4), connect,
//   epoll_create1, epoll_ctl, epoll_wait, unlink, stat, lstat (and their *64
//   names), chmod, fchmod, umask: every call. openat, mkdirat, fstatat,
//   renameat2, unlinkat, fchmodat, readlinkat (bind_unix_socket's directory
//   calls, UNIX-017): every call, but the fds openat returns are not tracked.
//   close and fcntl (F_GETFL, F_SETFL, F_GETFD, F_SETFD): only on fds seen
//   opened by socket, accept, accept4 or epoll_create1, as the seam only ever
//   closes those; a program's files and pipes are not the seam's.
// poll is not interposed: it is not a call of the seam (no fault plan or
// trace could name it). read is watched on fd 0 only, and so are the stdio
// input functions on stdin (netfault_stdin.cc): the first request an adapter
// reads starts the trace (Config::wait_for_stdin).
// dup, dup2, dup3, fcntl(F_DUPFD, F_DUPFD_CLOEXEC), close_range and closefrom
// only keep the fd table right (a copy of a socket is a socket; a number
// closed or reused is not one any more); they are neither traced nor faulted.
// netfault_quiet(), exported too, lets an adapter mark its own observations
// of the implementation's sockets, which are not the implementation's calls.
//
// Safety:
//   - Re-entry (our own code, the C library's NSS modules, dlsym) on the same
//     thread passes straight through (a thread-local flag), so nothing the
//     interposer does itself is traced or faulted.
//   - Calls before the control file is read (another library's constructor)
//     pass through; so do calls from other threads while it is being read.
//   - One mutex guards the InjectingSys, released around every real call, so
//     a blocking call (epoll_wait, a slow getaddrinfo in asyncio's executor)
//     never holds up another thread.
//   - After fork the child passes everything through: the parent's fault
//     counts and fd numbers mean nothing there. A program exec'd by the
//     traced one attaches again; only the first process to attach (the owner)
//     keeps the fd table.
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "netfault_control.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/injecting_sys.h"
#include "netutil/fakes/trace.h"
#include "netutil/sys.h"

#ifndef CLOSE_RANGE_UNSHARE  // C libraries older than glibc 2.34
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
// Their declarations too, for the real-function table. Not in every C
// library this may load into either: ENOSYS from RealFn when absent, as a
// program calling them there would get.
#if !__GLIBC_PREREQ(2, 34)
extern "C" int close_range(unsigned int, unsigned int, int) noexcept;
extern "C" void closefrom(int) noexcept;
#endif

namespace netutil::netfault {
namespace {

using fakes::Call;

// ---- the C library's functions --------------------------------------------------

// Looked up on first use, not in a constructor: a call may come before ours
// runs. `Fn` is a pointer to the function as the C library declares it,
// variadic ones included: the arguments are passed on as given.
template <typename Fn>
class RealFn {
 public:
  constexpr explicit RealFn(const char* name) : name_(name) {}
  template <typename... A>
  auto operator()(A... args) {
    using R = decltype(std::declval<Fn>()(args...));
    Fn f = fn_.load(std::memory_order_acquire);
    if (f == nullptr) {
      f = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name_));
      fn_.store(f, std::memory_order_release);
    }
    if (f == nullptr) {  // no C library below us: nothing sensible to do but fail
      errno = ENOSYS;
      if constexpr (std::is_void_v<R>) {
        return;
      } else {
        return static_cast<R>(-1);
      }
    }
    return f(args...);
  }

 private:
  const char* name_;
  std::atomic<Fn> fn_{nullptr};
};

// The pointer type of a C library function without the attributes its
// declaration carries (nonnull, warn_unused_result), which a template
// argument would drop with a warning. Declared only, for decltype.
template <typename R, typename... A>
auto PlainPointer(R (*)(A...)) -> R (*)(A...);
template <typename R, typename... A>
auto PlainPointer(R (*)(A...) noexcept) -> R (*)(A...) noexcept;
template <typename R, typename... A>
auto PlainPointer(R (*)(A..., ...)) -> R (*)(A..., ...);
template <typename R, typename... A>
auto PlainPointer(R (*)(A..., ...) noexcept) -> R (*)(A..., ...) noexcept;

// real_bind, real_fcntl, ...: one per line of netfault_calls.def.
#define NETFAULT_LIBC(name) RealFn<decltype(PlainPointer(&::name))> real_##name{#name};
#include "netfault_calls.def"

// Every call of the seam has its C function in netfault_calls.def.
constexpr bool InterposedCall(Call call) {
  constexpr Call kListed[] = {
#define NETFAULT_SIMPLE(name, Camel, Ret, params, args) Call::k##Camel,
#define NETFAULT_CONVERTED(name, Camel) Call::k##Camel,
#include "netfault_calls.def"
  };
  return std::find(std::begin(kListed), std::end(kListed), call) != std::end(kListed);
}
constexpr bool EveryCallInterposed() {
  return std::all_of(fakes::kAllCalls.begin(), fakes::kAllCalls.end(), InterposedCall);
}
static_assert(EveryCallInterposed(), "a call of sys_calls.def has no line in netfault_calls.def");

// ---- per-thread state --------------------------------------------------------------

// initial-exec: reading these must never call into the dynamic linker (which
// may allocate, and is what could be calling us).
#define NETFAULT_TLS thread_local __attribute__((tls_model("initial-exec")))

// Set while this thread runs our code: calls it makes then pass straight through.
NETFAULT_TLS bool tl_busy = false;
// netfault_quiet() depth: an adapter observing the implementation's sockets.
NETFAULT_TLS int tl_quiet = 0;
// The engine's lock while this thread holds it, for RealSys to release around
// the real call.
NETFAULT_TLS std::unique_lock<std::mutex>* tl_lock = nullptr;

// The caller's own arguments of the call under way, which the Sys signature
// carries only as values: the real call is made with these, so a caller's
// epoll_data, struct stat or odd address length reaches the kernel unchanged.
struct RawArgs {
  const char* node = nullptr;
  const char* service = nullptr;
  const addrinfo* hints = nullptr;
  const sockaddr* addr = nullptr;
  socklen_t addrlen = 0;
  void* stat_buf = nullptr;
  bool stat64 = false;
  epoll_event* ctl_event = nullptr;
  epoll_event* wait_events = nullptr;
};
NETFAULT_TLS RawArgs tl_raw;

class Busy {
 public:
  Busy() : was_(tl_busy) { tl_busy = true; }
  ~Busy() { tl_busy = was_; }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  bool was_;
};

// Releases the engine's lock (when this thread holds it) for the real call.
class Unlocked {
 public:
  Unlocked() : lock_(tl_lock != nullptr && tl_lock->owns_lock() ? tl_lock : nullptr) {
    if (lock_ != nullptr) lock_->unlock();
  }
  ~Unlocked() {
    if (lock_ != nullptr) lock_->lock();
  }
  Unlocked(const Unlocked&) = delete;
  Unlocked& operator=(const Unlocked&) = delete;

 private:
  std::unique_lock<std::mutex>* lock_;
};

void Complain(const std::string& what) {
  const std::string line = "netfault: " + what + "\n";
  // write(2) is not interposed; a short write of a diagnostic is not worth a loop.
  (void)!::write(2, line.data(), line.size());
}

// ---- the Sys over the C library ------------------------------------------------

FileStat ToFileStat(uint32_t mode, uint64_t dev, uint64_t ino, uint32_t uid) {
  return FileStat{mode, dev, ino, uid};
}

// A C function's answer as the seam's: -1 and errno, or the value; umask's
// mask, which cannot fail, as it is.
SysInt FromRc(int rc) { return {rc, rc == -1 ? errno : 0}; }
mode_t FromRc(mode_t mask) { return mask; }

// A Sys method's argument as the C function takes it: a path as a C string,
// numbers as they are.
const char* CArg(const std::string& path) { return path.c_str(); }
template <typename T>
T CArg(T value) {
  static_assert(std::is_arithmetic_v<T>, "a Sys argument a C function takes as it is");
  return value;
}

class RealSys final : public Sys {
 public:
  // Where fds are tracked; nullptr when this process does not own the table.
  void set_fds(ControlFile* fds) { fds_ = fds; }
  void Track(int fd, FdKind kind) {
    if (fds_ != nullptr && fd >= 0) fds_->SetFd(fd, kind);
  }
  bool Tracked(int fd) const { return fds_ != nullptr && fds_->GetFd(fd) != FdKind::kNone; }
  FdKind Kind(int fd) const { return fds_ != nullptr ? fds_->GetFd(fd) : FdKind::kNone; }
  void Untrack(uint64_t first, uint64_t last) {
    if (fds_ != nullptr) fds_->ClearFds(first, last);
  }

  // netutil::Sys: each call of sys_calls.def made by its Libc<Camel> below
  // (LibcListen, LibcBind, ...), the engine's lock released around the C
  // function.
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) \
  Ret name params override { return Libc##Camel args; }
#include "netutil/sys_calls.def"

  std::chrono::nanoseconds monotonic_now() override {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }

 private:
  // The calls whose C function takes the method's own arguments
  // (NETFAULT_SIMPLE in netfault_calls.def).
#define NETFAULT_SIMPLE(name, Camel, Ret, params, args)                        \
  template <typename... A>                                                     \
  auto Libc##Camel(const A&... a)->decltype(FromRc(real_##name(CArg(a)...))) { \
    Unlocked u;                                                                \
    return FromRc(real_##name(CArg(a)...));                                    \
  }
#include "netfault_calls.def"

  // The others (NETFAULT_CONVERTED). The caller's own arguments, where the
  // method has only their values, are in tl_raw (set by the interposed
  // function): the C function gets those.
  GaiResult LibcGetaddrinfo(const std::optional<std::string>&, const std::string&,
                            const AddrInfoHints&) {
    addrinfo* res = nullptr;
    int rc;
    int err;
    {
      Unlocked u;
      errno = 0;
      rc = real_getaddrinfo(tl_raw.node, tl_raw.service, tl_raw.hints, &res);
      err = errno;
    }
    GaiResult out;
    if (rc != 0) {
      out.gai_err = rc;
      out.sys_err = rc == EAI_SYSTEM ? err : 0;
      return out;
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      out.addrs.push_back(AddrInfo{ai->ai_family, ai->ai_socktype, ai->ai_protocol,
                                   ai->ai_canonname != nullptr ? ai->ai_canonname : "",
                                   SockAddr::FromRaw(ai->ai_addr, ai->ai_addrlen)});
    }
    real_freeaddrinfo(res);
    return out;
  }
  SysInt LibcSocket(int domain, int type, int protocol) {
    SysInt r;
    {
      Unlocked u;
      r = FromRc(real_socket(domain, type, protocol));
    }
    if (r.ok()) Track(r.value, FdKind::kSocket);
    return r;
  }
  SysInt LibcSetsockopt(int fd, int level, int optname, int value) {
    Unlocked u;
    return FromRc(real_setsockopt(fd, level, optname, &value, sizeof value));
  }
  SysInt LibcGetsockopt(int fd, int level, int optname) {
    Unlocked u;
    int value = 0;
    socklen_t len = sizeof value;
    if (real_getsockopt(fd, level, optname, &value, &len) == -1) return {-1, errno};
    return {value, 0};
  }
  SysInt LibcBind(int fd, const SockAddr&) {
    Unlocked u;
    return FromRc(real_bind(fd, tl_raw.addr, tl_raw.addrlen));
  }
  SysResult<SockAddr> LibcGetsockname(int fd) {
    Unlocked u;
    SockAddr a;
    socklen_t len = sizeof(sockaddr_storage);
    if (real_getsockname(fd, a.mutable_data(), &len) == -1) return {SockAddr{}, errno};
    a.set_len(len);
    return {a, 0};
  }
  SysInt LibcAccept4(int fd, SockAddr* peer, int flags) {
    SysInt r;
    {
      Unlocked u;
      if (peer == nullptr) {
        r = FromRc(real_accept4(fd, nullptr, nullptr, flags));
      } else {
        socklen_t len = sizeof(sockaddr_storage);
        r = FromRc(real_accept4(fd, peer->mutable_data(), &len, flags));
        if (r.ok()) peer->set_len(len);
      }
    }
    if (r.ok()) Track(r.value, FdKind::kSocket);
    return r;
  }
  SysInt LibcConnect(int fd, const SockAddr&) {
    Unlocked u;
    return FromRc(real_connect(fd, tl_raw.addr, tl_raw.addrlen));
  }
  SysInt LibcClose(int fd) {
    // Forgotten before the real close: once it returns, another thread may be
    // handed the same number, and its socket must stay tracked.
    Track(fd, FdKind::kNone);
    Unlocked u;
    return FromRc(real_close(fd));
  }
  SysInt LibcIoctl(int fd, unsigned long request, int value) {
    Unlocked u;
    return FromRc(real_ioctl(fd, request, &value));
  }
  SysInt LibcCloseRange(unsigned int first, unsigned int last, unsigned int flags) {
    Unlocked u;
    return FromRc(real_close_range(first, last, static_cast<int>(flags)));
  }
  SysInt LibcFcntl(int fd, int cmd, int arg) {
    Unlocked u;
    // One pointer-sized argument, as the C library reads it.
    return FromRc(real_fcntl(fd, cmd, reinterpret_cast<void*>(static_cast<intptr_t>(arg))));
  }
  SysResult<FileStat> LibcLstat(const std::string& path) { return Stat(path, true); }
  SysResult<FileStat> LibcStat(const std::string& path) { return Stat(path, false); }
  SysInt LibcEpollCreate1(int flags) {
    SysInt r;
    {
      Unlocked u;
      r = FromRc(real_epoll_create1(flags));
    }
    if (r.ok()) Track(r.value, FdKind::kEpoll);
    return r;
  }
  SysInt LibcEpollCtl(int epfd, int op, int fd, uint32_t) {
    Unlocked u;
    return FromRc(real_epoll_ctl(epfd, op, fd, tl_raw.ctl_event));
  }
  SysInt LibcEpollWait(int epfd, EpollEvent* events, int max_events, int timeout_ms) {
    int n;
    {
      Unlocked u;
      n = real_epoll_wait(epfd, tl_raw.wait_events, max_events, timeout_ms);
      if (n == -1) return {-1, errno};
    }
    // For the trace only: the caller reads its own buffer, data unions intact.
    for (int i = 0; i < n; ++i) {
      events[i] = EpollEvent{tl_raw.wait_events[i].events, tl_raw.wait_events[i].data.fd};
    }
    return {n, 0};
  }
  // bind_unix_socket's directory calls. openat's mode goes as a variadic
  // argument; fstatat fills the caller's buffer (tl_raw.stat_buf, set by the
  // interposed fstatat) when there is one.
  SysInt LibcOpenat(int dirfd, const std::string& path, int flags, mode_t mode) {
    Unlocked u;
    return FromRc(real_openat(dirfd, path.c_str(), flags, mode));
  }
  SysResult<FileStat> LibcFstatat(int dirfd, const std::string& path, int flags) {
    Unlocked u;
    struct stat local {};
    auto* st = tl_raw.stat_buf != nullptr && !tl_raw.stat64
                   ? static_cast<struct stat*>(tl_raw.stat_buf)
                   : &local;
    if (real_fstatat(dirfd, path.c_str(), st, flags) == -1) return {FileStat{}, errno};
    return {ToFileStat(st->st_mode, st->st_dev, st->st_ino, st->st_uid), 0};
  }
  SysResult<std::string> LibcReadlinkat(int dirfd, const std::string& path) {
    Unlocked u;
    char buf[4096];
    const ssize_t n = real_readlinkat(dirfd, path.c_str(), buf, sizeof buf);
    if (n == -1) return {std::string(), errno};
    return {std::string(buf, static_cast<size_t>(n)), 0};
  }

  SysResult<FileStat> Stat(const std::string& path, bool link) {
    Unlocked u;
    int rc;
    uint32_t mode = 0;
    uint64_t dev = 0, ino = 0;
    uint32_t uid = 0;
    if (tl_raw.stat64) {
      auto* st = static_cast<struct stat64*>(tl_raw.stat_buf);
      rc = link ? real_lstat64(path.c_str(), st) : real_stat64(path.c_str(), st);
      if (rc == 0) {
        mode = st->st_mode, dev = st->st_dev, ino = st->st_ino, uid = st->st_uid;
      }
    } else {
      auto* st = static_cast<struct stat*>(tl_raw.stat_buf);
      rc = link ? real_lstat(path.c_str(), st) : real_stat(path.c_str(), st);
      if (rc == 0) {
        mode = st->st_mode, dev = st->st_dev, ino = st->st_ino, uid = st->st_uid;
      }
    }
    if (rc == -1) return {FileStat{}, errno};
    return {ToFileStat(mode, dev, ino, uid), 0};
  }

  ControlFile* fds_ = nullptr;
};

// ---- the engine ----------------------------------------------------------------

// Engine::needs has a bit per call.
static_assert(fakes::kAllCalls.size() <= 32, "more calls than Engine::needs has bits: widen it");
constexpr uint32_t Bit(Call c) { return 1u << static_cast<unsigned>(c); }

struct Engine {
  explicit Engine(std::unique_ptr<ControlFile> c) : ctl(std::move(c)), inj(real) {}

  // Re-reads the config; the caller holds `mu`.
  void Reload() {
    std::string error;
    uint64_t gen = 0;
    std::optional<Config> config = ctl->ReadConfig(&gen, &error);
    fakes::FaultPlan plan;
    fakes::ResolverTable table;
    bool ipv6_missing = false;
    bool trace = false;
    bool wait = false;
    if (!config) {
      gen = ctl->generation();  // complain once, not on every call
      Complain(ctl->path() + ": " + error + "; no faults, overrides or trace until it changes");
    } else {
      // Any errno, as netconform's catalog may script one the man page omits.
      fakes::FaultPlan::Parsed parsed =
          fakes::FaultPlan::Parse(config->plan, fakes::ErrnoCheck::kAny);
      if (parsed.ok()) {
        plan = std::move(*parsed.plan);
      } else {
        Complain(ctl->path() + ": fault plan " + parsed.error->ToString() + "; no faults");
      }
      if (std::optional<fakes::ResolverTable> t = ParseResolver(config->resolver, &error)) {
        table = std::move(*t);
      } else {
        Complain(ctl->path() + ": " + error + "; no resolver overrides");
      }
      ipv6_missing = config->ipv6_missing;
      trace = config->trace;
      wait = config->wait_for_stdin;
    }
    try {
      inj.faults().Reset(plan, fakes::ErrnoCheck::kAny);
    } catch (const std::exception& e) {
      Complain(ctl->path() + ": fault plan refused: " + e.what() + "; no faults");
      plan = fakes::FaultPlan();
      inj.faults().Reset(plan, fakes::ErrnoCheck::kAny);
    }
    // Which calls need the InjectingSys at all; the others go straight to
    // the C library (fd tracking aside), which is what keeps an idle
    // interposer cheap.
    uint32_t need = trace ? ~0u : 0u;
    for (const fakes::FaultRule& r : plan.rules()) need |= Bit(r.call);
    if (!table.hosts().empty()) need |= Bit(Call::kGetaddrinfo);
    if (ipv6_missing) need |= Bit(Call::kSocket);
    inj.set_resolver(std::move(table));
    inj.set_ipv6_missing(ipv6_missing);
    inj.set_tracing(trace);
    wait_for_stdin.store(wait, std::memory_order_relaxed);
    needs.store(need, std::memory_order_relaxed);
    seen.store(gen, std::memory_order_release);
  }

  // Moves the calls the InjectingSys recorded into the shared trace; the
  // caller holds `mu`.
  void Publish() {
    fakes::Trace& t = inj.trace();
    if (t.empty()) return;
    for (const fakes::TraceEntry& e : t.entries()) {
      if (ctl->TraceFull()) {
        ctl->Append(static_cast<uint16_t>(e.call()), {});  // counted as dropped
      } else {
        ctl->Append(static_cast<uint16_t>(e.call()), TraceRecordText(e));
      }
    }
    t.Clear();
  }

  std::unique_ptr<ControlFile> ctl;
  std::mutex mu;
  RealSys real;
  fakes::InjectingSys inj;
  std::atomic<uint64_t> seen{~0ull};
  std::atomic<uint32_t> needs{0};
  // Config::wait_for_stdin, and whether this process has read its stdin yet.
  std::atomic<bool> wait_for_stdin{false};
  std::atomic<bool> stdin_read{false};
  // The process that attached: a vfork child (same memory, no atfork
  // handlers, fds of its own) has another.
  pid_t pid = 0;
};

enum State : int { kUninit, kIniting, kOff, kOn };
std::atomic<int> g_state{kUninit};
Engine* g_engine = nullptr;  // never freed: calls may come until the very end

// Lists our getaddrinfo made, so freeaddrinfo knows whose free to use.
std::mutex g_lists_mu;
std::atomic<size_t> g_lists_live{0};
std::unordered_set<void*>* g_lists = nullptr;

void ForkPrepare() {
  if (g_engine != nullptr) g_engine->mu.lock();
  g_lists_mu.lock();
}
void ForkParent() {
  g_lists_mu.unlock();
  if (g_engine != nullptr) g_engine->mu.unlock();
}
void ForkChild() {
  g_lists_mu.unlock();
  if (g_engine != nullptr) g_engine->mu.unlock();
  g_state.store(kOff, std::memory_order_release);
}

// The control region the environment names: NETFAULT_CONTROL_FD (an
// inherited sealed memfd, netconform's way) before NETFAULT_CONTROL (a file).
// `what` is the variable as "NAME=value", empty when neither is set.
std::unique_ptr<ControlFile> AttachFromEnvironment(std::string* what, std::string* error) {
  const char* fd_text = std::getenv("NETFAULT_CONTROL_FD");
  if (fd_text != nullptr && *fd_text != '\0') {
    *what = std::string("NETFAULT_CONTROL_FD=") + fd_text;
    char* end = nullptr;
    errno = 0;
    const long fd = std::strtol(fd_text, &end, 10);
    if (errno != 0 || *end != '\0' || fd < 0 || fd > INT_MAX ||
        !std::isdigit(static_cast<unsigned char>(*fd_text))) {
      *error = "not a descriptor number";
      return nullptr;
    }
    return ControlFile::AttachFd(static_cast<int>(fd), error);
  }
  const char* path = std::getenv("NETFAULT_CONTROL");
  if (path == nullptr || *path == '\0') return nullptr;
  *what = std::string("NETFAULT_CONTROL=") + path;
  return ControlFile::Attach(path, error);
}

void Init() {
  int expected = kUninit;
  if (!g_state.compare_exchange_strong(expected, kIniting)) return;
  Busy busy;
  int next = kOff;
  try {
    std::string error;
    std::string what;
    std::unique_ptr<ControlFile> ctl = AttachFromEnvironment(&what, &error);
    if (!what.empty()) {
      if (!ctl) {
        Complain(what + ": " + error + "; passing every call through");
      } else {
        const bool owner = ctl->ClaimOwner(::getpid());
        auto* e = new Engine(std::move(ctl));
        e->pid = ::getpid();
        if (owner) e->real.set_fds(e->ctl.get());
        {
          std::lock_guard<std::mutex> lock(e->mu);
          e->Reload();
        }
        g_lists = new std::unordered_set<void*>();
        g_engine = e;
        ::pthread_atfork(ForkPrepare, ForkParent, ForkChild);
        next = kOn;
      }
    }
  } catch (const std::exception& e) {
    Complain(std::string("cannot start: ") + e.what() + "; passing every call through");
  }
  g_state.store(next, std::memory_order_release);
}

__attribute__((constructor)) void OnLoad() { Init(); }
// After our own static objects are gone, nothing of ours may run.
__attribute__((destructor)) void OnUnload() { g_state.store(kOff, std::memory_order_release); }

enum class Route { kPass, kDirect, kInject };

Route RouteOf(Call c) {
  if (tl_busy) return Route::kPass;
  int s = g_state.load(std::memory_order_acquire);
  if (s == kUninit) {
    Init();
    s = g_state.load(std::memory_order_acquire);
  }
  if (s != kOn) return Route::kPass;
  Engine& e = *g_engine;
  if (e.ctl->generation() != e.seen.load(std::memory_order_acquire)) {
    Busy busy;
    std::lock_guard<std::mutex> lock(e.mu);
    if (e.ctl->generation() != e.seen.load(std::memory_order_acquire)) e.Reload();
  }
  // Not yet serving requests, or the adapter observing: the kernel's answers,
  // fds still tracked.
  if (tl_quiet > 0 || (e.wait_for_stdin.load(std::memory_order_relaxed) &&
                       !e.stdin_read.load(std::memory_order_relaxed))) {
    return Route::kDirect;
  }
  return (e.needs.load(std::memory_order_relaxed) & Bit(c)) != 0 ? Route::kInject : Route::kDirect;
}

// Runs `f(injecting_sys)` under the engine's lock (released by RealSys around
// the real call), then publishes what it traced.
template <typename F>
auto Injected(F&& f) -> decltype(f(g_engine->inj)) {
  using R = decltype(f(g_engine->inj));
  Busy busy;
  Engine& e = *g_engine;
  std::unique_lock<std::mutex> lock(e.mu);
  struct Reset {
    ~Reset() { tl_lock = nullptr; }
  } reset;
  tl_lock = &lock;
  try {
    R r = f(e.inj);
    e.Publish();
    return r;
  } catch (...) {
    // Only allocation can throw here; no exception may cross into C callers.
    static const char kMsg[] = "netfault: out of memory; the call fails with ENOMEM\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    if constexpr (std::is_same_v<R, GaiResult>) {
      GaiResult g;
      g.gai_err = EAI_MEMORY;
      return g;
    } else if constexpr (std::is_same_v<R, mode_t>) {
      return 0;
    } else {
      return SysErr<decltype(R::value)>(ENOMEM);
    }
  }
}

// The C convention: -1 and errno, or the value (errno as the caller had it).
int Answer(const SysInt& r, int saved_errno) {
  if (!r.ok()) {
    errno = r.err;
    return -1;
  }
  errno = saved_errno;
  return r.value;
}

// A nonnull-declared pointer a caller may still pass as NULL (the C library
// answers EFAULT); compared out of line so the compiler keeps the check.
__attribute__((noinline)) bool IsNull(const void* p) { return p == nullptr; }

// umask's answer: it cannot fail.
mode_t Answer(mode_t mask, int saved_errno) {
  errno = saved_errno;
  return mask;
}

// A C function's argument that would make it fail with EFAULT: a null path.
bool NullPath(const char* path) { return IsNull(path); }
template <typename T>
bool NullPath(T) {
  static_assert(std::is_arithmetic_v<T>, "a C argument the Sys method takes as it is");
  return false;
}

// The interposed function of a call whose C function takes the Sys method's
// own arguments (NETFAULT_SIMPLE in netfault_calls.def): the C library's
// answer unless a rule or the trace needs the call; `seam(s)` makes it on the
// InjectingSys, a path converted to the method's std::string.
template <Call call, typename Real, typename Seam, typename... A>
auto SimpleCall(Real& real, Seam&& seam, A... args) {
  Route route = RouteOf(call);
  if ((NullPath(args) || ...)) route = Route::kPass;
  if (route != Route::kInject) return real(args...);
  const int saved = errno;
  return Answer(Injected(seam), saved);
}

// Copies an address out as the kernel does: truncated to the caller's
// buffer, the full length reported.
void CopyOut(const SockAddr& a, sockaddr* addr, socklen_t* len) {
  std::memcpy(addr, a.data(), std::min<socklen_t>(*len, a.len()));
  *len = a.len();
}

// A getaddrinfo list in one block (nodes, addresses, names), freed by our
// freeaddrinfo.
addrinfo* MakeList(const std::vector<AddrInfo>& addrs, int flags) {
  if (addrs.empty()) return nullptr;
  size_t bytes = addrs.size() * (sizeof(addrinfo) + sizeof(sockaddr_storage));
  for (const AddrInfo& a : addrs) bytes += a.canonname.empty() ? 0 : a.canonname.size() + 1;
  char* block = static_cast<char*>(std::calloc(1, bytes));
  if (block == nullptr) return nullptr;
  auto* nodes = reinterpret_cast<addrinfo*>(block);
  auto* storage = reinterpret_cast<sockaddr_storage*>(block + addrs.size() * sizeof(addrinfo));
  char* names = reinterpret_cast<char*>(storage + addrs.size());
  for (size_t i = 0; i < addrs.size(); ++i) {
    const AddrInfo& a = addrs[i];
    addrinfo& n = nodes[i];
    n.ai_flags = flags;
    n.ai_family = a.family;
    n.ai_socktype = a.socktype;
    n.ai_protocol = a.protocol;
    n.ai_addrlen = a.addr.len();
    std::memcpy(&storage[i], a.addr.data(), a.addr.len());
    n.ai_addr = reinterpret_cast<sockaddr*>(&storage[i]);
    if (!a.canonname.empty()) {
      std::memcpy(names, a.canonname.c_str(), a.canonname.size() + 1);
      n.ai_canonname = names;
      names += a.canonname.size() + 1;
    }
    n.ai_next = i + 1 < addrs.size() ? &nodes[i + 1] : nullptr;
  }
  std::lock_guard<std::mutex> lock(g_lists_mu);
  g_lists->insert(block);
  g_lists_live.fetch_add(1, std::memory_order_relaxed);
  return nodes;
}

bool FreeOurList(addrinfo* ai) {
  if (g_lists_live.load(std::memory_order_relaxed) == 0 || ai == nullptr) return false;
  std::lock_guard<std::mutex> lock(g_lists_mu);
  if (g_lists == nullptr || g_lists->erase(ai) == 0) return false;
  g_lists_live.fetch_sub(1, std::memory_order_relaxed);
  std::free(ai);
  return true;
}

int StatCall(const char* path, void* buf, bool link, bool is64) {
  const Route route =
      IsNull(path) || IsNull(buf) ? Route::kPass : RouteOf(link ? Call::kLstat : Call::kStat);
  if (route != Route::kInject) {
    if (is64) {
      auto* st = static_cast<struct stat64*>(buf);
      return link ? real_lstat64(path, st) : real_stat64(path, st);
    }
    auto* st = static_cast<struct stat*>(buf);
    return link ? real_lstat(path, st) : real_stat(path, st);
  }
  const int saved = errno;
  tl_raw.stat_buf = buf;
  tl_raw.stat64 = is64;
  const SysResult<FileStat> r =
      Injected([&](fakes::InjectingSys& s) { return link ? s.lstat(path) : s.stat(path); });
  return Answer(SysInt{r.ok() ? 0 : -1, r.err}, saved);
}

// The fd table when this process keeps one and the call is the program's own
// (not ours, not before start-up, not in a forked child); nullptr otherwise.
// The getpid() leaves out a vfork child too, which typically dup2s and
// close_ranges its own fds just before exec (Python's subprocess does): those
// are not the parent's. A system call, so only for these rare calls; the hot
// close() goes without it.
RealSys* FdTable() {
  if (RouteOf(Call::kClose) == Route::kPass || ::getpid() != g_engine->pid) return nullptr;
  return &g_engine->real;
}

// A new descriptor `copy` of `fd` (dup, dup2, dup3, F_DUPFD): of fd's kind,
// so closing the copy of a socket is traced, and a number that was a socket
// and now holds a file is no socket any more.
void TrackCopy(RealSys* table, int fd, int copy) {
  if (table != nullptr && copy >= 0 && copy != fd) table->Track(copy, table->Kind(fd));
}

int RealFcntl(bool is64, int fd, int cmd, void* arg) {
  return is64 ? real_fcntl64(fd, cmd, arg) : real_fcntl(fd, cmd, arg);
}

int FcntlCall(bool is64, int fd, int cmd, void* arg) {
  if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
    RealSys* table = FdTable();
    const int r = RealFcntl(is64, fd, cmd, arg);
    TrackCopy(table, fd, r);
    return r;
  }
  const bool int_cmd = cmd == F_GETFL || cmd == F_SETFL || cmd == F_GETFD || cmd == F_SETFD;
  Route route = Route::kPass;
  if (int_cmd) {
    route = RouteOf(Call::kFcntl);
    if (route == Route::kInject && !g_engine->real.Tracked(fd)) route = Route::kPass;
  }
  if (route != Route::kInject) return RealFcntl(is64, fd, cmd, arg);
  const int saved = errno;
  // The getters take no argument: what the caller left in the register is noise.
  const int value =
      cmd == F_GETFL || cmd == F_GETFD ? 0 : static_cast<int>(reinterpret_cast<intptr_t>(arg));
  return Answer(Injected([&](fakes::InjectingSys& s) { return s.fcntl(fd, cmd, value); }), saved);
}

int AcceptCall(int fd, sockaddr* addr, socklen_t* len, int flags, bool four) {
  Route route = RouteOf(Call::kAccept4);
  if (IsNull(addr) != IsNull(len)) route = Route::kPass;  // the kernel's EFAULT
  if (route == Route::kPass) {
    return four ? real_accept4(fd, addr, len, flags) : real_accept(fd, addr, len);
  }
  if (route == Route::kDirect) {
    // The hot path of a server under load: the caller's own buffers, then
    // only the fd table.
    const int r = four ? real_accept4(fd, addr, len, flags) : real_accept(fd, addr, len);
    if (r >= 0) g_engine->real.Track(r, FdKind::kSocket);
    return r;
  }
  const int saved = errno;
  SockAddr peer;
  SockAddr* want = addr != nullptr ? &peer : nullptr;
  const SysInt r = Injected([&](fakes::InjectingSys& s) { return s.accept4(fd, want, flags); });
  if (r.ok() && want != nullptr && !peer.empty()) CopyOut(peer, addr, len);
  return Answer(r, saved);
}

}  // namespace
}  // namespace netutil::netfault

// ---- the interposed functions ----------------------------------------------------

using netutil::AddrInfoHints;
using netutil::GaiResult;
using netutil::SockAddr;
using netutil::SysInt;
using netutil::fakes::Call;
using netutil::fakes::InjectingSys;
using namespace netutil::netfault;

// Built with hidden visibility (nothing of ours may bind to the program's
// symbols); these are the library's whole interface.
#pragma GCC visibility push(default)
extern "C" {

__attribute__((visibility("hidden"))) void netfault_stdin_read();

// The NETFAULT_SIMPLE lines of netfault_calls.def (listen, unlink, ...), whose
// C function takes the Sys method's own arguments.
#define NETFAULT_ARGS(...) __VA_ARGS__
#define NETFAULT_SIMPLE(name, Camel, Ret, params, args)                                 \
  Ret name params {                                                                     \
    return SimpleCall<Call::k##Camel>(                                                  \
        real_##name, [&](InjectingSys& s) { return s.name args; }, NETFAULT_ARGS args); \
  }
#include "netfault_calls.def"
#undef NETFAULT_ARGS

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
  Route route = RouteOf(Call::kGetaddrinfo);
  if (IsNull(res) || (node == nullptr && service == nullptr)) route = Route::kPass;
  if (route != Route::kInject) return real_getaddrinfo(node, service, hints, res);
  const int saved = errno;
  // glibc's defaults for a NULL hints (man 3 getaddrinfo), so the trace and
  // the resolver table see what the C library will do.
  AddrInfoHints h{AF_UNSPEC, 0, 0, AI_V4MAPPED | AI_ADDRCONFIG};
  if (hints != nullptr)
    h = {hints->ai_family, hints->ai_socktype, hints->ai_protocol, hints->ai_flags};
  std::optional<std::string> host;
  if (node != nullptr) host = node;
  tl_raw.node = node;
  tl_raw.service = service;
  tl_raw.hints = hints;
  const GaiResult r = Injected([&](InjectingSys& s) {
    // A NULL service is port 0 to the C library; the table needs it spelled.
    std::string serv = service != nullptr ? service : "";
    if (service == nullptr && host && s.resolver().hosts().count(*host) != 0) serv = "0";
    return s.getaddrinfo(host, serv, h);
  });
  if (!r.ok()) {
    errno = r.gai_err == EAI_SYSTEM ? r.sys_err : saved;
    return r.gai_err;
  }
  *res = MakeList(r.addrs, h.flags);
  if (*res == nullptr && !r.addrs.empty()) return EAI_MEMORY;
  errno = saved;
  return 0;
}

void freeaddrinfo(addrinfo* ai) noexcept {
  if (!FreeOurList(ai)) real_freeaddrinfo(ai);
}

int socket(int domain, int type, int protocol) noexcept {
  const Route route = RouteOf(Call::kSocket);
  if (route == Route::kPass) return real_socket(domain, type, protocol);
  if (route == Route::kDirect) {
    const int r = real_socket(domain, type, protocol);
    if (r >= 0) g_engine->real.Track(r, FdKind::kSocket);
    return r;
  }
  const int saved = errno;
  return Answer(Injected([&](InjectingSys& s) { return s.socket(domain, type, protocol); }), saved);
}

int setsockopt(int fd, int level, int optname, const void* optval, socklen_t optlen) noexcept {
  Route route = RouteOf(Call::kSetsockopt);
  if (IsNull(optval) || optlen != sizeof(int)) route = Route::kPass;  // not an int option
  if (route != Route::kInject) return real_setsockopt(fd, level, optname, optval, optlen);
  const int saved = errno;
  int value;
  std::memcpy(&value, optval, sizeof value);
  return Answer(Injected([&](InjectingSys& s) { return s.setsockopt(fd, level, optname, value); }),
                saved);
}

int getsockopt(int fd, int level, int optname, void* optval, socklen_t* optlen) noexcept {
  Route route = RouteOf(Call::kGetsockopt);
  if (IsNull(optval) || IsNull(optlen) || *optlen != sizeof(int)) route = Route::kPass;
  if (route != Route::kInject) return real_getsockopt(fd, level, optname, optval, optlen);
  const int saved = errno;
  const SysInt r = Injected([&](InjectingSys& s) { return s.getsockopt(fd, level, optname); });
  if (r.ok()) {
    std::memcpy(optval, &r.value, sizeof r.value);
    *optlen = sizeof r.value;
  }
  return Answer(r.ok() ? SysInt{0, 0} : r, saved);
}

int bind(int fd, const sockaddr* addr, socklen_t len) noexcept {
  Route route = RouteOf(Call::kBind);
  if (IsNull(addr)) route = Route::kPass;
  if (route != Route::kInject) return real_bind(fd, addr, len);
  const int saved = errno;
  tl_raw.addr = addr;
  tl_raw.addrlen = len;
  const SockAddr a = SockAddr::FromRaw(addr, len);
  return Answer(Injected([&](InjectingSys& s) { return s.bind(fd, a); }), saved);
}

int getsockname(int fd, sockaddr* addr, socklen_t* len) noexcept {
  Route route = RouteOf(Call::kGetsockname);
  if (IsNull(addr) || IsNull(len)) route = Route::kPass;
  if (route != Route::kInject) return real_getsockname(fd, addr, len);
  const int saved = errno;
  const netutil::SysResult<SockAddr> r =
      Injected([&](InjectingSys& s) { return s.getsockname(fd); });
  if (r.ok()) CopyOut(r.value, addr, len);
  return Answer(SysInt{r.ok() ? 0 : -1, r.err}, saved);
}

int accept(int fd, sockaddr* addr, socklen_t* len) { return AcceptCall(fd, addr, len, 0, false); }

int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  return AcceptCall(fd, addr, len, flags, true);
}

int connect(int fd, const sockaddr* addr, socklen_t len) {
  Route route = RouteOf(Call::kConnect);
  if (IsNull(addr)) route = Route::kPass;
  if (route != Route::kInject) return real_connect(fd, addr, len);
  const int saved = errno;
  tl_raw.addr = addr;
  tl_raw.addrlen = len;
  const SockAddr a = SockAddr::FromRaw(addr, len);
  return Answer(Injected([&](InjectingSys& s) { return s.connect(fd, a); }), saved);
}

int close(int fd) {
  Route route = RouteOf(Call::kClose);
  if (route != Route::kPass && !g_engine->real.Tracked(fd)) route = Route::kPass;
  if (route == Route::kPass) return real_close(fd);
  if (route == Route::kDirect) {
    g_engine->real.Track(fd, FdKind::kNone);  // before: the number may be reused at once
    return real_close(fd);
  }
  const int saved = errno;
  return Answer(Injected([&](InjectingSys& s) { return s.close(fd); }), saved);
}

int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  // As the C library reads it: one pointer-sized argument, whatever the command.
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return FcntlCall(false, fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return FcntlCall(true, fd, cmd, arg);
}

int stat(const char* path, struct stat* buf) noexcept { return StatCall(path, buf, false, false); }
int lstat(const char* path, struct stat* buf) noexcept { return StatCall(path, buf, true, false); }
int stat64(const char* path, struct stat64* buf) noexcept {
  return StatCall(path, buf, false, true);
}
int lstat64(const char* path, struct stat64* buf) noexcept {
  return StatCall(path, buf, true, true);
}

// Not a call of the seam: watched only for the first request an adapter reads
// (Config::wait_for_stdin). One compare for every other fd.
ssize_t read(int fd, void* buf, size_t n) {
  const ssize_t r = real_read(fd, buf, n);
  if (fd == 0 && r > 0) netfault_stdin_read();
  return r;
}

// Not calls of the seam either: they only keep the fd table right.
int dup(int fd) noexcept {
  RealSys* table = FdTable();
  const int r = real_dup(fd);
  TrackCopy(table, fd, r);
  return r;
}

int dup2(int fd, int fd2) noexcept {
  RealSys* table = FdTable();
  const int r = real_dup2(fd, fd2);
  TrackCopy(table, fd, r);
  return r;
}

int dup3(int fd, int fd2, int flags) noexcept {
  RealSys* table = FdTable();
  const int r = real_dup3(fd, fd2, flags);
  TrackCopy(table, fd, r);
  return r;
}

// CLOSE_RANGE_CLOEXEC only marks the range close-on-exec: nothing is closed.
// CLOSE_RANGE_UNSHARE closes it in a private copy of the fd table, the one the
// caller goes on with (typically just before exec), so it is forgotten too.
// Forgotten before the real call, as close does: the numbers may be reused at
// once. A call the kernel refuses (EINVAL) forgets nothing. The program's own
// call (not a vfork child's: FdTable) is a call of the seam, traced and faulted.
int close_range(unsigned first, unsigned last, int flags) noexcept {
  RealSys* table = FdTable();
  const unsigned known = CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE;
  const auto uflags = static_cast<unsigned>(flags);
  if (table != nullptr && first <= last && (uflags & ~known) == 0 &&
      (uflags & CLOSE_RANGE_CLOEXEC) == 0) {
    table->Untrack(first, last);
  }
  if (table == nullptr || RouteOf(Call::kCloseRange) != Route::kInject) {
    return real_close_range(first, last, flags);
  }
  const int saved = errno;
  return Answer(Injected([&](InjectingSys& s) { return s.close_range(first, last, uflags); }),
                saved);
}

// ioctl(FIONBIO) on a socket the seam follows is the seam's ioctl (CPython's
// and libuv's way to set O_NONBLOCK); any other request, or fd, passes.
int ioctl(int fd, unsigned long request, ...) noexcept {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);  // one pointer-sized word, as the C library reads it
  va_end(ap);
  if (request != FIONBIO || IsNull(arg) || RouteOf(Call::kIoctl) != Route::kInject ||
      !g_engine->real.Tracked(fd)) {
    return real_ioctl(fd, request, arg);
  }
  const int saved = errno;
  const int value = *static_cast<const int*>(arg);
  return Answer(Injected([&](InjectingSys& s) { return s.ioctl(fd, request, value); }), saved);
}

void closefrom(int first) noexcept {
  if (RealSys* table = FdTable()) table->Untrack(static_cast<unsigned>(std::max(first, 0)), ~0u);
  real_closefrom(first);
}

// The program read from its stdin (read above, or the stdio functions of
// netfault_stdin.cc): with Config::wait_for_stdin, its first request has
// come, and the trace starts. Hidden: called from our own files only.
__attribute__((visibility("hidden"))) void netfault_stdin_read() {
  if (g_state.load(std::memory_order_acquire) == kOn &&
      !g_engine->stdin_read.load(std::memory_order_relaxed)) {
    g_engine->stdin_read.store(true, std::memory_order_relaxed);
  }
}

// Calls this thread makes between netfault_quiet(1) and netfault_quiet(0)
// (nested as often as wanted) pass through untraced and unfaulted: an
// adapter's own observations of the implementation's sockets (their flags
// and options, the open fds, the umask) are not the implementation's calls.
// An adapter finds it with dlsym(RTLD_DEFAULT, "netfault_quiet") or
// ctypes.CDLL(None); without the library it is simply absent.
void netfault_quiet(int on) {
  if (on != 0) {
    ++tl_quiet;
  } else if (tl_quiet > 0) {
    --tl_quiet;
  }
}

// ---- bind_unix_socket's directory calls (UNIX-017 to UNIX-020) ----------------
// Each passes through unless a rule or the trace needs it; the fds openat
// returns are not tracked (the seam closes them, untraced).

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & __O_TMPFILE) == __O_TMPFILE) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  Route route = RouteOf(Call::kOpenat);
  if (IsNull(path)) route = Route::kPass;
  if (route != Route::kInject) return real_openat(dirfd, path, flags, mode);
  const int saved = errno;
  return Answer(Injected([&](InjectingSys& s) { return s.openat(dirfd, path, flags, mode); }),
                saved);
}

int fstatat(int dirfd, const char* path, struct stat* buf, int flags) noexcept {
  Route route = RouteOf(Call::kFstatat);
  if (IsNull(path) || IsNull(buf)) route = Route::kPass;
  if (route != Route::kInject) return real_fstatat(dirfd, path, buf, flags);
  const int saved = errno;
  tl_raw.stat_buf = buf;
  tl_raw.stat64 = false;
  const netutil::SysResult<netutil::FileStat> r =
      Injected([&](InjectingSys& s) { return s.fstatat(dirfd, path, flags); });
  tl_raw.stat_buf = nullptr;
  return Answer(SysInt{r.ok() ? 0 : -1, r.err}, saved);
}

ssize_t readlinkat(int dirfd, const char* path, char* buf, size_t size) noexcept {
  Route route = RouteOf(Call::kReadlinkat);
  if (IsNull(path) || IsNull(buf)) route = Route::kPass;
  if (route != Route::kInject) return real_readlinkat(dirfd, path, buf, size);
  const int saved = errno;
  const netutil::SysResult<std::string> r =
      Injected([&](InjectingSys& s) { return s.readlinkat(dirfd, path); });
  if (!r.ok()) {
    errno = r.err;
    return -1;
  }
  const size_t n = std::min(size, r.value.size());  // truncated, no NUL: readlink's way
  std::memcpy(buf, r.value.data(), n);
  errno = saved;
  return static_cast<ssize_t>(n);
}

int epoll_create1(int flags) noexcept {
  const Route route = RouteOf(Call::kEpollCreate1);
  if (route == Route::kPass) return real_epoll_create1(flags);
  if (route == Route::kDirect) {
    const int r = real_epoll_create1(flags);
    if (r >= 0) g_engine->real.Track(r, FdKind::kEpoll);
    return r;
  }
  const int saved = errno;
  return Answer(Injected([&](InjectingSys& s) { return s.epoll_create1(flags); }), saved);
}

int epoll_ctl(int epfd, int op, int fd, epoll_event* event) noexcept {
  if (RouteOf(Call::kEpollCtl) != Route::kInject) return real_epoll_ctl(epfd, op, fd, event);
  const int saved = errno;
  tl_raw.ctl_event = event;
  // The kernel ignores the event of a DEL (and the caller may leave it
  // unset); the seam's callers pass 0 there, so the trace shows 0.
  const uint32_t events = event != nullptr && op != EPOLL_CTL_DEL ? event->events : 0;
  return Answer(Injected([&](InjectingSys& s) { return s.epoll_ctl(epfd, op, fd, events); }),
                saved);
}

int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) {
  Route route = RouteOf(Call::kEpollWait);
  // Beyond what the kernel accepts: its EINVAL, without our buffer.
  if (max_events <= 0 || max_events > (1 << 20)) route = Route::kPass;
  if (route != Route::kInject) return real_epoll_wait(epfd, events, max_events, timeout_ms);
  const int saved = errno;
  tl_raw.wait_events = events;
  std::vector<netutil::EpollEvent> seen(static_cast<size_t>(max_events));
  return Answer(Injected([&](InjectingSys& s) {
                  return s.epoll_wait(epfd, seen.data(), max_events, timeout_ms);
                }),
                saved);
}

}  // extern "C"
#pragma GCC visibility pop

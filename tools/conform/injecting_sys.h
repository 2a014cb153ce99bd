// A Sys decorator that makes a conformance environment around a real Sys
// (PosixSys): resolver overrides, "fail the Nth call of X with errno E" rules,
// a kernel without IPv6, and an strace-like trace of every call.
//
// Only the in-process mode can use it: the implementation under test must call
// through this object. (Another process needs an LD_PRELOAD interposer.)
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "netutil/sys.h"

namespace netutil::conform {

// The Sys calls, by the syscall's name.
enum class Call {
  kGetaddrinfo,
  kSocket,
  kSetsockopt,
  kGetsockopt,
  kBind,
  kListen,
  kGetsockname,
  kAccept4,
  kConnect,
  kClose,
  kFcntl,
  kUnlink,
  kLstat,
  kStat,
  kChmod,
  kFchmod,
  kUmask,
  kEpollCreate1,
  kEpollCtl,
  kEpollWait,
  kCount,  // not a call
};
inline constexpr size_t kCallCount = static_cast<size_t>(Call::kCount);

const char* CallName(Call call);
std::optional<Call> CallFromName(std::string_view name);

// "SO_REUSEADDR" <-> SO_REUSEADDR (socket options the implementations set).
std::optional<int> SockOptFromName(std::string_view name);

// Makes matching calls fail. A call matches when it is `call` and passes the
// filters; matching calls are counted from 1, and calls nth .. nth+times-1
// fail (times 0: every one from nth on).
struct FaultRule {
  Call call = Call::kSocket;
  int err = 0;       // errno; for getaddrinfo an EAI_* code when `gai`
  bool gai = false;  // getaddrinfo only: err is an EAI code (else EAI_SYSTEM + errno err)
  long long nth = 1;
  long long times = 1;
  std::optional<int>
      family;  // the call's address family (socket domain, bind address, fd's socket)
  std::optional<int> optname;  // setsockopt/getsockopt only

  long long seen = 0;  // matching calls so far
};

// Answers getaddrinfo for one host instead of the real resolver.
struct ResolverOverride {
  std::optional<std::string> host;  // nullopt: the NULL node (no address)
  int gai_err = 0;                  // non-zero: fail with this EAI code
  int sys_err = 0;                  // errno for EAI_SYSTEM
  std::vector<SockAddr> addrs;      // ports are taken from the service; filtered by hints.family
};

// What was called since the last TakeTrace().
struct SysTrace {
  std::array<long long, kCallCount> counts{};
  std::vector<std::string> log;  // "bind(5, [::1]:0) = -1 EADDRINUSE (injected)"
  long long dropped = 0;         // log lines beyond the cap
  long long total() const;
};

class InjectingSys final : public Sys {
 public:
  static constexpr size_t kMaxLogLines = 4000;

  explicit InjectingSys(Sys& inner) : inner_(inner) {}

  void SetResolver(std::vector<ResolverOverride> overrides) { resolver_ = std::move(overrides); }
  // Replaces the rules; their counts start from zero.
  void SetFaults(std::vector<FaultRule> rules) { faults_ = std::move(rules); }
  // socket(AF_INET6) fails with EAFNOSUPPORT, as on a kernel built without IPv6.
  void SetIpv6Missing(bool missing) { ipv6_missing_ = missing; }

  SysTrace TakeTrace();

  // netutil::Sys
  GaiResult getaddrinfo(const std::optional<std::string>& host, const std::string& service,
                        const AddrInfoHints& hints) override;
  SysInt socket(int domain, int type, int protocol) override;
  SysInt setsockopt(int fd, int level, int optname, int value) override;
  SysInt getsockopt(int fd, int level, int optname) override;
  SysInt bind(int fd, const SockAddr& addr) override;
  SysInt listen(int fd, int backlog) override;
  SysResult<SockAddr> getsockname(int fd) override;
  SysInt accept4(int fd, SockAddr* peer, int flags) override;
  SysInt connect(int fd, const SockAddr& addr) override;
  SysInt close(int fd) override;
  SysInt fcntl(int fd, int cmd, int arg) override;
  SysInt unlink(const std::string& path) override;
  SysResult<FileStat> lstat(const std::string& path) override;
  SysResult<FileStat> stat(const std::string& path) override;
  SysInt chmod(const std::string& path, mode_t mode) override;
  SysInt fchmod(int fd, mode_t mode) override;
  mode_t umask(mode_t mask) override;
  SysInt epoll_create1(int flags) override;
  SysInt epoll_ctl(int epfd, int op, int fd, uint32_t events) override;
  SysInt epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) override;
  std::chrono::nanoseconds monotonic_now() override;

 private:
  // Counts the call; returns the fault rule that fires for it, if any.
  const FaultRule* Fault(Call call, std::optional<int> family,
                         std::optional<int> optname = std::nullopt);
  std::optional<int> FamilyOf(int fd) const;
  void Log(std::string line);
  // Runs `real` unless a rule fires, logs "<call> = <result>", returns the result.
  template <typename Real>
  SysInt Int(Call call, std::optional<int> family, std::optional<int> optname,
             const std::string& text, Real&& real);

  Sys& inner_;
  std::vector<ResolverOverride> resolver_;
  std::vector<FaultRule> faults_;
  bool ipv6_missing_ = false;
  std::unordered_map<int, int> fd_family_;  // sockets made through us
  SysTrace trace_;
};

}  // namespace netutil::conform

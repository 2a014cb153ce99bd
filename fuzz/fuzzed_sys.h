// FuzzedSys: a Sys whose every answer is read from fuzz input (in the style of
// Bitcoin Core's FuzzedSock). Each call returns a legal result or an errno
// that call can really return (its man page's list), and tracks just enough
// state for oracles: which fds are open, which listen, what is bound, the
// umask, which unix socket files exist.
//
// When the input runs out, every call gives the answer that ends loops
// (accept4 -> EAGAIN, epoll_wait -> 0 events, socket -> EMFILE), so no target
// can hang.
//
// Misuse by the code under test (closing an fd it does not own, using a
// closed fd) is recorded as a violation; targets abort on any.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "netutil/sys.h"

namespace netutil::fuzz {

class FuzzedSys final : public Sys {
 public:
  explicit FuzzedSys(FuzzedDataProvider& in) : in_(in) {}

  // While true, every call succeeds without reading input: for a target's own set-up.
  void set_setup(bool on) { setup_ = on; }

  // What the oracles look at.
  const std::set<int>& open_fds() const { return open_; }
  bool is_listening(int fd) const;
  int calls() const { return calls_; }
  int calls_of(const std::string& name) const;
  mode_t current_umask() const { return umask_; }
  const std::set<std::string>& files() const { return files_; }
  const std::vector<std::string>& violations() const { return violations_; }
  const std::vector<std::string>& unlinked() const { return unlinked_; }
  // The mask epoll was last told for `fd` (0 when not registered).
  uint32_t epoll_mask(int fd) const;
  std::chrono::nanoseconds now() const { return now_; }

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
  struct Sock {
    int family = 0;
    bool bound = false;
    bool listening = false;
    bool epoll = false;
    SockAddr local;
  };

  // Reads whether the call succeeds; on failure, which of `legal` it fails with.
  // `exhausted_err` is the answer once the input is spent (0 = succeed).
  int Outcome(const std::vector<int>& legal, int exhausted_err);
  bool Known(int fd, const char* call);
  int NewFd(int family, bool epoll);

  FuzzedDataProvider& in_;
  bool setup_ = false;
  int calls_ = 0;
  std::map<std::string, int> per_call_;
  std::map<int, Sock> socks_;
  std::set<int> open_;
  std::map<int, uint32_t> epoll_masks_;  // fd -> mask registered in the (single) epoll set
  std::set<std::string> files_;          // unix socket files created by bind
  std::vector<std::string> unlinked_;
  std::vector<std::string> violations_;
  mode_t umask_ = 022;
  std::chrono::nanoseconds now_{1'000'000'000};
};

// Aborts with every violation printed when the list is not empty.
void AbortOnViolations(const FuzzedSys& sys, const char* where);
// Aborts with `what` printed when `ok` is false: an oracle failed.
void Check(bool ok, const std::string& what);

}  // namespace netutil::fuzz

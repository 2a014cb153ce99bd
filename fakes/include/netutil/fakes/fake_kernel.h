// A deterministic, single-threaded model of the kernel behind the Sys seam:
// no real syscall is made. Property tests, the fault sweep, fuzzers and the
// fidelity table (which runs the same scenarios on the real kernel) run on it.
//
// What it models:
//   - an fd table (the lowest free fd first; 0-2 are taken as stdio), a
//     per-process limit (EMFILE) and a system-wide one (ENFILE);
//   - sockets: family, type, SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY,
//     O_NONBLOCK, FD_CLOEXEC, state (created, bound, listening, connected),
//     and the platform's bind-conflict rules (bind_rules.h);
//   - bind(port 0) from a configurable ephemeral range, in sequential or
//     seeded order, so races such as Tornado issue 1860 can be set up exactly;
//   - the host's addresses (EADDRNOTAVAIL for others), IPv6 absent
//     (EAFNOSUPPORT), a resolver table (resolver_table.h);
//   - listen queues with their backlog (a queue holds backlog + 1
//     connections, as Linux's sk_acceptq_is_full); clients from outside the
//     process (ConnectTo) and from inside it (connect); a queued connection can
//     be aborted (accept4 then says ECONNABORTED);
//   - epoll, its readiness derived from that state (level-triggered; a
//     listener is readable while its queue is not empty), and a fake
//     monotonic clock that epoll_wait's timeout advances;
//   - the filesystem bits unix sockets need (fake_fs.h), umask included;
//   - other processes' sockets (ForeignBind), which hold ports and paths
//     without using this process's fds.
//
// Every Sys call goes through a FaultPlan (fault_plan.h) first and is
// recorded in a Trace (trace.h), which a failing test prints.
//
//   FakeKernel kernel;                            // Linux, dual-stack loopback
//   kernel.SetFaultPlan(Plan("bind family=inet6 = EADDRINUSE"));
//   auto r = bind_sockets(kernel, {.port = 0});
//   EXPECT_TRUE(r.ok()) << kernel.trace();
//
// Simplifications (each would matter only to code this harness does not test):
// no data is sent or received; TIME_WAIT is not modelled; a client socket's
// own port is not entered in the bind table; a call that would block (a
// blocking accept4 on an empty queue, epoll_wait(-1) with nothing due) returns
// at once (EAGAIN, 0) instead of hanging the test; EPOLLET is taken as level.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "netutil/fakes/fake_fs.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/injecting_sys.h"
#include "netutil/fakes/kernel_config.h"
#include "netutil/fakes/trace.h"
#include "netutil/sys.h"

namespace netutil::fakes {

class FakeKernel final : public Sys {
 public:
  explicit FakeKernel(KernelConfig config = KernelConfig::For());
  ~FakeKernel() override;
  FakeKernel(const FakeKernel&) = delete;
  FakeKernel& operator=(const FakeKernel&) = delete;

  // netutil::Sys: the model behind the fault plan, every call traced.
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
  SysInt openat(int dirfd, const std::string& path, int flags, mode_t mode) override;
  SysInt mkdirat(int dirfd, const std::string& path, mode_t mode) override;
  SysResult<FileStat> fstatat(int dirfd, const std::string& path, int flags) override;
  SysInt renameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                   const std::string& newpath, unsigned int flags) override;
  SysInt unlinkat(int dirfd, const std::string& path, int flags) override;
  SysInt fchmodat(int dirfd, const std::string& path, mode_t mode, int flags) override;
  SysResult<std::string> readlinkat(int dirfd, const std::string& path) override;
  SysInt epoll_create1(int flags) override;
  SysInt epoll_ctl(int epfd, int op, int fd, uint32_t events) override;
  SysInt epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) override;
  std::chrono::nanoseconds monotonic_now() override { return now_; }

  // --- Faults and trace -----------------------------------------------------
  // Replaces the plan; counts restart.
  void SetFaultPlan(FaultPlan plan) { front_.faults().Reset(std::move(plan)); }
  FaultInjector& faults() { return front_.faults(); }
  // Who does the plan's "after ... swap" rules: by default this kernel's
  // files (FakeFs::Swap); a test may observe or replace it.
  void set_swapper(InjectingSys::Swapper s) { front_.set_swapper(std::move(s)); }
  Trace& trace() { return front_.trace(); }
  const Trace& trace() const { return front_.trace(); }

  // --- The host -------------------------------------------------------------
  const KernelConfig& config() const { return config_; }
  ResolverTable& resolver() { return config_.resolver; }
  FakeFs& fs() { return fs_; }
  const FakeFs& fs() const { return fs_; }
  void set_fd_limit(int limit) { config_.fd_limit = limit; }
  void set_system_fds_in_use(int n) { config_.system_fds_in_use = n; }
  void set_ipv6_supported(bool on) { config_.ipv6_supported = on; }

  // --- Other processes and remote clients -----------------------------------
  struct ForeignOptions {
    bool reuseaddr = false;
    bool reuseport = false;
    std::optional<bool> v6only;  // the platform default when unset
    bool listen = true;
    int backlog = 128;
  };
  // A socket of another process bound (and listening, unless told) to `addr`:
  // it holds the port (port 0: one the kernel picks) or the unix path, and
  // takes connections, but uses no fd here. Returns its id, or the errno its
  // bind or listen got.
  SysResult<uint64_t> ForeignBind(const SockAddr& addr, ForeignOptions options);
  SysResult<uint64_t> ForeignBind(const SockAddr& addr) { return ForeignBind(addr, {}); }
  void ForeignClose(uint64_t id);

  // A client outside the process connects to `addr`. Returns the connection's
  // id when it is queued on a listener; ECONNREFUSED when nothing listens
  // there; EAGAIN when the listener's queue is full (TCP drops the SYN, unix
  // refuses), the connection then is not queued.
  SysResult<uint64_t> ConnectTo(const SockAddr& addr);
  // Resets a queued connection: it stays in the queue and accept4 reports it
  // as ECONNABORTED. False when it is no longer queued.
  bool AbortConnection(uint64_t connection_id);

  // --- Inspection -----------------------------------------------------------
  enum class SocketState { kCreated, kBound, kListening, kConnected };
  struct SocketInfo {
    uint64_t id = 0;
    int family = 0;
    int type = 0;  // SOCK_STREAM, SOCK_DGRAM (flags apart)
    bool nonblock = false;
    bool cloexec = false;
    bool reuseaddr = false;
    bool reuseport = false;
    bool v6only = false;
    mode_t inode_mode = 0777;  // fchmod on the socket fd
    SocketState state = SocketState::kCreated;
    SockAddr local;            // empty until bound
    SockAddr peer;             // connected sockets
    int backlog = 0;           // after listen's clamp
    size_t queued = 0;         // connections waiting in accept4's queue
  };
  // The socket at `fd`, or nullopt (not open, or an epoll fd).
  std::optional<SocketInfo> socket_info(int fd) const;
  std::vector<int> open_fds() const;
  size_t fd_count() const { return fds_.size(); }
  bool is_epoll(int fd) const;
  // The epoll bits `fd` is ready for now (EPOLLIN when a listener's queue is
  // not empty, ...), as epoll_wait would derive them.
  uint32_t Readiness(int fd) const;
  // Every port bind(port 0) or listen's autobind handed out, in order.
  const std::vector<uint16_t>& ports_handed_out() const { return ports_handed_out_; }
  // Whether a socket (this process's or another's) listens at a unix
  // address now: what a connect() probe would find alive.
  bool Listens(const SockAddr& unix_addr) const;
  // The fd table, one socket a line, for failure messages.
  std::string DescribeFds() const;

  // --- Clock ----------------------------------------------------------------
  // Moves the clock forward, running what At() scheduled on the way.
  void Advance(std::chrono::nanoseconds d);
  // Runs `fn` when the clock reaches `when` (through Advance or an
  // epoll_wait that waits): a connection arriving while the loop sleeps.
  void At(std::chrono::nanoseconds when, std::function<void()> fn);

 private:
  struct Pending {
    uint64_t id = 0;
    SockAddr peer;
    SockAddr local;       // the address the client reached
    uint64_t client = 0;  // our own connecting socket, 0 for a remote client
    bool aborted = false;
  };
  struct Socket {
    uint64_t id = 0;
    int family = 0;
    int type = 0;
    bool nonblock = false;  // a file status flag; FD_CLOEXEC is the fd's (FdEntry)
    bool reuseaddr = false;
    bool reuseport = false;
    bool v6only = false;
    mode_t inode_mode = 0777;
    SocketState state = SocketState::kCreated;
    SockAddr local;
    SockAddr peer;
    int backlog = 0;
    std::deque<Pending> queue;
    std::map<std::pair<int, int>, int> other_options;
    bool foreign = false;
  };
  struct Epoll {
    // Registered fds and their masks, in the order epoll_wait scans them;
    // reported fds move to the back (Linux re-queues level-triggered ones at
    // the tail of its ready list), so a small max_events is still fair.
    std::vector<std::pair<int, uint32_t>> interest;
  };
  struct FdEntry {
    bool is_epoll = false;
    bool is_dir = false;  // openat(O_PATH | O_DIRECTORY): id is the directory's inode
    uint64_t id = 0;  // into sockets_ or epolls_
    bool cloexec = false;
  };

  // The model's own Sys, which the InjectingSys in front of it calls when no
  // fault rule fires.
  class Model;
  friend class Model;

  // fds
  SysInt AllocFd(bool is_epoll, uint64_t id);
  Socket* SocketAt(int fd, int& err);
  const Socket* SocketAt(int fd) const;
  Socket& NewSocket(int family, int type);
  void DestroySocket(uint64_t id);

  // inet
  bool IsLocalAddress(const SockAddr& addr) const;
  int CheckInetBind(const Socket& s, const SockAddr& addr) const;
  bool PortConflicts(const Socket& s, const SockAddr& addr, bool relax, bool reuseport_ok,
                     bool listening) const;
  std::optional<uint16_t> PickPort(const Socket& s, const SockAddr& addr);
  Socket* FindInetListener(const SockAddr& dest);
  int BindModel(Socket& s, const SockAddr& addr);
  int ListenModel(Socket& s, int backlog);
  int UnixBind(Socket& s, const SockAddr& addr);
  SysResult<Socket*> UnixTarget(const SockAddr& addr);
  static bool QueueFull(const Socket& listener);

  // Sys calls of the model (no faults, no trace)
  GaiResult DoGetaddrinfo(const std::optional<std::string>& host, const std::string& service,
                          const AddrInfoHints& hints);
  SysInt DoSocket(int domain, int type, int protocol);
  SysInt DoSetsockopt(int fd, int level, int optname, int value);
  SysInt DoGetsockopt(int fd, int level, int optname);
  SysInt DoBind(int fd, const SockAddr& addr);
  SysInt DoListen(int fd, int backlog);
  SysResult<SockAddr> DoGetsockname(int fd);
  SysInt DoAccept4(int fd, SockAddr* peer, int flags);
  SysInt DoConnect(int fd, const SockAddr& addr);
  SysInt DoClose(int fd);
  SysInt DoFcntl(int fd, int cmd, int arg);
  SysInt DoFchmod(int fd, mode_t mode);
  // The directory calls: (dirfd, path) as Linux resolves it.
  SysResult<std::string> DirPathOfFd(int fd, int not_open_err) const;
  SysResult<std::string> AtPath(int dirfd, const std::string& path) const;
  SysInt DoOpenat(int dirfd, const std::string& path, int flags, mode_t mode);
  SysInt DoMkdirat(int dirfd, const std::string& path, mode_t mode);
  SysResult<FileStat> DoFstatat(int dirfd, const std::string& path, int flags);
  SysInt DoRenameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                     const std::string& newpath, unsigned int flags);
  SysInt DoUnlinkat(int dirfd, const std::string& path, int flags);
  SysInt DoFchmodat(int dirfd, const std::string& path, mode_t mode, int flags);
  SysResult<std::string> DoReadlinkat(int dirfd, const std::string& path);
  SysInt DoEpollCreate1(int flags);
  SysInt DoEpollCtl(int epfd, int op, int fd, uint32_t events);
  SysInt DoEpollWait(int epfd, EpollEvent* events, int max_events, int timeout_ms);
  void RunDue();

  KernelConfig config_;
  FakeFs fs_;
  std::map<int, FdEntry> fds_;
  std::map<uint64_t, Socket> sockets_;
  std::map<uint64_t, Epoll> epolls_;
  std::map<std::string, uint64_t> abstract_names_;  // "\0name" -> socket id
  uint64_t next_id_ = 1;
  uint64_t next_connection_ = 1;
  uint16_t next_peer_port_ = 50000;
  uint64_t next_autobind_ = 0;
  std::vector<uint16_t> ports_handed_out_;
  std::mt19937_64 port_rng_;
  std::chrono::nanoseconds now_;
  std::multimap<std::chrono::nanoseconds, std::function<void()>> scheduled_;

  std::unique_ptr<Model> model_;
  InjectingSys front_;
};

const char* SocketStateName(FakeKernel::SocketState state);

}  // namespace netutil::fakes

// A deterministic, single-threaded model of the kernel, as a Sys of its own:
// no real syscall is made, no fault is injected, nothing is traced. Tests use
// it through a FakeKernel (fake_kernel.h), which puts a fault plan and a trace
// in front of it; the property tests, the fault sweep, fuzzers and the
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
//   KernelModel model;                           // Linux, dual-stack loopback
//   model.ForeignBind(*SockAddr::FromIp("0.0.0.0", 8080));
//   auto r = bind_sockets(model, {.port = 8080});  // EADDRINUSE, untraced
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
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "netutil/fakes/fake_fs.h"
#include "netutil/fakes/kernel_config.h"
#include "netutil/sys.h"

namespace netutil::fakes {

class KernelModel final : public Sys {
 public:
  // The source port of the first client the model connects (Connect, the
  // fake peers of an accept); each next one counts up from it.
  static constexpr uint16_t kFirstPeerPort = 50000;

  explicit KernelModel(KernelConfig config = KernelConfig::For());
  ~KernelModel() override;
  KernelModel(const KernelModel&) = delete;
  KernelModel& operator=(const KernelModel&) = delete;

  // netutil::Sys: what the kernel does, with no fault plan and no trace (the
  // FakeKernel puts both in front).
#define NETUTIL_SYS_METHOD NETUTIL_SYS_OVERRIDE
#include "netutil/sys_calls.def"

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
    SockAddr local;     // empty until bound
    SockAddr peer;      // connected sockets
    int backlog = 0;    // after listen's clamp
    size_t queued = 0;  // connections waiting in accept4's queue
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
    uint64_t id = 0;      // into sockets_ or epolls_
    bool cloexec = false;
  };

  // fds
  SysInt AllocFd(bool is_epoll, uint64_t id);
  // The errno AllocFd would fail with now (EMFILE, ENFILE), 0 when an fd is free.
  int FdShortage() const;
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

  // The directory calls: (dirfd, path) as Linux resolves it.
  SysResult<std::string> DirPathOfFd(int fd, int not_open_err) const;
  SysResult<std::string> AtPath(int dirfd, const std::string& path) const;
  void RunDue();

  KernelConfig config_;
  FakeFs fs_;
  std::map<int, FdEntry> fds_;
  // Whether a getaddrinfo has set up the C library's name services (read
  // nsswitch.conf), which a lookup with no free fd then cannot do
  // (ResolverTable::WithoutFreeFd).
  bool nss_ready_ = false;
  std::map<uint64_t, Socket> sockets_;
  std::map<uint64_t, Epoll> epolls_;
  std::map<std::string, uint64_t> abstract_names_;  // "\0name" -> socket id
  uint64_t next_id_ = 1;
  uint64_t next_connection_ = 1;
  uint16_t next_peer_port_ = kFirstPeerPort;
  uint64_t next_autobind_ = 0;
  std::vector<uint16_t> ports_handed_out_;
  std::mt19937_64 port_rng_;
  std::chrono::nanoseconds now_;
  std::multimap<std::chrono::nanoseconds, std::function<void()>> scheduled_;
};

const char* SocketStateName(KernelModel::SocketState state);

}  // namespace netutil::fakes

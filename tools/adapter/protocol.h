// The adapter line protocol (docs/ADAPTER.md): one JSON request per line in,
// one JSON reply per line out, answered by the reference implementation.
//
// netutil-adapter runs an AdapterSession on stdin/stdout; netconform runs one
// in-process, over a fault-injecting Sys, so both modes answer from the same code.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netutil/epoll_loop.h"
#include "netutil/listener.h"
#include "netutil/sys.h"

namespace netutil::adapter {

inline constexpr const char* kAdapterVersion = NETUTIL_VERSION;  // project(VERSION)
// 2: every reply echoes its request's "id" (docs/ADAPTER.md); 3: hello
// answers "capabilities", what the implementation offers.
inline constexpr int kProtocolVersion = 3;
// A serve names at most this many listeners (docs/ADAPTER.md, serve).
inline constexpr size_t kMaxServeListeners = 16;
// Longest request line accepted; a longer one gets a protocol error.
inline constexpr size_t kMaxLineBytes = 1 << 20;

// The protocol's family names are FamilyShortName's (netutil/sock_addr.h):
// "unspec", "inet", "inet6", "unix".

// What the adapter reads about its own process beside the implementation:
// socket options and fd flags of listeners and accepted connections, the
// number of open fds, the umask. Not through the implementation's Sys, so they
// neither show in a trace nor meet injected faults. The kernel's by default;
// netconform's fake mode reads its FakeKernel instead.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual std::optional<int> SockOpt(int fd, int level, int name) = 0;
  virtual std::optional<int> StatusFlags(int fd) = 0;  // fcntl(F_GETFL)
  virtual std::optional<int> FdFlags(int fd) = 0;      // fcntl(F_GETFD)
  virtual std::optional<long long> OpenFds() = 0;
  virtual mode_t ReadUmask() = 0;  // leaves it as it was
};

// The kernel's view (getsockopt, fcntl, /proc/self/fd, umask).
Observer& KernelObserver();

class AdapterSession {
 public:
  // `sys` is what the implementation calls; it and `observer` must outlive
  // the session.
  explicit AdapterSession(Sys& sys, Observer& observer = KernelObserver());
  ~AdapterSession();
  AdapterSession(const AdapterSession&) = delete;
  AdapterSession& operator=(const AdapterSession&) = delete;

  // One request line (without its newline) to one reply line (without one).
  // Never throws: bad input of any kind gets {"ok":false,"error":{"kind":"protocol",...}}.
  std::string Handle(std::string_view line);

  size_t listener_count() const { return listeners_.size(); }

  struct Request;  // protocol.cc

 private:
  std::string Dispatch(const Request& req);
  std::string Hello(const Request& req);
  std::string BindSockets(const Request& req);
  std::string BindUnixSocket(const Request& req);
  std::string Serve(const Request& req);
  std::vector<long long> ServeListenerIds(const Request& req) const;
  std::string OpenFds(const Request& req);
  std::string Umask(const Request& req);
  std::string CloseAll(const Request& req);

  Sys& sys_;
  Observer& observer_;
  std::map<long long, Listener> listeners_;  // by id; ids are never reused
  long long next_id_ = 0;
  std::unique_ptr<EpollLoop> loop_;  // made with the session (or by the first serve)
};

}  // namespace netutil::adapter

// What the kernel itself says about an implementation's process, read by the
// runner instead of trusted from the adapter (docs/CONFORMANCE.md, "What the
// runner observes"): its socket fds from /proc/PID/fd, each fd's flags from
// /proc/PID/fdinfo, and each socket's options and bound address from a copy
// of the socket taken with pidfd_getfd(2) (Linux 5.6; the runner is the
// adapter's parent, which the kernel's ptrace access check allows).
//
//   std::string why;
//   auto view = KernelView::Open(pid, &why);         // null: why it cannot
//   auto before = view->SocketFds(&why);
//   ... the request ...
//   auto facts = view->Socket(fd, &why);             // nonblock, cloexec, SO_* ...
//
// Adapters may still report props and fds_delta; the runner then compares
// (ObserveBindReply below) and notes a disagreement.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "netutil/sock_addr.h"

namespace netutil::conform {

// One socket of the observed process, as the kernel has it.
struct ObservedSocket {
  int fd = -1;            // its number in the observed process
  SockAddr local;         // getsockname
  int type = 0;           // SO_TYPE
  bool nonblock = false;  // O_NONBLOCK of its open file (fdinfo)
  bool cloexec = false;   // its close-on-exec flag (fdinfo)
  bool accepting = false;
  bool reuseaddr = false;
  bool reuseport = false;
  std::optional<bool> v6only;  // inet6 sockets only
};

class KernelView {
 public:
  // Null, with why, when the process cannot be observed.
  static std::unique_ptr<KernelView> Open(pid_t pid, std::string* why);
  ~KernelView();
  KernelView(const KernelView&) = delete;
  KernelView& operator=(const KernelView&) = delete;

  pid_t pid() const { return pid_; }
  // The process's fds that are sockets, ascending; nullopt with why.
  std::optional<std::vector<int>> SocketFds(std::string* why) const;
  // Those of them that a listener could be or could have been made from: a
  // connected unix socket (a runtime's self-pipe socketpair, a connection to
  // a system daemon) is none. What fds_delta counts.
  std::optional<std::vector<int>> ListenerCandidates(std::string* why) const;
  // Whether the runner may copy the process's fds (tried on `fd`); why not.
  bool CanCopy(int fd, std::string* why) const;
  // One of them; nullopt with why (closed meanwhile, not permitted, ...).
  std::optional<ObservedSocket> Socket(int fd, std::string* why) const;

 private:
  KernelView(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  // A copy of the process's `fd` in this process (close-on-exec), or -1 with
  // why: pidfd_getfd(2).
  int CopyFd(int fd, std::string* why) const;
  pid_t pid_;
  int pidfd_;
};

// The open fds of process `pid`, ascending, from /proc/PID/fd (at most
// 65536 listed); nullopt with why. Listing this very process leaves out the
// directory fd the listing itself holds.
std::optional<std::vector<int>> OpenFdsOf(pid_t pid, std::string* why);

// A listener's props as docs/ADAPTER.md names them: nonblock, cloexec, type,
// accepting, reuseaddr, reuseport, v6only (inet6 only).
nlohmann::json PropsJson(const ObservedSocket& socket);

// A bind op's reply with what the kernel shows put in: every listener's
// `props` become the observed ones (found by the address it is bound to),
// `fds_delta` the larger of the adapter's and the kernel's (a socket the
// adapter saw and the garbage collector closed before the kernel was asked
// still leaked; the kernel's cannot be hidden). Each disagreement with what
// the adapter said, and what could not be observed, becomes a note.
void ObserveBindReply(const KernelView& view, const std::vector<int>& sockets_before,
                      nlohmann::json* reply, std::vector<std::string>* notes);

}  // namespace netutil::conform

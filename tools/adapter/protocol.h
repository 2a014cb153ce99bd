// The adapter line protocol (docs/ADAPTER.md): one JSON request per line in,
// one JSON reply per line out, answered by the reference implementation.
//
// netutil-adapter runs an AdapterSession on stdin/stdout; netconform runs one
// in-process, over a fault-injecting Sys, so both modes answer from the same code.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "netutil/epoll_loop.h"
#include "netutil/listener.h"
#include "netutil/sys.h"

namespace netutil::adapter {

inline constexpr const char* kAdapterVersion = "0.1.0";
inline constexpr int kProtocolVersion = 1;
// Longest request line accepted; a longer one gets a protocol error.
inline constexpr size_t kMaxLineBytes = 1 << 20;

// The protocol's family names: "unspec", "inet", "inet6", "unix" (nullptr /
// nullopt for anything else).
const char* FamilyJsonName(int family);
std::optional<int> FamilyFromJsonName(std::string_view name);

class AdapterSession {
 public:
  // `sys` is what the implementation calls; it must outlive the session. The
  // adapter's own observations (open fds, socket options it reports, umask) use
  // the kernel directly, so they neither show in a trace nor meet injected faults.
  explicit AdapterSession(Sys& sys);
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
  std::string OpenFds(const Request& req);
  std::string Umask(const Request& req);
  std::string CloseAll(const Request& req);

  Sys& sys_;
  std::map<long long, Listener> listeners_;  // by id; ids are never reused
  long long next_id_ = 0;
  std::unique_ptr<EpollLoop> loop_;  // made with the session (or by the first serve)
};

}  // namespace netutil::adapter

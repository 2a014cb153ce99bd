// A trace entry as JSON fields: the edge where netconform's reports and case
// patterns meet the typed trace (trace_entry.h). Each argument under its
// name in sys_calls.def, spelled as the fault plan spells it (fault_plan.h):
//
//   {"call": "bind", "fd": 5, "family": "inet", "addr": "127.0.0.1", "port": 0,
//    "err": "EADDRINUSE", "injected": true}
//   {"call": "setsockopt", "fd": 3, "level": "SOL_SOCKET", "opt": "SO_REUSEADDR",
//    "value": 1, "result": 0, "injected": false}
//   {"call": "getsockname", "fd": 3,
//    "result": {"family": "inet", "addr": "0.0.0.0", "port": 40000}, ...}
//
// Names: a SockAddr argument spreads into family/addr/port (a unix one into
// family/addr/path); socket's domain is "family"; getsockopt and setsockopt
// give "opt" for their optname; getaddrinfo's hints spread into family,
// socktype, protocol and flags. Symbolic values are strings ("SOCK_STREAM|
// SOCK_CLOEXEC", "0600", "EPOLLIN", "AT_FDCWD"), counts and fds are numbers.
// Results: "result" on success (a number, a mode string, an address object,
// a list of them, a {type, mode} object, a string), "err" (and getaddrinfo's
// "sys_err") on failure; accept4 adds "peer", epoll_wait "ready".
#pragma once

#include <nlohmann/json.hpp>

#include "netutil/fakes/trace_entry.h"

namespace netutil::fakes {

nlohmann::json TraceFields(const TraceEntry& entry);

// A socket address as an object: {"family": "inet6", "addr": "::", "port": 0},
// {"family": "unix", "addr": "/tmp/s", "path": "/tmp/s"} ("@name" abstract).
nlohmann::json AddrFields(const SockAddr& addr);

}  // namespace netutil::fakes

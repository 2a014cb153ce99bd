// `netconform selftest --adapter CMD`: checks an adapter's protocol layer in
// seconds, before any case runs (docs/ADAPTER.md): the hello's shape and its
// capabilities, protocol errors for an unknown op or field and a field of the
// wrong type (the error object's five keys), open_fds, umask, a bind and
// serve round trip and a unix bind when offered, close_all giving the fds
// back, and a clean exit at end of input. Every request goes through the same
// session code as a run (ids echoed, replies bounded, deadlines).
#pragma once

#include <chrono>
#include <ostream>
#include <string>

namespace netutil::conform {

struct SelfTestOptions {
  std::string command;                       // the adapter, run under /bin/sh -c
  std::chrono::milliseconds timeout{10000};  // per request, and for the exit
};

// Prints one line per check ("ok    name" or "FAIL  name: why") and a closing
// count; the number of checks that failed (0: the protocol layer holds).
int SelfTest(const SelfTestOptions& options, std::ostream& out);

}  // namespace netutil::conform
